// The difference source is a seam (src/core/differences/source.ts): check() takes whatever source
// its caller prepared, and asks it only what the source can answer. Plugged in here: the naive
// reference (element questions only; bit for bit the propagated numbers, so the same report) and a
// source that sees nothing but J, computed by two forward passes per quotient (the shape of the
// user's own program computing the cost), which reaches the same verdicts where plain subtraction
// can resolve the gradients and no sample sits on a kink.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, prepare, type CheckInput } from '../src/core/check/check.js';
import { sweep, sweepSources } from '../src/core/check/sweep.js';
import { costSource, plainCostSource } from '../src/core/differences/costs.js';
import { naiveSource } from '../src/core/differences/naive.js';
import { propagatedSource } from '../src/core/differences/propagated.js';
import { diagnoser } from '../src/core/diagnose/index.js';
import { forward } from '../src/core/forward.js';
import { initialise } from '../src/core/init.js';
import type { Report } from '../src/core/report.js';
import { loadData } from '../src/io/data.js';
import { declaredPlan, loadSpec, withInputs } from '../src/io/spec.js';

const root = new URL('..', import.meta.url).pathname;

function fixture(name: string) {
  const spec = loadSpec(join(root, 'fixtures', name, 'net.json'));
  const data = loadData(join(root, 'fixtures', name, 'data.csv'), spec.model, spec.statedInputs);
  const model = withInputs(spec.model, data.X.shape[0]);
  const plan = spec.declared ? declaredPlan(model, spec.declared) : correctPlan(model);
  const input: CheckInput = { model, params: initialise(model), X: data.X, Y: data.Y, gradients: { source: 'declared', plan } };
  return { input, diagnose: diagnoser(spec.declared) };
}

/** What a report decides: pass or fail overall, each tensor's status and Taylor verdict, the finding codes. */
const verdicts = (r: Report) => ({
  ok: r.ok,
  checks: r.checks.map((c) => [c.param, c.status, c.taylorStatus]),
  findings: r.findings.map((f) => f.code),
});

describe('the naive reference as the source', () => {
  it.each(['xor', 'seed', 'softmax3', 'relu-l2'])('%s: the same report, number for number, as with the propagated source', (name) => {
    const { input, diagnose } = fixture(name);
    const options = { ...DEFAULT_OPTIONS, mode: 'full' as const };
    const naive = check(input, options, diagnose, prepare(input, naiveSource));
    expect(JSON.stringify(naive)).toBe(JSON.stringify(check(input, options, diagnose)));
  });

  it('answers element questions only: a directional check or a Taylor test with it is refused', () => {
    const { input } = fixture('xor');
    const prepared = prepare(input, naiveSource);
    expect(prepared.differences.elements).toBeUndefined();
    expect(() => check(input, { ...DEFAULT_OPTIONS, mode: 'directional' }, undefined, prepared)).toThrow("internal: this check's difference source answers no directions");
    expect(() => check(input, { ...DEFAULT_OPTIONS, taylor: true }, undefined, prepared)).toThrow("internal: this check's difference source answers no one-sided changes (the Taylor test)");
  });
});

describe('a source that sees only J', () => {
  it.each(['xor', 'seed', 'mse2', 'relu-l2'])('%s: the same verdicts as the propagated source, full and directional, Taylor test included', (name) => {
    const { input, diagnose } = fixture(name);
    for (const mode of ['full', 'directional'] as const) {
      const options = { ...DEFAULT_OPTIONS, mode, taylor: true };
      const costs = check(input, options, diagnose, prepare(input, plainCostSource));
      expect(verdicts(costs)).toEqual(verdicts(check(input, options, diagnose)));
    }
  });

  it('J(θ ± h) from any cost function: the sweep\'s plain quotient, by two forward passes', () => {
    const { input } = fixture('xor');
    const { model, params, X, Y } = input;
    const fwd = forward(model, params, X, Y);
    const J = costSource(params, (moved) => forward(model, moved, X, Y).cost, fwd.cost);
    const W1 = { layer: 0, name: 'W' };
    const plus = { ...params[0].W, data: params[0].W.data.slice() };
    const minus = { ...params[0].W, data: params[0].W.data.slice() };
    plus.data[3] += 1e-4;
    minus.data[3] += -1e-4;
    const moved = (W: typeof plus) => params.map((layer, l) => (l === 0 ? { ...layer, W } : layer));
    const want = (forward(model, moved(plus), X, Y).cost - forward(model, moved(minus), X, Y).cost) / 2e-4;
    expect(J.element(W1, 3, 1e-4)).toEqual({ numeric: want, kink: false, spread: 0, refined: false });
    expect(J.subtractedCost).toBe(Math.abs(fwd.cost));
  });
});

describe('one forward pass per check', () => {
  it('the sweep and the check share one prepared pass, and give what each gives on its own', () => {
    const { input, diagnose } = fixture('seed-fixed');
    let built = 0;
    const prepared = prepare(input, (at, fwd) => { built++; return propagatedSource(at, fwd); });
    const swept = sweep(input, 1, undefined, undefined, sweepSources(input, prepared));
    const options = { ...DEFAULT_OPTIONS, epsilon: swept.chosen, epsilons: swept.perTensor };
    const shared = check(input, options, diagnose, prepared);
    expect(built).toBe(1);
    expect(JSON.stringify(swept)).toBe(JSON.stringify(sweep(input, 1)));
    expect(JSON.stringify(shared)).toBe(JSON.stringify(check(input, options, diagnose)));
  });
});
