// The arithmetic of differences taken through a user's program: its precision, the steps it really
// takes, what rounding leaves of a difference, and the choice of one step per tensor.
//
// The program adds δ to θᵢ in its own precision, so the step taken is fl(θᵢ + δ) − θᵢ, not δ. We
// send that effective step itself (it is exact in either precision: θᵢ + (fl(θᵢ + δ) − θᵢ) is the
// representable fl(θᵢ + δ)) and divide by it. Each cost is the program's J rounded in its
// precision, after however many operations: we trust it to ROUNDING_ULPS units of rounding of |J|,
// so a central difference (J₊ − J₋) / (h₊ + h₋) is resolved to ROUNDING_ULPS·u·(|J₊| + |J₋|) / (h₊ + h₋).
import { isFloat32 } from '../check/edges.js';
import type { ProgramTensor } from './program.js';

export type Precision = 'float32' | 'float64';

/** Unit roundoff of each precision. */
export const UNIT: Record<Precision, number> = { float32: 2 ** -24, float64: 2 ** -53 };

/** How many units of rounding of |J| one of the program's costs is trusted to (its sums round many times). */
export const ROUNDING_ULPS = 32;

/**
 * The precision the program computes in: what its hello says, else float32 when every parameter and
 * the cost are exactly float32 values (a float64 computation gives that with probability 2⁻²⁹ per value).
 */
export function precisionOf(dtype: Precision | undefined, params: readonly ProgramTensor[], cost: number): Precision {
  if (dtype) return dtype;
  const all = params.every((p) => p.value.data.every((v) => Math.fround(v) === v));
  const informative = params.some((p) => isFloat32(p.value.data));
  return all && informative && Math.fround(cost) === cost ? 'float32' : 'float64';
}

/** Rounds to the program's precision. */
export function roundTo(precision: Precision, x: number): number {
  return precision === 'float32' ? Math.fround(x) : x;
}

/**
 * The steps the program really takes up and down from θ for a nominal step δ: fl(θ + δ) − θ and
 * θ − fl(θ − δ). A δ below 64 units of rounding of θ is raised to that, so that θ ± δ differ from θ.
 */
export function effectiveSteps(precision: Precision, theta: number, delta: number): [number, number] {
  const h = Math.max(delta, 64 * UNIT[precision] * Math.abs(theta));
  return [roundTo(precision, theta + h) - theta, theta - roundTo(precision, theta - h)];
}

/** The rounding of one cost to expect (not to bound): what the step choice weighs against truncation. */
export const TYPICAL_ULPS = 2;

/** What rounding leaves of (a − b) / step when a and b are costs: ulps·u·(|a| + |b|) / step (a bound with ROUNDING_ULPS). */
export function roundingFloor(unit: number, a: number, b: number, step: number, ulps = ROUNDING_ULPS): number {
  return (ulps * unit * (Math.abs(a) + Math.abs(b))) / step;
}

/**
 * The nominal steps the per-tensor sweep tries: scale·10⁻² … scale·10⁻⁹ in float64, scale·10⁻² …
 * scale·10⁻⁵ in float32 (whose rounding wins sooner). Never larger: a few pilot elements can look
 * smooth at 10⁻¹ of the scale while other elements' steps cross a program's ReLU or max-pool kinks,
 * which the program does not show; the smallest steps that still resolve keep those crossings rare
 * (central differences' optimum is near u^⅓ of the scale: 5·10⁻⁶ in float64, 4·10⁻³ in float32).
 */
export function pilotSteps(precision: Precision, scale: number): number[] {
  const [first, last] = precision === 'float32' ? [2, 5] : [2, 9];
  return Array.from({ length: last - first + 1 }, (_, k) => scale * 10 ** -(first + k));
}

/** A tensor's own scale: the root mean square of its values, at least 1 (a step is never below the inputs' scale). */
export function scaleOf(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  const rms = values.length === 0 ? 0 : Math.sqrt(s / values.length);
  return Number.isFinite(rms) ? Math.max(rms, 1) : 1;
}

/**
 * One tensor's step from its sweep: D[k] the central differences of the pilot elements at steps[k]
 * (largest first), floors[k] their typical rounding (TYPICAL_ULPS). The error at step k is estimated as
 * its truncation, ‖D[k] − D[k+1]‖ (the next decade's truncation is a hundredth of it), plus its
 * rounding; the step is the largest whose estimate is within 2× of the smallest: where the estimate
 * has stopped improving (a decade larger costs 100× in truncation, so 2× keeps the best decade). Nothing compared with the gradient under test, so a wrong gradient cannot steer it.
 */
export function chooseStep(steps: readonly number[], D: readonly Float64Array[], floors: readonly Float64Array[]): { step: number; estimate: number[] } {
  const norm = (x: ArrayLike<number>) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * x[i]; return Math.sqrt(s); };
  const estimate = steps.map((_h, k) => {
    const next = k + 1 < steps.length ? D[k + 1] : null;
    let trunc = 0;
    if (next) { for (let i = 0; i < D[k].length; i++) trunc += (D[k][i] - next[i]) ** 2; trunc = Math.sqrt(trunc); }
    const e = trunc + norm(floors[k]);
    return Number.isFinite(e) ? e : Infinity;
  });
  // The last step has no smaller one to estimate its truncation from: it is never preferred for that.
  const best = Math.min(...estimate.slice(0, -1));
  // Nothing finite to go by: the middle of the decades (10⁻⁶ of the scale in float64).
  if (!Number.isFinite(best)) return { step: steps[Math.floor(steps.length / 2)], estimate };
  const at = estimate.findIndex((e) => e <= 2 * best);
  return { step: steps[at], estimate };
}
