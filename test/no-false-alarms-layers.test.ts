// No false alarms beyond dense layers: 60 seeded random correct networks made of the new kinds —
// conv2d with random kernels, strides and paddings, max and average pooling (overlapping or not),
// flatten, batch norm after conv (per channel) and after dense (per feature), layer norm, dropout
// with a fixed mask, activation entries — with random activations, every output/loss pair
// (softmax with any loss, MSE averaged over the outputs, custom losses), both reductions, L2 on or
// off, checked with the right gradients (backprop-check's own, or a user's backprop handed in as
// --grads). None may fail, and none may get a root-cause, propagated or error finding. The same
// kind of networks with one layer-kind mistake made at a random entry: the mistake is named there,
// as the only root cause. test/no-false-alarms.test.ts keeps its 200 dense nets.
import { describe, expect, it } from 'vitest';
import { correctChain, correctPlan, evaluate, netOf } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, type GradientSource } from '../src/core/check/check.js';
import { compare } from '../src/core/check/compare.js';
import { categoryOf, diagnoser } from '../src/core/diagnose/index.js';
import { layerMistakesAt } from '../src/core/diagnose/layer-mistakes.js';
import { forward } from '../src/core/forward.js';
import { initialise } from '../src/core/init.js';
import { typeOf, type LayerType } from '../src/core/layers/index.js';
import { Random } from '../src/core/random.js';
import { zeros } from '../src/core/tensor.js';
import { parseSpec } from '../src/io/spec.js';
import { userBackprop, withMasks } from '../tools/matrix.js';

type Entry = Record<string, unknown>;

const ACTIVATIONS: unknown[] = ['relu', 'tanh', 'sigmoid', 'leaky_relu', 'elu', 'softplus', 'linear', { name: 'leaky_relu', alpha: 0.2 }];

/** The output size of a window of k with stride s and padding p over n, when it tiles n (else 0). */
function tiles(n: number, k: number, s: number, p: number): number {
  const t = n + 2 * p - k;
  return t >= 0 && t % s === 0 ? t / s + 1 : 0;
}

/** Convolutional entries on a C × H × H image, ending in a flatten; returns them and the flat size. */
function imageEntries(rng: Random, C: number, H: number, pick: <T>(xs: readonly T[]) => T): { entries: Entry[]; features: number } {
  const entries: Entry[] = [];
  let c = C, h = H;
  const convs = 1 + rng.int(2);
  for (let i = 0; i < convs; i++) {
    let k = 1, s = 1, p = 0, out = h;
    for (let tries = 0; tries < 20; tries++) {
      const [k1, s1, p1] = [1 + rng.int(Math.min(3, h)), 1 + rng.int(2), rng.int(2)];
      const o = tiles(h, k1, s1, p1);
      if (o >= 2) { [k, s, p, out] = [k1, s1, p1, o]; break; }
    }
    const filters = 1 + rng.int(3);
    const norm = rng.uniform() < 0.35;
    const act = pick(ACTIVATIONS);
    const separate = norm || rng.uniform() < 0.3;
    // A bias right before a batch norm has a gradient of exactly 0 (the norm removes every shift).
    entries.push({ type: 'conv2d', filters, kernel: k, ...(s > 1 ? { stride: s } : {}), ...(p > 0 ? { padding: p } : {}), activation: separate ? 'linear' : act, ...(norm ? { bias: false } : {}) });
    if (norm) entries.push({ type: 'batchnorm' });
    if (separate) entries.push({ type: 'activation', activation: act });
    c = filters; h = out;
    if (h >= 2 && rng.uniform() < 0.65) {
      const size = 2 + rng.int(Math.min(2, h - 1));
      let stride = 1 + rng.int(size);
      if ((h - size) % stride !== 0) stride = 1;
      entries.push({ type: rng.uniform() < 0.5 ? 'maxpool2d' : 'avgpool2d', size, ...(stride !== size ? { stride } : {}) });
      h = (h - size) / stride + 1;
    }
  }
  entries.push({ type: 'flatten' });
  if (rng.uniform() < 0.3) entries.push({ type: 'dropout', keep: 0.5 + 0.5 * rng.uniform(), seed: rng.int(1000) });
  return { entries, features: c * h * h };
}

/** Hidden dense entries with normalisations, dropout and activation entries between them. */
function flatEntries(rng: Random, pick: <T>(xs: readonly T[]) => T): Entry[] {
  const entries: Entry[] = [];
  const count = 1 + rng.int(2);
  for (let i = 0; i < count; i++) {
    const units = 2 + rng.int(5);
    const norm = pick(['none', 'batchnorm', 'layernorm', 'none'] as const);
    const act = pick(ACTIVATIONS);
    if (norm === 'none') entries.push({ units, activation: act });
    else entries.push({ units, activation: 'linear', ...(norm === 'batchnorm' ? { bias: false } : {}) }, { type: norm }, { type: 'activation', activation: act });
    if (rng.uniform() < 0.35) entries.push({ type: 'dropout', keep: 0.5 + 0.5 * rng.uniform(), seed: rng.int(1000) });
  }
  return entries;
}

type Output = { layer: Entry; loss: unknown; targets: 'probability' | 'one-hot' | 'real' };

function output(rng: Random, pick: <T>(xs: readonly T[]) => T): Output {
  const K = 2 + rng.int(3);
  const custom = { expr: '0.1 * (a - y)^2 + 0.05 * (a - y)^4' };
  return pick<Output>([
    { layer: { units: K - 1, activation: 'sigmoid' }, loss: 'binary_cross_entropy', targets: 'probability' },
    { layer: { units: K, activation: 'softmax' }, loss: 'categorical_cross_entropy', targets: 'one-hot' },
    { layer: { units: K, activation: 'softmax' }, loss: 'mean_squared_error', targets: 'real' },
    { layer: { units: K, activation: 'softmax' }, loss: 'binary_cross_entropy', targets: 'probability' },
    { layer: { units: K, activation: 'softmax' }, loss: custom, targets: 'real' },
    { layer: { units: K, activation: 'linear' }, loss: { name: 'mean_squared_error', average: 'outputs' }, targets: 'real' },
    { layer: { units: K, activation: 'tanh' }, loss: custom, targets: 'real' },
  ]);
}

function randomCase(seed: number) {
  const rng = new Random(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const image = seed % 3 !== 2;
  const C = 1 + rng.int(2), H = 4 + rng.int(5);
  const head = image ? imageEntries(rng, C, H, pick).entries : [];
  const hidden = !image || rng.uniform() < 0.5 ? flatEntries(rng, pick) : [];
  const out = output(rng, pick);
  const l2 = rng.int(3);
  const spec: Record<string, unknown> = {
    input: image ? [C, H, H] : 2 + rng.int(4),
    layers: [...head, ...hidden, out.layer],
    loss: out.loss,
    reduction: rng.uniform() < 0.5 ? 'mean' : 'sum',
    ...(l2 === 1 ? { l2: 0.01 + rng.uniform() } : l2 === 2 ? { l2: { coefficient: 0.01 + 0.2 * rng.uniform() } } : {}),
    init: { scheme: pick(['xavier', 'he']), seed: seed + 1 },
  };
  const m = 4 + rng.int(6);
  const loaded = parseSpec(spec, `random net ${seed}`);
  const model = withMasks(loaded.model, loaded.dropoutSeeds, m);
  const params = initialise(model);
  const K = model.layers[model.layers.length - 1].units;
  const X = zeros([model.inputs, m]), Y = zeros([K, m]);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let c = 0; c < m; c++) {
    if (out.targets === 'one-hot') Y.data[rng.int(K) * m + c] = 1;
    else for (let k = 0; k < K; k++) Y.data[k * m + c] = out.targets === 'probability' ? (rng.uniform() < 0.3 ? 0.3 : rng.int(2)) : rng.normal();
  }
  const channel = seed % 2 === 0 ? 'grads' : 'correct';
  const gradients: GradientSource = channel === 'grads'
    ? { source: 'grads', grads: userBackprop(model, params, X, Y, null) }
    : { source: 'correct', plan: correctPlan(model) };
  return { spec, model, params, X, Y, channel, run: () => check({ model, params, X, Y, gradients }, { ...DEFAULT_OPTIONS, seed }, diagnoser()) };
}

describe('no false alarms beyond dense layers', () => {
  it('60 random correct networks of every layer kind: no failure, no root-cause, propagated or error finding', () => {
    const alarms: string[] = [];
    const types = new Map<LayerType, number>();
    const seen = { strided: 0, padded: 0, overlapping: 0, spatialNorm: 0, sum: 0, mean: 0, l2: 0, softmaxOther: 0 };
    for (let seed = 1; seed <= 60; seed++) {
      const { spec, model, channel, run } = randomCase(seed);
      for (const layer of model.layers) types.set(typeOf(layer), (types.get(typeOf(layer)) ?? 0) + 1);
      for (const layer of model.layers) {
        if (typeOf(layer) === 'conv2d' && layer.stride![0] > 1) seen.strided++;
        if (typeOf(layer) === 'conv2d' && layer.padding![0] > 0) seen.padded++;
        if (/pool/.test(typeOf(layer)) && layer.stride![0] < layer.kernel![0]) seen.overlapping++;
        if (typeOf(layer) === 'batchnorm' && layer.inShape!.length === 3) seen.spatialNorm++;
      }
      seen[model.reduction]++;
      if (spec.l2 !== undefined) seen.l2++;
      if (model.layers[model.layers.length - 1].activation.name === 'softmax' && model.loss.canonicalActivation !== 'softmax') seen.softmaxOther++;
      const report = run();
      const bad = report.findings.filter((f) => (categoryOf(f.code) !== 'health' && categoryOf(f.code) !== 'numerics') || f.severity === 'error');
      if (!report.ok || bad.length > 0) {
        const failing = report.checks.filter((t) => t.status === 'fail').map((t) => `${t.param} ${t.relativeError.toExponential(2)} ${t.failedBy}`);
        alarms.push(`seed ${seed} (${channel}): ${JSON.stringify(spec)} fails [${failing.join(', ')}] findings [${bad.map((f) => `${f.code}: ${f.message}`).join(' | ')}]`);
      }
    }
    expect(alarms).toEqual([]);
    // Every kind, and every variation the brief names, appears several times.
    for (const type of ['dense', 'conv2d', 'maxpool2d', 'avgpool2d', 'flatten', 'batchnorm', 'layernorm', 'dropout', 'activation'] as const) {
      expect(types.get(type) ?? 0, type).toBeGreaterThanOrEqual(3);
    }
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThanOrEqual(3);
  });

  it('60 more with one layer-kind mistake each at a random entry: named there, as the only root cause', () => {
    const misses: string[] = [];
    let named = 0;
    for (let seed = 101; seed <= 160; seed++) {
      const { spec, model, params, X, Y } = randomCase(seed);
      const net = netOf(model, params, forward(model, params, X, Y), Y);
      const right = evaluate(net, correctChain(net)).grads;
      const sites = model.layers.flatMap((_x, l) => layerMistakesAt(net, l).map((m) => ({ l, id: m.detail.mistake!, code: m.kind.code })));
      if (sites.length === 0) continue;
      const { l, id, code } = sites[new Random(seed).int(sites.length)];
      const chain = correctChain(net);
      chain.layers[l].mistake = id;
      const grads = evaluate(net, chain).grads;
      // A mistake that changes no gradient here (one that changes only dA_{l−1} at the first
      // entry, or a conv's db where it has none) leaves nothing to find.
      if (grads.every((g, k) => Object.keys(g).every((name) => compare(g[name].data, right[k][name].data).relativeError < 1e-4))) continue;
      const report = check({ model, params, X, Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, seed: 1 }, diagnoser());
      const roots = report.findings.filter((f) => categoryOf(f.code) === 'root').map((f) => `${f.code}@${f.layer}`);
      if (!report.ok && roots.length === 1 && roots[0] === `${code}@${l + 1}`) named++;
      else misses.push(`seed ${seed}: ${id}@${l + 1} ${report.ok ? 'passed' : `found ${roots.join(', ') || 'nothing'}`} in ${JSON.stringify(spec.layers)}`);
    }
    expect(misses).toEqual([]);
    expect(named).toBeGreaterThanOrEqual(40);
  });
});
