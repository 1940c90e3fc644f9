// The Taylor-remainder test: a verdict on a gradient that needs no step size ε. Along a seeded
// random unit direction v of a tensor,
//
//     r(h) = | J(θ + h·v) − J(θ) − h·g·v |
//
// is the error of the first-order model. If g is the gradient, r(h) = ½h²·vᵀHv + O(h³): halving h
// divides r by 4, order 2. If g is wrong by e, r(h) ≈ h·|e·v|: halving h halves r, order 1. The
// order is the slope of log r against log h, fitted over the smallest steps whose r stands clear
// of rounding. J(θ + h·v) − J(θ) is the difference source's `change`: the propagated one never
// subtracts two costs, so r keeps its digits down to very small h; one that does (costs.ts) says so,
// and its rounding is counted relative to J.
import type { DifferenceSource } from '../differences/source.js';
import type { NamedTensor } from '../model.js';
import type { Random } from '../random.js';

/** Halvings of the step: from h₀ down to h₀·2⁻²³. */
export const TAYLOR_STEPS = 24;
/** Points fitted: the smallest steps with a usable remainder. */
const FIT_POINTS = 6;

export interface TaylorResult {
  /** The fitted order of r(h); null when too few steps had a remainder above rounding. */
  order: number | null;
  /** ≈ 2 pass, ≈ 1 fail, in between or unknown inconclusive. */
  status: 'pass' | 'fail' | 'inconclusive';
  /** The steps and remainders fitted. */
  points: { h: number; r: number }[];
}

export function taylorStatus(order: number | null): TaylorResult['status'] {
  if (order === null) return 'inconclusive';
  if (order >= 1.8) return 'pass';
  if (order <= 1.2) return 'fail';
  return 'inconclusive';
}

/** The Taylor test of one tensor: `param` its weights, `g` the gradient under test, `source` one that answers `change`. */
export function taylorTest(source: DifferenceSource, param: NamedTensor, g: Float64Array, rng: Random): TaylorResult {
  const n = g.length;
  const v = rng.unitVector(n);
  let gv = 0;
  for (let i = 0; i < n; i++) gv += g[i] * v[i];
  const h0 = taylorStart(param.value.data);
  const steps = taylorSteps(h0);
  return taylorFit(steps, steps.map((h) => source.change!(param.ref, v, h)), gv, source.subtractedCost ?? 0);
}

/** A tenth of the tensor's own size to start with (at least 1e-3), so that the first steps show the curvature whatever the weight scale. */
export function taylorStart(weights: ArrayLike<number>): number {
  let norm = 0;
  for (let i = 0; i < weights.length; i++) norm += weights[i] ** 2;
  return 0.1 * Math.max(Math.sqrt(norm), 1e-2);
}

/** The TAYLOR_STEPS steps h₀, h₀/2, …, h₀·2⁻²³. */
export function taylorSteps(h0: number): number[] {
  return Array.from({ length: TAYLOR_STEPS }, (_, k) => h0 / 2 ** k);
}

/**
 * The order of r(h) = |change(h) − h·g·v| from the changes J(θ + h·v) − J(θ) at the steps, g·v the
 * gradient under test along v. `subtracted` is the |J| a change was subtracted from (0 when it was not),
 * `epsilon` the machine epsilon of the arithmetic the changes were computed in (2⁻²³ for float32).
 */
export function taylorFit(steps: readonly number[], changes: readonly number[], gv: number, subtracted: number, epsilon = Number.EPSILON): TaylorResult {
  const usable: { h: number; r: number }[] = [];
  steps.forEach((h, k) => {
    const change = changes[k];
    const r = Math.abs(change - h * gv);
    // Rounding in change and in h·g·v: a few ulps of the larger of them (or of J, when change subtracts two costs).
    const noise = 64 * epsilon * Math.max(Math.abs(change), Math.abs(h * gv), subtracted);
    if (Number.isFinite(r) && r > 100 * noise) usable.push({ h, r });
  });
  const points = usable.slice(-FIT_POINTS);
  const order = points.length >= 3 ? slope(points) : null;
  return { order, status: taylorStatus(order), points };
}

/** Least-squares slope of log r against log h. */
function slope(points: { h: number; r: number }[]): number {
  const xs = points.map((p) => Math.log(p.h)), ys = points.map((p) => Math.log(p.r));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  return sxy / sxx;
}
