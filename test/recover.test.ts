// Recovering the formula the code used (src/core/diagnose/recover.ts): on the calibration network
// of issue 15 (tanh-tanh-sigmoid, binary cross-entropy, 4-5-3-1, m = 20) each real kind of bug that
// the catalogue alone left as gradient-mismatch is named with the formula the code used and the
// NumPy fix; what is only a factor stays for the factor analyses; and every cell of the
// explanations group (tools/explanations/recover.ts) is detected.
import { describe, expect, it } from 'vitest';
import { evaluate, layerValues, netOf } from '../src/core/backprop.js';
import { categoryOf } from '../src/core/diagnose/index.js';
import { forward } from '../src/core/forward.js';
import { initialise } from '../src/core/init.js';
import type { Grads } from '../src/core/model.js';
import type { Report } from '../src/core/report.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { dataFor, injectedChain, runCheck, userBackprop } from '../tools/matrix.js';
import { inputGradient } from '../src/core/layers/dense.js';
import { entries, withIncoming } from '../tools/explanations/recover.js';

const model = withInputs(parseSpec({
  input: 4,
  layers: [{ units: 5, activation: 'tanh' }, { units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
  loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 3 },
}, 'recover.test').model, 4);
const params = initialise(model);
const { X, Y } = dataFor(model, 20, 7);
const net = netOf(model, params, forward(model, params, X, Y), Y);

const check = (grads: Grads): Report => runCheck(model, params, X, Y, { source: 'grads', grads }, null);
const roots = (r: Report) => r.findings.filter((f) => categoryOf(f.code) === 'root');
/** The gradients with layer `at`'s (1-based) derivative replaced by r(z, a). */
const derivative = (at: number, r: (z: number, a: number) => number) => userBackprop(model, params, X, Y, { at, derivative: (z, a) => r(z, a) });

describe('the local derivative recovered from dW and db', () => {
  it('names the activation returned as its own derivative (tanh_d(x) = tanh(x)) at layer 1', () => {
    const report = check(derivative(1, (_z, a) => a));
    const [f, ...rest] = roots(report);
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-local-derivative');
    expect(f.layer).toBe(1);
    expect(f.message).toMatch(/^Layer 1 \(tanh\) multiplies dA by a: the activation itself \(tanh\(z\)\) in place of its derivative, as in tanh_d\(x\) = tanh\(x\); tanh' is 1 - a\*\*2\./);
    expect(f.fix).toBe('dZ1 = dA1 * (1 - A1**2) (your code computes dZ1 = dA1 * A1).');
    expect(f.evidence?.reproducedTo).toBeLessThanOrEqual(1e-6);
  });

  it('names an extra factor z in the derivative (dZ = dA·(1 − A²)·Z) at layer 1', () => {
    const [f, ...rest] = roots(check(derivative(1, (z, a) => (1 - a * a) * z)));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-local-derivative');
    expect(f.message).toContain("multiplies dA by (1 - a**2) * z: the right derivative times an extra factor z; tanh' is 1 - a**2.");
    expect(f.fix).toBe('dZ1 = dA1 * (1 - A1**2) (your code computes dZ1 = dA1 * (1 - A1**2) * Z1).');
  });

  it('names the derivative applied twice at layer 2', () => {
    const [f, ...rest] = roots(check(derivative(2, (_z, a) => (1 - a * a) ** 2)));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-local-derivative');
    expect(f.layer).toBe(2);
    expect(f.message).toContain("the derivative applied twice (tanh' squared)");
  });

  it('recovers two terms with their coefficients (r = a + 0.5·z)', () => {
    const [f, ...rest] = roots(check(derivative(2, (z, a) => a + 0.5 * z)));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-local-derivative');
    expect(f.message).toContain('multiplies dA by a + 0.5 * z;');
  });

  it('names the same recovered derivative at two layers as one finding', () => {
    // tanh_d = tanh in both hidden layers.
    const chain = injectedChain(net, null);
    for (const l of [0, 1]) chain.layers[l].derivative = layerValues(net, l, (_z, a) => a);
    const [f, ...rest] = roots(check(evaluate(net, chain).grads));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-local-derivative');
    expect(f.evidence?.layers).toEqual([1, 2]);
    expect(f.message).toMatch(/^Layers 1 and 2 \(tanh\) multiply dA by a: the activation itself/);
  });

  it('names sech(a) written for tanh\' at layer 1', () => {
    const [f, ...rest] = roots(check(derivative(1, (_z, a) => 1 / Math.cosh(a))));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-local-derivative');
    expect(f.message).toMatch(/^Layer 1 \(tanh\) multiplies dA by sech\(a\); tanh' is 1 - a\*\*2\./);
    expect(f.fix).toBe('dZ1 = dA1 * (1 - A1**2) (your code computes dZ1 = dA1 * (1 / np.cosh(A1))).');
  });

  it('names sech(a) together with a dW that lacks its 1/m (corpus case 10), not as 20·sech(a) with db off', () => {
    const grads = userBackprop(model, params, X, Y, { at: 2, derivative: (_z, a) => 1 / Math.cosh(a), dWScale: 1 });
    const found = roots(check(grads)).map((f) => `${f.code}@${f.layer}`).sort();
    expect(found).toEqual(['wrong-local-derivative@2', 'wrong-reduction@2']);
    const f = roots(check(grads)).find((x) => x.code === 'wrong-local-derivative')!;
    expect(f.message).toContain('multiplies dA by sech(a);');
  });

  it('names the output delta made of the sigmoid\'s formula fed the error, dz = e * (1 - e) (corpus case 11)', () => {
    const grads = userBackprop(model, params, X, Y, { at: 3, outputDelta: (_z, a, y) => (a - y) * (1 - (a - y)) });
    const [f, ...rest] = roots(check(grads));
    expect(rest).toEqual([]);
    expect(f.code).toBe('derivative-of-wrong-variable');
    expect(f.layer).toBe(3);
    expect(f.message).toMatch(/^Layer 3 \(sigmoid\) makes its delta dZ3 = e \* \(1 - e\), without dA3: its derivative's formula a \* \(1 - a\) evaluated at the output error e = a - y/);
    expect(f.fix).toBe('dZ3 = dA3 * A3 * (1 - A3): the derivative at the activation A3, times the error dA3 (your code computes dZ3 = (A3 - Y) * (1 - (A3 - Y))).');
  });

  it('leaves a constant factor on the output delta to the factor analyses', () => {
    const report = check(derivative(3, (_z, a) => 0.5 * a * (1 - a)));
    expect(report.ok).toBe(false);
    expect(roots(report).map((f) => f.code)).not.toContain('wrong-local-derivative');
  });
});

describe('the dA recovered', () => {
  it('names backprop with the weights after the update, with η fitted', () => {
    const grads = withIncoming(net, 1, ({ dZ, dW }) => inputGradient({ shape: params[2].W.shape, data: params[2].W.data.map((w, i) => w - 0.05 * dW.data[i]) }, dZ));
    const [f, ...rest] = roots(check(grads));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-backprop-weight');
    expect(f.layer).toBe(2);
    expect(f.evidence?.eta).toBe(0.05);
    expect(f.message).toMatch(/^Your gradients equal backprop with dA2 = \(W3 - 0\.05 \* dW3\)ᵀ·dZ3: the weights after this step's update/);
    expect(f.fix).toContain('dA2 = np.dot(W3.T, dZ3)');
  });

  it('names dA through [W | b] with a weight column deleted instead of the bias (np.delete with a stale index, corpus case 07)', () => {
    // Column 2 of [W3 | b3] deleted: hidden unit 2 gets unit 3's weights, unit 3 the bias.
    const [rows, cols] = params[2].W.shape;
    const M = Float64Array.from({ length: rows * cols }, (_v, e) => {
      const i = Math.floor(e / cols), c = (e % cols) < 1 ? e % cols : (e % cols) + 1;
      return c < cols ? params[2].W.data[i * cols + c] : params[2].b!.data[i];
    });
    const grads = withIncoming(net, 1, ({ dZ }) => inputGradient({ shape: [rows, cols], data: M }, dZ));
    const [f, ...rest] = roots(check(grads));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-backprop-weight');
    expect(f.layer).toBe(2);
    expect(f.evidence?.column).toBe(2);
    expect(f.message).toContain('M = [W3 | b3] with column 2 deleted instead of the bias column 4');
  });

  it('names the delta passed down without the next layer\'s derivative (dA1 = W2ᵀ·dA2)', () => {
    const grads = withIncoming(net, 0, ({ dA }) => inputGradient(params[1].W, dA));
    const [f, ...rest] = roots(check(grads));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-backprop-weight');
    expect(f.layer).toBe(1);
    expect(f.message).toContain('dA1 = W2ᵀ·dA2 instead of W2ᵀ·dZ2');
  });

  it('names the output error passed straight down to the hidden layer (dA2 = dA3, broadcast)', () => {
    const grads = withIncoming(net, 1, ({ dA }) => ({ shape: [3, 20], data: Float64Array.from({ length: 60 }, (_v, i) => dA.data[i % 20]) }));
    const [f, ...rest] = roots(check(grads));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-backprop-weight');
    expect(f.layer).toBe(2);
    expect(f.message).toContain('dA2 = dA3 (one row, broadcast over the units): the error of layer 3 passed straight down, without W3ᵀ and without layer 3\'s derivative');
    expect(f.fix).toBe('dZ3 = dA3 * A3 * (1 - A3); dA2 = np.dot(W3.T, dZ3).');
  });

  it('names the incoming gradient dropped (dZ1 = g\'(Z1) alone)', () => {
    const grads = withIncoming(net, 0, () => ({ shape: [5, 20], data: new Float64Array(100).fill(1) }));
    const [f, ...rest] = roots(check(grads));
    expect(rest).toEqual([]);
    expect(f.code).toBe('wrong-backprop-weight');
    expect(f.layer).toBe(1);
    expect(f.fix).toMatch(/^dZ1 = np\.dot\(W2\.T, dZ2\) \* \(1 - A1\*\*2\): multiply/);
  });
});

describe('the explanations group', () => {
  it('detects every recovered mistake in every architecture it is injected into (at least four each)', () => {
    for (const entry of entries()) {
      const cells = Object.entries(entry.cells()).filter(([, c]) => c !== null);
      expect(cells.length, entry.id).toBeGreaterThanOrEqual(4);
      for (const [column, cell] of cells) expect({ entry: entry.id, column, ...cell }).toMatchObject({ detected: true });
    }
  }, 60000);
});
