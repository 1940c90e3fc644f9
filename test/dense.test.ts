// The dense kernel against the plain loop it replaces: start, then the products added over the
// inputs in order from 0, zero weights skipped. Same order, so the same bits, for any shape
// (odd row counts, samples not a multiple of 4), zero weights and infinities. Backprop's products
// (dW = s·dZ·Aᵀ by denseTimes on Aᵀ when A is finite, dA = Wᵀ·dZ by denseTimes on Wᵀ) against the plain loops they replace.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denseTimes, denseTimesPlain } from '../src/core/layers/dense-kernel.js';
import { biasGradient, inputGradient, weightGradient } from '../src/core/layers/dense.js';

function plain(rows: number, cols: number, w: Float64Array, D: Float64Array, m: number, start: Float64Array | null): Float64Array {
  const out = new Float64Array(rows * m);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < m; c++) {
      let s = start ? start[i] : 0;
      for (let k = 0; k < cols; k++) if (w[i * cols + k] !== 0) s += w[i * cols + k] * D[k * m + c];
      out[i * m + c] = s;
    }
  }
  return out;
}

const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }) },
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(-0, Infinity, -Infinity, 1e-310, NaN) },
);

describe.each([['denseTimes (WebAssembly)', denseTimes], ['denseTimesPlain', denseTimesPlain]])('%s', (_, kernel) => {
  it('equals the plain loop bit for bit, with and without a start value per row', () => {
    const shapes = fc.record({ rows: fc.integer({ min: 1, max: 7 }), cols: fc.integer({ min: 1, max: 9 }), m: fc.integer({ min: 1, max: 11 }), withStart: fc.boolean() });
    fc.assert(fc.property(shapes.chain((s) => fc.record({
      s: fc.constant(s),
      w: fc.array(value, { minLength: s.rows * s.cols, maxLength: s.rows * s.cols }),
      D: fc.array(value, { minLength: s.cols * s.m, maxLength: s.cols * s.m }),
      start: fc.array(value, { minLength: s.rows, maxLength: s.rows }),
    })), ({ s, w, D, start }) => {
      const W = { shape: [s.rows, s.cols], data: Float64Array.from(w) };
      const d = Float64Array.from(D), b = s.withStart ? Float64Array.from(start) : null;
      const out = new Float64Array(s.rows * s.m).fill(NaN);
      kernel(W, d, out, s.m, b);
      const want = plain(s.rows, s.cols, W.data, d, s.m, b);
      for (let i = 0; i < out.length; i++) expect(Object.is(out[i], want[i]), `element ${i}: ${out[i]} vs ${want[i]}`).toBe(true);
    }), { seed: 7, numRuns: 500 });
  });
});

/** The plain loops backprop had: dW[i][j] = s·Σ_c dZ[i][c]·A[j][c] (every term), dA[k] += W[i][k]·dZ[i] (zero weights skipped). */
function plainWeightGradient(rows: number, cols: number, m: number, dZ: Float64Array, A: Float64Array, s: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let c = 0; c < m; c++) sum += dZ[i * m + c] * A[j * m + c];
      out[i * cols + j] = s * sum;
    }
  }
  return out;
}

function plainInputGradient(rows: number, cols: number, m: number, W: Float64Array, dZ: Float64Array): Float64Array {
  const out = new Float64Array(cols * m);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) {
      const w = W[i * cols + k];
      if (w === 0) continue;
      for (let c = 0; c < m; c++) out[k * m + c] += w * dZ[i * m + c];
    }
  }
  return out;
}

describe('backprop products', () => {
  const shapes = fc.record({ rows: fc.integer({ min: 1, max: 7 }), cols: fc.integer({ min: 1, max: 9 }), m: fc.integer({ min: 1, max: 11 }) });
  const sameBits = (got: Float64Array, want: Float64Array) => {
    expect(got.length).toBe(want.length);
    for (let i = 0; i < got.length; i++) expect(Object.is(got[i], want[i]), `element ${i}: ${got[i]} vs ${want[i]}`).toBe(true);
  };

  it('weightGradient (dW = s·dZ·Aᵀ) equals the plain triple loop bit for bit, finite or not (0·Inf stays NaN)', () => {
    const finite = fc.oneof({ weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e-310) });
    fc.assert(fc.property(shapes.chain((s) => fc.record({
      s: fc.constant(s),
      dZ: fc.array(value, { minLength: s.rows * s.m, maxLength: s.rows * s.m }),
      A: fc.oneof(fc.array(finite, { minLength: s.cols * s.m, maxLength: s.cols * s.m }), fc.array(value, { minLength: s.cols * s.m, maxLength: s.cols * s.m })),
      scale: fc.constantFrom(1, 1 / 3, 1 / 128),
    })), ({ s, dZ, A, scale }) => {
      const z = Float64Array.from(dZ), a = Float64Array.from(A);
      sameBits(weightGradient({ shape: [s.rows, s.m], data: z }, { shape: [s.cols, s.m], data: a }, scale).data, plainWeightGradient(s.rows, s.cols, s.m, z, a, scale));
    }), { seed: 11, numRuns: 1000 });
  });

  it('biasGradient (db = s·Σ_samples dZ) equals the plain loop bit for bit', () => {
    fc.assert(fc.property(shapes.chain((s) => fc.record({
      s: fc.constant(s),
      dZ: fc.array(value, { minLength: s.rows * s.m, maxLength: s.rows * s.m }),
      scale: fc.constantFrom(1, 1 / 3, 1 / 128),
    })), ({ s, dZ, scale }) => {
      const z = Float64Array.from(dZ);
      const want = new Float64Array(s.rows);
      for (let i = 0; i < s.rows; i++) {
        let sum = 0;
        for (let c = 0; c < s.m; c++) sum += z[i * s.m + c];
        want[i] = scale * sum;
      }
      sameBits(biasGradient({ shape: [s.rows, s.m], data: z }, scale).data, want);
    }), { seed: 17, numRuns: 500 });
  });

  it('inputGradient (dA = Wᵀ·dZ) equals the plain loop bit for bit', () => {
    fc.assert(fc.property(shapes.chain((s) => fc.record({
      s: fc.constant(s),
      W: fc.array(value, { minLength: s.rows * s.cols, maxLength: s.rows * s.cols }),
      dZ: fc.array(value, { minLength: s.rows * s.m, maxLength: s.rows * s.m }),
    })), ({ s, W, dZ }) => {
      const w = Float64Array.from(W), z = Float64Array.from(dZ);
      sameBits(inputGradient({ shape: [s.rows, s.cols], data: w }, { shape: [s.rows, s.m], data: z }).data, plainInputGradient(s.rows, s.cols, s.m, w, z));
    }), { seed: 13, numRuns: 500 });
  });
});
