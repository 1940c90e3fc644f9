// An in-process program: the library's `check({ model: { params, cost, grads } })`. The user's
// JavaScript functions own the model; this wraps them as the CostProgram the check talks to, the
// same one the session protocol offers for a program in another process.
//
// The functions are called with the parameters in the form they were given (a number, nested
// arrays, or { shape, data }), one element or one direction stepped, never the caller's own
// objects: a function that mutates what it is given cannot change the checked point. They may be
// synchronous or return promises. Everything they give back is validated at this boundary: a
// mistake is a UserError naming the tensor and what was expected.
import { UserError, show } from '../../io/errors.js';
import { parseTensor } from '../../io/tensor-values.js';
import type { Tensor } from '../tensor.js';
import type { CostProgram, CostRequest, ProgramTensor } from './program.js';

/** A tensor as a JavaScript model may hold it. */
export type TensorLike = number | NestedNumbers | { shape: readonly number[]; data: ArrayLike<number> };
export interface NestedNumbers extends ReadonlyArray<number | NestedNumbers> {}

/** The parameters as the model's functions receive them: name → the form they were given in. */
export type ModelParams = Record<string, TensorLike>;

export interface ModelFunctions {
  /** The parameters, by name, in the model's order (insertion order). */
  params: ModelParams;
  /** The cost at these parameters. */
  cost(params: ModelParams): number | Promise<number>;
  /** The gradient of the cost for every parameter, by name (an object or a Map). */
  grads(params: ModelParams): Record<string, TensorLike> | Map<string, TensorLike> | Promise<Record<string, TensorLike> | Map<string, TensorLike>>;
  /** Names grouped into layers for the report; absent: one group per tensor. */
  layers?: readonly (readonly string[])[];
  /** The precision the functions compute in; absent: recognised from the values. */
  dtype?: 'float32' | 'float64';
}

const WHO = 'the model function';

type Form = 'number' | 'nested' | 'object';

/** The CostProgram of JavaScript functions, validated. */
export function functionProgram(model: ModelFunctions): CostProgram {
  if (typeof model !== 'object' || model === null) throw new UserError(WHO, 'model', 'an object { params, cost, grads }', show(model));
  for (const key of ['cost', 'grads'] as const) {
    if (typeof model[key] !== 'function') throw new UserError(WHO, `model.${key}`, 'a function', show(model[key]));
  }
  if (typeof model.params !== 'object' || model.params === null || Array.isArray(model.params)) {
    throw new UserError(WHO, 'model.params', 'an object of named tensors', show(model.params));
  }
  const names = Object.keys(model.params);
  if (names.length === 0) throw new UserError(WHO, 'model.params', 'at least one tensor', 'none');
  const forms = new Map<string, Form>();
  const params: ProgramTensor[] = names.map((name) => {
    const raw = model.params[name];
    forms.set(name, formOf(raw));
    return { name, value: tensorOf(raw, `params.${name}`) };
  });
  if (model.dtype !== undefined && model.dtype !== 'float32' && model.dtype !== 'float64') {
    throw new UserError(WHO, 'model.dtype', '"float32" or "float64"', show(model.dtype));
  }
  const layers = model.layers === undefined ? undefined : validLayers(model.layers, names);

  /** The parameters in the user's forms, `replace` (one stepped tensor) instead of its original. */
  const argument = (replace?: { name: string; data: Float64Array }): ModelParams => {
    const out: ModelParams = {};
    for (const p of params) out[p.name] = toForm(forms.get(p.name)!, p.value.shape, replace?.name === p.name ? replace.data : p.value.data);
    return out;
  };
  const costAt = async (replace: { name: string; data: Float64Array } | undefined, what: string): Promise<number> => {
    const J = await model.cost(argument(replace));
    if (typeof J !== 'number') throw new UserError(WHO, `cost(), ${what}`, 'a number', show(J));
    return J;
  };
  const byName = new Map(params.map((p) => [p.name, p]));

  return {
    params,
    ...(layers ? { layers } : {}),
    ...(model.dtype ? { dtype: model.dtype } : {}),
    describe: WHO,
    async grads() {
      const answer = await model.grads(argument());
      if (typeof answer !== 'object' || answer === null) throw new UserError(WHO, 'grads()', 'an object of named tensors', show(answer));
      const entries = answer instanceof Map ? [...answer.entries()] : Object.entries(answer);
      const got = new Map<string, Tensor>();
      for (const [name, raw] of entries) {
        const p = byName.get(name);
        if (!p) throw new UserError(WHO, `grads().${name}`, `only the parameters' names (${names.join(', ')})`, `an extra tensor "${name}"`);
        const t = tensorOf(raw, `grads().${name}`);
        if (t.shape.length !== p.value.shape.length || t.shape.some((d, i) => d !== p.value.shape[i])) {
          throw new UserError(WHO, `grads().${name}`, `shape [${p.value.shape.join(', ')}], that of the parameter`, `shape [${t.shape.join(', ')}]`);
        }
        got.set(name, t);
      }
      const missing = names.filter((n) => !got.has(n));
      if (missing.length > 0) throw new UserError(WHO, 'grads()', `a gradient for every parameter`, `none for ${missing.join(', ')}`);
      return new Map(names.map((n) => [n, got.get(n)!]));
    },
    cost: () => costAt(undefined, 'at the parameters'),
    async costs(requests: readonly CostRequest[]) {
      const out = new Float64Array(requests.length);
      for (let k = 0; k < requests.length; k++) {
        const r = requests[k];
        const p = byName.get(r.param)!;
        const data = Float64Array.from(p.value.data);
        if ('index' in r) {
          let flat = 0;
          for (let a = 0; a < r.index.length; a++) flat = flat * p.value.shape[a] + r.index[a];
          // θᵢ + δ, as the program would set it; the original is untouched (a fresh copy each time).
          data[flat] += r.delta;
        } else {
          const v = r.direction.data;
          for (let i = 0; i < data.length; i++) data[i] += r.scale * v[i];
        }
        out[k] = await costAt({ name: r.param, data }, `step ${k + 1} of a batch (${r.param})`);
      }
      return out;
    },
    async close() {},
  };
}

function formOf(raw: unknown): Form {
  if (typeof raw === 'number') return 'number';
  return Array.isArray(raw) ? 'nested' : 'object';
}

/** A tensor from a number, nested arrays (rectangular) or { shape, data }; finite numbers only. */
export function tensorOf(raw: unknown, place: string): Tensor {
  return parseTensor(raw, place, (at, expected, found) => new UserError(WHO, at, expected, found), false);
}

/** A tensor in the form its parameter was given in. */
function toForm(form: Form, shape: readonly number[], data: Float64Array): TensorLike {
  if (form === 'number') return data[0];
  if (form === 'object') return { shape: shape.slice(), data: Float64Array.from(data) };
  let at = 0;
  const build = (depth: number): NestedNumbers | number => {
    if (depth === shape.length) return data[at++];
    return Array.from({ length: shape[depth] }, () => build(depth + 1));
  };
  return build(0);
}

function validLayers(layers: unknown, names: string[]): string[][] {
  if (!Array.isArray(layers) || !layers.every((g) => Array.isArray(g) && g.every((n) => typeof n === 'string'))) {
    throw new UserError(WHO, 'model.layers', 'a list of lists of parameter names', show(layers));
  }
  const seen = new Set<string>();
  for (const n of layers.flat() as string[]) {
    if (!names.includes(n)) throw new UserError(WHO, 'model.layers', `only the parameters' names (${names.join(', ')})`, `"${n}"`);
    if (seen.has(n)) throw new UserError(WHO, 'model.layers', 'each name in one group', `"${n}" twice`);
    seen.add(n);
  }
  return layers.map((g: string[]) => g.slice());
}
