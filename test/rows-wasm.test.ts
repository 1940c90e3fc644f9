// The row batches' WebAssembly (src/core/differences/rows.wat): the committed bytes are what
// scripts/build-wasm.mjs assembles from the text, and each export gives the bits of the
// JavaScript it stands for: tanh's and sigmoid's constants (prepareUnits) over the whole range of
// z, their steps (steps, each, scaledColumns) on steps either side of the short series' limit and
// of the series' own, zero, −0, subnormal, NaN and ±∞, and the dense blocks against the plain sum.
// Then a whole check, in the kernel and in the JavaScript loops, bit for bit.
import { describe, expect, it } from 'vitest';
import { ROWS_WASM } from '../src/core/differences/rows-wasm.js';
import { Arena, rowsKernel, type RowsKernel } from '../src/core/differences/rows-kernel.js';
import { namedActivation, type ElementwiseActivation, type PreparedSteps } from '../src/core/records/activations.js';
import { namedLoss } from '../src/core/records/losses.js';
import { forward } from '../src/core/forward.js';
import { propagatedSource } from '../src/core/differences/propagated.js';
import { Random } from '../src/core/random.js';
import { assemble } from '../scripts/build-wasm.mjs';
import { drawn, network } from './helpers/network.js';
import { withWasmSetting } from './helpers/wasm.js';

const SHORT = 2 ** -20, LIMIT = 2 ** -9;
const RECORDS = ['tanh', 'sigmoid'].map((name) => namedActivation(name) as ElementwiseActivation);

/** z over the whole range: where the constants' paths change, where f' underflows, and beyond. */
function zs(rng: Random): number[] {
  const special = [0, -0, 5e-324, -5e-324, 1e-300, 0.5, -0.5, 1, 20, -20, 36.7, 355.9, -356, 603, -603, 745, -745.2, 800, -1100, 1e308, -1e308, Infinity, -Infinity, NaN];
  const drawn = Array.from({ length: 200 }, (_, i) => rng.normal() * [1, 10, 100, 400][i % 4]);
  return [...special, ...drawn];
}

/** Steps on both sides of each limit, and the values that must pass through unchanged in kind. */
function ds(rng: Random, n: number): Float64Array {
  const edge = [SHORT, SHORT * (1 + 2 ** -52), LIMIT, LIMIT * (1 + 2 ** -52), 0, -0, 5e-324, 1e-3, 0.7, NaN, Infinity, -Infinity];
  return Float64Array.from({ length: n }, (_, i) => {
    const u = rng.uniform();
    if (u < 0.15) return (rng.uniform() < 0.5 ? -1 : 1) * edge[i % edge.length];
    return (rng.uniform() < 0.5 ? -1 : 1) * 2 ** (-40 + 36 * rng.uniform());
  });
}

const same = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect(`${what} [${i}]: ${got[i]}`).toBe(`${what} [${i}]: ${want[i]}`);
};

/** A kernel with `bytes` of memory and views on it. */
function setUp(bytes: number): { kernel: RowsKernel; arena: Arena } {
  const arena = new Arena(bytes);
  expect(arena.kernel).not.toBeNull();
  return { kernel: arena.kernel!, arena };
}

describe('the row batches\' WebAssembly', () => {
  it('the committed module is the one rows.wat assembles to', async () => {
    expect(ROWS_WASM).toBe(await assemble('rows'));
  });

  it('runs here, and not when BACKPROP_CHECK_WASM=0 or above a gigabyte', () => {
    expect(rowsKernel(1 << 16)).not.toBeNull();
    expect(rowsKernel(2 ** 31)).toBeNull();
    withWasmSetting('0', () => expect(rowsKernel(1 << 16)).toBeNull());
  });

  it.each(RECORDS.map((r) => [r.name, r] as const))('%s: the constants of prepareUnits, bit for bit, over the whole range of z', (_, act) => {
    const prepared = act.prepared as PreparedSteps;
    const z = zs(new Random(3));
    const n = z.length;
    const { kernel, arena } = setUp(1 << 20);
    const Z = arena.f64(n), A = arena.f64(n), K = arena.f64(n * 10);
    Z.set(z);
    for (let i = 0; i < n; i++) A[i] = act.f(z[i]);
    const want = new Float64Array(n * 10);
    prepared.prepareUnits(Z, A, 0, n, want, 0);
    kernel.prepare(Z.byteOffset, A.byteOffset, n, K.byteOffset, prepared.series!.half, prepared.series!.scale);
    same(K, want, `${act.name} constants`);
  });

  it.each(RECORDS.map((r) => [r.name, r] as const))('%s: steps and each, bit for bit, the closed form\'s steps left to the caller', (_, act) => {
    const prepared = act.prepared as PreparedSteps;
    const rng = new Random(5);
    const z = zs(rng);
    const { kernel, arena } = setUp(1 << 22);
    const Z = arena.f64(z.length), A = arena.f64(z.length), K = arena.f64(z.length * 10);
    Z.set(z);
    for (let i = 0; i < z.length; i++) A[i] = act.f(z[i]);
    kernel.prepare(Z.byteOffset, A.byteOffset, z.length, K.byteOffset, prepared.series!.half, prepared.series!.scale);
    const D = arena.f64(512), O = arena.f64(512), WIDE = arena.i32(512);
    const finish = (n: number, wide: number, constantsOf: (i: number) => number): void => {
      const left = Array.from(WIDE.subarray(0, wide));
      expect(left).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => !(Math.abs(D[i]) <= LIMIT)));
      for (const i of left) O[i] = act.difference(K[constantsOf(i) + 8], K[constantsOf(i) + 9], D[i]);
    };
    for (let u = 0; u < z.length; u++) {
      // All within the short series, all within the series (the paired path), mixed with wide ones.
      for (const scale of [2 ** -26, 2 ** -14, 1]) {
        const n = [0, 1, 2, 7, 64, 301][u % 6];
        const d = ds(rng, n).map((x) => (scale === 1 ? x : Number.isFinite(x) ? x * scale : x));
        D.set(d);
        const want = new Float64Array(n);
        prepared.steps(K, u * 10, d, want, 0, n);
        O.fill(42);
        finish(n, kernel.steps(K.byteOffset + 80 * u, 0, D.byteOffset, O.byteOffset, n, WIDE.byteOffset), () => u * 10);
        same(O.subarray(0, n), want, `${act.name} steps at z = ${z[u]}, n = ${n}`);
        // In place, as the batches take them.
        O.set(d);
        finish(n, kernel.steps(K.byteOffset + 80 * u, 0, O.byteOffset, O.byteOffset, n, WIDE.byteOffset), () => u * 10);
        same(O.subarray(0, n), want, `${act.name} steps in place at z = ${z[u]}`);
      }
    }
    // each: element i its own z.
    const n = z.length;
    const d = ds(rng, n);
    D.set(d);
    const want = new Float64Array(n);
    prepared.each(K, 0, d, want, 0, n);
    finish(n, kernel.steps(K.byteOffset, 1, D.byteOffset, O.byteOffset, n, WIDE.byteOffset), (i) => i * 10);
    same(O.subarray(0, n), want, `${act.name} each`);
  });

  it.each(RECORDS.map((r) => [r.name, r] as const))('%s: scaledColumns, bit for bit; a unit that may need the closed form is left', (_, act) => {
    const prepared = act.prepared as PreparedSteps;
    const rng = new Random(7);
    const units = 24, inputs = 3;
    const z = zs(rng).slice(0, units);
    const { kernel, arena } = setUp(1 << 22);
    const Z = arena.f64(units), A = arena.f64(units), K = arena.f64(units * 10);
    Z.set(z);
    for (let i = 0; i < units; i++) A[i] = act.f(z[i]);
    kernel.prepare(Z.byteOffset, A.byteOffset, units, K.byteOffset, prepared.series!.half, prepared.series!.scale);
    const W = arena.f64(units * inputs), D = arena.f64(301), O = arena.f64(units * 301), NZ = arena.u8(units);
    const wSpecial = [0, -0, 1e-300, 1, -1, 3, 0.25, 1e6, NaN, Infinity];
    for (const count of [0, 1, 2, 5, 64, 301]) {
      for (const scale of [2 ** -30, 2 ** -16, 2 ** -8, 1]) {
        for (let i = 0; i < W.length; i++) W[i] = i % 5 === 0 ? wSpecial[(i / 5) % wSpecial.length] : rng.normal();
        const d = ds(rng, count).map((x) => (Number.isFinite(x) && scale < 1 ? x * scale : x)).map((x) => (scale < 1 && !Number.isFinite(x) ? 0 : x));
        D.set(d);
        for (const col of [0, 2]) {
          const want = new Float64Array(units * count), wantNZ = new Uint8Array(units);
          prepared.scaledColumns(K, 0, W, col, inputs, units, d, want, count, wantNZ);
          O.fill(42);
          const left = kernel.columns(K.byteOffset, W.byteOffset + 8 * col, 8 * inputs, units, D.byteOffset, O.byteOffset, count, NZ.byteOffset);
          let leftUnits = 0;
          for (let u = 0; u < units; u++) {
            if (NZ[u] === 2) {
              leftUnits++;
              // Left only where some step may leave the series: |w|·max|d| beyond it, or NaN.
              const bound = Math.abs(W[col + u * inputs]) * Math.max(0, ...Array.from(d, Math.abs));
              expect(bound <= LIMIT, `unit ${u} left with |w|·max|d| = ${bound}`).toBe(false);
              continue;
            }
            expect(NZ[u], `nonzero flag of unit ${u}`).toBe(wantNZ[u]);
            same(O.subarray(u * count, (u + 1) * count), want.subarray(u * count, (u + 1) * count), `${act.name} unit ${u}, count ${count}, scale ${scale}`);
          }
          expect(left).toBe(leftUnits);
          if (scale < 2 ** -15 && count > 0) expect(leftUnits).toBeLessThanOrEqual(3);
        }
      }
    }
  });

  it('denseBlock: each sum over the active inputs in order, bit for bit, blocks of 1 to 4 rows', () => {
    const rng = new Random(9);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1e308];
    const draw = (n: number) => Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
    const { kernel, arena } = setUp(1 << 22);
    const cols = 13;
    const WB = arena.f64(4 * cols), IN = arena.i32(cols), D = arena.f64(cols * 9), O = arena.f64(4 * 9);
    for (const block of [1, 2, 3, 4]) {
      for (const live of [0, 1, 2, 3, 4, 5, 8, 9]) {
        for (const active of [0, 1, 6, cols]) {
          const inputs = Array.from({ length: cols }, (_, j) => j).filter((j) => active === cols || (j * 7) % cols < active).slice(0, active);
          IN.set(inputs);
          // Non-zero weights only (a block with a zero weight takes the JavaScript row loop), 0 past the block.
          const w = Array.from({ length: 4 * inputs.length }, (_, q) => ((q % 4) < block ? (rng.uniform() < 0.5 ? -1 : 1) * (0.1 + rng.uniform()) : 0));
          WB.set(w);
          D.set(draw(cols * live));
          O.fill(42);
          kernel.denseBlock(WB.byteOffset, IN.byteOffset, inputs.length, D.byteOffset, live, O.byteOffset, block);
          for (let b = 0; b < 4; b++) {
            for (let t = 0; t < live; t++) {
              let s = 0;
              for (let j = 0; j < inputs.length; j++) s += w[j * 4 + b] * D[inputs[j] * live + t];
              const got = O[b * live + t];
              if (b < block) expect(Object.is(got, s), `block ${block}, live ${live}, active ${active}: row ${b}, chain ${t}: ${got} vs ${s}`).toBe(true);
              else expect(got).toBe(42);
            }
          }
        }
      }
    }
  });

  it('lossChanges: each named loss\'s difference, bit for bit; chains beyond the series left to the record', () => {
    const rng = new Random(17);
    const { kernel, arena } = setUp(1 << 20);
    const n = 301;
    const DA = arena.f64(n), SUMS = arena.f64(n), WIDE = arena.i32(n);
    const edge = [0, -0, 5e-324, 1e-12, NaN, Infinity, -Infinity, 1e-3, 0.2];
    for (const name of ['binary_cross_entropy', 'mean_squared_error', 'categorical_cross_entropy']) {
      const loss = namedLoss(name)!;
      expect(loss.kernelForm).toBeDefined();
      for (const [a, y] of [[0.3, 1], [0.3, 0], [0.7, 0.25], [1e-9, 1], [1 - 1e-12, 0], [0.5, 0.5], [0.2, 1]]) {
        for (const count of [0, 1, 2, 7, n]) {
          for (let t = 0; t < count; t++) DA[t] = rng.uniform() < 0.1 ? edge[t % edge.length] * (rng.uniform() < 0.5 ? -1 : 1) : rng.normal() * 1e-7;
          const start = Float64Array.from({ length: count }, () => rng.normal());
          SUMS.set(start);
          const wide = kernel.lossChanges(loss.kernelForm!, a, y, DA.byteOffset, count, SUMS.byteOffset, WIDE.byteOffset);
          const left = new Set(WIDE.subarray(0, wide));
          for (let t = 0; t < count; t++) {
            const want = start[t] + loss.difference(a, y, DA[t]);
            if (left.has(t)) {
              expect(Object.is(SUMS[t], start[t]), `${name}: chain ${t} left untouched`).toBe(true);
              expect(name).not.toBe('mean_squared_error');
            } else {
              expect(Object.is(SUMS[t], want), `${name} a=${a} y=${y} δ=${DA[t]}: ${SUMS[t]} vs ${want}`).toBe(true);
            }
          }
          if (name !== 'mean_squared_error') {
            // Only a step beyond the series (or NaN) is left: |δ/a| or |δ/(1 − a)| above 2⁻¹⁵.
            for (const t of left) expect(Math.abs(DA[t] / a) <= 2 ** -15 && (name !== 'binary_cross_entropy' || Math.abs(DA[t] / (1 - a)) <= 2 ** -15)).toBe(false);
          }
        }
      }
    }
  });

  it('lossColumns: each sample\'s loss change summed over the output rows in order, bit for bit; 0 when a step is beyond the series', () => {
    const rng = new Random(18);
    const { kernel, arena } = setUp(1 << 20);
    const units = 10, m = 37, n = units * m;
    const A = arena.f64(n), Y = arena.f64(n), D = arena.f64(n), SUMS = arena.f64(m);
    for (const name of ['binary_cross_entropy', 'mean_squared_error', 'categorical_cross_entropy']) {
      const loss = namedLoss(name)!;
      const counts = [0, 0];
      for (const scale of [1e-7, 1e-3, 0]) {
        for (const [first, last, outputs] of [[0, units, 3], [3, 4, 3], [0, 1, 5], [5, 5, 5], [0, units, 5]]) {
          for (let i = 0; i < n; i++) {
            // Outputs away from 0 and 1 (the first three), or all five, 1e-9 and 1 − 1e-12 among them.
            A[i] = Math.min([0.3, 0.5, 0.9, 1e-9, 1 - 1e-12][i % outputs] * (0.5 + rng.uniform()), 1 - 1e-12);
            Y[i] = [0, 1, 0.25, 0, 1][(i * 7) % 5];
            D[i] = scale === 0 && i === n - 1 ? NaN : rng.normal() * (scale || 1e-8);
          }
          SUMS.fill(42);
          const done = kernel.lossColumns(loss.kernelForm!, A.byteOffset + 8 * first * m, Y.byteOffset + 8 * first * m, D.byteOffset + 8 * first * m, last - first, m, SUMS.byteOffset);
          const want = new Float64Array(m);
          let beyond = false;
          for (let r = first; r < last; r++) {
            for (let c = 0; c < m; c++) {
              const i = r * m + c;
              want[c] += loss.difference(A[i], Y[i], D[i]);
              // A term whose coefficient is 0 (y, or 1 − y) needs no series.
              const first = Y[i] === 0 || Math.abs(D[i] / A[i]) <= 2 ** -15;
              const second = name !== 'binary_cross_entropy' || 1 - Y[i] === 0 || Math.abs(-D[i] / (1 - A[i])) <= 2 ** -15;
              if (name !== 'mean_squared_error' && !(first && second)) beyond = true;
            }
          }
          expect(done, `${name}, steps ~${scale}, rows ${first}–${last}`).toBe(beyond ? 0 : 1);
          if (done === 1) same(SUMS, want, `${name}, steps ~${scale}, rows ${first}–${last}`);
          counts[done]++;
        }
      }
      // Both answers met for the cross-entropies; squared error has no series, so never 0.
      if (name === 'mean_squared_error') expect(counts[0]).toBe(0);
      else expect(counts[0] > 0 && counts[1] > 0, `${name}: ${counts}`).toBe(true);
    }
  });

  it('quotientSums: each element\'s (plus − minus)/2h summed over the samples in order, bit for bit', () => {
    const rng = new Random(13);
    const { kernel, arena } = setUp(1 << 20);
    for (const [count, m] of [[0, 5], [1, 1], [7, 128], [3, 0], [20, 33]]) {
      const P = arena.f64(count * m), M = arena.f64(count * m), OUT = arena.f64(Math.max(count, 1));
      for (let i = 0; i < P.length; i++) {
        P[i] = i % 17 === 0 ? [NaN, Infinity, -0, 5e-324][i % 4] : rng.normal() * 1e-7;
        M[i] = rng.normal() * 1e-7;
      }
      const h = 1e-6 * (1 + rng.uniform());
      kernel.quotientSums(P.byteOffset, M.byteOffset, m, count, 2 * h, OUT.byteOffset);
      for (let k = 0; k < count; k++) {
        let sum = 0;
        for (let c = 0; c < m; c++) sum += (P[k * m + c] - M[k * m + c]) / (2 * h);
        expect(Object.is(OUT[k], sum), `count ${count}, m ${m}, element ${k}`).toBe(true);
      }
    }
  });

  it('a whole check, full and directional, gives the same bits in the kernel and in the JavaScript loops', () => {
    const nets = [
      network({ init: { scheme: 'xavier', seed: 4 }, layers: [{ units: 9, activation: 'tanh' }, { units: 6, activation: 'sigmoid' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, { inputs: 5, initSeed: 4, data: drawn(13, 21) }),
      network({ init: { scheme: 'he', seed: 6 }, layers: [{ units: 10, activation: 'relu' }, { units: 7, activation: 'tanh' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy' }, { inputs: 4, initSeed: 6, data: drawn(11, 23) }),
      // 40 tanh units × 130 samples: more elements than a PreparedBlock steps per call (CHUNK), not a multiple of it.
      network({ init: { scheme: 'xavier', seed: 8 }, layers: [{ units: 40, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, { inputs: 3, initSeed: 8, data: drawn(130, 25) }),
    ];
    for (const { model, params, X, Y } of nets) {
      const run = (): number[] => {
        const fwd = forward(model, params, X, Y);
        const source = propagatedSource({ model, params, Y }, fwd);
        const out: number[] = [];
        // Directions (tanh and sigmoid layers' constants in the kernel's memory), then every element.
        const rng = new Random(31);
        for (let l = 0; l < model.layers.length; l++) {
          const [rows, cols] = params[l].W.shape;
          for (let r = 0; r < 3; r++) {
            const unit = (n: number) => { const x = Float64Array.from({ length: n }, () => rng.normal()); const s = Math.hypot(...x); return x.map((e) => e / s); };
            const d = source.direction!({ layer: l, name: 'W' }, { u: unit(rows), v: unit(cols) }, 1e-6);
            out.push(d.numeric, d.spread);
          }
        }
        for (let l = 0; l < model.layers.length; l++) {
          for (const kind of ['W', 'b'] as const) {
            const T = kind === 'W' ? params[l].W : params[l].b;
            if (!T) continue;
            for (let r = 0; r < T.shape[0]; r++) {
              const flats = Array.from({ length: T.shape[1] }, (_, j) => r * T.shape[1] + j);
              for (const d of source.elements!({ layer: l, name: kind }, flats, 1e-6)) out.push(d.numeric, d.spread);
            }
          }
        }
        return out;
      };
      same(run(), withWasmSetting('0', run), 'element');
    }
  });

  it('rowSamples: whole samples in the kernel, and the samples it leaves to the JavaScript, give the bits of the JavaScript loops', () => {
    // Four layers (two dense stages after the rank-one one), squared error and cross-entropy; a
    // zero weight in W₂ leaves some rows' units with no change (the kernel hands those samples
    // back), and inputs of 300 at h = 10⁻³ take steps beyond the series.
    const layers = [{ units: 7, activation: 'tanh' }, { units: 5, activation: 'sigmoid' }, { units: 4, activation: 'tanh' }, { units: 2, activation: 'sigmoid' }];
    const nets = [
      { ...network({ init: { scheme: 'xavier', seed: 9 }, layers, loss: 'mean_squared_error' }, { inputs: 3, initSeed: 9, data: drawn(17, 27) }), scale: 1 },
      { ...network({ init: { scheme: 'xavier', seed: 10 }, layers, loss: 'binary_cross_entropy' }, { inputs: 3, initSeed: 10, data: drawn(15, 29) }), scale: 300 },
    ];
    nets[0].params[1].W.data[2 * 7 + 3] = 0;
    for (const { model, params, X, Y, scale } of nets) {
      const Xs = { ...X, data: X.data.map((x) => x * scale) };
      const run = (): number[] => {
        const source = propagatedSource({ model, params, Y }, forward(model, params, Xs, Y));
        const out: number[] = [];
        for (const h of [1e-6, 1e-3]) {
          for (let l = 0; l < model.layers.length; l++) {
            for (const kind of ['W', 'b'] as const) {
              const T = kind === 'W' ? params[l].W : params[l].b!;
              for (let r = 0; r < T.shape[0]; r++) {
                const flats = Array.from({ length: T.shape[1] }, (_, j) => r * T.shape[1] + j);
                for (const d of source.elements!({ layer: l, name: kind }, flats, h)) out.push(d.numeric, d.spread);
              }
            }
          }
        }
        return out;
      };
      const { result, whole, left } = countingRowSamples(run);
      expect(whole).toBeGreaterThan(0);
      expect(left).toBeGreaterThan(0);
      same(result, withWasmSetting('0', run), 'element');
    }
  });
});

/**
 * `body`'s result, with how many samples the kernels' rowSamples did and how many it left to the
 * JavaScript while it ran (each instance's exports wrapped for the count).
 */
function countingRowSamples<T>(body: () => T): { result: T; whole: number; left: number } {
  const Instance = WebAssembly.Instance;
  let whole = 0, left = 0;
  // A stand-in for the constructor: the real instance, or one whose rowSamples counts.
  function Counting(module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance {
    const real = new Instance(module, imports);
    const exports = real.exports as Record<string, unknown>;
    if (typeof exports.rowSamples !== 'function') return real;
    const rowSamples = exports.rowSamples as (...args: number[]) => number;
    const memory = imports.env.memory as WebAssembly.Memory;
    const wrapped = (...args: number[]): number => {
      // The frame's second word is m (rows.wat); the eighth argument the first sample.
      const m = new Int32Array(memory.buffer, args[0], 2)[1];
      const next = rowSamples(...args);
      whole += next - args[7];
      if (next < m) left++;
      return next;
    };
    return { exports: { ...exports, rowSamples: wrapped } } as unknown as WebAssembly.Instance;
  }
  WebAssembly.Instance = Counting as unknown as typeof WebAssembly.Instance;
  try {
    return { result: body(), whole, left };
  } finally {
    WebAssembly.Instance = Instance;
  }
}
