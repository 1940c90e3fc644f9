// Formula safety: a user's expression is parsed and checked against the allow-list (numbers, the
// variables z, a, y, the constants e and pi, + - * / ^ and the listed functions) before anything
// is compiled or evaluated. Known mathjs escape payloads are refused with a FormulaError, and a
// sentinel shows that nothing ran: no JavaScript was generated (the Function constructor, the only
// way our compiler produces code, is never called) and no global was touched. Through the CLI, each
// payload in each place a formula can appear is exit status 2 with a message naming that place.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { customActivation } from '../src/core/records/activations.js';
import { compileFormula, FormulaError } from '../src/core/formula/formula.js';
import { customLoss } from '../src/core/records/losses.js';
import { root, runCli, runNode, type CliRun } from './helpers/cli.js';

const data = join(root, 'test/bad-input/shared/data.csv');

/** Escape attempts and other things that are not arithmetic, with why each is interesting. */
const PAYLOADS: [string, string][] = [
  ['constructor', 'the name every JS escape starts from'],
  ['a.constructor("return process")()', 'Function via the constructor of a number'],
  ['exp.constructor("return process")()', 'Function via the constructor of a function'],
  ['cos.constructor', 'property access on a mathjs function'],
  ['e.constructor', 'property access on a constant'],
  ['z.__proto__', 'prototype access'],
  ['z["constructor"]', 'index access by string'],
  ['{}.constructor', 'an object literal, then property access'],
  ['z.toString()', 'a method call'],
  ['z.valueOf()', 'a method call'],
  ['import({}, {override: true})', 'mathjs import: replaces functions'],
  ['createUnit("x")', 'mathjs createUnit: mutates the instance'],
  ['evaluate("1")', 'mathjs evaluate: runs a string'],
  ['parse("1")', 'mathjs parse: builds a node'],
  ['compile("1")', 'mathjs compile'],
  ['simplify("z")', 'mathjs simplify'],
  ['derivative("z", "z")', 'mathjs derivative'],
  ['typeOf(z)', 'mathjs reflection'],
  ['help(z)', 'mathjs help'],
  ['config({})', 'mathjs config: mutates the instance'],
  ['eval("1")', 'JS eval by name'],
  ['Function("return 1")()', 'the Function constructor by name'],
  ['f(x) = x', 'a function definition'],
  ['f(x) = x; f(1)', 'a function definition and a call'],
  ['x = 1', 'an assignment'],
  ['pi = 3', 'assigning over a constant'],
  ['exp = 1', 'assigning over a function'],
  ['a.b = 1', 'a property assignment'],
  ['z[1]', 'index access'],
  ['exp(z)[1]', 'index access on a call'],
  ['"abc"', 'a string'],
  ["'z'", 'a single-quoted string'],
  ['[1, 2]', 'a matrix'],
  ['matrix([1])', 'a matrix by function'],
  ['5 cm', 'a unit'],
  ['5 to cm', 'a unit conversion'],
  ['unit("5 cm")', 'a unit by function'],
  ['{a: 1}', 'an object'],
  ['z ? 1 : 0', 'a conditional'],
  ['1:3', 'a range'],
  ['z; 1', 'several statements'],
  ['z\n1', 'several statements on lines'],
  ['z == 1', 'a comparison'],
  ['z > 0', 'a comparison'],
  ['z!', 'factorial'],
  ["z'", 'transpose'],
  ['z & 1', 'bitwise and'],
  ['z << 1', 'a shift'],
  ['not z', 'logical not'],
  ['z and a', 'logical and'],
  ['z mod 2', 'modulo'],
  ['z .* z', 'element-wise matrix multiplication'],
  ['2i', 'a complex number'],
  ['bignumber(1)', 'a BigNumber'],
  ['process', 'a Node global'],
  ['globalThis', 'the global object'],
  ['this', 'this'],
  ['cube(z)', 'a function only the symbolic derivative may emit'],
  ['sech(z)', 'a function only the symbolic derivative may emit'],
  ['exp(z, 1)', 'the wrong number of arguments'],
  ['1e999', 'a constant that overflows to Infinity'],
  ['NaN', 'NaN'],
  ['true', 'a boolean'],
  ['#z', 'only a comment'],
  ['z +', 'a syntax error'],
  ['z + '.repeat(600) + 'z', 'a very long formula (2401 characters)'],
];

/** Counts calls of the Function constructor (our compiler's only way to make code) while installed. */
let functionCalls = 0;
const RealFunction = globalThis.Function;
beforeEach(() => {
  functionCalls = 0;
  globalThis.Function = new Proxy(RealFunction, {
    construct(target, args, newTarget) { functionCalls++; return Reflect.construct(target, args, newTarget) as object; },
    apply(target, thisArg, args) { functionCalls++; return Reflect.apply(target, thisArg, args) as unknown; },
  });
  delete (globalThis as Record<string, unknown>).__bpcSentinel;
});
afterEach(() => { globalThis.Function = RealFunction; });

describe('compileFormula refuses every payload before anything runs', () => {
  it('the sentinel works: a valid formula is compiled through the Function constructor exactly once', () => {
    const f = compileFormula('z * (1 - a) + sigmoid(y)', ['z', 'a', 'y']);
    expect(functionCalls).toBe(1);
    expect(f.fn(2, 0.5, 0)).toBe(1.5);
  });

  it.each(PAYLOADS)('%j (%s)', (payload) => {
    let error: unknown;
    try { compileFormula(payload, ['z', 'a', 'y']); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(FormulaError);
    expect((error as FormulaError).detail).toMatch(/^(a |an |the operator |several |exp\(\) )/);
    expect(functionCalls, 'no code was generated').toBe(0);
    expect((globalThis as Record<string, unknown>).__bpcSentinel).toBeUndefined();
  });

  it('payloads that would set a global if anything ran them leave it unset', () => {
    for (const p of [
      'a.constructor("globalThis.__bpcSentinel = 1")()',
      'import({__bpcSentinel: 1})',
      'evaluate("__bpcSentinel = 1")',
      '__bpcSentinel = 1',
      'f(x) = __bpcSentinel; f(1)',
    ]) {
      expect(() => compileFormula(p, ['z', 'a', 'y'])).toThrow(FormulaError);
      expect(() => customActivation(p)).toThrow(FormulaError);
      expect(() => customLoss(p)).toThrow(FormulaError);
    }
    expect(functionCalls).toBe(0);
    expect((globalThis as Record<string, unknown>).__bpcSentinel).toBeUndefined();
  });

  it('names the offending construct', () => {
    const detail = (p: string) => { try { compileFormula(p, ['z']); } catch (e) { return (e as FormulaError).detail; } return 'accepted'; };
    expect(detail('f(x) = x')).toBe('a function definition, which is not allowed in a formula');
    expect(detail('x = 1')).toBe('an assignment, which is not allowed in a formula');
    expect(detail('cos.constructor')).toBe('a property or index access, which is not allowed in a formula');
    expect(detail('[1, 2]')).toBe('a matrix or list, which is not allowed in a formula');
    expect(detail('evaluate("1")')).toBe('a call of "evaluate", which is not an allowed function (allowed: exp, log, log1p, expm1, tanh, sinh, cosh, sqrt, abs, sign, max, min, sigmoid, softplus)');
    expect(detail('1e999')).toBe('a constant Infinity that is not a finite number');
    expect(detail('#z')).toBe('an empty formula (only a comment)');
    expect(detail('a')).toBe('an unknown name "a" (only the variables z, the constants e and pi, and the functions exp, log, log1p, expm1, tanh, sinh, cosh, sqrt, abs, sign, max, min, sigmoid, softplus may be used)');
  });

  it('a formula over 2000 characters is refused before it is parsed, quickly', () => {
    const t0 = performance.now();
    expect(() => compileFormula('z+'.repeat(1500) + 'z', ['z'])).toThrow(/longer than 2000 characters/);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('deep nesting within the length limit is compiled or refused as a FormulaError, never a crash', () => {
    for (const depth of [10, 200, 999]) {
      const source = '('.repeat(depth) + 'z' + ')'.repeat(depth);
      try {
        expect(compileFormula(source, ['z']).fn(0.25, 0, 0)).toBe(0.25);
      } catch (e) {
        expect(e).toBeInstanceOf(FormulaError);
      }
      const unary = '-'.repeat(depth * 2) + 'z';
      try {
        expect(compileFormula(unary, ['z']).fn(0.25, 0, 0)).toBe(0.25);
      } catch (e) {
        expect(e).toBeInstanceOf(FormulaError);
      }
    }
  });

  it('formulas whose derivatives explode are refused in bounded time, never a hang or an out-of-memory crash', () => {
    const nested = (n: number) => { let s = 'z'; for (let i = 0; i < n; i++) s = `${['sigmoid', 'softplus', 'tanh', 'exp'][i % 4]}(${s} * z)`; return s; };
    const longest = (unit: string, sep: string) => { let s = unit; while ((s + sep + unit).length <= 2000) s += sep + unit; return s; };
    const cases: [string, string][] = [
      // Expanding sigmoid/softplus used to redo every level's arguments: 160 s at this depth.
      ['40 nested sigmoid/softplus/tanh/exp', nested(40)],
      ['a product of 280 exponentials', longest('exp(z)', ' * ')],
      ['300 nested tanh', (() => { let s = 'z'; while (`tanh(${s})`.length <= 2000) s = `tanh(${s})`; return s; })()],
      ['a tower of powers', (() => { let s = 'z'; while (`(${s})^z`.length <= 2000) s = `(${s})^z`; return s; })()],
    ];
    for (const [what, source] of cases) {
      const t0 = performance.now();
      let error: unknown;
      let act: ReturnType<typeof customActivation> | undefined;
      try { act = customActivation(source); } catch (e) { error = e; }
      if (act) {
        // Derivatives come from automatic differentiation (linear in the formula's size), so only
        // the shown first symbolic derivative can be too large: a formula whose second and third
        // derivatives explode (40 nested functions) is now accepted, and its derivative is right.
        expect(what).toBe('40 nested sigmoid/softplus/tanh/exp');
        const z = 0.3, h = 1e-5;
        const quotient = (act.difference(z, act.f(z), h) - act.difference(z, act.f(z), -h)) / (2 * h);
        expect(Math.abs(act.derivative(z, act.f(z)) - quotient), what).toBeLessThan(1e-6 * Math.max(1, Math.abs(quotient)));
      } else {
        expect(error, what).toBeInstanceOf(FormulaError);
        expect((error as FormulaError).detail, what).toMatch(/^a formula (whose symbolic derivatives grow too large|nested too deeply to parse)/);
      }
      expect(performance.now() - t0, what).toBeLessThan(30_000);
    }
  });

  it('a realistic long activation (GELU, a 20-term polynomial) compiles with its derivatives', () => {
    const gelu = customActivation('0.5 * z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 * z^3)))');
    expect(gelu.derivative(0, gelu.f(0))).toBeCloseTo(0.5, 12);
    const poly = customActivation('tanh(z) + ' + Array.from({ length: 20 }, (_, i) => `${i + 1} * z^2 / ${i + 2}`).join(' + '));
    const expected = 1 - Math.tanh(0.3) ** 2 + 2 * 0.3 * Array.from({ length: 20 }, (_, i) => (i + 1) / (i + 2)).reduce((a, b) => a + b, 0);
    expect(poly.derivative(0.3, poly.f(0.3))).toBeCloseTo(expected, 10);
  });
});

// ---- through the CLI: every place a formula can stand, in the built binary's main()
const PLACES: { place: string; net: (f: string) => unknown; expected: string }[] = [
  { place: 'backward.activationDerivatives[0]', expected: 'an element-wise formula in z and/or a (mathjs syntax)',
    net: (f) => ({ layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', backward: { activationDerivatives: [f, null] } }) },
  { place: 'backward.outputGradient', expected: 'an element-wise formula in a, y (and z) (mathjs syntax)',
    net: (f) => ({ layers: [{ units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', backward: { outputGradient: f } }) },
  { place: 'backward.outputDelta', expected: 'an element-wise formula in a, y (and z) (mathjs syntax)',
    net: (f) => ({ layers: [{ units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', backward: { outputDelta: f } }) },
  { place: 'layers[0].activation.expr', expected: 'an element-wise formula in z (mathjs syntax)',
    net: (f) => ({ layers: [{ units: 3, activation: { expr: f } }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }) },
  { place: 'loss.expr', expected: 'an element-wise formula in a and y (mathjs syntax)',
    net: (f) => ({ layers: [{ units: 1, activation: 'sigmoid' }], loss: { expr: f } }) },
];

const CLI_PAYLOADS = PAYLOADS.map(([p]) => p).filter((p) => p.length < 200);

describe('through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpc-formula-'));
  const cases: { name: string; place: string; expected: string; payload: string }[] = [];
  PLACES.forEach((p, i) => CLI_PAYLOADS.forEach((payload, j) => {
    const name = `p${i}-${j}`;
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'net.json'), JSON.stringify(p.net(payload)));
    writeFileSync(join(dir, name, 'case.json'), JSON.stringify({ args: ['net.json', data] }));
    cases.push({ name, place: p.place, expected: p.expected, payload });
  }));
  let results: Record<string, { status: number; stdout: string; stderr: string }> = {};
  let spawned: CliRun;

  beforeAll(async () => {
    const r = await runNode([join(root, 'test/bad-input/harness.mjs'), dir, ...cases.map((c) => c.name)]);
    if (r.status !== 0) throw new Error(r.stderr);
    results = JSON.parse(r.stdout);
    // And one through the binary itself.
    spawned = await runCli([join(dir, 'p0-1', 'net.json'), data]);
  }, 300_000);

  it(`${PLACES.length} places × ${CLI_PAYLOADS.length} payloads: exit 2, one line naming the place, nothing on stdout`, () => {
    for (const c of cases) {
      const r = results[c.name];
      const label = `${c.place} = ${JSON.stringify(c.payload)}: ${r.stderr}`;
      expect(r.status, label).toBe(2);
      expect(r.stdout, label).toBe('');
      expect(r.stderr, label).not.toMatch(/\n\s+at /);
      expect(r.stderr.startsWith(`backprop-check: net.json, ${c.place}: expected ${c.expected}; found `), label).toBe(true);
    }
  });

  it('the binary itself: exit 2 with the exact message', () => {
    expect(spawned.status).toBe(2);
    expect(spawned.stdout).toBe('');
    expect(spawned.stderr).toBe(`backprop-check: ${join(dir, 'p0-1', 'net.json')}, backward.activationDerivatives[0]: expected an element-wise formula in z and/or a (mathjs syntax); found a syntax error (Value expected (char 33)).\n`);
  });
});
