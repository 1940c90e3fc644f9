// The two independent sides of a custom formula's check: the node-by-node difference
// f(x + d) − f(x) (formula/difference.ts) and the forward-mode AD derivative
// (formula/derivative.ts), against exact answers from mpmath at 50 digits
// (fixtures/formula-golden/differences.json, written by scripts/formula_golden.py); their kink
// flags; and the verified derivative text that replaces mathjs's wrong simplifications.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { customActivation } from '../src/core/records/activations.js';
import { compileFormula, type Variable } from '../src/core/formula/formula.js';
import { differenceEvaluator } from '../src/core/formula/difference.js';
import { derivativeEvaluator, verifiedDerivativeText } from '../src/core/formula/derivative.js';
import { toProgram } from '../src/core/formula/program.js';
import { customLoss } from '../src/core/records/losses.js';

interface GoldenCase {
  formula: string; variable: Variable; z: number; a: number; y: number; d: number;
  exact: number; derivative: number | null; plain: number | null;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/formula-golden/differences.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };

const evaluators = new Map<string, { diff: ReturnType<typeof differenceEvaluator>; ad: ReturnType<typeof derivativeEvaluator> }>();
function evaluatorsFor(formula: string, variable: Variable) {
  const key = `${variable}:${formula}`;
  if (!evaluators.has(key)) {
    const program = toProgram(compileFormula(formula, ['z', 'a', 'y']).node);
    evaluators.set(key, { diff: differenceEvaluator(program, variable), ad: derivativeEvaluator(program, variable) });
  }
  return evaluators.get(key)!;
}

// The bound is a few ulps of each node's inputs times the node's condition number. Only one
// formula here has a large one: the exponent's log(1 + z²) near z = 0, where the formula itself
// rounds 1 + z² before taking its log (p^q with q moving: Δ(q·log p) needs log p), so log p
// carries 1e-16 / 5e-7 relative: 1.2e-10 measured. The AD derivative uses the same log p.
const bound = (formula: string) => (formula === '(1 + z^2)^z' ? 1e-9 : 2e-13);

const rel = (x: number, exact: number) => (x === exact ? 0 : Math.abs(x - exact) / Math.abs(exact));

describe('the node-by-node difference against mpmath', () => {
  const formulas = [...new Set(golden.cases.map((c) => c.formula))];

  it('covers every operator and function formula.ts allows', () => {
    const text = formulas.join(' ');
    for (const fn of ['exp', 'log', 'log1p', 'expm1', 'tanh', 'sinh', 'cosh', 'sqrt', 'abs', 'sign', 'max', 'min', 'sigmoid', 'softplus']) {
      expect(text, fn).toMatch(new RegExp(`\\b${fn}\\(`));
    }
    for (const op of ['+', '-', '*', '/', '^', 'e^', 'pi', '+z', '(-z)']) expect(text, op).toContain(op);
    expect(golden.cases.length).toBeGreaterThan(2000);
  });

  it.each(formulas)('%s: relative error of Δf below 2e-13 for steps 1e-13 … 1e-2', (formula) => {
    let worst = 0, worstPlain = 0;
    for (const c of golden.cases.filter((x) => x.formula === formula)) {
      const { diff } = evaluatorsFor(c.formula, c.variable);
      const got = diff.difference(c.z, c.a, c.y, c.d);
      const e = rel(got, c.exact);
      expect(e, `${formula} at ${c.variable} = ${c.variable === 'z' ? c.z : c.a}, d = ${c.d}: ${got} vs ${c.exact}`).toBeLessThan(bound(formula));
      worst = Math.max(worst, e);
      if (c.plain !== null) worstPlain = Math.max(worstPlain, rel(c.plain, c.exact));
    }
    // What subtracting the two rounded values loses on the same points: digits, not ulps.
    expect(worstPlain).toBeGreaterThan(1e-5);
    expect(worst).toBeLessThan(worstPlain / 1e7);
  });

  it.each(formulas)("%s: the AD derivative matches mpmath's to 1e-13", (formula) => {
    for (const c of golden.cases.filter((x) => x.formula === formula && x.derivative !== null)) {
      const { ad } = evaluatorsFor(c.formula, c.variable);
      const got = ad.derivative(c.z, c.a, c.y);
      expect(Math.abs(got - c.derivative!), `${formula} at ${c.z}, ${c.a}, ${c.y}`).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(c.derivative!)));
    }
  });
});

describe('kinks of abs, sign, max and min', () => {
  const flag = (formula: string, z: number, d: number) => {
    const { diff } = evaluatorsFor(formula, 'z');
    const delta = diff.difference(z, 0, 0, d);
    return { delta, kink: diff.kink };
  };

  it('a step across the argument\'s 0 is flagged, a step that stays on one side is not', () => {
    expect(flag('abs(z - 0.3)', 0.29, 0.02).kink).toBe(true);
    expect(flag('abs(z - 0.3)', 0.29, 0.001).kink).toBe(false);
    expect(flag('max(z, 0.2 * z)', -1e-7, 1e-6).kink).toBe(true);
    expect(flag('max(z, 0.2 * z)', 1e-5, 1e-6).kink).toBe(false);
    expect(flag('min(z, 1 - z)', 0.4999, 0.001).kink).toBe(true);
    expect(flag('sign(z - 0.3) * z', 0.31, -0.02).kink).toBe(true);
    // A kink of the argument's argument: |z² − 1| crosses at z = ±1.
    expect(flag('abs(z^2 - 1)', 0.9999999, 1e-6).kink).toBe(true);
    expect(flag('abs(z^2 - 1)', -0.9999999, 1e-6).kink).toBe(false);
  });

  it('a point exactly on the kink that moves is flagged; one whose argument does not move is not', () => {
    expect(flag('abs(z)', 0, 1e-6)).toEqual({ delta: 1e-6, kink: true });
    expect(flag('max(z, 0.2 * z)', 0, -1e-6)).toEqual({ delta: -0.2 * 1e-6, kink: true });
    expect(flag('abs(z - z) + z', 0.5, 1e-6).kink).toBe(false);
  });

  it('the known answers include steps across every kink, and they meet the same bound', () => {
    const crossing = golden.cases.filter((c) => {
      const { diff } = evaluatorsFor(c.formula, c.variable);
      diff.difference(c.z, c.a, c.y, c.d);
      return diff.kink;
    });
    const formulas = new Set(crossing.map((c) => c.formula));
    for (const f of ['abs(z - 0.3)', 'sign(z - 0.3) * z', 'max(z, 0.2 * z)', 'min(z, 1 - z)', 'abs(a - y) + 0.1 * (a - y)^2', '(z^2)^0.5', '((a - y)^2)^(3/2)']) expect(formulas, f).toContain(f);
    // |p'| − |p| = ±(2p + Δp) across 0, never the subtraction of two rounded absolute values.
    for (const c of crossing.filter((x) => x.formula !== 'sign(z - 0.3) * z')) {
      expect(rel(evaluatorsFor(c.formula, c.variable).diff.difference(c.z, c.a, c.y, c.d), c.exact), `${c.formula} ${c.z} ${c.d}`).toBeLessThan(bound(c.formula));
    }
  });

  it('onKink: AD knows a point sitting exactly on a kink', () => {
    const act = customActivation('max(z, 0.2 * z) + 0.1 * abs(z - 0.5)');
    expect(act.onKink!(0)).toBe(true);
    expect(act.onKink!(0.5)).toBe(true);
    expect(act.onKink!(0.25)).toBe(false);
    expect(act.crosses!(0.5 - 1e-7, 1e-6)).toBe(true);
    expect(act.crosses!(0.25, 1e-6)).toBe(false);
    // A kink hidden in powers: (z^2)^0.5 = |z|.
    const hidden = customActivation('(z^2)^0.5');
    expect(hidden.crosses!(-1e-7, 1e-6)).toBe(true);
    expect(hidden.crosses!(0.3, 1e-6)).toBe(false);
    expect(hidden.onKink!(0)).toBe(true);
    expect(customActivation('z^3').onKink!(0)).toBe(false);
    expect(customActivation('sqrt(3 * (z - 1)^2)').onKink!(1)).toBe(true);
    expect(customActivation('-(0.5 * (z - 1)^2)^1.5').crosses!(1 - 1e-7, 1e-6)).toBe(true);
    // sqrt(1 + z²) and z² are smooth at 0: no kink there.
    expect(customActivation('sqrt(1 + z^2)').onKink!(0)).toBe(false);
    expect(customActivation('sqrt(1 + z^2)').crosses!(-1e-7, 1e-6)).toBe(false);
    expect(customActivation('z^2 + z').crosses!(-1e-7, 1e-6)).toBe(false);
    // Smooth formulas without powers get no predicate, so the finite differences treat them as before.
    expect(customActivation('tanh(z)').crosses).toBeUndefined();
  });
});

describe('the derivative shown and used', () => {
  it('(z^2)^0.5: the derivative is sign(z), not mathjs\'s simplified 1', () => {
    const act = customActivation('(z^2)^0.5');
    expect(act.derivative(-2, 2)).toBeCloseTo(-1, 15);
    expect(act.derivative(0.7, 0.7)).toBeCloseTo(1, 15);
    // At 0 itself the inner derivative 2z is 0, so the term is 0 (a subgradient), not 0·∞.
    expect(act.derivative(0, 0)).toBe(0);
    // The text shown is one that equals sign(z) (mathjs's unsimplified derivative), never "1".
    expect(act.derivativeText).not.toBe('1');
    const shown = compileFormula(act.derivativeText, ['z']);
    for (const z of [-3, -0.4, 0.2, 5]) expect(shown.fn(z, 0, 0)).toBeCloseTo(Math.sign(z), 14);
  });

  it('when no symbolic form agrees with the truth at every point, the text says so instead of showing one', () => {
    // A stand-in truth, 3z², which none of z^2's symbolic derivatives (2z) equals.
    const truth = { onKink: false, derivative: (z: number) => 3 * z * z };
    const f = compileFormula('z^2', ['z']);
    expect(verifiedDerivativeText(f, 'z', truth, [[0.5, 0.25, 0], [1.5, 2.25, 0]])).toBe("d/dz of z^2 (by automatic differentiation; mathjs's symbolic form disagrees with it)");
    const ad = derivativeEvaluator(toProgram(f.node), 'z');
    expect(verifiedDerivativeText(f, 'z', ad, [[0.5, 0.25, 0], [1.5, 2.25, 0]])).toBe('2 * z');
  });

  it('shown derivatives are formulas users can write back: no sech, square or cube', () => {
    for (const source of ['tanh(z)', 'tanh(z)^2 * z', 'sigmoid(z)^3']) {
      const text = customActivation(source).derivativeText;
      expect(text).not.toMatch(/sech|square|cube/);
      expect(() => compileFormula(text, ['z'])).not.toThrow();
    }
    expect(customActivation('tanh(z)').derivativeText).toBe('(1 / cosh(z)) ^ 2');
  });

  it('sqrt(z^2) keeps mathjs\'s text, which is right: z / sqrt(z ^ 2)', () => {
    expect(customActivation('sqrt(z^2)').derivativeText).toBe('z / sqrt(z ^ 2)');
  });

  it('a custom loss ((a − y)²)^(3/2): ∂L/∂a = 3(a − y)|a − y|, not mathjs\'s 3(a − y)²', () => {
    const loss = customLoss('((a - y)^2)^(3/2)');
    expect(loss.gradient(0.2, 0.7)).toBeCloseTo(-3 * 0.25, 14);
    expect(loss.gradient(0.9, 0.7)).toBeCloseTo(3 * 0.04, 14);
    expect(loss.gradientText).not.toBe('3 * (a - y) ^ 2');
    const shown = compileFormula(loss.gradientText, ['a', 'y']);
    expect(shown.fn(0, 0.2, 0.7)).toBeCloseTo(-0.75, 14);
  });

  it('the difference does not come from the derivative: a Taylor series would say Δ = d for (z^2)^0.5 at z < 0', () => {
    const act = customActivation('(z^2)^0.5');
    expect(act.difference(-2, 2, 1e-6)).toBeCloseTo(-1e-6, 18);
  });

  it('the difference of 0 is exactly 0 (the batched finite differences rely on it)', () => {
    const act = customActivation('exp(z) * abs(z)');
    expect(act.difference(3, act.f(3), 0)).toBe(0);
    expect(act.difference(3, act.f(3), -0)).toBe(0);
  });
});
