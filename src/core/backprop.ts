// Backpropagation, either correct or as a user's code does it. A plan says what differs:
// the output gradient (or delta), each layer's activation derivative, the 1/m and the L2 term.
// The correct backprop is the plan with everything left at "the right formula".
//
//   dZ_L = dA_L ⊙ g_L'(Z_L)            (or the declared output delta)
//   dW_l = s·dZ_l·A_{l−1}ᵀ + 2c·W_l      s = 1/m (mean) or 1 (sum), c·Σ‖W‖² the penalty
//   db_l = s·Σ_samples dZ_l
//   dA_{l−1} = W_lᵀ·dZ_l,  dZ_{l−1} = dA_{l−1} ⊙ g_{l−1}'(Z_{l−1})
import type { ForwardCache } from './forward.js';
import { l2Coefficient, zeros, type Grads, type Matrix, type Model, type Params, type Reduction } from './model.js';

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
function throughActivation(model: Model, l: number, fwd: ForwardCache, dA: Matrix, derivative: Elementwise | null): Matrix {
  const layer = model.layers[l];
  const Z = fwd.Z[l], A = fwd.A[l + 1];
  const dZ = zeros(dA.rows, dA.cols);
  if (derivative) {
    for (let i = 0; i < dZ.data.length; i++) dZ.data[i] = dA.data[i] * derivative(Z.data[i], A.data[i], 0);
  } else {
    layer.activation.backward(Z.data, A.data, dA.data, dZ.data, layer.units, dA.cols);
  }
  return dZ;
}

export function backward(model: Model, params: Params, fwd: ForwardCache, Y: Matrix, plan: BackwardPlan): Grads {
  const L = model.layers.length;
  const m = fwd.samples;
  const s = plan.reduction === 'mean' ? 1 / m : 1;
  const c2 = plan.l2 ? 2 * l2Coefficient(model, m) : 0;
  const dW: Matrix[] = new Array(L);
  const db: (Matrix | null)[] = new Array(L);

  const Zout = fwd.Z[L - 1], Aout = fwd.A[L];
  let dZ: Matrix;
  if (plan.output.kind === 'delta') {
    dZ = zeros(Aout.rows, m);
    for (let i = 0; i < dZ.data.length; i++) dZ.data[i] = plan.output.fn(Zout.data[i], Aout.data[i], Y.data[i]);
  } else {
    const dA = zeros(Aout.rows, m);
    for (let i = 0; i < dA.data.length; i++) dA.data[i] = plan.output.fn(Zout.data[i], Aout.data[i], Y.data[i]);
    dZ = throughActivation(model, L - 1, fwd, dA, plan.derivatives[L - 1]);
  }

  for (let l = L - 1; l >= 0; l--) {
    const Aprev = fwd.A[l];
    const W = params.W[l];
    dW[l] = weightGradient(dZ, Aprev, s);
    if (c2 !== 0) for (let i = 0; i < W.data.length; i++) dW[l].data[i] += c2 * W.data[i];
    db[l] = params.b[l] ? biasGradient(dZ, s) : null;
    if (l > 0) {
      const dAprev = transposeTimes(W, dZ);
      dZ = throughActivation(model, l - 1, fwd, dAprev, plan.derivatives[l - 1]);
    }
  }
  return { W: dW, b: db };
}

/** s·dZ·Aᵀ. */
export function weightGradient(dZ: Matrix, A: Matrix, s: number): Matrix {
  const rows = dZ.rows, cols = A.rows, m = dZ.cols;
  const out = zeros(rows, cols);
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
export function biasGradient(dZ: Matrix, s: number): Matrix {
  const out = zeros(dZ.rows, 1);
  const m = dZ.cols;
  for (let i = 0; i < dZ.rows; i++) {
    let sum = 0;
    for (let c = 0; c < m; c++) sum += dZ.data[i * m + c];
    out.data[i] = s * sum;
  }
  return out;
}

/** Wᵀ·dZ. */
export function transposeTimes(W: Matrix, dZ: Matrix): Matrix {
  const m = dZ.cols;
  const out = zeros(W.cols, m);
  for (let i = 0; i < W.rows; i++) {
    for (let k = 0; k < W.cols; k++) {
      const w = W.data[i * W.cols + k];
      if (w === 0) continue;
      for (let c = 0; c < m; c++) out.data[k * m + c] += w * dZ.data[i * m + c];
    }
  }
  return out;
}
