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
  & Partial<Pick<ElementwiseActivation, 'bounds' | 'roundsToBound' | 'steps'>>;

/**
 * An element-wise record from its scalar functions: its column functions are plain loops over
 * the block with the scalar functions hoisted, the same operations in the same order as a loop
 * that calls them directly.
 */
function elementwise(r: Scalar): ElementwiseActivation {
  const { f, derivative, difference } = r;
  return {
    bounds: null,
    roundsToBound: null,
    steps(z, a, d, out, from, to) {
      for (let i = from; i < to; i++) out[i] = difference(z, a, d[i]);
    },
    ...r,
    diagonal: true,
    sumsToOne: false,
    forward(z, a, units, m) {
      for (let i = 0, n = units * m; i < n; i++) a[i] = f(z[i]);
    },
    backward(z, a, da, dz, units, m) {
      for (let i = 0, n = units * m; i < n; i++) dz[i] = da[i] * derivative(z[i], a[i]);
    },
    backwardMagnitude(z, a, da, dz, units, m) {
      for (let i = 0, n = units * m; i < n; i++) dz[i] = da[i] * Math.abs(derivative(z[i], a[i]));
    },
    columnDifference(z, a, dz, out, units, m) {
      for (let i = 0, n = units * m; i < n; i++) out[i] = difference(z[i], a[i], dz[i]);
    },
  };
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

const SIGMOID = elementwise({
  name: 'sigmoid',
  f: sigmoid,
  derivative: (_z, a) => a * (1 - a),
  derivativeText: 'a * (1 - a)',
  written: { z: 'sigmoid(z) * (1 - sigmoid(z))', a: { text: 'a * (1 - a)', fn: (a) => a * (1 - a) } },
  // σ(z+d) − σ(z) = expm1(d)·σ(z)·(1 − σ(z+d))
  difference: (z, a, d) => Math.expm1(d) * a * sigmoid(-(z + d)),
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
  // tanh(x) − tanh(y) = sinh(x − y) / (cosh x · cosh y); cosh overflowing to ∞ correctly gives 0.
  difference: (z, _a, d) => Math.sinh(d) / (Math.cosh(z) * Math.cosh(z + d)),
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
