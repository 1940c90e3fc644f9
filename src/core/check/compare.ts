// Comparing a gradient under test (g) with the finite differences (ĝ), per tensor.
import type { Status, TensorCheck } from '../report.js';

export interface Comparison {
  relativeError: number;
  maxElementError: number;
  worstAt: number;
  analyticNorm: number;
  numericNorm: number;
}

/**
 * ‖g − ĝ‖₂ / (‖g‖₂ + ‖ĝ‖₂) (0 when both are 0) and the largest per-element
 * |gᵢ − ĝᵢ| / max(|gᵢ|, |ĝᵢ|). Entries where `skip` is set (kinks) are left out.
 * The worst element is the one with the largest absolute difference. Non-finite values make
 * the errors NaN, which `statusOf` treats as a failure.
 */
export function compare(g: ArrayLike<number>, gHat: ArrayLike<number>, skip?: ArrayLike<boolean | number>): Comparison {
  // |x| and the larger of two by comparisons, not Math.abs/Math.max: this runs once per tensor,
  // before V8 has optimised it, where a call per value costs more than the arithmetic. Their NaN
  // (and −0) cases give what the Math functions give wherever it shows in the result.
  let diff2 = 0, g2 = 0, h2 = 0, maxElem = 0, worstAt = -1, worstAbs = -1;
  // Scale the sums so that tiny (1e-170) or huge gradients do not under- or overflow.
  let scale = 0, nan = false;
  for (let i = 0; i < g.length; i++) {
    if (skip !== undefined && skip[i]) continue;
    const a = g[i], n = gHat[i];
    const absA = a < 0 ? -a : a, absN = n < 0 ? -n : n;
    if (absA > scale) scale = absA;
    if (absN > scale) scale = absN;
    if (a !== a || n !== n) nan = true;
  }
  if (nan || !(scale > 0) || scale === Infinity) scale = 1;
  for (let i = 0; i < g.length; i++) {
    if (skip !== undefined && skip[i]) continue;
    const a = g[i], n = gHat[i];
    const d = a - n;
    diff2 += (d / scale) ** 2;
    g2 += (a / scale) ** 2;
    h2 += (n / scale) ** 2;
    const absD = d < 0 ? -d : d;
    const absA = a < 0 ? -a : a, absN = n < 0 ? -n : n;
    const denom = absA > absN ? absA : absN;
    // A NaN difference (a NaN value, or Inf − Inf) makes e NaN, as Math.max's NaN did.
    const e = absD !== absD ? NaN : denom === 0 ? 0 : absD / denom;
    if (e !== e) maxElem = NaN;
    else if (e > maxElem) maxElem = e;
    // A NaN difference counts as the largest one.
    const size = absD !== absD ? Infinity : absD;
    if (size > worstAbs) { worstAbs = size; worstAt = i; }
  }
  const gn = Math.sqrt(g2), hn = Math.sqrt(h2);
  const relativeError = gn + hn === 0 ? 0 : Math.sqrt(diff2) / (gn + hn);
  return { relativeError, maxElementError: maxElem, worstAt, analyticNorm: gn * scale, numericNorm: hn * scale };
}

/** Fails at or above the tolerance; warns within two decades below it (the pass margin we promise). */
export function statusOf(relativeError: number, tolerance: number): Status {
  if (!Number.isFinite(relativeError) || relativeError >= tolerance) return 'fail';
  if (relativeError >= tolerance / 100) return 'warn';
  return 'pass';
}

export function worstOf(c: Comparison, index: (flat: number) => number[], g: ArrayLike<number>, gHat: ArrayLike<number>): TensorCheck['worst'] {
  return c.worstAt < 0 ? null : { index: index(c.worstAt), analytic: g[c.worstAt], numeric: gHat[c.worstAt] };
}
