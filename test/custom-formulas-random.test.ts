// No false alarms for custom formulas: 60 seeded random networks whose activations (and, for some,
// loss) are random compositions of the whitelist — exp, log(1 + …), tanh, sigmoid, softplus, abs,
// max, min, powers (including (u^2)^0.5, which mathjs simplifies wrongly), quotients — checked
// with correct gradients from two sides that share nothing with the finite differences: our own
// backprop (automatic differentiation of the formula) and a declared backward block holding
// mathjs's *unsimplified* symbolic derivative (independent of the AD code). None may fail or get a
// root-cause or propagated finding. The same nets with a wrong declared derivative must fail.
import { describe, expect, it } from 'vitest';
import { correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, type GradientSource } from '../src/core/check/check.js';
import { categoryOf, diagnoser } from '../src/core/diagnose/index.js';
import { customActivation } from '../src/core/records/activations.js';
import { compileFormula, differentiate } from '../src/core/formula/formula.js';
import { forward } from '../src/core/forward.js';
import { customLoss } from '../src/core/records/losses.js';
import { Random } from '../src/core/random.js';
import { declaredPlan } from '../src/io/spec.js';
import { drawn, network } from './helpers/network.js';

/** A random formula in `v` of nesting depth ≤ depth; every leaf mentions v. */
function randomFormula(rng: Random, depth: number, v: string): string {
  const c = () => (0.2 + 1.6 * rng.uniform()).toFixed(2);
  if (depth === 0) return [v, `${c()} * ${v}`, `(${v} - ${c()})`][rng.int(3)];
  const e = () => randomFormula(rng, depth - 1, v);
  const templates = [
    () => `tanh(${e()})`, () => `sigmoid(${e()})`, () => `softplus(${e()})`, () => `log(1 + (${e()})^2)`,
    () => `exp(-(${e()})^2)`, () => `abs(${e()})`, () => `sqrt(1 + (${e()})^2)`, () => `((${e()})^2)^0.5`,
    () => `(1 + (${e()})^2)^${c()}`, () => `max(${e()}, ${c()} * ${e()})`, () => `min(${e()}, ${e()})`,
    () => `${e()} / (1 + abs(${e()}))`, () => `${e()} * ${e()}`, () => `${e()} + ${e()}`, () => `(${e()})^3 / 3`,
  ];
  return templates[rng.int(templates.length)]();
}

const LOSSES = ['log(cosh(a - y))', '((a - y)^2)^(3/2)', 'abs(a - y) + 0.1 * (a - y)^2', 'sqrt(1 + (a - y)^2)', '(a - y)^2 * (1 + sigmoid(a))'];

/** mathjs's derivative without its simplifier: correct, and computed by code the AD shares nothing with. */
const rawDerivative = (source: string, v: 'z' | 'a') => differentiate(compileFormula(source, ['z', 'a', 'y']), v, false).source;

type Channel = 'correct' | 'declared' | 'wrong';

function randomNet(seed: number, channel: Channel) {
  const rng = new Random(seed);
  const hidden = 1 + rng.int(2);
  const exprs = Array.from({ length: hidden }, () => randomFormula(rng, 1 + rng.int(2), 'z'));
  const regression = rng.uniform() < 0.5;
  const lossExpr = LOSSES[rng.int(LOSSES.length)];
  const inputs = 1 + rng.int(3);
  const layers: Record<string, unknown>[] = exprs.map((expr) => ({ units: 1 + rng.int(4), activation: { expr } }));
  layers.push(regression ? { units: 1 + rng.int(2), activation: 'linear' } : { units: 1, activation: 'sigmoid' });
  const spec: Record<string, unknown> = {
    input: inputs, layers,
    loss: regression ? { expr: lossExpr } : 'binary_cross_entropy',
    reduction: rng.uniform() < 0.5 ? 'mean' : 'sum',
    init: { scheme: 'xavier', seed: seed + 7 },
  };
  if (channel !== 'correct') {
    const derivatives: (string | null)[] = exprs.map((e) => rawDerivative(e, 'z'));
    // The wrong one: the first layer's derivative plus 0.3 — wrong at every point.
    if (channel === 'wrong') derivatives[0] = `(${derivatives[0]}) + 0.3`;
    derivatives.push(null);
    spec.backward = { activationDerivatives: derivatives, ...(regression ? { outputGradient: rawDerivative(lossExpr, 'a') } : {}) };
  }
  const { model, params, X, Y, declared } = network(spec, {
    inputs, file: `random custom net ${seed}`,
    data: drawn(4 + rng.int(8), rng, (rng, X, Y) => {
      for (let i = 0; i < X.data.length; i++) X.data[i] = 1.5 * rng.normal();
      for (let i = 0; i < Y.data.length; i++) Y.data[i] = regression ? rng.normal() : rng.int(2);
    }),
  });
  const gradients: GradientSource = channel === 'correct'
    ? { source: 'correct', plan: correctPlan(model) }
    : { source: 'declared', plan: declaredPlan(model, declared!) };
  const report = check({ model, params, X, Y, gradients }, { ...DEFAULT_OPTIONS, seed }, diagnoser(channel === 'correct' ? null : declared));
  return { spec, report, exprs };
}

const alarm = (f: { code: string; severity: string }) => categoryOf(f.code) === 'root' || categoryOf(f.code) === 'propagated' || f.severity === 'error';

describe('random custom formulas', () => {
  it('60 random nets, correct gradients (AD backprop, or mathjs\'s unsimplified derivative declared): no failure, no root-cause finding', () => {
    const alarms: string[] = [];
    let kinked = 0, traps = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const channel: Channel = seed % 2 === 0 ? 'correct' : 'declared';
      const { spec, report, exprs } = randomNet(seed, channel);
      // Formulas whose mathjs-simplified derivative is wrong (it is then not what is shown).
      traps += exprs.filter((e) => customActivation(e).derivativeText !== differentiate(compileFormula(e, ['z']), 'z').source).length;
      const bad = report.findings.filter(alarm);
      if (JSON.stringify(spec).match(/abs|max|min|\^0\.5/)) kinked++;
      if (!report.ok || bad.length > 0) {
        alarms.push(`seed ${seed} (${channel}) ${JSON.stringify(spec.layers)} ${JSON.stringify(spec.loss)}: ${report.checks.filter((c) => c.status === 'fail').map((c) => `${c.param} ${c.relativeError}`).join(', ')} | ${bad.map((f) => `${f.code}: ${f.message}`).join(' | ')}`);
      }
    }
    expect(alarms).toEqual([]);
    expect(kinked).toBeGreaterThan(20);
    // The sample holds formulas on which the old check (mathjs's simplified derivative as the truth) gave false failures.
    expect(traps).toBeGreaterThanOrEqual(5);
  });

  it('the same nets with a wrong declared derivative (+0.3 at layer 1) fail, each with a root-cause finding', () => {
    const passed: string[] = [];
    for (let seed = 1; seed <= 60; seed += 3) {
      const { spec, report } = randomNet(seed, 'wrong');
      if (report.ok || !report.findings.some((f) => categoryOf(f.code) === 'root')) passed.push(`seed ${seed} ${JSON.stringify(spec.layers)}`);
    }
    expect(passed).toEqual([]);
  });
});

describe('custom kinks next to the data', () => {
  /** A 2 → 3 → 1 net with a custom loss; the targets of some samples are put a hair from the output. */
  function nearKink(loss: string, hair: number, mode: 'full' | 'directional') {
    const spec = { input: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'linear' }], loss: { expr: loss }, init: { scheme: 'xavier', seed: 3 } };
    const rng = new Random(5);
    const m = 6;
    const { model, params, X, Y } = network(spec, {
      file: 'near-kink net',
      data: drawn(m, rng, (rng, X) => { for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal(); }),
    });
    const out = forward(model, params, X, Y).A[2].data;
    // Samples 0 and 1: a − y = ±hair, inside the reach of a 1e-6 step; the rest far from the kink.
    for (let c = 0; c < m; c++) Y.data[c] = c === 0 ? out[c] - hair : c === 1 ? out[c] + hair : out[c] + rng.normal();
    return check({ model, params, X, Y, gradients: { source: 'correct', plan: correctPlan(model) } }, { ...DEFAULT_OPTIONS, mode, seed: 1 }, diagnoser(null));
  }

  it.each(['abs(a - y)', 'max(a - y, 0.3 * (y - a))', '((a - y)^2)^0.5 + 0.1 * (a - y)^2'])('loss %s with a − y = ±1e-8: the step crosses the kink, is refined, and correct gradients pass', (loss) => {
    const report = nearKink(loss, 1e-8, 'full');
    expect(report.checks.map((c) => [c.param, c.status])).toEqual([['W1', 'pass'], ['b1', 'pass'], ['W2', 'pass'], ['b2', 'pass']]);
    expect(report.findings.filter(alarm)).toEqual([]);
  });

  it('the refinement is what makes it pass: without the crossing predicate the same check fails', () => {
    const loss = customLoss('abs(a - y)');
    expect(loss.crosses!(0.5, 0.5 + 1e-8, 1e-6)).toBe(true);
    expect(loss.crosses!(0.5, 0.7, 1e-6)).toBe(false);
    // The central quotient across the kink at a − y = −1e-8 averages the slopes −1 and +1.
    const q = (loss.difference(0.5, 0.5 + 1e-8, 1e-6) - loss.difference(0.5, 0.5 + 1e-8, -1e-6)) / 2e-6;
    expect(Math.abs(q - loss.gradient(0.5, 0.5 + 1e-8))).toBeGreaterThan(0.9);
  });
});
