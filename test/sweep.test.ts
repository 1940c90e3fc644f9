// --sweep: relative error against ε from 1e-1 to 1e-12. With right gradients, plain subtraction
// draws the V (truncation ∝ ε² on the left, round-off ∝ 1/ε on the right) while backprop-check's
// own differences fall with ε² and then stay at the bottom; with wrong gradients both stay flat and
// high. The check then runs at the chosen ε.
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './helpers/cli.js';
import { correctPlan } from '../src/core/backprop.js';
import { choose, chooseFor, sweep, SWEEP_EPSILONS } from '../src/core/check/sweep.js';
import { backward } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { categoryOf, diagnoser } from '../src/core/diagnose/index.js';
import { forward } from '../src/core/forward.js';
import { mapTensors, namedTensors, paramLabel } from '../src/core/model.js';
import { stepFor } from '../src/core/check/resolution.js';
import { declaredPlan } from '../src/io/spec.js';
import { fixtureNetwork } from './helpers/network.js';


function fixture(name: string) {
  const { model, params, X, Y, declared } = fixtureNetwork(name);
  const plan = declared ? declaredPlan(model, declared) : correctPlan(model);
  return { model, params, X, Y, gradients: { source: 'declared' as const, plan } };
}

const argmin = (xs: number[]) => xs.indexOf(Math.min(...xs));

describe('the sweep', () => {
  it('right gradients (xor): plain subtraction is a V, backprop-check falls as ε² and stays at the bottom', () => {
    const s = sweep(fixture('xor'), 1);
    expect(s.epsilons).toEqual(SWEEP_EPSILONS);
    expect(s.epsilons).toEqual([1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12]);
    const { accurate, plain } = s.worst;
    // Left arm: truncation error ∝ ε², a hundredfold per decade, in both.
    for (let i = 0; i < 3; i++) {
      expect(accurate[i] / accurate[i + 1]).toBeGreaterThan(50);
      expect(accurate[i] / accurate[i + 1]).toBeLessThan(200);
    }
    // The V: plain's bottom is in the middle, and its right arm climbs by decades.
    const bottom = argmin(plain);
    expect(bottom).toBeGreaterThanOrEqual(3);
    expect(bottom).toBeLessThanOrEqual(6);
    expect(plain[11]).toBeGreaterThan(1000 * plain[bottom]);
    // backprop-check's curve has no right arm: flat at the bottom.
    for (let i = 7; i < 12; i++) expect(accurate[i]).toBeLessThan(1e-14);
    expect(s.chosen).toBeLessThanOrEqual(1e-6);
    expect(s.tensors.map((t) => t.param)).toEqual(['W1', 'b1', 'W2', 'b2']);
  });

  it('the seed net’s 1e-7 gradients: plain subtraction never gets below 1e-3, backprop-check reaches 1e-9', () => {
    const s = sweep(fixture('seed-fixed'), 1);
    expect(Math.min(...s.worst.plain)).toBeGreaterThan(1e-4);
    expect(Math.min(...s.worst.accurate)).toBeLessThan(1e-9);
    expect(s.chosen).toBe(1e-5);
  });

  it('wrong gradients (the seed’s formulas): both curves are flat and high at every ε, and every tensor keeps its normal step', () => {
    const s = sweep(fixture('seed'), 1);
    for (const e of [...s.worst.accurate, ...s.worst.plain]) expect(e).toBeGreaterThan(0.5);
    // Before issue 11 this chose ε = 0.1 from the flat curves, where right tensors fail.
    expect(s.chosen).toBe(1e-6);
    expect(s.perTensor).toEqual({});
    for (const t of s.tensors) {
      expect(t.chosen).toBeNull();
      expect(t.reason).toMatch(/^wrong at every step \(its smallest relative error, \S+, is at or above the tolerance\): checked at its normal step$/);
    }
  });

  it('chooses the largest ε within 10× of the smallest error', () => {
    const eps = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5];
    expect(choose(eps, [1e-2, 1e-4, 1e-6, 2e-7, 1e-7]).chosen).toBe(1e-3);
    expect(choose(eps, [1e-2, 1e-4, 2e-6, 2e-7, 1e-7]).chosen).toBe(1e-4);
    expect(choose(eps, [1e-2, 1e-4, 1e-6, 2e-7, 1e-7]).reason).toBe('the largest step whose worst relative error (1.0e-7 at best) is within 10× of the smallest');
    expect(choose(eps, [0.9, 0.9, 0.9, 0.9, 0.9]).chosen).toBe(1e-1);
    expect(choose(eps, [NaN, NaN, NaN, NaN, NaN]).chosen).toBe(1e-6);
    expect(choose(eps, [Infinity, 1e-3, 0, 0, 0]).chosen).toBe(1e-3);
  });
});

describe('the per-tensor choice (issue 11, item 5)', () => {
  /** seed-fixed's right gradients handed in, with one tensor 1.5× too large: a flat, high curve. */
  function oneWrong(param: string) {
    const f = fixture('seed-fixed');
    const right = backward(f.model, f.params, forward(f.model, f.params, f.X, f.Y), f.Y, f.gradients.plan);
    const grads = mapTensors(right, (m, ref) => (paramLabel(ref) === param ? { ...m, data: m.data.map((v) => 1.5 * v) } : m));
    return { ...f, gradients: { source: 'grads' as const, grads } };
  }

  it('one wrong tensor keeps its normal step; the right ones get their own, and pass with no invented cause', () => {
    const input = oneWrong('W3');
    const s = sweep(input, 1);
    const w3 = s.tensors.find((t) => t.param === 'W3')!;
    expect(w3.chosen).toBeNull();
    expect(Math.min(...w3.accurate)).toBeGreaterThan(0.1);
    expect(Object.keys(s.perTensor)).toEqual(['W1', 'b1', 'W2', 'b2', 'b3', 'W4', 'b4']);
    // The worst curve is W3's, flat: chosen on it, ε would be 0.1.
    expect(choose(s.epsilons, s.worst.accurate).chosen).toBe(0.1);
    expect(s.chosen).toBeLessThanOrEqual(1e-4);
    expect(s.reason).toContain('(W3: wrong at every step, checked at the normal step)');
    const r = check(input, { ...DEFAULT_OPTIONS, epsilon: s.chosen, epsilons: s.perTensor }, diagnoser(null));
    expect(r.checks.filter((c) => c.status === 'fail').map((c) => c.param)).toEqual(['W3']);
    for (const c of r.checks) expect(c.epsilon).toBe(c.param === 'W3' ? stepFor(namedTensors(input.model, input.params).find((t) => t.label === 'W3')!, forward(input.model, input.params, input.X, input.Y), s.chosen) : s.perTensor[c.param]);
    // Only W3 is named by the diagnosis.
    for (const f of r.findings.filter((x) => ['root', 'propagated'].includes(categoryOf(x.code) ?? ''))) {
      expect(f.layer).toBe(3);
    }
    const mismatch = r.findings.find((x) => x.code === 'gradient-mismatch');
    if (mismatch) expect(mismatch.message).not.toMatch(/b1|b2|b4|W1|W2|W4/);
  });

  it('at the single ε the flat curve would choose (0.1), the right tensors fail: what the per-tensor choice avoids', () => {
    const input = oneWrong('W3');
    const r = check(input, { ...DEFAULT_OPTIONS, epsilon: 0.1, fixedStep: true }, diagnoser(null));
    expect(r.checks.filter((c) => c.param !== 'W3' && c.status === 'fail').length).toBeGreaterThan(0);
  });

  it('never picks a step its own curve marks as unresolved', () => {
    const input = oneWrong('b2');
    const s = sweep(input, 1);
    for (const t of s.tensors) {
      if (t.chosen === null) continue;
      const i = s.epsilons.indexOf(t.chosen);
      expect(t.accurate[i]).toBeLessThanOrEqual(Math.max(10 * Math.min(...t.accurate), 1e-9));
      expect(t.accurate[i]).toBeLessThan(1e-6);
    }
  });

  it('chooseFor: the largest ε within 10× of the tensor\'s smallest error or below tolerance/1000; null when flat and high', () => {
    const eps = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5];
    expect(chooseFor(eps, [1e-2, 1e-4, 1e-6, 2e-7, 1e-7], 1e-6).chosen).toBe(1e-3);
    expect(chooseFor(eps, [1e-2, 1e-6, 1e-10, 1e-17, 1e-16], 1e-6).chosen).toBe(1e-3);
    expect(chooseFor(eps, [0.5, 0.5, 0.5, 0.5, 0.5], 1e-6)).toEqual({ chosen: null, reason: 'wrong at every step (its smallest relative error, 5.0e-1, is at or above the tolerance): checked at its normal step' });
    expect(chooseFor(eps, [NaN, NaN, NaN, NaN, NaN], 1e-6).chosen).toBeNull();
  });
});

const cli = (args: string[]) => runCli(args);

describe('--sweep on the command line', () => {
  it('prints the sweep, marks the chosen ε and checks with it (table); the JSON report carries the sweep', async () => {
    const table = await cli(['fixtures/seed-fixed/net.json', 'fixtures/seed-fixed/data.csv', '--sweep']);
    expect(table.status).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe("Step sweep: the worst tensor's relative error against ε (8 seeded elements per tensor, bars from 1e-16 to 1)");
    expect(lines.slice(2, 14).map((l) => l.trim().split(/\s+/)[0])).toEqual(SWEEP_EPSILONS.map((e) => e.toExponential(0)));
    expect(lines.filter((l) => l.includes('◀ chosen'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('◀ chosen'))!.trim().startsWith('1e-5 ')).toBe(true);
    expect(table.stdout).toContain('Chosen ε = 1.00e-5: the largest step whose worst relative error');
    expect(table.stdout).toContain('ε=1.00e-5, tolerance 1.00e-6, full mode');

    const json = await cli(['fixtures/seed/net.json', 'fixtures/seed/data.csv', '--sweep', '--format', 'json']);
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.sweep.epsilons).toEqual(SWEEP_EPSILONS);
    // Every tensor of the seed is wrong at every ε: the check keeps the normal step (it chose 0.1 before issue 11).
    expect(report.sweep.chosen).toBe(1e-6);
    expect(report.settings.epsilon).toBe(1e-6);
    expect(report.sweep.perTensor).toEqual({});
    expect(report.sweep.tensors).toHaveLength(8);
    expect(report.sweep.tensors[0]).toMatchObject({ param: 'W1', elements: 8 });
    expect(report.sweep.tensors[0].accurate).toHaveLength(12);
  });

  it('a reader that closes the pipe early (… | head) gets no stack trace and no error status', async () => {
    const child = spawnCli(['fixtures/xor/net.json', 'fixtures/xor/data.csv', '--sweep'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Closed before backprop-check writes anything: its first write meets EPIPE.
    child.stdout.destroy();
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});
