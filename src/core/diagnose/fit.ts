// The arithmetic of fitting a candidate to a tested tensor, shared by the fingerprint search and
// the mistake records that estimate a parameter (a factor k, a penalty weight β) from the tensors.
import { compare } from '../check/compare.js';

/** A candidate reproduces a tensor when their relative difference is at most this. */
export const MATCH = 1e-6;

/** The relative difference of two arrays (check/compare.ts's). */
export const relative = (x: ArrayLike<number>, y: ArrayLike<number>) => compare(x, y).relativeError;

export const matches = (x: ArrayLike<number>, y: ArrayLike<number>) => relative(x, y) <= MATCH;

export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** x·a + y·b, element by element (b = null: x·a). */
export function combination(a: ArrayLike<number>, x: number, b: ArrayLike<number> | null, y: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = x * a[i] + (b ? y * b[i] : 0);
  return out;
}

/** k = ⟨t, c⟩/⟨c, c⟩ minimising ‖t − k·c‖, when k·c reproduces t and k is not 1. */
export function fittedFactor(t: ArrayLike<number>, c: ArrayLike<number>): number | null {
  const cc = dot(c, c);
  if (!(cc > 0) || !Number.isFinite(cc)) return null;
  const k = dot(t, c) / cc;
  if (!Number.isFinite(k) || Math.abs(k - 1) <= MATCH) return null;
  return matches(t, combination(c, k, null, 0)) ? k : null;
}
