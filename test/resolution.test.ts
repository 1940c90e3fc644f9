// Verdicts at trained, saturated, symmetric and large-scale weights (issue 11, item 2): correct
// float64 gradients from PyTorch (fixtures/trained, scripts/golden_trained.py) pass — handed in
// as --grads hands them in, and from backprop-check's own backprop — with a float64-resolution
// note where their disagreement needed the floor; and the same gradients with a real bug injected
// at the same weights still fail, in every mode.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, type CheckOptions, type GradientSource } from '../src/core/check/check.js';
import { categoryOf, diagnoser } from '../src/core/diagnose/index.js';
import { forward } from '../src/core/forward.js';
import { mapTensors, paramLabel, type Grads } from '../src/core/model.js';
import type { Tensor } from '../src/core/tensor.js';
import { judge, stepFor } from '../src/core/check/resolution.js';
import { namedTensors } from '../src/core/model.js';
import type { Report } from '../src/core/report.js';
import { loadTrained, TRAINED_DIR, TRAINED_FILES, type Trained } from './helpers/network.js';

const MODES: CheckOptions['mode'][] = ['full', 'sample', 'directional'];

function run(t: Trained, gradients: GradientSource, options: Partial<CheckOptions> = {}): Report {
  return check({ model: t.model, params: t.params, X: t.X, Y: t.Y, gradients }, { ...DEFAULT_OPTIONS, samples: 6, ...options }, diagnoser(null));
}

const map = (g: Grads, f: (name: string, m: Tensor) => Tensor): Grads => mapTensors(g, (m, ref) => f(paramLabel(ref), m));
const scaled = (m: Tensor, k: number): Tensor => ({ ...m, data: m.data.map((v) => k * v) });

/** The largest element of the largest tensor, times (1 + k): one element off. */
function oneElementOff(g: Grads, param: string, k: number): Grads {
  return map(g, (name, m) => {
    if (name !== param) return m;
    let at = 0;
    m.data.forEach((v, i) => { if (Math.abs(v) > Math.abs(m.data[at])) at = i; });
    const data = Float64Array.from(m.data);
    data[at] *= 1 + k;
    return { ...m, data };
  });
}

const noInventedCauses = (r: Report) => r.findings.filter((f) => ['root', 'propagated'].includes(categoryOf(f.code) ?? '') || f.severity === 'error');

describe.each(TRAINED_FILES)('%s', (file) => {
  const t = loadTrained(file);
  const outputW = `W${t.model.layers.length}`;

  for (const mode of MODES) {
    it(`${mode}: PyTorch's float64 gradients and our own backprop pass, with no invented cause`, () => {
      for (const gradients of [{ source: 'grads', grads: t.grads }, { source: 'correct', plan: correctPlan(t.model) }] as GradientSource[]) {
        const r = run(t, gradients, { mode });
        expect(r.checks.filter((c) => c.status === 'fail').map((c) => `${c.param} ${c.relativeError}`)).toEqual([]);
        expect(r.ok).toBe(true);
        expect(noInventedCauses(r)).toEqual([]);
        const within = r.checks.filter((c) => c.withinResolution);
        const note = r.findings.find((f) => f.code === 'float64-resolution');
        if (within.length > 0) {
          expect(note?.severity).toBe('info');
          expect(note?.message).toContain('agree');
          expect(note?.message).toContain('to float64 resolution at these weights');
          for (const c of within) expect(note?.message).toContain(c.param);
        } else expect(note).toBeUndefined();
      }
    });

    it(`${mode}: a real bug at the same weights still fails (factor 2, sign flip, missing 1/m, one element off)`, () => {
      const m = t.X.shape[1];
      const bugs: [string, Grads, string][] = [
        ['factor 2', map(t.grads, (n, x) => (n === outputW ? scaled(x, 2) : x)), outputW],
        ['sign flip', map(t.grads, (n, x) => (n === 'W1' ? scaled(x, -1) : x)), 'W1'],
        ['missing 1/m', map(t.grads, (n, x) => (n === 'b1' ? scaled(x, t.model.reduction === 'mean' ? m : 1 / m) : x)), 'b1'],
      ];
      if (mode !== 'sample') bugs.push(['one element off by 50%', oneElementOff(t.grads, 'W1', 0.5), 'W1']);
      for (const [what, grads, param] of bugs) {
        const zero = namedTensors(t.model, t.grads).find((x) => x.label === param)!.value.data.every((v) => v === 0);
        if (zero) continue; // a bug that scales zeros changes nothing
        const r = run(t, { source: 'grads', grads }, { mode });
        expect({ what, status: r.checks.find((c) => c.param === param)!.status }).toEqual({ what, status: 'fail' });
        expect(r.ok).toBe(false);
      }
    });
  }
});

describe('the step per tensor', () => {
  const t = loadTrained('features-1e4.json');
  it('shrinks by decades with the layer\'s inputs (features of 1e4) and is reported per tensor', () => {
    const r = run(t, { source: 'grads', grads: t.grads });
    const eps = Object.fromEntries(r.checks.map((c) => [c.param, c.epsilon]));
    expect(eps).toEqual({ W1: 1e-6 / 1e4, b1: 1e-6, W2: 1e-6, b2: 1e-6 });
    const fwd = forward(t.model, t.params, t.X, t.Y);
    expect(stepFor(namedTensors(t.model, t.params)[0], fwd, 1e-6)).toBe(1e-6 / 1e4);
  });

  it('an --epsilon given explicitly is used as given on every tensor', () => {
    const r = run(t, { source: 'grads', grads: t.grads }, { fixedStep: true, epsilon: 1e-7 });
    for (const c of r.checks) expect(c.epsilon).toBe(1e-7);
  });

  it('at the absolute step 1e-6 the features of 1e4 leave W1 to truncation: with the scaled step it resolves to 1e-12', () => {
    const fixed = run(t, { source: 'grads', grads: t.grads }, { fixedStep: true });
    const scaledStep = run(t, { source: 'grads', grads: t.grads });
    const w1 = (r: Report) => r.checks.find((c) => c.param === 'W1')!;
    expect(w1(fixed).relativeError).toBeGreaterThan(1e-6);
    expect(w1(scaledStep).relativeError).toBeLessThan(1e-11);
  });

  it('a normal network keeps the step 1e-6 on every tensor', () => {
    const c = loadTrained('trained-sigmoid.json');
    for (const x of run(c, { source: 'correct', plan: correctPlan(c.model) }).checks) expect(x.epsilon).toBe(1e-6);
  });
});

describe('the float64-resolution note', () => {
  it('names the tensors, their floors and the cause (saturated outputs at a confident sigmoid)', () => {
    const t = loadTrained('confident-sigmoid.json');
    const r = run(t, { source: 'grads', grads: t.grads });
    const within = r.checks.filter((c) => c.withinResolution);
    expect(within.length).toBeGreaterThan(0);
    for (const c of within) {
      expect(c.status).toBe('pass');
      expect(c.relativeError).toBeGreaterThan(1e-6);
      expect(c.floor!).toBeGreaterThan(c.relativeError);
      expect(c.resolvedError!).toBeLessThan(1e-8);
    }
    const note = r.findings.find((f) => f.code === 'float64-resolution')!;
    expect(note.message).toMatch(/^W1, b1, W2, b2 agree to float64 resolution at these weights: W1 relative error \S+ within a floor of \S+, /);
    expect(note.message).toContain('Cause: the rounding of the forward quantities: layer 2 (sigmoid) has 16 of 16 values within 1e-6 of a bound, where 1 − a and a − y keep few digits');
    expect(note.evidence?.tensors).toBe('W1, b1, W2, b2');
  });

  it('is not there when nothing needed the floor', () => {
    const t = loadTrained('trained-relu.json');
    const r = run(t, { source: 'grads', grads: t.grads });
    expect(r.findings.some((f) => f.code === 'float64-resolution')).toBe(false);
    for (const c of r.checks) expect(c.floor).toBeUndefined();
  });
});

describe('on the command line', () => {
  // confident-sigmoid as a user has it: net.json, data.csv, params.json and PyTorch's grads.json.
  const t = JSON.parse(readFileSync(join(TRAINED_DIR, 'confident-sigmoid.json'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'bpc-resolution-'));
  const X: number[][] = t.X, Y: number[][] = t.Y;
  const header = [...X.map((_r, j) => `x${j}`), 'y'].join(',');
  const rows = X[0].map((_v, c) => [...X.map((r) => r[c]), Y[0][c]].join(','));
  writeFileSync(join(dir, 'net.json'), JSON.stringify(t.spec));
  writeFileSync(join(dir, 'data.csv'), [header, ...rows].join('\n') + '\n');
  writeFileSync(join(dir, 'params.json'), JSON.stringify(t.params));
  writeFileSync(join(dir, 'grads.json'), JSON.stringify(t.grads));
  const args = ['net.json', 'data.csv', '--params', 'params.json', '--grads', 'grads.json', '--format', 'json'];

  it('PyTorch\'s gradients at a confident sigmoid: exit 0, each check with its step, floor and withinResolution, and the note', async () => {
    const r = await runCli(args, { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    for (const c of report.checks) expect(c).toMatchObject({ status: 'pass', epsilon: 1e-6, withinResolution: true, floorCause: 'forward' });
    expect(report.findings.find((f: { code: string }) => f.code === 'float64-resolution').severity).toBe('info');
  });

  it('an explicit --epsilon 1e-6 gives the same numbers as the default on a normal net (bit for bit)', async () => {
    const xor = ['fixtures/xor/net.json', 'fixtures/xor/data.csv', '--format', 'json'];
    const a = JSON.parse((await runCli(xor)).stdout), b = JSON.parse((await runCli([...xor, '--epsilon', '1e-6'])).stdout);
    expect(b.checks).toEqual(a.checks);
  });

  it('a real bug in the same gradients fails with exit 1 and says which rule failed it', async () => {
    const grads = { ...t.grads, dW2: t.grads.dW2.map((row: number[]) => row.map((v: number) => 2 * v)) };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(grads));
    const r = await runCli(['net.json', 'data.csv', '--params', 'params.json', '--grads', 'bad.json', '--format', 'json'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).checks.find((c: { param: string }) => c.param === 'W2')).toMatchObject({ status: 'fail', failedBy: 'norm' });
  });

  it('--explain float64-resolution', async () => {
    const r = await runCli(['--explain', 'float64-resolution']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^float64-resolution: agrees to float64 resolution at these weights \(numerics\)\n/);
  });
});

describe('judge: the verdict beyond each element\'s floor', () => {
  it('only the excess over the floor counts; the norm and element rules; a non-finite floor resolves nothing', () => {
    expect(judge([1, 2], [1.1, 2], [0.2, 0], 1e-6)).toMatchObject({ status: 'pass', resolvedError: 0 });
    expect(judge([1, 2], [1.1, 2], [0.05, 0], 1e-6)).toMatchObject({ status: 'fail', failedBy: 'norm' });
    expect(judge([1, 2], [1.1, 2], [NaN, 0], 1e-6)).toMatchObject({ status: 'fail', failedBy: 'norm' });
    expect(judge([1, 2], [1.1, 2], [Infinity, 0], 1e-6)).toMatchObject({ status: 'fail', failedBy: 'norm' });
    // 10,000 elements of 1 and one off by 1e-4: norm-wise 5e-7 (below 1e-6), element-wise 1e-4.
    const g = new Float64Array(10000).fill(1), h = Float64Array.from(g);
    h[77] += 1e-4;
    expect(judge(g, h, null, 1e-6)).toMatchObject({ status: 'fail', failedBy: 'element', element: 77 });
    // …unless its floor covers it,
    const floor = new Float64Array(10000);
    floor[77] = 2e-4;
    expect(judge(g, h, floor, 1e-6).status).toBe('pass');
    // …or it is tiny against the tensor's largest element (rounding there): relative 1 on an element 1e-12.
    const t = Float64Array.from(g);
    t[5] = 1e-12;
    const u = Float64Array.from(t);
    u[5] = 2e-12;
    expect(judge(t, u, null, 1e-6).status).toBe('pass');
    expect(judge([NaN], [1], null, 1e-6).status).toBe('fail');
    expect(judge([0, 0], [0, 0], null, 1e-6)).toMatchObject({ status: 'pass', resolvedError: 0 });
  });

  it.each(TRAINED_FILES)('%s: one element of W1 off by 10%% still fails in full mode', (file) => {
    const t = loadTrained(file);
    const r = run(t, { source: 'grads', grads: oneElementOff(t.grads, 'W1', 0.1) });
    expect(r.checks.find((c) => c.param === 'W1')!.status).toBe('fail');
  });
});
