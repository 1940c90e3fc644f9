// compare() and judge() take |x| and maxima by comparisons instead of Math.abs/Math.max (they run
// once per tensor, before V8 has optimised them). Here against the versions with the Math calls,
// kept verbatim, on values with NaN, ±Inf, ±0 and subnormals, with and without skips and floors:
// the same results, NaN and the sign of zero included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compare, type Comparison } from '../src/core/check/compare.js';
import { ELEMENT_SCALE, judge, type Judgement } from '../src/core/check/resolution.js';
import type { Status } from '../src/core/report.js';

function compareBefore(g: ArrayLike<number>, gHat: ArrayLike<number>, skip?: ArrayLike<boolean | number>): Comparison {
  let diff2 = 0, g2 = 0, h2 = 0, maxElem = 0, worstAt = -1, worstAbs = -1;
  // Scale the sums so that tiny (1e-170) or huge gradients do not under- or overflow.
  let scale = 0;
  for (let i = 0; i < g.length; i++) {
    if (skip?.[i]) continue;
    scale = Math.max(scale, Math.abs(g[i]), Math.abs(gHat[i]));
  }
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  for (let i = 0; i < g.length; i++) {
    if (skip?.[i]) continue;
    const a = g[i], n = gHat[i];
    const d = a - n;
    diff2 += (d / scale) ** 2;
    g2 += (a / scale) ** 2;
    h2 += (n / scale) ** 2;
    const absD = Math.abs(d);
    const denom = Math.max(Math.abs(a), Math.abs(n));
    const e = denom === 0 ? 0 : absD / denom;
    if (Number.isNaN(e)) maxElem = NaN;
    else if (e > maxElem) maxElem = e;
    // A NaN difference counts as the largest one.
    const size = Number.isNaN(absD) ? Infinity : absD;
    if (size > worstAbs) { worstAbs = size; worstAt = i; }
  }
  const gn = Math.sqrt(g2), hn = Math.sqrt(h2);
  const relativeError = gn + hn === 0 ? 0 : Math.sqrt(diff2) / (gn + hn);
  return { relativeError, maxElementError: maxElem, worstAt, analyticNorm: gn * scale, numericNorm: hn * scale };
}


function judgeBefore(g: ArrayLike<number>, gHat: ArrayLike<number>, floor: ArrayLike<number> | null, tolerance: number, skip?: ArrayLike<number>): Judgement {
  let scale = 0;
  for (let i = 0; i < g.length; i++) {
    if (skip?.[i]) continue;
    const v = Math.max(Math.abs(g[i]), Math.abs(gHat[i]));
    if (!(v <= scale)) scale = v;
  }
  if (Number.isNaN(scale) || !Number.isFinite(scale)) return { status: 'fail', failedBy: 'norm', resolvedError: NaN, floor: 0 };
  if (scale === 0) return { status: 'pass', resolvedError: 0, floor: 0 };
  let e2 = 0, g2 = 0, h2 = 0, f2 = 0, wrongAt = -1, wrongBy = 0;
  for (let i = 0; i < g.length; i++) {
    if (skip?.[i]) continue;
    // A floor that is not finite (a NaN in correct backprop) resolves nothing: it never turns a failure into a pass.
    const f = floor && Number.isFinite(floor[i]) ? floor[i] : 0;
    const excess = Math.max(0, Math.abs(g[i] - gHat[i]) - f);
    e2 += (excess / scale) ** 2;
    g2 += (g[i] / scale) ** 2;
    h2 += (gHat[i] / scale) ** 2;
    f2 += (f / scale) ** 2;
    const clearly = excess >= tolerance * Math.max(Math.abs(g[i]), Math.abs(gHat[i])) && excess >= ELEMENT_SCALE * tolerance * scale;
    if (clearly && excess > wrongBy) { wrongBy = excess; wrongAt = i; }
  }
  const denominator = Math.sqrt(g2) + Math.sqrt(h2);
  const resolvedError = Math.sqrt(e2) / denominator;
  const floorRel = Math.sqrt(f2) / denominator;
  const norm: Status = resolvedError >= tolerance ? 'fail' : resolvedError >= tolerance / 100 ? 'warn' : 'pass';
  if (norm === 'fail') return { status: 'fail', failedBy: 'norm', resolvedError, floor: floorRel };
  if (wrongAt >= 0) return { status: 'fail', failedBy: 'element', resolvedError, floor: floorRel, element: wrongAt };
  return { status: norm, resolvedError, floor: floorRel };
}


const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1e-310, -1e-310, 1e-300) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
);
const near = (x: number) => fc.oneof(fc.constant(x), fc.constant(x * (1 + 1e-9)), fc.constant(-x), value);
const cases = fc.integer({ min: 0, max: 12 }).chain((n) => fc.record({
  g: fc.array(value, { minLength: n, maxLength: n }),
  skip: fc.option(fc.array(fc.constantFrom(0, 0, 0, 1), { minLength: n, maxLength: n }), { nil: undefined }),
  floor: fc.option(fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, NaN, Infinity)), { minLength: n, maxLength: n }), { nil: null }),
  tolerance: fc.constantFrom(1e-6, 1e-3),
})).chain((c) => fc.record({ c: fc.constant(c), gHat: fc.tuple(...c.g.map(near)) }));

const same = (x: unknown, y: unknown) => expect(JSON.stringify(x, (_k, v) => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : v))).toBe(JSON.stringify(y, (_k, v) => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : v)));

describe('compare and judge without Math calls', () => {
  it('compare gives what it gave with Math.abs and Math.max', () => {
    fc.assert(fc.property(cases, ({ c, gHat }) => {
      same(compare(c.g, gHat, c.skip), compareBefore(c.g, gHat, c.skip));
    }), { seed: 5, numRuns: 3000 });
  });

  it('judge gives what it gave with Math.abs and Math.max', () => {
    fc.assert(fc.property(cases, ({ c, gHat }) => {
      same(judge(c.g, gHat, c.floor, c.tolerance, c.skip), judgeBefore(c.g, gHat, c.floor, c.tolerance, c.skip));
    }), { seed: 6, numRuns: 3000 });
  });
});
