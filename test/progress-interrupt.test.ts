// Ctrl-C during a long check: the binary prints the report of what was checked so far, marked
// partial, and exits with status 130. Spawns the built binary (npm test builds first) on the
// 784-128-64-10 × 64 network of the benchmark, a full check of several seconds.
//
// Node dies of a SIGINT that comes before backprop-check has set its handler (while it loads), so
// the signal is sent after a delay, and again with a longer one if the process died of it. The
// full check itself lasts seconds (on one thread here, so that a machine with many cores does not
// finish it first), a wide window.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES, writeCase } from '../tools/bench/cases.js';
import { correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, type CheckOptions } from '../src/core/check/check.js';
import { forward } from '../src/core/forward.js';
import { backward } from '../src/core/backprop.js';
import { mapTensors } from '../src/core/model.js';
import type { Tensor } from '../src/core/tensor.js';
import { network } from './helpers/network.js';
import { root, spawnCli } from './helpers/cli.js';


interface Outcome { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function interruptAfter(files: { net: string; data: string }, ms: number): Promise<Outcome> {
  const child = spawnCli([files.net, files.data, '--format', 'json'], { env: { BACKPROP_CHECK_THREADS: '1' } });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGINT'), ms);
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  }));
}

describe('Ctrl-C', () => {
  it('prints the partial report (what was checked so far) and exits 130', async () => {
    const big = CASES.find((c) => c.sizes[0] === 784)!;
    const files = writeCase(big, root, mkdtempSync(join(tmpdir(), 'bpc-interrupt-')));
    let outcome: Outcome;
    let delay = 1000;
    for (let attempt = 0; ; attempt++) {
      outcome = await interruptAfter(files, delay);
      if (outcome.signal !== 'SIGINT' || attempt === 4) break;
      delay += 1000;
    }
    const { code, signal, stdout, stderr } = outcome;
    expect({ code, signal, stderr }).toEqual({ code: 130, signal: null, stderr: '' });
    const report = JSON.parse(stdout);
    expect(report.partial).toBe(true);
    expect(report.ok).toBe(false);
    const checked = report.checks.reduce((n: number, c: { checked: number }) => n + c.checked, 0);
    expect(checked).toBeLessThan(109_386);
    // Every tensor is listed; the ones the interrupt cut short say how far they got.
    const names = big.sizes.slice(1).flatMap((_, l) => [`W${l + 1}`, `b${l + 1}`]);
    expect(report.checks.map((c: { param: string }) => c.param)).toEqual(names);
    const unfinished = report.checks.filter((c: { planned?: number }) => c.planned !== undefined);
    expect(unfinished.length).toBeGreaterThan(0);
    for (const c of unfinished) expect(c.checked).toBeLessThan(c.planned);
    for (const c of report.checks.filter((c: { planned?: number }) => c.planned === undefined)) expect(c.checked).toBe(c.shape[0] * c.shape[1]);
    for (const c of report.checks) expect(c.status).toBe('pass');
  }, 300_000);
});

describe('an interrupted check (core)', () => {
  const spec = { input: 3, layers: [{ units: 4, activation: 'tanh' }, { units: 2, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 2 } };
  const m = 5;
  const X: Tensor = { shape: [3, m], data: Float64Array.from({ length: 3 * m }, (_, i) => Math.sin(i + 1)) };
  const Y: Tensor = { shape: [1, m], data: Float64Array.from({ length: m }, (_, i) => i % 2) };
  const { model, params } = network(spec, { initSeed: 2, data: { X, Y } });
  const stopAfter = (polls: number, options: Partial<CheckOptions> = {}) => {
    let n = 0;
    return check({ model, params, X, Y, gradients: { source: 'correct', plan: correctPlan(model) } }, { ...DEFAULT_OPTIONS, ...options, shouldStop: () => ++n > polls });
  };

  it('marks the tensor it stopped in with how many elements it was to check, and lists the unreached ones with checked 0', () => {
    // Full mode polls once per row: W1 has 4 rows of 3, so 2 polls stop it after 2 rows (6 of 12 elements).
    const r = stopAfter(2);
    expect(r.partial).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.checks.map((c) => [c.param, c.checked, c.planned])).toEqual([
      ['W1', 6, 12], ['b1', 0, 4], ['W2', 0, 8], ['b2', 0, 2], ['W3', 0, 2], ['b3', 0, 1],
    ]);
  });

  it('leaves planned off every tensor that finished, and off every tensor of a check that was not interrupted', () => {
    const r = stopAfter(5); // W1's 4 rows and b1's first row
    expect(r.checks.map((c) => [c.param, c.checked, c.planned])).toEqual([
      ['W1', 12, undefined], ['b1', 1, 4], ['W2', 0, 8], ['b2', 0, 2], ['W3', 0, 2], ['b3', 0, 1],
    ]);
    const whole = stopAfter(Infinity);
    expect(whole.partial).toBeUndefined();
    expect(whole.checks.every((c) => c.planned === undefined)).toBe(true);
  });

  it('counts directions in directional mode', () => {
    const r = stopAfter(Infinity, { mode: 'directional', samples: 4, shouldStop: undefined });
    expect(r.checks.every((c) => c.planned === undefined && c.checked + c.kinks === 4)).toBe(true);
    let n = 0;
    const cut = check({ model, params, X, Y, gradients: { source: 'correct', plan: correctPlan(model) } }, { ...DEFAULT_OPTIONS, mode: 'directional', samples: 4, shouldStop: () => ++n >= 6 });
    expect(cut.checks.map((c) => [c.param, c.checked + c.kinks, c.planned])).toEqual([
      ['W1', 4, undefined], ['b1', 2, 4], ['W2', 0, 4], ['b2', 0, 4], ['W3', 0, 4], ['b3', 0, 4],
    ]);
  });

  it('marks the tensors judged against float32 resolution (float32 gradients)', () => {
    const fwd = forward(model, params, X, Y);
    const g = backward(model, params, fwd, Y, correctPlan(model));
    const f32 = mapTensors(g, (t) => ({ ...t, data: t.data.map(Math.fround) }));
    const r = check({ model, params, X, Y, gradients: { source: 'grads', grads: f32 } });
    expect(r.checks.filter((c) => c.precision === 'float32').length).toBeGreaterThan(0);
    expect(check({ model, params, X, Y, gradients: { source: 'grads', grads: g } }).checks.every((c) => c.precision === undefined)).toBe(true);
  });
});
