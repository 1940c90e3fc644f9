// Backprop as a chain of small steps, each of which a mistake can change on its own. The right
// chain is backprop.ts's; a mutated chain is what somebody's code computes instead:
//
//   dZ_L = q_L·(dA_L ⊙ g_L'(Z_L))            or a delta written directly     output, derivative
//   dW_l = k·(s·dZ_l·S_lᵀ + β·P(W_l))        S_l = A_{l−1}, P(W) = W, β = 2c   dW
//   db_l = k·s·Σ_samples dZ_l                                                  db
//   dA_l = W_{l+1}ᵀ·dZ_{l+1}                 (W·dZ, or dZ itself, when wrong)  incoming
//   dZ_l = q_l·(dA_l ⊙ g_l'(Z_l))                                              derivative, deltaScale
//
// Layers are 0-based here, as in the model; findings say them 1-based.
import { biasGradient, transposeTimes, weightGradient } from '../backprop.js';
import type { ForwardCache } from '../forward.js';
import { l2Coefficient, type Grads, type LayerParams, type Model, type Params } from '../model.js';
import { zeros, type Tensor } from '../tensor.js';

/** Everything fixed while chains are compared: the network, its forward pass, the targets. */
export interface Net {
  model: Model;
  params: Params;
  fwd: ForwardCache;
  Y: Tensor;
  m: number;
  /** The right scale of the data term: 1/m (mean) or 1 (sum). */
  s: number;
  /** 2c, the factor of W in the gradient of the penalty c·Σ‖W‖². */
  c2: number;
}

export function netOf(model: Model, params: Params, fwd: ForwardCache, Y: Tensor): Net {
  const m = fwd.samples;
  return { model, params, fwd, Y, m, s: model.reduction === 'mean' ? 1 / m : 1, c2: 2 * l2Coefficient(model, m) };
}

/** How dA_l is made from dZ_{l+1}: W_{l+1}ᵀ·dZ (right), W_{l+1}·dZ, or dZ_{l+1} itself. */
export type Incoming = 'transpose' | 'plain' | 'skip';
/** A matrix of the forward pass: A[index] (A[0] = X) or Z[index]. */
export interface InputRef { kind: 'A' | 'Z'; index: number }
/** The term the code adds for the penalty: β·W (right), β·ΣW in every element, or β·sign(W). */
export type PenaltyForm = 'W' | 'sum' | 'sign';

export interface LayerSteps {
  incoming: Incoming;
  /** The factor the code multiplies dA by, per element; null = the true derivative (softmax: its Jacobian). */
  derivative: Float64Array | null;
  deltaScale: number;
  dW: { input: InputRef; transposed: boolean; s: number; penalty: PenaltyForm; beta: number; k: number };
  db: { s: number; all: boolean; k: number };
}

export interface Chain {
  output: { kind: 'gradient' | 'delta'; values: Float64Array };
  layers: LayerSteps[];
}

/** fn over the output layer's (z, a, y), element by element. */
export function outputValues(net: Net, fn: (z: number, a: number, y: number) => number): Float64Array {
  const L = net.model.layers.length;
  const Z = net.fwd.Z[L - 1].data, A = net.fwd.A[L].data, Y = net.Y.data;
  const out = new Float64Array(A.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(Z[i], A[i], Y[i]);
  return out;
}

/** fn over a layer's (z, a), element by element. */
export function layerValues(net: Net, l: number, fn: (z: number, a: number) => number): Float64Array {
  const Z = net.fwd.Z[l].data, A = net.fwd.A[l + 1].data;
  const out = new Float64Array(Z.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(Z[i], A[i]);
  return out;
}

export function correctChain(net: Net): Chain {
  const { model } = net;
  return {
    output: { kind: 'gradient', values: outputValues(net, (_z, a, y) => model.loss.gradient(a, y)) },
    layers: model.layers.map((_layer, l) => ({
      incoming: 'transpose',
      derivative: null,
      deltaScale: 1,
      dW: { input: { kind: 'A', index: l }, transposed: false, s: net.s, penalty: 'W', beta: net.c2, k: 1 },
      db: { s: net.s, all: false, k: 1 },
    })),
  };
}

/** dZ = q·(dA ⊙ g'(Z)) with the given per-element factor, or q·J_g(Z)ᵀ·dA with the true one. */
export function throughActivation(net: Net, l: number, dA: Tensor, derivative: Float64Array | null, q = 1): Tensor {
  const layer = net.model.layers[l];
  const dZ = zeros(dA.shape);
  if (derivative) {
    for (let i = 0; i < dZ.data.length; i++) dZ.data[i] = dA.data[i] * derivative[i];
  } else {
    layer.activation.backward(net.fwd.Z[l].data, net.fwd.A[l + 1].data, dA.data, dZ.data, layer.units, dA.shape[1]);
  }
  if (q !== 1) for (let i = 0; i < dZ.data.length; i++) dZ.data[i] *= q;
  return dZ;
}

/** The output layer's dZ as the chain makes it. */
export function outputDelta(net: Net, output: Chain['output'], derivative: Float64Array | null, q = 1): Tensor {
  const L = net.model.layers.length;
  const rows = net.model.layers[L - 1].units;
  const given: Tensor = { shape: [rows, net.m], data: output.values };
  if (output.kind === 'gradient') return throughActivation(net, L - 1, given, derivative, q);
  const dZ = zeros([rows, net.m]);
  for (let i = 0; i < dZ.data.length; i++) dZ.data[i] = q * output.values[i];
  return dZ;
}

/** Whether a way of forming dA_l from dZ_{l+1} is possible at all (the shapes must fit). */
export function incomingApplies(net: Net, l: number, how: Incoming): boolean {
  const next = net.model.layers[l + 1];
  if (!next) return false;
  if (how === 'transpose') return true;
  if (how === 'plain') return next.units === next.inputs;
  // dZ_{l+1} used as dA_l: same number of rows, or one row that NumPy broadcasts over the units.
  return next.units === net.model.layers[l].units || next.units === 1;
}

/** dA_l from dZ_{l+1}. */
export function incomingGradient(net: Net, l: number, dZnext: Tensor, how: Incoming): Tensor {
  const W = net.params[l + 1].W;
  if (how === 'transpose') return transposeTimes(W, dZnext);
  const m = dZnext.shape[1];
  const units = net.model.layers[l].units;
  const out = zeros([units, m]);
  if (how === 'plain') {
    // (W·dZ)_i = Σ_k W_ik·dZ_k; only a square W fits.
    const n = W.shape[0];
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const w = W.data[i * n + k];
        if (w === 0) continue;
        for (let c = 0; c < m; c++) out.data[i * m + c] += w * dZnext.data[k * m + c];
      }
    }
    return out;
  }
  for (let i = 0; i < units; i++) {
    const from = dZnext.shape[0] === 1 ? 0 : i;
    out.data.set(dZnext.data.subarray(from * m, (from + 1) * m), i * m);
  }
  return out;
}

export function inputMatrix(net: Net, ref: InputRef): Tensor {
  return ref.kind === 'A' ? net.fwd.A[ref.index] : net.fwd.Z[ref.index];
}

/** P(W): what the code adds, before β, for the penalty. */
export function penaltyTerm(W: Tensor, form: PenaltyForm): Float64Array {
  if (form === 'W') return W.data;
  const out = new Float64Array(W.data.length);
  if (form === 'sign') for (let i = 0; i < out.length; i++) out[i] = Math.sign(W.data[i]);
  else {
    let sum = 0;
    for (const w of W.data) sum += w;
    out.fill(sum);
  }
  return out;
}

/** Pᵀ of a square matrix. */
export function transposed(P: Tensor): Tensor {
  const [rows, cols] = P.shape;
  const out = zeros([cols, rows]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.data[j * rows + i] = P.data[i * cols + j];
  return out;
}

/** dW_l and db_l from the layer's dZ as the steps say. */
export function layerGradients(net: Net, l: number, dZ: Tensor, steps: LayerSteps): { dW: Tensor; db: Tensor | null } {
  const { dW: w, db: b } = steps;
  let P = weightGradient(dZ, inputMatrix(net, w.input), 1);
  if (w.transposed) P = transposed(P);
  const W = net.params[l].W;
  const pen = w.beta !== 0 ? penaltyTerm(W, w.penalty) : null;
  const dW = zeros(W.shape);
  for (let i = 0; i < dW.data.length; i++) dW.data[i] = w.k * (w.s * P.data[i] + (pen ? w.beta * pen[i] : 0));
  let db: Tensor | null = null;
  if (net.params[l].b) {
    db = biasGradient(dZ, 1);
    if (b.all) {
      let total = 0;
      for (const v of db.data) total += v;
      db.data.fill(total);
    }
    for (let i = 0; i < db.data.length; i++) db.data[i] *= b.k * b.s;
  }
  return { dW, db };
}

/** The dZ a chain computes per layer, from the output back. */
export function deltas(net: Net, chain: Chain): Tensor[] {
  const L = net.model.layers.length;
  const out: Tensor[] = new Array(L);
  let dZ = outputDelta(net, chain.output, chain.layers[L - 1].derivative, chain.layers[L - 1].deltaScale);
  for (let l = L - 1; l >= 0; l--) {
    out[l] = dZ;
    if (l > 0) {
      const steps = chain.layers[l - 1];
      dZ = throughActivation(net, l - 1, incomingGradient(net, l - 1, dZ, steps.incoming), steps.derivative, steps.deltaScale);
    }
  }
  return out;
}

/** The gradients a chain computes, and its dZ per layer. */
export function evaluate(net: Net, chain: Chain): { grads: Grads; dZ: Tensor[] } {
  const dZ = deltas(net, chain);
  const layers = dZ.map((d, l) => layerGradients(net, l, d, chain.layers[l]));
  return { grads: layers.map((g): LayerParams => (g.db ? { W: g.dW, b: g.db } : { W: g.dW })), dZ };
}
