// The forward pass and the cost: each layer entry's two records in order (layers/index.ts),
// Z_l = its type's record of A_{l−1} (dense: W_l·A_{l−1} + b_l), A_l = g_l(Z_l), A_0 = X.
import { entryKinds } from './layers/index.js';
import { l2Coefficient, type Model, type Params } from './model.js';
import type { Tensor } from './tensor.js';

export interface ForwardCache {
  /** A[0] = X, A[l+1] = activation of layer l. */
  A: Tensor[];
  /** Z[l] = pre-activation of layer l. */
  Z: Tensor[];
  /** The data term of the cost (after reduction), without the penalty. */
  dataCost: number;
  /** The cost including the L2 penalty. */
  cost: number;
  samples: number;
}

/** The outputs of entry l's records, in entryKinds order: Z_l (its type's record), A_l (activation). */
export function entryValues(fwd: ForwardCache, l: number): [Tensor, Tensor] {
  return [fwd.Z[l], fwd.A[l + 1]];
}

export function forward(model: Model, params: Params, X: Tensor, Y: Tensor): ForwardCache {
  const m = X.shape[1];
  const A: Tensor[] = [X];
  const Z: Tensor[] = [];
  model.layers.forEach((layer, l) => {
    let x = A[l];
    const [z, a] = entryKinds(layer).map((kind) => (x = kind.forward(layer, x, params[l])));
    Z.push(z);
    A.push(a);
  });
  const out = A[A.length - 1];
  let total = 0;
  for (let i = 0; i < out.data.length; i++) total += model.loss.value(out.data[i], Y.data[i]);
  const dataCost = model.reduction === 'mean' ? total / m : total;
  return { A, Z, dataCost, cost: dataCost + penalty(model, params, m), samples: m };
}

/** c·Σ‖W‖², the L2 part of the cost. */
export function penalty(model: Model, params: Params, m: number): number {
  const c = l2Coefficient(model, m);
  if (c === 0) return 0;
  let sum = 0;
  for (const { W } of params) if (W) for (const w of W.data) sum += w * w;
  return c * sum;
}
