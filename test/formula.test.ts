// User formulas: compiled values (mathjs syntax, https://mathjs.org/docs/expressions/syntax.html),
// symbolic derivatives (including the rewrites of sigmoid, softplus, max/min and abs), the allowed
// variables, and the exact reasons a formula is refused.
import { describe, expect, it } from 'vitest';
import { compileFormula, differentiate, FormulaError, type Variable } from '../src/core/formula/formula.js';

const ALL: Variable[] = ['z', 'a', 'y'];
const value = (source: string, z: number, a = 0, y = 0) => compileFormula(source, ALL).fn(z, a, y);
const derivative = (source: string, v: Variable = 'z') => differentiate(compileFormula(source, ALL), v);
const σ = (x: number) => 1 / (1 + Math.exp(-x));

/** The FormulaError's detail, or a failure if the formula was accepted. */
function refusal(source: string, allowed: Variable[] = ['z']): string {
  try {
    compileFormula(source, allowed);
  } catch (err) {
    expect(err).toBeInstanceOf(FormulaError);
    return (err as FormulaError).detail;
  }
  throw new Error(`"${source}" was accepted`);
}

const FUNCTIONS = 'exp, log, log1p, expm1, tanh, sinh, cosh, sqrt, abs, sign, max, min, sigmoid, softplus';

describe('compileFormula', () => {
  it('evaluates arithmetic with mathjs precedence', () => {
    // mathjs syntax docs: ^ binds tighter than unary minus and is right-associative.
    expect(value('1 - z^2', 0.5)).toBe(0.75);
    expect(value('-z^2', 2)).toBe(-4);
    expect(value('2^3^2', 0)).toBe(512);
    expect(value('(a - y) / 2 * 3', 0, 5, 1)).toBe(6);
    expect(value('2z', 3)).toBe(6); // implicit multiplication
    expect(value('e + pi', 0)).toBe(Math.E + Math.PI);
  });

  it('calls every allowed function with its usual meaning', () => {
    expect(value('exp(z)', 1)).toBe(Math.E);
    expect(value('log(z)', Math.E)).toBe(1);
    expect(value('log1p(z)', 1e-20)).toBe(1e-20); // log1p keeps tiny arguments exact
    expect(value('expm1(z)', 1e-20)).toBe(1e-20);
    expect(value('tanh(z) + sinh(z) + cosh(z)', 0)).toBe(1);
    expect(value('sqrt(z)', 16)).toBe(4);
    expect(value('abs(z) * sign(z)', -3)).toBe(-3); // |z|·sign(z) = z
    expect(value('max(z, 0.1 * z)', -2)).toBe(-0.2);
    expect(value('min(z, 1)', 3)).toBe(1);
    expect(value('sigmoid(z)', 0)).toBe(0.5);
    expect(value('softplus(z)', 0)).toBe(Math.LN2);
  });

  it('sigmoid and softplus are evaluated stably far out', () => {
    expect(value('sigmoid(z)', -800)).toBe(0);
    expect(value('sigmoid(z)', 800)).toBe(1);
    expect(value('softplus(z)', 800)).toBe(800);
    // σ(−40) = e^−40/(1 + e^−40) = 4.248354255291589e-18 (mpmath, 50 digits)
    expect(Math.abs(value('sigmoid(z)', -40) - 4.248354255291589e-18) / 4.248354255291589e-18).toBeLessThan(1e-15);
  });

  it('records the variables a formula uses', () => {
    expect([...compileFormula('-(y / a + (1 - y) / (1 - a))', ALL).uses].sort()).toEqual(['a', 'y']);
    expect([...compileFormula('1 - z^2', ALL).uses]).toEqual(['z']);
    expect([...compileFormula('0.25', ALL).uses]).toEqual([]);
  });

  it('accepts only the allowed variables', () => {
    expect(compileFormula('a * (1 - a)', ['z', 'a']).fn(0, 0.5, 0)).toBe(0.25);
    expect(refusal('a - y', ['z'])).toBe(`an unknown name "a" (only the variables z, the constants e and pi, and the functions ${FUNCTIONS} may be used)`);
    expect(refusal('z + y', ['z', 'a'])).toBe(`an unknown name "y" (only the variables z, a, the constants e and pi, and the functions ${FUNCTIONS} may be used)`);
    expect(refusal('x', ['a', 'y'])).toBe(`an unknown name "x" (only the variables a, y, the constants e and pi, and the functions ${FUNCTIONS} may be used)`);
  });
});

describe('refusals', () => {
  it.each([
    ['', 'an empty formula'],
    ['   ', 'an empty formula'],
    ['z +', 'a syntax error (Unexpected end of expression (char 4))'],
    ['x = 1', 'an assignment, which is not allowed in a formula'],
    ['f(x) = x', 'a function definition, which is not allowed in a formula'],
    ['eval("1")', `a call of "eval", which is not an allowed function (allowed: ${FUNCTIONS})`],
    ['cos(z)', `a call of "cos", which is not an allowed function (allowed: ${FUNCTIONS})`],
    ['z.constructor', 'a property or index access, which is not allowed in a formula'],
    ['z["constructor"]', 'a property or index access, which is not allowed in a formula'],
    ['z > 0', 'the operator ">", which is not allowed (use + - * / ^)'],
    ['z mod 2', 'the operator "mod", which is not allowed (use + - * / ^)'],
    ['z ? 1 : 0', 'a conditional (?:), which is not allowed in a formula'],
    ['[1, 2]', 'a matrix or list, which is not allowed in a formula'],
    ['{a: 1}', 'an object, which is not allowed in a formula'],
    ['z; z', 'several statements, which is not allowed in a formula'],
    ['1:3', 'a range, which is not allowed in a formula'],
    ['max(z)', 'max() with 1 argument(s) (it takes 2)'],
    ['log(z, 2)', 'log() with 2 argument(s) (it takes 1)'],
    ['1e999', 'a constant Infinity that is not a finite number'],
    ['NaN', 'a constant NaN that is not a finite number'],
    ['"abc"', 'a constant "abc" that is not a finite number'],
    ['true', 'a constant true that is not a finite number'],
  ])('%j: %s', (source, detail) => {
    expect(refusal(source)).toBe(detail);
  });

  it('the error message quotes the formula', () => {
    expect(() => compileFormula('cos(z)', ['z'])).toThrow(new FormulaError('cos(z)', `a call of "cos", which is not an allowed function (allowed: ${FUNCTIONS})`));
    expect(new FormulaError('cos(z)', 'x').message).toBe('x in formula "cos(z)"');
  });

  it('a formula longer than 2000 characters is refused before it is parsed', () => {
    const long = 'z' + '+1'.repeat(1000);
    expect(refusal(long)).toBe('a formula longer than 2000 characters');
  });
});

describe('differentiate', () => {
  const points = [-1.3, -0.2, 0.45, 2.1];

  it.each([
    // [formula, its derivative in closed form (calculus tables)]
    ['tanh(z)', (z: number) => 1 - Math.tanh(z) ** 2],
    ['z^3', (z: number) => 3 * z * z],
    ['sqrt(1 + z^2)', (z: number) => z / Math.sqrt(1 + z * z)],
    ['log1p(z^2)', (z: number) => (2 * z) / (1 + z * z)],
    ['expm1(2 * z)', (z: number) => 2 * Math.exp(2 * z)],
    ['sigmoid(z)', (z: number) => σ(z) * (1 - σ(z))],
    ['softplus(z)', (z: number) => σ(z)],
    ['sigmoid(z) * softplus(z)', (z: number) => σ(z) * (1 - σ(z)) * Math.log1p(Math.exp(z)) + σ(z) * σ(z)],
    ['z / (1 + exp(-z))', (z: number) => σ(z) + z * σ(z) * (1 - σ(z))],
    ['max(z, 0.2 * z)', (z: number) => (z > 0 ? 1 : 0.2)],
    ['min(z, 0.5)', (z: number) => (z < 0.5 ? 1 : 0)],
    ['abs(z)', (z: number) => Math.sign(z)],
    ['sign(z) * z^2', (z: number) => 2 * Math.abs(z)],
  ])('%s', (source, expected) => {
    const d = derivative(source);
    for (const z of points) expect(Math.abs(d.fn(z, 0, 0) - expected(z)), `z = ${z}`).toBeLessThan(1e-14);
  });

  it('abs(u)/u becomes sign(u): defined (0) at the kink instead of NaN', () => {
    expect(derivative('abs(z)').source).toBe('sign(z)');
    expect(derivative('abs(z)').fn(0, 0, 0)).toBe(0);
    // max(z, 0.2z) = (1.2z + |0.8z|)/2: at 0 the derivative is the middle of the two slopes.
    expect(derivative('max(z, 0.2 * z)').fn(0, 0, 0)).toBeCloseTo(0.6, 15);
    expect(derivative('abs(a - y)', 'a').source).toBe('sign(a - y)');
  });

  it('sign(u) differentiates to 0 (it is constant on each side)', () => {
    const d = derivative('sign(z)');
    for (const z of points) expect(d.fn(z, 0, 0)).toBe(0);
  });

  it('with respect to a, with y and z held constant', () => {
    const d = derivative('0.1 * (a - y)^2 + z', 'a');
    expect(d.fn(7, 0.9, 0.4)).toBeCloseTo(0.1, 15);
    expect([...d.uses].sort()).toEqual(['a', 'y']);
    expect(derivative('-(y * log(a) + (1 - y) * log(1 - a))', 'a').fn(0, 0.6, 0.3)).toBeCloseTo((0.6 - 0.3) / (0.6 * 0.4), 14);
  });

  it('simplifies the text users see', () => {
    expect(derivative('z^3').source).toBe('3 * z ^ 2');
    expect(derivative('softplus(z)').source).toBe('exp(z) / (exp(z) + 1)');
  });

  it('unsimplified higher derivatives have the same values', () => {
    // The second derivative of swish, z·σ(z): σ'(z)(2 + z(1 − 2σ(z))), σ' = σ(1 − σ).
    const swish = compileFormula('z / (1 + exp(-z))', ['z']);
    const d2 = differentiate(differentiate(swish, 'z'), 'z', false);
    const d2s = differentiate(differentiate(swish, 'z'), 'z');
    for (const z of points) {
      const s = σ(z);
      const exact = s * (1 - s) * (2 + z * (1 - 2 * s));
      expect(Math.abs(d2.fn(z, 0, 0) - exact), `z = ${z}`).toBeLessThan(1e-14);
      expect(Math.abs(d2s.fn(z, 0, 0) - exact), `z = ${z}`).toBeLessThan(1e-14);
    }
  });
});
