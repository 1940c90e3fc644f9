// The explanations group of the recovered formulas (src/core/diagnose/recover.ts): mistakes no
// catalogue record reproduces, whose formula the diagnosis recovers from the user's own dW and db.
// Each is a real kind of bug (issue 15): the activation returned as its own derivative
// (tanh_d(x) = tanh(x)), an extra factor in the derivative (dZ = dA·g'(Z)·Z), the derivative
// applied twice, the delta passed down without the next layer's derivative (or passed straight
// down, without Wᵀ either: the output error broadcast over the hidden units), the incoming gradient
// dropped (dZ = g'(Z) alone), backprop with the weights already updated by this step, sech(a)
// written for tanh' (corpus case 10), and the output delta made of the sigmoid's formula fed the
// error, dz = e * (1 - e) with e = a − y (corpus case 11; the extra network F, two sigmoid layers
// with squared error as in that case, is its fourth, since A, D and E are the only architectures
// with a sigmoid output). Each goes into at least four dense architectures of
// tools/matrix.ts as gradients (--grads) and must be named at its layer as the only root cause.
import { correctChain, entryGradients, evaluate, incomingGradient, netOf, outputValues, throughActivation, type Net } from '../../src/core/backprop.js';
import { forward } from '../../src/core/forward.js';
import { initialise } from '../../src/core/init.js';
import type { Grads, Model, Params } from '../../src/core/model.js';
import { inputGradient } from '../../src/core/layers/dense.js';
import type { Tensor } from '../../src/core/tensor.js';
import { parseSpec, withInputs } from '../../src/io/spec.js';
import { ARCHITECTURES, dataFor, judge, runCheck, userBackprop, type Cell } from '../matrix.js';
import type { ExplanationEntry } from './index.js';

/** A dense architecture of tools/matrix.ts, built and initialised as detectionMatrix builds it. */
export interface Prepared { label: string; model: Model; params: Params; X: Tensor; Y: Tensor }

export function prepared(): Prepared[] {
  return ARCHITECTURES.map((arch, i) => {
    const inputs = 3 + (i % 2);
    const model = withInputs(parseSpec({ input: inputs, ...arch.spec }, 'matrix').model, inputs);
    const params = initialise(model);
    return { label: 'ABCDE'[i], model, params, ...dataFor(model, arch.samples, 100 + i) };
  });
}

/** Network F: sigmoid-sigmoid with summed squared error (corpus case 11's kind), for output mistakes that need a sigmoid output. */
function sigmoidMse(): Prepared {
  const spec = { layers: [{ units: 4, activation: 'sigmoid' }, { units: 2, activation: 'sigmoid' }], loss: 'mean_squared_error', reduction: 'sum', init: { scheme: 'xavier', seed: 16 } };
  const model = withInputs(parseSpec({ input: 3, ...spec }, 'matrix').model, 3);
  return { label: 'F', model, params: initialise(model), ...dataFor(model, 12, 106) };
}

/** The derivative a layer's code uses, given its activation's name, or null where the bug cannot be made. */
type Wrong = (activation: string) => ((z: number, a: number) => number) | null;

const derivativeOf: Record<string, (z: number, a: number) => number> = {
  tanh: (_z, a) => 1 - a * a,
  sigmoid: (_z, a) => a * (1 - a),
};

/**
 * The gradients of a backprop that is right down to layer l (0-based), where dA_l is made by
 * `incoming` from the right dZ_{l+1} and dA_{l+1} (and the right dW_{l+1}), and right again below.
 */
export function withIncoming(net: Net, l: number, incoming: (x: { dZ: Tensor; dA: Tensor; dW: Tensor }) => Tensor): Grads {
  const chain = correctChain(net);
  const { grads, dZ } = evaluate(net, chain);
  const L = net.model.layers.length;
  const dAnext: Tensor = l + 1 === L - 1
    ? { shape: dZ[L - 1].shape, data: outputValues(net, (_z, a, y) => net.model.loss.gradient(a, y)) }
    : incomingGradient(net, l + 1, dZ[l + 2], 'transpose');
  let dA = incoming({ dZ: dZ[l + 1], dA: dAnext, dW: grads[l + 1].W });
  const out = [...grads];
  for (let k = l; k >= 0; k--) {
    const d = throughActivation(net, k, dA, null);
    out[k] = entryGradients(net, k, d, chain.layers[k]);
    if (k > 0) dA = incomingGradient(net, k - 1, d, 'transpose');
  }
  return out;
}

const ETA = 0.1;

interface Spec {
  id: string;
  name: string;
  code: ExplanationEntry['code'];
  /** 1-based layer per architecture label where the bug is made (and named). */
  sites: Record<string, number>;
  grads(p: Prepared, at: number): Grads;
}

function derivativeBug(wrong: Wrong) {
  return (p: Prepared, at: number): Grads => {
    const fn = wrong(p.model.layers[at - 1].activation.name);
    if (!fn) throw new Error(`internal: no such derivative bug for ${p.model.layers[at - 1].activation.name}`);
    return userBackprop(p.model, p.params, p.X, p.Y, { at, derivative: (z, a) => fn(z, a) });
  };
}

function incomingBug(make: (x: { dZ: Tensor; dA: Tensor; dW: Tensor }, W: Tensor) => Tensor) {
  return (p: Prepared, at: number): Grads => {
    const net = netOf(p.model, p.params, forward(p.model, p.params, p.X, p.Y), p.Y);
    return withIncoming(net, at - 1, (x) => make(x, p.params[at].W));
  };
}

/** [W | b] with column k (0-based) deleted: np.delete(M, k, 1) where the bias column was meant. */
function deleted(W: Tensor, b: Tensor, k: number): Tensor {
  const [rows, cols] = W.shape;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = j < k ? W.data[i * cols + j] : j + 1 < cols ? W.data[i * cols + j + 1] : b.data[i];
  return { shape: W.shape, data };
}

export const SPECS: Spec[] = [
  {
    id: 'activation-as-derivative', name: 'activation as its own derivative (tanh_d = tanh)', code: 'wrong-local-derivative',
    sites: { A: 2, B: 2, C: 1, D: 5, E: 1 },
    grads: derivativeBug(() => (_z, a) => a),
  },
  {
    id: 'extra-factor-z', name: "extra factor z: dZ = dA·g'(Z)·Z", code: 'wrong-local-derivative',
    sites: { A: 1, C: 1, D: 3, E: 2 },
    grads: derivativeBug((name) => { const g = derivativeOf[name]; return g ? (z, a) => g(z, a) * z : null; }),
  },
  {
    id: 'derivative-twice', name: "derivative applied twice (g'²)", code: 'wrong-local-derivative',
    sites: { A: 2, C: 1, D: 3, E: 1 },
    grads: derivativeBug((name) => { const g = derivativeOf[name]; return g ? (z, a) => g(z, a) ** 2 : null; }),
  },
  {
    id: 'passed-dA', name: "delta passed down without g' (Wᵀ·dA)", code: 'wrong-backprop-weight',
    sites: { A: 1, B: 1, C: 1, D: 2, E: 1 },
    grads: incomingBug(({ dA }, W) => inputGradient(W, dA)),
  },
  {
    id: 'error-straight-down', name: "error passed straight down (no Wᵀ, no g')", code: 'wrong-backprop-weight',
    sites: { A: 2, B: 1, C: 1, D: 2, E: 2 },
    // dA_l = dA_{l+1} (broadcast from one row): the skip of incomingGradient applied to dA, not dZ.
    grads: incomingBug(({ dA }, W) => {
      const units = W.shape[1], m = dA.shape[1];
      const data = new Float64Array(units * m);
      for (let i = 0; i < units; i++) data.set(dA.data.subarray((dA.shape[0] === 1 ? 0 : i) * m, ((dA.shape[0] === 1 ? 0 : i) + 1) * m), i * m);
      return { shape: [units, m], data };
    }),
  },
  {
    id: 'dA-dropped', name: "incoming gradient dropped (dZ = g'(Z))", code: 'wrong-backprop-weight',
    sites: { A: 1, B: 1, C: 2, D: 2, E: 1 },
    // dA_l = 1 everywhere, so dZ_l = g'(Z_l): the incoming gradient overwritten.
    grads: incomingBug(({ dZ }, W) => ({ shape: [W.shape[1], dZ.shape[1]], data: new Float64Array(W.shape[1] * dZ.shape[1]).fill(1) })),
  },
  {
    id: 'sech-derivative', name: "sech(a) for tanh' (dZ = dA * SECH(A))", code: 'wrong-local-derivative',
    sites: { A: 1, C: 1, D: 5, E: 2 },
    grads: derivativeBug((name) => (name === 'tanh' ? (_z, a) => 1 / Math.cosh(a) : null)),
  },
  {
    id: 'output-derivative-at-error', name: 'output delta e * (1 - e), sigmoid formula at e = a - y', code: 'derivative-of-wrong-variable',
    sites: { A: 3, D: 6, E: 3, F: 2 },
    // dz = dh * (1 - dh) with dh = a − y: a(1 − a) fed the error, the error not multiplied in.
    grads: (p, at) => userBackprop(p.model, p.params, p.X, p.Y, { at, outputDelta: (_z, a, y) => (a - y) * (1 - (a - y)) }),
  },
  {
    id: 'deleted-column', name: 'dA through [W | b] with column 2 deleted, not the bias', code: 'wrong-backprop-weight',
    sites: { A: 2, B: 1, C: 2, D: 3, E: 1 },
    grads: (p, at) => {
      const net = netOf(p.model, p.params, forward(p.model, p.params, p.X, p.Y), p.Y);
      return withIncoming(net, at - 1, ({ dZ }) => inputGradient(deleted(p.params[at].W, p.params[at].b!, 1), dZ));
    },
  },
  {
    id: 'updated-weights', name: 'backprop with the updated weights', code: 'wrong-backprop-weight',
    sites: { A: 2, B: 1, C: 2, D: 3, E: 1 },
    grads: incomingBug(({ dZ, dW }, W) => inputGradient({ shape: W.shape, data: W.data.map((w, i) => w - ETA * dW.data[i]) }, dZ)),
  },
];

export function entries(): ExplanationEntry[] {
  let nets: Prepared[] | null = null;
  return SPECS.map((spec) => ({
    id: spec.id, name: spec.name, code: spec.code,
    cells() {
      nets ??= [...prepared(), sigmoidMse()];
      const out: Record<string, Cell | null> = {};
      for (const p of nets) {
        const at = spec.sites[p.label];
        if (at === undefined) { out[p.label] = null; continue; }
        const grads = spec.grads(p, at);
        out[p.label] = judge(runCheck(p.model, p.params, p.X, p.Y, { source: 'grads', grads }, null), spec.code, at);
      }
      return out;
    },
  }));
}
