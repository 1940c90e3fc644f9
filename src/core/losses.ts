// One record per loss, per output unit of one sample: value, ∂L/∂a, and L(a + δ) − L(a)
// without cancellation. The cost sums these over units, then reduces over samples.
import { compileFormula, differentiate } from './formula.js';

export interface Loss {
  name: string;
  value(a: number, y: number): number;
  /** ∂L/∂a. */
  gradient(a: number, y: number): number;
  /** ∂L/∂a as a user would write it. */
  gradientText: string;
  /** L(a + da, y) − L(a, y) without cancellation. */
  difference(a: number, y: number, da: number): number;
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
  difference: (a, y, da) => -(xlog1p(y, da / a) + xlog1p(1 - y, -da / (1 - a))),
};

const MEAN_SQUARED_ERROR: Loss = {
  name: 'mean_squared_error',
  value: (a, y) => 0.5 * (a - y) * (a - y),
  gradient: (a, y) => a - y,
  gradientText: 'a - y',
  difference: (a, y, da) => 0.5 * da * (2 * (a - y) + da),
};

const CATEGORICAL_CROSS_ENTROPY: Loss = {
  name: 'categorical_cross_entropy',
  value: (a, y) => -xlog(y, a),
  gradient: (a, y) => -xdiv(y, a),
  gradientText: '-y / a',
  difference: (a, y, da) => -xlog1p(y, da / a),
};

/** A custom per-unit loss in a and y; its derivative in a is symbolic. */
export function customLoss(source: string): Loss {
  const formula = compileFormula(source, ['a', 'y']);
  const d1 = differentiate(formula, 'a');
  // Only d1's text is shown to users; d2 and d3 feed the Taylor series unsimplified.
  const d2 = differentiate(d1, 'a', false);
  const d3 = differentiate(d2, 'a', false);
  const value = (a: number, y: number) => formula.fn(0, a, y);
  return {
    name: `expr(${source})`,
    value,
    gradient: (a, y) => d1.fn(0, a, y),
    gradientText: d1.source,
    difference: (a, y, da) => {
      if (Math.abs(da) <= 1e-4 * Math.max(1, Math.abs(a))) {
        const t = d1.fn(0, a, y) * da + (d2.fn(0, a, y) * da * da) / 2 + (d3.fn(0, a, y) * da * da * da) / 6;
        if (Number.isFinite(t)) return t;
      }
      return value(a + da, y) - value(a, y);
    },
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
