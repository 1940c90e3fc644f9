// The diagnosis on nets with entries other than dense ones: a layer kind's own backprop mistake
// (kind.ts `mistakes`) is named at its entry, alone or beside a dense-catalogue mistake in the
// same net; entries without parameters neither crash the search nor raise health findings of their
// own; softmax with a loss other than categorical cross-entropy gets its Jacobian, and its
// diagonal-only backward is named; dead channels after a conv, a normalisation dividing by a
// variance near 0 and saturation after a norm layer are health findings. The kind mistake used here is defined by the test on the
// identity record (an `activation` entry is the identity, then its activation), so the search is
// exercised without depending on any one kind's file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { correctChain, evaluate, layerValues, netOf, type Chain, type Net } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { categoryOf, diagnoser } from '../src/core/diagnose/index.js';
import { layerMistakeKind, layerMistakesAt } from '../src/core/diagnose/layer-mistakes.js';
import { MISTAKE_KINDS } from '../src/core/diagnose/mutations.js';
import { isFindingCode, severitiesOf } from '../src/core/findings/registry.js';
import { forward } from '../src/core/forward.js';
import { identity, kindOf, type KindMistake, type Layer, type LayerType } from '../src/core/layers/index.js';
import type { Model, Params } from '../src/core/model.js';
import { namedActivation } from '../src/core/records/activations.js';
import { namedLoss } from '../src/core/records/losses.js';
import { Random } from '../src/core/random.js';
import type { Report } from '../src/core/report.js';
import { zeros, type Tensor } from '../src/core/tensor.js';
import { initialise } from '../src/core/init.js';
import { declaredPlan, parseSpec } from '../src/io/spec.js';
import { withMasks } from '../tools/matrix.js';
import { modelOf } from './helpers/network.js';

/** dx = dy with its rows in reverse order: a permutation of the features, as a wrong reshape is. */
const reversedRows: KindMistake = {
  says: 'reshapes dA back in the reverse order of the features',
  fix: 'dA_prev = dA.reshape(A_prev.shape).',
  backward: (_layer, _x, _y, dy) => ({
    dx: () => {
      const [rows, m] = dy.shape;
      const out = zeros(dy.shape);
      for (let r = 0; r < rows; r++) out.data.set(dy.data.subarray(r * m, (r + 1) * m), (rows - 1 - r) * m);
      return out;
    },
    dparams: {},
  }),
};

/** A mistake that changes nothing on an entry (appliesTo false): never tried there. */
const neverHere: KindMistake = { ...reversedRows, appliesTo: () => false };

const saved = (identity as { mistakes?: unknown }).mistakes;
beforeAll(() => {
  // 'flatten-order' and 'dropout-new-mask' are registered codes; any registered id would do.
  (identity as { mistakes?: Record<string, KindMistake> }).mistakes = { 'flatten-order': reversedRows, 'dropout-new-mask': neverHere };
});
afterAll(() => {
  (identity as { mistakes?: unknown }).mistakes = saved;
});

interface Setup { model: Model; params: Params; X: Tensor; Y: Tensor }

/** dense(6, tanh) → activation(elu) → dense(4, tanh) → dense(1, sigmoid), BCE: an activation entry (no parameters) inside. */
function net(seed = 3, m = 20): Setup {
  const base = modelOf({ input: 3, layers: [{ units: 6, activation: 'tanh' }, { units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed } });
  const act: Layer = { type: 'activation', units: 6, inputs: 6, activation: namedActivation('elu')!, bias: false };
  const model: Model = { ...base, layers: [base.layers[0], act, ...base.layers.slice(1)] };
  const dense = initialise(base);
  const params: Params = [dense[0], {}, dense[1], dense[2]];
  const rng = new Random(seed + 100);
  const X = zeros([3, m]), Y = zeros([1, m]);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let c = 0; c < m; c++) Y.data[c] = X.data[c] + X.data[m + c] > 0 ? 1 : 0;
  return { model, params, X, Y };
}

function netFor(s: Setup): Net {
  return netOf(s.model, s.params, forward(s.model, s.params, s.X, s.Y), s.Y);
}

/** The gradients of a user's backprop with the hooks `edit` sets. */
function gradsWith(s: Setup, edit: (chain: Chain, net: Net) => void) {
  const n = netFor(s);
  const chain = correctChain(n);
  edit(chain, n);
  return evaluate(n, chain).grads;
}

function checked(s: Setup, grads: ReturnType<typeof gradsWith>): Report {
  return check({ model: s.model, params: s.params, X: s.X, Y: s.Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, seed: 1 }, diagnoser());
}

/** A net.json's network (its masks drawn), its parameters and seeded data (0/1 targets). */
function built(spec: Record<string, unknown>, m: number, seed: number): Setup {
  const loaded = parseSpec(spec, 'net.json');
  const model = withMasks(loaded.model, loaded.dropoutSeeds, m);
  const params = initialise(model);
  const K = model.layers[model.layers.length - 1].units;
  const rng = new Random(seed);
  const X = zeros([model.inputs, m]), Y = zeros([K, m]);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < Y.data.length; i++) Y.data[i] = rng.uniform() < 0.5 ? 1 : 0;
  return { model, params, X, Y };
}

const roots = (r: Report) => r.findings.filter((f) => categoryOf(f.code) === 'root');

describe('layer-kind mistakes in the diagnosis', () => {
  it('correct gradients on a net with a parameterless entry pass, with no root cause and no gradient-flow finding of its own', () => {
    const s = net();
    const r = checked(s, gradsWith(s, () => {}));
    expect(r.ok).toBe(true);
    expect(roots(r)).toEqual([]);
    expect(r.findings.map((f) => f.code)).not.toContain('vanishing-gradients');
    // The activation entry has no tensor: its health row has no gradient to speak of.
    expect(r.health.layers[1]).toMatchObject({ layer: 2, type: 'activation', gradientNorm: 0 });
  });

  it('names a mistaken backward of a parameterless entry at that entry, and the layers below as propagated', () => {
    const s = net();
    const r = checked(s, gradsWith(s, (chain) => { chain.layers[1].mistake = 'flatten-order'; }));
    expect(r.ok).toBe(false);
    const found = roots(r);
    expect(found.map((f) => `${f.code}@${f.layer}`)).toEqual(['flatten-order@2']);
    expect(found[0].severity).toBe('error');
    expect(found[0].message).toContain('layer 2 (activation): reshapes dA back in the reverse order of the features');
    expect(found[0].message).toMatch(/moves dW1 by \d/);
    expect(found[0].message).toMatch(/The reconstruction reproduces your gradients (exactly|to a relative \S+)\.$/);
    expect(found[0].fix).toBe('dA_prev = dA.reshape(A_prev.shape).');
    // W1 and b1 fail only through it.
    const propagated = r.findings.filter((f) => f.code === 'error-propagated');
    expect(propagated).toHaveLength(1);
    expect(propagated[0].evidence).toMatchObject({ from: 2 });
    expect(r.checks.filter((c) => c.status === 'fail').map((c) => c.param).sort()).toEqual(['W1', 'b1']);
  });

  it('names a kind mistake and a wrong derivative in the dense head of the same net together', () => {
    const s = net();
    const grads = gradsWith(s, (chain, n) => {
      chain.layers[1].mistake = 'flatten-order';
      // Layer 3 (tanh) multiplies by sigmoid's a(1 − a).
      chain.layers[2].derivative = layerValues(n, 2, (_z, a) => a * (1 - a));
    });
    const found = roots(checked(s, grads)).map((f) => `${f.code}@${f.layer}`).sort();
    expect(found).toEqual(['flatten-order@2', 'wrong-activation-derivative@3']);
  });

  it('names a wrong derivative below a parameterless entry, where dA comes through its backward', () => {
    const s = net();
    const grads = gradsWith(s, (chain, n) => { chain.layers[0].derivative = layerValues(n, 0, (z) => 1 - z * z); });
    expect(roots(checked(s, grads)).map((f) => `${f.code}@${f.layer}`)).toEqual(['derivative-of-wrong-variable@1']);
  });

  it('tries only the mistakes that apply at an entry, and no dense-only mistake at a non-dense one', () => {
    const s = net();
    const n = netFor(s);
    expect(layerMistakesAt(n, 1).map((m) => m.detail.mistake)).toEqual(['flatten-order']);
    expect(layerMistakesAt(n, 0)).toEqual([]);
    const denseOnly = MISTAKE_KINDS.filter((k) => ['delta-factor', 'tensor-factor', 'reduction', 'bias', 'l2-missing', 'l2-wrong', 'input', 'transposed'].includes(k.id));
    expect(denseOnly).toHaveLength(8);
    for (const kind of denseOnly) expect(kind.appliesTo(n, 1), kind.id).toBe(false);
    // W·dZ or dZ itself as the dA below: only a dense next entry has the W.
    expect(MISTAKE_KINDS.find((k) => k.id === 'backprop-weight')!.appliesTo(n, 0)).toBe(false);
    // An activation entry's derivative code can be wrong like a dense layer's.
    expect(MISTAKE_KINDS.find((k) => k.id === 'activation-swap')!.appliesTo(n, 1)).toBe(true);
  });

  it('a kind mistake is a root cause whose effect is measured on the layers below it, not a latent warning', () => {
    const kind = layerMistakeKind('flatten-order');
    expect(kind.code).toBe('flatten-order');
    expect(kind.effectLayers!({ kind, layer: 2, detail: {} })).toEqual([0, 1, 2]);
    expect(() => layerMistakeKind('not-a-code')).toThrow(/no finding code/);
  });
});

describe('softmax with a loss other than categorical cross-entropy', () => {
  /** dense(5, tanh) → dense(3, softmax) with the given loss (the model is built by hand: the spec's check of the pair is io's). */
  function softmaxNet(loss: string, m = 16): Setup {
    const base = modelOf({ input: 3, layers: [{ units: 5, activation: 'tanh' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy', init: { scheme: 'xavier', seed: 7 } });
    const model: Model = { ...base, loss: namedLoss(loss)! };
    const params = initialise(model);
    const rng = new Random(8);
    const X = zeros([3, m]), Y = zeros([3, m]);
    for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
    for (let i = 0; i < Y.data.length; i++) Y.data[i] = loss === 'mean_squared_error' ? rng.normal() : rng.uniform() < 0.5 ? 1 : 0;
    return { model, params, X, Y };
  }

  for (const loss of ['mean_squared_error', 'binary_cross_entropy']) {
    it(`with ${loss}: correct gradients pass; dA·a(1 − a) at the output is softmax-diagonal`, () => {
      const s = softmaxNet(loss);
      const right = checked(s, gradsWith(s, () => {}));
      expect(right.ok).toBe(true);
      expect(roots(right)).toEqual([]);
      const r = checked(s, gradsWith(s, (chain, n) => { chain.layers[1].derivative = layerValues(n, 1, (_z, a) => a * (1 - a)); }));
      expect(r.ok).toBe(false);
      const found = roots(r);
      expect(found.map((f) => `${f.code}@${f.layer}`)).toEqual(['softmax-diagonal@2']);
      expect(found[0].message).toMatch(/differs from it by a relative \d/);
      expect(found[0].fix).toMatch(/^dZ\d = A\d \* \(dA\d - np\.sum\(A\d \* dA\d, axis=0, keepdims=True\)\)\.$/);
    });
  }

  it('with squared error: dZ = a − y (the Jacobian left out) is named as dA multiplied by 1 instead of the Jacobian', () => {
    const s = softmaxNet('mean_squared_error');
    const n = netFor(s);
    const A = n.fwd.A[2].data, Y = s.Y.data;
    const r = checked(s, gradsWith(s, (chain) => { chain.output = { kind: 'delta', values: A.map((a, i) => a - Y[i]) }; }));
    const found = roots(r);
    // ∂L/∂a = a − y used as dZ and dA·1 are the same numbers; the search names the cheaper reading.
    expect(found.map((f) => `${f.code}@${f.layer}`)).toEqual(['wrong-activation-derivative@2']);
    expect(found[0].message).toContain('multiplying dA by 1');
    expect(found[0].fix).toBe('dZ2 = A2 * (dA2 - np.sum(A2 * dA2, axis=0, keepdims=True)).');
  });

  it('with categorical cross-entropy a(1 − a) stays a sigmoid-shaped derivative, as before', () => {
    const s = softmaxNet('categorical_cross_entropy');
    for (let c = 0; c < 16; c++) for (let k = 0; k < 3; k++) s.Y.data[k * 16 + c] = k === c % 3 ? 1 : 0;
    const r = checked(s, gradsWith(s, (chain, n) => { chain.layers[1].derivative = layerValues(n, 1, (_z, a) => a * (1 - a)); }));
    expect(roots(r).map((f) => f.code)).toEqual(['wrong-activation-derivative']);
  });
});

describe('the registry knows every layer kind mistake', () => {
  const TYPES: LayerType[] = ['dense', 'conv2d', 'maxpool2d', 'avgpool2d', 'flatten', 'batchnorm', 'layernorm', 'dropout', 'activation'];

  it('every id of every kind present is a registered root cause that may be latent', () => {
    for (const type of TYPES) {
      let kind;
      try { kind = kindOf({ type, units: 1, inputs: 1, activation: namedActivation('linear')!, bias: false }); } catch { continue; }
      for (const [id, mistake] of Object.entries(kind.mistakes ?? {})) {
        // Another form of a listed mistake is named with that mistake's code.
        const code = mistake.code ?? id;
        expect(isFindingCode(code), `${type}: ${id}`).toBe(true);
        expect(categoryOf(code), id).toBe('root');
        expect(severitiesOf(code), id).toEqual(expect.arrayContaining(['error', 'warning']));
      }
    }
  });

  it('registers the codes the brief lists for each kind', () => {
    for (const id of [
      'conv-stride-ignored', 'conv-padding-not-stripped', 'conv-kernel-flipped', 'conv-dw-not-summed', 'conv-db-not-summed',
      'maxpool-whole-window', 'maxpool-overwrite', 'avgpool-not-averaged', 'avgpool-stride-ignored', 'flatten-order',
      'batchnorm-simplified', 'batchnorm-gamma-missing', 'batchnorm-unbiased-variance', 'batchnorm-eps-missing', 'batchnorm-spatial-axes',
      'layernorm-wrong-axis', 'dropout-mask-missing', 'dropout-keep-missing', 'dropout-new-mask', 'softmax-diagonal',
    ]) expect(categoryOf(id), id).toBe('root');
    expect(categoryOf('norm-variance-near-zero')).toBe('health');
  });
});

describe('health beyond dense layers', () => {
  it('a conv filter whose ReLU is 0 at every position on every sample is a dead channel', () => {
    const s = built({
      input: [1, 5, 5], layers: [{ type: 'conv2d', filters: 3, kernel: 3, activation: 'relu' }, { type: 'flatten' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'he', seed: 5 },
    }, 8, 6);
    // Filter 2's bias far below anything its weights can reach on this data.
    s.params[0].b.data[1] = -100;
    const r = checked(s, gradsWith(s, () => {}));
    expect(r.health.layers[0].deadFraction).toBeCloseTo(1 / 3, 12);
    const dead = r.findings.filter((f) => f.code === 'dead-relu');
    expect(dead).toHaveLength(1);
    expect(dead[0].message).toBe('1 of the 3 channels of layer 1 (conv2d, ReLU) are 0 at every one of their 3×3 positions on every one of the 8 samples, so they get no gradient and cannot recover.');
    // A live filter with some position 0 on every sample is not dead: its other positions carry gradient.
    s.params[0].b.data[1] = 0;
    expect(checked(s, gradsWith(s, () => {})).findings.filter((f) => f.code === 'dead-relu')).toEqual([]);
  });

  it('a batch norm over a feature that does not vary is flagged with its variance and ε', () => {
    const s = built({
      input: 3, layers: [{ units: 4, activation: 'linear', bias: false }, { type: 'batchnorm' }, { type: 'activation', activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 9 },
    }, 10, 10);
    const r0 = checked(s, gradsWith(s, () => {}));
    expect(r0.findings.map((f) => f.code)).not.toContain('norm-variance-near-zero');
    expect(r0.health.layers[1].minVariance).toBeGreaterThan(1e-3);
    // Unit 3 of layer 1 is 0 on every sample: the batch norm divides by √ε there.
    s.params[0].W.data.fill(0, 2 * 3, 3 * 3);
    const r = checked(s, gradsWith(s, () => {}));
    expect(r.health.layers[1].minVariance).toBe(0);
    const f = r.findings.filter((x) => x.code === 'norm-variance-near-zero');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'warning', layer: 2 });
    expect(f[0].message).toBe('Layer 2 (batchnorm) divides by a variance of 0 over the 10 samples, for some feature, below its ε = 1.00e-5: x̂ = (x − μ)/√(var + ε) there is nearly (x − μ)/√ε, and dx carries the factor γ/√(var + ε), up to 316.2·γ.');
  });

  it('saturation after a norm layer names the norm and its γ', () => {
    const s = built({
      input: 3, layers: [{ units: 4, activation: 'linear', bias: false }, { type: 'layernorm' }, { type: 'activation', activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 9 },
    }, 10, 10);
    s.params[1].gamma.data.fill(40);
    const f = checked(s, gradsWith(s, () => {})).findings.find((x) => x.code === 'saturated-units')!;
    expect(f.message).toMatch(/layer 3 \(tanh\): \d+(\.\d+)?%, after layer 2's layernorm \(\|γ\| up to 40/);
  });

  it("a conv2d's weights are judged against He/Xavier for its fan-in C·kh·kw", () => {
    const s = built({
      input: [2, 5, 5], layers: [{ type: 'conv2d', filters: 3, kernel: 3, activation: 'relu' }, { type: 'flatten' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'he', seed: 5 },
    }, 8, 6);
    expect(checked(s, gradsWith(s, () => {})).findings.map((f) => f.code)).not.toContain('init-scale');
    s.params[0].W.data.forEach((w, i) => { s.params[0].W.data[i] = w / 50; });
    const f = checked(s, gradsWith(s, () => {})).findings.find((x) => x.code === 'init-scale')!;
    expect(f.message).toMatch(/^The weights are far from the scale their activations need: layer 1 \(relu, fan_in 18\): RMS \S+ vs He √\(2\/18\) = 0\.3333/);
  });

  it('entries without parameters neither raise gradient-flow findings nor count in them', () => {
    const s = built({
      input: [1, 6, 6],
      layers: [
        { type: 'conv2d', filters: 2, kernel: 3, activation: 'tanh' }, { type: 'maxpool2d', size: 2 }, { type: 'flatten' },
        { type: 'dropout', keep: 0.5, seed: 3 }, { units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' },
      ],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 4 },
    }, 8, 5);
    const r = checked(s, gradsWith(s, () => {}));
    expect(r.ok).toBe(true);
    expect(r.health.layers.filter((h) => h.gradientNorm === 0).map((h) => h.type)).toEqual(['maxpool2d', 'flatten', 'dropout']);
    expect(r.findings.filter((f) => f.code === 'vanishing-gradients' || f.code === 'exploding-gradients')).toEqual([]);
    // Tiny weights in the first and the last weighted layer make the signal vanish between them: layers 1 and 6 are compared.
    s.params[4].W.data.forEach((w, i) => { s.params[4].W.data[i] = w * 1e-4; });
    s.params[5].W.data.forEach((w, i) => { s.params[5].W.data[i] = w * 1e-2; });
    const v = checked(s, gradsWith(s, () => {})).findings.find((f) => f.code === 'vanishing-gradients');
    expect(v?.message).toMatch(/at layer 1 and .* at layer 6 .*per layer with weights \(1, 5, 6\)/);
  });
});

describe('dense-catalogue mistakes on the other kinds', () => {
  const CNN = {
    input: [2, 5, 5],
    layers: [{ type: 'conv2d', filters: 3, kernel: 3, padding: 1, activation: 'tanh' }, { type: 'avgpool2d', size: 2, stride: 1 }, { type: 'flatten' }, { units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
    loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 12 },
  };

  it("a conv2d's dW and db without the 1/m are a wrong reduction at that layer", () => {
    const s = built(CNN, 6, 13);
    const r = checked(s, gradsWith(s, (chain) => { chain.layers[0].dW.s = 1; chain.layers[0].db.s = 1; }));
    const found = roots(r);
    expect(found.map((f) => `${f.code}@${f.layer}`)).toEqual(['wrong-reduction@1']);
    expect(found[0].message).toBe('Your gradients equal backprop with dW1 and db1 6 times too large: the 1/m (m = 6) is missing.');
  });

  it("a wrong derivative in a CNN's dense head is named there, with the conv below it propagated", () => {
    const s = built(CNN, 6, 13);
    const r = checked(s, gradsWith(s, (chain, n) => { chain.layers[3].derivative = layerValues(n, 3, (z) => 1 - z * z); }));
    expect(roots(r).map((f) => `${f.code}@${f.layer}`)).toEqual(['derivative-of-wrong-variable@4']);
    expect(r.findings.find((f) => f.code === 'error-propagated')?.evidence).toMatchObject({ from: 4 });
  });

  it('a mistake nothing reproduces is a gradient-mismatch whose fix names the kinds and the slips tried there', () => {
    const s = built(CNN, 6, 13);
    // A factor on a conv2d's dW is not in that kind's catalogue, but its error is Ĝ itself: the
    // decomposition names it.
    const scaled = roots(checked(s, gradsWith(s, (chain) => { chain.layers[0].dW.k = 1.7; })));
    expect(scaled.map((x) => `${x.code}@${x.layer}`)).toEqual(['constant-factor@1']);
    // dW + 0.3·dW² (element by element) is neither a catalogued slip nor a direction of the decomposition.
    const grads = gradsWith(s, () => {});
    grads[0].W.data.forEach((v, i) => { grads[0].W.data[i] = v + 0.3 * v * v; });
    const f = roots(checked(s, grads));
    expect(f.map((x) => `${x.code}@${x.layer}`)).toEqual(['gradient-mismatch@1']);
    // A stride-1 conv cannot ignore its stride, a window of stride 1 neither: those slips are not listed.
    expect(f[0].fix).toContain(" For the layers of other kinds the catalogue knows these slips, and none of them reproduces your gradients, alone or with the others: conv2d (conv-padding-not-stripped, conv-kernel-flipped, conv-dw-not-summed, conv-db-not-summed); avgpool2d (avgpool-not-averaged); flatten (flatten-order); backprop-check --explain <code> gives each one's right formula.");
  });

  it('a conv2d mistake and a dense-head mistake in one network are both named', () => {
    const s = built(CNN, 6, 13);
    const r = checked(s, gradsWith(s, (chain, n) => {
      chain.layers[0].mistake = 'conv-dw-not-summed';
      chain.layers[4].derivative = layerValues(n, 4, (_z, a) => 1 - a * a);
    }));
    expect(roots(r).map((f) => `${f.code}@${f.layer}`).sort()).toEqual(['conv-dw-not-summed@1', 'wrong-activation-derivative@5']);
  });
});

describe('declared formulas on a softmax with squared error', () => {
  function declaredCheck(backward: Record<string, unknown>): Report {
    const spec = {
      input: [1, 5, 5], layers: [{ type: 'conv2d', filters: 2, kernel: 3, activation: 'tanh' }, { type: 'flatten' }, { units: 3, activation: 'softmax' }],
      loss: 'mean_squared_error', init: { scheme: 'xavier', seed: 3 }, backward,
    };
    const loaded = parseSpec(spec, 'net.json');
    const s = built(spec, 6, 4);
    return check({ ...s, gradients: { source: 'declared', plan: declaredPlan(s.model, loaded.declared!) } }, { ...DEFAULT_OPTIONS, seed: 1 }, diagnoser(loaded.declared));
  }

  it('the right derivative left to the Jacobian passes; a(1 − a) declared for the softmax is softmax-diagonal', () => {
    expect(declaredCheck({ outputGradient: 'a - y' }).ok).toBe(true);
    const r = declaredCheck({ activationDerivatives: [null, null, 'a * (1 - a)'] });
    expect(roots(r).map((f) => `${f.code}@${f.layer}`)).toEqual(['softmax-diagonal@3']);
    expect(roots(r)[0].message).toMatch(/^Layer 3 \(softmax\) multiplies dA by a \* \(1 - a\), the diagonal of the softmax Jacobian only/);
  });

  it('outputDelta "a - y" leaves the Jacobian out, and the fix says there is no element-wise ∂L/∂z', () => {
    const f = roots(declaredCheck({ outputDelta: 'a - y' }));
    expect(f.map((x) => `${x.code}@${x.layer}`)).toEqual(['wrong-output-gradient@3']);
    expect(f[0].message).toContain('it is ∂L/∂a (a - y): the softmax Jacobian is left out');
    expect(f[0].fix).toBe('In net.json\'s backward block (mathjs syntax): remove outputDelta and set outputGradient to "a - y": a softmax output with mean squared error has no element-wise ∂L/∂z.');
  });
});
