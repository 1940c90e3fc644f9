// One record per loss, per output unit of one sample: value, ∂L/∂a, and L(a + δ) − L(a)
// without cancellation. The cost sums these over units, then reduces over samples. What the rest
// of the program needs to know about a loss (the targets it takes, how it pairs with an output
// activation, what to call it) is a field here, so that no caller tests a loss's name.
import { compileFormula, type Formula } from '../formula/formula.js';
import { differenceEvaluator } from '../formula/difference.js';
import { derivativeEvaluator, verifiedDerivativeText, type Point } from '../formula/derivative.js';
import { hasKinks, toProgram } from '../formula/program.js';

/** One additive term of ∂L/∂a, with its sign: ∂L/∂a = Σ sign·fn(a, y). */
export interface GradientTerm {
  sign: 1 | -1;
  text: string;
  fn(a: number, y: number): number;
}

/** The cost of a blind guess: every output `guess`, a data cost per sample of `cost`, written `text`. */
export interface ChanceCost {
  guess: number;
  cost: number;
  text: string;
}

export interface Loss {
  name: string;
  /** The loss as a sentence starts with it, e.g. "Binary cross-entropy". */
  title: string;
  /**
   * The targets it takes: labels or soft labels in [0, 1] ('probability'); one-hot rows, or a
   * class index per sample, for an output of several units ('one-hot'); any number ('any').
   */
  targets: 'probability' | 'one-hot' | 'any';
  /** L(a, 0) = 0 for every a, so an output whose target is 0 changes nothing (0·log a). */
  zeroTargetTermVanishes: boolean;
  /** L or ∂L/∂a is infinite at a = 0 or a = 1 (log 0, division by a or 1 − a). */
  infiniteAtBounds: boolean;
  /** The output activation with which ∂L/∂z = a − y (the canonical pair), or null. */
  canonicalActivation: string | null;
  /** The terms of ∂L/∂a, for naming a missing or sign-flipped one; null when not stated here (custom). */
  gradientTerms: readonly GradientTerm[] | null;
  /** The common slip that doubles ∂L/∂z at the output, said when a factor 2 is found there; null if none. */
  doubledBy: string | null;
  /** The cost of a blind guess for an output of `units` units, where it is a known constant; else null. */
  chanceCost(units: number): ChanceCost | null;
  value(a: number, y: number): number;
  /** ∂L/∂a. */
  gradient(a: number, y: number): number;
  /** ∂L/∂a as a user would write it. */
  gradientText: string;
  /** L(a + da, y) − L(a, y) without cancellation. */
  difference(a: number, y: number, da: number): number;
  /**
   * The same difference written out in the row batches' WebAssembly (differences/rows.wat,
   * lossChanges), which gives its bits: 1 binary cross-entropy, 2 squared error, 3 categorical
   * cross-entropy's term. Absent for the others (the batches call `difference`).
   */
  kernelForm?: 1 | 2 | 3;
  /** Custom losses with abs/sign/max/min: whether a step da from a crosses a kink or starts on one and moves. */
  crosses?(a: number, y: number, da: number): boolean;
}

/** y·log(a) with the convention 0·log 0 = 0, so hard labels do not produce NaN. */
const xlog = (y: number, a: number) => (y === 0 ? 0 : y * Math.log(a));
/**
 * Below it log1p(t) is its series to t⁴: t + t·(t·(−½ + t·(⅓ − t/4))), the first term left out
 * being below 2⁻⁶² of the result. A finite difference's loss changes are nearly all this small
 * (t = δa/a ≈ 1e−7), and the series costs no call: the row batches' kernel (rows.wat,
 * lossChanges) evaluates the same operations. Within 0.5005 ulp of the exact value (mpmath,
 * scripts/log1p_kat.py; Math.log1p is within about 0.51).
 */
export const LOG1P_SERIES_LIMIT = 2 ** -15;

/** log(1 + t), by the series for |t| ≤ LOG1P_SERIES_LIMIT and Math.log1p beyond (and for NaN). */
export const log1pOfStep = (t: number): number =>
  Math.abs(t) <= LOG1P_SERIES_LIMIT ? t + t * (t * (-0.5 + t * (1 / 3 + t * -0.25))) : Math.log1p(t);

/** y·log(1 + t) with the same convention. */
const xlog1p = (y: number, t: number) => (y === 0 ? 0 : y * log1pOfStep(t));
/** y/a with the same convention (its derivative): a label of 0 contributes 0 even where a = 0. */
const xdiv = (y: number, a: number) => (y === 0 ? 0 : y / a);

const BINARY_CROSS_ENTROPY: Loss = {
  name: 'binary_cross_entropy',
  title: 'Binary cross-entropy',
  value: (a, y) => -(xlog(y, a) + xlog(1 - y, 1 - a)),
  gradient: (a, y) => -(xdiv(y, a) - xdiv(1 - y, 1 - a)),
  gradientText: '-(y / a - (1 - y) / (1 - a))',
  difference: (a, y, da) => -(xlog1p(y, da / a) + xlog1p(1 - y, -da / (1 - a))),
  kernelForm: 1,
  targets: 'probability',
  zeroTargetTermVanishes: false,
  infiniteAtBounds: true,
  canonicalActivation: 'sigmoid',
  gradientTerms: [
    { sign: -1, text: 'y / a', fn: (a, y) => y / a },
    { sign: 1, text: '(1 - y) / (1 - a)', fn: (a, y) => (1 - y) / (1 - a) },
  ],
  doubledBy: null,
  // Each of the K units guesses 1/2: K·ln 2.
  chanceCost: (K) => ({ guess: 0.5, cost: K * Math.LN2, text: K === 1 ? 'ln 2' : `${K}·ln 2` }),
};

const MEAN_SQUARED_ERROR: Loss = {
  name: 'mean_squared_error',
  title: 'Mean squared error',
  value: (a, y) => 0.5 * (a - y) * (a - y),
  gradient: (a, y) => a - y,
  gradientText: 'a - y',
  difference: (a, y, da) => 0.5 * da * (2 * (a - y) + da),
  kernelForm: 2,
  targets: 'any',
  zeroTargetTermVanishes: false,
  infiniteAtBounds: false,
  canonicalActivation: 'linear',
  gradientTerms: [
    { sign: 1, text: 'a', fn: (a) => a },
    { sign: -1, text: 'y', fn: (_a, y) => y },
  ],
  doubledBy: 'the derivative of (a − y)² without the ½ is 2(a − y)',
  chanceCost: () => null,
};

const CATEGORICAL_CROSS_ENTROPY: Loss = {
  name: 'categorical_cross_entropy',
  title: 'Categorical cross-entropy',
  value: (a, y) => -xlog(y, a),
  gradient: (a, y) => -xdiv(y, a),
  gradientText: '-y / a',
  difference: (a, y, da) => -xlog1p(y, da / a),
  kernelForm: 3,
  targets: 'one-hot',
  zeroTargetTermVanishes: true,
  infiniteAtBounds: true,
  canonicalActivation: 'softmax',
  gradientTerms: [{ sign: -1, text: 'y / a', fn: (a, y) => y / a }],
  doubledBy: null,
  // A uniform guess 1/K over K ≥ 2 classes: ln K (one unit has no classes to guess between).
  chanceCost: (K) => (K > 1 ? { guess: 1 / K, cost: Math.log(K), text: `ln ${K}` } : null),
};

/** Where a custom loss's shown gradient is compared with the AD one. */
// No a equals a y: at a = y the shown formula may be 0·∞ where AD takes the subgradient 0.
const A_POINTS = [-1.3, -0.2, 0.05, 0.31, 0.55, 0.8, 0.97, 1.7, 3.1];
const Y_POINTS = [0, 1, 0.3, -1.2, 2.1];

/**
 * ∂L/∂a of a loss formula in a and y by automatic differentiation, and its text: mathjs's symbolic
 * derivative where it agrees with AD on a grid of (a, y), else one that does (verifiedDerivativeText).
 */
export function customGradient(formula: Formula): { gradient: (a: number, y: number) => number; text: string } {
  const ad = derivativeEvaluator(toProgram(formula.node), 'a');
  const points: Point[] = A_POINTS.flatMap((a) => Y_POINTS.map((y): Point => [0, a, y]));
  return { gradient: (a, y) => ad.derivative(0, a, y), text: verifiedDerivativeText(formula, 'a', ad, points) };
}

/**
 * A custom per-unit loss in a and y. Its ∂L/∂a comes from automatic differentiation and its
 * difference from the formula's values, node by node (formula/difference.ts); the symbolic
 * derivative is only shown, once verified. Nothing is assumed about it: any target, no pairing,
 * no known chance level.
 */
export function customLoss(source: string): Loss {
  const formula = compileFormula(source, ['a', 'y']);
  const program = toProgram(formula.node);
  const diff = differenceEvaluator(program, 'a');
  const { gradient, text } = customGradient(formula);
  const name = `expr(${source})`;
  const loss: Loss = {
    name,
    title: `The loss ${name}`,
    value: (a, y) => formula.fn(0, a, y),
    gradient,
    gradientText: text,
    difference: (a, y, da) => (da === 0 ? 0 : diff.difference(0, a, y, da)),
    targets: 'any',
    zeroTargetTermVanishes: false,
    infiniteAtBounds: false,
    canonicalActivation: null,
    gradientTerms: null,
    doubledBy: null,
    chanceCost: () => null,
  };
  if (hasKinks(program)) {
    loss.crosses = (a, y, da) => {
      if (da === 0) return false;
      diff.difference(0, a, y, da);
      return diff.kink;
    };
  }
  return loss;
}

/**
 * PyTorch's MSELoss(): the mean over the K output units as well as over the samples, and no ½, so
 * per unit L = (a − y)²/K and ∂L/∂a = 2(a − y)/K (net.json's { "name": "mean_squared_error",
 * "average": "outputs" }). Its ∂L/∂z is never a − y, with any output activation: no canonical pair.
 */
export function meanSquaredErrorOverOutputs(K: number): Loss {
  return {
    name: `mean_squared_error averaged over ${K} outputs`,
    title: `Mean squared error averaged over the ${K} outputs (PyTorch's MSELoss())`,
    value: (a, y) => ((a - y) * (a - y)) / K,
    gradient: (a, y) => (2 * (a - y)) / K,
    gradientText: `2 * (a - y) / ${K}`,
    // (a + δ − y)² − (a − y)² = δ·(2(a − y) + δ), without subtracting the two squares.
    difference: (a, y, da) => (da * (2 * (a - y) + da)) / K,
    targets: 'any',
    zeroTargetTermVanishes: false,
    infiniteAtBounds: false,
    canonicalActivation: null,
    gradientTerms: [
      { sign: 1, text: `2 * a / ${K}`, fn: (a) => (2 * a) / K },
      { sign: -1, text: `2 * y / ${K}`, fn: (_a, y) => (2 * y) / K },
    ],
    doubledBy: null,
    chanceCost: () => null,
  };
}

const NAMED: Record<string, Loss> = {
  binary_cross_entropy: BINARY_CROSS_ENTROPY,
  mean_squared_error: MEAN_SQUARED_ERROR,
  categorical_cross_entropy: CATEGORICAL_CROSS_ENTROPY,
};

export const LOSS_NAMES = Object.keys(NAMED);

export function namedLoss(name: string): Loss | undefined {
  return Object.hasOwn(NAMED, name) ? NAMED[name] : undefined;
}
