// The diagnosis in pieces: the forms it recognises, the mutated-backprop chain, the fingerprint on
// several mistakes at once and on mistakes outside the catalogue, formula analysis of latent
// mistakes, the health findings, kinks, the --explain texts, and the ordering of findings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, type GradientSource } from '../src/core/check/check.js';
import { correctChain, evaluate, netOf } from '../src/core/diagnose/chain.js';
import { categoryOf, diagnoser, explain, FINDING_CODES, healthFails } from '../src/core/diagnose/index.js';
import { derivativeForms, outputForms } from '../src/core/diagnose/forms.js';
import { fingerprint } from '../src/core/diagnose/fingerprint.js';
import { MISTAKE_KINDS } from '../src/core/diagnose/mutations.js';
import { namedActivation } from '../src/core/records/activations.js';
import { namedLoss } from '../src/core/records/losses.js';
import { forward } from '../src/core/forward.js';
import { mapTensors, type Grads, type Model, type Params } from '../src/core/model.js';
import { clone, type Tensor } from '../src/core/tensor.js';
import type { Finding, Report } from '../src/core/report.js';
import { dataFor, userBackprop, type Injection } from '../tools/matrix.js';
import { declaredPlan, type DeclaredBackward } from '../src/io/spec.js';
import { load, run } from '../src/run.js';
import { network, specOf } from './helpers/network.js';

const fixture = (name: string) => ({ net: `fixtures/${name}/net.json`, data: `fixtures/${name}/data.csv` });

const setup = (spec: Record<string, unknown>, m = 24, seed = 5) => network(spec, { file: 'test', data: (model) => dataFor(model, m, seed) });

function checked(model: Model, params: Params, X: Tensor, Y: Tensor, gradients: GradientSource, declared: DeclaredBackward | null = null, options = {}): Report {
  return check({ model, params, X, Y, gradients }, { ...DEFAULT_OPTIONS, ...options }, diagnoser(declared));
}

const codes = (r: Report) => r.findings.map((f) => `${f.code}@${f.layer}`);
const layersOf = (f: Finding) => (f.evidence?.layers as number[] | undefined) ?? [f.layer];

/** Every failing tensor is named by some finding: a root cause at its layer, or a list that holds it. */
function everyFailureAccountedFor(r: Report): void {
  for (const c of r.checks.filter((x) => x.status === 'fail')) {
    const named = r.findings.some((f) =>
      (categoryOf(f.code) === 'root' && layersOf(f).includes(c.layer)) ||
      String(f.evidence?.tensors ?? '').split(', ').includes(c.param));
    expect(named, `${c.param} in ${codes(r).join(' ')}`).toBe(true);
  }
}

describe('forms', () => {
  it('knows tanh′ written for a but evaluated at z, and other activations’ derivatives', () => {
    const forms = derivativeForms(namedActivation('tanh')!);
    expect(forms[0]).toMatchObject({ own: true, how: 'a-at-z', text: '1 - z^2' });
    expect(forms[0].fn(0.5, Math.tanh(0.5))).toBeCloseTo(0.75, 15);
    const sig = forms.find((f) => f.of === 'sigmoid' && f.how === 'a')!;
    expect(sig.text).toBe('a * (1 - a)');
    expect(sig.fn(0, 0.2)).toBeCloseTo(0.16, 15);
  });

  it('derives the output-gradient corruptions of binary cross-entropy from its terms', () => {
    const forms = outputForms(namedActivation('sigmoid')!, namedLoss('binary_cross_entropy')!);
    const flipped = forms.find((f) => f.kind === 'gradient' && f.label === "the second term's sign is flipped")!;
    expect(flipped.text).toBe('-y / a - (1 - y) / (1 - a)');
    // At a = 0.25, y = 1: −1/0.25 − 0 = −4; the right one is −4 too, at y = 0 they differ: −1/0.75 vs +1/0.75.
    expect(flipped.fn(0, 0.25, 0)).toBeCloseTo(-1 / 0.75, 15);
    const missing = forms.find((f) => f.kind === 'gradient' && f.mistake === 'term-missing')!;
    expect(missing.text).toBe('(1 - y) / (1 - a)');
    expect(forms.filter((f) => f.kind === 'delta').map((f) => f.text)).toEqual(expect.arrayContaining(['a - y', 'y - a', 'a + y', 'a', '-y']));
  });
});

describe('the chain', () => {
  it('unmutated, it is backprop.ts’s correct backprop on every fixture', () => {
    for (const name of ['seed', 'xor', 'softmax3', 'mse2', 'relu-l2']) {
      const { model, params, data } = load(fixture(name));
      const fwd = forward(model, params, data.X, data.Y);
      const right = backward(model, params, fwd, data.Y, correctPlan(model));
      const { grads } = evaluate(netOf(model, params, fwd, data.Y), correctChain(netOf(model, params, fwd, data.Y)));
      let worst = 0;
      right.forEach(({ W }, l) => {
        W.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(grads[l].W.data[i] - v)); });
        right[l].b?.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(grads[l].b!.data[i] - v)); });
      });
      expect(worst, name).toBeLessThan(1e-15);
    }
  });
});

describe('the fingerprint', () => {
  it('within its work budget finds the seed’s mistakes; out of budget it says so and claims nothing it did not search', () => {
    const loaded = load(fixture('seed'));
    const { model, params, data } = loaded;
    const fwd = forward(model, params, data.X, data.Y);
    const grads = backward(model, params, fwd, data.Y, declaredPlan(model, loaded.spec.declared!));
    const net = netOf(model, params, fwd, data.Y);
    const full = fingerprint(net, grads);
    expect(full.exhausted).toBe(false);
    expect(full.mutations.length).toBeGreaterThan(0);
    const starved = fingerprint(net, grads, 1);
    expect(starved.exhausted).toBe(true);
    // What it could not search stays unexplained (and becomes an honest gradient-mismatch), never a guess.
    expect(starved.unexplained.length + starved.mutations.length).toBeGreaterThan(0);
    expect(starved.unexplained.length).toBeGreaterThan(full.unexplained.length);
  });

  it('finds both of the seed’s output mistakes in its gradients, and marks every hidden tensor as propagated', async () => {
    const loaded = load(fixture('seed'));
    const { model, params, data } = loaded;
    const fwd = forward(model, params, data.X, data.Y);
    const grads = backward(model, params, fwd, data.Y, declaredPlan(model, loaded.spec.declared!));
    const r = checked(model, params, data.X, data.Y, { source: 'grads', grads });
    expect(codes(r).slice(0, 3)).toEqual(['wrong-output-gradient@4', 'wrong-activation-derivative@4', 'error-propagated@3']);
    const root = r.findings[0];
    expect(root.message).toMatch(/^Your gradients equal backprop with the output gradient dA4 = /);
    // It reproduces the gradients to 1e-6 (tanh'(z) there is indistinguishable from the declared 1 - z^2).
    expect(root.evidence!.reproducedTo as number).toBeLessThanOrEqual(1e-6);
    expect(String(r.findings[2].evidence!.tensors)).toBe('W1, b1, W2, b2, W3, b3');
    everyFailureAccountedFor(r);
  });

  it('reconstructs four mistakes at once: a missing output term, a swapped derivative, no 1/m, no L2 term', () => {
    const spec = {
      input: 3, layers: [{ units: 5, activation: 'tanh' }, { units: 4, activation: 'relu' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', l2: 0.2, init: { scheme: 'xavier', seed: 3 },
      backward: { outputGradient: '-y / a', activationDerivatives: ['a * (1 - a)', null, null], reduction: 'sum', l2: false },
    };
    const { model, params, X, Y, declared } = setup(spec);
    const fwd = forward(model, params, X, Y);
    const grads = backward(model, params, fwd, Y, declaredPlan(model, declared!));
    const viaGrads = checked(model, params, X, Y, { source: 'grads', grads });
    const viaFormulas = checked(model, params, X, Y, { source: 'declared', plan: declaredPlan(model, declared!) }, declared);
    for (const r of [viaGrads, viaFormulas]) {
      const roots = r.findings.filter((f) => categoryOf(f.code) === 'root');
      expect(roots.map((f) => f.code).sort()).toEqual(['missing-l2-gradient', 'wrong-activation-derivative', 'wrong-output-gradient', 'wrong-reduction']);
      expect(layersOf(roots.find((f) => f.code === 'wrong-reduction')!)).toEqual([1, 2, 3]);
      expect(layersOf(roots.find((f) => f.code === 'missing-l2-gradient')!)).toEqual([1, 2, 3]);
      expect(roots.find((f) => f.code === 'wrong-activation-derivative')!.layer).toBe(1);
      everyFailureAccountedFor(r);
    }
    expect(viaGrads.findings.find((f) => f.code === 'wrong-output-gradient')!.message).toContain("the second term ((1 - y) / (1 - a)) is missing");
    expect(viaGrads.findings.find((f) => f.code === 'wrong-reduction')!.evidence!.factor).toBe(24);
  });

  it('names a constant factor on the output delta (MSE without the ½), inherited by every layer', () => {
    const { model, params, X, Y } = setup({ input: 3, layers: [{ units: 4, activation: 'tanh' }, { units: 2, activation: 'linear' }], loss: 'mean_squared_error', init: { scheme: 'xavier', seed: 2 } });
    const fwd = forward(model, params, X, Y);
    const grads = backward(model, params, fwd, Y, { ...correctPlan(model), output: { kind: 'gradient', fn: (_z, a, y) => 2 * (a - y) } });
    const r = checked(model, params, X, Y, { source: 'grads', grads });
    const [f] = r.findings;
    expect(f).toMatchObject({ code: 'constant-factor', layer: 2 });
    expect(f.evidence!.k).toBeCloseTo(2, 10);
    expect(f.message).toContain('without the ½');
    expect(r.findings.some((x) => x.code === 'error-propagated' && String(x.evidence!.tensors) === 'W1, b1')).toBe(true);
  });

  it('says gradient-mismatch, at the right layer, for a mistake outside the catalogue', () => {
    const { model, params, X, Y } = setup({ input: 3, layers: [{ units: 4, activation: 'tanh' }, { units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 4 } });
    const fwd = forward(model, params, X, Y);
    const right = backward(model, params, fwd, Y, correctPlan(model));
    const noisy: Grads = mapTensors(right, clone);
    noisy[1].W.data.forEach((v, i) => { noisy[1].W.data[i] = v * (1 + 0.1 * Math.sin(7 * i + 1)); });
    const r = checked(model, params, X, Y, { source: 'grads', grads: noisy });
    expect(codes(r).filter((c) => !/vanishing|init|chance/.test(c))).toEqual(['gradient-mismatch@2']);
    const [f] = r.findings;
    expect(f.param).toBe('W2');
    expect(f.message).toContain('Nothing in the catalogue of backprop mistakes reproduces W2');
    everyFailureAccountedFor(r);

    // With db2 garbled too, dZ2 cannot be recovered: layers 2 and 1 are lost, layer 3 is not.
    noisy[1].b!.data.forEach((v, i) => { noisy[1].b!.data[i] = v + 0.3 * Math.cos(i) * Math.abs(v); });
    const lost = checked(model, params, X, Y, { source: 'grads', grads: noisy });
    const [g] = lost.findings;
    expect(g.code).toBe('gradient-mismatch');
    expect(g.message).toContain('The search reproduced layer 3 and lost the chain at layer 2: the error enters there or below.');
    everyFailureAccountedFor(lost);
  });

  it('when the output delta itself is unknown, says where the search lost the chain', () => {
    const { model, params, X, Y } = setup({ input: 3, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 6 } });
    const fwd = forward(model, params, X, Y);
    const grads = backward(model, params, fwd, Y, { ...correctPlan(model), output: { kind: 'delta', fn: (_z, a, y) => (a - y) ** 3 } });
    const r = checked(model, params, X, Y, { source: 'grads', grads });
    const [f] = r.findings;
    expect(f.code).toBe('gradient-mismatch');
    expect(f.message).toContain("No catalogued output gradient and derivative reproduce layer 2's tensors: the error enters at the output.");
    expect(String(f.evidence!.tensors)).toBe('W1, b1, W2, b2');
    everyFailureAccountedFor(r);
  });

  it('reads gradients from a --grads file and from a backprop function (the exec path) alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpc-diag-'));
    const loaded = load(fixture('xor'));
    const { model, params, data } = loaded;
    const fwd = forward(model, params, data.X, data.Y);
    // dW1 from the layer's own output would not fit (4×4 vs 4×2); transpose-free mistake: db1 summed without 1/m.
    const g = backward(model, params, fwd, data.Y, correctPlan(model));
    const rows = (M: Tensor) => Array.from({ length: M.shape[0] }, (_x, i) => Array.from(M.data.subarray(i * M.shape[1], (i + 1) * M.shape[1])));
    const grads = { dW1: rows(g[0].W), db1: rows(g[0].b!).map((r) => r.map((v) => v * data.X.shape[1])), dW2: rows(g[1].W), db2: rows(g[1].b!) };
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ W1: rows(params[0].W), b1: rows(params[0].b!), W2: rows(params[1].W), b2: rows(params[1].b!) }));
    writeFileSync(join(dir, 'grads.json'), JSON.stringify(grads));
    const fromFile = await run({ ...fixture('xor'), params: join(dir, 'params.json'), grads: join(dir, 'grads.json') });
    const fromFunction = await run({ ...fixture('xor'), backprop: () => grads });
    for (const r of [fromFile, fromFunction]) {
      expect(r.ok).toBe(false);
      expect(codes(r)).toEqual(['wrong-bias-gradient@1']);
      expect(r.findings[0].param).toBe('b1');
    }
  });
});

describe('db summed from dA, before the derivative (deepcourse PR #9, real case 33)', () => {
  const spec = { input: 4, layers: [{ units: 5, activation: 'tanh' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy', init: { scheme: 'xavier', seed: 33 } };

  it('is named wrong-bias-gradient at its layer, with the NumPy fix in the user’s layout', () => {
    for (const layout of ['columns', 'rows'] as const) {
      // The layout only changes how the fix is written (net.json's "layout" reaches the diagnoser so).
      const { model, params, X, Y } = setup(spec);
      const grads = userBackprop(model, params, X, Y, { at: 1, dbFromA: true });
      const r = check({ model, params, X, Y, gradients: { source: 'grads', grads } }, DEFAULT_OPTIONS, diagnoser(null, layout));
      expect(r.checks.filter((c) => c.status === 'fail').map((c) => c.param)).toEqual(['b1']);
      expect(codes(r)).toEqual(['wrong-bias-gradient@1']);
      const f = r.findings[0];
      expect(f.param).toBe('b1');
      expect(f.message).toContain('db1 summed over the samples from dA1, the gradient before the activation\'s derivative');
      expect(f.fix).toBe(layout === 'rows' ? 'db1 = np.sum(dZ1, axis=0) / m.' : 'db1 = np.sum(dZ1, axis=1, keepdims=True) / m.');
      expect(f.evidence!.reproducedTo).toBeLessThanOrEqual(1e-6);
    }
  });

  it('without the record, is a gradient-mismatch: no derivative mistake that dW1 contradicts is claimed', () => {
    // Before: dZ1 = dA1 (identity′) reproduced db1 alone and was reported with dW1 "unexplained",
    // though dW1 is right, so the mistake it names is in no tensor. A layer's own mistake must
    // reproduce every tensor of its layer.
    const { model, params, X, Y } = setup(spec);
    const grads = userBackprop(model, params, X, Y, { at: 1, dbFromA: true });
    const net = netOf(model, params, forward(model, params, X, Y), Y);
    const withoutBias = MISTAKE_KINDS.filter((k) => k.code !== 'wrong-bias-gradient');
    const found = fingerprint(net, grads, undefined, withoutBias);
    expect(found.mutations.filter((m) => m.layer === 0)).toEqual([]);
    expect(found.unexplained).toEqual(expect.arrayContaining([{ layer: 0, name: 'b' }]));
  });
});

describe('large layers', () => {
  it('are compared through random probes, and the mistakes are still found (and verified on the full tensors)', () => {
    const spec = {
      input: 40, layers: [{ units: 40, activation: 'tanh' }, { units: 40, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', l2: 0.1, init: { scheme: 'xavier', seed: 5 },
    };
    const { model, params, X, Y } = setup(spec, 200, 7);
    const cases: [Injection, string][] = [
      [{ at: 2, transposed: true }, 'transposed-gradient@2'],
      [{ at: 1, penalty: 'sum' }, 'wrong-l2-gradient@1'],
      [{ at: 2, input: { kind: 'A', index: 2 } }, 'wrong-input-activation@2'],
      [{ at: 2, backprop: 'plain' }, 'wrong-backprop-weight@1'],
    ];
    for (const [bug, expected] of cases) {
      const grads = userBackprop(model, params, X, Y, bug);
      const r = checked(model, params, X, Y, { source: 'grads', grads }, null, { mode: 'sample', samples: 6 });
      const roots = r.findings.filter((f) => categoryOf(f.code) === 'root');
      expect(roots.map((f) => `${f.code}@${f.layer}`), expected).toEqual([expected]);
      expect(roots[0].evidence!.reproducedTo as number).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('the formula analysis', () => {
  it('reports a hidden 1 - z^2 that the data cannot see yet as a warning, and the check passes', () => {
    const loaded = load(fixture('seed-fixed'));
    const { model, params, data } = loaded;
    const raw = { ...(loaded.spec.raw as Record<string, unknown>) };
    raw.backward = { activationDerivatives: [null, '1 - z^2', '1 - z^2', null] };
    const { declared } = specOf(raw, model.inputs, 'test');
    const r = checked(model, params, data.X, data.Y, { source: 'declared', plan: declaredPlan(model, declared!) }, declared);
    expect(r.ok).toBe(true);
    const [f] = r.findings;
    expect(f).toMatchObject({ code: 'derivative-of-wrong-variable', severity: 'warning', layer: 2 });
    expect(layersOf(f)).toEqual([2, 3]);
    expect(f.message).toContain('does not make layers 2 and 3 fail by itself');
    expect(healthFails(r)).toBe(true);
  });

  it('accepts right formulas in other forms, and a − y folded into the output gradient', () => {
    const spec = {
      input: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 3, activation: 'softplus' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 8 },
      backward: { outputGradient: 'a - y', activationDerivatives: ['1 / cosh(z)^2', '1 - exp(-a)', '1'] },
    };
    const { model, params, X, Y, declared } = setup(spec);
    const r = checked(model, params, X, Y, { source: 'declared', plan: declaredPlan(model, declared!) }, declared);
    expect(r.ok).toBe(true);
    expect(r.findings.filter((f) => categoryOf(f.code) === 'root')).toEqual([]);
  });

  it('says when a declared derivative is nothing it knows, with the numbers', () => {
    const spec = {
      input: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 9 },
      backward: { activationDerivatives: ['1 - z^3', null] },
    };
    const { model, params, X, Y, declared } = setup(spec);
    const r = checked(model, params, X, Y, { source: 'declared', plan: declaredPlan(model, declared!) }, declared);
    const [f] = r.findings;
    expect(f).toMatchObject({ code: 'wrong-activation-derivative', layer: 1, severity: 'error' });
    expect(f.message).toContain('1 - z^3, which is not the derivative of any supported activation');
    expect(f.message).toMatch(/the largest difference being [0-9.]+ at z = /);
  });
});

describe('custom activations and losses', () => {
  const swish = { expr: 'z / (1 + exp(-z))' };
  const both = (spec: Record<string, unknown>) => {
    const { model, params, X, Y, declared } = setup(spec, 24, 3);
    const fwd = forward(model, params, X, Y);
    const grads = backward(model, params, fwd, Y, declaredPlan(model, declared!));
    return [
      checked(model, params, X, Y, { source: 'declared', plan: declaredPlan(model, declared!) }, declared),
      checked(model, params, X, Y, { source: 'grads', grads }),
    ];
  };

  it('a custom loss whose derivative misses a term: named from the loss’s own terms, differentiated one by one', () => {
    for (const r of both({
      input: 3, layers: [{ units: 4, activation: swish }, { units: 2, activation: 'linear' }],
      loss: { expr: '0.1 * (a - y)^2 + 0.05 * (a - y)^4' }, init: { scheme: 'xavier', seed: 2 },
      backward: { outputGradient: '0.2 * (a - y)' },
    })) {
      expect(codes(r)).toEqual(['wrong-output-gradient@2', 'error-propagated@1']);
      expect(r.findings[0].message).toContain('the second term ((a - y) ^ 3 / 5) is missing');
    }
  });

  it('a custom activation’s symbolic derivative evaluated at a is the wrong variable; at z it is right', () => {
    const spec = (d: string) => ({
      input: 3, layers: [{ units: 4, activation: swish }, { units: 2, activation: 'linear' }], loss: 'mean_squared_error',
      init: { scheme: 'xavier', seed: 2 }, backward: { activationDerivatives: [d, null] },
    });
    for (const r of both(spec('sigmoid(a) + a * sigmoid(a) * (1 - sigmoid(a))'))) {
      expect(codes(r)).toEqual(['derivative-of-wrong-variable@1']);
    }
    for (const r of both(spec('sigmoid(z) + z * sigmoid(z) * (1 - sigmoid(z))'))) {
      expect(r.ok).toBe(true);
      expect(r.findings).toEqual([]);
    }
  });
});

describe('health', () => {
  const tanhNet = { input: 3, layers: [{ units: 6, activation: 'tanh' }, { units: 6, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 1 } };
  const correct = (model: Model): GradientSource => ({ source: 'correct', plan: correctPlan(model) });

  it('a well initialised net has no health finding', () => {
    const { model, params, X, Y } = setup(tanhNet);
    expect(checked(model, params, X, Y, correct(model)).findings).toEqual([]);
  });

  it('saturated tanh units, with the fraction the report’s health has', () => {
    const { model, params, X, Y } = setup(tanhNet);
    params[0].W.data.forEach((v, i) => { params[0].W.data[i] = 30 * v; });
    const r = checked(model, params, X, Y, correct(model));
    const f = r.findings.find((x) => x.code === 'saturated-units')!;
    expect(f.layer).toBe(1);
    expect((f.evidence!.saturation as number[])[0]).toBe(r.health.layers[0].saturation);
    expect(r.health.layers[0].saturation).toBeGreaterThan(0.3);
    expect(r.findings.some((x) => x.code === 'init-scale' && x.message.includes('layer 1 (tanh, fan_in 3)'))).toBe(true);
  });

  it('dead ReLUs, exploding gradients, a chance-level softmax and NaN', () => {
    const relu = setup({ input: 3, layers: [{ units: 4, activation: 'relu' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'he', seed: 1 } });
    relu.params[0].b!.data.fill(-100);
    const dead = checked(relu.model, relu.params, relu.X, relu.Y, correct(relu.model)).findings.find((f) => f.code === 'dead-relu')!;
    expect(dead).toMatchObject({ severity: 'warning', layer: 1 });
    expect(dead.message).toContain('4 of the 4 ReLU units of layer 1 are 0 on every one of the 24 samples');

    const deep = setup({ input: 4, layers: Array.from({ length: 5 }, () => ({ units: 4, activation: 'linear' })), loss: 'mean_squared_error', init: { scheme: 'xavier', scale: 8, seed: 1 } });
    const exploding = checked(deep.model, deep.params, deep.X, deep.Y, correct(deep.model)).findings.find((f) => f.code === 'exploding-gradients')!;
    expect(exploding.evidence!.ratio as number).toBeGreaterThan(1e3);

    const soft = setup({ input: 3, layers: [{ units: 4, activation: 'tanh' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy', init: { scheme: 'normal', scale: 1e-4, seed: 1 } });
    const chance = checked(soft.model, soft.params, soft.X, soft.Y, correct(soft.model)).findings.find((f) => f.code === 'chance-level-loss')!;
    expect(chance.message).toContain(`ln 3 = ${Number(Math.log(3).toPrecision(4))}`);
    expect(chance.evidence!.chance).toBeCloseTo(Math.log(3), 15);

    const nan = setup(tanhNet);
    nan.params[1].W.data[0] = NaN;
    const r = checked(nan.model, nan.params, nan.X, nan.Y, correct(nan.model));
    const f = r.findings.find((x) => x.code === 'non-finite')!;
    expect(f).toMatchObject({ severity: 'error', layer: 2 });
    expect(f.message).toContain('W2: 1 of 36');
  });

  it('kinks: one info finding per tensor, with its count', () => {
    const { model, params, data } = load(fixture('softmax3'));
    const r = checked(model, params, data.X, data.Y, correct(model));
    const kinks = r.findings.filter((f) => f.code === 'kink');
    expect(kinks.length).toBeGreaterThan(0);
    for (const f of kinks) {
      expect(f.severity).toBe('info');
      expect(f.evidence!.kinks).toBe(r.checks.find((c) => c.param === f.param)!.kinks);
    }
    expect(r.ok).toBe(true);
  });
});

describe('codes and order', () => {
  it('every code has an explanation with its category; unknown codes have none', () => {
    for (const code of FINDING_CODES) {
      expect(explain(code)).toMatch(new RegExp(`^${code}: .+\\n\\n`));
      expect(categoryOf(code)).toBeDefined();
    }
    expect(explain('nope')).toBeUndefined();
    expect(FINDING_CODES).toEqual(expect.arrayContaining([
      'wrong-activation-derivative', 'derivative-of-wrong-variable', 'wrong-output-gradient', 'wrong-reduction', 'constant-factor',
      'missing-l2-gradient', 'wrong-l2-gradient', 'wrong-input-activation', 'transposed-gradient', 'wrong-backprop-weight',
      'wrong-bias-gradient', 'error-propagated', 'gradient-mismatch', 'vanishing-gradients', 'exploding-gradients',
      'saturated-units', 'dead-relu', 'chance-level-loss', 'init-scale', 'non-finite', 'kink',
    ]));
  });

  it('finite differences that disagree with right gradients are a gradient-mismatch that says so', () => {
    const { model, params, X, Y } = setup({ input: 3, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 2 } });
    params.forEach(({ W }) => W.data.forEach((v, i) => { W.data[i] = 3 * v; }));
    const r = checked(model, params, X, Y, { source: 'correct', plan: correctPlan(model) }, null, { epsilon: 0.3 });
    expect(r.ok).toBe(false);
    const f = r.findings.find((x) => x.code === 'gradient-mismatch')!;
    expect(f.message).toContain('yet they equal correct backprop');
    everyFailureAccountedFor(r);
  });
});
