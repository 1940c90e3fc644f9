// The dense kernel against the plain loop it replaces: start, then the products added over the
// inputs in order from 0, zero weights skipped. Same order, so the same bits, for any shape
// (odd row counts, samples not a multiple of 4), zero weights and infinities.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denseTimes } from '../src/core/layers/dense-kernel.js';

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
  { weight: 1, arbitrary: fc.constantFrom(-0, Infinity, -Infinity, 1e-310) },
);

describe('denseTimes', () => {
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
      denseTimes(W, d, out, s.m, b);
      const want = plain(s.rows, s.cols, W.data, d, s.m, b);
      for (let i = 0; i < out.length; i++) expect(Object.is(out[i], want[i]), `element ${i}: ${out[i]} vs ${want[i]}`).toBe(true);
    }), { seed: 7, numRuns: 500 });
  });
});
