// Reference checkers for the benchmark and the tests; not used by the product.
//
// NaiveDifferences: the same difference arithmetic as FiniteDifferences (each activation's and
// the loss's cancellation-free `difference`), but every perturbation re-runs every layer densely
// from the first: δZ_k = W_k·δA_{k−1} + δW_k·A_{k−1} + δb_k, δA_k = g_k(Z_k + δZ_k) − g_k(Z_k).
// No caching of the unperturbed layers' changes, no rank-1 shortcut, no batching. The fast
// path must give its numbers.
//
// PlainDifferences: J(θ + h·e) − J(θ − h·e) by two ordinary forward passes and a subtraction,
// for context: it shows the digits that difference propagation keeps.
import { forward, type ForwardCache } from '../forward.js';
import { cloneMatrix, l2Coefficient, type Matrix, type Model, type ParamKind, type Params } from '../model.js';
import { FiniteDifferences } from './propagated.js';

export class NaiveDifferences extends FiniteDifferences {
  private readonly denseZ: Float64Array[];
  private readonly denseA: Float64Array[];
  private readonly zeroInput: Float64Array;

  constructor(model: Model, params: Params, fwd: ForwardCache, Y: Matrix) {
    super(model, params, fwd, Y);
    const m = fwd.samples;
    this.denseZ = model.layers.map((layer) => new Float64Array(layer.units * m));
    this.denseA = model.layers.map((layer) => new Float64Array(layer.units * m));
    this.zeroInput = new Float64Array(model.inputs * m);
  }

  override costChange(layer: number, kind: ParamKind, row: number, col: number, h: number): number {
    const { model, params, fwd } = this;
    const m = fwd.samples;
    const L = model.layers.length;
    this.colKink.fill(0);
    let prev = this.zeroInput;
    for (let k = 0; k < L; k++) {
      const W = params.W[k];
      const dZ = this.denseZ[k];
      const A = fwd.A[k].data;
      for (let r = 0; r < W.rows; r++) {
        for (let c = 0; c < m; c++) {
          let z = 0;
          for (let q = 0; q < W.cols; q++) z += W.data[r * W.cols + q] * prev[q * m + c];
          if (k === layer) {
            // δW·A_{k−1} with δW = h at (row, col), zero elsewhere; δb = h at row.
            if (kind === 'W') for (let q = 0; q < W.cols; q++) z += (r === row && q === col ? h : 0) * A[q * m + c];
            else z += r === row ? h : 0;
          }
          dZ[r * m + c] = z;
        }
      }
      const act = model.layers[k].activation;
      const dA = this.denseA[k];
      const Z = fwd.Z[k].data;
      act.columnDifference(Z, fwd.A[k + 1].data, dZ, dA, W.rows, m);
      for (let i = 0; i < dZ.length; i++) {
        for (const kink of act.kinks) {
          if (dZ[i] !== 0 && (Z[i] > kink !== Z[i] + dZ[i] > kink || Z[i] === kink)) this.colKink[i % m] = 1;
        }
      }
      prev = dA;
    }
    const out = fwd.A[L].data, Y = this.Y.data;
    this.colChange.fill(0);
    for (let r = 0; r < model.layers[L - 1].units; r++) {
      for (let c = 0; c < m; c++) this.colChange[c] += model.loss.difference(out[r * m + c], Y[r * m + c], prev[r * m + c]);
    }
    let total = 0;
    for (let c = 0; c < m; c++) total += this.colChange[c];
    return (model.reduction === 'mean' ? total / m : total) + penaltyChange(model, params, m, layer, kind, row, col, h);
  }
}

export class PlainDifferences extends FiniteDifferences {
  override costChange(layer: number, kind: ParamKind, row: number, col: number, h: number): number {
    const { model, params, fwd } = this;
    const m = fwd.samples;
    const moved: Params = { W: params.W.slice(), b: params.b.slice() };
    const t = cloneMatrix(kind === 'W' ? params.W[layer] : params.b[layer]!);
    t.data[row * t.cols + col] += h;
    if (kind === 'W') moved.W[layer] = t;
    else moved.b[layer] = t;
    const after = forward(model, moved, fwd.A[0], this.Y);
    const L = model.layers.length;
    const units = model.layers[L - 1].units;
    const Y = this.Y.data;
    this.colKink.fill(0);
    for (let k = 0; k < L; k++) {
      const kinks = model.layers[k].activation.kinks;
      const Z0 = fwd.Z[k].data, Z1 = after.Z[k].data;
      for (let i = 0; i < Z0.length; i++) {
        for (const kink of kinks) if (Z0[i] !== Z1[i] && (Z0[i] > kink !== Z1[i] > kink || Z0[i] === kink)) this.colKink[i % m] = 1;
      }
    }
    for (let c = 0; c < m; c++) {
      let before = 0, now = 0;
      for (let r = 0; r < units; r++) {
        before += model.loss.value(fwd.A[L].data[r * m + c], Y[r * m + c]);
        now += model.loss.value(after.A[L].data[r * m + c], Y[r * m + c]);
      }
      this.colChange[c] = now - before;
    }
    return after.cost - fwd.cost;
  }
}

/** c·((w + h)² − w²) = c·h·(2w + h) for a weight; biases are not regularised. */
function penaltyChange(model: Model, params: Params, m: number, layer: number, kind: ParamKind, row: number, col: number, h: number): number {
  const c = l2Coefficient(model, m);
  if (kind !== 'W' || c === 0) return 0;
  const W = params.W[layer];
  const w = W.data[row * W.cols + col];
  return c * h * (2 * w + h);
}
