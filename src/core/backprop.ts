// Backpropagation: one walk back over the layer records (layers/), with a hook at each place a
// user's code can differ from the records' own formulas. The hooks are data, a Chain: per layer
// entry, what the code does at each step.
//
//   dZ_L = q_L·(dA_L ⊙ g_L'(Z_L))            or a delta written directly     output, derivative
//   dW_l = k·(s·dZ_l·S_lᵀ + β·P(W_l))        S_l = A_{l−1}, P(W) = W, β = 2c   dW
//   db_l = k·s·Σ_samples dZ_l                 (Σ dA_l, before g', when wrong)  db
//   dA_l = W_{l+1}ᵀ·dZ_{l+1}                 (W·dZ, or dZ itself, when wrong)  incoming
//   dZ_l = q_l·(dA_l ⊙ g_l'(Z_l))                                              derivative, deltaScale
//
// s = 1/m (mean) or 1 (sum), c·Σ‖W‖² the penalty. With every hook at the records' formula
// (correctChain) this is correct backprop; a declared `backward` block (BackwardPlan) sets the
// output, the derivatives, s and β (planChain); the diagnosis mutates chains (diagnose/mutations.ts)
// and the detection matrix injects its mistakes as one (tools/matrix.ts). The same walk in
// magnitudes (magnitudesOf) is backprop in absolute values, which bounds the rounding of the
// gradient's sums (check/resolution.ts). Layers are 0-based here, as in the model; findings say
// them 1-based.
//
// Entries of other types (conv2d, pooling, normalisation, dropout, flatten: layers/) go through
// the same walk: their record's backward gives dA_{l−1} and their parameters' gradients (γ, β …
// scaled by s like W), and the `mistake` hook replaces that backward by one of the record's own
// mistaken ones (kind.ts, `mistakes`). The dW hooks that only a dense W has (its input, transposed,
// the penalty's form) apply to dense entries; a conv2d W gets s, k and the penalty 2c·W.
import type { ForwardCache } from './forward.js';
import { biasGradient } from './layers/dense.js';
import { hookScales } from './layers/dense-kernel.js';
import { activation, dense, kindOf, typeOf, type Backward, type Layer, type LayerKind, type TensorSet } from './layers/index.js';
import { backwardMagnitude } from './layers/activation.js';
import { l2Coefficient, mapTensors, type Grads, type LayerParams, type Model, type Params, type Reduction } from './model.js';
import { zeros, type Tensor } from './tensor.js';

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
  /**
   * Whether the walk is in magnitudes (magnitudesOf): params holds |W|, the dense steps read |A|
   * (or |Z|), and each activation is taken through its backwardMagnitude. false for every backprop.
   */
  magnitudes: boolean;
  /** How the user's arrays are laid out (net.json "layout"), for the fixes' NumPy; absent: columns. */
  layout?: 'columns' | 'rows';
}

export function netOf(model: Model, params: Params, fwd: ForwardCache, Y: Tensor): Net {
  const m = fwd.samples;
  return { model, params, fwd, Y, m, s: model.reduction === 'mean' ? 1 / m : 1, c2: 2 * l2Coefficient(model, m), magnitudes: false };
}

/** |t|, element by element. */
function absolute(t: Tensor): Tensor {
  return { ...t, data: t.data.map(Math.abs) };
}

/**
 * The net for the walk in magnitudes. Every term of backprop is a product of a weight or an input
 * with a delta, or an activation's Jacobian with a delta; from a delta of magnitudes, the walk on
 * |W| and |A|, with each activation's backwardMagnitude, gives per element the sum of the
 * magnitudes of the terms whose signed sum the walk on the net gives (penalty: 2c·|W|). The
 * forward values the activations read stay signed (ELU's g' = a + α reads a < 0).
 */
export function magnitudesOf(net: Net): Net {
  return { ...net, params: mapTensors(net.params, absolute), magnitudes: true };
}

/** How dA_l is made from dZ_{l+1}: W_{l+1}ᵀ·dZ (right), W_{l+1}·dZ, or dZ_{l+1} itself. */
export type Incoming = 'transpose' | 'plain' | 'skip';
/** A matrix of the forward pass: A[index] (A[0] = X) or Z[index]. */
export interface InputRef { kind: 'A' | 'Z'; index: number }
/** The term the code adds for the penalty: β·W (right), β·ΣW in every element, or β·sign(W). */
export type PenaltyForm = 'W' | 'sum' | 'sign';

/** The hooks of one layer entry. */
export interface LayerSteps {
  incoming: Incoming;
  /**
   * The id of one of the entry's record's mistaken backwards (its kind's `mistakes`), used for both
   * dA_{l−1} and the entry's parameter gradients; absent: the record's own backward.
   */
  mistake?: string;
  /** The factor the code multiplies dA by, per element; null = the record's backward (softmax: its Jacobian). */
  derivative: Float64Array | null;
  deltaScale: number;
  dW: { input: InputRef; transposed: boolean; s: number; penalty: PenaltyForm; beta: number; k: number };
  /** fromA: db sums dA_l, the gradient before the derivative, instead of dZ_l (a hidden dense layer). */
  db: { s: number; all: boolean; k: number; fromA?: boolean };
}

/** A backprop as data: the output hook and each entry's hooks. */
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

/** The hooks of one entry left at the records' formulas. */
function rightSteps(net: Net, l: number): LayerSteps {
  return {
    incoming: 'transpose',
    derivative: null,
    deltaScale: 1,
    dW: { input: { kind: 'A', index: l }, transposed: false, s: net.s, penalty: 'W', beta: net.c2, k: 1 },
    db: { s: net.s, all: false, k: 1 },
  };
}

/** Correct backprop: dL/da from the loss record, every other hook at the records' formulas. */
export function correctChain(net: Net): Chain {
  const { model } = net;
  return {
    output: { kind: 'gradient', values: outputValues(net, (_z, a, y) => model.loss.gradient(a, y)) },
    layers: model.layers.map((_layer, l) => rightSteps(net, l)),
  };
}

/**
 * dZ = q·(dA ⊙ factor) with the given per-element factor, or q·J_g(Z)ᵀ·dA by the activation record
 * (in magnitudes: the record's backwardMagnitude).
 */
export function throughActivation(net: Net, l: number, dA: Tensor, derivative: Float64Array | null, q = 1): Tensor {
  let dZ: Tensor;
  if (derivative) {
    dZ = zeros(dA.shape);
    for (let i = 0; i < dZ.data.length; i++) dZ.data[i] = dA.data[i] * derivative[i];
  } else {
    const layer = net.model.layers[l];
    const Z = net.fwd.Z[l], A = net.fwd.A[l + 1];
    dZ = net.magnitudes ? backwardMagnitude(layer, Z, A, dA) : activation.backward(layer, Z, A, dA, {}, net.s).dx();
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

/** The backward of an entry's type record, or the mistaken one the hook names. */
export function recordBackward(kind: LayerKind, layer: Layer, x: Tensor, y: Tensor, dy: Tensor, p: TensorSet, s: number, mistake?: string): Backward {
  if (mistake === undefined) return kind.backward(layer, x, y, dy, p, s);
  const mistaken = kind.mistakes?.[mistake];
  if (!mistaken) throw new Error(`internal: layer kind ${kind.name} has no mistake ${mistake}`);
  return mistaken.backward(layer, x, y, dy, p, s);
}

/**
 * dA_l from dZ_{l+1}: the next entry's record's backward (dense: Wᵀ·dZ), or what a code does
 * instead (`how`, for a dense next entry; `mistake`, the next entry's mistaken backward).
 */
export function incomingGradient(net: Net, l: number, dZnext: Tensor, how: Incoming, mistake?: string): Tensor {
  const next = l + 1;
  const layer = net.model.layers[next];
  if (how === 'transpose') {
    const kind = kindOf(layer);
    const x = net.fwd.A[next], y = net.fwd.Z[next], p = net.params[next];
    if (net.magnitudes && kind.backwardMagnitude && mistake === undefined) return kind.backwardMagnitude(layer, x, y, dZnext, p);
    return recordBackward(kind, layer, x, y, dZnext, p, net.s, mistake).dx();
  }
  const W = net.params[next].W;
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

/** The forward matrix a dW step reads (in magnitudes, its |·|). */
export function inputMatrix(net: Net, ref: InputRef): Tensor {
  const M = ref.kind === 'A' ? net.fwd.A[ref.index] : net.fwd.Z[ref.index];
  return net.magnitudes ? absolute(M) : M;
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

/** Pᵀ of a matrix. */
export function transposed(P: Tensor): Tensor {
  const [rows, cols] = P.shape;
  const out = zeros([cols, rows]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.data[j * rows + i] = P.data[i * cols + j];
  return out;
}

/**
 * dW_l and db_l from the layer's dZ as the steps say: the dense record's Σ_samples dZ·Sᵀ and
 * Σ_samples dZ (s = 1), then the hooks' scales and penalty. With the right steps each element is
 * 1·(s·Σ + 2c·w) (1·(s·Σ) without a penalty) and Σ·(1·s): bit for bit s·Σ + 2c·w and s·Σ.
 */
export function layerGradients(net: Net, l: number, dZ: Tensor, steps: LayerSteps, dA?: Tensor): { dW: Tensor; db: Tensor | null } {
  const { dW: w, db: b } = steps;
  if (typeOf(net.model.layers[l]) !== 'dense' || steps.mistake !== undefined) {
    throw new Error('internal: layerGradients is the dense hooks’ step; entryGradients takes every kind');
  }
  const back = dense.backward(net.model.layers[l], inputMatrix(net, w.input), net.fwd.Z[l], dZ, net.params[l], 1);
  let P = back.dparams.W();
  if (w.transposed) P = transposed(P);
  const W = net.params[l].W;
  const pen = w.beta !== 0 ? penaltyTerm(W, w.penalty) : null;
  const dW = zeros(W.shape);
  // The hooks' numbers read once, outside the loops (this runs before V8 has optimised it).
  const out = dW.data, p = P.data, k = w.k, s = w.s, beta = w.beta;
  // By the dense kernel where it runs (the same operations), else these loops.
  if (!hookScales(p, pen, k, s, beta, out)) {
    if (pen) for (let i = 0; i < out.length; i++) out[i] = k * (s * p[i] + beta * pen[i]);
    else for (let i = 0; i < out.length; i++) out[i] = k * (s * p[i]);
  }
  let db: Tensor | null = null;
  if (back.dparams.b) {
    db = b.fromA && dA ? biasGradient(dA, 1) : back.dparams.b();
    const d = db.data;
    if (b.all) {
      let total = 0;
      for (let i = 0; i < d.length; i++) total += d[i];
      d.fill(total);
    }
    const scale = b.k * b.s;
    for (let i = 0; i < d.length; i++) d[i] *= scale;
  }
  return { dW, db };
}

/**
 * Entry l's parameter gradients from its dZ as the steps say: layerGradients for a dense entry
 * with its own backward; otherwise the record's (or its mistaken) backward with s = 1, each
 * gradient then scaled as layerGradients scales: b by the db hook, W by the dW hook's k, s and the
 * penalty 2c·W (β·W), every other parameter (γ, β) by the dW hook's k and s.
 */
export function entryGradients(net: Net, l: number, dZ: Tensor, steps: LayerSteps, dA?: Tensor): LayerParams {
  const layer = net.model.layers[l];
  if (typeOf(layer) === 'dense' && steps.mistake === undefined) {
    const g = layerGradients(net, l, dZ, steps, dA);
    return g.db ? { W: g.dW, b: g.db } : { W: g.dW };
  }
  const { dW: w, db: b } = steps;
  const kind = kindOf(layer);
  const x = net.fwd.A[l], y = net.fwd.Z[l], p = net.params[l];
  const dparams =
    !net.magnitudes ? recordBackward(kind, layer, x, y, dZ, p, 1, steps.mistake).dparams
    : kind.paramMagnitudes ? kind.paramMagnitudes(layer, x, y, dZ, p)
    : kind.backward(layer, absolute(x), y, dZ, p, 1).dparams;
  const out: Record<string, Tensor> = {};
  for (const [name, grad] of Object.entries(dparams)) {
    const g = grad();
    if (name === 'b') {
      for (let i = 0; i < g.data.length; i++) g.data[i] *= b.k * b.s;
    } else if (name === 'W' && w.beta !== 0) {
      const W = net.params[l].W.data;
      for (let i = 0; i < g.data.length; i++) g.data[i] = w.k * (w.s * g.data[i] + w.beta * W[i]);
    } else {
      for (let i = 0; i < g.data.length; i++) g.data[i] = w.k * (w.s * g.data[i]);
    }
    out[name] = g;
  }
  return out;
}

/** The dZ a chain computes per layer, from the output back. */
export function deltas(net: Net, chain: Chain): Tensor[] {
  return walk(net, chain).dZ;
}

/** The dZ per layer, and the dA each hidden layer's dZ was made from (absent at the output). */
function walk(net: Net, chain: Chain): { dZ: Tensor[]; dA: (Tensor | undefined)[] } {
  const L = net.model.layers.length;
  const out: Tensor[] = new Array(L);
  const dAs: (Tensor | undefined)[] = new Array(L);
  let dZ = outputDelta(net, chain.output, chain.layers[L - 1].derivative, chain.layers[L - 1].deltaScale);
  for (let l = L - 1; l >= 0; l--) {
    out[l] = dZ;
    if (l > 0) {
      const steps = chain.layers[l - 1];
      dAs[l - 1] = incomingGradient(net, l - 1, dZ, steps.incoming, chain.layers[l].mistake);
      dZ = throughActivation(net, l - 1, dAs[l - 1]!, steps.derivative, steps.deltaScale);
    }
  }
  return { dZ: out, dA: dAs };
}

/** The gradients a chain computes, and its dZ per layer: the one backprop walk. */
export function evaluate(net: Net, chain: Chain): { grads: Grads; dZ: Tensor[] } {
  const { dZ, dA } = walk(net, chain);
  return { grads: dZ.map((d, l) => entryGradients(net, l, d, chain.layers[l], dA[l])), dZ };
}

// ---- a backprop as a spec's `backward` block declares it ---------------------------------------

export type Elementwise = (z: number, a: number, y: number) => number;

export interface BackwardPlan {
  /** dL/da (then times the output derivative) or dL/dz directly, per output unit. */
  output: { kind: 'gradient'; fn: Elementwise } | { kind: 'delta'; fn: Elementwise };
  /** Per layer: the derivative the code uses, or null for the true one (softmax: its Jacobian). */
  derivatives: (Elementwise | null)[];
  reduction: Reduction;
  /** Whether dW includes the gradient of the L2 penalty. */
  l2: boolean;
}

export function correctPlan(model: Model): BackwardPlan {
  return {
    output: { kind: 'gradient', fn: (_z, a, y) => model.loss.gradient(a, y) },
    derivatives: model.layers.map(() => null),
    reduction: model.reduction,
    l2: true,
  };
}

/** The chain a plan describes: its output and derivatives as values, its reduction as s, its L2 as β. */
export function planChain(net: Net, plan: BackwardPlan): Chain {
  const s = plan.reduction === 'mean' ? 1 / net.m : 1;
  const beta = plan.l2 ? net.c2 : 0;
  const fn = plan.output.fn;
  return {
    output: { kind: plan.output.kind, values: outputValues(net, fn) },
    layers: net.model.layers.map((_layer, l) => {
      const steps = rightSteps(net, l);
      const d = plan.derivatives[l];
      return {
        ...steps,
        derivative: d ? layerValues(net, l, (z, a) => d(z, a, 0)) : null,
        dW: { ...steps.dW, s, beta },
        db: { ...steps.db, s },
      };
    }),
  };
}

/** The gradients a plan computes (correctPlan: correct backprop). */
export function backward(model: Model, params: Params, fwd: ForwardCache, Y: Tensor, plan: BackwardPlan): Grads {
  const net = netOf(model, params, fwd, Y);
  return evaluate(net, planChain(net, plan)).grads;
}
