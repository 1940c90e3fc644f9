// Backpropagation, either correct or as a user's code does it. A plan says what differs:
// the output gradient (or delta), each layer's activation derivative, the 1/m and the L2 term.
// The correct backprop is the plan with everything left at "the right formula".
//
//   dZ_L = dA_L ⊙ g_L'(Z_L)            (or the declared output delta)
//   dW_l = s·dZ_l·A_{l−1}ᵀ + 2c·W_l      s = 1/m (mean) or 1 (sum), c·Σ‖W‖² the penalty
//   db_l = s·Σ_samples dZ_l
//   dA_{l−1} = W_lᵀ·dZ_l,  dZ_{l−1} = dA_{l−1} ⊙ g_{l−1}'(Z_{l−1})
import type { ForwardCache } from './forward.js';
import { l2Coefficient, type Grads, type Model, type Params, type Reduction } from './model.js';
import { zeros, type Tensor } from './tensor.js';

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

/** dZ = dA ⊙ g'(Z) with the declared derivative, or the true backprop J_g(Z)ᵀ·dA (the record's `backward`). */
function throughActivation(model: Model, l: number, fwd: ForwardCache, dA: Tensor, derivative: Elementwise | null): Tensor {
  const layer = model.layers[l];
  const Z = fwd.Z[l], A = fwd.A[l + 1];
  const dZ = zeros(dA.shape);
  if (derivative) {
    for (let i = 0; i < dZ.data.length; i++) dZ.data[i] = dA.data[i] * derivative(Z.data[i], A.data[i], 0);
  } else {
    layer.activation.backward(Z.data, A.data, dA.data, dZ.data, layer.units, dA.shape[1]);
  }
  return dZ;
}

export function backward(model: Model, params: Params, fwd: ForwardCache, Y: Tensor, plan: BackwardPlan): Grads {
  const L = model.layers.length;
  const m = fwd.samples;
  const s = plan.reduction === 'mean' ? 1 / m : 1;
  const c2 = plan.l2 ? 2 * l2Coefficient(model, m) : 0;
  const grads: Record<string, Tensor>[] = model.layers.map(() => ({}));

  const Zout = fwd.Z[L - 1], Aout = fwd.A[L];
  let dZ: Tensor;
  if (plan.output.kind === 'delta') {
    dZ = zeros([Aout.shape[0], m]);
    for (let i = 0; i < dZ.data.length; i++) dZ.data[i] = plan.output.fn(Zout.data[i], Aout.data[i], Y.data[i]);
  } else {
    const dA = zeros([Aout.shape[0], m]);
    for (let i = 0; i < dA.data.length; i++) dA.data[i] = plan.output.fn(Zout.data[i], Aout.data[i], Y.data[i]);
    dZ = throughActivation(model, L - 1, fwd, dA, plan.derivatives[L - 1]);
  }

  for (let l = L - 1; l >= 0; l--) {
    const Aprev = fwd.A[l];
    const W = params[l].W;
    const dW = weightGradient(dZ, Aprev, s);
    if (c2 !== 0) for (let i = 0; i < W.data.length; i++) dW.data[i] += c2 * W.data[i];
    grads[l].W = dW;
    if (params[l].b) grads[l].b = biasGradient(dZ, s);
    if (l > 0) {
      const dAprev = transposeTimes(W, dZ);
      dZ = throughActivation(model, l - 1, fwd, dAprev, plan.derivatives[l - 1]);
    }
  }
  return grads;
}

/** s·dZ·Aᵀ. */
export function weightGradient(dZ: Tensor, A: Tensor, s: number): Tensor {
  const rows = dZ.shape[0], cols = A.shape[0], m = dZ.shape[1];
  const out = zeros([rows, cols]);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let c = 0; c < m; c++) sum += dZ.data[i * m + c] * A.data[j * m + c];
      out.data[i * cols + j] = s * sum;
    }
  }
  return out;
}

/** s·Σ_columns dZ, as a units × 1 matrix. */
export function biasGradient(dZ: Tensor, s: number): Tensor {
  const [rows, m] = dZ.shape;
  const out = zeros([rows, 1]);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let c = 0; c < m; c++) sum += dZ.data[i * m + c];
    out.data[i] = s * sum;
  }
  return out;
}

/** Wᵀ·dZ. */
export function transposeTimes(W: Tensor, dZ: Tensor): Tensor {
  const m = dZ.shape[1];
  const [rows, cols] = W.shape;
  const out = zeros([cols, m]);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) {
      const w = W.data[i * cols + k];
      if (w === 0) continue;
      for (let c = 0; c < m; c++) out.data[k * m + c] += w * dZ.data[i * m + c];
    }
  }
  return out;
}
