// The health statistics (an activation's histogram, a dense layer's norm and std) are written
// without a builtin call per element, for V8's interpreter; these are the straightforward loops
// they replace (Math.min/max/abs/floor, Number.isFinite, **), held to the same results bit for
// bit on data with NaN, ±Infinity, ±0, subnormals, huge values and values on the bins' edges.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { histogram, histogramAndSaturation } from '../src/core/layers/activation.js';
import { norm, std } from '../src/core/layers/dense.js';
import { withWasmFlag } from './helpers/wasm.js';

function referenceHistogram(data: Float64Array, range?: readonly [number, number]) {
  let lo = Infinity, hi = -Infinity, nonFinite = 0;
  for (const v of data) {
    if (!Number.isFinite(v)) { nonFinite++; continue; }
    lo = Math.min(lo, v); hi = Math.max(hi, v);
  }
  if (range) [lo, hi] = range;
  else if (!(lo < hi)) { const mid = lo <= hi ? lo : 0; lo = mid - 0.5; hi = mid + 0.5; }
  const width = (hi - lo) / 20;
  const edges = Array.from({ length: 21 }, (_, i) => (i === 20 ? hi : lo + i * width));
  const counts = new Array<number>(20).fill(0);
  for (const v of data) if (Number.isFinite(v)) counts[Math.min(19, Math.max(0, Math.floor((v - lo) / width)))]++;
  return { edges, counts, ...(nonFinite > 0 ? { nonFinite } : {}) };
}

function referenceNorm(data: Float64Array): number {
  let max = 0;
  for (const x of data) max = Math.max(max, Math.abs(x));
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (const x of data) s += (x / max) ** 2;
  return max * Math.sqrt(s);
}

function referenceStd(data: Float64Array): number {
  let mean = 0;
  for (const x of data) mean += x;
  mean /= data.length;
  let s = 0;
  for (const x of data) s += (x - mean) ** 2;
  return Math.sqrt(s / data.length);
}

/** Same numbers (Object.is: −0 is not 0, NaN is NaN), and the same keys (a NaN bin is a key "NaN"). */
function expectSameHistogram(got: ReturnType<typeof histogram>, want: ReturnType<typeof referenceHistogram>): void {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  expect(got.nonFinite).toBe(want.nonFinite);
  expect(got.edges.length).toBe(want.edges.length);
  got.edges.forEach((e, i) => expect(Object.is(e, want.edges[i]), `edge ${i}: ${e} vs ${want.edges[i]}`).toBe(true));
  expect(Object.keys(got.counts)).toEqual(Object.keys(want.counts));
  expect({ ...got.counts }).toEqual({ ...want.counts });
}

const special = fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, -1, 0.99, -0.99, 0.5, 0.05, 0.95, 0.1, 1e-310, -1e-310, 1.7e308, -1.7e308, 5e-324);
const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -2, max: 2 }) },
  { weight: 3, arbitrary: special },
  // On a bin's edge of [−1, 1] and of [0, 1]: multiples of 0.1 and of 0.05.
  { weight: 3, arbitrary: fc.integer({ min: -20, max: 20 }).map((k) => k / 10) },
  { weight: 2, arbitrary: fc.integer({ min: -20, max: 40 }).map((k) => k / 20) },
  { weight: 1, arbitrary: fc.double() },
);
const data = fc.array(value, { maxLength: 60 }).map((v) => Float64Array.from(v));

// The WebAssembly kernel (dense.wat, histogram) and the JavaScript loop it stands in for.
describe.each([['webassembly', undefined], ['javascript', '0']])('histogram (%s)', (_, flag) => {
  withWasmFlag(flag);

  it('counts the saturated values as the plain loops (tanh |a| > 0.99, sigmoid a < 0.01 or a > 0.99)', () => {
    fc.assert(fc.property(data, (d) => {
      const tanh = histogramAndSaturation(d, [-1, 1], -0.99, 0.99), sigmoid = histogramAndSaturation(d, [0, 1], 0.01, 0.99);
      expect(tanh.saturated).toBe(d.filter((a) => Math.abs(a) > 0.99).length);
      expect(sigmoid.saturated).toBe(d.filter((a) => a < 0.01 || a > 0.99).length);
      expectSameHistogram(tanh.histogram, referenceHistogram(d, [-1, 1]));
      expect(histogramAndSaturation(d, undefined, -Infinity, Infinity).saturated).toBe(0);
    }), { numRuns: 1000 });
  });

  const ranges: [string, readonly [number, number] | undefined][] = [['tanh', [-1, 1]], ['sigmoid', [0, 1]], ['unbounded', undefined]];
  it.each(ranges)('over %s bounds equals the plain loops (Math.min/max/floor, Number.isFinite)', (_, range) => {
    fc.assert(fc.property(data, (d) => expectSameHistogram(histogram(d, range), referenceHistogram(d, range))), { numRuns: 2000 });
  });

  it.each([
    [[]],
    [[NaN, Infinity, -Infinity]],
    [[0, -0]], [[-0, 0]], [[-0, -0]], [[0]], [[-0]], [[-0, 1]], [[-1, -0]], [[-1, 0, -0]], [[-1, -0, 0]], [[1, 0, -0, 1]],
    [[3, 3, NaN]], [[1e308, 1e308]], [[-1.7e308, 1.7e308]], [[-1.7e308, 1.7e308, 0, 1e300]], [[5e-324, 0]], [[0, 5e-324, 1e-323]],
  ])('on %j equals the plain loops', (values) => {
    const d = Float64Array.from(values as number[]);
    for (const [, range] of ranges) expectSameHistogram(histogram(d, range), referenceHistogram(d, range));
  });
});

describe.each([['webassembly', undefined], ['javascript', '0']])('norm and std (%s)', (_, flag) => {
  withWasmFlag(flag);

  it('equal the plain loops (Math.max, Math.abs, **) bit for bit', () => {
    fc.assert(fc.property(data, (d) => {
      expect(Object.is(norm(d), referenceNorm(d))).toBe(true);
      expect(Object.is(std(d), referenceStd(d))).toBe(true);
    }), { numRuns: 3000 });
  });

  it.each([[[]], [[0, -0]], [[-0]], [[NaN, 1]], [[1, NaN, 2]], [[Infinity, NaN]], [[NaN, Infinity]], [[-Infinity, 1]], [[1e-310, -1e-320]], [[1.7e308, 1.7e308]], [[1.7e308, -1.7e308, 1]], [[5e-324, -5e-324]], [[-0, -0, 3]]])('on %j equal the plain loops', (values) => {
    const d = Float64Array.from(values as number[]);
    expect(Object.is(norm(d), referenceNorm(d))).toBe(true);
    expect(Object.is(std(d), referenceStd(d))).toBe(true);
  });
});
