// The Taylor-remainder test: r(h) = |J(θ + h·v) − J(θ) − h·g·v| shrinks as h² (order 2) when g is
// the gradient and as h (order 1) when it is not, whatever finite-difference step the rest of the
// check uses. Known answers first (a quadratic cost, where r(h) = ½h²·vᵀHv exactly), then the
// fixtures, a subtle bug, and the column in the CLI.
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { forward } from '../src/core/forward.js';
import { namedTensors } from '../src/core/model.js';
import type { Tensor } from '../src/core/tensor.js';
import { propagatedSource } from '../src/core/differences/propagated.js';
import { Random } from '../src/core/random.js';
import { taylorStatus, taylorTest, TAYLOR_STEPS } from '../src/core/check/taylor.js';
import { declaredPlan } from '../src/io/spec.js';
import { fixtureNetwork, modelOf } from './helpers/network.js';

const matrix = (rows: number, cols: number, values: number[]): Tensor => ({ shape: [rows, cols], data: Float64Array.from(values) });

const fixture = (name: string) => fixtureNetwork(name);

describe('known answers', () => {
  // A linear layer under squared error: J is exactly quadratic in W, so r(h) = ½h²·vᵀHv with no
  // higher terms, and a gradient off by e has r(h) = |h·e·v + ½h²·vᵀHv|.
  const model = modelOf({ layers: [{ units: 1, activation: 'linear' }], loss: 'mean_squared_error', reduction: 'sum' }, 2, 'x');
  const X = matrix(2, 3, [1, 2, -1, 0.5, 0, 1]), Y = matrix(1, 3, [1, 0, 2]);
  const params = [{ W: matrix(1, 2, [0.3, -0.2]), b: matrix(1, 1, [0.1]) }];
  const fwd = forward(model, params, X, Y);
  const right = backward(model, params, fwd, Y, correctPlan(model));
  const fd = propagatedSource({ model, params, Y }, fwd);
  const W1 = namedTensors(model, params)[0];

  it('order 2 for the right gradient, and r(h) is ½h²·vᵀHv (H = X·Xᵀ here)', () => {
    const t = taylorTest(fd, W1, right[0].W.data, new Random(3));
    expect(t.order).toBeCloseTo(2, 6);
    expect(t.status).toBe('pass');
    expect(t.points.length).toBeGreaterThanOrEqual(3);
    // The same seeded direction: v = normalised normal draws, then ½h²·vᵀ(X·Xᵀ)v.
    const v = new Random(3).fillNormal(new Float64Array(2));
    const n = Math.hypot(v[0], v[1]);
    const [v0, v1] = [v[0] / n, v[1] / n];
    let vHv = 0;
    for (let c = 0; c < 3; c++) vHv += (v0 * X.data[c] + v1 * X.data[3 + c]) ** 2;
    for (const p of t.points) expect(p.r / (0.5 * p.h * p.h * vHv)).toBeCloseTo(1, 6);
  });

  it('order 1 for a gradient off by 1e-3 of itself', () => {
    const wrong = Float64Array.from(right[0].W.data, (g) => g * 1.001);
    const t = taylorTest(fd, W1, wrong, new Random(3));
    expect(t.order).toBeCloseTo(1, 2);
    expect(t.status).toBe('fail');
  });

  it('the verdict thresholds', () => {
    expect([taylorStatus(2), taylorStatus(1.85), taylorStatus(1.5), taylorStatus(1.1), taylorStatus(null)]).toEqual(['pass', 'pass', 'inconclusive', 'fail', 'inconclusive']);
    expect(TAYLOR_STEPS).toBe(24);
  });
});

describe('on the fixtures', () => {
  it.each(['xor', 'softmax3', 'mse2', 'relu-l2', 'seed-fixed'])('%s: correct backprop has order 2 on every tensor', (name) => {
    const f = fixture(name);
    const plan = f.declared ? declaredPlan(f.model, f.declared) : correctPlan(f.model);
    const r = check({ model: f.model, params: f.params, X: f.X, Y: f.Y, gradients: { source: 'declared', plan } }, { ...DEFAULT_OPTIONS, taylor: true });
    for (const c of r.checks) {
      expect(c.taylorStatus, `${c.param}: ${c.taylorOrder}`).toBe('pass');
      expect(Math.abs(c.taylorOrder! - 2)).toBeLessThan(0.05);
    }
  });

  it('the seed’s wrong formulas have order 1 on every tensor', () => {
    const f = fixture('seed');
    const r = check({ model: f.model, params: f.params, X: f.X, Y: f.Y, gradients: { source: 'declared', plan: declaredPlan(f.model, f.declared!) } }, { ...DEFAULT_OPTIONS, taylor: true });
    for (const c of r.checks) {
      expect(c.taylorStatus).toBe('fail');
      expect(Math.abs(c.taylorOrder! - 1)).toBeLessThan(0.05);
    }
  });

  it('is independent of ε: at ε = 0.01 the finite differences are off by their truncation, the Taylor test is not', () => {
    const f = fixture('xor');
    const r = check({ model: f.model, params: f.params, X: f.X, Y: f.Y, gradients: { source: 'correct', plan: correctPlan(f.model) } }, { ...DEFAULT_OPTIONS, epsilon: 0.01, taylor: true });
    // Issue 11: the second step measures that truncation, so right gradients no longer fail there;
    // they pass within it, and say so (before, they failed).
    const off = r.checks.filter((c) => c.relativeError >= 1e-6);
    expect(off.length).toBeGreaterThan(0);
    for (const c of off) expect(c).toMatchObject({ status: 'pass', withinResolution: true, floorCause: 'step' });
    for (const c of r.checks) expect(c.taylorStatus).toBe('pass');
  });

  it('off by one part in 10⁴ on W1 only: W1 reads order 1, the others 2', () => {
    const f = fixture('mse2');
    const fwd = forward(f.model, f.params, f.X, f.Y);
    const right = backward(f.model, f.params, fwd, f.Y, correctPlan(f.model));
    const g = [{ ...right[0], W: { ...right[0].W, data: right[0].W.data.map((x) => x * 1.0001) } }, ...right.slice(1)];
    const r = check({ model: f.model, params: f.params, X: f.X, Y: f.Y, gradients: { source: 'grads', grads: g } }, { ...DEFAULT_OPTIONS, taylor: true });
    for (const c of r.checks) expect(c.taylorStatus, c.param).toBe(c.param === 'W1' ? 'fail' : 'pass');
  });

  it('seeded: the same orders every time', () => {
    const f = fixture('relu-l2');
    const once = () => check({ model: f.model, params: f.params, X: f.X, Y: f.Y, gradients: { source: 'correct', plan: correctPlan(f.model) } }, { ...DEFAULT_OPTIONS, taylor: true }).checks.map((c) => c.taylorOrder);
    expect(once()).toEqual(once());
  });
});

const cli = (args: string[]) => runCli(args);

describe('--taylor on the command line', () => {
  it('adds a Taylor order column to the table and taylorOrder/taylorStatus to the JSON', async () => {
    const table = await cli(['fixtures/seed/net.json', 'fixtures/seed/data.csv', '--taylor']);
    expect(table.status).toBe(1);
    expect(table.stdout).toMatch(/│ status │ Taylor order │/);
    expect(table.stdout).toMatch(/│ W1 +│.*│ FAIL +│ 1\.00 \(WRONG\) │/);
    const json = JSON.parse((await cli(['fixtures/xor/net.json', 'fixtures/xor/data.csv', '--taylor', '--format', 'json'])).stdout);
    for (const c of json.checks) expect(c).toMatchObject({ taylorStatus: 'pass' });
    expect(json.checks[0].taylorOrder).toBeCloseTo(2, 1);
    // Without --taylor the table has no such column.
    expect((await cli(['fixtures/xor/net.json', 'fixtures/xor/data.csv'])).stdout).not.toContain('Taylor');
  });
});
