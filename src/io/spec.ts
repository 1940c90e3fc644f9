// net.json → Model and the backward plan under test. The structure is validated with a JSON
// Schema (ajv); the rules a schema cannot say (the layers' shapes and softmax only at the output,
// spec-layers.ts; formulas that parse and use the right variables, one derivative per layer) are
// checked after it. Every error is a UserError naming the file and the JSON path.
import type { ErrorObject } from 'ajv';
import { ACTIVATION_NAMES } from '../core/records/activations.js';
import { typeOf } from '../core/layers/kind.js';
import { buildLayers, type EntryJson } from './spec-layers.js';
import type { Layout } from './tensors.js';
import type { BackwardPlan } from '../core/backprop.js';
import { compileFormula, FormulaError, type Formula, type Variable } from '../core/formula/formula.js';
import { customLoss, LOSS_NAMES, meanSquaredErrorOverOutputs, namedLoss, type Loss } from '../core/records/losses.js';
import type { InitSpec, L2, Layer, Model, Reduction } from '../core/model.js';
import { clip, jsonPath, show, UserError } from './errors.js';
import { parseJsonText } from './json.js';
import { jsonLimit, readBounded, type ReadLimit } from './read.js';
import { SCHEMA } from './spec-schema.js';
import { activationHint, layerTypeHint, lossHint } from './spec-hints.js';
import { count, MAX_PARAMETERS, parameterCounts } from '../core/check/limits.js';
import { validateSpec as validateSchema } from './spec-validator.generated.js';

/** The backward formulas a spec declares, kept as formulas so the diagnosis can read them. */
export interface DeclaredBackward {
  outputGradient?: Formula;
  outputDelta?: Formula;
  /** One per layer; null = the correct derivative. */
  activationDerivatives: (Formula | null)[];
  reduction?: Reduction;
  l2?: boolean;
}

export interface LoadedSpec {
  model: Model;
  /** The number of input features the spec states, if it does (C·H·W for an image; else inferred from the data). */
  statedInputs?: number;
  /** The image shape [C, H, W] when "input" states one. */
  statedShape?: readonly number[];
  /**
   * Per entry: a dropout entry's own "seed", or null when it states none (its mask is then drawn
   * from dropoutSeed(the check's seed, l), spec-layers.ts); undefined for the other entries.
   */
  dropoutSeeds: (number | null | undefined)[];
  declared: DeclaredBackward | null;
  /** How the tensor files, the --exec program and --data store tensors ("layout", default columns). */
  layout: Layout;
  /** The raw JSON, for reports. */
  raw: unknown;
}


// The validator is generated from SCHEMA by scripts/make-spec-validator.mjs (ajv's standalone
// code), so no schema compiler loads at run time; test/spec-validator.test.ts keeps the two in step.

export function loadSpec(file: string): LoadedSpec {
  return parseSpec(readSpecJson(file), file);
}

/** net.json's parsed JSON, unvalidated: for showing a spec that has already been loaded. */
export function readSpecJson(file: string): unknown {
  const what = 'a network spec (net.json)';
  return parseJsonText(readText(file, what), file, what);
}

/** Reads a text file (at most `limit`'s bytes; JSON's limit by default) or says, as a UserError, why it cannot be read. */
export function readText(file: string, what: string, limit: ReadLimit = jsonLimit(file, what)): string {
  const buf = readBounded(file, what, limit);
  const bom = unicodeBom(buf);
  if (bom !== null) {
    throw new UserError(file, '', `${what} as UTF-8 text`, `${bom} text (it starts with a ${bom} byte-order mark)`, 'Save the file as UTF-8.');
  }
  if (buf.includes(0)) throw new UserError(file, '', `${what} as UTF-8 text`, 'binary data (a NUL byte)');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
  if (text.includes('\uFFFD')) {
    const at = text.indexOf('\uFFFD');
    const line = text.slice(0, at).split('\n').length;
    throw new UserError(file, `line ${line}`, `${what} as UTF-8 text`, 'bytes that are not valid UTF-8 (save the file as UTF-8)');
  }
  return text.replace(/^\uFEFF/, '');
}

/** The encoding a byte-order mark other than UTF-8's names, or null. UTF-32's marks are tried first: UTF-32LE's begins with UTF-16LE's. */
export function unicodeBom(buf: Uint8Array): string | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => buf[i] === b);
  if (starts(0xff, 0xfe, 0, 0) || starts(0, 0, 0xfe, 0xff)) return 'UTF-32';
  if (starts(0xff, 0xfe) || starts(0xfe, 0xff)) return 'UTF-16';
  return null;
}

export function parseSpec(raw: unknown, file: string): LoadedSpec {
  if (!validateSchema(raw)) throw schemaError(raw, validateSchema.errors ?? [], file);
  const spec = raw as SpecJson;
  const topBias = spec.bias ?? true;
  const { layers, seeds } = buildLayers(spec.layers, spec.input, topBias, file);
  const statedInputs = spec.input === undefined ? undefined : typeof spec.input === 'number' ? spec.input : spec.input.reduce((a, b) => a * b, 1);
  // The first layer's inputs are only known here when "input" states them; else 1 until the data says.
  refuseTooManyParameters(statedInputs === undefined ? layersWithInputs(layers, 1) : layers, file, 'layers', undefined, statedInputs !== undefined);
  const output = layers[layers.length - 1];
  const loss = lossOf(spec.loss, output.units, file);
  if (output.activation.sumsToOne && output.units < 2) {
    throw new UserError(file, jsonPath(['layers', layers.length - 1, 'units']), 'at least 2 units for a softmax output (softmax of one unit is always 1, so nothing can be learnt or checked)',
      '1', 'For one yes/no output use "activation": "sigmoid" with "loss": "binary_cross_entropy".');
  }
  const reduction: Reduction = spec.reduction ?? 'mean';
  const l2: L2 =
    spec.l2 === undefined || spec.l2 === 0 ? { kind: 'none' }
    : typeof spec.l2 === 'number' ? { kind: 'lambda', lambda: spec.l2 }
    : { kind: 'coefficient', coefficient: spec.l2.coefficient };
  const init: InitSpec = {
    scheme: spec.init?.scheme ?? 'xavier',
    scale: spec.init?.scale ?? (spec.init?.scheme === 'normal' || spec.init?.scheme === 'uniform' ? 0.01 : 1),
    seed: spec.init?.seed ?? 1,
  };
  const model: Model = { inputs: statedInputs ?? 0, layers, loss, reduction, l2, init };
  const declared = spec.backward ? declaredBackward(spec.backward, layers.length, file) : null;
  const dropoutSeeds = seeds.map((own, l) => (typeOf(layers[l]) === 'dropout' ? own ?? null : undefined));
  return { model, statedInputs, ...(Array.isArray(spec.input) ? { statedShape: spec.input } : {}), dropoutSeeds, declared, layout: spec.layout ?? 'columns', raw };
}

/**
 * A network whose weights alone would exhaust memory is refused before anything is allocated,
 * naming the layer that is widest in weights. `where` is "layers" for net.json, or the data's
 * columns once they set the first layer's inputs.
 */
export function refuseTooManyParameters(layers: Layer[], file: string, where: 'layers' | 'data', data?: string, inputsKnown = true): void {
  const { perLayer, total } = parameterCounts({ layers });
  if (total <= MAX_PARAMETERS) return;
  const widest = perLayer.indexOf(Math.max(...perLayer));
  const l = layers[widest];
  // Before the data is read, the first layer's inputs are unknown unless net.json states them.
  const shape = typeOf(l) !== 'dense' ? `${typeOf(l)}, ${count(perLayer[widest])} parameters`
    : where === 'layers' && widest === 0 && !inputsKnown ? `${count(l.units)} units` : `${count(l.units)} units × ${count(l.inputs)} inputs`;
  const found = `${Number.isFinite(total) ? count(total) : 'more than float64 can count'} (layer ${widest + 1}: ${shape}${layers.length > 1 ? `, of ${count(layers.length)} layers` : ''})`;
  const expected = `a network of at most ${count(MAX_PARAMETERS)} weights and biases (${MAX_PARAMETERS * 8 / 1e6} MB for each of the several copies a check holds)`;
  if (where === 'data' && widest === 0) {
    throw new UserError(data ?? file, 'the columns', `${expected}, with ${count(l.inputs)} feature columns as inputs`, found,
      'Check on fewer features (a few hundred columns find the same bugs) or a narrower first layer.');
  }
  throw new UserError(file, jsonPath(['layers', widest, ...(typeOf(l) === 'dense' ? ['units'] : typeOf(l) === 'conv2d' ? ['filters'] : [])]), expected, found, 'Check a narrower network: the same code on layers of a few dozen units finds the same bugs.');
}

/**
 * Sets the number of inputs once the data is known: the first layer's fan-in, and through the
 * leading entries that keep their input's shape (batchnorm, dropout, …), their sizes too, up to
 * the first that has a size of its own. Only a flat input is ever unknown (an image states its shape).
 */
export function withInputs(model: Model, inputs: number): Model {
  return { ...model, inputs, layers: layersWithInputs(model.layers, inputs) };
}

function layersWithInputs(layers: readonly Layer[], inputs: number): Layer[] {
  let carried = true;
  return layers.map((l): Layer => {
    if (!carried) return l;
    if (typeOf(l) === 'dense') {
      carried = false;
      return { ...l, inputs };
    }
    if (l.inShape !== undefined && l.inShape.length !== 1) {
      carried = false;
      return l;
    }
    return { ...l, units: inputs, inputs, inShape: [inputs], outShape: [inputs] };
  });
}

interface SpecJson {
  input?: number | number[];
  layers: EntryJson[];
  loss: string | { expr: string } | { name: 'mean_squared_error'; average: 'outputs' };
  reduction?: Reduction;
  layout?: Layout;
  l2?: number | { coefficient: number };
  bias?: boolean;
  init?: { scheme?: InitSpec['scheme']; scale?: number; seed?: number };
  backward?: {
    outputGradient?: string;
    outputDelta?: string;
    activationDerivatives?: (string | null)[];
    reduction?: Reduction;
    l2?: boolean;
  };
}

/** The loss record; K is the output units (an average over the outputs divides by it). */
function lossOf(l: SpecJson['loss'], K: number, file: string): Loss {
  if (typeof l === 'string') return namedLoss(l)!;
  if ('average' in l) return meanSquaredErrorOverOutputs(K);
  return withFormula(() => customLoss(l.expr), file, ['loss', 'expr']);
}

function withFormula<T>(make: () => T, file: string, path: (string | number)[]): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof FormulaError) throw new UserError(file, jsonPath(path), allowedText(path), err.detail);
    throw err;
  }
}

function allowedText(path: (string | number)[]): string {
  const last = path[path.length - 2] === 'activationDerivatives' ? 'activationDerivatives' : String(path[path.length - 1]);
  const vars: Record<string, string> = {
    expr: path[0] === 'loss' ? 'a and y' : 'z',
    outputGradient: 'a, y (and z)',
    outputDelta: 'a, y (and z)',
    activationDerivatives: 'z and/or a',
  };
  return `an element-wise formula in ${vars[last] ?? 'the allowed variables'} (mathjs syntax)`;
}

function declaredBackward(b: NonNullable<SpecJson['backward']>, layerCount: number, file: string): DeclaredBackward {
  if (b.outputGradient !== undefined && b.outputDelta !== undefined) {
    throw new UserError(file, 'backward', 'either outputGradient or outputDelta', 'both (outputDelta replaces outputGradient times the output derivative)');
  }
  const compile = (source: string, vars: Variable[], path: (string | number)[]) =>
    withFormula(() => compileFormula(source, vars), file, path);
  const derivatives = b.activationDerivatives ?? [];
  if (b.activationDerivatives && derivatives.length !== layerCount) {
    throw new UserError(file, 'backward.activationDerivatives', `one entry per layer (${layerCount}; null for a correct one)`, `${derivatives.length}`);
  }
  return {
    outputGradient: b.outputGradient !== undefined ? compile(b.outputGradient, ['a', 'y', 'z'], ['backward', 'outputGradient']) : undefined,
    outputDelta: b.outputDelta !== undefined ? compile(b.outputDelta, ['a', 'y', 'z'], ['backward', 'outputDelta']) : undefined,
    activationDerivatives: Array.from({ length: layerCount }, (_, i) => {
      const d = derivatives[i];
      return d === null || d === undefined ? null : compile(d, ['z', 'a'], ['backward', 'activationDerivatives', i]);
    }),
    reduction: b.reduction,
    l2: b.l2,
  };
}

/** The backward plan that a declared backward block describes (absent parts are correct). */
export function declaredPlan(model: Model, declared: DeclaredBackward): BackwardPlan {
  const output: BackwardPlan['output'] =
    declared.outputDelta ? { kind: 'delta', fn: declared.outputDelta.fn }
    : declared.outputGradient ? { kind: 'gradient', fn: declared.outputGradient.fn }
    : { kind: 'gradient', fn: (_z, a, y) => model.loss.gradient(a, y) };
  return {
    output,
    derivatives: declared.activationDerivatives.map((f) => (f ? f.fn : null)),
    reduction: declared.reduction ?? model.reduction,
    l2: declared.l2 ?? true,
  };
}

function schemaError(raw: unknown, errors: ErrorObject[], file: string): UserError {
  // ajv reports every branch of a oneOf; the most specific error is the deepest one among the
  // branches of the right kind (see relevant).
  const best = relevant(errors).sort((x, y) => depth(y) - depth(x) || rank(x) - rank(y))[0];
  const segments = best.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const value = valueAt(raw, segments);
  const p = best.params as Record<string, unknown>;
  switch (best.keyword) {
    case 'required':
      return new UserError(file, jsonPath(segments), `a property "${p.missingProperty as string}"`, 'none');
    case 'additionalProperties': {
      const allowed = allowedProperties(schemaAt(best.schemaPath.split('/').slice(1, -1)));
      return new UserError(file, jsonPath([...segments, p.additionalProperty as string]), `only the properties ${allowed}`, `an unknown property "${clip(p.additionalProperty as string)}"`);
    }
    case 'enum':
      return new UserError(file, jsonPath(segments), `one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, show(value), nameHint(segments, value));
    case 'type':
      return new UserError(file, jsonPath(segments), describeType(p.type as string | string[]), show(value));
    case 'minimum':
    case 'exclusiveMinimum':
      return new UserError(file, jsonPath(segments), `a number ${best.keyword === 'minimum' ? '≥' : '>'} ${p.limit as number}`, show(value), fieldHint(segments));
    case 'maximum':
      return new UserError(file, jsonPath(segments), `a number ≤ ${p.limit as number}`, show(value), fieldHint(segments));
    case 'minItems':
    case 'maxItems':
      if (Array.isArray(value) && value.length > 0) return new UserError(file, jsonPath(segments), describeSchema(best, segments), `a list of ${value.length}`);
      return new UserError(file, jsonPath(segments), `at least ${p.limit as number} item(s)`, 'an empty list');
    case 'minLength':
      return new UserError(file, jsonPath(segments), 'a non-empty string', '""');
    default:
      return new UserError(file, jsonPath(segments), describeSchema(best, segments), show(value));
  }
}

/** What a field out of range means, where the bare bound does not say it. */
function fieldHint(segments: string[]): string | undefined {
  const last = segments[segments.length - 1];
  if (segments[0] !== 'layers') return undefined;
  if (last === 'keep') return '"keep" is the probability of keeping a unit, in (0, 1]: PyTorch\'s and Keras\'s p or rate is the probability of dropping one, so keep = 1 − p.';
  if (last === 'stride' || segments[segments.length - 2] === 'stride') return 'A window moves by at least 1 at each step.';
  return undefined;
}

/** For a name that is not built in: an activation's or a loss's formula, or the name that was meant. */
function nameHint(segments: string[], value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const last = segments[segments.length - 1];
  if (segments[0] === 'layers' && last === 'activation') return activationHint(value);
  // { "name": "swish" }; a built-in name there ("relu" with an alpha) keeps the plain message.
  if (segments[0] === 'layers' && last === 'name' && segments[segments.length - 2] === 'activation' && !ACTIVATION_NAMES.includes(value)) return activationHint(value);
  if (segments.length === 1 && last === 'loss') return lossHint(value);
  if (segments[0] === 'layers' && segments.length === 3 && last === 'type') return layerTypeHint(value);
  return undefined;
}

/**
 * Drops the errors of oneOf branches of the wrong kind: a branch that wants another JSON type, or
 * an object branch whose required property (its discriminator: "name" or "expr") is absent. For
 * { "expr": "z", "x": 1 } that leaves the unknown "x" of the expr branch, not the missing "name" of
 * the other. When every branch is of the wrong kind, the oneOf error itself says what is allowed.
 */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const branchOf = (e: ErrorObject) => /^(.*\/oneOf)\/(\d+)(\/|$)/.exec(e.schemaPath);
  const wrongKind = new Set<string>();
  for (const e of errors) {
    const b = branchOf(e);
    if (!b) continue;
    const oneOf = errors.find((o) => o.keyword === 'oneOf' && o.schemaPath === b[1]);
    if (oneOf && e.instancePath === oneOf.instancePath && (e.keyword === 'type' || e.keyword === 'required')) wrongKind.add(`${b[1]}/${b[2]}`);
  }
  return errors.filter((e) => {
    // A layer type's branch whose `if` failed adds an error of its own: it says nothing about the entry.
    if (e.keyword === 'if') return false;
    const b = branchOf(e);
    if (e.keyword === 'oneOf') {
      // Kept only when none of its branches fits the kind of value.
      return errors.every((o) => { const ob = branchOf(o); return !ob || ob[1] !== e.schemaPath || wrongKind.has(`${ob[1]}/${ob[2]}`); });
    }
    return !b || !wrongKind.has(`${b[1]}/${b[2]}`);
  });
}

/** The part of SCHEMA at a JSON-pointer path like properties/layers/items. */
function schemaAt(segments: string[]): unknown {
  let s: unknown = SCHEMA;
  for (const seg of segments) s = s !== null && typeof s === 'object' ? (s as Record<string, unknown>)[seg] : undefined;
  return s;
}

function depth(e: ErrorObject): number {
  return e.instancePath.split('/').length + (e.keyword === 'oneOf' ? -0.5 : 0);
}

/** Among errors at one depth, prefer the ones that say most. */
function rank(e: ErrorObject): number {
  return ['additionalProperties', 'required', 'enum', 'minimum', 'exclusiveMinimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'type', 'oneOf'].indexOf(e.keyword);
}

function valueAt(raw: unknown, segments: string[]): unknown {
  let v: unknown = raw;
  for (const s of segments) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

function allowedProperties(schema: unknown): string {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  // "type" picks the branch, so it is allowed wherever the branch's other properties are.
  return Object.keys(props).filter((k) => k !== '$schema' && k !== 'type').join(', ');
}

function describeType(t: string | string[]): string {
  const names: Record<string, string> = { integer: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false', object: 'an object', array: 'a list', null: 'null' };
  return (Array.isArray(t) ? t : [t]).map((x) => names[x] ?? x).join(' or ');
}

function describeSchema(e: ErrorObject, segments: string[]): string {
  const last = segments[segments.length - 1] ?? '';
  if (e.instancePath === '/input') return 'a number of features, or an image\'s [C, H, W]';
  if (segments[0] === 'layers' && ['kernel', 'size', 'stride', 'padding'].includes(last)) return `a whole number n, or [h, w]`;
  if (e.keyword === 'oneOf' && e.instancePath.endsWith('/activation')) {
    return `an activation: one of ${ACTIVATION_NAMES.join(', ')}, { "name": "leaky_relu", "alpha": 0.1 } or { "expr": "…" }`;
  }
  if (e.keyword === 'oneOf' && e.instancePath === '/loss') return `a loss: one of ${LOSS_NAMES.join(', ')}, { "name": "mean_squared_error", "average": "outputs" } or { "expr": "…" }`;
  if (e.keyword === 'oneOf' && e.instancePath === '/l2') return 'λ ≥ 0 or { "coefficient": c }';
  return e.message ?? 'a valid value';
}
