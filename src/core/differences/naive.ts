// Reference checkers for the benchmark and the tests; not used by the product.
//
// NaiveDifferences: the straightforward walk over the layer records (layers/), each turning the
// change of its input (and of its parameters) into the change of its output with its own
// cancellation-free `difference` — δZ_k = W_k·δA_{k−1} + δW_k·A_{k−1} + δb_k (dense),
// δA_k = g_k(Z_k + δZ_k) − g_k(Z_k) (activation) — and marking the samples that cross a kink
// (`kinks`); then the loss's `difference`. Every perturbation re-runs every layer densely from the
// first: no caching of the unperturbed layers' changes, no rank-1 shortcut, no batching. The fast
// path must give its numbers.
//
// PlainDifferences: J(θ + h·e) − J(θ − h·e) by two ordinary forward passes and a subtraction
// (sample by sample, kinks refined as in FiniteDifferences), for context: it shows the digits
// that difference propagation keeps.
//
// Both are difference sources (source.ts) that answer element questions only: their classes
// inherit FiniteDifferences' batched and directional paths, which are the propagated arithmetic,
// not theirs, so the sources leave them out and a check falls back to element() one by one.
import { entryValues, forward, type ForwardCache } from '../forward.js';
import { entryKinds } from '../layers/index.js';
import { l2Coefficient, type Model, type Params } from '../model.js';
import { clone, cols as colsOf, zeros, type Tensor } from '../tensor.js';
import { elementOf, FiniteDifferences } from './propagated.js';
import type { DifferenceSource } from './source.js';

/** The naive reference as a source: every perturbation through every layer, densely. */
export function naiveSource(at: { model: Model; params: Params; Y: Tensor }, fwd: ForwardCache): DifferenceSource {
  return { element: elementOf(new NaiveDifferences(at.model, at.params, fwd, at.Y), at.params) };
}

/** Plain subtraction, sample by sample, as a source. */
export function perSamplePlainSource(at: { model: Model; params: Params; Y: Tensor }, fwd: ForwardCache): DifferenceSource {
  return { element: elementOf(new PlainDifferences(at.model, at.params, fwd, at.Y), at.params) };
}

export class NaiveDifferences extends FiniteDifferences {
  /** recordChanges[k][r]: the change of record r's output in entry k (entryKinds order: δZ_k, δA_k). */
  private readonly recordChanges: Float64Array[][];
  private readonly zeroInput: Float64Array;
  /** Per entry, a zero tensor shaped like each parameter: δθ, set to h at one element while it is used. */
  private readonly steps: Record<string, Tensor>[];

  constructor(model: Model, params: Params, fwd: ForwardCache, Y: Tensor) {
    super(model, params, fwd, Y);
    const m = fwd.samples;
    this.recordChanges = model.layers.map((_layer, l) => entryValues(fwd, l).map((v) => new Float64Array(v.data.length)));
    this.zeroInput = new Float64Array(model.inputs * m);
    this.steps = params.map((p) => Object.fromEntries(Object.entries(p).map(([name, t]) => [name, zeros(t.shape)])));
  }

  override costChange(layer: number, kind: string, row: number, col: number, h: number): number {
    const { model, params, fwd } = this;
    const m = fwd.samples;
    const L = model.layers.length;
    this.colKink.fill(0);
    // δθ = h at (row, col) of the perturbed tensor, zero elsewhere; every other tensor unchanged.
    const step = this.steps[layer][kind];
    const at = row * colsOf(step) + col;
    step.data[at] = h;
    let x: Tensor = fwd.A[0];
    let dx = this.zeroInput;
    for (let k = 0; k < L; k++) {
      const entry = model.layers[k];
      const values = entryValues(fwd, k);
      const dp = k === layer ? { [kind]: step } : null;
      entryKinds(entry).forEach((record, r) => {
        const out = this.recordChanges[k][r];
        record.difference(entry, x, values[r], dx, params[k], dp, out);
        record.kinks(entry, x, dx, 0, dx.length, this.colKink);
        x = values[r];
        dx = out;
      });
    }
    step.data[at] = 0;
    const out = fwd.A[L].data, Y = this.Y.data;
    this.colChange.fill(0);
    for (let r = 0; r < model.layers[L - 1].units; r++) {
      for (let c = 0; c < m; c++) this.colChange[c] += model.loss.difference(out[r * m + c], Y[r * m + c], dx[r * m + c]);
    }
    let total = 0;
    for (let c = 0; c < m; c++) total += this.colChange[c];
    return (model.reduction === 'mean' ? total / m : total) + penaltyChange(model, params, m, layer, kind, row, col, h);
  }
}

export class PlainDifferences extends FiniteDifferences {
  override costChange(layer: number, kind: string, row: number, col: number, h: number): number {
    const { model, params, fwd } = this;
    const m = fwd.samples;
    const t = clone(params[layer][kind]);
    t.data[row * t.shape[1] + col] += h;
    const moved: Params = params.map((p, l) => (l === layer ? { ...p, [kind]: t } : p));
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
function penaltyChange(model: Model, params: Params, m: number, layer: number, kind: string, row: number, col: number, h: number): number {
  const c = l2Coefficient(model, m);
  if (kind !== 'W' || c === 0) return 0;
  const W = params[layer].W;
  const w = W.data[row * W.shape[1] + col];
  return c * h * (2 * w + h);
}
