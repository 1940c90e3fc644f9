// Known answers for every loss record, per output unit of one sample (SPEC.md, "net.json"):
// BCE −[y log a + (1−y) log(1−a)], MSE ½(a−y)², CCE −y log a, custom formulas in a and y.
import { describe, expect, it } from 'vitest';
import { customLoss, LOSS_NAMES, namedLoss, type Loss } from '../src/core/records/losses.js';

const named = (name: string): Loss => {
  const l = namedLoss(name);
  if (!l) throw new Error(`no loss ${name}`);
  return l;
};
const BCE = named('binary_cross_entropy');
const MSE = named('mean_squared_error');
const CCE = named('categorical_cross_entropy');
const rel = (x: number, y: number) => Math.abs(x - y) / Math.abs(y);
/** Exactly zero; −0 (from −(0)) counts, as it does in arithmetic. */
const expectZero = (x: number) => expect(x === 0, `${x} is 0`).toBe(true);

describe('the loss names', () => {
  it('are the ones SPEC.md lists', () => {
    expect([...LOSS_NAMES].sort()).toEqual(['binary_cross_entropy', 'categorical_cross_entropy', 'mean_squared_error']);
    expect(namedLoss('hinge')).toBeUndefined();
    expect(namedLoss('toString')).toBeUndefined();
  });
});

describe('values', () => {
  it('binary cross-entropy: −log a for y = 1, −log(1 − a) for y = 0, and soft labels', () => {
    // ln 0.8 = −0.22314355131420976, ln 0.2 = −1.6094379124341003 (natural logarithms);
    // soft label: −(0.3 ln 0.6 + 0.7 ln 0.4) = 0.7946511994417057 (mpmath, 50 digits).
    expect(rel(BCE.value(0.8, 1), 0.22314355131420976)).toBeLessThan(1e-15);
    expect(rel(BCE.value(0.8, 0), 1.6094379124341003)).toBeLessThan(1e-15);
    expect(rel(BCE.value(0.6, 0.3), 0.7946511994417057)).toBeLessThan(1e-15);
  });

  it('mean squared error: ½(a − y)²', () => {
    expect(MSE.value(0.3, 1)).toBeCloseTo(0.245, 15);
    expect(MSE.value(-1.5, 0.5)).toBe(2);
  });

  it('categorical cross-entropy: −y log a, 0 for the other classes', () => {
    expect(rel(CCE.value(0.25, 1), Math.LN2 * 2)).toBeLessThan(1e-15); // −ln ¼ = 2 ln 2
    expectZero(CCE.value(0.25, 0));
    expect(rel(CCE.value(0.5, 0.4), 0.4 * Math.LN2)).toBeLessThan(1e-15);
  });

  it('0 · log 0 = 0: hard labels at a saturated output give 0, not NaN', () => {
    // The convention of the cross-entropy's definition (lim_{t→0} t log t = 0).
    expectZero(BCE.value(1, 1));
    expectZero(BCE.value(0, 0));
    expectZero(CCE.value(0, 0));
    expect(BCE.difference(1 - 1e-3, 1, 1e-4)).toBeCloseTo(-Math.log1p(1e-4 / (1 - 1e-3)), 15);
    // The gradients follow the same convention, so a saturated correct output is not NaN.
    expect(BCE.gradient(1, 1)).toBe(-1);
    expect(BCE.gradient(0, 0)).toBe(1);
    expectZero(CCE.gradient(0, 0));
    // A wrong confident answer costs infinity, which is the truth.
    expect(BCE.value(0, 1)).toBe(Infinity);
    expect(CCE.value(0, 1)).toBe(Infinity);
  });
});

describe('gradients ∂L/∂a', () => {
  it('match the closed forms: BCE (a − y)/(a(1 − a)), MSE a − y, CCE −y/a', () => {
    for (const [a, y] of [[0.8, 1], [0.8, 0], [0.6, 0.3], [0.05, 1]]) {
      expect(rel(BCE.gradient(a, y), (a - y) / (a * (1 - a)))).toBeLessThan(1e-14);
    }
    expect(MSE.gradient(0.3, 1)).toBeCloseTo(-0.7, 15);
    expect(CCE.gradient(0.25, 1)).toBe(-4);
    expectZero(CCE.gradient(0.25, 0));
  });

  it.each([BCE, MSE, CCE, customLoss('log(cosh(a - y))')].map((l) => [l.name, l] as const))(
    '%s: matches a central difference of its value',
    (_name, loss) => {
      for (const [a, y] of [[0.8, 1], [0.3, 0], [0.6, 0.3]]) {
        const h = 1e-6;
        const numeric = (loss.value(a + h, y) - loss.value(a - h, y)) / (2 * h);
        expect(Math.abs(loss.gradient(a, y) - numeric), `a = ${a}, y = ${y}`).toBeLessThan(1e-8);
      }
    },
  );

  it('the gradient texts say what a user would write', () => {
    expect(BCE.gradientText).toBe('-(y / a - (1 - y) / (1 - a))');
    expect(MSE.gradientText).toBe('a - y');
    expect(CCE.gradientText).toBe('-y / a');
  });
});

describe('difference(a, y, da) = L(a + da) − L(a)', () => {
  it.each([BCE, MSE, CCE].map((l) => [l.name, l] as const))('%s: the plain difference for moderate steps', (_name, loss) => {
    for (const [a, y] of [[0.8, 1], [0.3, 0], [0.6, 0.3]]) {
      for (const da of [0.1, -0.2, 1e-3]) {
        const plain = loss.value(a + da, y) - loss.value(a, y);
        expect(Math.abs(loss.difference(a, y, da) - plain), `a = ${a}, y = ${y}, da = ${da}`).toBeLessThan(1e-14);
      }
    }
  });

  // Exact L(a + 1e-13) − L(a) from mpmath at 50 digits (a, y and the step taken as doubles).
  const tiny: [string, Loss, number, number, number][] = [
    ['BCE, y = 1', BCE, 0.7, 1, -1.4285714285713267e-13],
    ['BCE, y = 0', BCE, 0.7, 0, 3.3333333333338883e-13],
    ['BCE, soft label', BCE, 0.6, 0.3, 1.2500000000002605e-13],
    ['MSE', MSE, 0.3, 1, -6.999999999999501e-14],
    ['CCE', CCE, 0.25, 1, -3.9999999999992e-13],
    ['custom log(cosh(a - y))', customLoss('log(cosh(a - y))'), 0.9, 0.2, 6.043677771171952e-14],
  ];
  it.each(tiny)('%s: accurate to 1e-12 for a step of 1e-13', (_name, loss, a, y, exact) => {
    expect(rel(loss.difference(a, y, 1e-13), exact)).toBeLessThan(1e-12);
  });

  it('where subtracting two values is not (BCE at a = 0.7, y = 1)', () => {
    const exact = -1.4285714285713267e-13;
    expect(rel(BCE.value(0.7 + 1e-13, 1) - BCE.value(0.7, 1), exact)).toBeGreaterThan(1e-5);
  });
});

describe('custom losses', () => {
  it('0.1 * (a - y)^2: value, symbolic gradient 0.2(a − y), difference', () => {
    const l = customLoss('0.1 * (a - y)^2');
    expect(l.name).toBe('expr(0.1 * (a - y)^2)');
    expect(l.value(0.9, 0.4)).toBeCloseTo(0.025, 16);
    expect(l.gradient(0.9, 0.4)).toBeCloseTo(0.1, 15);
    expect(l.gradientText).toBe('(a - y) / 5');
    expect(l.difference(0.9, 0.4, 0.2)).toBeCloseTo(0.1 * 0.49 - 0.025, 15);
  });

  it('a cross-entropy written by hand agrees with the built-in one for soft labels', () => {
    const l = customLoss('-(y * log(a) + (1 - y) * log(1 - a))');
    for (const [a, y] of [[0.6, 0.3], [0.2, 0.9]]) {
      expect(rel(l.value(a, y), BCE.value(a, y))).toBeLessThan(1e-15);
      expect(rel(l.gradient(a, y), BCE.gradient(a, y))).toBeLessThan(1e-14);
      expect(rel(l.difference(a, y, 1e-9), BCE.difference(a, y, 1e-9))).toBeLessThan(1e-9);
    }
  });

  it('abs(a - y): the derivative is sign(a − y), 0 at a = y (not NaN)', () => {
    const l = customLoss('abs(a - y)');
    expect(l.gradientText).toBe('sign(a - y)');
    expect([l.gradient(0.7, 0.2), l.gradient(0.1, 0.2), l.gradient(0.2, 0.2)]).toEqual([1, -1, 0]);
  });
});

describe('what a loss can do, as fields of its record', () => {
  const A = [1e-3, 0.2, 0.5, 0.7, 0.999];

  it('names and targets', () => {
    expect([BCE.title, MSE.title, CCE.title]).toEqual(['Binary cross-entropy', 'Mean squared error', 'Categorical cross-entropy']);
    expect([BCE.targets, MSE.targets, CCE.targets]).toEqual(['probability', 'any', 'one-hot']);
  });

  it('zeroTargetTermVanishes: L(a, 0) = 0 for every a exactly when it says so', () => {
    for (const l of [BCE, MSE, CCE]) {
      const vanishes = A.every((a) => l.value(a, 0) === 0 && l.difference(a, 0, 0.1 * a) === 0);
      expect(vanishes, l.name).toBe(l.zeroTargetTermVanishes);
    }
    expect(CCE.zeroTargetTermVanishes).toBe(true);
  });

  it('infiniteAtBounds: the cross-entropies take log 0 or divide by 0 at a = 0 or 1', () => {
    for (const l of [BCE, MSE, CCE]) {
      const infinite = [0, 1].some((a) => [0, 1].some((y) => !Number.isFinite(l.value(a, y)) || !Number.isFinite(l.gradient(a, y))));
      expect(infinite, l.name).toBe(l.infiniteAtBounds);
    }
  });

  it('canonicalActivation: with it, ∂L/∂a · g\'(z) = a − y', () => {
    const check = (loss: Loss, g: (z: number) => number, dg: (z: number) => number) => {
      for (const z of [-2.5, -0.3, 0.4, 1.7]) for (const y of [0, 1, 0.3]) {
        const a = g(z);
        expect(Math.abs(loss.gradient(a, y) * dg(z) - (a - y)), `${loss.name} z = ${z}, y = ${y}`).toBeLessThan(1e-12);
      }
    };
    expect(BCE.canonicalActivation).toBe('sigmoid');
    check(BCE, (z) => 1 / (1 + Math.exp(-z)), (z) => Math.exp(-z) / (1 + Math.exp(-z)) ** 2);
    expect(MSE.canonicalActivation).toBe('linear');
    check(MSE, (z) => z, () => 1);
    // Softmax: Jᵀ·(−y/a) = a − y for a one-hot y (Σy = 1), by hand for three classes.
    expect(CCE.canonicalActivation).toBe('softmax');
    const z = [0.3, -1.2, 0.8], e = z.map(Math.exp), s = e.reduce((x, v) => x + v, 0), a = e.map((v) => v / s), y = [0, 0, 1];
    const dA = a.map((ak, k) => CCE.gradient(ak, y[k]));
    const dot = a.reduce((x, ak, k) => x + ak * dA[k], 0);
    a.forEach((ak, k) => expect(Math.abs(ak * (dA[k] - dot) - (ak - y[k]))).toBeLessThan(1e-15));
  });

  it('gradientTerms: signed terms that sum to ∂L/∂a', () => {
    for (const l of [BCE, MSE, CCE]) {
      for (const a of A) for (const y of [0, 1, 0.3]) {
        const sum = l.gradientTerms!.reduce((x, t) => x + t.sign * t.fn(a, y), 0);
        expect(Math.abs(sum - l.gradient(a, y)), `${l.name} a = ${a}, y = ${y}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(sum)));
      }
    }
    expect(BCE.gradientTerms!.map((t) => t.text)).toEqual(['y / a', '(1 - y) / (1 - a)']);
  });

  it('doubledBy: the forgotten ½ of mean squared error', () => {
    expect(MSE.doubledBy).toBe('the derivative of (a − y)² without the ½ is 2(a − y)');
    expect([BCE.doubledBy, CCE.doubledBy]).toEqual([null, null]);
  });

  it('chanceCost: the cost of a blind guess, per sample', () => {
    const bce = BCE.chanceCost(3)!;
    expect(bce).toEqual({ guess: 0.5, cost: 3 * Math.LN2, text: '3·ln 2' });
    expect(BCE.chanceCost(1)!.text).toBe('ln 2');
    expect(Math.abs(BCE.value(bce.guess, 1) - Math.LN2)).toBeLessThan(1e-16);
    const cce = CCE.chanceCost(4)!;
    expect(cce).toEqual({ guess: 0.25, cost: Math.log(4), text: 'ln 4' });
    expect(CCE.value(cce.guess, 1)).toBe(cce.cost);
    expect(CCE.chanceCost(1)).toBeNull();
    expect(MSE.chanceCost(2)).toBeNull();
  });

  it('a custom loss assumes nothing', () => {
    const l = customLoss('-y * log(a)');
    expect(l.title).toBe('The loss expr(-y * log(a))');
    expect([l.targets, l.zeroTargetTermVanishes, l.infiniteAtBounds, l.canonicalActivation, l.gradientTerms, l.doubledBy, l.chanceCost(3)])
      .toEqual(['any', false, false, null, null, null, null]);
  });
});
