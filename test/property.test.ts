// Property-based tests (fast-check), seeded and bounded so that every run is the same run:
//   1. the loaders never throw anything but the typed UserError, whatever the bytes or the JSON;
//   2. random correct networks (sizes, activations, losses, L2, reduction) always pass the check;
//   3. every catalogued mutation that really changes the gradients always fails the check, on
//      exactly the tensors it changes (no false pass, and no false alarm on the others).
// The Taylor-remainder test's verdict is held to the same: never "wrong" on a correct network,
// always "wrong" on a tensor a mutation changed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { compare } from '../src/core/check/compare.js';
import { compileFormula } from '../src/core/formula/formula.js';
import { forward } from '../src/core/forward.js';
import { namedTensors, type Grads, type Model, type Params } from '../src/core/model.js';
import type { Tensor } from '../src/core/tensor.js';
import { Random } from '../src/core/random.js';
import { ENTRIES, NATURAL_DERIVATIVES, userBackprop, type Injection } from '../tools/matrix.js';
import { loadData } from '../src/io/data.js';
import { UserError } from '../src/io/errors.js';
import { loadSpec } from '../src/io/spec.js';
import { loadTensors } from '../src/io/tensors.js';
import { drawn, modelOf, network } from './helpers/network.js';

const SEED = 20240611;
const dir = mkdtempSync(join(tmpdir(), 'bpc-property-'));

/** Runs `load`; anything thrown must be a UserError with a one-line message. */
function onlyUserErrors(load: () => unknown): void {
  try {
    load();
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? String(e)}`);
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(/expected .*; found /s);
  }
}

const model = (spec: unknown, inputs: number) => modelOf(spec, inputs);
const BCE = model({ input: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 2);
const CCE = model({ input: 2, layers: [{ units: 3, activation: 'relu' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy' }, 2);
const MSE = model({ layers: [{ units: 2, activation: 'linear' }], loss: 'mean_squared_error' }, 2);

/** A JSON value of any kind, for replacing a valid one. */
const anything = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(0, -1, 1.5, 1e300, '', 'z', 'a - y', 'softmax', null, [], {}));
/** Up to two edits of a JSON document: replace the value at a path, delete it, or add an unknown key. */
const edits = fc.array(fc.record({ pick: fc.nat(), op: fc.constantFrom('replace', 'delete', 'add'), value: anything }), { maxLength: 2 });

/** Every path into a JSON value, parents before children. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function corrupt<T>(doc: T, e: { pick: number; op: string; value: unknown }[]): T {
  let out = JSON.parse(JSON.stringify(doc)) as unknown;
  for (const { pick, op, value } of e) {
    const all = paths(out);
    const path = all[pick % all.length];
    if (path.length === 0) { if (op === 'replace') out = value; continue; }
    const parent = path.slice(0, -1).reduce<any>((x, k) => x[k], out); // eslint-disable-line @typescript-eslint/no-explicit-any
    const key = path[path.length - 1];
    if (op === 'replace') parent[key] = value;
    else if (op === 'delete') { if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key]; }
    else if (Array.isArray(parent)) parent.push(value);
    else parent[`extra${pick % 3}`] = value;
  }
  return out as T;
}

/** A valid backward block for a net's layers (some formulas wrong in value, all valid in form), or none. */
const backwardBlock = fc.option(fc.record({
  output: fc.constantFrom<Record<string, string>>({}, { outputGradient: 'a - y' }, { outputDelta: 'a - y' }, { outputGradient: '-(y / a - (1 - y) / (1 - a))' }),
  derivative: fc.constantFrom('1 - a^2', 'a * (1 - a)', '1 - z^2', 'sigmoid(z)', '(1 + sign(z)) / 2', null),
  reduction: fc.constantFrom('mean', 'sum', undefined),
  l2: fc.constantFrom(true, false, undefined),
}).map((r) => (layers: unknown[]) => ({ ...r.output, activationDerivatives: layers.map(() => r.derivative), ...(r.reduction ? { reduction: r.reduction } : {}), ...(r.l2 !== undefined ? { l2: r.l2 } : {}) })), { nil: null });

// ---- 1. the loaders ---------------------------------------------------------------------------

describe('the loaders throw only UserError', () => {
  const bytes = fc.uint8Array({ maxLength: 400 });
  const write = (name: string, content: Uint8Array | string) => { const f = join(dir, name); writeFileSync(f, content); return f; };

  it('net.json: arbitrary bytes', () => {
    fc.assert(fc.property(bytes, (b) => onlyUserErrors(() => loadSpec(write('net.json', b)))), { seed: SEED, numRuns: 300 });
  });

  it('net.json: arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => onlyUserErrors(() => loadSpec(write('net.json', JSON.stringify(v))))), { seed: SEED, numRuns: 300 });
  });

  it('net.json: valid specs with up to two fields replaced, deleted or added', () => {
    fc.assert(fc.property(netCase, backwardBlock, edits, (n, b, e) => {
      const spec = corrupt({ ...n.spec, ...(b ? { backward: b(n.spec.layers as unknown[]) } : {}) }, e);
      onlyUserErrors(() => loadSpec(write('net.json', JSON.stringify(spec))));
    }), { seed: SEED, numRuns: 400 });
  });

  it('data.csv: arbitrary bytes', () => {
    fc.assert(fc.property(bytes, fc.constantFrom(BCE, CCE, MSE), (b, m) => onlyUserErrors(() => loadData(write('data.csv', b), m, undefined))), { seed: SEED, numRuns: 300 });
  });

  it('data.csv with --ignore-columns: arbitrary lists of names and numbers, and text columns; what loads is finite and leaves the dropped columns out', () => {
    const entry = fc.oneof(fc.constantFrom('id', 'x1', 'label', 'name', '0', '1', '2', '3', '4', '9', '', ' ', '1e1', '-1'), fc.string({ maxLength: 4 }));
    const spec = fc.record({
      ignore: fc.array(entry, { minLength: 1, maxLength: 4 }).map((e) => e.join(',')),
      header: fc.boolean(),
      target: fc.option(fc.constantFrom('label', '4', 'id', '1,4'), { nil: undefined }),
      rows: fc.array(fc.tuple(fc.constantFrom('a17', '17', 'b', '', '0.5'), fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), fc.constantFrom('0', '1')), { minLength: 1, maxLength: 5 }),
    });
    fc.assert(fc.property(spec, (c) => {
      const text = (c.header ? 'id,x1,x2,label\n' : '') + c.rows.map((r) => r.join(',')).join('\n') + '\n';
      onlyUserErrors(() => {
        const d = loadData(write('data.csv', text), BCE, undefined, c.target, c.ignore);
        for (const v of [...d.X.data, ...d.Y.data]) expect(Number.isFinite(v)).toBe(true);
        expect(d.X.shape[0] + d.Y.shape[0]).toBeLessThanOrEqual(4);
      });
    }), { seed: SEED, numRuns: 400 });
  });

  it('data.csv: valid tables with a few bad cells, ragged rows, headers, CRLF and BOMs; what loads is finite and fits', () => {
    const bad = fc.constantFrom('', 'NaN', 'inf', '-Infinity', '1e400', 'x', '"1"', '"a,b"', ' 1 ', '0x1', '#c', '1.5', '2', '-1', '3', '"', '1,2');
    const csv = fc.record({
      m: fc.constantFrom(BCE, CCE, MSE),
      rows: fc.integer({ min: 1, max: 5 }),
      classIndex: fc.boolean(),
      seed: fc.nat(),
      header: fc.boolean(),
      stated: fc.boolean(),
      cells: fc.oneof(fc.constant([]), fc.array(fc.record({ at: fc.nat(), value: bad }), { minLength: 1, maxLength: 2 })),
      ragged: fc.option(fc.nat(), { nil: undefined, freq: 1 }),
      eol: fc.constantFrom('\n', '\r\n'),
      bom: fc.boolean(),
      target: fc.option(fc.constantFrom('x1', '3', 'y', '1,2', 'x2,y1', ''), { nil: undefined, freq: 1 }),
    });
    fc.assert(fc.property(csv, (c) => {
      const rng = new Random(c.seed);
      const K = c.m.layers[c.m.layers.length - 1].units;
      const targets = c.m.loss.name === 'categorical_cross_entropy' && c.classIndex ? 1 : K;
      const width = c.m.inputs + targets;
      const table = Array.from({ length: c.rows }, () => Array.from({ length: width }, (_, j) => {
        if (j < c.m.inputs) return rng.normal().toFixed(3);
        if (c.m.loss.name === 'mean_squared_error') return rng.normal().toFixed(2);
        if (c.m.loss.name === 'binary_cross_entropy') return String(rng.int(2));
        return targets === 1 ? String(rng.int(K)) : '0';
      }));
      if (c.m.loss.name === 'categorical_cross_entropy' && targets === K) for (const row of table) row[c.m.inputs + rng.int(K)] = '1';
      for (const { at, value } of c.cells) table[at % c.rows][at % width] = value;
      if (c.ragged !== undefined) table[c.ragged % c.rows].splice(c.ragged % width, 1);
      const names = Array.from({ length: width }, (_, j) => (j < c.m.inputs ? `x${j + 1}` : `y${j - c.m.inputs + 1}`));
      const lines = [...(c.header ? [names.join(',')] : []), ...table.map((r) => r.join(','))];
      const file = write('data.csv', (c.bom ? '\uFEFF' : '') + lines.join(c.eol) + c.eol);
      onlyUserErrors(() => {
        const d = loadData(file, c.m, c.stated ? c.m.inputs : undefined, c.target);
        expect(d.Y.shape[0]).toBe(K);
        expect(d.X.shape[1]).toBe(d.Y.shape[1]);
        for (const v of [...d.X.data, ...d.Y.data]) expect(Number.isFinite(v)).toBe(true);
        if (c.m.loss.name !== 'mean_squared_error') for (const v of d.Y.data) expect(v >= 0 && v <= 1).toBe(true);
      });
    }), { seed: SEED, numRuns: 400 });
  });

  it('params/grads JSON: arbitrary bytes and arbitrary JSON', () => {
    fc.assert(fc.property(bytes, fc.constantFrom('params', 'grads') as fc.Arbitrary<'params' | 'grads'>, (b, role) =>
      onlyUserErrors(() => loadTensors(write('p.json', b), BCE, role))), { seed: SEED, numRuns: 200 });
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) =>
      onlyUserErrors(() => loadTensors(write('p.json', JSON.stringify(v)), BCE, 'params'))), { seed: SEED, numRuns: 200 });
  });

  it('params JSON: valid tensors with up to two elements, rows or tensors replaced, deleted or added; what loads fits', () => {
    const valid = fc.record({ seed: fc.nat(), flatBias: fc.boolean() }).map(({ seed, flatBias }) => {
      const rng = new Random(seed);
      const out: Record<string, unknown> = {};
      BCE.layers.forEach((l, i) => {
        out[`W${i + 1}`] = Array.from({ length: l.units }, () => Array.from({ length: l.inputs }, () => rng.normal()));
        out[`b${i + 1}`] = Array.from({ length: l.units }, () => (flatBias ? rng.normal() : [rng.normal()]));
      });
      return out;
    });
    fc.assert(fc.property(valid, edits, (v, e) => onlyUserErrors(() => {
      const p = loadTensors(write('p.json', JSON.stringify(corrupt(v, e))), BCE, 'params');
      p.forEach(({ W }, l) => { expect([W.shape[0], W.shape[1]]).toEqual([BCE.layers[l].units, BCE.layers[l].inputs]); });
      for (const { W } of p) for (const w of W.data) expect(Number.isFinite(w)).toBe(true);
    })), { seed: SEED, numRuns: 400 });
  });

  it('params .npz: arbitrary bytes, and zip archives of arbitrary .npy bytes', () => {
    fc.assert(fc.property(bytes, (b) => onlyUserErrors(() => loadTensors(write('p.npz', b), BCE, 'params'))), { seed: SEED, numRuns: 200 });
    const npyHeader = (descr: string, shape: string, order: string) => {
      const text = `{'descr': '${descr}', 'fortran_order': ${order}, 'shape': ${shape}, }`;
      const pad = 64 - ((10 + text.length + 1) % 64);
      const header = text + ' '.repeat(pad % 64) + '\n';
      return new Uint8Array([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8, ...new TextEncoder().encode(header)]);
    };
    const member = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.record({
        descr: fc.constantFrom('<f8', '<f4', '>f8', '<i8', '|O', '<c16', '|b1', '<f2', 'x'),
        shape: fc.constantFrom('(4, 2)', '(2, 4)', '(4,)', '()', '(1, 1)', '(1,)', '(4, 2, 1)', '(-1,)', '(a)'),
        order: fc.constantFrom('False', 'True', 'None'),
        data: fc.uint8Array({ maxLength: 80 }),
      }).map((r) => new Uint8Array([...npyHeader(r.descr, r.shape, r.order), ...r.data])),
    );
    const archive = fc.dictionary(fc.constantFrom('W1.npy', 'b1.npy', 'W2.npy', 'b2.npy', 'W1', 'arr_0.npy', 'x/W1.npy'), member, { maxKeys: 5 });
    fc.assert(fc.property(archive, (files) => onlyUserErrors(() => loadTensors(write('p.npz', zipSync(files)), BCE, 'params'))), { seed: SEED, numRuns: 300 });
  });
});

// ---- 2 and 3. random networks -----------------------------------------------------------------

const ACTIVATIONS = ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'linear', 'softplus', 'elu', 'swish'] as const;
const activationSpec = (a: (typeof ACTIVATIONS)[number]) => (a === 'swish' ? { expr: 'z / (1 + exp(-z))' } : a);

interface NetCase {
  spec: Record<string, unknown>;
  inputs: number;
  samples: number;
  dataSeed: number;
}

/** A random small network with a loss that suits its output layer, and its data. */
const netCase: fc.Arbitrary<NetCase> = fc.record({
  inputs: fc.integer({ min: 1, max: 4 }),
  hidden: fc.array(fc.record({ units: fc.integer({ min: 1, max: 5 }), activation: fc.constantFrom(...ACTIVATIONS), bias: fc.boolean() }), { maxLength: 2 }),
  head: fc.constantFrom('bce', 'mse', 'cce', 'custom'),
  outputs: fc.integer({ min: 1, max: 3 }),
  outputActivation: fc.constantFrom(...ACTIVATIONS),
  reduction: fc.constantFrom('mean', 'sum'),
  l2: fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.001, max: 0.5, noNaN: true }).map((c) => ({ coefficient: c }))),
  scheme: fc.constantFrom('xavier', 'he', 'normal', 'uniform'),
  scale: fc.double({ min: 0.05, max: 1.5, noNaN: true }),
  initSeed: fc.integer({ min: 0, max: 1000 }),
  samples: fc.integer({ min: 1, max: 8 }),
  dataSeed: fc.integer({ min: 0, max: 1000 }),
}).map((r) => {
  const K = r.head === 'cce' ? Math.max(2, r.outputs) : r.head === 'bce' ? r.outputs : r.outputs;
  const output = r.head === 'cce' ? { units: K, activation: 'softmax' }
    : r.head === 'bce' ? { units: K, activation: 'sigmoid' }
    : { units: K, activation: activationSpec(r.outputActivation) };
  const loss = r.head === 'cce' ? 'categorical_cross_entropy' : r.head === 'bce' ? 'binary_cross_entropy' : r.head === 'mse' ? 'mean_squared_error' : { expr: '0.5 * (a - y)^2 + 0.1 * a^4' };
  return {
    spec: {
      input: r.inputs,
      layers: [...r.hidden.map((h) => ({ units: h.units, activation: activationSpec(h.activation), bias: h.bias })), output],
      loss, reduction: r.reduction, l2: r.l2,
      init: { scheme: r.scheme, scale: r.scale, seed: r.initSeed },
    },
    inputs: r.inputs, samples: r.samples, dataSeed: r.dataSeed,
  };
});

/** Seeded data that suits the loss (standardData): normal features, labels in {0, 1}, one-hot classes, real targets. */
const build = (n: NetCase) => network(n.spec, { inputs: n.inputs, data: drawn(n.samples, n.dataSeed) });

const correctGrads = (m: Model, params: Params, X: Tensor, Y: Tensor): Grads => backward(m, params, forward(m, params, X, Y), Y, correctPlan(m));

describe('random correct networks always pass', () => {
  it('correct backprop, and a NumPy-style backprop of the same maths handed in as --grads', () => {
    let worst = 0;
    fc.assert(fc.property(netCase, (n) => {
      const { model: m, params, X, Y } = build(n);
      for (const gradients of [
        { source: 'correct' as const, plan: correctPlan(m) },
        { source: 'grads' as const, grads: userBackprop(m, params, X, Y, null) },
      ]) {
        const report = check({ model: m, params, X, Y, gradients }, { ...DEFAULT_OPTIONS, seed: n.dataSeed, taylor: true });
        const failed = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.param} ${c.relativeError}`);
        expect(failed, JSON.stringify(n.spec)).toEqual([]);
        // Not a pass only when nothing could be compared at all (every gradient exactly 0: a dead ReLU output …).
        if (!report.ok) expect(report.findings.map((f) => `${f.code}/${f.severity}`), JSON.stringify(n.spec)).toContain('zero-gradients/error');
        for (const c of report.checks) worst = Math.max(worst, c.relativeError);
        // The ε-free verdict agrees: order 2, or too little curvature to tell, never order 1.
        for (const c of report.checks) expect(c.taylorStatus, `${c.param} Taylor order ${c.taylorOrder}`).not.toBe('fail');
      }
    }), { seed: SEED, numRuns: 150 });
    // The pass is not marginal: the largest relative error seen stays two decades below 1e-6.
    expect(worst).toBeLessThan(1e-8);
  });
});

/** A mistake to inject at a 1-based layer, when it can be made on this network at all. */
interface Mistake {
  id: string;
  applies(m: Model, at: number, samples: number): boolean;
  injection(m: Model, at: number, samples: number): Injection;
}

const entry = (id: string) => ENTRIES.find((e) => e.id === id)!;
/** The catalogue's own injection for entries that need only the model, the site and m. */
const fromCatalogue = (id: string, applies: Mistake['applies']): Mistake => ({
  id, applies,
  injection: (m, at, samples) => entry(id).grads({ model: m, at, arch: { samples } } as never),
});
const layerOf = (m: Model, at: number) => m.layers[at - 1];
const square = (m: Model, at: number) => layerOf(m, at).units === layerOf(m, at).inputs;
const baseName = (m: Model, at: number) => layerOf(m, at).activation.name.replace(/\(.*$/, '');

const MISTAKES: Mistake[] = [
  // Our own simple ones: another activation's derivative, the output gradient's sign, 1/m dropped, a tensor scaled.
  {
    id: 'derivative-swap',
    applies: (m, at) => layerOf(m, at).activation.diagonal,
    injection: (m, at) => {
      const names = Object.keys(NATURAL_DERIVATIVES).filter((h) => h !== baseName(m, at));
      const text = NATURAL_DERIVATIVES[names[(at * 7 + m.layers.length) % names.length]];
      return { at, derivative: compileFormula(text, ['z', 'a', 'y']).fn };
    },
  },
  { id: 'output-sign', applies: (m, at) => at === m.layers.length, injection: (m, at) => ({ at, outputGradient: (_z, a, y) => -m.loss.gradient(a, y) }) },
  { id: 'scaled-tensor', applies: () => true, injection: (_m, at) => ({ at, factor: 1.5 }) },
  // The diagnosis catalogue's entries (tools/matrix.ts ENTRIES) that need nothing architecture-specific.
  fromCatalogue('missing-1/m', (m, _at, s) => m.reduction === 'mean' && s > 1),
  fromCatalogue('extra-1/m', (_m, _at, s) => s > 1),
  fromCatalogue('constant-factor', () => true),
  fromCatalogue('l2-missing', (m) => m.l2.kind !== 'none'),
  fromCatalogue('l2-sign', (m) => m.l2.kind !== 'none'),
  fromCatalogue('l2-factor', (m, _at, s) => m.l2.kind !== 'none' && (m.reduction === 'sum' || s > 1)),
  fromCatalogue('l2-form', (m) => m.l2.kind !== 'none'),
  fromCatalogue('input-own', (m, at) => square(m, at)),
  fromCatalogue('input-preact', (_m, at) => at >= 2),
  fromCatalogue('transposed', (m, at) => square(m, at)),
  fromCatalogue('W-not-WT', (m, at) => at >= 2 && square(m, at)),
  fromCatalogue('skip-WT', (m, at) => at >= 2 && (layerOf(m, at).units === 1 || layerOf(m, at).units === layerOf(m, at - 1).units)),
  fromCatalogue('db-summed', (m, at, s) => layerOf(m, at).bias && s > 1),
  fromCatalogue('db-all', (m, at) => layerOf(m, at).bias && layerOf(m, at).units > 1),
];

/**
 * A random network with one catalogued mistake injected at a layer it applies to, and how far each
 * tensor's gradient moved. Cases where it applies nowhere, or changes nothing (a dead ReLU layer,
 * m = 1 …), are discarded: there is nothing to catch.
 */
function mutated(n: NetCase, mistake: Mistake, pick: number) {
  const { model: m, params, X, Y } = build(n);
  const sites = m.layers.map((_l, i) => i + 1).filter((at) => mistake.applies(m, at, n.samples));
  fc.pre(sites.length > 0);
  const at = sites[pick % sites.length];
  const grads = userBackprop(m, params, X, Y, mistake.injection(m, at, n.samples));
  const right = namedTensors(m, correctGrads(m, params, X, Y));
  const changed = namedTensors(m, grads).map((t, i) => ({ name: t.label, error: compare(t.value.data, right[i].value.data).relativeError }));
  fc.pre(changed.some((c) => c.error >= 1e-4));
  return { m, params, X, Y, grads, at, changed };
}

describe('every catalogued mutation always fails', () => {
  it('the catalogue entries used here exist', () => {
    for (const mk of MISTAKES) if (!['derivative-swap', 'output-sign', 'scaled-tensor'].includes(mk.id)) expect(entry(mk.id), mk.id).toBeDefined();
  });

  it('a mutated tensor that differs from correct backprop by ≥ 100× the tolerance fails; untouched ones pass', () => {
    const seen = new Set<string>();
    fc.assert(fc.property(netCase, fc.constantFrom(...MISTAKES), fc.nat(), (n, mistake, pick) => {
      const { m, params, X, Y, grads, at, changed } = mutated(n, mistake, pick);
      seen.add(mistake.id);
      const report = check({ model: m, params, X, Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, seed: n.dataSeed, taylor: true });
      expect(report.ok, `${mistake.id} at layer ${at} of ${JSON.stringify(n.spec)}`).toBe(false);
      for (const c of changed) {
        const status = report.checks.find((x) => x.param === c.name)!.status;
        if (c.error >= 1e-4) expect(status, `${c.name} (${mistake.id}, changed by ${c.error})`).toBe('fail');
        if (c.error >= 1e-4) expect(report.checks.find((x) => x.param === c.name)!.taylorStatus, `${c.name} Taylor (${mistake.id})`).toBe('fail');
        if (c.error === 0) expect(status, `${c.name} untouched by ${mistake.id}`).not.toBe('fail');
      }
    }), { seed: SEED, numRuns: 400 });
    expect([...seen].sort()).toEqual(MISTAKES.map((x) => x.id).sort());
  });
  it('directional mode (3 seeded directions per tensor) fails every tensor a mutation changes; untouched ones pass', () => {
    const seen = new Set<string>();
    fc.assert(fc.property(netCase, fc.constantFrom(...MISTAKES), fc.nat(), (n, mistake, pick) => {
      const { m, params, X, Y, grads, at, changed } = mutated(n, mistake, pick);
      seen.add(mistake.id);
      const report = check({ model: m, params, X, Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, mode: 'directional', samples: 3, seed: n.dataSeed });
      expect(report.ok, `${mistake.id} at layer ${at} of ${JSON.stringify(n.spec)}`).toBe(false);
      for (const c of changed) {
        const t = report.checks.find((x) => x.param === c.name);
        // Every direction across a kink (a sample exactly on one, say) is skipped: nothing compared.
        if (!t || t.checked === 0) continue;
        if (c.error >= 1e-4) expect(t.status, `${c.name} (${mistake.id}, changed by ${c.error})`).toBe('fail');
        if (c.error === 0) expect(t.status, `${c.name} untouched by ${mistake.id}`).not.toBe('fail');
      }
    }), { seed: SEED, numRuns: 400 });
    expect([...seen].sort()).toEqual(MISTAKES.map((x) => x.id).sort());
  });
});
