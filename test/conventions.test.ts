// Loss conventions and data mismatch (diagnose/conventions.ts): gradients that are exactly correct
// backprop of another convention of the cost, or of data a little off the rounded file, are named so,
// with the net.json line and the NumPy change; small real bugs on rounded data are not swallowed.
import { describe, expect, it } from 'vitest';
import { categoryOf } from '../src/core/diagnose/index.js';
import { decimalsOf } from '../src/core/diagnose/conventions.js';
import { initialise } from '../src/core/init.js';
import type { Model } from '../src/core/model.js';
import type { Report } from '../src/core/report.js';
import type { Tensor } from '../src/core/tensor.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { checkProgram } from '../src/core/check/program-check.js';
import { DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { functionProgram, type ModelFunctions } from '../src/core/session/functions.js';
import { dataFor, runCheck, userBackprop, type Injection } from '../tools/matrix.js';

// The calibration net of issue 15: tanh-tanh-sigmoid, binary cross-entropy, 4-5-3-1, m = 20.
function net(change: Record<string, unknown> = {}, outputs = 1) {
  const spec = { input: 4, layers: [{ units: 5, activation: 'tanh' }, { units: 3, activation: 'tanh' }, { units: outputs, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 7 }, ...change };
  const model = withInputs(parseSpec(spec, 'test').model, 4);
  return { model, params: initialise(model), ...dataFor(initialModel(outputs), 20, 3) };
}
const initialModel = (outputs: number): Model => withInputs(parseSpec({ input: 4, layers: [{ units: 5, activation: 'tanh' }, { units: 3, activation: 'tanh' }, { units: outputs, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 'test').model, 4);

function run(n: ReturnType<typeof net>, bug: Injection | null, seen: Tensor = n.X): Report {
  const grads = userBackprop(n.model, n.params, n.X, n.Y, bug);
  return runCheck(n.model, n.params, seen, n.Y, { source: 'grads', grads }, null);
}
const roots = (r: Report) => r.findings.filter((f) => categoryOf(f.code) === 'root');
const rounded = (X: Tensor, d: number): Tensor => ({ ...X, data: X.data.map((v) => Math.round(v * 10 ** d) / 10 ** d) });

describe('loss conventions', () => {
  it('½·(a − y) on every tensor: loss-convention with the spec line and the NumPy fix', () => {
    const n = net();
    const r = run(n, { at: 3, outputGradient: (_z, a, y) => 0.5 * n.model.loss.gradient(a, y) });
    expect(r.ok).toBe(false);
    expect(roots(r).map((f) => f.code)).toEqual(['loss-convention']);
    const [f] = roots(r);
    expect(f.params).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    expect(f.evidence!.k).toBe(0.5);
    expect(f.fix).toContain('"loss": { "expr": "0.5 * (-(y * log(a) + (1 - y) * log(1 - a)))" }');
    expect(f.fix).toContain('dZ3 = A3 - Y');
    expect(r.findings.some((x) => x.code === 'gradient-mismatch' || x.code === 'error-propagated')).toBe(false);
  });

  it("PyTorch's MSELoss (2/K): the catalogue's factor on the output delta stays, and says the average-over-outputs line", () => {
    const n = net({ loss: 'mean_squared_error', layers: [{ units: 5, activation: 'tanh' }, { units: 3, activation: 'tanh' }, { units: 3, activation: 'sigmoid' }] }, 3);
    const r = run(n, { at: 3, outputGradient: (_z, a, y) => (2 / 3) * (a - y) });
    const [f] = roots(r);
    expect(roots(r)).toHaveLength(1);
    expect(f).toMatchObject({ code: 'constant-factor', layer: 3 });
    expect(f.message).toContain("PyTorch's MSELoss()");
    expect(f.message).toContain('"loss": { "name": "mean_squared_error", "average": "outputs" }');
  });

  it("(a − y)² without the ½ in a one-output net: named with the (a − y)^2 line", () => {
    const n = net({ loss: 'mean_squared_error' });
    const r = run(n, { at: 3, outputGradient: (_z, a, y) => 2 * (a - y) });
    const [f] = roots(r);
    expect(roots(r)).toHaveLength(1);
    expect(['loss-convention', 'constant-factor', 'wrong-output-gradient']).toContain(f.code);
    expect(f.code === 'loss-convention' ? f.fix : f.message).toContain('"loss": { "expr": "(a - y)^2" }');
  });

  it('dZ = a − y with squared error and a sigmoid: binary cross-entropy’s gradient, both fixes', () => {
    const n = net({ loss: 'mean_squared_error' });
    const r = run(n, { at: 3, outputDelta: (_z, a, y) => a - y });
    expect(roots(r).map((f) => f.code)).toEqual(['loss-convention']);
    const [f] = roots(r);
    expect(f.fix).toContain('"loss": "binary_cross_entropy"');
    expect(f.fix).toContain('dA3 = A3 - Y; dZ3 = dA3 * A3 * (1 - A3)');
  });

  it('a factor of ½ and a sum where the cost averages: both said', () => {
    const n = net();
    const bug: Injection = { at: 3, outputGradient: (_z, a, y) => 0.5 * n.model.loss.gradient(a, y) };
    const grads = userBackprop({ ...n.model, reduction: 'sum' }, n.params, n.X, n.Y, bug);
    const r = runCheck(n.model, n.params, n.X, n.Y, { source: 'grads', grads }, null);
    const [f] = roots(r);
    expect(roots(r)).toHaveLength(1);
    expect(f.code).toBe('loss-convention');
    expect(f.evidence!.k).toBe(10);
    expect(f.fix).toContain('"reduction": "sum"');
  });

  it('a wrong derivative at a hidden layer is not a convention', () => {
    const n = net();
    const r = run(n, { at: 2, derivative: (z) => 1 - z * z });
    expect(roots(r).some((f) => f.code === 'loss-convention')).toBe(false);
  });
});

describe('data mismatch', () => {
  it('data.csv rounded to 3 decimals, gradients from the full-precision data: data-mismatch, no root cause', () => {
    const n = net();
    const r = run(n, null, rounded(n.X, 3));
    expect(r.ok).toBe(false);
    expect(roots(r)).toEqual([]);
    const f = r.findings.find((x) => x.code === 'data-mismatch')!;
    expect(f.severity).toBe('error');
    expect(f.evidence!.dataDecimals).toBe(3);
    expect(f.fix).toContain('np.savez("data.npz", X=X, Y=Y)');
    expect(f.fix).toContain('fmt="%.17g"');
  });

  it('small real bugs on data that is itself rounded are not taken for a mismatch', () => {
    const n = net();
    const X3 = rounded(n.X, 3);
    const same = { ...n, X: X3 };
    const m = 20;
    // A constant 1e-5 on every db (relative errors ~1e-4, the size of the rounding's effect) and λ = 0.001 in dW.
    const grads = userBackprop(same.model, same.params, X3, same.Y, null);
    const tinyB = grads.map((g) => ({ ...g, b: { ...g.b, data: g.b.data.map((v) => v + 1e-5) } }));
    const tinyL2 = grads.map((g, l) => ({ ...g, W: { ...g.W, data: g.W.data.map((v, i) => v + (0.001 / m) * same.params[l].W.data[i]) } }));
    for (const bad of [tinyB, tinyL2]) {
      const r = runCheck(same.model, same.params, X3, same.Y, { source: 'grads', grads: bad }, null);
      expect(r.ok).toBe(false);
      expect(r.findings.some((f) => f.code === 'data-mismatch')).toBe(false);
    }
  });

  it('full-precision data is never taken for rounded', () => {
    const n = net();
    expect(decimalsOf(n.X.data)).toBeNull();
    expect(decimalsOf(rounded(n.X, 3).data)).toBe(3);
    expect(decimalsOf([0, 1, 2])).toBeNull();
  });
});

describe('--model: one factor against the finite differences', () => {
  // A linear model with squared error, cost ½·mean((w·x + b − y)²); the gradients are scaled by `k`.
  const xs = [0.5, -1.2, 0.3, 2.0, -0.4], ys = [0.3, -0.5, 0.8, 0.1, -0.2];
  const program = (k: number, bug: 'none' | 'b' = 'none'): ModelFunctions => ({
    params: { w: [0.7], b: [0.2] },
    cost: (p) => xs.reduce((s, x, i) => s + 0.5 * ((p.w as number[])[0] * x + (p.b as number[])[0] - ys[i]) ** 2, 0) / xs.length,
    grads: (p) => {
      const e = xs.map((x, i) => (p.w as number[])[0] * x + (p.b as number[])[0] - ys[i]);
      const m = xs.length;
      return { w: [k * e.reduce((s, v, i) => s + v * xs[i], 0) / m], b: [(bug === 'b' ? 1 : k) * e.reduce((s, v) => s + v, 0) / m] };
    },
  });

  it('every tensor twice the differences: loss-convention that names the missing ½', async () => {
    const r = await checkProgram(functionProgram(program(2)), { ...DEFAULT_OPTIONS });
    expect(r.ok).toBe(false);
    const f = r.findings.find((x) => x.code === 'loss-convention')!;
    expect(f.evidence!.k).toBeCloseTo(2, 6);
    expect(f.message).toContain('(a − y)²');
    expect(f.params).toEqual(['w', 'b']);
  });

  it('a factor on one tensor only is no convention; correct gradients get nothing', async () => {
    const one = await checkProgram(functionProgram(program(2, 'b')), { ...DEFAULT_OPTIONS });
    expect(one.findings.some((x) => x.code === 'loss-convention')).toBe(false);
    const right = await checkProgram(functionProgram(program(1)), { ...DEFAULT_OPTIONS });
    expect(right.ok).toBe(true);
    expect(right.findings.some((x) => x.code === 'loss-convention')).toBe(false);
  });
});
