// Central finite differences of the cost, (J(θ + h·e) − J(θ − h·e)) / 2h, for one element at a time.
//
// Accuracy: J itself is never subtracted. The perturbation's effect is carried forward as a
// difference from the cached unperturbed pass (δZ, δA), and each activation and loss turns a
// difference into a difference without cancellation (their `difference` records). In exact
// arithmetic this is the same quotient as subtracting two costs; in float64 it keeps ~15 digits
// even when J ≈ 0.69 and the gradient is 1e-7, where plain subtraction keeps three or four.
//
// Speed: only what the perturbation changes is recomputed. W_l[i][j] changes one row of Z_l
// (by h·A_{l−1}[j, :]), so layer l+1 sees a rank-1 change; later layers are dense. `elements`
// goes further and runs all the perturbations of one row together (dense-rows.ts), with the
// same arithmetic, so the same numbers.
import { denseTimes, scaledOuter } from '../layers/dense-kernel.js';
import { allDense, entryParams, entryWork } from '../layers/index.js';
import { differenceAndKinks } from '../layers/activation.js';
import type { ForwardCache } from '../forward.js';
import type { ElementwiseActivation } from '../records/activations.js';
import { l2Coefficient, tensorOf, type Model, type Params } from '../model.js';
import { cols as colsOf, size, type Tensor } from '../tensor.js';
import { isZeroClean, RowBatch } from './dense-rows.js';
import { LossColumns, PreparedBlock } from './rows-kernel.js';
import { namedLoss } from '../records/losses.js';
import { alongDirection, type DifferenceSource, type Direction, type ElementDifference, type TensorRef } from './source.js';

/** Σ V_ij·(2·W_ij + h·V_ij): the L2 sum ‖W‖² changes by h times this along V. */
export function penaltyAlong(W: Tensor, V: Direction, h: number): number {
  if (V instanceof Float64Array) {
    let s = 0;
    for (let i = 0; i < V.length; i++) s += V[i] * (2 * W.data[i] + h * V[i]);
    return s;
  }
  let uu = 0, vv = 0;
  for (const x of V.u) uu += x * x;
  for (const x of V.v) vv += x * x;
  return 2 * alongDirection(W.data, V) + h * uu * vv;
}

/**
 * Roughly the multiply-adds a full (or sample-mode) check costs: each element's two perturbations
 * carried through the layers after it, for every sample. For budgets: whether worker threads pay
 * off, how long a check will take.
 */
export function checkWork(model: Model, samples: number, options: { mode: string; samples: number }): number {
  const L = model.layers.length;
  const dense = allDense(model.layers);
  let work = 0;
  for (let l = 0; l < L; l++) {
    const layer = model.layers[l];
    // Dense: layer l+1 sees a rank-1 change, the ones after it dense changes (their records' work),
    // then the loss. Other kinds (layered.ts): at most every later record's work, and the entry's own output.
    let after = model.layers[L - 1].units;
    if (!dense) after += layer.units;
    else if (l + 1 < L) after += model.layers[l + 1].units;
    for (let k = dense ? l + 2 : l + 1; k < L; k++) after += entryWork(model.layers[k]);
    const sizes = entryParams(layer).map((p) => size(p.shape));
    const elements = sizes.reduce((n, t) => n + (options.mode === 'full' ? t : Math.min(options.samples, t)), 0);
    work += elements * 2 * samples * after;
  }
  return work;
}

/**
 * The propagated source (source.ts) on the forward pass cached at the checked weights: every
 * question a check asks, with the row batching of dense-rows.ts as its `elements`.
 */
export function propagatedSource(at: { model: Model; params: Params; Y: Tensor }, fwd: ForwardCache): DifferenceSource {
  const fd = new FiniteDifferences(at.model, at.params, fwd, at.Y);
  return {
    element: elementOf(fd, at.params),
    elements: (t, indices, h) => {
      // The batch is one row of the tensor: split the flat indices into runs of one row each.
      const cols = colsOf(tensorOf(at.params, t));
      const out: ElementDifference[] = [];
      for (let k = 0; k < indices.length;) {
        const row = Math.floor(indices[k] / cols), inRow: number[] = [];
        for (; k < indices.length && Math.floor(indices[k] / cols) === row; k++) inRow.push(indices[k] % cols);
        out.push(...fd.elements(t.layer, t.name, row, inRow, h));
      }
      return out;
    },
    direction: (t, v, h) => fd.direction(t.layer, t.name, v, h),
    change: (t, v, h) => fd.directionChange(t.layer, t.name, v, h),
  };
}

/** FiniteDifferences.element (or a reference's, naive.ts) as a source's: at a flat index of the tensor. */
export function elementOf(fd: FiniteDifferences, params: Params): DifferenceSource['element'] {
  return (t: TensorRef, index: number, h: number) => {
    const cols = colsOf(tensorOf(params, t));
    return fd.element(t.layer, t.name, Math.floor(index / cols), index % cols, h);
  };
}

/** Each refinement divides the step by 10; six of them go from 1e-6 to 1e-12. */
const MAX_REFINEMENTS = 6;
/** A layer's prepared constants at most, in doubles (32 MB); a larger layer steps without them. */
const MAX_CONSTANTS = 1 << 22;

export class FiniteDifferences {
  protected readonly m: number;
  private readonly dZ: Float64Array[];
  private readonly dA: Float64Array[];
  /** The L2 coefficient c of c·Σ‖W‖² for these samples. */
  protected readonly c: number;
  /** Per sample: the change of its loss term, and whether a pre-activation crossed a kink. */
  protected readonly colChange: Float64Array;
  protected readonly colKink: Uint8Array;
  private readonly plus: Float64Array;
  private readonly minus: Float64Array;
  private readonly crossed: Uint8Array;
  /**
   * Per layer: its prepared constants (constantsOf), in the WebAssembly kernel's memory where it
   * runs, null where it has none, undefined until asked.
   */
  private readonly constants: (Float64Array | PreparedBlock | null | undefined)[];

  /** The batched path, or null when the network is not zero-clean (see dense-rows.ts). */
  private batch: RowBatch | null | undefined;
  /** The loss's changes in the kernel (lossColumns), null where it has no kernelForm or no kernel runs; undefined until asked. */
  private lossKernel: LossColumns | null | undefined;

  constructor(
    protected readonly model: Model,
    protected readonly params: Params,
    protected readonly fwd: ForwardCache,
    protected readonly Y: Tensor,
  ) {
    this.m = fwd.samples;
    this.dZ = model.layers.map((layer) => new Float64Array(layer.units * this.m));
    this.dA = model.layers.map((layer) => new Float64Array(layer.units * this.m));
    this.c = l2Coefficient(model, this.m);
    this.colChange = new Float64Array(this.m);
    this.colKink = new Uint8Array(this.m);
    this.plus = new Float64Array(this.m);
    this.minus = new Float64Array(this.m);
    this.crossed = new Uint8Array(this.m);
    this.constants = model.layers.map(() => undefined);
  }

  /**
   * The central difference for element (row, col) of W_layer or b_layer.
   *
   * Samples are independent through the network, so the quotient is a sum of per-sample
   * quotients. A sample whose pre-activation crossed a kink (ReLU at 0) in the + or − evaluation
   * is differenced again with the step shrunk by 10× until it no longer crosses; only a
   * pre-activation sitting exactly on the kink (not differentiable there) stays a kink.
   */
  element(layer: number, kind: string, row: number, col: number, h: number): ElementDifference {
    const m = this.m;
    const plus = this.plus, minus = this.minus, crossed = this.crossed;
    this.costChange(layer, kind, row, col, h);
    plus.set(this.colChange);
    crossed.set(this.colKink);
    this.costChange(layer, kind, row, col, -h);
    minus.set(this.colChange);
    let sum = 0, low = 0, high = 0, kinkLeft = false, refined = false;
    for (let c = 0; c < m; c++) {
      if (crossed[c] || this.colKink[c]) { refined = true; continue; }
      sum += (plus[c] - minus[c]) / (2 * h);
    }
    if (refined) {
      for (let c = 0; c < m; c++) crossed[c] = crossed[c] | this.colKink[c];
      ({ sum, low, high, kink: kinkLeft } = this.refineCrossed(crossed, h, sum, plus, (step) => this.costChange(layer, kind, row, col, step)));
    }
    const s = this.model.reduction === 'mean' ? 1 / m : 1;
    const numeric = s * (sum + (low + high) / 2) + this.penaltyQuotient(layer, kind, row, col);
    return { numeric, kink: kinkLeft, refined, spread: (s * (high - low)) / 2 };
  }

  /**
   * The samples marked in `crossed` (their step crossed a kink), differenced again with the step
   * shrunk 10× at a time until they no longer cross; `evaluate(step)` leaves each sample's change
   * of its loss term in colChange and its kink flags in colKink, and `plus` is scratch space. The
   * quotients are added to `sum` in sample order, as before the refinement. Samples still
   * crossing at the smallest step sit exactly on a kink: any value between their one-sided
   * quotients (the subgradients) is right for them, so their interval is returned as low … high.
   */
  private refineCrossed(crossed: Uint8Array, h: number, sum: number, plus: Float64Array, evaluate: (step: number) => void) {
    const m = this.m;
    let step = h, low = 0, high = 0, kink = false;
    for (let k = 0; k < MAX_REFINEMENTS && crossed.includes(1); k++) {
      step /= 10;
      evaluate(step);
      plus.set(this.colChange);
      const kp = Uint8Array.from(this.colKink);
      evaluate(-step);
      for (let c = 0; c < m; c++) {
        if (!crossed[c] || kp[c] || this.colKink[c]) continue;
        sum += (plus[c] - this.colChange[c]) / (2 * step);
        crossed[c] = 0;
      }
    }
    if (crossed.includes(1)) {
      kink = true;
      evaluate(step);
      plus.set(this.colChange);
      evaluate(-step);
      for (let c = 0; c < m; c++) {
        if (!crossed[c]) continue;
        const right = plus[c] / step, left = -this.colChange[c] / step;
        low += Math.min(left, right);
        high += Math.max(left, right);
      }
    }
    return { sum, low, high, kink };
  }

  /**
   * element(layer, kind, row, cols[k], h) for every k, computed together: the same numbers.
   * Elements where some sample meets a kink go through element() itself, for its refinement.
   */
  elements(layer: number, kind: string, row: number, cols: ArrayLike<number>, h: number): ElementDifference[] {
    if (this.batch === undefined) {
      this.batch = isZeroClean(this.model, this.params, this.fwd, this.Y) ? new RowBatch(this.model, this.params, this.fwd, this.Y) : null;
    }
    const out: ElementDifference[] = [];
    if (this.batch === null) {
      for (let k = 0; k < cols.length; k++) out.push(this.element(layer, kind, row, cols[k], h));
      return out;
    }
    const m = this.m;
    const changes = this.batch.changesFor(cols.length);
    changes.crossed.fill(0, 0, cols.length);
    this.batch.run(layer, kind, row, Int32Array.from(cols), h, changes);
    const sums = this.batch.quotientSums(changes, cols.length, h);
    const s = this.model.reduction === 'mean' ? 1 / m : 1;
    for (let k = 0; k < cols.length; k++) {
      if (changes.crossed[k]) {
        out.push(this.element(layer, kind, row, cols[k], h));
        continue;
      }
      // As in element() when no sample crossed a kink: the sum over the samples of (plus − minus)/2h.
      const numeric = s * (sums[k] + (0 + 0) / 2) + this.penaltyQuotient(layer, kind, row, cols[k]);
      out.push({ numeric, kink: false, refined: false, spread: (s * 0) / 2 });
    }
    return out;
  }

  /** The L2 penalty's own central difference, exactly: c·((w+h)² − (w−h)²)/2h = 2c·w. */
  private penaltyQuotient(layer: number, kind: string, row: number, col: number): number {
    if (kind !== 'W' || this.c === 0) return 0;
    const W = this.params[layer].W;
    return 2 * this.c * W.data[row * W.shape[1] + col];
  }

  /** Fills colChange[c] = L_c(θ + h·e) − L_c(θ) per sample (and colKink); returns J(θ + h·e) − J(θ). */
  costChange(layer: number, kind: string, row: number, col: number, h: number): number {
    const m = this.m;
    const dZ = this.dZ[layer];
    const base = row * m;
    if (kind === 'W') {
      const Aprev = this.fwd.A[layer].data;
      for (let c = 0; c < m; c++) dZ[base + c] = h * Aprev[col * m + c];
    } else {
      dZ.fill(h, base, base + m);
    }
    let penaltyChange = 0;
    if (kind === 'W' && this.c !== 0) {
      const W = this.params[layer].W;
      const w = W.data[row * W.shape[1] + col];
      penaltyChange = this.c * h * (2 * w + h);
    }
    return this.propagate(layer, row) + penaltyChange;
  }

  /**
   * The central difference along a whole-tensor direction (dense, or rank one over a W). Samples
   * whose pre-activation crossed a kink are treated one by one, as in element(): differenced again
   * with a smaller step, and those exactly on a kink give their interval of one-sided quotients,
   * so one sample on a kink never discards the direction.
   */
  direction(layer: number, kind: string, v: Direction, h: number): ElementDifference {
    const along = this.directionSteps(layer, kind, v);
    const m = this.m;
    const plusAt = new Float64Array(m), crossed = new Uint8Array(m);
    const plus = along(h);
    plusAt.set(this.colChange);
    crossed.set(this.colKink);
    const minus = along(-h);
    for (let c = 0; c < m; c++) crossed[c] |= this.colKink[c];
    if (!crossed.includes(1)) return { numeric: (plus - minus) / (2 * h), kink: false, refined: false, spread: 0 };
    const penalty = (step: number) => (kind === 'W' && this.c !== 0 ? this.c * step * penaltyAlong(this.params[layer].W, v, step) : 0);
    let sum = 0, low = 0, high = 0, kinkLeft = false;
    for (let c = 0; c < m; c++) if (!crossed[c]) sum += (plusAt[c] - this.colChange[c]) / (2 * h);
    ({ sum, low, high, kink: kinkLeft } = this.refineCrossed(crossed, h, sum, plusAt, (step) => { along(step); }));
    const s = this.model.reduction === 'mean' ? 1 / m : 1;
    const numeric = s * (sum + (low + high) / 2) + (penalty(h) - penalty(-h)) / (2 * h);
    return { numeric, kink: kinkLeft, refined: true, spread: (s * (high - low)) / 2 };
  }

  /** J(θ + h·v) − J(θ) for a direction v over the whole of W_layer or b_layer. */
  directionChange(layer: number, kind: string, v: Direction, h: number): number {
    return this.directionSteps(layer, kind, v)(h);
  }

  /**
   * The steps along v: step(h) fills colChange (and colKink) with each sample's change of its loss
   * term at θ + h·v and returns J(θ + h·v) − J(θ). What does not depend on h is computed once:
   * here V·A_{l−1} (for V = u·vᵀ its factor vᵀ·A_{l−1}), which each step scales.
   */
  protected directionSteps(layer: number, kind: string, v: Direction): (h: number) => number {
    if (kind !== 'W') return (h) => this.biasStep(layer, v as Float64Array, h);
    const along = v instanceof Float64Array ? this.directionProduct(layer, v) : this.samplesAlong(layer, v.v);
    return (h) => this.weightStep(layer, v, along, h);
  }

  /** V·A_{l−1} for a dense direction V over W_layer (units × samples). */
  private directionProduct(layer: number, v: Float64Array): Float64Array {
    const W = this.params[layer].W;
    const out = new Float64Array(W.shape[0] * this.m);
    denseTimes({ shape: W.shape, data: v }, this.fwd.A[layer].data, out, this.m);
    return out;
  }

  /**
   * vᵀ·A_{l−1} (one value per sample), for a rank-one direction u·vᵀ over W_layer: V·A_{l−1} =
   * u·(vᵀ·A_{l−1}). The dense kernel's product with vᵀ as a one-row matrix: each sum from 0 over k
   * in order, zero v_k skipped.
   */
  private samplesAlong(layer: number, v: Float64Array): Float64Array {
    const vA = new Float64Array(this.m);
    denseTimes({ shape: [1, v.length], data: v }, this.fwd.A[layer].data, vA, this.m);
    return vA;
  }

  /**
   * δZ_layer = h·V·A_{l−1} from `along` (V·A_{l−1}, or vᵀ·A_{l−1} for V = u·vᵀ, whose element
   * (i, c) is u_i·(vᵀA)_c, then times h: the product the dense case holds, formed per step), then
   * carried to the output, with the penalty's change.
   */
  private weightStep(layer: number, v: Direction, along: Float64Array, h: number): number {
    const dZ = this.dZ[layer];
    if (v instanceof Float64Array) {
      for (let i = 0; i < dZ.length; i++) dZ[i] = along[i] * h;
    } else {
      scaledOuter(v.u, along, h, dZ);
    }
    const penaltyChange = this.c !== 0 ? this.c * h * penaltyAlong(this.params[layer].W, v, h) : 0;
    return this.propagate(layer, -1) + penaltyChange;
  }

  /** δZ_layer = h·b for a direction b over b_layer (each unit's row), carried to the output. */
  private biasStep(layer: number, b: Float64Array, h: number): number {
    const m = this.m;
    const dZ = this.dZ[layer];
    for (let i = 0; i < b.length; i++) dZ.fill(h * b[i], i * m, (i + 1) * m);
    return this.propagate(layer, -1);
  }

  /**
   * Carries δZ_layer (only row `sparseRow` of it when sparseRow ≥ 0) to the output and returns
   * the change of the data cost.
   */
  private propagate(layer: number, sparseRow: number): number {
    const { model, fwd, m } = this;
    const L = model.layers.length;
    const dZ = this.dZ[layer];
    const act = model.layers[layer].activation;
    const units = model.layers[layer].units;
    this.colKink.fill(0);
    if (act.diagonal) {
      // Through a diagonal Jacobian one changed row of δZ changes one row of δA.
      const from = sparseRow >= 0 ? sparseRow * m : 0;
      const to = sparseRow >= 0 ? from + m : units * m;
      this.activationDifference(layer, dZ, this.dA[layer], from, to);
    } else {
      // Otherwise every unit of a changed sample moves: the whole block, the other rows of δZ 0.
      if (sparseRow >= 0) {
        dZ.fill(0, 0, sparseRow * m);
        dZ.fill(0, (sparseRow + 1) * m);
      }
      act.columnDifference(fwd.Z[layer].data, fwd.A[layer + 1].data, dZ, this.dA[layer], units, m);
      sparseRow = -1;
    }

    // Later layers: δZ_k = W_k·δA_{k−1}, rank-1 when δA_{k−1} has one non-zero row.
    for (let k = layer + 1; k < L; k++) {
      const W = this.params[k].W;
      const [outputs, inputs] = W.shape;
      const out = this.dZ[k];
      const prev = this.dA[k - 1];
      if (sparseRow >= 0) {
        const pr = sparseRow * m;
        for (let i = 0; i < outputs; i++) {
          const w = W.data[i * inputs + sparseRow];
          const oi = i * m;
          for (let c = 0; c < m; c++) out[oi + c] = w * prev[pr + c];
        }
      } else {
        denseTimes(W, prev, out, m);
      }
      const next = model.layers[k].activation;
      if (next.diagonal) this.activationDifference(k, out, this.dA[k], 0, outputs * m);
      else next.columnDifference(fwd.Z[k].data, fwd.A[k + 1].data, out, this.dA[k], outputs, m);
      sparseRow = -1;
    }

    // The loss over what changed at the output.
    const firstRow = sparseRow >= 0 ? sparseRow : 0;
    const lastRow = sparseRow >= 0 ? sparseRow + 1 : model.layers[L - 1].units;
    return this.lossChange(this.dA[L - 1], firstRow, lastRow);
  }

  /**
   * The loss's change over output rows from … to whose activations changed by outD (the other rows
   * did not): each sample's in colChange, a custom loss's kinks in colKink; returns the change of
   * the data cost after the reduction.
   */
  protected lossChange(outD: Float64Array, firstRow: number, lastRow: number): number {
    const { model, m } = this;
    const outA = this.fwd.A[model.layers.length].data;
    const Y = this.Y.data;
    const loss = model.loss;
    const colChange = this.colChange;
    // A named loss (not a scaled copy: conventions.ts) in the kernel, the same sums in the same order.
    // Decided once (`??=` would try again after a null).
    if (this.lossKernel === undefined) this.lossKernel = loss.kernelForm && namedLoss(loss.name) === loss ? LossColumns.create(loss.kernelForm, outA, Y, m) : null;
    if (this.lossKernel?.columns(outD, firstRow, lastRow, colChange)) return this.reduced(colChange);
    colChange.fill(0);
    for (let r = firstRow; r < lastRow; r++) {
      const base = r * m;
      for (let c = 0; c < m; c++) colChange[c] += loss.difference(outA[base + c], Y[base + c], outD[base + c]);
      // A custom loss's own kinks (abs(a − y) …) spoil the difference as an activation's do.
      if (loss.crosses) for (let c = 0; c < m; c++) if (loss.crosses(outA[base + c], Y[base + c], outD[base + c])) this.colKink[c] = 1;
    }
    return this.reduced(colChange);
  }

  /** The data cost's change from each sample's: their sum in order, after the reduction. */
  private reduced(colChange: Float64Array): number {
    const m = this.m;
    let total = 0;
    for (let c = 0; c < m; c++) total += colChange[c];
    return this.model.reduction === 'mean' ? total / m : total;
  }

  /**
   * δA = g(Z + δZ) − g(Z) over the flat positions from … to (whole rows) of layer l's element-wise
   * activation (only those: a sparse δZ stays sparse), and the samples whose step crosses a kink,
   * as the activation record marks them: the record's own block functions (layers/activation.ts,
   * differenceAndKinks: ReLU in one pass without a call per element, the others by their
   * columnDifference), the same numbers as its difference element by element.
   */
  private activationDifference(l: number, dZ: Float64Array, dA: Float64Array, from: number, to: number): void {
    const m = this.m;
    const K = this.constantsOf(l);
    if (K instanceof PreparedBlock) {
      // tanh, sigmoid: no kinks to mark; each element's step from its constants, in the kernel.
      K.each(dZ, dA, from, to);
      return;
    }
    if (K) {
      const prepared = (this.model.layers[l].activation as ElementwiseActivation).prepared!;
      prepared.each(K, from * prepared.size, dZ, dA, from, to);
      return;
    }
    differenceAndKinks(this.model.layers[l], this.fwd.Z[l], this.fwd.A[l + 1], dZ, [from / m, to / m], dA, this.colKink);
  }

  /**
   * Layer l's per-z constants for every unit and sample (its record's prepared steps, at
   * (u·m + c)·size), computed the first time a difference meets the layer: a directional check
   * steps every element of a layer for each direction and sign, and the constants cost more
   * than the steps. null for records without prepared steps, with kinks, or too large a block.
   */
  private constantsOf(l: number): Float64Array | PreparedBlock | null {
    const known = this.constants[l];
    if (known !== undefined) return known;
    const act = this.model.layers[l].activation;
    const prepared = act.diagonal && act.kinks.length === 0 && !act.crosses ? act.prepared : undefined;
    const n = this.model.layers[l].units * this.m;
    let K: Float64Array | PreparedBlock | null = null;
    if (prepared && n * prepared.size <= MAX_CONSTANTS) {
      K = PreparedBlock.create(prepared, (act as ElementwiseActivation).difference, this.fwd.Z[l].data, this.fwd.A[l + 1].data);
      if (!K) {
        K = new Float64Array(n * prepared.size);
        prepared.prepareUnits(this.fwd.Z[l].data, this.fwd.A[l + 1].data, 0, n, K, 0);
      }
    }
    this.constants[l] = K;
    return K;
  }
}
