// One record per activation: its value, its derivative (and the variable that derivative is
// naturally written in), and f(z + d) − f(z) computed without cancellation, which is what lets
// the finite differences stay accurate when a perturbation changes the output by 1e-13.
// Every record works on blocks of units × samples (forward, backward, columnDifference), so its
// callers need not know whether it is element-wise; element-wise records also state the scalar
// functions those blocks are made of, which the fast paths use directly.
import { compileFormula } from '../formula/formula.js';
import { differenceEvaluator } from '../formula/difference.js';
import { derivativeEvaluator, verifiedDerivativeText, type Point } from '../formula/derivative.js';
import { hasKinks, toProgram } from '../formula/program.js';
import { gateBackward, piecesForward } from '../layers/dense-kernel.js';

/** A block of values: `units` rows of `m` samples (columns), stored row-major. */
interface ColumnFunctions {
  /** a = g(z), sample by sample. */
  forward(z: Float64Array, a: Float64Array, units: number, m: number): void;
  /** dz = J_g(z)ᵀ·da, sample by sample: backprop through the activation. */
  backward(z: Float64Array, a: Float64Array, da: Float64Array, dz: Float64Array, units: number, m: number): void;
  /**
   * For a da of magnitudes (da ≥ 0), dz = the sum of the magnitudes of the terms whose signed sum
   * `backward` gives (element-wise: da·|g'|), which bounds that sum's rounding (check/resolution.ts).
   */
  backwardMagnitude(z: Float64Array, a: Float64Array, da: Float64Array, dz: Float64Array, units: number, m: number): void;
  /** out = g(z + dz) − g(z), sample by sample, without cancellation (a = g(z)). */
  columnDifference(z: Float64Array, a: Float64Array, dz: Float64Array, out: Float64Array, units: number, m: number): void;
}

interface ActivationRecord extends ColumnFunctions {
  /** Spec name, e.g. "tanh" or "leaky_relu(0.1)" or "expr(z / (1 + exp(-z)))". */
  name: string;
  /** ∂a_k/∂z_k given z and a: the diagonal of the Jacobian, which is all of it when `diagonal`. */
  derivative(z: number, a: number): number;
  /** The derivative as a user would write it, e.g. "1 - a^2". */
  derivativeText: string;
  /**
   * The derivative written both ways users write it, for naming a formula in a finding: in z, and
   * in the output a where it can be written so (with its value as a function of a alone). The
   * built-in element-wise activations have it; the diagnosis tries each as a wrong derivative.
   */
  written?: { z: string; a?: { text: string; fn: (a: number) => number } };
  /** Leaky ReLU and ELU: their α, and the same activation with another α. */
  alpha?: number;
  withAlpha?(alpha: number): Activation;
  /** Points where f' jumps: a perturbation crossing one makes the finite difference meaningless. */
  kinks: readonly number[];
  /**
   * Kinks that are not at fixed z (custom formulas with abs/sign/max/min): whether a step d from z
   * crosses one or starts exactly on one and moves. Used alongside `kinks`, by the same rule.
   */
  crosses?(z: number, d: number): boolean;
  /** Whether z sits exactly on such a kink. */
  onKink?(z: number): boolean;
  /** The family for health checks: saturating ones are judged by |a| near the bound. */
  family: 'sigmoid' | 'tanh' | 'relu' | 'linear' | 'smooth' | 'softmax';
  /** The finite values the output approaches as |z| grows (sigmoid, tanh, softmax); null when unbounded. */
  bounds: readonly [number, number] | null;
  /**
   * Where float64 rounds the output to exactly 0 or 1, the bounds of a probability, said when an
   * output sits there (cross-entropy cannot take it); null for outputs that are not probabilities.
   */
  roundsToBound: string | null;
  /** The outputs of a sample sum to 1 (a distribution over the units): the target must be one too. */
  sumsToOne: boolean;
}

/**
 * a_i = f(z_i): each output depends on its own pre-activation only, so the Jacobian is the
 * diagonal `derivative`, a sparse change of z stays sparse, and a per-element factor (a one-sided
 * slope, a mistaken derivative) can stand in for it.
 */
export interface ElementwiseActivation extends ActivationRecord {
  diagonal: true;
  /** f(z). */
  f(z: number): number;
  /** f(z + d) − f(z) without cancellation. */
  difference(z: number, a: number, d: number): number;
  /**
   * out[i] = difference(z, a, d[i]) for from ≤ i < to: many steps from one z (one unit of one
   * sample, as the finite differences take them), with what depends on z alone computed once.
   * Bit for bit the numbers `difference` gives; `out` may be `d`.
   */
  steps(z: number, a: number, d: Float64Array, out: Float64Array, from: number, to: number): void;
  /**
   * The same steps with z's constants computed by the caller, once for all the calls at that z
   * (the finite differences meet each unit of each sample thousands of times); tanh and sigmoid.
   */
  prepared?: PreparedSteps;
  /**
   * difference(z, a, ±0) is ±0 for every finite z and a: stated where it holds by construction,
   * so that a caller need not probe every z (tanh's and sigmoid's series: finite constants times d).
   */
  zeroStepIsZero?: true;
}

/** Every output of a sample depends on every unit's z (softmax): only the column functions apply. */
export interface CoupledActivation extends ActivationRecord {
  diagonal: false;
  /** How backprop through it is written, after "the <name> Jacobian", e.g. "dZ = a ⊙ (dA − Σₖ aₖ·dAₖ)". */
  jacobianText: string;
}

export type Activation = ElementwiseActivation | CoupledActivation;

/** What an element-wise record states; `elementwise` derives the rest. */
type Scalar = Omit<ElementwiseActivation, keyof ColumnFunctions | 'diagonal' | 'bounds' | 'roundsToBound' | 'sumsToOne' | 'steps'>
  & Partial<Pick<ElementwiseActivation, 'bounds' | 'roundsToBound' | 'steps' | 'prepared' | 'zeroStepIsZero' | 'backward' | 'forward'>>;

/**
 * An element-wise record from its scalar functions: its column functions are plain loops over
 * the block with the scalar functions hoisted, the same operations in the same order as a loop
 * that calls them directly. A record may state its own backward loop with its derivative
 * written in (the same operations: tanh, sigmoid, ReLU), or its forward loop with f written in
 * (ReLU), which saves a call per element.
 */
function elementwise(r: Scalar): ElementwiseActivation {
  const { f, derivative, difference } = r;
  return {
    bounds: null,
    roundsToBound: null,
    steps(z, a, d, out, from, to) {
      for (let i = from; i < to; i++) out[i] = difference(z, a, d[i]);
    },
    backward(z, a, da, dz, units, m) {
      for (let i = 0, n = units * m; i < n; i++) dz[i] = da[i] * derivative(z[i], a[i]);
    },
    forward(z, a, units, m) {
      // The typed array's own map, which calls f from compiled code: a loop here runs in V8's
      // interpreter for a check's one forward pass, at twice the time per element (Math.tanh).
      a.set(z.subarray(0, units * m).map(f));
    },
    ...r,
    diagonal: true,
    sumsToOne: false,
    backwardMagnitude(z, a, da, dz, units, m) {
      for (let i = 0, n = units * m; i < n; i++) dz[i] = da[i] * Math.abs(derivative(z[i], a[i]));
    },
    columnDifference(z, a, dz, out, units, m) {
      for (let i = 0, n = units * m; i < n; i++) out[i] = difference(z[i], a[i], dz[i]);
    },
  };
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

// Small steps of tanh and sigmoid, without transcendental calls per step.
//
// A finite difference moves a tanh or sigmoid unit by a tiny d, from one z many times (every
// perturbation of a row, every chain through the unit). For |d| ≤ 2⁻⁹ the change is the Taylor
// series f(z + d) − f(z) = f'(z)·d·(1 + k₂d + k₃d² + … + k₇d⁶), whose coefficients
// depend on z alone: they are computed once per z (`prepare`), and a step is a few multiply-adds.
// With T = tanh z, tanh's are k₂ = −T, k₃ = T² − 1/3, k₄ = T(2/3 − T²), k₅ = 2/15 − T² + T⁴,
// k₆ = T(−17/45 + 4T²/3 − T⁴), k₇ = −17/315 + 11T²/15 − 5T⁴/3 + T⁶ (f⁽ᵏ⁾/(k!·f') by tanh' = 1 − T²);
// the next term is below 2⁻⁶³·d (the series converges for |d| < π/2).
// σ(z) = (1 + tanh(z/2))/2, so sigmoid's are tanh's at T = tanh(z/2) with k_j scaled by 2^(1−j).
// f'(z) is what the accuracy rests on: sech²z = 4e/(1 + e)² with e = e^(−2|z|) (σ' = e/(1 + e)²
// with e = e^(−|z|)), in double-double from an exp of its own, since Math.exp's last bit is not
// always right. Then a step rounds twice (f'·d and the final sum) and is within about 1.2 ulp of
// the exact difference over the whole range of z (scripts/difference_kat.py). It also never
// rounds z + d, which costs the old formula ulps for large |z|. Larger steps use the closed form.

/** The largest |d| the series takes; beyond it the closed form (and its transcendental calls). */
const SERIES_LIMIT = 2 ** -9;
/** Per z: f' as hi + lo, k₂ … k₇, then z and a for the closed form. */
const PREPARED = 10;

const LN2_HI = 6.93147180369123816490e-1; // low 32 bits zero: k·LN2_HI is exact for |k| < 2²¹
const LN2_LO = 1.90821492927058770002e-10;
const SPLIT = 134217729; // 2²⁷ + 1, Dekker's splitter

/** The rounding error of a·b (a·b − fl(a·b) exactly, Dekker), for |a|, |b| ≤ 2⁹⁰⁰. */
function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** Scratch for expDD's double-double result. */
const EXP = new Float64Array(2);

/**
 * e^x for x ≤ 0 as a double-double in EXP (hi, lo), to about 2⁻⁵⁶ relative: x = k·ln 2 + r with
 * |r| ≤ ln2/2, e^r = 1 + r + r²·(1/2 + r/6 + … + r¹²/14!) with the 1 + r part exact (the tail is
 * below 0.07, so its rounding is below 2⁻⁵⁶), times 2^k.
 */
function expDD(x: number): void {
  if (!(x > -1100)) {
    EXP[0] = x === x ? 0 : x;
    EXP[1] = 0;
    return;
  }
  const k = Math.round(x * Math.LOG2E);
  const r0 = x - k * LN2_HI; // exact (Sterbenz)
  const c = -k * LN2_LO;
  const r = r0 + c, rl = (r0 - r) + c;
  let p = 1 / 87178291200;
  p = p * r + 1 / 6227020800;
  p = p * r + 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 0.5;
  const tail = r * r * p + rl * (1 + r);
  const s = 1 + r, sl = (1 - s) + r; // exact: |r| < 1
  const hi = s + (sl + tail), lo = (sl + tail) - (hi - s);
  if (k >= -1000) {
    const scale = 2 ** k;
    EXP[0] = hi * scale;
    EXP[1] = lo * scale;
  } else {
    // 2^k is subnormal or 0: scale in two steps. The parts' last bits then fall below 2⁻¹⁰⁷⁴,
    // an absolute error that a step (times |d| ≤ 2⁻⁹) makes negligible.
    EXP[0] = (hi * 2 ** (k + 200)) * 2 ** -200;
    EXP[1] = (lo * 2 ** (k + 200)) * 2 ** -200;
  }
}

/**
 * The per-z constants of the series at K[at …]: f' = scale·e/(1 + e)² in double-double with
 * e = e^(−2|w|), T = tanh w, and k_j = c_j(T)·half^(j−1). tanh: w = z, scale 4, half 1;
 * sigmoid: w = z/2, scale 1, half 1/2.
 */
function prepareSeries(z: number, a: number, w: number, scale: number, half: number, K: Float64Array, at: number): void {
  expDD(-2 * Math.abs(w));
  const eh = EXP[0], el = EXP[1];
  // q = 1 + e and q² in double-double.
  const qh = 1 + eh, ql = ((1 - qh) + eh) + el;
  const Qh = qh * qh, Ql = productError(qh, qh, Qh) + 2 * qh * ql;
  // f' = N/Q² with N = scale·e, one correction step of the quotient.
  const Nh = scale * eh, Nl = scale * el;
  const fh = Nh / Qh;
  const fl = (((Nh - fh * Qh) - productError(fh, Qh, fh * Qh)) + Nl - fh * Ql) / Qh;
  // T = sign(w)·(1 − e)/(1 + e): only its absolute error matters (it enters times d).
  const T = (w < 0 ? -1 : 1) * (((1 - eh) - el) / qh);
  const T2 = T * T;
  const h2 = half * half;
  K[at] = fh;
  K[at + 1] = fl;
  K[at + 2] = -T * half;
  K[at + 3] = (T2 - 1 / 3) * h2;
  K[at + 4] = T * (2 / 3 - T2) * (h2 * half);
  K[at + 5] = (2 / 15 + T2 * (T2 - 1)) * (h2 * h2);
  K[at + 6] = T * (-17 / 45 + T2 * (4 / 3 - T2)) * (h2 * h2 * half);
  K[at + 7] = (-17 / 315 + T2 * (11 / 15 + T2 * (T2 - 5 / 3))) * (h2 * h2 * h2);
  K[at + 8] = z;
  K[at + 9] = a;
}

/**
 * Below it the series stops at k₄d³: the first term left out, k₅d⁴, is then below 0.134·2⁻⁶⁰
 * (|k₅| ≤ 2/15), and a finite difference's steps are nearly all this small (ε·x·w ≈ 1e−7; 2⁻¹⁵ ≈ 3e−5).
 */
const SHORT_SERIES_LIMIT = 2 ** -15;

/**
 * f'·d·(1 + k₂d + … + k₇d⁶) as f'·d + (f'·d·(k₂d + …) + f'_lo·d), so that the 1 is never added
 * to a small number and rounded. Its arguments are the constants of `prepareSeries`, in order.
 */
function series(f: number, fl: number, k2: number, k3: number, k4: number, k5: number, k6: number, k7: number, d: number): number {
  const q = Math.abs(d) <= SHORT_SERIES_LIMIT
    ? d * (k2 + d * (k3 + d * k4))
    : d * (k2 + d * (k3 + d * (k4 + d * (k5 + d * (k6 + d * k7)))));
  const lead = f * d;
  return lead + (lead * q + fl * d);
}

/** series() with the constants at K[o …]. */
function seriesStep(K: Float64Array, o: number, d: number): number {
  return series(K[o], K[o + 1], K[o + 2], K[o + 3], K[o + 4], K[o + 5], K[o + 6], K[o + 7], d);
}

/**
 * out[i] = series(…, d[i]) where |d[i]| ≤ SERIES_LIMIT, wide(z, a, d[i]) elsewhere, with z's
 * constants at K[at …] read once (out may share K's buffer as far as the compiler knows).
 */
function seriesSteps(
  K: Float64Array, at: number, d: Float64Array, out: Float64Array, from: number, to: number,
  wide: (z: number, a: number, d: number) => number,
): void {
  const f = K[at], fl = K[at + 1], k2 = K[at + 2], k3 = K[at + 3], k4 = K[at + 4], k5 = K[at + 5], k6 = K[at + 6], k7 = K[at + 7];
  for (let i = from; i < to; i++) {
    const x = d[i];
    out[i] = Math.abs(x) <= SERIES_LIMIT ? series(f, fl, k2, k3, k4, k5, k6, k7, x) : wide(K[at + 8], K[at + 9], x);
  }
}

/** seriesSteps on the steps w·d[t], written at out[offset + t]; whether any is nonzero. */
function seriesScaledSteps(
  K: Float64Array, at: number, w: number, d: Float64Array, out: Float64Array, offset: number, count: number,
  wide: (z: number, a: number, d: number) => number,
): boolean {
  const f = K[at], fl = K[at + 1], k2 = K[at + 2], k3 = K[at + 3], k4 = K[at + 4], k5 = K[at + 5], k6 = K[at + 6], k7 = K[at + 7];
  let any = false;
  for (let t = 0; t < count; t++) {
    const x = w * d[t];
    const r = Math.abs(x) <= SERIES_LIMIT ? series(f, fl, k2, k3, k4, k5, k6, k7, x) : wide(K[at + 8], K[at + 9], x);
    out[offset + t] = r;
    if (r !== 0) any = true;
  }
  return any;
}

/** PreparedSteps.each: out[i] = series(…, d[i]) by the constants of element i, at K[at + (i − from)·PREPARED …]. */
function seriesEach(
  K: Float64Array, at: number, d: Float64Array, out: Float64Array, from: number, to: number,
  wide: (z: number, a: number, d: number) => number,
): void {
  for (let i = from, o = at; i < to; i++, o += PREPARED) {
    const x = d[i];
    out[i] = Math.abs(x) <= SERIES_LIMIT
      ? series(K[o], K[o + 1], K[o + 2], K[o + 3], K[o + 4], K[o + 5], K[o + 6], K[o + 7], x)
      : wide(K[o + 8], K[o + 9], x);
  }
}

/**
 * seriesScaledSteps where every step w·d[t] is known to take the short series (|w·d[t]| ≤
 * SHORT_SERIES_LIMIT): the same arithmetic as series() on that branch, with no test per step.
 */
function shortScaledSteps(K: Float64Array, at: number, w: number, d: Float64Array, out: Float64Array, offset: number, count: number): boolean {
  const f = K[at], fl = K[at + 1], k2 = K[at + 2], k3 = K[at + 3], k4 = K[at + 4];
  let any = 0;
  for (let t = 0; t < count; t++) {
    const x = w * d[t];
    const q = x * (k2 + x * (k3 + x * k4));
    const lead = f * x;
    const r = lead + (lead * q + fl * x);
    out[offset + t] = r;
    any |= r !== 0 ? 1 : 0;
  }
  return any === 1;
}

/**
 * PreparedSteps.scaledColumns by seriesScaledSteps, unit after unit; a unit whose every step is
 * short by |w|·max|d| (rounding is monotone, so no |w·d[t]| exceeds it) by shortScaledSteps.
 */
function seriesColumns(
  K: Float64Array, at: number, w: Float64Array, wFrom: number, wStride: number, units: number,
  d: Float64Array, out: Float64Array, count: number, nonZero: Uint8Array, wide: (z: number, a: number, d: number) => number,
): void {
  // NaN among the steps makes dMax NaN (Math.max keeps it), and every unit takes the general path.
  let dMax = 0;
  for (let t = 0; t < count; t++) dMax = Math.max(dMax, Math.abs(d[t]));
  for (let u = 0; u < units; u++) {
    const wu = w[wFrom + u * wStride];
    const short = Math.abs(wu) * dMax <= SHORT_SERIES_LIMIT;
    nonZero[u] = (short
      ? shortScaledSteps(K, at + u * PREPARED, wu, d, out, u * count, count)
      : seriesScaledSteps(K, at + u * PREPARED, wu, d, out, u * count, count, wide)) ? 1 : 0;
  }
}

/** Scratch for a single difference's constants. */
const ONE = new Float64Array(PREPARED);

/** Per-z constants computed once for many steps: what `steps` uses, held by a caller for many calls. */
export interface PreparedSteps {
  /** Constants per z. */
  size: number;
  /**
   * The series' parameters, for a kernel that computes the same constants and steps (tanh: w = z,
   * scale 4; sigmoid: w = z·½, scale 1; see prepareSeries and differences/rows.wat).
   */
  series?: { half: number; scale: number };
  /** Writes z's constants at K[at … at + size). */
  prepare(z: number, a: number, K: Float64Array, at: number): void;
  /** prepare(z[from + u], a[from + u], K, at + u·size) for u < count: a sample's units, one after the other. */
  prepareUnits(z: Float64Array, a: Float64Array, from: number, count: number, K: Float64Array, at: number): void;
  /** out[i] = difference(z, a, d[i]) for from ≤ i < to, with z's constants at K[at …]; `out` may be `d`. */
  steps(K: Float64Array, at: number, d: Float64Array, out: Float64Array, from: number, to: number): void;
  /**
   * Each element its own z: out[i] = difference(z_i, a_i, d[i]) for from ≤ i < to, with element
   * i's constants at K[at + (i − from)·size …] (a block of units × samples prepared once, as a
   * directional check meets it for every direction and both signs); `out` may be `d`.
   */
  each(K: Float64Array, at: number, d: Float64Array, out: Float64Array, from: number, to: number): void;
  /**
   * A rank-1 change w ⊗ d through `units` units whose constants follow each other from K[at]:
   * out[u·count + t] = difference(z_u, a_u, w[wFrom + u·wStride]·d[t]) for t < count, the product
   * and the step in one pass, and nonZero[u] = whether any of unit u's is nonzero.
   */
  scaledColumns(
    K: Float64Array, at: number, w: Float64Array, wFrom: number, wStride: number, units: number,
    d: Float64Array, out: Float64Array, count: number, nonZero: Uint8Array,
  ): void;
}

/** tanh(z + d) − tanh z for a large step: sinh d/(cosh z·cosh(z + d)), dividing twice so that the product cannot overflow. */
function tanhWide(z: number, _a: number, d: number): number {
  return Math.sinh(d) / Math.cosh(z) / Math.cosh(z + d);
}

/** σ(z + d) − σ(z) for a large step: expm1(d)·σ(z)·(1 − σ(z + d)). */
function sigmoidWide(z: number, a: number, d: number): number {
  return Math.expm1(d) * a * sigmoid(-(z + d));
}

const prepareTanh = (z: number, a: number, K: Float64Array, at: number): void => prepareSeries(z, a, z, 4, 1, K, at);
const prepareSigmoid = (z: number, a: number, K: Float64Array, at: number): void => prepareSeries(z, a, z / 2, 1, 0.5, K, at);

// Two literal records rather than one factory: closures made by one factory share their type
// feedback in V8, so tanh's and sigmoid's loops would be compiled as one polymorphic loop.
const TANH_STEPS: PreparedSteps = {
  size: PREPARED,
  series: { half: 1, scale: 4 },
  prepare: prepareTanh,
  prepareUnits(z, a, from, count, K, at) {
    for (let u = 0; u < count; u++) prepareTanh(z[from + u], a[from + u], K, at + u * PREPARED);
  },
  steps: (K, at, d, out, from, to) => seriesSteps(K, at, d, out, from, to, tanhWide),
  each: (K, at, d, out, from, to) => seriesEach(K, at, d, out, from, to, tanhWide),
  scaledColumns: (K, at, w, wFrom, wStride, units, d, out, count, nz) => seriesColumns(K, at, w, wFrom, wStride, units, d, out, count, nz, tanhWide),
};

const SIGMOID_STEPS: PreparedSteps = {
  size: PREPARED,
  series: { half: 0.5, scale: 1 },
  prepare: prepareSigmoid,
  prepareUnits(z, a, from, count, K, at) {
    for (let u = 0; u < count; u++) prepareSigmoid(z[from + u], a[from + u], K, at + u * PREPARED);
  },
  steps: (K, at, d, out, from, to) => seriesSteps(K, at, d, out, from, to, sigmoidWide),
  each: (K, at, d, out, from, to) => seriesEach(K, at, d, out, from, to, sigmoidWide),
  scaledColumns: (K, at, w, wFrom, wStride, units, d, out, count, nz) => seriesColumns(K, at, w, wFrom, wStride, units, d, out, count, nz, sigmoidWide),
};

function tanhDifference(z: number, a: number, d: number): number {
  if (!(Math.abs(d) <= SERIES_LIMIT)) return tanhWide(z, a, d);
  prepareTanh(z, a, ONE, 0);
  return seriesStep(ONE, 0, d);
}

function sigmoidDifference(z: number, a: number, d: number): number {
  if (!(Math.abs(d) <= SERIES_LIMIT)) return sigmoidWide(z, a, d);
  prepareSigmoid(z, a, ONE, 0);
  return seriesStep(ONE, 0, d);
}

/** steps(z, a, …) of a record with prepared steps: its constants once, into a scratch block. */
function stepsFrom(prepared: PreparedSteps): ElementwiseActivation['steps'] {
  const K = new Float64Array(prepared.size);
  return (z, a, d, out, from, to) => {
    prepared.prepare(z, a, K, 0);
    prepared.steps(K, 0, d, out, from, to);
  };
}

const SIGMOID = elementwise({
  name: 'sigmoid',
  f: sigmoid,
  derivative: (_z, a) => a * (1 - a),
  derivativeText: 'a * (1 - a)',
  written: { z: 'sigmoid(z) * (1 - sigmoid(z))', a: { text: 'a * (1 - a)', fn: (a) => a * (1 - a) } },
  // Small steps by the series (see below); large ones by expm1(d)·σ(z)·(1 − σ(z+d)).
  difference: sigmoidDifference,
  // Backprop runs this once per check, in V8's interpreter, where a call per element costs more
  // than the element: elementwise's loop with a·(1 − a) written in, the same operations, in the
  // dense kernel where it runs.
  backward(z, a, da, dz, units, m) {
    if (gateBackward('sigmoid', z, a, da, dz, units * m)) return;
    for (let i = 0, n = units * m; i < n; i++) {
      const y = a[i];
      dz[i] = da[i] * (y * (1 - y));
    }
  },
  steps: stepsFrom(SIGMOID_STEPS),
  prepared: SIGMOID_STEPS,
  zeroStepIsZero: true,
  kinks: [],
  family: 'sigmoid',
  bounds: [0, 1],
  roundsToBound: '1/(1 + e^−z) rounds to exactly 1 for z ≥ 36.7 and to 0 for z ≤ −745',
});

const TANH = elementwise({
  name: 'tanh',
  f: Math.tanh,
  derivative: (_z, a) => 1 - a * a,
  derivativeText: '1 - a^2',
  written: { z: '1 - tanh(z)^2', a: { text: '1 - a^2', fn: (a) => 1 - a * a } },
  // Small steps by the series (see below); large ones by tanh(x) − tanh(y) = sinh(x − y)/(cosh x·cosh y),
  // where cosh overflowing to ∞ correctly gives 0.
  difference: tanhDifference,
  // elementwise's loop with 1 − a² written in, as sigmoid's.
  backward(z, a, da, dz, units, m) {
    if (gateBackward('tanh', z, a, da, dz, units * m)) return;
    for (let i = 0, n = units * m; i < n; i++) {
      const y = a[i];
      dz[i] = da[i] * (1 - y * y);
    }
  },
  steps: stepsFrom(TANH_STEPS),
  prepared: TANH_STEPS,
  zeroStepIsZero: true,
  kinks: [],
  family: 'tanh',
  bounds: [-1, 1],
});

function piecewiseLinear(name: string, slopeBelow: number): ElementwiseActivation {
  const f = (z: number) => (z > 0 ? z : slopeBelow * z);
  const derivativeText = slopeBelow === 0 ? 'z > 0 ? 1 : 0' : `z > 0 ? 1 : ${slopeBelow}`;
  return elementwise({
    name,
    f,
    derivative: (z) => (z > 0 ? 1 : slopeBelow),
    derivativeText,
    written: { z: derivativeText },
    difference: (z, a, d) => {
      const w = z + d;
      if (z > 0 && w > 0) return d;
      if (z <= 0 && w <= 0) return slopeBelow * d;
      return f(w) - a;
    },
    kinks: [0],
    family: 'relu',
    // A step of ±0 takes the first or second branch for every finite z: ±0 or slope·(±0).
    zeroStepIsZero: true,
    // The forward pass and backprop's gate as loops with f and f' written in, in the dense kernel
    // where it runs (cold, a call per element costs more than the element).
    forward(z, a, units, m) {
      if (piecesForward(z, a, units * m, slopeBelow)) return;
      for (let i = 0, n = units * m; i < n; i++) {
        const x = z[i];
        a[i] = x > 0 ? x : slopeBelow * x;
      }
    },
    backward(z, a, da, dz, units, m) {
      if (gateBackward('pieces', z, a, da, dz, units * m, slopeBelow)) return;
      for (let i = 0, n = units * m; i < n; i++) dz[i] = da[i] * (z[i] > 0 ? 1 : slopeBelow);
    },
  });
}

export function leakyRelu(alpha: number): ElementwiseActivation {
  return { ...piecewiseLinear(`leaky_relu(${alpha})`, alpha), alpha, withAlpha: leakyRelu };
}

const LINEAR = elementwise({
  name: 'linear',
  f: (z) => z,
  derivative: () => 1,
  derivativeText: '1',
  written: { z: '1' },
  difference: (_z, _a, d) => d,
  kinks: [],
  family: 'linear',
});

const SOFTPLUS = elementwise({
  name: 'softplus',
  f: (z) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))),
  derivative: (z) => sigmoid(z),
  derivativeText: 'sigmoid(z)',
  written: { z: 'sigmoid(z)', a: { text: '1 - exp(-a)', fn: (a) => -Math.expm1(-a) } },
  // log(1 + e^(z+d)) − log(1 + e^z) = log1p(σ(z)·expm1(d))
  difference: (z, _a, d) => Math.log1p(sigmoid(z) * Math.expm1(d)),
  kinks: [],
  family: 'smooth',
});

export function elu(alpha: number): ElementwiseActivation {
  const f = (z: number) => (z > 0 ? z : alpha * Math.expm1(z));
  return elementwise({
    name: alpha === 1 ? 'elu' : `elu(${alpha})`,
    f,
    derivative: (z, a) => (z > 0 ? 1 : a + alpha),
    derivativeText: `z > 0 ? 1 : a + ${alpha}`,
    written: { z: `z > 0 ? 1 : ${alpha} * exp(z)`, a: { text: `a > 0 ? 1 : a + ${alpha}`, fn: (a) => (a > 0 ? 1 : a + alpha) } },
    difference: (z, a, d) => {
      const w = z + d;
      if (z > 0 && w > 0) return d;
      if (z <= 0 && w <= 0) return alpha * Math.exp(z) * Math.expm1(d);
      return f(w) - a;
    },
    // With alpha = 1 the first derivative is continuous at 0 but the second is not; a step
    // across 0 still costs accuracy, so 0 counts as a kink either way.
    kinks: [0],
    family: 'smooth',
    alpha,
    withAlpha: elu,
  });
}

/**
 * Softmax over the units of one sample: a_k = e^{z_k} / Σ_j e^{z_j}. Its Jacobian is
 * diag(a) − a·aᵀ, whose diagonal a_k(1 − a_k) is `derivative`.
 */
const SOFTMAX: CoupledActivation = {
  name: 'softmax',
  diagonal: false,
  forward: (z, a, units, m) => softmaxColumns(z, a, units, m),
  backward: (_z, a, da, dz, units, m) => softmaxBackwardColumns(a, da, dz, units, m),
  backwardMagnitude: (_z, a, da, dz, units, m) => softmaxBackwardMagnitude(a, da, dz, units, m),
  columnDifference: (_z, a, dz, out, units, m) => softmaxDifferenceColumns(a, dz, out, units, m),
  derivative: (_z, a) => a * (1 - a),
  derivativeText: 'a * (1 - a)  (diagonal of the Jacobian)',
  jacobianText: 'dZ = a ⊙ (dA − Σₖ aₖ·dAₖ)',
  kinks: [],
  family: 'softmax',
  bounds: [0, 1],
  roundsToBound: 'softmax rounds a class to exactly 0 once its logit is about 745 below the largest, and to 1 when all others are',
  sumsToOne: true,
};

/** Where a custom activation's shown derivative is compared with the AD one (0 itself is avoided: kinks). */
const Z_POINTS = [-6.1, -4.3, -2.9, -1.7, -1.1, -0.93, -0.41, -0.23, -0.07, -0.013, 0.011, 0.13, 0.29, 0.52, 0.77, 1.09, 1.6, 2.3, 3.7, 5.2];

/**
 * A custom element-wise activation from a formula in z. Its derivative comes from automatic
 * differentiation and its difference f(z + d) − f(z) from the formula's values, node by node
 * (formula/difference.ts): neither from the symbolic derivative, which is only shown, once verified.
 */
export function customActivation(source: string): ElementwiseActivation {
  const formula = compileFormula(source, ['z']);
  const program = toProgram(formula.node);
  const ad = derivativeEvaluator(program, 'z');
  const diff = differenceEvaluator(program, 'z');
  const f = (z: number) => formula.fn(z, 0, 0);
  const points: Point[] = Z_POINTS.map((z) => [z, f(z), 0]);
  const act = elementwise({
    name: `expr(${source})`,
    f,
    derivative: (z) => ad.derivative(z, 0, 0),
    derivativeText: verifiedDerivativeText(formula, 'z', ad, points),
    difference: (z, _a, d) => (d === 0 ? 0 : diff.difference(z, 0, 0, d)),
    kinks: [],
    family: 'smooth',
  });
  if (hasKinks(program)) {
    // abs/sign/max/min: a crossing is a sign change of their argument, wherever that lies in z.
    act.crosses = (z, d) => {
      if (d === 0) return false;
      diff.difference(z, 0, 0, d);
      return diff.kink;
    };
    act.onKink = (z) => {
      ad.derivative(z, 0, 0);
      return ad.onKink;
    };
  }
  return act;
}

const NAMED: Record<string, Activation> = {
  sigmoid: SIGMOID,
  tanh: TANH,
  relu: piecewiseLinear('relu', 0),
  leaky_relu: leakyRelu(0.01),
  linear: LINEAR,
  softplus: SOFTPLUS,
  elu: elu(1),
  softmax: SOFTMAX,
};

export const ACTIVATION_NAMES = Object.keys(NAMED);

export function namedActivation(name: string): Activation | undefined {
  return Object.hasOwn(NAMED, name) ? NAMED[name] : undefined;
}

// Column-wise softmax over a units × m matrix stored row-major.

/** a[:, col] = softmax(z[:, col]) for every column. */
export function softmaxColumns(z: Float64Array, a: Float64Array, units: number, m: number): void {
  for (let col = 0; col < m; col++) {
    let max = -Infinity;
    for (let k = 0; k < units; k++) max = Math.max(max, z[k * m + col]);
    let sum = 0;
    for (let k = 0; k < units; k++) {
      const e = Math.exp(z[k * m + col] - max);
      a[k * m + col] = e;
      sum += e;
    }
    for (let k = 0; k < units; k++) a[k * m + col] /= sum;
  }
}

/**
 * δa = softmax(z + δz) − softmax(z) per column, without cancellation:
 * δa_k = a_k · expm1(δz_k − δLSE), δLSE = log1p(Σ_j a_j · expm1(δz_j)).
 */
export function softmaxDifferenceColumns(
  a: Float64Array, dz: Float64Array, out: Float64Array, units: number, m: number,
): void {
  for (let col = 0; col < m; col++) {
    // Units whose z does not move (a perturbation of one unit's row moves that row alone) add
    // a·expm1(0) = 0 to the sum and change by a·expm1(0 − δLSE): skipped, and one expm1 per
    // column for them all, the same numbers as the loop over every unit.
    let s = 0;
    for (let k = 0; k < units; k++) {
      const d = dz[k * m + col];
      if (d !== 0) s += a[k * m + col] * Math.expm1(d);
    }
    const dlse = Math.log1p(s);
    const still = Math.expm1(0 - dlse);
    for (let k = 0; k < units; k++) {
      const d = dz[k * m + col];
      out[k * m + col] = a[k * m + col] * (d !== 0 ? Math.expm1(d - dlse) : still);
    }
  }
}

/** dz = J_softmax(a)ᵀ · da per column: dz_k = a_k (da_k − Σ_j a_j da_j). */
export function softmaxBackwardColumns(
  a: Float64Array, da: Float64Array, dz: Float64Array, units: number, m: number,
): void {
  for (let col = 0; col < m; col++) {
    let dot = 0;
    for (let k = 0; k < units; k++) dot += a[k * m + col] * da[k * m + col];
    for (let k = 0; k < units; k++) dz[k * m + col] = a[k * m + col] * (da[k * m + col] - dot);
  }
}

/** The terms a_k·da_k and a_k·a_j·da_j of softmaxBackwardColumns in magnitude: dz_k = |a_k| (|da_k| + Σ_j |a_j da_j|). */
function softmaxBackwardMagnitude(
  a: Float64Array, da: Float64Array, dz: Float64Array, units: number, m: number,
): void {
  for (let col = 0; col < m; col++) {
    let dot = 0;
    for (let k = 0; k < units; k++) dot += Math.abs(a[k * m + col] * da[k * m + col]);
    for (let k = 0; k < units; k++) dz[k * m + col] = Math.abs(a[k * m + col]) * (Math.abs(da[k * m + col]) + dot);
  }
}
