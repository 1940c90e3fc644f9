// The command line's slim mathjs (src/cli/mathjs-slim.ts: the factories formulas use, without
// Unit) must read and differentiate formulas exactly as mathjs's full build (create(all)), which
// the library uses: the same parse trees, the same symbolic derivatives, the same simplified texts,
// the same refusals. Compared through formula.ts itself on every string of the fixtures' JSON that
// is a formula, and on seeded random compositions of every allowed function.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { MathJsInstance } from 'mathjs';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFormula, differentiate, useMathjs } from '../src/core/formula/formula.js';
import { Random } from '../src/core/random.js';
import { slimMathjs } from '../src/cli/mathjs-slim.js';

const root = new URL('..', import.meta.url).pathname;
const full = (): MathJsInstance => {
  const { create, all } = createRequire(import.meta.url)('mathjs/lib/browser/math.js') as typeof import('mathjs');
  return create(all);
};

/** Every string in the JSON files under `dir`. */
function strings(dir: string, out = new Set<string>()): Set<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const stat = lstatSync(p);
    if (stat.isDirectory()) strings(p, out);
    // Large files are tensors (weights, golden gradients), not formulas; links are bad-input cases (/dev/zero).
    else if (stat.isFile() && name.endsWith('.json') && stat.size < 100_000) collect(parsed(readFileSync(p, 'utf8')), out);
  }
  return out;
}
/** The quoted strings of the test files' sources, where most formulas of the formula tests are. */
function literals(dir: string, out = new Set<string>()): Set<string> {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.test.ts')) continue;
    for (const m of readFileSync(join(dir, name), 'utf8').matchAll(/'([^'\\\n]{1,200})'|"([^"\\\n]{1,200})"/g)) out.add(m[1] ?? m[2]);
  }
  return out;
}

/** Some fixtures are broken JSON on purpose (bad-input cases). */
function parsed(text: string): unknown {
  try { return JSON.parse(text); } catch { return null; }
}
function collect(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) collect(v, out);
}

/** A seeded random composition of depth ≤ `depth` of every function a formula may call. */
function randomFormula(rng: Random, depth: number): string {
  const c = () => (rng.uniform() < 0.2 ? ['e', 'pi', '2', '0.5'][rng.int(4)] : (0.1 + 2 * rng.uniform()).toFixed(2));
  const v = () => ['z', 'a', 'y'][rng.int(3)];
  if (depth === 0) return [v(), `${c()} * ${v()}`, `(${v()} - ${c()})`, c()][rng.int(4)];
  const e = () => randomFormula(rng, depth - 1);
  const unary = ['exp', 'log', 'log1p', 'expm1', 'tanh', 'sinh', 'cosh', 'sqrt', 'abs', 'sign', 'sigmoid', 'softplus'];
  const templates = [
    () => `${unary[rng.int(unary.length)]}(${e()})`, () => `max(${e()}, ${e()})`, () => `min(${e()}, ${e()})`,
    () => `${e()} + ${e()}`, () => `${e()} - ${e()}`, () => `${e()} * ${e()}`, () => `${e()} / ${e()}`,
    () => `(${e()})^${c()}`, () => `-(${e()})`, () => `+${e()}`, () => `(${e()})^2`, () => `${c()} ^ ${e()}`,
  ];
  return templates[rng.int(templates.length)]();
}

/** What formula.ts makes of `source` with the current mathjs: its tree and derivatives as text, or its refusal. */
function readings(source: string): string[] {
  const out: string[] = [];
  const attempt = (f: () => string) => {
    try { out.push(f()); } catch (e) { out.push(`error: ${(e as Error).message}`); }
  };
  let formula;
  try {
    formula = compileFormula(source, ['z', 'a', 'y']);
  } catch (e) {
    return [`error: ${(e as Error).message}`];
  }
  out.push(formula.node.toString());
  for (const v of ['z', 'a'] as const) {
    for (const simplify of [true, 'core', false] as const) attempt(() => differentiate(formula, v, simplify).source);
  }
  return out;
}

describe('the slim mathjs of the command line', () => {
  afterAll(() => useMathjs(full));
  const rng = new Random(20261202);
  const corpus = [...new Set([...strings(join(root, 'fixtures')), ...strings(join(root, 'test')), ...literals(join(root, 'test'))])].filter((s) => s.length < 300);
  const random = Array.from({ length: 300 }, () => randomFormula(rng, 1 + rng.int(3)));

  function compare(formulas: string[]): number {
    useMathjs(full);
    const expected = formulas.map(readings);
    useMathjs(slimMathjs);
    const actual = formulas.map(readings);
    for (let i = 0; i < formulas.length; i++) expect([formulas[i], ...actual[i]]).toEqual([formulas[i], ...expected[i]]);
    return expected.filter((r) => !r[0].startsWith('error')).length;
  }

  it('reads and differentiates every formula of the fixtures and tests as the full build does', () => {
    // Most strings are not formulas (names, messages) and both refuse them alike; enough are.
    expect(compare(corpus)).toBeGreaterThan(150);
  }, 120_000);

  it('reads and differentiates random compositions of every allowed function and constant as the full build does', () => {
    expect(compare(random)).toBeGreaterThan(250);
  }, 120_000);
});
