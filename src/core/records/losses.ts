// One record per loss, per output unit of one sample: value, ∂L/∂a, and L(a + δ) − L(a)
// without cancellation. The cost sums these over units, then reduces over samples.
import { compileFormula, type Formula } from '../formula/formula.js';
import { differenceEvaluator } from '../formula/difference.js';
import { derivativeEvaluator, verifiedDerivativeText, type Point } from '../formula/derivative.js';
import { hasKinks, toProgram } from '../formula/program.js';

export interface Loss {
  name: string;
  value(a: number, y: number): number;
  /** ∂L/∂a. */
  gradient(a: number, y: number): number;
  /** ∂L/∂a as a user would write it. */
  gradientText: string;
  /** ∂L/∂a as a signed sum of terms, so that the diagnosis can name a flipped or a missing term. */
  gradientTerms?: readonly { sign: 1 | -1; text: string; fn: (a: number, y: number) => number }[];
  /** The output activation with which ∂L/∂z = ∂L/∂a · g'(z) simplifies to a − y (the canonical link). */
  canonicalLink?: string;
  /** Targets that show what the loss's gradient does: its labels, when it takes labels. */
  targets?: readonly number[];
  /**
   * The per-sample cost of a blind guess over `units` outputs (every output `guess`), as a number
   * and as maths; undefined when this loss has no such level.
   */
  chance?(units: number): { guess: number; cost: number; text: string } | undefined;
  /** What a factor 2 on the output delta usually is with this loss, when it is something. */
  doubledDelta?: string;
  /** L(a + da, y) − L(a, y) without cancellation. */
  difference(a: number, y: number, da: number): number;
  /** Custom losses with abs/sign/max/min: whether a step da from a crosses a kink or starts on one and moves. */
  crosses?(a: number, y: number, da: number): boolean;
}

/** y·log(a) with the convention 0·log 0 = 0, so hard labels do not produce NaN. */
const xlog = (y: number, a: number) => (y === 0 ? 0 : y * Math.log(a));
/** y·log(1 + t) with the same convention. */
const xlog1p = (y: number, t: number) => (y === 0 ? 0 : y * Math.log1p(t));
/** y/a with the same convention (its derivative): a label of 0 contributes 0 even where a = 0. */
const xdiv = (y: number, a: number) => (y === 0 ? 0 : y / a);

const BINARY_CROSS_ENTROPY: Loss = {
  name: 'binary_cross_entropy',
  value: (a, y) => -(xlog(y, a) + xlog(1 - y, 1 - a)),
  gradient: (a, y) => -(xdiv(y, a) - xdiv(1 - y, 1 - a)),
  gradientText: '-(y / a - (1 - y) / (1 - a))',
  gradientTerms: [
    { sign: -1, text: 'y / a', fn: (a, y) => y / a },
    { sign: 1, text: '(1 - y) / (1 - a)', fn: (a, y) => (1 - y) / (1 - a) },
  ],
  canonicalLink: 'sigmoid',
  targets: [0, 1, 0.3],
  // A sigmoid output of 0.5 costs ln 2 per output.
  chance: (K) => ({ guess: 0.5, cost: K * Math.LN2, text: K === 1 ? 'ln 2' : `${K}·ln 2` }),
  difference: (a, y, da) => -(xlog1p(y, da / a) + xlog1p(1 - y, -da / (1 - a))),
};

const MEAN_SQUARED_ERROR: Loss = {
  name: 'mean_squared_error',
  value: (a, y) => 0.5 * (a - y) * (a - y),
  gradient: (a, y) => a - y,
  gradientText: 'a - y',
  gradientTerms: [
    { sign: 1, text: 'a', fn: (a) => a },
    { sign: -1, text: 'y', fn: (_a, y) => y },
  ],
  canonicalLink: 'linear',
  doubledDelta: 'the derivative of (a − y)² without the ½ is 2(a − y)',
  difference: (a, y, da) => 0.5 * da * (2 * (a - y) + da),
};

const CATEGORICAL_CROSS_ENTROPY: Loss = {
  name: 'categorical_cross_entropy',
  value: (a, y) => -xlog(y, a),
  gradient: (a, y) => -xdiv(y, a),
  gradientText: '-y / a',
  gradientTerms: [{ sign: -1, text: 'y / a', fn: (a, y) => y / a }],
  canonicalLink: 'softmax',
  targets: [0, 1],
  // A uniform softmax over K classes costs ln K.
  chance: (K) => (K > 1 ? { guess: 1 / K, cost: Math.log(K), text: `ln ${K}` } : undefined),
  difference: (a, y, da) => -xlog1p(y, da / a),
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
 * derivative is only shown, once verified.
 */
export function customLoss(source: string): Loss {
  const formula = compileFormula(source, ['a', 'y']);
  const program = toProgram(formula.node);
  const diff = differenceEvaluator(program, 'a');
  const { gradient, text } = customGradient(formula);
  const loss: Loss = {
    name: `expr(${source})`,
    value: (a, y) => formula.fn(0, a, y),
    gradient,
    gradientText: text,
    difference: (a, y, da) => (da === 0 ? 0 : diff.difference(0, a, y, da)),
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

const NAMED: Record<string, Loss> = {
  binary_cross_entropy: BINARY_CROSS_ENTROPY,
  mean_squared_error: MEAN_SQUARED_ERROR,
  categorical_cross_entropy: CATEGORICAL_CROSS_ENTROPY,
};

export const LOSS_NAMES = Object.keys(NAMED);

export function namedLoss(name: string): Loss | undefined {
  return Object.hasOwn(NAMED, name) ? NAMED[name] : undefined;
}
