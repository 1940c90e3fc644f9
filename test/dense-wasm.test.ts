// The dense kernel's WebAssembly: the committed bytes are what scripts/build-wasm.mjs assembles
// from src/core/layers/dense.wat, the product runs them (not the fallback), and they give the plain
// loop's bits on shapes that make the kernel grow its memory, shrink back, and meet every edge
// (one row, an odd row count, samples not a multiple of four, no inputs, NaN, ±Inf, −0, zeros);
// and its scans (allFinite, maxAbsOf), scaledOuter, the activations' gates and alongDirection's
// bilinear form answer as plain loops written here.
import { describe, expect, it } from 'vitest';
import { DENSE_WASM } from '../src/core/layers/dense-wasm.js';
import { allFinite, denseKernel, denseTimes, denseTimesPlain, finiteRangeKernel, hookScales, maxAbsOf, reluKernel, scaledOuter, transposeFinite } from '../src/core/layers/dense-kernel.js';
import { Random } from '../src/core/random.js';
import { leakyRelu, namedActivation, type ElementwiseActivation } from '../src/core/records/activations.js';
import { alongDirection } from '../src/core/differences/source.js';
import { assemble } from '../scripts/build-wasm.mjs';
import { inKernelAndJs } from './helpers/wasm.js';

describe('the dense kernel in WebAssembly', () => {
  it('the committed module is the one dense.wat assembles to', async () => {
    expect(DENSE_WASM).toBe(await assemble('dense'));
  });

  it('is the kernel denseTimes runs', () => {
    expect(denseKernel()).toBe('webassembly');
  });

  it('gives the plain loop\'s bits, growing its memory and back, on every edge', () => {
    const rng = new Random(11);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1e308];
    const draw = (n: number) => Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
    // [rows, cols, m]: small, large enough to grow the memory several pages, then small again.
    const shapes = [[1, 1, 1], [3, 5, 7], [65, 33, 128], [1, 32, 128], [128, 784, 64], [7, 0, 5], [0, 4, 3], [2, 3, 0], [5, 6, 9]];
    for (const [rows, cols, m] of shapes) {
      for (const withStart of [false, true]) {
        const W = { shape: [rows, cols], data: draw(rows * cols) };
        const D = draw(cols * m), start = withStart ? draw(rows) : null;
        const got = new Float64Array(rows * m).fill(42), want = new Float64Array(rows * m).fill(42);
        denseTimes(W, D, got, m, start);
        denseTimesPlain(W, D, want, m, start);
        for (let i = 0; i < got.length; i++) expect(Object.is(got[i], want[i]), `${rows}×${cols}·${cols}×${m}, element ${i}`).toBe(true);
      }
    }
  });

  it('transposeFinite moves every value (NaN, ±Inf, −0 …) to Mᵀ and says whether all are finite, as allFinite', () => {
    const rng = new Random(12);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1e308];
    for (const [rows, cols] of [[1, 1], [3, 5], [20, 128], [0, 4], [4, 0], [64, 128], [2, 3]]) {
      for (const odds of [0, 0.01, 0.3]) {
        const M = Float64Array.from({ length: rows * cols }, () => (rng.uniform() < odds ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
        const out = new Float64Array(rows * cols).fill(42);
        expect(transposeFinite(M, rows, cols, out), `${rows}×${cols}`).toBe(M.every(Number.isFinite));
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) expect(Object.is(out[j * rows + i], M[i * cols + j])).toBe(true);
      }
    }
    for (const v of [NaN, Infinity, -Infinity]) expect(transposeFinite(Float64Array.of(1, v, -0), 1, 3, new Float64Array(3))).toBe(false);
    expect(transposeFinite(Float64Array.of(-0, 0, 1e308, 5e-324), 2, 2, new Float64Array(4))).toBe(true);
  });

  it('allFinite and maxAbsOf answer as plain loops: NaN never the largest, ±Inf the largest, −0 as 0', () => {
    const rng = new Random(13);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, -1e308];
    const largest = (d: Float64Array) => d.reduce((m, x) => (Math.abs(x) > m ? Math.abs(x) : m), 0);
    // The kernel, then the JavaScript loops (BACKPROP_CHECK_WASM=0).
    inKernelAndJs((setting) => {
      for (const n of [0, 1, 3, 128, 8192, 100_000]) {
        for (const odds of [0, 0.001, 0.3]) {
          const d = Float64Array.from({ length: n }, () => (rng.uniform() < odds ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
          expect(allFinite(d), `${n} values, odds ${odds}, BACKPROP_CHECK_WASM=${setting}`).toBe(d.every(Number.isFinite));
          expect(Object.is(maxAbsOf(d), largest(d)), `${n} values, odds ${odds}, BACKPROP_CHECK_WASM=${setting}`).toBe(true);
        }
      }
    });
    expect(maxAbsOf(Float64Array.of(NaN, -0))).toBe(0);
    expect(maxAbsOf(Float64Array.of(NaN, -2, 1))).toBe(2);
    expect(maxAbsOf(Float64Array.of(1, -Infinity))).toBe(Infinity);
    expect(allFinite(Float64Array.of(1, NaN))).toBe(false);
  });

  it('scaledOuter is (u_i·v_c)·h bit for bit, in the kernel and in the JavaScript loop', () => {
    const rng = new Random(14);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1e308];
    const draw = (n: number) => Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
    inKernelAndJs((setting) => {
      for (const [n, m] of [[1, 1], [64, 128], [3, 0], [0, 5], [2, 7]]) {
        for (const h of [1e-6, -1e-6, 3, -0]) {
          const u = draw(n), v = draw(m), out = new Float64Array(n * m).fill(42);
          scaledOuter(u, v, h, out);
          for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) expect(Object.is(out[i * m + c], u[i] * v[c] * h), `${n}×${m}, h ${h}, (${i}, ${c})`).toBe(true);
        }
      }
    });
  });

  it('the activations\' forward and backward loops are f and da·f\' bit for bit, in the kernel and in JavaScript', () => {
    const rng = new Random(15);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1e308, 0.5, -1, 1];
    const draw = (n: number) => Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : 3 * rng.normal()));
    const records = [...['tanh', 'sigmoid', 'relu', 'leaky_relu'].map((name) => namedActivation(name) as ElementwiseActivation), leakyRelu(0.2)];
    inKernelAndJs((setting) => {
      for (const act of records) {
        for (const [units, m] of [[1, 1], [64, 128], [3, 5], [0, 4]]) {
          const n = units * m, z = draw(n), a = new Float64Array(n).fill(42);
          act.forward(z, a, units, m);
          for (let i = 0; i < n; i++) expect(Object.is(a[i], act.f(z[i])), `${act.name} f(${z[i]}), BACKPROP_CHECK_WASM=${setting}`).toBe(true);
          const da = draw(n), dz = new Float64Array(n).fill(42);
          act.backward(z, a, da, dz, units, m);
          for (let i = 0; i < n; i++) expect(Object.is(dz[i], da[i] * act.derivative(z[i], a[i])), `${act.name} at z = ${z[i]}, da = ${da[i]}, BACKPROP_CHECK_WASM=${setting}`).toBe(true);
        }
      }
    });
  });

  it('finiteRangeKernel: the least and greatest finite value, −0 below 0, ±∞ when none is finite', () => {
    const rng = new Random(16);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, -1e308];
    const reference = (d: Float64Array): [number, number] => {
      const finite = [...d].filter(Number.isFinite);
      return [finite.reduce((a, b) => Math.min(a, b), Infinity), finite.reduce((a, b) => Math.max(a, b), -Infinity)];
    };
    for (const n of [0, 1, 2, 5, 1000]) {
      for (const odds of [0, 0.3, 1]) {
        const d = Float64Array.from({ length: n }, () => (rng.uniform() < odds ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
        const [lo, hi] = finiteRangeKernel(d)!, [wantLo, wantHi] = reference(d);
        expect(Object.is(lo, wantLo) && Object.is(hi, wantHi), `${n} values, odds ${odds}: ${lo}, ${hi} vs ${wantLo}, ${wantHi}`).toBe(true);
      }
    }
    const [lo, hi] = finiteRangeKernel(Float64Array.of(0, -0, 0))!;
    expect(Object.is(lo, -0) && Object.is(hi, 0)).toBe(true);
  });

  it('reluKernel: ReLU\'s and leaky ReLU\'s difference by its branches and the kink marks, bit for bit', () => {
    const rng = new Random(17);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1e-300];
    const draw = (n: number, s: number) => Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : s * rng.normal()));
    for (const slope of [0, 0.01, 0.2]) {
      for (const [units, m, from, to] of [[64, 128, 0, 64 * 128], [10, 37, 37, 5 * 37], [3, 5, 2, 13], [2, 4, 8, 8]]) {
        const n = units * m;
        const Z = draw(n, 1), A = Z.map((z) => (z > 0 ? z : slope * z)), dx = draw(n, 0.5);
        for (const withFlags of [false, true]) {
          const out = new Float64Array(n).fill(42), want = new Float64Array(n).fill(42);
          const flags = withFlags ? Uint8Array.from({ length: m }, (_, c) => (c % 7 === 0 ? 1 : 0)) : null;
          const wantFlags = flags ? flags.slice() : null;
          expect(reluKernel(slope, Z, A, dx, out, from, to, flags, m)).toBe(true);
          for (let i = from; i < to; i++) {
            const z = Z[i], d = dx[i], w = z + d;
            want[i] = z > 0 && w > 0 ? d : z <= 0 && w <= 0 ? slope * d : (w > 0 ? w : slope * w) - A[i];
            if (wantFlags && !(z > 0 && w > 0) && d !== 0 && (z > 0 !== w > 0 || z === 0)) wantFlags[i % m] = 1;
          }
          for (let i = 0; i < n; i++) expect(Object.is(out[i], want[i]), `slope ${slope}, ${units}×${m} [${from}, ${to}), element ${i}`).toBe(true);
          if (flags) expect([...flags]).toEqual([...wantFlags!]);
        }
      }
    }
  });

  it('alongDirection over a rank-one direction is uᵀ·(G·v) with every term in order, in the kernel and in JavaScript', () => {
    const rng = new Random(18);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1e308];
    const draw = (n: number, odds: number) => Float64Array.from({ length: n }, () => (rng.uniform() < odds ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
    for (const [rows, cols] of [[1, 1], [64, 20], [32, 64], [2, 3], [0, 4], [3, 0]]) {
      for (const odds of [0, 0.05]) {
        const G = draw(rows * cols, odds), u = draw(rows, 0), v = draw(cols, 0);
        let want = 0;
        for (let i = 0; i < rows; i++) {
          let row = 0;
          for (let j = 0; j < cols; j++) row += G[i * cols + j] * v[j];
          want += u[i] * row;
        }
        inKernelAndJs((setting) => {
          expect(Object.is(alongDirection(G, { u, v }), want), `${rows}×${cols}, BACKPROP_CHECK_WASM=${setting}`).toBe(true);
        });
      }
    }
  });

  it('hookScales is k·(s·p + β·pen) and k·(s·p) bit for bit', () => {
    const rng = new Random(19);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1e308];
    const draw = (n: number) => Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
    for (const n of [0, 1, 7, 4096]) {
      for (const [k, s, beta] of [[1, 1, 0], [1, 1 / 128, 0.02], [-1, 0.5, 3], [2, 1e-300, -1]]) {
        const p = draw(n), pen = draw(n);
        for (const withPen of [false, true]) {
          const out = new Float64Array(n).fill(42);
          expect(hookScales(p, withPen ? pen : null, k, s, beta, out)).toBe(true);
          for (let i = 0; i < n; i++) expect(Object.is(out[i], withPen ? k * (s * p[i] + beta * pen[i]) : k * (s * p[i])), `n ${n}, k ${k}, s ${s}, β ${beta}, [${i}]`).toBe(true);
        }
      }
    }
  });
});
