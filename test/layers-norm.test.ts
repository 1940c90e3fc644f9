// The batchnorm, layernorm and dropout layer kinds (src/core/layers/): forward and vector–Jacobian
// products against PyTorch float64 (fixtures/golden/layers/norm.json, written by
// scripts/norm_golden.py; regenerate with /usr/bin/python3 scripts/norm_golden.py), backward
// against central differences of forward, the cancellation-free difference against plain
// subtraction and against mpmath at 60 digits, the fast-path functions against `difference`, the
// backward in magnitudes against its terms summed one by one, and every mistake against backward.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backward, correctChain, correctPlan, evaluate, netOf } from '../src/core/backprop.js';
import { NaiveDifferences } from '../src/core/differences/naive.js';
import { forward } from '../src/core/forward.js';
import { batchnorm } from '../src/core/layers/batchnorm.js';
import { drawMask } from '../src/core/layers/dropout-mask.js';
import { dropout } from '../src/core/layers/dropout.js';
import { kindOf, type Layer, type LayerKind, type LayerType, type TensorSet } from '../src/core/layers/index.js';
import { layernorm } from '../src/core/layers/layernorm.js';
import type { Model, Params } from '../src/core/model.js';
import { Random } from '../src/core/random.js';
import { namedActivation } from '../src/core/records/activations.js';
import { namedLoss } from '../src/core/records/losses.js';
import { zeros, type Tensor } from '../src/core/tensor.js';

const linear = namedActivation('linear')!;
const KINDS: Record<string, LayerKind> = { batchnorm, layernorm, dropout };

function layerOf(type: LayerType, inShape: number[], extra: Partial<Layer> = {}): Layer {
  const n = inShape.reduce((a, b) => a * b, 1);
  return { units: n, inputs: n, activation: linear, bias: false, type, inShape, outShape: inShape, ...extra };
}

function block(rows: number[][]): Tensor {
  const r = rows.length, c = rows[0].length;
  const t = zeros([r, c]);
  rows.forEach((row, i) => row.forEach((v, j) => (t.data[i * c + j] = v)));
  return t;
}

function randomTensor(shape: number[], rng: Random, scale = 1, offset = 0): Tensor {
  const t = zeros(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = offset + scale * rng.normal();
  return t;
}

function norm2(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** ‖a − b‖/‖b‖. */
function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = a[i] - b[i];
  return norm2(d) / norm2(b);
}

/** The largest |a − b|, 0 only when every element is the same number. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A layer of each kind and shape, with its input, parameters and a mask, seeded. */
function setup(type: 'batchnorm' | 'layernorm' | 'dropout', inShape: number[], m: number, seed: number) {
  const rng = new Random(seed);
  const n = inShape.reduce((a, b) => a * b, 1);
  const layer = type === 'dropout'
    ? layerOf(type, inShape, { keep: 0.7, mask: drawMask(n, m, 0.7, seed) })
    : layerOf(type, inShape, { eps: 1e-5 });
  const x = randomTensor([n, m], rng, 1.2, 0.4);
  const p: Record<string, Tensor> = {};
  for (const spec of KINDS[type].params(layer)) {
    p[spec.name] = randomTensor(spec.shape, rng, 0.5, spec.name === 'gamma' ? 1 : 0);
  }
  return { layer, x, p: p as TensorSet, kind: KINDS[type], rng };
}

const CASES = [
  ['batchnorm', [4], 6],
  ['batchnorm', [3, 2, 3], 4],
  ['layernorm', [5], 4],
  ['layernorm', [2, 2, 3], 3],
  ['dropout', [4], 5],
  ['dropout', [2, 3, 2], 3],
] as const;

// ---- PyTorch golden values --------------------------------------------------------------------

interface VjpCase {
  name: string; kind: 'batchnorm' | 'layernorm' | 'dropout'; inShape: number[]; samples: number;
  x: number[][]; dy: number[][]; y: number[][]; dx: number[][];
  eps?: number; gamma?: number[][]; beta?: number[][]; dgamma?: number[][]; dbeta?: number[][];
  keep?: number; mask?: number[][];
}
interface DifferenceCase {
  name: string; kind: 'batchnorm' | 'layernorm'; inShape: number[]; samples: number; eps: number;
  x: number[][]; dx: number[][]; gamma: number[][]; beta: number[][]; dy: number[][];
  dgamma?: number[][]; dbeta?: number[][];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/layers/norm.json', import.meta.url), 'utf8')) as {
  vjp: VjpCase[]; difference: DifferenceCase[];
};

function goldenLayer(g: VjpCase | DifferenceCase): { layer: Layer; p: TensorSet } {
  const extra: Partial<Layer> = {};
  if ('eps' in g && g.eps !== undefined) extra.eps = g.eps;
  if ('keep' in g && g.keep !== undefined) Object.assign(extra, { keep: g.keep, mask: block(g.mask!) });
  const p: Record<string, Tensor> = g.gamma ? { gamma: block(g.gamma), beta: block(g.beta!) } : {};
  return { layer: layerOf(g.kind, g.inShape, extra), p };
}

describe('against PyTorch float64 (fixtures/golden/layers/norm.json)', () => {
  it('holds every kind: flat and spatial batch norm, flat and image layer norm, dropout with a given mask', () => {
    const names = golden.vjp.map((g) => `${g.kind} ${g.inShape.length}`);
    expect(new Set(names)).toEqual(new Set(['batchnorm 1', 'batchnorm 3', 'layernorm 1', 'layernorm 3', 'dropout 1', 'dropout 3']));
  });

  for (const g of golden.vjp) {
    it(`${g.name}: forward and the vector–Jacobian products agree to 1e-12`, () => {
      const { layer, p } = goldenLayer(g);
      const kind = KINDS[g.kind];
      const x = block(g.x), dy = block(g.dy);
      const y = kind.forward(layer, x, p);
      expect(relative(y.data, block(g.y).data)).toBeLessThan(1e-12);
      const back = kind.backward(layer, x, y, dy, p, 1);
      expect(relative(back.dx().data, block(g.dx).data)).toBeLessThan(1e-12);
      if (g.dgamma) {
        expect(relative(back.dparams.gamma().data, block(g.dgamma).data)).toBeLessThan(1e-12);
        expect(relative(back.dparams.beta().data, block(g.dbeta!).data)).toBeLessThan(1e-12);
      } else {
        expect(Object.keys(back.dparams)).toEqual([]);
      }
    });
  }
});

// ---- backward against central differences of forward -------------------------------------------

/** L = Σ w ⊙ f(x; p): its gradient by backward is the vector–Jacobian product with dy = w. */
function loss(kind: LayerKind, layer: Layer, x: Tensor, p: TensorSet, w: Tensor): number {
  const y = kind.forward(layer, x, p);
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += w.data[i] * y.data[i];
  return s;
}

/** Central differences of `loss` in every element of t (moved in place, and written back). */
function numericGradient(t: Tensor, f: () => number, h = 1e-6): Float64Array {
  const g = new Float64Array(t.data.length);
  for (let i = 0; i < g.length; i++) {
    const v = t.data[i];
    t.data[i] = v + h; const up = f();
    t.data[i] = v - h; const down = f();
    t.data[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

describe('backward against central differences of forward', () => {
  for (const [type, shape, m] of CASES) {
    it(`${type} on ${shape.join('×')} × ${m} samples, s = 0.25 on the parameters`, () => {
      const { layer, x, p, kind, rng } = setup(type, [...shape], m, 21);
      const w = randomTensor(x.shape.slice(), rng);
      // The moved tensors are fresh each time (the statistics are cached per input tensor).
      const fx = () => loss(kind, layer, { shape: x.shape, data: Float64Array.from(x.data) }, p, w);
      const back = kind.backward(layer, x, kind.forward(layer, x, p), w, p, 0.25);
      expect(relative(back.dx().data, numericGradient(x, fx))).toBeLessThan(1e-8);
      for (const name of Object.keys(p)) {
        const numeric = numericGradient(p[name], fx).map((v) => 0.25 * v);
        expect(relative(back.dparams[name]().data, numeric)).toBeLessThan(1e-8);
      }
    });
  }
});

// ---- difference ---------------------------------------------------------------------------------

describe('difference', () => {
  for (const [type, shape, m] of CASES) {
    it(`${type} on ${shape.join('×')}: equals forward(x + δx; θ + δθ) − forward(x; θ) at ordinary steps`, () => {
      const { layer, x, p, kind, rng } = setup(type, [...shape], m, 33);
      const dx = randomTensor(x.shape.slice(), rng, 1e-3);
      const dp: Record<string, Tensor> = {};
      for (const name of Object.keys(p)) dp[name] = randomTensor(p[name].shape.slice(), rng, 1e-3);
      const moved: Record<string, Tensor> = {};
      for (const name of Object.keys(p)) moved[name] = { shape: p[name].shape, data: p[name].data.map((v, i) => v + dp[name].data[i]) };
      const y0 = kind.forward(layer, x, p);
      const y1 = kind.forward(layer, { shape: x.shape, data: x.data.map((v, i) => v + dx.data[i]) }, moved);
      const plain = y1.data.map((v, i) => v - y0.data[i]);
      // The buffer is not zero on entry (the naive walk reuses it): every element is written.
      const out = new Float64Array(x.data.length).fill(7);
      kind.difference(layer, x, y0, dx.data, p, Object.keys(p).length ? dp : null, out);
      // Plain subtraction keeps about 13 of the 16 digits of a 1e-3 change.
      expect(relative(out, plain)).toBeLessThan(1e-10);
    });
  }

  for (const g of golden.difference) {
    it(`${g.name}: a 1e-9 change agrees with mpmath to 1e-14, where plain subtraction keeps 7 digits`, () => {
      const { layer, p } = goldenLayer(g);
      const kind = KINDS[g.kind];
      const x = block(g.x), dx = block(g.dx), reference = block(g.dy).data;
      const dp = g.dgamma ? { gamma: block(g.dgamma), beta: block(g.dbeta!) } : null;
      const y0 = kind.forward(layer, x, p);
      const out = new Float64Array(x.data.length);
      kind.difference(layer, x, y0, dx.data, p, dp, out);
      expect(relative(out, reference)).toBeLessThan(1e-14);
      const moved = dp ? { gamma: { shape: p.gamma.shape, data: p.gamma.data.map((v, i) => v + dp.gamma.data[i]) }, beta: { shape: p.beta.shape, data: p.beta.data.map((v, i) => v + dp.beta.data[i]) } } : p;
      const y1 = kind.forward(layer, { shape: x.shape, data: x.data.map((v, i) => v + dx.data[i]) }, moved);
      expect(relative(y1.data.map((v, i) => v - y0.data[i]), reference)).toBeGreaterThan(1e-9);
    });
  }

  it('a layer with an unchanged input and parameters gives exactly zero', () => {
    for (const [type, shape, m] of CASES) {
      const { layer, x, p, kind } = setup(type, [...shape], m, 5);
      const out = new Float64Array(x.data.length).fill(1);
      kind.difference(layer, x, kind.forward(layer, x, p), new Float64Array(x.data.length), p, null, out);
      expect(maxDiff(out, new Float64Array(out.length))).toBe(0);
    }
  });
});

// ---- the fast path: differenceRows and paramChange ---------------------------------------------

describe('differenceRows and paramChange give difference’s numbers', () => {
  const rowCases: [typeof CASES[number], [number, number], [number, number]][] = [
    // A flat batch norm changes only the changed features; an image one whole channels (6 rows each).
    [['batchnorm', [4], 6], [1, 3], [1, 3]],
    [['batchnorm', [3, 2, 3], 4], [7, 9], [6, 12]],
    [['batchnorm', [3, 2, 3], 4], [4, 8], [0, 12]],
    // Layer norm: every sample's statistics mix every feature.
    [['layernorm', [5], 4], [2, 3], [0, 5]],
    [['layernorm', [2, 2, 3], 3], [5, 9], [0, 12]],
    [['dropout', [2, 3, 2], 3], [3, 7], [3, 7]],
  ];
  for (const [[type, shape, m], rows, expected] of rowCases) {
    it(`${type} on ${shape.join('×')}: a change in rows [${rows}] moves rows [${expected}]`, () => {
      const { layer, x, p, kind, rng } = setup(type, [...shape], m, 44);
      const dx = new Float64Array(x.data.length);
      for (let i = rows[0] * m; i < rows[1] * m; i++) dx[i] = 1e-4 * rng.normal();
      const y = kind.forward(layer, x, p);
      const full = new Float64Array(dx.length);
      kind.difference(layer, x, y, dx, p, null, full);
      const fast = new Float64Array(dx.length);
      expect(kind.differenceRows!(layer, x, y, dx, rows, p, fast)).toEqual(expected);
      expect(maxDiff(fast, full)).toBe(0);
      // The rows it does not return are rows that do not change.
      for (let i = 0; i < dx.length; i++) if (i < expected[0] * m || i >= expected[1] * m) expect(full[i]).toBe(0);
    });
  }

  for (const [type, shape, m] of CASES.filter(([t]) => t !== 'dropout')) {
    it(`${type} on ${shape.join('×')}: every γ and β element`, () => {
      const { layer, x, p, kind } = setup(type, [...shape], m, 55);
      const y = kind.forward(layer, x, p);
      const zero = new Float64Array(x.data.length);
      for (const name of ['gamma', 'beta']) {
        for (let index = 0; index < p[name].data.length; index++) {
          const step = zeros(p[name].shape);
          step.data[index] = 1e-6;
          const full = new Float64Array(x.data.length);
          kind.difference(layer, x, y, zero, p, { [name]: step }, full);
          const fast = new Float64Array(x.data.length);
          const [from, to] = kind.paramChange!(layer, x, y, p, name, index, 1e-6, fast);
          expect(maxDiff(fast, full)).toBe(0);
          for (let i = 0; i < full.length; i++) if (i < from * m || i >= to * m) expect(full[i]).toBe(0);
          expect(to - from).toBe(type === 'batchnorm' && shape.length === 3 ? shape[1] * shape[2] : 1);
        }
      }
    });
  }
});

// ---- backward in magnitudes ----------------------------------------------------------------------

describe('backwardMagnitude', () => {
  for (const [type, shape, m] of CASES.filter(([t]) => t !== 'dropout')) {
    it(`${type} on ${shape.join('×')}: the sum of |terms| of dx, term by term`, () => {
      const { layer, x, p, kind, rng } = setup(type, [...shape], m, 66);
      const dy = randomTensor(x.shape.slice(), rng);
      for (let i = 0; i < dy.data.length; i++) dy.data[i] = Math.abs(dy.data[i]);
      const got = kind.backwardMagnitude!(layer, x, kind.forward(layer, x, p), dy, p).data;
      // dx_i = Σ_j (∂y_j/∂x_i)·dy_j with ∂y_j/∂x_i = γ_j·r·(δ_ij − 1/N − x̂_i·x̂_j/N) within a
      // group: the three terms' magnitudes, summed over j, by brute force over the group's elements.
      const n = x.shape[0];
      const groupOf = (i: number) => {
        const row = Math.floor(i / m), c = i % m;
        if (type === 'layernorm') return c;
        return shape.length === 3 ? Math.floor(row / (shape[1] * shape[2])) : row;
      };
      const gammaOf = (i: number) => {
        const row = Math.floor(i / m);
        return type === 'layernorm' ? p.gamma.data[row] : p.gamma.data[groupOf(i)];
      };
      const members = new Map<number, number[]>();
      for (let i = 0; i < n * m; i++) members.set(groupOf(i), [...(members.get(groupOf(i)) ?? []), i]);
      const expected = new Float64Array(n * m);
      for (const group of members.values()) {
        const N = group.length;
        let mu = 0;
        for (const i of group) mu += x.data[i] / N;
        let v = 0;
        for (const i of group) v += (x.data[i] - mu) ** 2 / N;
        const r = 1 / Math.sqrt(v + 1e-5);
        for (const i of group) {
          let sum = 0;
          for (const j of group) {
            const d = Math.abs(gammaOf(j)) * dy.data[j], xi = (x.data[i] - mu) * r, xj = (x.data[j] - mu) * r;
            sum += (i === j ? r * d : 0) + r * d / N + r * Math.abs(xi * xj) * d / N;
          }
          expected[i] = sum;
        }
      }
      expect(relative(got, expected)).toBeLessThan(1e-13);
      // And it bounds the signed sum.
      const dx = kind.backward(layer, x, kind.forward(layer, x, p), dy, p, 1).dx().data;
      for (let i = 0; i < dx.length; i++) expect(Math.abs(dx[i])).toBeLessThanOrEqual(got[i] * (1 + 1e-12));
    });
  }
});

describe('paramMagnitudes', () => {
  for (const [type, shape, m] of CASES.filter(([t]) => t !== 'dropout')) {
    it(`${type} on ${shape.join('×')}: Σ |dy·x̂| for γ and Σ |dy| for β, from the signed x`, () => {
      const { layer, x, p, kind, rng } = setup(type, [...shape], m, 67);
      const y = kind.forward(layer, x, p);
      const dy = randomTensor(x.shape.slice(), rng);
      const signed = kind.backward(layer, x, y, dy, p, 1).dparams;
      for (let i = 0; i < dy.data.length; i++) dy.data[i] = Math.abs(dy.data[i]);
      const got = kind.paramMagnitudes!(layer, x, y, dy, p);
      // x̂ = (y − β)/γ element by element: the terms are dy·x̂ and dy, each taken in magnitude.
      // γ_k of a row: per feature (layer norm, flat batch norm), per channel (spatial batch norm).
      const paramOf = (row: number) => (type === 'batchnorm' && shape.length === 3 ? Math.floor(row / (shape[1] * shape[2])) : row);
      const gamma = new Float64Array(p.gamma.data.length), beta = new Float64Array(p.beta.data.length);
      for (let i = 0; i < x.data.length; i++) {
        const k = paramOf(Math.floor(i / m));
        const xhat = (y.data[i] - p.beta.data[k]) / p.gamma.data[k];
        gamma[k] += dy.data[i] * Math.abs(xhat);
        beta[k] += dy.data[i];
      }
      expect(relative(got.gamma().data, gamma)).toBeLessThan(1e-12);
      expect(relative(got.beta().data, beta)).toBeLessThan(1e-14);
      // And they bound the signed sums (with dy's signs).
      const g = signed.gamma().data;
      for (let k = 0; k < g.length; k++) expect(Math.abs(g[k])).toBeLessThanOrEqual(gamma[k] * (1 + 1e-12));
    });
  }
});

// ---- kinks --------------------------------------------------------------------------------------

describe('kinks', () => {
  it('batch norm has none of its own, but carries one sample’s crossing to every sample; layer norm and dropout keep samples apart', () => {
    for (const [type, shape, m] of CASES) {
      const { layer, x, kind } = setup(type, [...shape], m, 81);
      const dx = new Float64Array(x.data.length).fill(1e-3);
      const none = new Uint8Array(m);
      kind.kinks(layer, x, dx, 0, dx.length, none);
      expect(Array.from(none)).toEqual(new Array(m).fill(0));
      const one = new Uint8Array(m);
      one[1] = 1;
      kind.kinks(layer, x, dx, 0, dx.length, one);
      expect(Array.from(one)).toEqual(Array.from({ length: m }, (_, c) => (type === 'batchnorm' || c === 1 ? 1 : 0)));
    }
  });
});

// ---- health -------------------------------------------------------------------------------------

describe('health', () => {
  it('batch norm: the smallest variance before ε, ‖dγ‖₂ and the spread of γ', () => {
    const layer = layerOf('batchnorm', [2], { eps: 1e-5 });
    // Feature 0 varies by ±1 (σ² = 1), feature 1 by ±0.001 (σ² = 1e-6).
    const x = block([[1, -1, 1, -1], [2.001, 1.999, 2.001, 1.999]]);
    const p = { gamma: block([[1], [3]]), beta: block([[0], [0]]) };
    const g = { gamma: block([[3], [4]]), beta: block([[0], [0]]) };
    const h = batchnorm.health(layer, x, batchnorm.forward(layer, x, p), p, g);
    expect(h.minVariance).toBeCloseTo(1e-6, 15);
    expect(h.gradientNorm).toBeCloseTo(5, 14);
    expect(h.weightScale).toBeCloseTo(1, 14);
  });

  it('layer norm: the smallest variance over the samples', () => {
    const layer = layerOf('layernorm', [2], { eps: 1e-5 });
    const x = block([[1, 5], [3, 5.5]]);
    const p = { gamma: block([[1], [1]]), beta: block([[0], [0]]) };
    const h = layernorm.health(layer, x, layernorm.forward(layer, x, p), p, p);
    expect(h.minVariance).toBeCloseTo(0.0625, 15);
  });
});

// ---- the mistakes -------------------------------------------------------------------------------

describe('mistakes', () => {
  /** Each applicable mistake's dx (and parameter gradients) differs from backward's. */
  function expectDiffers(kind: LayerKind, layer: Layer, x: Tensor, p: TensorSet, dy: Tensor, id: string) {
    const mistake = kind.mistakes![id];
    expect(mistake.appliesTo ? mistake.appliesTo(layer, x.shape[1]) : true).toBe(true);
    const y = kind.forward(layer, x, p);
    const right = kind.backward(layer, x, y, dy, p, 0.5), wrong = mistake.backward(layer, x, y, dy, p, 0.5);
    const rdx = right.dx(), wdx = wrong.dx();
    expect(wdx.shape).toEqual(rdx.shape);
    expect(relative(wdx.data, rdx.data)).toBeGreaterThan(1e-6);
    for (const name of Object.keys(right.dparams)) expect(wrong.dparams[name]().shape).toEqual(right.dparams[name]().shape);
    return { right, wrong, y };
  }

  it('every kind lists the mistakes the issue names', () => {
    expect(Object.keys(batchnorm.mistakes).sort()).toEqual(['batchnorm-eps-missing', 'batchnorm-gamma-missing', 'batchnorm-simplified', 'batchnorm-spatial-axes', 'batchnorm-unbiased-variance']);
    expect(Object.keys(layernorm.mistakes)).toEqual(['layernorm-wrong-axis']);
    expect(Object.keys(dropout.mistakes).sort()).toEqual(['dropout-keep-missing', 'dropout-mask-missing', 'dropout-new-mask']);
  });

  it('batchnorm-simplified: dx = γ·dy/√(σ² + ε) exactly', () => {
    const { layer, x, p, rng } = setup('batchnorm', [3], 5, 71);
    const dy = randomTensor(x.shape.slice(), rng);
    const { wrong } = expectDiffers(batchnorm, layer, x, p, dy, 'batchnorm-simplified');
    const expected = new Float64Array(15);
    for (let f = 0; f < 3; f++) {
      const row = x.data.slice(f * 5, f * 5 + 5);
      const mu = row.reduce((a, b) => a + b, 0) / 5;
      const v = row.reduce((a, b) => a + (b - mu) ** 2, 0) / 5;
      for (let c = 0; c < 5; c++) expected[f * 5 + c] = (p.gamma.data[f] * dy.data[f * 5 + c]) / Math.sqrt(v + 1e-5);
    }
    expect(relative(wrong.dx().data, expected)).toBeLessThan(1e-14);
  });

  it('batchnorm-gamma-missing: dx is the right dx over γ (one per channel)', () => {
    const { layer, x, p, rng } = setup('batchnorm', [2, 2, 2], 3, 72);
    const dy = randomTensor(x.shape.slice(), rng);
    const { right, wrong } = expectDiffers(batchnorm, layer, x, p, dy, 'batchnorm-gamma-missing');
    const expected = right.dx().data.map((v, i) => v / p.gamma.data[Math.floor(i / 12)]);
    expect(relative(wrong.dx().data, expected)).toBeLessThan(1e-13);
    expect(maxDiff(wrong.dparams.gamma().data, right.dparams.gamma().data)).toBe(0);
  });

  it('batchnorm-eps-missing: backward as the right one with ε = 0', () => {
    const { layer, x, p, rng } = setup('batchnorm', [3], 4, 73);
    // A small variance makes ε matter beyond the 1e-6 threshold.
    for (let i = 0; i < 4; i++) x.data[i] = 0.5 + 0.003 * rng.normal();
    const dy = randomTensor(x.shape.slice(), rng);
    const { wrong, y } = expectDiffers(batchnorm, layer, x, p, dy, 'batchnorm-eps-missing');
    const noEps = { ...layer, eps: 0 };
    const fresh = { shape: x.shape, data: Float64Array.from(x.data) };
    expect(maxDiff(wrong.dx().data, batchnorm.backward(noEps, fresh, y, dy, p, 0.5).dx().data)).toBe(0);
  });

  it('batchnorm-unbiased-variance: backward as the right one on variance N/(N − 1) times larger; not for N = 1', () => {
    const { layer, x, p, rng } = setup('batchnorm', [2], 4, 74);
    const dy = randomTensor(x.shape.slice(), rng);
    const { wrong } = expectDiffers(batchnorm, layer, x, p, dy, 'batchnorm-unbiased-variance');
    // Its own 1/σ and x̂ from σ²·N/(N − 1) + ε, in dx and in dγ, as numbers.
    const N = 4, dx = new Float64Array(8), dgamma = [0, 0];
    for (let f = 0; f < 2; f++) {
      const row = Array.from(x.data.slice(f * N, f * N + N)), d = Array.from(dy.data.slice(f * N, f * N + N));
      const mu = row.reduce((s, v) => s + v, 0) / N;
      const r = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / (N - 1) + 1e-5);
      const xh = row.map((v) => (v - mu) * r), g = d.map((v) => p.gamma.data[f] * v);
      const m1 = g.reduce((s, v) => s + v, 0) / N, m2 = g.reduce((s, v, j) => s + v * xh[j], 0) / N;
      for (let c = 0; c < N; c++) dx[f * N + c] = r * (g[c] - m1 - xh[c] * m2);
      dgamma[f] = 0.5 * d.reduce((s, v, j) => s + v * xh[j], 0);
    }
    expect(relative(wrong.dx().data, dx)).toBeLessThan(1e-13);
    expect(relative(wrong.dparams.gamma().data, dgamma)).toBeLessThan(1e-13);
    expect(batchnorm.mistakes['batchnorm-unbiased-variance'].appliesTo!(layerOf('batchnorm', [2]), 1)).toBe(false);
    expect(batchnorm.mistakes['batchnorm-unbiased-variance'].appliesTo!(layerOf('batchnorm', [2, 2, 1]), 1)).toBe(true);
  });

  it('batchnorm-spatial-axes: the dense formula on the flattened rows; applies to images only', () => {
    const { layer, x, p, rng } = setup('batchnorm', [2, 1, 3], 4, 75);
    const dy = randomTensor(x.shape.slice(), rng);
    const { wrong } = expectDiffers(batchnorm, layer, x, p, dy, 'batchnorm-spatial-axes');
    // The flat batch norm over the 6 rows, each with its channel's γ.
    const flat = layerOf('batchnorm', [6], { eps: 1e-5 });
    const gammaRows = { gamma: block([0, 0, 0, 1, 1, 1].map((c) => [p.gamma.data[c]])), beta: block([[0], [0], [0], [0], [0], [0]]) };
    const fresh = { shape: x.shape, data: Float64Array.from(x.data) };
    const dense = batchnorm.backward(flat, fresh, x, dy, gammaRows, 0.5);
    expect(maxDiff(wrong.dx().data, dense.dx().data)).toBeLessThan(1e-15);
    const perRow = dense.dparams.gamma().data;
    expect(relative(wrong.dparams.gamma().data, [perRow[0] + perRow[1] + perRow[2], perRow[3] + perRow[4] + perRow[5]])).toBeLessThan(1e-14);
    expect(batchnorm.mistakes['batchnorm-spatial-axes'].appliesTo!(layerOf('batchnorm', [6]), 4)).toBe(false);
    expect(batchnorm.mistakes['batchnorm-spatial-axes'].appliesTo!(layerOf('batchnorm', [6, 1, 1]), 4)).toBe(false);
  });

  it('layernorm-wrong-axis: the means of dx over the samples', () => {
    const { layer, x, p, rng } = setup('layernorm', [3], 4, 76);
    const dy = randomTensor(x.shape.slice(), rng);
    const { wrong, right } = expectDiffers(layernorm, layer, x, p, dy, 'layernorm-wrong-axis');
    // The per-sample x̂ and r, then batch norm's formula over each feature's samples, as numbers.
    const m = 4, expected = new Float64Array(12), r = new Float64Array(m), xh = new Float64Array(12);
    for (let c = 0; c < m; c++) {
      const col = [0, 1, 2].map((f) => x.data[f * m + c]);
      const mu = (col[0] + col[1] + col[2]) / 3;
      r[c] = 1 / Math.sqrt(col.reduce((a, b) => a + (b - mu) ** 2, 0) / 3 + 1e-5);
      for (let f = 0; f < 3; f++) xh[f * m + c] = (col[f] - mu) * r[c];
    }
    for (let f = 0; f < 3; f++) {
      let m1 = 0, m2 = 0;
      for (let c = 0; c < m; c++) { const d = p.gamma.data[f] * dy.data[f * m + c]; m1 += d / m; m2 += (d * xh[f * m + c]) / m; }
      for (let c = 0; c < m; c++) expected[f * m + c] = r[c] * (p.gamma.data[f] * dy.data[f * m + c] - m1 - xh[f * m + c] * m2);
    }
    expect(relative(wrong.dx().data, expected)).toBeLessThan(1e-13);
    expect(maxDiff(wrong.dparams.gamma().data, right.dparams.gamma().data)).toBe(0);
  });

  it('dropout: mask missing is dy itself, keep missing dy·mask, a new mask is another mask, the same each time', () => {
    const { layer, x, p, rng } = setup('dropout', [4], 8, 77);
    const dy = randomTensor(x.shape.slice(), rng);
    const { right } = expectDiffers(dropout, layer, x, p, dy, 'dropout-mask-missing');
    const mask = layer.mask!.data;
    expect(maxDiff(dropout.mistakes['dropout-mask-missing'].backward(layer, x, x, dy, p, 1).dx().data, dy.data)).toBe(0);
    expectDiffers(dropout, layer, x, p, dy, 'dropout-keep-missing');
    expect(maxDiff(dropout.mistakes['dropout-keep-missing'].backward(layer, x, x, dy, p, 1).dx().data, dy.data.map((v, i) => v * mask[i]))).toBe(0);
    expect(relative(right.dx().data, dy.data.map((v, i) => (v * mask[i]) / 0.7))).toBeLessThan(1e-15);
    expectDiffers(dropout, layer, x, p, dy, 'dropout-new-mask');
    const renew = () => dropout.mistakes['dropout-new-mask'].backward(layer, x, x, dy, p, 1).dx().data;
    const once = renew();
    expect(maxDiff(renew(), once)).toBe(0);
    // Its values are dy/keep where the new mask keeps and 0 elsewhere, not where the old one did.
    let elsewhere = 0;
    for (let i = 0; i < once.length; i++) {
      expect(once[i] === 0 || once[i] === dy.data[i] * (1 / 0.7)).toBe(true);
      if ((once[i] !== 0) !== (mask[i] !== 0)) elsewhere++;
    }
    expect(elsewhere).toBeGreaterThan(0);
    const keepAll = { ...layer, keep: 1, mask: drawMask(4, 8, 1, 3) };
    expect(dropout.mistakes['dropout-keep-missing'].appliesTo!(keepAll, 8)).toBe(false);
    expect(dropout.mistakes['dropout-new-mask'].appliesTo!(keepAll, 8)).toBe(false);
    expect(dropout.mistakes['dropout-mask-missing'].appliesTo!(keepAll, 8)).toBe(false);
  });
});

// ---- through the network ------------------------------------------------------------------------

describe('in a network', () => {
  it('dense → batch norm → dense → layer norm → dropout → dense: backprop agrees with the naive differences', () => {
    const rng = new Random(91);
    const tanh = namedActivation('tanh')!, sigmoid = namedActivation('sigmoid')!;
    const m = 5;
    const layers: Layer[] = [
      { units: 4, inputs: 3, activation: tanh, bias: true },
      layerOf('batchnorm', [4], { eps: 1e-5 }),
      { units: 3, inputs: 4, activation: linear, bias: true },
      layerOf('layernorm', [3], { eps: 1e-5 }),
      layerOf('dropout', [3], { keep: 0.75, mask: drawMask(3, m, 0.75, 12) }),
      { units: 2, inputs: 3, activation: sigmoid, bias: true },
    ];
    const model: Model = { inputs: 3, layers, loss: namedLoss('mean_squared_error')!, reduction: 'mean', l2: { kind: 'none' }, init: { scheme: 'normal', scale: 1, seed: 0 } };
    const params: Params = layers.map((layer) => Object.fromEntries(kindOf(layer).params(layer).map((spec) => [spec.name, randomTensor(spec.shape, rng, 0.6, spec.name === 'gamma' ? 1 : 0)])));
    const X = randomTensor([3, m], rng), Y = randomTensor([2, m], rng);
    const fwd = forward(model, params, X, Y);
    const grads = backward(model, params, fwd, Y, correctPlan(model));
    const naive = new NaiveDifferences(model, params, fwd, Y);
    // A small step: the differences are cancellation-free, and tanh → batch norm curves enough
    // that 1e-5 leaves 4e-8 of truncation in W1.
    const h = 1e-6;
    for (const l of [0, 1, 2, 3, 5]) {
      for (const name of Object.keys(params[l])) {
        const t = params[l][name], cols = t.shape[1];
        const numeric = t.data.map((_v, i) => (naive.costChange(l, name, Math.floor(i / cols), i % cols, h) - naive.costChange(l, name, Math.floor(i / cols), i % cols, -h)) / (2 * h));
        expect(relative(grads[l][name].data, numeric)).toBeLessThan(1e-8);
      }
    }
    expect(Object.keys(grads[1])).toEqual(['gamma', 'beta']);
    expect(Object.keys(grads[4])).toEqual([]);
  });

  it('a ReLU kink crossed in one sample between two batch norms: the refined difference is the derivative', () => {
    const rng = new Random(92);
    const relu = namedActivation('relu')!, sigmoid = namedActivation('sigmoid')!;
    const m = 6;
    const layers: Layer[] = [
      { units: 4, inputs: 3, activation: linear, bias: true },
      { ...layerOf('batchnorm', [4], { eps: 1e-5 }), activation: relu },
      layerOf('batchnorm', [4], { eps: 1e-5 }),
      { units: 2, inputs: 4, activation: sigmoid, bias: true },
    ];
    const model: Model = { inputs: 3, layers, loss: namedLoss('mean_squared_error')!, reduction: 'mean', l2: { kind: 'none' }, init: { scheme: 'normal', scale: 1, seed: 0 } };
    const params: Params = layers.map((layer) => Object.fromEntries(kindOf(layer).params(layer).map((spec) => [spec.name, randomTensor(spec.shape, rng, 0.6, spec.name === 'gamma' ? 1 : 0)])));
    const X = randomTensor([3, m], rng), Y = randomTensor([2, m], rng);
    // β2[0] puts sample 0's unit 0 3e-7 above the ReLU's kink, so a step of 1e-5 crosses it.
    params[1].beta.data[0] += 3e-7 - forward(model, params, X, Y).Z[1].data[0];
    const fwd = forward(model, params, X, Y);
    for (let c = 1; c < m; c++) expect(Math.abs(fwd.Z[1].data[c])).toBeGreaterThan(1e-3);
    const grads = backward(model, params, fwd, Y, correctPlan(model));
    const difference = new NaiveDifferences(model, params, fwd, Y).element(1, 'beta', 0, 0, 1e-5);
    expect(difference.refined).toBe(true);
    // Unrefined, the other samples' quotients would carry sample 0's two slopes through the second
    // batch norm’s statistics: an error of 0.2 here.
    expect(Math.abs(difference.numeric - grads[1].beta.data[0]) / Math.abs(grads[1].beta.data[0])).toBeLessThan(1e-6);
  });

  describe('a CNN with every norm kind: conv → batch norm (spatial), relu → flatten → layer norm → dropout → dense', () => {
    // input 1×4×4 → conv 2@3×3 padding 1 → batchnorm per channel, relu → flatten → layernorm over
    // 32 features → dropout keep 0.75 → dense 3, sigmoid; MSE, mean.
    const m = 5;
    const conv: Layer = { type: 'conv2d', units: 32, inputs: 16, activation: linear, bias: true, inShape: [1, 4, 4], outShape: [2, 4, 4], kernel: [3, 3], stride: [1, 1], padding: [1, 1], filters: 2 };
    const layers: Layer[] = [
      conv,
      { ...layerOf('batchnorm', [2, 4, 4], { eps: 1e-5 }), activation: namedActivation('relu')! },
      { type: 'flatten', units: 32, inputs: 32, activation: linear, bias: false, inShape: [2, 4, 4], outShape: [32] },
      layerOf('layernorm', [32], { eps: 1e-5 }),
      layerOf('dropout', [32], { keep: 0.75, mask: drawMask(32, m, 0.75, 8) }),
      { units: 3, inputs: 32, activation: namedActivation('sigmoid')!, bias: true },
    ];
    const model: Model = { inputs: 16, layers, loss: namedLoss('mean_squared_error')!, reduction: 'mean', l2: { kind: 'none' }, init: { scheme: 'normal', scale: 1, seed: 0 } };
    const rng = new Random(93);
    const params: Params = layers.map((layer) => Object.fromEntries(kindOf(layer).params(layer).map((spec) => [spec.name, randomTensor(spec.shape, rng, 0.5, spec.name === 'gamma' ? 1 : 0)])));
    const X = randomTensor([16, m], rng), Y = randomTensor([3, m], rng);
    const fwd = forward(model, params, X, Y);
    const naive = new NaiveDifferences(model, params, fwd, Y);
    const labels = layers.flatMap((layer, l) => kindOf(layer).params(layer).map((spec) => ({ l, name: spec.name, label: `${spec.name}${l + 1}` })));
    const numeric = Object.fromEntries(labels.map(({ l, name, label }) => {
      const cols = params[l][name].shape[1];
      return [label, params[l][name].data.map((_v, i) => naive.element(l, name, Math.floor(i / cols), i % cols, 1e-6).numeric)];
    }));
    // b1 is 0 exactly (batch norm removes a shift of its channel): its error is measured against the tensor scale.
    const errors = (grads: Params) => Object.fromEntries(labels.map(({ l, name, label }) =>
      [label, label === 'b1' ? maxDiff(grads[l][name].data, numeric[label]) / norm2(numeric.W1) : relative(grads[l][name].data, numeric[label])]));

    it('correct backprop agrees with the naive differences on every tensor', () => {
      const grads = backward(model, params, fwd, Y, correctPlan(model));
      expect(labels.map((t) => t.label)).toEqual(['W1', 'b1', 'gamma2', 'beta2', 'gamma4', 'beta4', 'W6', 'b6']);
      for (const [label, error] of Object.entries(errors(grads))) expect(error, label).toBeLessThan(1e-7);
    });

    it('each mistake injected through backprop’s hook puts off exactly the tensors it reaches', () => {
      // A mistake in an entry's dx puts off every tensor below it; one that also changes the
      // entry's dγ puts that off too; the tensors at and above it stay right. b1 stays 0 below a
      // batch norm whose dx sums to 0 over each channel, as every form but the simplified one does.
      const below2 = ['W1', 'b1'], below4 = ['W1', 'gamma2', 'beta2'], below5 = [...below4, 'gamma4', 'beta4'];
      const cases: [number, string, string[]][] = [
        [1, 'batchnorm-simplified', below2],
        [1, 'batchnorm-gamma-missing', ['W1']],
        [1, 'batchnorm-unbiased-variance', ['W1', 'gamma2']],
        [1, 'batchnorm-eps-missing', ['W1', 'gamma2']],
        [1, 'batchnorm-spatial-axes', ['W1', 'gamma2']],
        [3, 'layernorm-wrong-axis', below4],
        [4, 'dropout-mask-missing', below5],
        [4, 'dropout-keep-missing', below5],
        [4, 'dropout-new-mask', below5],
      ];
      for (const [l, id, off] of cases) {
        const net = netOf(model, params, fwd, Y);
        const chain = correctChain(net);
        chain.layers[l].mistake = id;
        const err = errors(evaluate(net, chain).grads);
        expect(Object.keys(err).filter((label) => err[label] > 1e-6), id).toEqual(off);
        expect(Math.max(...Object.keys(err).filter((label) => !off.includes(label)).map((label) => err[label])), id).toBeLessThan(1e-7);
      }
    });
  });
});
