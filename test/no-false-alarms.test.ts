// No false alarms: 200 seeded random correct networks — random sizes, activations (custom ones
// too), losses, L2 conventions, reductions, biases, and ReLU nets whose pre-activations sit exactly
// on the kink or within a step of it — checked with the right gradients, delivered three ways
// (our own backprop, a declared backward block written in other but equivalent forms, and an
// independent user-style backprop as --grads). None may fail, and none may get a root-cause,
// propagated or error finding.
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { forward } from '../src/core/forward.js';
import { check, DEFAULT_OPTIONS, type GradientSource } from '../src/core/check/check.js';
import { categoryOf, diagnoser, FINDING_CODES } from '../src/core/diagnose/index.js';
import { mapTensors, tensorOf, type Model, type Params } from '../src/core/model.js';
import type { Tensor } from '../src/core/tensor.js';
import { Random } from '../src/core/random.js';
import { userBackprop } from '../tools/matrix.js';
import { declaredPlan } from '../src/io/spec.js';
import { drawn, network } from './helpers/network.js';

/** The numerical-edge checks' codes (non-finite, which they share with the diagnosis, is a health code). */
const NUMERICS_CODES = FINDING_CODES.filter((c) => categoryOf(c) === 'numerics');

type Act = string | { name: string; alpha: number } | { expr: string };

const HIDDEN: Act[] = [
  'sigmoid', 'tanh', 'relu', 'leaky_relu', 'linear', 'softplus', 'elu',
  { name: 'leaky_relu', alpha: 0.2 }, { name: 'elu', alpha: 0.5 }, { expr: 'z / (1 + exp(-z))' }, { expr: 'log(1 + exp(z))' },
];

/** A right derivative for the activation, in a form other than the one backprop-check uses. */
function rightDerivative(act: Act, rng: Random): string | null {
  if (typeof act === 'object' && 'expr' in act) return null;
  const name = typeof act === 'string' ? act : act.name;
  const alpha = typeof act === 'string' ? (name === 'elu' ? 1 : 0.01) : act.alpha;
  const pick = (...xs: string[]) => xs[rng.int(xs.length)];
  switch (name) {
    case 'sigmoid': return pick('a * (1 - a)', 'sigmoid(z) * (1 - sigmoid(z))', 'exp(-z) / (1 + exp(-z))^2');
    case 'tanh': return pick('1 - a^2', '1 - tanh(z)^2', '1 / cosh(z)^2');
    // At z = 0 these take the left slope, as backprop-check's own backprop does; the check accepts
    // backprop with either one-sided slope at exact kinks (one convention throughout the net).
    case 'relu': return 'sign(max(z, 0))';
    case 'leaky_relu': return `${alpha} + (1 - ${alpha}) * sign(max(z, 0))`;
    case 'linear': return '1';
    case 'softplus': return pick('sigmoid(z)', '1 - exp(-a)');
    case 'elu': return `sign(max(z, 0)) + (1 - sign(max(z, 0))) * (a + ${alpha})`;
  }
  return null;
}

interface Case {
  spec: Record<string, unknown>;
  model: Model;
  channel: 'correct' | 'declared' | 'grads';
  kinks: boolean;
}

/**
 * Trained weights: plain gradient descent with correct backprop (steps and rate seeded), then, on
 * some nets, a hidden layer scaled up until its units saturate, and the output layer scaled so
 * that its largest |z| is 10 to 30 (confident sigmoids, softmax margins in the twenties).
 */
function train(model: Model, params: Params, X: Tensor, Y: Tensor, rng: Random): Params {
  const steps = 100 + rng.int(400);
  let lr = 0.05 + 0.5 * rng.uniform();
  let p = params, cost = forward(model, p, X, Y).cost;
  // Descent only: a step that raises the cost (or leaves the pre-activations beyond 100) is halved.
  const tame = (q: Params) => forward(model, q, X, Y).Z.every((Z) => Z.data.every((z) => Math.abs(z) < 100));
  for (let k = 0; k < steps && lr > 1e-6; k++) {
    const g = backward(model, p, forward(model, p, X, Y), Y, correctPlan(model));
    const next = mapTensors(p, (t, ref) => ({ ...t, data: t.data.map((w, i) => w - lr * tensorOf(g, ref).data[i]) }));
    const c = forward(model, next, X, Y).cost;
    if (!(c <= cost) || !tame(next)) { lr /= 2; continue; }
    p = next;
    cost = c;
  }
  const L = model.layers.length;
  const scale = (l: number, k: number) => { p = mapTensors(p, (t, ref) => (ref.layer === l ? { ...t, data: t.data.map((w) => k * w) } : t)); };
  const saturating = model.layers.slice(0, -1).map((layer, l) => (['tanh', 'sigmoid'].includes(layer.activation.family) ? l : -1)).filter((l) => l >= 0);
  if (saturating.length > 0 && rng.uniform() < 0.5) scale(saturating[rng.int(saturating.length)], 4 + 6 * rng.uniform());
  const out = model.layers[L - 1].activation;
  if (out.roundsToBound !== null) {
    const Z = forward(model, p, X, Y).Z[L - 1].data;
    let zMax = 0;
    for (const z of Z) zMax = Math.max(zMax, Math.abs(z));
    if (zMax > 0) scale(L - 1, (10 + 20 * rng.uniform()) / zMax);
  }
  return p;
}

function randomCase(seed: number, trained = false): { c: Case; check: () => ReturnType<typeof check> } {
  const rng = new Random(seed);
  const hiddenCount = rng.int(3);
  const acts: Act[] = Array.from({ length: hiddenCount }, () => HIDDEN[rng.int(HIDDEN.length)]);
  const kind = rng.int(4);
  const K = 1 + rng.int(3);
  const layers = acts.map((activation) => ({ units: 1 + rng.int(5), activation, ...(rng.uniform() < 0.15 ? { bias: false } : {}) }));
  let loss: unknown;
  if (kind === 0) { layers.push({ units: K, activation: 'sigmoid' }); loss = 'binary_cross_entropy'; }
  else if (kind === 1) { layers.push({ units: K + 1, activation: 'softmax' }); loss = 'categorical_cross_entropy'; }
  else if (kind === 2) { layers.push({ units: K, activation: rng.uniform() < 0.5 ? 'linear' : 'tanh' }); loss = 'mean_squared_error'; }
  else { layers.push({ units: K, activation: 'linear' }); loss = { expr: '0.1 * (a - y)^2 + 0.05 * (a - y)^4' }; }
  const l2Pick = rng.int(3);
  const inputs = 1 + rng.int(4);
  const spec: Record<string, unknown> = {
    input: inputs, layers, loss,
    reduction: rng.uniform() < 0.5 ? 'mean' : 'sum',
    ...(l2Pick === 1 ? { l2: 0.01 + rng.uniform() } : l2Pick === 2 ? { l2: { coefficient: 0.01 + 0.2 * rng.uniform() } } : {}),
    init: { scheme: ['xavier', 'he', 'normal', 'uniform'][rng.int(4)], ...(rng.uniform() < 0.5 ? { scale: 0.3 + rng.uniform() } : {}), seed: seed + 1 },
  };
  const channel = (['correct', 'declared', 'grads'] as const)[seed % 3];
  if (channel === 'declared') {
    const out = layers[layers.length - 1].activation as string;
    const delta = (out === 'sigmoid' && loss === 'binary_cross_entropy') || out === 'softmax' || (out === 'linear' && loss === 'mean_squared_error');
    const useDelta = delta && (out === 'softmax' || rng.uniform() < 0.5);
    const gradients: Record<string, string> = { binary_cross_entropy: '-(y / a - (1 - y) / (1 - a))', mean_squared_error: 'a - y', categorical_cross_entropy: '-y / a' };
    spec.backward = {
      ...(useDelta ? { outputDelta: 'a - y' } : typeof loss === 'string' ? { outputGradient: gradients[loss] } : {}),
      activationDerivatives: [...acts.map((a) => rightDerivative(a, rng)), out === 'softmax' ? null : rightDerivative(out, rng)],
      reduction: spec.reduction, l2: true,
    };
  }
  const m = 3 + rng.int(10);
  // ReLU-type layers: a sample a hair from the kink, whose pre-activations the ±ε steps push across
  // it; and, when the first layer is ReLU-type, a sample exactly on it (x = 0 and b = 0 give z = 0,
  // and with ReLU-type layers after it, exact kinks in consecutive layers too).
  const relu = (a: Act | undefined) => a !== undefined && /relu|elu/.test(typeof a === 'string' ? a : 'name' in a ? a.name : '');
  let kinks = false;
  const outUnits = layers[layers.length - 1].units;
  const built = network(spec, {
    inputs, file: `random net ${seed}`,
    data: drawn(m, rng, (rng, X, Y) => {
      for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
      kinks = acts.some(relu) && rng.uniform() < 0.6;
      const exact = kinks && relu(acts[0]);
      if (kinks) for (let f = 0; f < inputs; f++) { X.data[f * m + 1] *= 1e-9; if (exact) X.data[f * m] = 0; }
      for (let c = 0; c < m; c++) {
        if (kind === 1) Y.data[rng.int(outUnits) * m + c] = 1;
        else for (let k = 0; k < outUnits; k++) Y.data[k * m + c] = kind === 0 ? (rng.uniform() < 0.3 ? 0.3 : rng.int(2)) : rng.normal();
      }
    }),
  });
  const { model, X, Y, declared } = built;
  let params = built.params;
  if (trained) {
    // Learnable targets, so that training makes the outputs confident.
    for (let c = 0; c < m; c++) {
      const x0 = X.data[c], x1 = inputs > 1 ? X.data[m + c] : -x0;
      for (let k = 0; k < outUnits; k++) {
        Y.data[k * m + c] = kind === 1 ? (k === (x0 > 0 ? 0 : x1 > 0 ? 1 : outUnits - 1) % outUnits ? 1 : 0)
          : kind === 0 ? ((k % 2 === 0 ? x0 : x1) > 0 ? 1 : 0)
          : Math.sin(x0 + k) + 0.5 * x1;
      }
    }
    params = train(model, params, X, Y, new Random(seed + 99));
  }
  const gradients: GradientSource =
    channel === 'declared' ? { source: 'declared', plan: declaredPlan(model, declared!) }
    : channel === 'grads' ? { source: 'grads', grads: userBackprop(model, params, X, Y, null) }
    : { source: 'correct', plan: correctPlan(model) };
  return {
    c: { spec, model, channel, kinks },
    check: () => check({ model, params, X, Y, gradients }, { ...DEFAULT_OPTIONS, seed }, diagnoser(channel === 'declared' ? declared : null)),
  };
}

describe('no false alarms at trained weights (issue 11)', () => {
  it('200 random trained networks (gradient steps, saturated units, confident outputs, softmax margins): no failure, no root-cause, propagated or error finding', () => {
    const alarms: string[] = [];
    let confident = 0, within = 0;
    for (let seed = 1001; seed <= 1200; seed++) {
      const { c, check: run } = randomCase(seed, true);
      const report = run();
      within += report.checks.filter((t) => t.withinResolution).length;
      if (report.findings.some((f) => f.code === 'float64-resolution')) confident++;
      // The numerics notes (zero-gradients of a unit training killed, float32 values, resolution) are not alarms.
      const bad = report.findings.filter((f) => categoryOf(f.code) !== 'health' && categoryOf(f.code) !== 'numerics' && !(NUMERICS_CODES as readonly string[]).includes(f.code) || f.severity === 'error');
      if (!report.ok || bad.length > 0) {
        const failing = report.checks.filter((t) => t.status === 'fail').map((t) => `${t.param} ${t.relativeError.toExponential(2)} ${t.failedBy}`);
        alarms.push(`seed ${seed} (${c.channel}): ${JSON.stringify(c.spec)} fails [${failing.join(', ')}] findings [${bad.map((f) => `${f.code}: ${f.message}`).join(' | ')}]`);
      }
    }
    expect(alarms).toEqual([]);
    // Trained weights really reach where float64 resolves few digits.
    expect(confident).toBeGreaterThan(10);
    expect(within).toBeGreaterThan(10);
  });
});

describe('no false alarms', () => {
  it('200 random correct networks: no failure, no root-cause, propagated or error finding', () => {
    const alarms: string[] = [];
    let kinkNets = 0, kinkElements = 0;
    const channels = { correct: 0, declared: 0, grads: 0 };
    for (let seed = 1; seed <= 200; seed++) {
      const { c, check: run } = randomCase(seed);
      const report = run();
      channels[c.channel]++;
      if (c.kinks) kinkNets++;
      kinkElements += report.checks.reduce((n, t) => n + t.kinks, 0);
      const bad = report.findings.filter((f) => categoryOf(f.code) !== 'health' && categoryOf(f.code) !== 'numerics' || f.severity === 'error');
      if (!report.ok || bad.length > 0) {
        const failing = report.checks.filter((t) => t.status === 'fail').map((t) => `${t.param} ${t.relativeError.toExponential(2)}`);
        alarms.push(`seed ${seed} (${c.channel}): ${JSON.stringify(c.spec)} fails [${failing.join(', ')}] findings [${bad.map((f) => `${f.code}: ${f.message}`).join(' | ')}]`);
      }
    }
    expect(alarms).toEqual([]);
    // The sample really covers what it claims.
    expect(channels.correct).toBeGreaterThan(50);
    expect(channels.declared).toBeGreaterThan(50);
    expect(channels.grads).toBeGreaterThan(50);
    expect(kinkNets).toBeGreaterThan(20);
    expect(kinkElements).toBeGreaterThan(0);
  });
});
