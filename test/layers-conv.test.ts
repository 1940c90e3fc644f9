// The conv2d, maxpool2d and avgpool2d records, and flatten's mistake: forward against hand-computed
// windows and against PyTorch float64 (fixtures/golden/layers/conv.json, written by
// scripts/conv_golden.py; regenerate with /usr/bin/python3 scripts/conv_golden.py); backward against
// central differences of forward; the cancellation-free differences against forward(x + δx) −
// forward(x) and against the fast path's differenceRows / paramChange; max-pooling's kinks; each
// backprop mistake against the right backward.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backward, correctChain, correctPlan, evaluate, netOf } from '../src/core/backprop.js';
import { naiveSource } from '../src/core/differences/naive.js';
import { forward } from '../src/core/forward.js';
import { conv2d } from '../src/core/layers/conv2d.js';
import { identity } from '../src/core/layers/identity.js';
import { kindOf } from '../src/core/layers/index.js';
import type { Layer, LayerKind, LayerType, TensorSet } from '../src/core/layers/kind.js';
import { avgpool2d, maxpool2d } from '../src/core/layers/pool.js';
import { outputSize } from '../src/core/layers/shapes.js';
import { paramLabel, type Grads, type Model, type Params } from '../src/core/model.js';
import { Random } from '../src/core/random.js';
import { namedActivation } from '../src/core/records/activations.js';
import { namedLoss } from '../src/core/records/losses.js';
import { size, type Tensor } from '../src/core/tensor.js';

const linear = namedActivation('linear')!;

interface Geometry {
  type: 'conv2d' | 'maxpool2d' | 'avgpool2d';
  inShape: [number, number, number];
  kernel: [number, number];
  stride: [number, number];
  padding?: [number, number];
  filters?: number;
  bias?: boolean;
}

/** The Layer io/ makes of a windowed net.json entry. */
function layerOf(g: Geometry): Layer {
  const [C, H, W] = g.inShape;
  const pad = g.padding ?? [0, 0];
  const Ho = outputSize(H, g.kernel[0], g.stride[0], pad[0]), Wo = outputSize(W, g.kernel[1], g.stride[1], pad[1]);
  if (Ho === null || Wo === null) throw new Error(`test geometry does not tile: ${JSON.stringify(g)}`);
  const F = g.type === 'conv2d' ? g.filters! : C;
  const outShape = [F, Ho, Wo];
  return {
    type: g.type, units: size(outShape), inputs: C * H * W, activation: linear, bias: g.bias ?? false,
    inShape: g.inShape, outShape, kernel: g.kernel, stride: g.stride,
    ...(g.type === 'conv2d' ? { padding: pad, filters: F } : {}),
  };
}

const KINDS: Record<Geometry['type'], LayerKind> = { conv2d, maxpool2d, avgpool2d };

function tensor(shape: number[], values: ArrayLike<number>): Tensor {
  return { shape, data: Float64Array.from(values) };
}

function randomTensor(rng: Random, shape: number[], scale = 1): Tensor {
  const t = tensor(shape, new Float64Array(size(shape)));
  for (let i = 0; i < t.data.length; i++) t.data[i] = scale * rng.normal();
  return t;
}

function randomParams(rng: Random, kind: LayerKind, layer: Layer): Record<string, Tensor> {
  return Object.fromEntries(kind.params(layer).map((p) => [p.name, randomTensor(rng, p.shape, 0.5)]));
}

/** max |a − b| / max |b|: the normwise relative error. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(b[i])); }
  return s === 0 ? d : d / s;
}

function gradients(kind: LayerKind, layer: Layer, x: Tensor, p: TensorSet, dy: Tensor, mistake?: string): Record<string, Float64Array> {
  const y = kind.forward(layer, x, p);
  const back = mistake ? kind.mistakes![mistake].backward(layer, x, y, dy, p, 1) : kind.backward(layer, x, y, dy, p, 1);
  const out: Record<string, Float64Array> = { dx: back.dx().data };
  for (const [name, g] of Object.entries(back.dparams)) out[`d${name}`] = g().data;
  return out;
}

// Geometries covering stride, padding, non-square kernels, overlap and gaps between windows.
const CONV: Geometry[] = [
  { type: 'conv2d', inShape: [2, 5, 5], kernel: [3, 3], stride: [1, 1], padding: [0, 0], filters: 3, bias: true },
  { type: 'conv2d', inShape: [2, 7, 7], kernel: [3, 2], stride: [2, 1], padding: [1, 0], filters: 2, bias: true },
  { type: 'conv2d', inShape: [1, 6, 6], kernel: [3, 3], stride: [1, 1], padding: [1, 1], filters: 4, bias: true },
  { type: 'conv2d', inShape: [3, 5, 5], kernel: [1, 1], stride: [2, 2], padding: [0, 0], filters: 2, bias: false },
  { type: 'conv2d', inShape: [2, 8, 8], kernel: [4, 4], stride: [2, 2], padding: [2, 2], filters: 2, bias: true },
];
const POOL: Geometry[] = (['maxpool2d', 'avgpool2d'] as const).flatMap((type) => [
  { type, inShape: [2, 4, 4], kernel: [2, 2], stride: [2, 2] },
  { type, inShape: [2, 5, 5], kernel: [3, 3], stride: [2, 2] },
  { type, inShape: [1, 4, 5], kernel: [2, 3], stride: [1, 1] },
  { type, inShape: [2, 8, 5], kernel: [2, 2], stride: [3, 3] },
] satisfies Geometry[]);
const ALL = [...CONV, ...POOL];
const name = (g: Geometry) => `${g.type} ${g.inShape.join('×')} kernel ${g.kernel.join('×')} stride ${g.stride.join('×')}${g.padding ? ` padding ${g.padding.join('×')}` : ''}`;

describe('windowed records: hand-computed windows', () => {
  // x = 1 … 9 as a 3 × 3 image, one sample.
  const x = tensor([9, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]);

  it('conv2d is a cross-correlation: W[0,0]·x[i,j] + W[1,1]·x[i+1,j+1], not the flipped kernel', () => {
    const layer = layerOf({ type: 'conv2d', inShape: [1, 3, 3], kernel: [2, 2], stride: [1, 1], padding: [0, 0], filters: 1, bias: true });
    // W = [[1, 0], [0, −1]], b = 0.5: y[i,j] = x[i,j] − x[i+1,j+1] + 0.5 = −4 + 0.5 everywhere
    // (a convolution would give x[i+1,j+1] − x[i,j] + 0.5 = 4.5).
    const y = conv2d.forward(layer, x, { W: tensor([1, 1, 2, 2], [1, 0, 0, -1]), b: tensor([1, 1], [0.5]) });
    expect(Array.from(y.data)).toEqual([-3.5, -3.5, -3.5, -3.5]);
  });

  it('conv2d pads with zeros and strides: a 3×3 kernel of ones, padding 1, stride 2', () => {
    const layer = layerOf({ type: 'conv2d', inShape: [1, 3, 3], kernel: [3, 3], stride: [2, 2], padding: [1, 1], filters: 1 });
    // Each output sums the 2 × 2 corner of x its padded window covers: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
    const y = conv2d.forward(layer, x, { W: tensor([1, 1, 3, 3], new Array(9).fill(1)) });
    expect(Array.from(y.data)).toEqual([12, 16, 24, 28]);
  });

  // A 4 × 4 image; the last window holds a tie (9 at (2, 2) and (3, 3)).
  const image = tensor([16, 1], [1, 3, 2, 4, 5, 0, 1, 1, 2, 2, 9, 8, 0, 7, 8, 9]);
  const pool = (type: 'maxpool2d' | 'avgpool2d') => layerOf({ type, inShape: [1, 4, 4], kernel: [2, 2], stride: [2, 2] });

  it('maxpool2d takes each window’s maximum and routes dy to its first maximum (PyTorch’s choice on a tie)', () => {
    const layer = pool('maxpool2d');
    const y = maxpool2d.forward(layer, image, {});
    expect(Array.from(y.data)).toEqual([5, 4, 7, 9]);
    const dx = maxpool2d.backward(layer, image, y, tensor([4, 1], [1, 2, 3, 4]), {}, 1).dx();
    // dy lands on (1, 0), (0, 3), (3, 1) and the first 9, (2, 2).
    expect(Array.from(dx.data)).toEqual([0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 4, 0, 0, 3, 0, 0]);
  });

  it('avgpool2d averages each window and spreads dy/4 over it', () => {
    const layer = pool('avgpool2d');
    const y = avgpool2d.forward(layer, image, {});
    expect(Array.from(y.data)).toEqual([9 / 4, 8 / 4, 11 / 4, 34 / 4]);
    const dx = avgpool2d.backward(layer, image, y, tensor([4, 1], [4, 8, 12, 16]), {}, 1).dx();
    expect(Array.from(dx.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('conv2d declares W (filters, C, kh, kw) and b (filters, 1), its work and its He/Xavier scale', () => {
    const layer = { ...layerOf(CONV[1]), activation: namedActivation('relu')! };
    expect(conv2d.params(layer)).toEqual([{ name: 'W', shape: [2, 2, 3, 2] }, { name: 'b', shape: [2, 1] }]);
    expect(conv2d.params(layerOf(CONV[3]))).toEqual([{ name: 'W', shape: [2, 3, 1, 1] }]);
    expect(conv2d.work(layer)).toBe(2 * 2 * 3 * 2 * 4 * 6);
    expect(maxpool2d.work(layerOf(POOL[1]))).toBe(2 * 2 * 2 * 9);
    const p = { W: tensor([2, 2, 3, 2], [...new Array(12).fill(1), ...new Array(12).fill(-1)]), b: tensor([2, 1], [0, 0]) };
    const g = { W: tensor([2, 2, 3, 2], new Array(24).fill(0.5)), b: tensor([2, 1], [0, 0]) };
    const health = conv2d.health(layer, tensor([98, 1], new Array(98).fill(0)), tensor([48, 1], new Array(48).fill(0)), p, g);
    expect(health).toEqual({ gradientNorm: Math.sqrt(24 * 0.25), weightScale: 1, recommendedScale: Math.sqrt(2 / 12) });
  });

  it('index.ts maps the types to the records', () => {
    for (const type of ['conv2d', 'maxpool2d', 'avgpool2d', 'flatten'] as LayerType[]) {
      expect(kindOf({ ...layerOf(CONV[0]), type }).name).toBe(type === 'flatten' ? 'identity' : type);
    }
  });
});

describe('windowed records against PyTorch float64 (fixtures/golden/layers/conv.json)', () => {
  interface Case extends Geometry { name: string; outShape: number[]; m: number; x: number[]; dy: number[]; y: number[]; dx: number[]; W?: number[]; dW?: number[]; b?: number[]; db?: number[] }
  const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/layers/conv.json', import.meta.url), 'utf8')) as { cases: Case[] };

  it('holds conv cases with stride and padding, pooling with overlap, gaps and ties', () => {
    expect(golden.cases.filter((c) => c.type === 'conv2d').length).toBeGreaterThanOrEqual(5);
    expect(golden.cases.filter((c) => c.name.includes('ties')).length).toBe(2);
  });

  for (const c of golden.cases) {
    it(c.name, () => {
      const layer = layerOf(c);
      expect(layer.outShape).toEqual(c.outShape);
      const kind = KINDS[c.type];
      const x = tensor([layer.inputs, c.m], c.x), dy = tensor([layer.units, c.m], c.dy);
      const p: Record<string, Tensor> = {};
      if (c.W) p.W = tensor(kind.params(layer)[0].shape, c.W);
      if (c.b) p.b = tensor([c.b.length, 1], c.b);
      const y = kind.forward(layer, x, p);
      expect(relativeError(y.data, c.y)).toBeLessThanOrEqual(1e-12);
      const g = gradients(kind, layer, x, p, dy);
      expect(relativeError(g.dx, c.dx)).toBeLessThanOrEqual(1e-12);
      if (c.dW) expect(relativeError(g.dW, c.dW)).toBeLessThanOrEqual(1e-12);
      if (c.db) expect(relativeError(g.db, c.db)).toBeLessThanOrEqual(1e-12);
      expect(Object.keys(g).sort()).toEqual(['dx', ...(c.W ? ['dW'] : []), ...(c.b ? ['db'] : [])].sort());
    });
  }
});

/** ⟨dy, f(x)⟩ for the kind at x and params p. */
function projected(kind: LayerKind, layer: Layer, x: Tensor, p: TensorSet, dy: Tensor): number {
  const y = kind.forward(layer, x, p);
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += dy.data[i] * y.data[i];
  return s;
}

/** (⟨dy, f(t + h)⟩ − ⟨dy, f(t − h)⟩)/(2h) for every element of t, the original value written back. */
function centralDifferences(t: Tensor, at: () => number, h: number): Float64Array {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) {
    const keep = t.data[i];
    (t.data as Float64Array)[i] = keep + h; const plus = at();
    (t.data as Float64Array)[i] = keep - h; const minus = at();
    (t.data as Float64Array)[i] = keep;
    out[i] = (plus - minus) / (2 * h);
  }
  return out;
}

describe('backward = central differences of forward', () => {
  for (const [i, g] of ALL.entries()) {
    it(name(g), () => {
      const rng = new Random(10 + i);
      const layer = layerOf(g), kind = KINDS[g.type];
      const m = 3;
      const x = randomTensor(rng, [layer.inputs, m]), dy = randomTensor(rng, [layer.units, m]);
      const p = randomParams(rng, kind, layer);
      const back = gradients(kind, layer, x, p, dy);
      const at = () => projected(kind, layer, x, p, dy);
      // Continuous random inputs: no max-pool tie lies within 1e-5 of a step.
      expect(relativeError(back.dx, centralDifferences(x, at, 1e-5))).toBeLessThan(1e-8);
      for (const [name, t] of Object.entries(p)) expect(relativeError(back[`d${name}`], centralDifferences(t, at, 1e-5))).toBeLessThan(1e-8);
    });
  }
});

describe('difference: cancellation-free, and the fast path gives its numbers', () => {
  for (const [i, g] of ALL.entries()) {
    const layer = layerOf(g), kind = KINDS[g.type];
    const m = 4;
    const setup = (seed: number) => {
      const rng = new Random(seed);
      const x = randomTensor(rng, [layer.inputs, m]), p = randomParams(rng, kind, layer);
      return { rng, x, p, y: kind.forward(layer, x, p) };
    };

    it(`${name(g)}: δy = f(x + δx; θ) − f(x; θ) and f(x; θ + δθ) − f(x; θ)`, () => {
      const { rng, x, p, y } = setup(100 + i);
      const shifted = (t: Tensor, d: Tensor) => tensor(t.shape as number[], t.data.map((v, k) => v + d.data[k]));
      // Steps large enough to move max-pool argmaxes: the difference must hold across them too.
      // One change at a time, as the finite differences make them (δW·δx is not a term).
      const dx = randomTensor(rng, x.shape as number[], 0.3);
      const dp = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, randomTensor(rng, t.shape as number[], 0.1)]));
      const changes: [Tensor, TensorSet | null, Tensor, TensorSet][] = [[dx, null, shifted(x, dx), p]];
      if (Object.keys(dp).length) changes.push([tensor(x.shape as number[], new Float64Array(x.data.length)), dp, x, Object.fromEntries(Object.entries(p).map(([k, t]) => [k, shifted(t, dp[k])]))]);
      for (const [d, dθ, movedX, movedP] of changes) {
        const out = new Float64Array(y.data.length).fill(NaN);
        kind.difference(layer, x, y, d.data, p, dθ, out);
        const after = kind.forward(layer, movedX, movedP).data;
        expect(relativeError(out, after.map((v, k) => v - y.data[k])), dθ ? 'δθ' : 'δx').toBeLessThan(1e-13);
      }
    });

    it(`${name(g)}: differenceRows equals difference on a change in some rows`, () => {
      const { rng, x, p, y } = setup(200 + i);
      const plane = g.inShape[1] * g.inShape[2];
      const ranges: [number, number][] = [[0, 1], [plane - 1, Math.min(plane + 1, layer.inputs)], [Math.floor(plane / 2), plane], [0, layer.inputs], [layer.inputs - 2, layer.inputs]];
      for (const rows of ranges) {
        const dx = new Float64Array(x.data.length);
        for (let k = rows[0] * m; k < rows[1] * m; k++) dx[k] = 0.3 * rng.normal();
        const want = new Float64Array(y.data.length).fill(NaN);
        kind.difference(layer, x, y, dx, p, null, want);
        const out = new Float64Array(y.data.length);
        const [from, to] = kind.differenceRows!(layer, x, y, dx, rows, p, out);
        expect(Array.from(out), `rows ${rows}`).toEqual(Array.from(want));
        // Every row outside the range returned is unchanged, and inside it some row changed.
        for (let k = 0; k < want.length; k++) if (want[k] !== 0) expect(k >= from * m && k < to * m, `row ${Math.floor(k / m)} outside [${from}, ${to})`).toBe(true);
      }
    });

    if (g.type === 'conv2d') {
      it(`${name(g)}: paramChange equals difference on one parameter moved`, () => {
        const { x, p, y } = setup(300 + i);
        for (const spec of kind.params(layer)) {
          for (let index = 0; index < size(spec.shape); index++) {
            const step = tensor(spec.shape, new Float64Array(size(spec.shape)));
            step.data[index] = 1e-3;
            const want = new Float64Array(y.data.length).fill(NaN);
            kind.difference(layer, x, y, new Float64Array(x.data.length), p, { [spec.name]: step }, want);
            const out = new Float64Array(y.data.length);
            const [from, to] = kind.paramChange!(layer, x, y, p, spec.name, index, 1e-3, out);
            expect(Array.from(out), `${spec.name}[${index}]`).toEqual(Array.from(want));
            for (let k = 0; k < want.length; k++) if (want[k] !== 0) expect(k >= from * m && k < to * m).toBe(true);
            // Only the filter the element belongs to changes: H'·W' rows.
            expect(to - from).toBe(layer.outShape![1] * layer.outShape![2]);
          }
        }
      });
    }
  }

  it('differenceRows of no rows changes nothing', () => {
    for (const g of ALL) {
      const layer = layerOf(g), kind = KINDS[g.type];
      const x = randomTensor(new Random(6), [layer.inputs, 2]), p = randomParams(new Random(6), kind, layer);
      const out = new Float64Array(layer.units * 2);
      const [from, to] = kind.differenceRows!(layer, x, kind.forward(layer, x, p), new Float64Array(x.data.length), [3, 3], p, out);
      expect(to - from, name(g)).toBe(0);
      expect(out.every((v) => v === 0)).toBe(true);
    }
  });

  it('differenceRows of a change between windows (stride larger than the window) changes nothing', () => {
    const layer = layerOf(POOL[3]), x = randomTensor(new Random(5), [layer.inputs, 2]);
    const y = maxpool2d.forward(layer, x, {});
    // Row 2 of channel 0 lies between the windows at rows 0–1 and 3–4.
    const rows: [number, number] = [2 * 5, 3 * 5];
    const dx = new Float64Array(x.data.length).fill(0);
    for (let k = rows[0] * 2; k < rows[1] * 2; k++) dx[k] = 1;
    const out = new Float64Array(y.data.length);
    const [from, to] = maxpool2d.differenceRows!(layer, x, y, dx, rows, {}, out);
    expect(to - from).toBe(0);
    expect(out.every((v) => v === 0)).toBe(true);
  });
});

describe('maxpool2d kinks', () => {
  const layer = layerOf({ type: 'maxpool2d', inShape: [2, 4, 4], kernel: [3, 3], stride: [1, 1] });
  const m = 5;

  /** Whether any window's first maximum moves from x to x + δx: an independent reading of y = max. */
  function argmaxMoves(x: Float64Array, dx: Float64Array, n: number): boolean {
    for (let c = 0; c < 2; c++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      const cells = [0, 1, 2].flatMap((u) => [0, 1, 2].map((v) => ((c * 4 + i + u) * 4 + j + v) * m + n));
      const first = (vals: number[]) => vals.indexOf(Math.max(...vals));
      if (first(cells.map((k) => x[k])) !== first(cells.map((k) => x[k] + dx[k]))) return true;
    }
    return false;
  }

  it('flags exactly the samples whose step moves an argmax, and the others difference as δx at the argmax', () => {
    const rng = new Random(42);
    let flagged = 0;
    for (let trial = 0; trial < 40; trial++) {
      const x = randomTensor(rng, [32, m]), y = maxpool2d.forward(layer, x, {});
      const dx = randomTensor(rng, [32, m], trial % 2 ? 0.05 : 0.5).data;
      const flags = new Uint8Array(m);
      maxpool2d.kinks(layer, x, dx, 0, dx.length, flags);
      const out = new Float64Array(y.data.length);
      maxpool2d.difference(layer, x, y, dx, {}, null, out);
      for (let n = 0; n < m; n++) {
        expect(flags[n] === 1, `trial ${trial} sample ${n}`).toBe(argmaxMoves(x.data, dx, n));
        flagged += flags[n];
        // Unflagged: each output's change is δx at its window's maximum, exactly (no x + δx − x).
        if (!flags[n]) {
          for (let o = 0; o < 8; o++) {
            const k = o * m + n;
            const source = Array.from({ length: 32 }, (_, r) => r).find((r) => x.data[r * m + n] === y.data[k] && dx[r * m + n] === out[k]);
            expect(source, `output ${o}`).toBeDefined();
          }
        }
      }
    }
    // Both outcomes happen.
    expect(flagged).toBeGreaterThan(10);
    expect(flagged).toBeLessThan(40 * m - 10);
  });

  it('flags a step that starts on a tie and moves a tied element, even when the argmax stays', () => {
    // Channel 0's window at (0, 0) holds two 5s (rows 0 and 5); every other value is below 0.
    const x = tensor([32, 1], Array.from({ length: 32 }, (_, r) => -1 - r / 100));
    x.data[0] = 5; x.data[5] = 5;
    const flagsOf = (at: number, d: number, from = 0, to = 32) => {
      const dx = new Float64Array(32); dx[at] = d;
      const flags = new Uint8Array(1);
      maxpool2d.kinks(layer, x, dx, from, to, flags);
      return flags[0];
    };
    expect(flagsOf(5, -0.1)).toBe(1); // the second 5 moves down: argmax stays at row 0, but on a tie
    expect(flagsOf(0, 0.1)).toBe(1); // the first 5 moves up
    expect(flagsOf(5, 0.1)).toBe(1); // the second 5 overtakes
    expect(flagsOf(1, 0.1)).toBe(0); // a value below the maximum moves and stays below
    expect(flagsOf(1, 7)).toBe(1); // … or overtakes
    expect(flagsOf(5, 0.1, 6, 32)).toBe(0); // outside [from, to) the step does not count
  });
});

describe('the backprop mistakes', () => {
  interface Expect { kind: LayerKind; id: string; applies: Geometry[]; not: Geometry[]; samples?: number }
  const g = (type: Geometry['type'], inShape: Geometry['inShape'], kernel: Geometry['kernel'], stride: Geometry['stride'], padding?: Geometry['padding']): Geometry =>
    ({ type, inShape, kernel, stride, ...(type === 'conv2d' ? { padding: padding ?? [0, 0], filters: 2, bias: true } : {}) });
  const cases: Expect[] = [
    { kind: conv2d, id: 'conv-stride-ignored', applies: [CONV[1], CONV[3], CONV[4], g('conv2d', [2, 5, 5], [3, 3], [2, 2], [1, 1])], not: [CONV[0], CONV[2], g('conv2d', [1, 3, 5], [3, 1], [2, 1]) /* the strided axis has H' = 1 */] },
    { kind: conv2d, id: 'conv-padding-not-stripped', applies: [CONV[1], CONV[2], CONV[4]], not: [CONV[0], CONV[3]] },
    { kind: conv2d, id: 'conv-kernel-flipped', applies: [CONV[0], CONV[1], CONV[4]], not: [CONV[3]] },
    { kind: conv2d, id: 'conv-dw-not-summed', applies: CONV, not: [] },
    { kind: conv2d, id: 'conv-db-not-summed', applies: [CONV[0], CONV[1], CONV[2], CONV[4]], not: [g('conv2d', [2, 3, 3], [3, 3], [1, 1])] },
    { kind: maxpool2d, id: 'maxpool-whole-window', applies: POOL.slice(0, 4), not: [g('maxpool2d', [2, 3, 3], [1, 1], [1, 1])] },
    { kind: maxpool2d, id: 'maxpool-overwrite', applies: [POOL[1], POOL[2]], not: [POOL[0], POOL[3], g('maxpool2d', [1, 3, 6], [3, 2], [1, 2]) /* one window high, side by side */] },
    { kind: maxpool2d, id: 'maxpool-overwrite-argmax', applies: [POOL[1], POOL[2]], not: [POOL[0], POOL[3], g('maxpool2d', [1, 3, 6], [3, 2], [1, 2]) /* one window high, side by side */] },
    { kind: avgpool2d, id: 'avgpool-not-averaged', applies: POOL.slice(4), not: [g('avgpool2d', [2, 3, 3], [1, 1], [1, 1])] },
    { kind: avgpool2d, id: 'avgpool-stride-ignored', applies: [POOL[4], POOL[5], POOL[7], g('avgpool2d', [1, 2, 6], [2, 2], [1, 2]) /* strided along W only */], not: [POOL[6], g('avgpool2d', [1, 2, 6], [2, 2], [2, 1]) /* strided along H, which has H' = 1 */] },
  ];

  it('every mistake of the three records is tested', () => {
    const ids = [conv2d, maxpool2d, avgpool2d].flatMap((k) => Object.keys(k.mistakes));
    expect(cases.map((c) => c.id).sort()).toEqual(ids.sort());
  });

  for (const c of cases) {
    it(`${c.id}: changes the gradients where it applies, and only there`, () => {
      const rng = new Random(7);
      for (const [applies, geometries] of [[true, c.applies], [false, c.not]] as const) {
        for (const geo of geometries) {
          const layer = layerOf(geo);
          const m = 3;
          expect(c.kind.mistakes![c.id].appliesTo?.(layer, m) ?? true, name(geo)).toBe(applies);
          const x = randomTensor(rng, [layer.inputs, m]), dy = randomTensor(rng, [layer.units, m]), p = randomParams(rng, c.kind, layer);
          const right = gradients(c.kind, layer, x, p, dy), wrong = gradients(c.kind, layer, x, p, dy, c.id);
          expect(Object.keys(wrong).sort()).toEqual(Object.keys(right).sort());
          const worst = Math.max(...Object.keys(right).map((k) => relativeError(wrong[k], right[k])));
          if (applies) expect(worst, name(geo)).toBeGreaterThan(1e-3);
          else expect(worst, name(geo)).toBe(0);
        }
      }
      // A mistake that depends on the samples: one sample is the whole batch.
      if (c.id === 'conv-dw-not-summed') {
        const layer = layerOf(CONV[0]);
        expect(conv2d.mistakes['conv-dw-not-summed'].appliesTo!(layer, 1)).toBe(false);
        const x = randomTensor(rng, [layer.inputs, 1]), dy = randomTensor(rng, [layer.units, 1]), p = randomParams(rng, conv2d, layer);
        expect(gradients(conv2d, layer, x, p, dy, c.id)).toEqual(gradients(conv2d, layer, x, p, dy));
      }
    });
  }

  // What course code computes with each mistake: scripts/conv_golden.py's NumPy backward passes
  // (cs231n's loops, deeplearning.ai's masks), each checked against torch without its mistake.
  interface Reference { id: string; type: LayerType; inShape: number[]; outShape?: number[]; filters?: number; kernel?: [number, number]; stride?: [number, number]; padding?: [number, number]; bias?: boolean; m: number; x?: number[]; W?: number[]; b?: number[]; dy: number[]; dx: number[]; dW?: number[]; db?: number[] }
  const references = (JSON.parse(readFileSync(new URL('../fixtures/golden/layers/conv.json', import.meta.url), 'utf8')) as { mistakes: Reference[] }).mistakes;

  it('the NumPy references cover every mistake of the three records and flatten’s', () => {
    const ids = [conv2d, maxpool2d, avgpool2d, identity].flatMap((k) => Object.keys(k.mistakes));
    expect(references.map((r) => r.id).sort()).toEqual(ids.sort());
  });

  for (const r of references) {
    it(`${r.id} computes what the NumPy backward with that mistake computes`, () => {
      const layer: Layer = r.type === 'flatten'
        ? { type: 'flatten', units: size(r.inShape), inputs: size(r.inShape), activation: linear, bias: false, inShape: r.inShape, outShape: [size(r.inShape)] }
        : layerOf(r as Geometry);
      const kind = kindOf(layer);
      const mistake = kind.mistakes![r.id];
      expect(mistake.appliesTo?.(layer, r.m) ?? true).toBe(true);
      const dy = tensor([layer.units, r.m], r.dy);
      const x = r.x ? tensor([layer.inputs, r.m], r.x) : dy;
      const p: Record<string, Tensor> = {};
      if (r.W) p.W = tensor(kind.params(layer)[0].shape, r.W);
      if (r.b) p.b = tensor([r.b.length, 1], r.b);
      // The references average over the samples: s = 1/m.
      const back = mistake.backward(layer, x, kind.forward(layer, x, p), dy, p, 1 / r.m);
      expect(relativeError(back.dx().data, r.dx)).toBeLessThanOrEqual(1e-12);
      if (r.dW) expect(relativeError(back.dparams.W().data, r.dW)).toBeLessThanOrEqual(1e-12);
      if (r.db) expect(relativeError(back.dparams.b().data, r.db)).toBeLessThanOrEqual(1e-12);
    });
  }

  it('each mistake says what the code does and how NumPy fixes it', () => {
    for (const kind of [conv2d, maxpool2d, avgpool2d, identity]) {
      for (const [id, mistake] of Object.entries(kind.mistakes)) {
        expect(mistake.says.length, id).toBeGreaterThan(20);
        expect(mistake.fix, id).toMatch(/=/);
      }
    }
  });
});

describe('flatten-order: the gradient un-flattened in (H, W, C) order', () => {
  const flatten = (inShape: number[]): Layer => ({ type: 'flatten', units: size(inShape), inputs: size(inShape), activation: linear, bias: false, inShape, outShape: [size(inShape)] });
  const mistake = identity.mistakes['flatten-order'];

  it('reads dy[(h·W + w)·C + c] for dx[c, h, w]', () => {
    // C = 2, H = 1, W = 3: dy = 0 … 5 read as (H, W, C) gives channel 0 the even entries.
    const layer = flatten([2, 1, 3]);
    const dy = tensor([6, 1], [0, 1, 2, 3, 4, 5]);
    expect(Array.from(mistake.backward(layer, dy, dy, dy, {}, 1).dx().data)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(mistake.appliesTo!(layer, 1)).toBe(true);
  });

  it('applies to a flatten of several channels and positions only, and is the identity elsewhere', () => {
    const rng = new Random(3);
    for (const [shape, applies] of [[[3, 2, 2], true], [[1, 4, 4], false], [[4, 1, 1], false], [[12], false]] as const) {
      const layer = flatten([...shape]);
      expect(mistake.appliesTo!(layer, 2), shape.join('×')).toBe(applies);
      const dy = randomTensor(rng, [layer.units, 2]);
      const wrong = mistake.backward(layer, dy, dy, dy, {}, 1).dx().data, right = identity.backward(layer, dy, dy, dy, {}, 1).dx().data;
      expect(Array.from(wrong).every((v, k) => v === right[k]), shape.join('×')).toBe(!applies);
    }
    // An activation entry is the identity too, but has no flatten to get wrong.
    expect(mistake.appliesTo!({ ...flatten([3, 2, 2]), type: 'activation' }, 2)).toBe(false);
  });
});

describe('a small CNN through the forward pass, backprop and the naive finite differences', () => {
  // input 1×6×6 → conv 2@3×3 padding 1, relu → maxpool 2 → flatten → dense 3, sigmoid; MSE, mean.
  const conv = { ...layerOf({ type: 'conv2d', inShape: [1, 6, 6], kernel: [3, 3], stride: [1, 1], padding: [1, 1], filters: 2, bias: true }), activation: namedActivation('relu')! };
  const pool = layerOf({ type: 'maxpool2d', inShape: [2, 6, 6], kernel: [2, 2], stride: [2, 2] });
  const flat: Layer = { type: 'flatten', units: 18, inputs: 18, activation: linear, bias: false, inShape: [2, 3, 3], outShape: [18] };
  const out: Layer = { units: 3, inputs: 18, activation: namedActivation('sigmoid')!, bias: true };
  const model: Model = { inputs: 36, layers: [conv, pool, flat, out], loss: namedLoss('mean_squared_error')!, reduction: 'mean', l2: { kind: 'lambda', lambda: 0.1 }, init: { scheme: 'normal', scale: 1, seed: 1 } };

  const rng = new Random(11);
  const m = 4;
  const X = randomTensor(rng, [36, m]), Y = tensor([3, m], Array.from({ length: 3 * m }, () => rng.uniform()));
  const params: Params = model.layers.map((layer) => randomParams(rng, kindOf(layer), layer));
  const fwd = forward(model, params, X, Y);
  // The naive source's central differences of every parameter, by label.
  const source = naiveSource({ model, params, Y }, fwd);
  const tensors = model.layers.flatMap((layer, l) => kindOf(layer).params(layer).map((spec) => ({ l, spec, label: paramLabel({ layer: l, name: spec.name }) })));
  const numeric = Object.fromEntries(tensors.map(({ l, spec, label }) =>
    [label, Array.from({ length: size(spec.shape) }, (_v, index) => source.element({ layer: l, name: spec.name }, index, 1e-6).numeric)]));
  const errors = (grads: Grads) => Object.fromEntries(tensors.map(({ l, spec, label }) => [label, relativeError(grads[l][spec.name].data, numeric[label])]));

  it('every gradient of correct backprop agrees with the naive source’s central differences', () => {
    const grads = backward(model, params, fwd, Y, correctPlan(model));
    expect(tensors.map((t) => t.label)).toEqual(['W1', 'b1', 'W4', 'b4']);
    for (const { l, spec } of tensors) expect(grads[l][spec.name].shape).toEqual(spec.shape);
    for (const [label, error] of Object.entries(errors(grads))) expect(error, label).toBeLessThan(1e-7);
  });

  it('each mistake injected through backprop’s hook puts off exactly the tensors it reaches', () => {
    // dW1 alone for a mistake in conv's own dW, db1 for its db; both conv tensors for a mistake
    // in a dx above the conv; the dense layer's never.
    for (const [l, id, off] of [[0, 'conv-dw-not-summed', ['W1']], [0, 'conv-db-not-summed', ['b1']], [1, 'maxpool-whole-window', ['W1', 'b1']], [2, 'flatten-order', ['W1', 'b1']]] as const) {
      const net = netOf(model, params, fwd, Y);
      const chain = correctChain(net);
      chain.layers[l].mistake = id;
      const err = errors(evaluate(net, chain).grads);
      expect(Object.keys(err).filter((label) => err[label] > 1e-3), id).toEqual(off);
      expect(Math.max(...Object.keys(err).filter((label) => !(off as readonly string[]).includes(label)).map((label) => err[label])), id).toBeLessThan(1e-7);
    }
  });
});
