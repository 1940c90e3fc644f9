// The layered difference source (src/core/differences/layered.ts) carries a perturbation through
// the records over only the rows it changes. It must give the numbers of the naive reference
// (differences/naive.ts: every record's full `difference`, from the first layer, every time), kinks
// and refined samples included; on dense-only networks the numbers of the dense fast path
// (propagated.ts); along directions, the naive walk's; and keep the digits that plain subtraction
// of two costs loses.
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { denseSuffixStart, layeredSource } from '../src/core/differences/layered.js';
import { naiveSource, perSamplePlainSource } from '../src/core/differences/naive.js';
import { productSource } from '../src/core/differences/product.js';
import { propagatedSource } from '../src/core/differences/propagated.js';
import { elementsOf, type DifferenceSource, type Direction, type ElementDifference } from '../src/core/differences/source.js';
import { entryValues, forward, type ForwardCache } from '../src/core/forward.js';
import { drawMask } from '../src/core/layers/dropout-mask.js';
import { entryKinds, entryParams } from '../src/core/layers/index.js';
import { outputSize } from '../src/core/layers/shapes.js';
import type { Layer, LayerType } from '../src/core/layers/kind.js';
import { l2Coefficient, namedTensors, type Model, type Params } from '../src/core/model.js';
import { Random } from '../src/core/random.js';
import { namedActivation } from '../src/core/records/activations.js';
import type { Tensor } from '../src/core/tensor.js';
import { drawn, modelOf, network, withKinks, type Network } from './helpers/network.js';

/** A seeded dense network from a spec-like object, standard normal inputs and fitting targets. */
function dense(spec: Record<string, unknown>, inputs: number, samples: number, seed: number): Network {
  return network({ init: { scheme: 'he', seed }, ...spec }, { inputs, initSeed: seed, data: drawn(samples, seed + 17) });
}

/**
 * The network with a parameterless entry of `type` (an activation on its own, or a flatten) put
 * after entry `after`: the same function when the activation is `linear`, another one otherwise,
 * and a model that is no longer all dense, so the product takes the layered source.
 */
function withEntry(n: Network, after: number, type: LayerType, activationName = 'linear'): Network {
  const units = n.model.layers[after].units;
  const entry: Layer = { type, units, inputs: units, activation: namedActivation(activationName)!, bias: false, inShape: [units], outShape: [units] };
  const layers = [...n.model.layers.slice(0, after + 1), entry, ...n.model.layers.slice(after + 1)];
  const params = [...n.params.slice(0, after + 1), {}, ...n.params.slice(after + 1)];
  return { ...n, model: { ...n.model, layers }, params };
}

const MIXED: [string, () => Network][] = [
  ['dense tanh → activation ReLU → dense softmax, categorical cross-entropy, L2, kinks',
    () => withKinks(withEntry(dense({ layers: [{ units: 7, activation: 'linear' }, { units: 4, activation: 'softmax' }], loss: 'categorical_cross_entropy', l2: 0.3 }, 5, 12, 1), 0, 'activation', 'relu'))],
  ['dense ReLU → flatten → dense ReLU → activation sigmoid, binary cross-entropy, kinks',
    () => withKinks(withEntry(withEntry(dense({ layers: [{ units: 6, activation: 'relu' }, { units: 3, activation: 'relu' }], loss: 'binary_cross_entropy' }, 4, 10, 2), 1, 'activation', 'sigmoid'), 0, 'flatten'))],
  ['custom activation, softmax entry on its own, mean squared error, sum reduction, no biases',
    () => withEntry(dense({ layers: [{ units: 6, activation: { expr: 'z / (1 + exp(-z))' } }, { units: 3, activation: 'linear' }], loss: 'mean_squared_error', reduction: 'sum', bias: false, l2: { coefficient: 0.01 } }, 3, 9, 3), 1, 'activation', 'softmax')],
  ['leaky ReLU, ELU, softplus, sigmoid through flattens',
    () => withKinks(withEntry(withEntry(dense({ layers: [{ units: 8, activation: { name: 'leaky_relu', alpha: 0.1 } }, { units: 6, activation: 'elu' }, { units: 5, activation: 'softplus' }, { units: 2, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 4, 10, 4), 2, 'flatten'), 0, 'flatten'))],
];

const DENSE: [string, () => Network][] = [
  ['tanh/sigmoid, binary cross-entropy', () => dense({ layers: [{ units: 7, activation: 'tanh' }, { units: 5, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 4, 11, 5)],
  ['ReLU/softmax, L2, kinks', () => withKinks(dense({ layers: [{ units: 9, activation: 'relu' }, { units: 6, activation: 'relu' }, { units: 4, activation: 'softmax' }], loss: 'categorical_cross_entropy', l2: 0.3 }, 5, 12, 6))],
  ['ReLU output, mean squared error, sum reduction', () => withKinks(dense({ layers: [{ units: 6, activation: 'relu' }, { units: 3, activation: 'relu' }], loss: 'mean_squared_error', reduction: 'sum' }, 3, 10, 7))],
];

const sources = (n: Network, make: (at: { model: Model; params: Params; Y: Tensor }, fwd: ForwardCache) => DifferenceSource) =>
  make({ model: n.model, params: n.params, Y: n.Y }, forward(n.model, n.params, n.X, n.Y));

/** |a − b| ≤ tol·|b| (and exactly equal when b is 0). */
function close(a: number, b: number, tol: number): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.abs(b));
}

function sameDifference(got: ElementDifference, want: ElementDifference, tol: number): void {
  close(got.numeric, want.numeric, tol);
  close(got.spread, want.spread, tol);
  expect([got.kink, got.refined]).toEqual([want.kink, want.refined]);
}

/** Every element of every tensor, as `got` and `want` give it; returns the counts of refined and kink elements. */
function everyElement(n: Network, got: DifferenceSource, want: DifferenceSource, h: number, tol: number) {
  let refined = 0, kinks = 0, compared = 0;
  for (const { ref, value } of namedTensors(n.model, n.params)) {
    for (let i = 0; i < value.data.length; i++) {
      const g = got.element(ref, i, h), w = want.element(ref, i, h);
      sameDifference(g, w, tol);
      if (g.refined) refined++;
      if (g.kink) kinks++;
      compared++;
    }
  }
  return { refined, kinks, compared };
}

describe('layered source: elements equal the naive reference', () => {
  it.each(MIXED)('%s', (name, make) => {
    const n = make();
    const { refined, kinks, compared } = everyElement(n, sources(n, layeredSource), sources(n, naiveSource), 1e-6, 1e-13);
    expect(compared).toBe(namedTensors(n.model, n.params).reduce((s, t) => s + t.value.data.length, 0));
    if (name.includes('kinks')) {
      // The kink cases were reached: samples re-differenced with a smaller step, and exact kinks.
      expect(refined).toBeGreaterThan(0);
      expect(kinks).toBeGreaterThan(0);
    }
  });

  it('an inserted linear activation or flatten entry changes no number', () => {
    // The same function with and without the identity entries: the layered source on the longer
    // model gives the dense fast path's numbers on the shorter one.
    const plain = withKinks(dense({ layers: [{ units: 6, activation: 'relu' }, { units: 4, activation: 'softmax' }], loss: 'categorical_cross_entropy', l2: 0.1 }, 4, 9, 8));
    const longer = withEntry(withEntry(plain, 1, 'activation'), 0, 'flatten');
    const fast = sources(plain, propagatedSource), layered = sources(longer, layeredSource);
    for (const { ref, value } of namedTensors(plain.model, plain.params)) {
      const moved = { layer: ref.layer === 0 ? 0 : ref.layer + 1, name: ref.name };
      for (let i = 0; i < value.data.length; i++) sameDifference(layered.element(moved, i, 1e-6), fast.element(ref, i, 1e-6), 1e-13);
    }
  });
});

describe('layered source: the trailing dense entries go to the dense source', () => {
  it('denseSuffixStart: the first entry of the trailing run of dense entries', () => {
    const layers = (...types: (LayerType | undefined)[]) => types.map((type) => ({ units: 2, inputs: 2, activation: namedActivation('linear')!, bias: true, ...(type ? { type } : {}) }));
    expect(denseSuffixStart(layers(undefined, 'flatten', undefined, 'dense'))).toBe(2);
    expect(denseSuffixStart(layers(undefined, 'activation'))).toBe(2);
    expect(denseSuffixStart(layers(undefined, undefined))).toBe(0);
  });

  it.each(MIXED)('%s: row batches (elements) equal the naive reference, tail and head', (name, make) => {
    const n = make();
    const layered = sources(n, layeredSource), naive = sources(n, naiveSource);
    // Batched when the network ends in dense entries after a non-dense one (elementsOf then uses
    // the source's own elements), element by element otherwise.
    const s = denseSuffixStart(n.model.layers);
    expect(layered.elements !== undefined).toBe(s > 0 && s < n.model.layers.length);
    let refined = 0;
    for (const { ref, value } of namedTensors(n.model, n.params)) {
      const cols = value.data.length / value.shape[0];
      for (let r = 0; r < value.shape[0]; r++) {
        const indices = Array.from({ length: cols }, (_, j) => r * cols + j);
        elementsOf(layered, ref, indices, 1e-6).forEach((got, k) => {
          sameDifference(got, naive.element(ref, indices[k], 1e-6), 1e-13);
          // The batch gives what the source's own element gives, bit for bit.
          expect(got).toEqual(layered.element(ref, indices[k], 1e-6));
          if (got.refined) refined++;
        });
      }
    }
    if (name.includes('kinks')) expect(refined).toBeGreaterThan(0);
  });
});

describe('layered source on dense-only networks equals the dense fast path', () => {
  it.each(DENSE)('%s: elements, directions and changes', (_, make) => {
    const n = make();
    const fast = sources(n, propagatedSource), layered = sources(n, layeredSource);
    everyElement(n, layered, fast, 1e-6, 1e-13);
    const rng = new Random(99);
    for (const { ref, value } of namedTensors(n.model, n.params)) {
      const [rows, cols] = value.shape;
      const dirs: Direction[] = [rng.unitVector(value.data.length)];
      if (ref.name === 'W' && rows > 1 && cols > 1) dirs.push({ u: rng.unitVector(rows), v: rng.unitVector(cols) });
      for (const v of dirs) {
        sameDifference(layered.direction!(ref, v, 1e-6), fast.direction!(ref, v, 1e-6), 1e-12);
        close(layered.change!(ref, v, 1e-4), fast.change!(ref, v, 1e-4), 1e-12);
      }
    }
  });
});

/**
 * J(θ + h·V) − J(θ) for V over tensor `name` of entry `layer`, the naive way: every record's full
 * difference from the first entry, the parameters' change as δθ = h·V, then the loss per sample and
 * the penalty c·Σ(2hV·W + h²V²).
 */
function naiveChange(n: Network, fwd: ForwardCache, layer: number, name: string, V: Float64Array, h: number): number {
  const { model, params, Y } = n;
  const m = fwd.samples;
  let x = fwd.A[0];
  let dx = new Float64Array(x.data.length);
  for (let k = 0; k < model.layers.length; k++) {
    const entry = model.layers[k], values = entryValues(fwd, k);
    const t = params[k][name];
    const dp = k === layer ? { [name]: { shape: t.shape, data: V.map((v) => h * v) } } : null;
    entryKinds(entry).forEach((record, r) => {
      const out = new Float64Array(values[r].data.length);
      record.difference(entry, x, values[r], dx, params[k], dp, out);
      x = values[r];
      dx = out;
    });
  }
  const outA = fwd.A[model.layers.length].data;
  let total = 0;
  for (let c = 0; c < m; c++) {
    let sample = 0;
    for (let r = 0; r < Y.shape[0]; r++) sample += model.loss.difference(outA[r * m + c], Y.data[r * m + c], dx[r * m + c]);
    total += sample;
  }
  let penalty = 0;
  if (name === 'W') {
    const W = params[layer].W.data;
    for (let i = 0; i < V.length; i++) penalty += h * V[i] * (2 * W[i] + h * V[i]);
  }
  return (model.reduction === 'mean' ? total / m : total) + l2Coefficient(model, m) * penalty;
}

describe('layered source along directions equals the naive walk', () => {
  // Smooth networks, so that no sample meets a kink and the quotient is (J₊ − J₋)/2h.
  const SMOOTH: [string, () => Network][] = [MIXED[2], MIXED[3]].map(([name, make]) => [name, () => {
    const n = make();
    return { ...n, X: { shape: n.X.shape, data: n.X.data.map((v, i) => v + 0.01 * ((i % 7) + 1)) } };
  }]);
  it.each(SMOOTH)('%s: directions and changes', (_, make) => {
    const n = make();
    const fwd = forward(n.model, n.params, n.X, n.Y);
    const layered = layeredSource({ model: n.model, params: n.params, Y: n.Y }, fwd);
    const rng = new Random(7);
    for (const { ref, value } of namedTensors(n.model, n.params)) {
      const [rows, cols] = value.shape;
      const dense = rng.unitVector(value.data.length);
      const cases: [Direction, Float64Array][] = [[dense, dense]];
      if (rows > 1 && cols > 1) {
        const u = rng.unitVector(rows), v = rng.unitVector(cols);
        cases.push([{ u, v }, Float64Array.from({ length: rows * cols }, (_, i) => u[Math.floor(i / cols)] * v[i % cols])]);
      }
      for (const [v, V] of cases) {
        const h = 1e-5;
        const d = layered.direction!(ref, v, h);
        expect([d.kink, d.refined]).toEqual([false, false]);
        close(d.numeric, (naiveChange(n, fwd, ref.layer, ref.name, V, h) - naiveChange(n, fwd, ref.layer, ref.name, V, -h)) / (2 * h), 1e-12);
        close(layered.change!(ref, v, 1e-3), naiveChange(n, fwd, ref.layer, ref.name, V, 1e-3), 1e-13);
      }
    }
  });

  it('a sample on a kink gives the interval of one-sided quotients along a direction, as the dense path does', () => {
    const plain = DENSE[1][1]();
    const longer = withEntry(plain, 2, 'flatten');
    const fast = sources(plain, propagatedSource), layered = sources(longer, layeredSource);
    const rng = new Random(3);
    let kinks = 0;
    for (const { ref, value } of namedTensors(plain.model, plain.params)) {
      const v = rng.unitVector(value.data.length);
      const got = layered.direction!(ref, v, 1e-6), want = fast.direction!(ref, v, 1e-6);
      sameDifference(got, want, 1e-12);
      if (got.kink) kinks++;
    }
    expect(kinks).toBeGreaterThan(0);
  });
});

describe('layered source keeps the digits plain subtraction loses', () => {
  it('J ≈ 0.69 with gradients ~1e-9: every quotient within 1e-6 of backprop', () => {
    // Tiny inputs: dJ/dW1 = δ₁·Xᵀ/m is ~1e-9 while J = ln 2 + O(1e-9), so a difference of two costs
    // at h = 1e-6 rounds by ulp(0.69)/h ≈ 1e-10, a tenth of the gradient.
    const n = withEntry(dense({ layers: [{ units: 5, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 3, 8, 9), 0, 'activation', 'tanh');
    n.X.data.forEach((v, i) => { n.X.data[i] = v * 1e-9; });
    const fwd = forward(n.model, n.params, n.X, n.Y);
    expect(Math.abs(fwd.cost - Math.LN2)).toBeLessThan(1e-3);
    const grads = backward(n.model, n.params, fwd, n.Y, correctPlan(n.model));
    const at = { model: n.model, params: n.params, Y: n.Y };
    const layered = layeredSource(at, fwd), plain = perSamplePlainSource(at, fwd);
    const W1 = { layer: 0, name: 'W' }, g = grads[0].W.data;
    let plainWorst = 0;
    for (let i = 0; i < g.length; i++) {
      expect(Math.abs(g[i])).toBeLessThan(1e-8);
      close(layered.element(W1, i, 1e-6).numeric, g[i], 1e-6);
      plainWorst = Math.max(plainWorst, Math.abs(plain.element(W1, i, 1e-6).numeric - g[i]) / Math.abs(g[i]));
    }
    // The test can tell: subtraction misses by far more than the layered source is allowed.
    expect(plainWorst).toBeGreaterThan(1e-4);
  });
});

describe('the product', () => {
  it('takes the layered source for a model that is not all dense', () => {
    const n = MIXED[1][1]();
    const product = sources(n, productSource), layered = sources(n, layeredSource);
    const W3 = { layer: 2, name: 'W' }, v = new Random(5).unitVector(n.params[2].W.data.length);
    expect(product.direction!(W3, v, 1e-6)).toEqual(layered.direction!(W3, v, 1e-6));
    expect(product.element(W3, 4, 1e-6)).toEqual(layered.element(W3, 4, 1e-6));
  });
});

// ---- the other layer kinds: conv2d, pooling, batch and layer norm, dropout -----------------------

type Shape = readonly number[];
const flat = (shape: Shape) => shape.reduce((a, b) => a * b, 1);
const act = (name: string) => namedActivation(name)!;

/** The entries of a network, each built from the shape of its input, as io/ fills them in. */
type Entry = (input: Shape) => Layer;

function windowed(type: 'conv2d' | 'maxpool2d' | 'avgpool2d', input: Shape, filters: number, kernel: [number, number], stride: [number, number], padding: [number, number], activation: string, bias: boolean): Layer {
  const [C, H, W] = input;
  const Ho = outputSize(H, kernel[0], stride[0], padding[0])!, Wo = outputSize(W, kernel[1], stride[1], padding[1])!;
  const outShape = [type === 'conv2d' ? filters : C, Ho, Wo];
  return {
    type, units: flat(outShape), inputs: flat(input), activation: act(activation), bias, inShape: input, outShape, kernel, stride, padding,
    ...(type === 'conv2d' ? { filters } : {}),
  };
}
const conv = (filters: number, k: number, o: { stride?: number; padding?: number; activation?: string; bias?: boolean } = {}): Entry => (input) =>
  windowed('conv2d', input, filters, [k, k], [o.stride ?? 1, o.stride ?? 1], [o.padding ?? 0, o.padding ?? 0], o.activation ?? 'linear', o.bias ?? true);
const pool = (type: 'maxpool2d' | 'avgpool2d', k: number, stride = k): Entry => (input) => windowed(type, input, 0, [k, k], [stride, stride], [0, 0], 'linear', false);
const plain = (type: 'flatten' | 'batchnorm' | 'layernorm' | 'activation', activation = 'linear', outShape?: Shape): Entry => (input) =>
  ({ type, units: flat(input), inputs: flat(input), activation: act(activation), bias: false, inShape: input, outShape: outShape ?? (type === 'flatten' ? [flat(input)] : input) });
const dropout = (keep: number): Entry => (input) => ({ ...plain('activation')(input), type: 'dropout', keep });
const denseEntry = (units: number, activation: string): Entry => (input) => ({ units, inputs: flat(input), activation: act(activation), bias: true });

/**
 * A network of any layer kinds: seeded He-normal weights by fan-in, biases and β small normals, γ
 * near 1 (so that no parameter is special), dropout masks drawn from the seed, standard normal
 * inputs and fitting targets.
 */
function kindsNet(input: Shape, entries: Entry[], loss: Record<string, unknown>, samples: number, seed: number): Network {
  const base = modelOf({ layers: [{ units: 1, activation: 'linear' }], ...loss }, 1);
  let shape = input;
  const layers = entries.map((make) => {
    const layer = make(shape);
    shape = layer.outShape ?? [layer.units];
    return layer.type === 'dropout' ? { ...layer, mask: drawMask(layer.units, samples, layer.keep!, seed + 1) } : layer;
  });
  const model: Model = { ...base, inputs: flat(input), layers };
  const rng = new Random(seed);
  const params: Params = layers.map((layer) => Object.fromEntries(entryParams(layer).map(({ name, shape: s }) => {
    const data = new Float64Array(flat(s));
    const fan = data.length / s[0];
    for (let i = 0; i < data.length; i++) {
      const z = rng.normal();
      data[i] = name === 'W' ? z * Math.sqrt(2 / fan) : name === 'gamma' ? 1 + 0.1 * z : 0.1 * z;
    }
    return [name, { shape: s, data }];
  })));
  const { X, Y } = drawn(samples, seed + 17)(model);
  return { model, params, X, Y, declared: null };
}

const CCE = { loss: 'categorical_cross_entropy' }, BCE = { loss: 'binary_cross_entropy' };
const KINDS: [string, () => Network][] = [
  ['conv 3@3×3 padding 1 ReLU → max-pool 2 → flatten → dense softmax, L2 (the bench CNN, smaller)',
    () => kindsNet([1, 6, 6], [conv(3, 3, { padding: 1, activation: 'relu' }), pool('maxpool2d', 2), plain('flatten'), denseEntry(4, 'softmax')], { ...CCE, l2: 0.2 }, 5, 11)],
  ['conv stride 2 no bias tanh → avg-pool 2 stride 1 → conv 1×1 → flatten → dense sigmoid',
    () => kindsNet([2, 7, 7], [conv(3, 3, { stride: 2, activation: 'tanh', bias: false }), pool('avgpool2d', 2, 1), conv(2, 1), plain('flatten'), denseEntry(1, 'sigmoid')], BCE, 4, 12)],
  ['dense → batch norm → ReLU → dense → batch norm → ReLU → dense sigmoid (the bench MLP, smaller)',
    () => kindsNet([5], [denseEntry(8, 'linear'), plain('batchnorm'), plain('activation', 'relu'), denseEntry(6, 'linear'), plain('batchnorm'), plain('activation', 'relu'), denseEntry(1, 'sigmoid')], BCE, 9, 13)],
  ['conv → spatial batch norm → ReLU → max-pool 3 stride 2 → flatten → dropout → dense softmax',
    () => kindsNet([1, 7, 7], [conv(2, 3, { padding: 1 }), plain('batchnorm'), plain('activation', 'relu'), pool('maxpool2d', 3, 2), plain('flatten'), dropout(0.7), denseEntry(3, 'softmax')], CCE, 4, 14)],
  ['dense tanh → layer norm → dropout → dense, mean squared error summed, L2 coefficient',
    () => kindsNet([4], [denseEntry(7, 'tanh'), plain('layernorm'), dropout(0.5), denseEntry(2, 'linear')], { loss: 'mean_squared_error', reduction: 'sum', l2: { coefficient: 0.05 } }, 6, 15)],
];

describe('layered source on every layer kind equals the naive reference', () => {
  it.each(KINDS)('%s: every element', (_, make) => {
    const n = make();
    everyElement(n, sources(n, layeredSource), sources(n, naiveSource), 1e-6, 1e-13);
  });

  it.each(KINDS)('%s: directions and changes, as the naive walk gives them', (_, make) => {
    const n = make();
    const fwd = forward(n.model, n.params, n.X, n.Y);
    const layered = layeredSource({ model: n.model, params: n.params, Y: n.Y }, fwd);
    const rng = new Random(21);
    let compared = 0;
    const tensors = namedTensors(n.model, n.params);
    for (const { ref, value } of tensors) {
      const V = rng.unitVector(value.data.length);
      const d = layered.direction!(ref, V, 1e-5);
      // A sample whose step crosses a kink is refined: compare only the directions that met none.
      if (!d.refined) {
        close(d.numeric, (naiveChange(n, fwd, ref.layer, ref.name, V, 1e-5) - naiveChange(n, fwd, ref.layer, ref.name, V, -1e-5)) / 2e-5, 1e-12);
        compared++;
      }
      close(layered.change!(ref, V, 1e-3), naiveChange(n, fwd, ref.layer, ref.name, V, 1e-3), 1e-13);
    }
    expect(compared).toBeGreaterThan(tensors.length / 2);
  });
});

describe('max-pool kinks', () => {
  /**
   * conv 1×1 over two channels (W = [0.5, 0.25], b = 0) then one 2×1 max-pool window over the
   * two positions p = (x₀ 1, x₁ 0) and q = (x₀ 0, x₁ 2 + t): z_p = 0.5, z_q = 0.5 + t/4. Moving W's
   * first element moves z_p alone: with t = 0 the window sits on a tie whose elements move
   * differently (a kink at every step); with t = 4e-9 a step of 1e-6 crosses the argmax switch,
   * which a step of 1e-9 no longer does (refined).
   */
  function pooled(t: number): Network {
    const base = modelOf({ layers: [{ units: 1, activation: 'sigmoid' }], ...BCE }, 1);
    const input = [2, 2, 1];
    const c = conv(1, 1)(input), p = windowed('maxpool2d', c.outShape!, 0, [2, 1], [2, 1], [0, 0], 'linear', false), f = plain('flatten')(p.outShape!);
    const model: Model = { ...base, inputs: 4, layers: [c, p, f, denseEntry(1, 'sigmoid')(f.outShape!)] };
    const params: Params = [
      { W: { shape: [1, 2, 1, 1], data: Float64Array.of(0.5, 0.25) }, b: { shape: [1, 1], data: Float64Array.of(0) } },
      {}, {},
      { W: { shape: [1, 1], data: Float64Array.of(1.5) }, b: { shape: [1, 1], data: Float64Array.of(-0.2) } },
    ];
    // Rows (c, h, w): x₀ at p, x₀ at q, x₁ at p, x₁ at q; one sample.
    const X = { shape: [4, 1], data: Float64Array.of(1, 0, 0, 2 + t) };
    return { model, params, X, Y: { shape: [1, 1], data: Float64Array.of(1) }, declared: null };
  }

  it.each([[0, true], [4e-9, false]] as const)('gap %s: kink %s, refined, as the naive reference says', (t, kink) => {
    const n = pooled(t);
    const layered = sources(n, layeredSource), naive = sources(n, naiveSource);
    const W1 = { layer: 0, name: 'W' };
    const got = layered.element(W1, 0, 1e-6);
    sameDifference(got, naive.element(W1, 0, 1e-6), 1e-13);
    expect([got.kink, got.refined]).toEqual([kink, true]);
    if (kink) expect(got.spread).toBeGreaterThan(0);
    // W's second element moves z_q alone: q is the argmax already (or tied), so a step up keeps
    // it there, but a step down crosses to p (or leaves the tie): refined as well.
    const second = layered.element(W1, 1, 1e-6);
    sameDifference(second, naive.element(W1, 1, 1e-6), 1e-13);
    expect(second.refined).toBe(true);
  });
});
