// Many finite-difference perturbations of one row of one tensor at once.
//
// Perturbing W_l[i][j] (or b_l[i]) by ±h changes only row i of Z_l, and samples are independent,
// so for one sample c every perturbation of row i is a chain: a scalar δz at unit i of layer l,
// a rank-1 change of layer l+1, then dense changes up to the loss. This file runs all the chains
// of one row and one sample together: every layer becomes one matrix product over the batch
// (units × chains), with the sample's cached z and a as constants.
//
// The numbers are those of FiniteDifferences.costChange bit for bit: the same operations on each
// scalar in the same order. Only work whose result is an exact zero is skipped: a chain whose
// change vanishes at unit i (an inactive ReLU), and rows of δA that are zero for every chain
// (adding w·0 to a sum leaves it unchanged). That is exact when the network is "zero-clean":
// finite weights and activations, and every activation and the loss map a zero change to a zero
// change. `isZeroClean` checks this; when it fails, callers use the element-wise path.
import { namedActivation, type Activation, type ElementwiseActivation, type PreparedSteps } from '../records/activations.js';
import type { ForwardCache } from '../forward.js';
import type { Model, Params } from '../model.js';
import type { Tensor } from '../tensor.js';
import { namedLoss, type Loss } from '../records/losses.js';
import { Arena, type RowsKernel } from './rows-kernel.js';
import { allFinite } from '../layers/dense-kernel.js';

const SOFTMAX = namedActivation('softmax');

/** Samples per kind of row that prime() runs: past V8's count of calls before a function collects type feedback (8). */
const PRIME_SAMPLES = 12;
/** Chains per batch at most; keeps the buffers (widest layer × chains) within a few MB. */
const MAX_CHAINS = 2048;
/** The frame of rowSamples (rows.wat): its words before the layers', and each layer's. */
const FRAME_WORDS = 20, LAYER_WORDS = 8;

export interface RowChanges {
  /** plus[k·m + c]: sample c's loss change for column cols[k] at +h; minus at −h. */
  plus: Float64Array;
  minus: Float64Array;
  /** crossed[k]: some sample crossed (or sat on) a kink at +h or −h; that element needs refining. */
  crossed: Uint8Array;
}

export class RowBatch {
  private readonly m: number;
  private readonly L: number;
  /** zT[k], aT[k]: Z_k and A_k transposed to samples × units, so one sample's values are contiguous. */
  private readonly zT: Float64Array[];
  private readonly aT: Float64Array[];
  /** The layer inputs A_{k−1} transposed (inT[0] = Xᵀ). */
  private readonly inT: Float64Array[];
  private readonly yT: Float64Array;
  /** The loss ignores an output's change where its target is 0 (categorical cross-entropy: 0·log(…) = 0). */
  private readonly zeroTargetIgnored: boolean;
  /** Per layer: its record when element-wise, the only kind a hidden layer can be here (isZeroClean). */
  private readonly elementwise: (ElementwiseActivation | null)[];
  private readonly widest: number;
  /** Per layer: the slope below 0 of a ReLU-like activation (see piecewiseSlope), else null. */
  private readonly slopes: (number | null)[];
  /** mirrorFrom[l]: every hidden layer after layer l is ReLU-like (see propagateMirrored). */
  private readonly mirrorFrom: boolean[];
  // Work buffers, reused for every batch.
  private readonly dz: Float64Array;
  private readonly da: Float64Array;
  private readonly flag: Uint8Array;
  private readonly chainOf: Int32Array;
  private readonly col: Float64Array;
  /** The loss change of each live chain, from outputStage. */
  private readonly change: Float64Array;
  /** A softmax output's log-sum-exp change per chain (see outputStage). */
  private readonly lse: Float64Array;
  private readonly bufA: Float64Array;
  private readonly bufB: Float64Array;
  private readonly nonZeroRow: Uint8Array;
  private readonly denseWork: DenseWork;
  /**
   * Per layer with prepared steps (tanh, sigmoid): each unit's per-z constants for every sample,
   * at (c·units + u)·size, computed the first time a batch meets that sample (ready[c]).
   */
  private readonly constants: (Float64Array | null)[];
  private readonly ready: (Uint8Array | null)[];
  /** Per layer: its W packed for denseBatch (space for it from the start, filled the first time a batch needs it). */
  private readonly packedW: PackedWeights[];
  private readonly packedReady: boolean[];
  /**
   * The WebAssembly loops (rows.wat) and the memory they work in, which holds the buffers above
   * that they touch; kernel null where WebAssembly cannot run (the JavaScript loops then).
   */
  private readonly arena: Arena;
  private readonly kernel: RowsKernel | null;
  /** Per layer whose steps the kernel takes (tanh, sigmoid): the series' parameters, and its W (a copy in the kernel's memory). */
  private readonly series: ({ half: number; scale: number } | null)[];
  private readonly weights: (Float64Array | null)[];
  /** The kernel's list of steps it left to the closed form. */
  private readonly wide: Int32Array;
  /** The loss's kernelForm when the kernel runs and the loss is the named record itself (not a scaled copy), else 0. */
  private readonly lossForm: number;
  /** Loss changes for up to a row's worth of columns (changesFor) and their sums, in the kernel's memory. */
  private readonly rowChanges: RowChanges;
  private readonly sums: Float64Array;
  /** The columns of the row being run, for the kernel's input stage (run copies them in). */
  private readonly columns: Int32Array;
  /** The columns run() copied into `columns` (the very array), so that sample() takes them only for those. */
  private columnsOf: Int32Array | null = null;
  /** Whether prime() has run. */
  private primed = false;
  /**
   * The kernel's whole-sample path (rowSamples): the frame that describes the network and the
   * buffers to it (see rows.wat), and per layer whether its rows can take it (decided on the
   * first run, see chainsFrom).
   */
  private readonly frame: Int32Array;
  private readonly identity: Int32Array;
  private chained: boolean[] | null = null;

  constructor(
    private readonly model: Model,
    private readonly params: Params,
    fwd: ForwardCache,
    Y: Tensor,
  ) {
    this.m = fwd.samples;
    this.L = model.layers.length;
    const m = this.m;
    const layers = model.layers;
    this.widest = Math.max(...layers.map((l) => l.units));
    const widestInput = Math.max(...layers.map((l) => l.inputs));
    const preparedOf = layers.map(({ activation: act }) => (act.diagonal ? act.prepared : undefined));
    const seriesOf = preparedOf.map((p) => (p?.series && p.size === 10 ? p.series : null));
    const blocksOf = (k: number): number => Math.ceil(layers[k].units / 4) * layers[k].inputs * 4;
    const widestRow = Math.max(1, widestInput);
    // Everything the kernel touches, in one memory sized once (Arena.sized: the builder only allocates).
    const { arena, built: b } = Arena.sized((a) => ({
      zT: fwd.Z.map((z) => a.f64(z.data.length)),
      aT: fwd.A.slice(1).map((x) => a.f64(x.data.length)),
      inT: fwd.A.slice(0, -1).map((x) => a.f64(x.data.length)),
      dz: a.f64(MAX_CHAINS), da: a.f64(MAX_CHAINS), col: a.f64(MAX_CHAINS), change: a.f64(MAX_CHAINS),
      flag: a.u8(MAX_CHAINS), chainOf: a.i32(MAX_CHAINS), wide: a.i32(MAX_CHAINS),
      bufA: a.f64(this.widest * MAX_CHAINS), bufB: a.f64(this.widest * MAX_CHAINS), nonZeroRow: a.u8(this.widest),
      rowChanges: { plus: a.f64(widestRow * m), minus: a.f64(widestRow * m), crossed: a.u8(widestRow) },
      sums: a.f64(widestRow), columns: a.i32(widestRow), yT: a.f64(Y.data.length),
      frame: a.i32(FRAME_WORDS + LAYER_WORDS * layers.length), identity: a.i32(widestInput),
      denseWork: { inputs: a.i32(widestInput), weights: a.f64(4 * widestInput) },
      packed: layers.map((_, k) => a.f64(blocksOf(k))),
      constants: layers.map((layer, k) => (preparedOf[k] ? a.f64(m * layer.units * preparedOf[k]!.size) : null)),
      weights: layers.map((_, k) => (seriesOf[k] ? a.f64(params[k].W.data.length) : null)),
    }));
    this.arena = arena;
    this.kernel = arena.kernel;
    this.series = this.kernel ? seriesOf : layers.map(() => null);
    this.lossForm = this.kernel && model.loss.kernelForm && namedLoss(model.loss.name) === model.loss ? model.loss.kernelForm : 0;
    this.zT = fwd.Z.map((z, k) => transpose(z.data, z.shape[0], m, b.zT[k]));
    this.aT = fwd.A.slice(1).map((x, k) => transpose(x.data, x.shape[0], m, b.aT[k]));
    this.inT = fwd.A.slice(0, -1).map((x, k) => transpose(x.data, x.shape[0], m, b.inT[k]));
    this.yT = transpose(Y.data, Y.shape[0], m, b.yT);
    this.zeroTargetIgnored = model.loss.zeroTargetTermVanishes;
    this.elementwise = model.layers.map(({ activation: act }) => (act.diagonal ? act : null));
    this.slopes = model.layers.map((layer) => piecewiseSlope(layer.activation));
    this.mirrorFrom = model.layers.map((_, l) => this.slopes.slice(l + 1, this.L - 1).every((slope) => slope !== null));
    ({ dz: this.dz, da: this.da, col: this.col, change: this.change, flag: this.flag, chainOf: this.chainOf, wide: this.wide } = b);
    ({ bufA: this.bufA, bufB: this.bufB, nonZeroRow: this.nonZeroRow, rowChanges: this.rowChanges, sums: this.sums, columns: this.columns } = b);
    ({ denseWork: this.denseWork, constants: this.constants } = b);
    this.lse = new Float64Array(MAX_CHAINS);
    this.packedW = layers.map((layer, k) => ({ weights: b.packed[k], zero: new Uint8Array(Math.ceil(layer.units / 4)) }));
    this.packedReady = layers.map(() => false);
    this.ready = layers.map((_, k) => (preparedOf[k] ? new Uint8Array(m) : null));
    // W of each layer whose steps the kernel takes, copied into its memory.
    this.weights = b.weights.map((W, k) => {
      if (!W || !this.series[k]) return null;
      W.set(params[k].W.data);
      return W;
    });
    this.frame = b.frame;
    this.identity = b.identity;
  }

  /**
   * Whether rows of layer l can take the kernel's whole-sample path (rowSamples): l and every
   * layer after it tanh or sigmoid with the kernel's steps (so no kinks), the output element-wise,
   * the loss the kernel's own with no kinks, and no zero weight in the layers the chains reach
   * by dense products (l + 2 on). The first time, this also fills the frame, computes every
   * sample's constants of those layers (the numbers sampleConstants computes one sample at a
   * time) and packs their weights.
   */
  private chainsFrom(l: number): boolean {
    if (this.chained === null) {
      const L = this.L, layers = this.model.layers;
      const stepped = layers.map((layer, k) => this.series[k] !== null && layer.activation.diagonal && layer.activation.kinks.length === 0 && !layer.activation.crosses);
      const named = this.lossForm !== 0 && !this.model.loss.crosses;
      // Weights are packed only for layers that can take it (packed() keeps them for denseBatch).
      const zeroFree = (from: number) => layers.every((_, j) => j < from || !this.packed(j).zero.includes(1));
      this.chained = layers.map((_, k) => named && k < L - 1 && stepped.slice(k).every(Boolean) && zeroFree(k + 2));
      if (this.chained.some(Boolean)) this.fillFrame();
    }
    return this.chained[l];
  }

  /** The frame of rowSamples (rows.wat), and the constants of every layer with the kernel's steps for every sample. */
  private fillFrame(): void {
    const F = this.frame, layers = this.model.layers, m = this.m;
    const { rowChanges: out } = this;
    const words = [this.L, m, this.lossForm, this.yT.byteOffset, this.dz.byteOffset, this.da.byteOffset, this.chainOf.byteOffset,
      this.wide.byteOffset, this.bufA.byteOffset, this.bufB.byteOffset, this.nonZeroRow.byteOffset, this.change.byteOffset,
      this.col.byteOffset, this.flag.byteOffset, out.plus.byteOffset, out.minus.byteOffset, out.crossed.byteOffset,
      this.columns.byteOffset, this.identity.byteOffset];
    F.set(words);
    for (let q = 0; q < this.identity.length; q++) this.identity[q] = q;
    for (let k = 0; k < this.L; k++) {
      const { units, inputs } = layers[k];
      const at = FRAME_WORDS + LAYER_WORDS * k;
      F[at] = units;
      F[at + 1] = inputs;
      F[at + 2] = this.constants[k]?.byteOffset ?? 0;
      F[at + 3] = this.weights[k]?.byteOffset ?? 0;
      F[at + 4] = k > 0 ? this.packed(k).weights.byteOffset : 0;
      F[at + 5] = this.inT[k].byteOffset;
      const series = this.series[k];
      if (!series) continue;
      this.kernel!.prepare(this.zT[k].byteOffset, this.aT[k].byteOffset, units * m, this.constants[k]!.byteOffset, series.half, series.scale);
      this.ready[k]!.fill(1);
    }
  }

  /**
   * Fills `out` with each sample's loss change for the elements (row, cols[k]) of W_layer (or
   * b_layer, cols = [0]) at +h and at −h, and marks elements where some sample met a kink.
   */
  run(layer: number, kind: string, row: number, cols: Int32Array, h: number, out: RowChanges): void {
    if (!this.primed) this.prime(h);
    this.columnsOf = this.kernel !== null && cols.length <= this.columns.length ? cols : null;
    if (this.columnsOf) this.columns.set(cols);
    const whole = this.columnsOf !== null && out === this.rowChanges && this.chainsFrom(layer);
    const per = MAX_CHAINS >> 1, m = this.m;
    for (let from = 0; from < cols.length; from += per) {
      const to = Math.min(cols.length, from + per);
      for (let c = 0; c < m; c++) {
        // The kernel's whole-sample path as far as it goes; a sample it leaves is sample()'s.
        if (whole) c = this.kernel!.rowSamples(this.frame.byteOffset, layer, kind === 'W' ? 0 : 1, row, from, to - from, h, c);
        if (c < m) this.sample(layer, kind, row, cols, from, to, c, h, out);
      }
    }
  }

  /**
   * A RowChanges for `count` columns (at most a row of a W; reused by the next call), in the
   * kernel's memory so that quotientSums can read it there.
   */
  changesFor(count: number): RowChanges {
    const m = this.m;
    if (count <= this.rowChanges.crossed.length) return this.rowChanges;
    return { plus: new Float64Array(count * m), minus: new Float64Array(count * m), crossed: new Uint8Array(count) };
  }

  /**
   * Each column's central difference summed over the samples: Σ_c (plus[k·m + c] − minus[k·m + c])/(2h)
   * for k < count, the samples in order (what FiniteDifferences.element sums where no sample
   * crossed a kink). The returned array is reused by the next call.
   */
  quotientSums(changes: RowChanges, count: number, h: number): Float64Array {
    const m = this.m;
    const sums = count <= this.sums.length ? this.sums : new Float64Array(count);
    if (this.kernel && this.arena.holds(changes.plus) && this.arena.holds(changes.minus) && this.arena.holds(sums)) {
      this.kernel.quotientSums(changes.plus.byteOffset, changes.minus.byteOffset, m, count, 2 * h, sums.byteOffset);
      return sums;
    }
    const { plus, minus } = changes;
    for (let k = 0; k < count; k++) {
      let sum = 0;
      const base = k * m;
      for (let c = 0; c < m; c++) sum += (plus[base + c] - minus[base + c]) / (2 * h);
      sums[k] = sum;
    }
    return sums;
  }

  /**
   * Runs every kind of row (each layer's W and b) on a few samples once, before the first real
   * batch, and throws the results away: V8 then has type feedback for every branch of sample()
   * and the functions it calls when it optimises them during the first tensor, instead of
   * compiling them for the first tensor's branches alone and going back to the interpreter
   * (a deopt, then a second compile) at each later kind. Nothing here changes a later number:
   * the constants and packed weights it computes are the ones the batches compute.
   */
  private prime(h: number): void {
    this.primed = true;
    const samples = Math.min(this.m, PRIME_SAMPLES);
    const one = Int32Array.of(0);
    const out: RowChanges = { plus: new Float64Array(this.m), minus: new Float64Array(this.m), crossed: new Uint8Array(1) };
    for (let l = this.L - 1; l >= 0; l--) {
      // Rows the kernel takes whole (rowSamples) reach sample() only for a sample it leaves.
      if (this.kernel && this.chainsFrom(l)) continue;
      for (const kind of this.params[l].b ? ['W', 'b'] : ['W']) {
        for (let c = 0; c < samples; c++) this.sample(l, kind, 0, one, 0, 1, c, h, out);
      }
    }
  }

  /** All chains of columns cols[from..to) × {+h, −h} for sample c. */
  private sample(
    l: number, kind: string, i: number, cols: Int32Array, from: number, to: number, c: number, h: number, out: RowChanges,
  ): void {
    const n = to - from;
    const P = 2 * n;
    const { dz, da, flag, col } = this;
    const inputs = this.model.layers[l].inputs;
    if (this.columnsOf === cols && this.series[l] && l < this.L - 1) {
      // A tanh or sigmoid hidden unit: the steps at unit i and the live chains in the kernel.
      const prepared = this.elementwise[l]!.prepared!;
      const K = this.constants[l]!, at = this.sampleConstants(l, c, prepared) + i * prepared.size;
      const live = this.kernel!.inputStage(K.byteOffset + 8 * at, kind === 'W' ? 0 : 1, this.inT[l].byteOffset + 8 * c * inputs, this.columns.byteOffset + 4 * from, n, h,
        dz.byteOffset, da.byteOffset, this.chainOf.byteOffset, this.wide.byteOffset);
      if (live >= 0) {
        flag.fill(0, 0, P);
        col.fill(0, 0, P);
        this.downstream(l, i, n, from, live, c, out);
        return;
      }
    }
    // Chain p < n is cols[from + p] at +h, chain n + p the same column at −h.
    if (kind === 'W') weightSteps(dz, this.inT[l], c * inputs, cols, from, n, h);
    else biasSteps(dz, n, h);
    flag.fill(0, 0, P);

    const act = this.model.layers[l].activation;
    if (!act.diagonal) {
      // Only the output layer can be so (isZeroClean): the change is the column e_i·δz, all units move.
      const units = this.model.layers[l].units;
      const buf = this.bufA;
      buf.fill(0, 0, units * P);
      buf.set(dz.subarray(0, P), i * P);
      for (let p = 0; p < P; p++) this.chainOf[p] = p;
      this.outputStage(l, buf, P, c);
      this.store(this.change, n, from, c, out);
      return;
    }

    // Layer l, unit i: the perturbed pre-activation.
    const units = this.model.layers[l].units;
    const z = this.zT[l][c * units + i], a = this.aT[l][c * units + i];
    this.steps(l, i, c, dz, da, 0, P);
    markKinks(act, z, dz, 0, P, flag, null);

    if (l === this.L - 1) {
      // The output layer itself, element-wise: only unit i's loss term changes.
      const loss = this.model.loss;
      const aOut = a, y = this.yT[c * units + i];
      col.fill(0, 0, P);
      this.addLoss(aOut, y, da, 0, P, col);
      if (loss.crosses) for (let p = 0; p < P; p++) if (loss.crosses(aOut, y, da[p])) flag[p] = 1;
      this.store(col, n, from, c, out);
      return;
    }

    // Chains whose change vanished at unit i change nothing downstream (zero-clean network).
    const chainOf = this.chainOf;
    const live = liveChains(da, col, chainOf, P);
    this.downstream(l, i, n, from, live, c, out);
  }

  /** The live chains from unit i of layer l (hidden) through the layers after it, and their store. */
  private downstream(l: number, i: number, n: number, from: number, live: number, c: number, out: RowChanges): void {
    const { col, chainOf } = this;
    if (live === 0) {
      this.store(col, n, from, c, out);
      return;
    }

    if (!(this.mirrorFrom[l] && this.paired(n, live) && this.propagateMirrored(l, i, live, c))) this.propagate(l, i, live, c);
    if (this.kernel && out === this.rowChanges) {
      // The two loops below in one kernel call (col, flag and out are its memory's).
      this.kernel.storeStage(this.change.byteOffset, chainOf.byteOffset, live, col.byteOffset, this.flag.byteOffset, n,
        from, c, this.m, out.plus.byteOffset, out.minus.byteOffset, out.crossed.byteOffset);
      return;
    }
    for (let t = 0; t < live; t++) col[chainOf[t]] = this.change[t];
    this.store(col, n, from, c, out);
  }

  /**
   * Layers l+1 … L for the live chains (their change at unit i of layer l in `da`): a rank-1
   * change δZ_{l+1}[u, ·] = W_{l+1}[u, i] · δa, then dense layers; each chain's loss change is
   * left in `change`.
   */
  private propagate(l: number, i: number, live: number, c: number): void {
    let cur = this.bufA, next = this.bufB;
    this.rankOne(l + 1, i, live, live, cur, c, false);
    for (let k = l + 2; k < this.L; k++) {
      denseBatch(this.params[k].W, cur, this.nonZeroRow, next, live, this.denseWork, this.packed(k), this.kernel);
      const swap = cur; cur = next; next = swap;
      if (k < this.L - 1) this.hiddenStage(k, cur, live, c, false);
    }
    this.outputStage(this.L - 1, cur, live, c);
  }

  /** Whether the live chains come in exact pairs: live chain half + q is −(live chain q), q < half. */
  private paired(n: number, live: number): boolean {
    if (live % 2 !== 0) return false;
    const half = live / 2, chainOf = this.chainOf, da = this.da;
    for (let q = 0; q < half; q++) {
      if (chainOf[q] >= n || chainOf[half + q] !== chainOf[q] + n || da[half + q] !== -da[q]) return false;
    }
    return true;
  }

  /**
   * propagate() for paired chains when every hidden layer after l is ReLU-like: as long as no step
   * crosses a kink, each −h chain's δZ is the exact negation of its +h twin's up to the output
   * (products, sums in a fixed order, and d ↦ d or slope·d are odd in floating point too), so only
   * the +h half is carried and it is mirrored at the output. Returns false when some unit's steps
   * cross a kink, and propagate() does it all.
   */
  private propagateMirrored(l: number, i: number, live: number, c: number): boolean {
    const half = live / 2;
    let cur = this.bufA, next = this.bufB;
    if (!this.rankOne(l + 1, i, half, live, cur, c, true)) return false;
    for (let k = l + 2; k < this.L; k++) {
      denseBatch(this.params[k].W, cur, this.nonZeroRow, next, half, this.denseWork, this.packed(k), this.kernel);
      const swap = cur; cur = next; next = swap;
      if (k < this.L - 1 && !this.hiddenStage(k, cur, half, c, true)) return false;
    }
    const units = this.model.layers[this.L - 1].units;
    for (let u = 0; u < units; u++) {
      const from = u * half, to = u * live;
      for (let t = 0; t < half; t++) {
        next[to + t] = cur[from + t];
        next[to + half + t] = -cur[from + t];
      }
    }
    this.outputStage(this.L - 1, next, live, c);
    return true;
  }

  /**
   * δZ_k = W_k[:, i] ⊗ δa for the first `live` chains, and, when layer k is hidden, its
   * activation's change in place. A ReLU-like unit whose step crosses 0 for none of the first
   * `extremesOver` chains is decided from the extremes of δa: its row is δZ itself (above 0),
   * zero (ReLU below 0) or slope·δZ. With `mirrored`, a unit that would need the element-wise
   * path makes it return false instead.
   */
  private rankOne(k: number, i: number, live: number, extremesOver: number, dZ: Float64Array, c: number, mirrored: boolean): boolean {
    const W = this.params[k].W;
    const da = this.da;
    const hidden = k < this.L - 1;
    const slope = hidden ? this.slopes[k] : null;
    let lo = Infinity, hi = -Infinity;
    if (slope !== null) {
      for (let t = 0; t < extremesOver; t++) {
        const x = da[t];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    // Rounding is monotone, so w·δa over the chains ranges exactly from w·lo to w·hi (or back).
    const extremes = slope !== null && Number.isFinite(lo) && Number.isFinite(hi);
    const [units, inputs] = W.shape;
    const zs = this.zT[k];
    const nz = this.nonZeroRow;
    const prepared = hidden && !extremes ? this.elementwise[k]!.prepared : undefined;
    if (prepared) {
      // tanh, sigmoid (no kinks): the products and the steps of every unit in one call.
      if (mirrored) return false;
      const at = this.sampleConstants(k, c, prepared);
      const K = this.constants[k]!;
      if (!this.kernel || !this.series[k]) {
        prepared.scaledColumns(K, at, W.data, i, inputs, units, da, dZ, live, nz);
        return true;
      }
      const left = this.kernel.columns(K.byteOffset + 8 * at, this.weights[k]!.byteOffset + 8 * i, 8 * inputs, units, da.byteOffset, dZ.byteOffset, live, nz.byteOffset);
      // Units whose steps may need the closed form: the record's own loop, unit by unit.
      if (left > 0) {
        for (let u = 0; u < units; u++) {
          if (nz[u] === 2) prepared.scaledColumns(K, at + u * prepared.size, W.data, i + u * inputs, inputs, 1, da, dZ.subarray(u * live), live, nz.subarray(u, u + 1));
        }
      }
      return true;
    }
    for (let u = 0; u < units; u++) {
      const w = W.data[u * inputs + i];
      const ub = u * live;
      if (extremes) {
        const z = zs[c * units + u];
        const dLo = w >= 0 ? w * lo : w * hi, dHi = w >= 0 ? w * hi : w * lo;
        const crosses = z === 0 ? dLo !== 0 || dHi !== 0 : z > 0 ? z + dLo <= 0 : z + dHi > 0;
        if (!crosses) {
          if (z > 0 || slope !== 0) {
            if (z > 0) for (let t = 0; t < live; t++) dZ[ub + t] = w * da[t];
            else for (let t = 0; t < live; t++) dZ[ub + t] = slope! * (w * da[t]);
            nz[u] = w === 0 ? 0 : 1;
          } else {
            nz[u] = 0;
          }
          continue;
        }
      }
      if (mirrored && hidden) return false;
      for (let t = 0; t < live; t++) dZ[ub + t] = w * da[t];
      if (hidden) this.unitStage(k, u, dZ, live, c);
    }
    return true;
  }

  /**
   * δA_k = g_k(Z_k + δZ_k) − g_k(Z_k) in place for a hidden layer; notes rows that are zero for
   * every chain. With `mirrored` (the chains' negations count too) a unit that would need the
   * element-wise path makes it return false instead.
   */
  private hiddenStage(k: number, dZ: Float64Array, live: number, c: number, mirrored: boolean): boolean {
    const units = this.model.layers[k].units;
    const slope = this.slopes[k];
    const zs = this.zT[k];
    const nz = this.nonZeroRow;
    for (let u = 0; u < units; u++) {
      const ub = u * live;
      if (slope !== null) {
        const z = zs[c * units + u];
        let lo = Infinity, hi = -Infinity;
        for (let t = 0; t < live; t++) {
          const x = dZ[ub + t];
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        if (mirrored) {
          const l0 = lo;
          lo = Math.min(lo, -hi);
          hi = Math.max(hi, -l0);
        }
        if (Number.isFinite(lo) && Number.isFinite(hi)) {
          const crosses = z === 0 ? lo !== 0 || hi !== 0 : z > 0 ? z + lo <= 0 : z + hi > 0;
          if (!crosses) {
            if (z > 0) nz[u] = lo !== 0 || hi !== 0 ? 1 : 0;
            else if (slope === 0) nz[u] = 0;
            else {
              for (let t = 0; t < live; t++) dZ[ub + t] = slope * dZ[ub + t];
              nz[u] = lo !== 0 || hi !== 0 ? 1 : 0;
            }
            continue;
          }
        }
      }
      if (mirrored) return false;
      this.unitStage(k, u, dZ, live, c);
    }
    return true;
  }

  /** One unit of a hidden layer, element by element: kinks first (they need δz), then δa in place. */
  private unitStage(k: number, u: number, dZ: Float64Array, live: number, c: number): void {
    const act = this.elementwise[k]!;
    const units = this.model.layers[k].units;
    const z = this.zT[k][c * units + u], a = this.aT[k][c * units + u];
    const ub = u * live;
    if (act.kinks.length > 0 || act.crosses) markKinks(act, z, dZ, ub, live, this.flag, this.chainOf);
    this.steps(k, u, c, dZ, dZ, ub, ub + live);
    let any = 0;
    for (let t = ub; t < ub + live; t++) if (dZ[t] !== 0) any = 1;
    this.nonZeroRow[u] = any;
  }

  /**
   * out[t] = difference(z, a, d[t]) for from ≤ t < to at unit u of layer k, sample c: by the
   * record's prepared steps, with that unit's constants computed once per check, or its steps.
   */
  private steps(k: number, u: number, c: number, d: Float64Array, out: Float64Array, from: number, to: number): void {
    const act = this.elementwise[k]!;
    const prepared = act.prepared;
    if (prepared) {
      const at = this.sampleConstants(k, c, prepared) + u * prepared.size;
      const K = this.constants[k]!;
      if (!this.kernel || !this.series[k]) {
        prepared.steps(K, at, d, out, from, to);
        return;
      }
      const wide = this.kernel.steps(K.byteOffset + 8 * at, 0, d.byteOffset + 8 * from, out.byteOffset + 8 * from, to - from, this.wide.byteOffset);
      // Steps beyond the series (which the kernel left unwritten): the record's closed form.
      for (let q = 0; q < wide; q++) {
        const t = from + this.wide[q];
        out[t] = act.difference(K[at + 8], K[at + 9], d[t]);
      }
      return;
    }
    const at = c * this.model.layers[k].units + u;
    act.steps(this.zT[k][at], this.aT[k][at], d, out, from, to);
  }

  private packed(k: number): PackedWeights {
    if (!this.packedReady[k]) {
      packWeights(this.params[k].W, this.packedW[k]);
      this.packedReady[k] = true;
    }
    return this.packedW[k];
  }

  /**
   * Where sample c's units of layer k have their constants in this.constants[k], one after the
   * other; computed the first time a batch meets that sample at that layer.
   */
  private sampleConstants(k: number, c: number, prepared: PreparedSteps): number {
    const units = this.model.layers[k].units;
    const ready = this.ready[k]!;
    const at = c * units * prepared.size;
    if (!ready[c]) {
      const K = this.constants[k]!, series = this.series[k];
      if (this.kernel && series) {
        const z = this.zT[k], a = this.aT[k];
        this.kernel.prepare(z.byteOffset + 8 * c * units, a.byteOffset + 8 * c * units, units, K.byteOffset + 8 * at, series.half, series.scale);
      } else {
        prepared.prepareUnits(this.zT[k], this.aT[k], c * units, units, K, at);
      }
      ready[c] = 1;
    }
    return at;
  }

  /**
   * The output layer's activation and the loss, for δZ_L (units × live): leaves each chain's
   * change of its sample's loss, summed over the output units in order, in `change`. An
   * element-wise output's δA takes δZ's place.
   */
  private outputStage(k: number, dZ: Float64Array, live: number, c: number): void {
    const act = this.model.layers[k].activation;
    const units = this.model.layers[k].units;
    const as = this.aT[k], ys = this.yT;
    const loss = this.model.loss;
    const sums = this.change;
    const zs = this.zT[k];
    if (!act.diagonal) {
      // The softmax record's columnDifference, chain by chain, inlined so that the units whose
      // target is 0 (skipped by the loss) cost nothing: δa_u = a_u·expm1(δz_u − log1p(Σ_j a_j·expm1(δz_j))).
      // isZeroClean lets no other coupled activation reach here.
      const s = this.lse;
      s.fill(0, 0, live);
      for (let u = 0; u < units; u++) {
        const a = as[c * units + u];
        const ub = u * live;
        for (let t = 0; t < live; t++) s[t] += a * Math.expm1(dZ[ub + t]);
      }
      for (let t = 0; t < live; t++) s[t] = Math.log1p(s[t]);
      sums.fill(0, 0, live);
      for (let u = 0; u < units; u++) {
        const a = as[c * units + u], y = ys[c * units + u];
        if (this.zeroTargetIgnored && y === 0) continue;
        const ub = u * live;
        for (let t = 0; t < live; t++) sums[t] += loss.difference(a, y, a * Math.expm1(dZ[ub + t] - s[t]));
        if (loss.crosses) for (let t = 0; t < live; t++) if (loss.crosses(a, y, a * Math.expm1(dZ[ub + t] - s[t]))) this.flag[this.chainOf[t]] = 1;
      }
      return;
    }
    sums.fill(0, 0, live);
    for (let u = 0; u < units; u++) {
      const z = zs[c * units + u], a = as[c * units + u], y = ys[c * units + u];
      const ub = u * live;
      if (act.kinks.length > 0 || act.crosses) markKinks(act, z, dZ, ub, live, this.flag, this.chainOf);
      // δa in place of δz, which nothing reads after this stage.
      this.steps(k, u, c, dZ, dZ, ub, ub + live);
      this.addLoss(a, y, dZ, ub, live, sums);
      if (loss.crosses) for (let t = 0; t < live; t++) if (loss.crosses(a, y, dZ[ub + t])) this.flag[this.chainOf[t]] = 1;
    }
  }

  /**
   * sums[t] += the loss change of output a (target y) by δa = da[from + t], for t < count: the
   * named loss's difference in the kernel (da and sums are its memory's), chains beyond its
   * series by the record; or the record's, chain by chain.
   */
  private addLoss(a: number, y: number, da: Float64Array, from: number, count: number, sums: Float64Array): void {
    const loss = this.model.loss;
    if (!this.lossForm) {
      addLossChanges(loss, a, y, da, from, count, sums);
      return;
    }
    const wide = this.kernel!.lossChanges(this.lossForm, a, y, da.byteOffset + 8 * from, count, sums.byteOffset, this.wide.byteOffset);
    for (let q = 0; q < wide; q++) {
      const t = this.wide[q];
      sums[t] += loss.difference(a, y, da[from + t]);
    }
  }

  /** Copies the chains' loss changes for sample c into out.plus/minus and their kinks into out.crossed. */
  private store(col: Float64Array, n: number, from: number, c: number, out: RowChanges): void {
    storeChanges(col, this.flag, n, from, c, this.m, out.plus, out.minus, out.crossed);
  }
}

// The loops of RowBatch.sample and outputStage, each in a small function of its own: V8 optimises
// a small loop soon, so that the first check (every command-line run) spends little time in the
// interpreter, and a branch the check reaches late (a bias, the output layer) does not throw
// away the optimised code of the others.

/** δz of a row of W at ±h: chain p < n is h·x for column cols[from + p], chain n + p its −h twin. */
function weightSteps(dz: Float64Array, xs: Float64Array, base: number, cols: Int32Array, from: number, n: number, h: number): void {
  for (let p = 0; p < n; p++) {
    const x = xs[base + cols[from + p]];
    dz[p] = h * x;
    dz[n + p] = -h * x;
  }
}

/** δz of a bias at ±h. */
function biasSteps(dz: Float64Array, n: number, h: number): void {
  for (let p = 0; p < n; p++) { dz[p] = h; dz[n + p] = -h; }
}

/** Moves the chains whose δa is nonzero to the front of da (their chain in chainOf), zeroes col; how many. */
function liveChains(da: Float64Array, col: Float64Array, chainOf: Int32Array, P: number): number {
  let live = 0;
  for (let p = 0; p < P; p++) {
    col[p] = 0;
    if (da[p] !== 0) {
      chainOf[live] = p;
      da[live++] = da[p];
    }
  }
  return live;
}

/** sums[t] += the loss change of output a (target y) by δa = da[from + t], for t < count. */
function addLossChanges(loss: Loss, a: number, y: number, da: Float64Array, from: number, count: number, sums: Float64Array): void {
  for (let t = 0; t < count; t++) sums[t] += loss.difference(a, y, da[from + t]);
}

/** Copies the chains' loss changes for sample c into plus/minus and their kinks into crossed. */
function storeChanges(
  col: Float64Array, flag: Uint8Array, n: number, from: number, c: number, m: number,
  plus: Float64Array, minus: Float64Array, crossed: Uint8Array,
): void {
  for (let p = 0; p < n; p++) {
    const k = from + p;
    plus[k * m + c] = col[p];
    minus[k * m + c] = col[n + p];
    if (flag[p] | flag[n + p]) crossed[k] = 1;
  }
}

/**
 * The slope below 0 of a ReLU-like record (relu, leaky_relu): its difference is d itself while z
 * and z + d are both above 0, and slope·d while both are at or below 0. The shape is probed, so
 * a record that behaves otherwise (elu …) takes the element-wise path; null for other activations.
 */
function piecewiseSlope(act: Activation): number | null {
  if (!act.diagonal || act.kinks.length !== 1 || act.kinks[0] !== 0) return null;
  const slope = act.derivative(-1, act.f(-1));
  if (!Number.isFinite(slope)) return null;
  for (const z of [0.5, 2, 1e-3]) {
    for (const d of [1e-6, -1e-7, 0.25]) if (act.difference(z, act.f(z), d) !== d) return null;
  }
  for (const z of [-0.5, -2, 0]) {
    for (const d of [-1e-6, -1e-7, -0.25]) if (act.difference(z, act.f(z), d) !== slope * d) return null;
  }
  return slope;
}

/** Marks chains whose step crosses a kink, or starts exactly on one, as activationDifference does. */
function markKinks(
  act: Activation, z: number, dZ: Float64Array, offset: number, count: number, flag: Uint8Array, chainOf: Int32Array | null,
): void {
  const { kinks, crosses } = act;
  // A custom formula's kinks: wherever its abs/max/min arguments change sign.
  if (crosses) {
    for (let t = 0; t < count; t++) {
      const d = dZ[offset + t];
      if (d !== 0 && crosses(z, d)) flag[chainOf ? chainOf[t] : t] = 1;
    }
  }
  for (let q = 0; q < kinks.length; q++) {
    const k = kinks[q];
    for (let t = 0; t < count; t++) {
      const d = dZ[offset + t];
      if (d !== 0 && ((z > k) !== (z + d > k) || z === k)) flag[chainOf ? chainOf[t] : t] = 1;
    }
  }
}

/**
 * out = W·D over a batch of chains (D is inputs × live, out is rows × live), each output summed
 * over the inputs in order from 0 as denseTimes does. Rows of D that are zero for every chain are
 * skipped (adding w·0 changes no sum), and so are zero weights, as denseTimes skips them.
 * Four outputs of one chain are accumulated at a time, in registers.
 */
function denseBatch(
  W: Tensor, D: Float64Array, nonZeroRow: Uint8Array, out: Float64Array, live: number, work: DenseWork, all: PackedWeights, kernel: RowsKernel | null,
): void {
  const [rows, cols] = W.shape;
  const inputs = work.inputs;
  let active = 0;
  for (let q = 0; q < cols; q++) if (nonZeroRow[q]) inputs[active++] = q;
  // Every input active (tanh, sigmoid layers): the weights packed once for the check.
  const every = active === cols;
  const wb = every ? all.weights : work.weights;
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const block = Math.min(4, rows - r0);
    // A weight of 0 is skipped by denseTimes; 0·d is not always 0 (d = ∞), so take the plain path.
    const zero = every ? all.zero[r0 >> 2] === 1 : packBlock(W, r0, block, inputs, active, wb, 0);
    const wo = every ? (r0 >> 2) * cols * 4 : 0;
    if (zero) {
      for (let b = 0; b < block; b++) denseRow(W, D, inputs, active, out, live, r0 + b);
      continue;
    }
    const o0 = r0 * live, o1 = o0 + live, o2 = o1 + live, o3 = o2 + live;
    if (kernel) {
      // The loops below in WebAssembly, two chains per f64x2 (D, out and the weights are its memory's).
      kernel.denseBlock(wb.byteOffset + 8 * wo, inputs.byteOffset, active, D.byteOffset, live, out.byteOffset + 8 * o0, block);
      continue;
    }
    if (block === 1) {
      denseOneRow(D, inputs, active, wb, wo, out, o0, live);
      continue;
    }
    if (block === 2) {
      // The last two outputs (10 = 4 + 4 + 2 for ten classes): no work for absent ones.
      for (let t = 0; t < live; t++) {
        let s0 = 0, s1 = 0;
        for (let j = 0; j < active; j++) {
          const d = D[inputs[j] * live + t];
          s0 += wb[wo + j * 4] * d;
          s1 += wb[wo + j * 4 + 1] * d;
        }
        out[o0 + t] = s0;
        out[o1 + t] = s1;
      }
      continue;
    }
    for (let t = 0; t < live; t++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < active; j++) {
        const d = D[inputs[j] * live + t];
        const jb = wo + j * 4;
        s0 += wb[jb] * d;
        s1 += wb[jb + 1] * d;
        s2 += wb[jb + 2] * d;
        s3 += wb[jb + 3] * d;
      }
      out[o0 + t] = s0;
      if (block > 1) out[o1 + t] = s1;
      if (block > 2) out[o2 + t] = s2;
      if (block > 3) out[o3 + t] = s3;
    }
  }
}

/**
 * A block of one output row (a single output unit, or the last of a layer): four chains at a
 * time, so that each weight loaded serves four sums, each still added over the inputs in order.
 */
function denseOneRow(D: Float64Array, inputs: Int32Array, active: number, wb: Float64Array, wo: number, out: Float64Array, o: number, live: number): void {
  let t = 0;
  for (; t + 4 <= live; t += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < active; j++) {
      const w = wb[wo + j * 4];
      const db = inputs[j] * live + t;
      s0 += w * D[db];
      s1 += w * D[db + 1];
      s2 += w * D[db + 2];
      s3 += w * D[db + 3];
    }
    out[o + t] = s0;
    out[o + t + 1] = s1;
    out[o + t + 2] = s2;
    out[o + t + 3] = s3;
  }
  for (; t < live; t++) {
    let s0 = 0;
    for (let j = 0; j < active; j++) s0 += wb[wo + j * 4] * D[inputs[j] * live + t];
    out[o + t] = s0;
  }
}

/** One output row of denseBatch, skipping zero weights. */
function denseRow(W: Tensor, D: Float64Array, inputs: Int32Array, active: number, out: Float64Array, live: number, r: number): void {
  const ob = r * live, wr = r * W.shape[1];
  out.fill(0, ob, ob + live);
  for (let j = 0; j < active; j++) {
    const q = inputs[j];
    const w = W.data[wr + q];
    if (w === 0) continue;
    const db = q * live;
    for (let t = 0; t < live; t++) out[ob + t] += w * D[db + t];
  }
}

interface DenseWork {
  inputs: Int32Array;
  weights: Float64Array;
}

/**
 * W packed for denseBatch with every input active: block r0/4 at (r0/4)·cols·4, then input j's
 * four weights of rows r0 … r0 + 3 (0 past the last row); zero[r0/4] = the block has a zero weight.
 */
interface PackedWeights {
  weights: Float64Array;
  zero: Uint8Array;
}

/** Packs W into `into` (weights of ⌈rows/4⌉·cols·4, zero of ⌈rows/4⌉). */
function packWeights(W: Tensor, into: PackedWeights): void {
  const [rows, cols] = W.shape;
  const { weights, zero } = into;
  const every = Int32Array.from({ length: cols }, (_, j) => j);
  for (let r0 = 0; r0 < rows; r0 += 4) {
    zero[r0 >> 2] = packBlock(W, r0, Math.min(4, rows - r0), every, cols, weights, (r0 >> 2) * cols * 4) ? 1 : 0;
  }
}

/** wb[at + j·4 + b] = W[r0 + b][inputs[j]] (0 for b ≥ block); whether one of those weights is 0. */
function packBlock(W: Tensor, r0: number, block: number, inputs: Int32Array, active: number, wb: Float64Array, at: number): boolean {
  const cols = W.shape[1];
  let zero = false;
  for (let j = 0; j < active; j++) {
    for (let b = 0; b < 4; b++) {
      const w = b < block ? W.data[(r0 + b) * cols + inputs[j]] : 0;
      if (b < block && w === 0) zero = true;
      wb[at + j * 4 + b] = w;
    }
  }
  return zero;
}

function transpose(data: Float64Array, rows: number, cols: number, out: Float64Array): Float64Array {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * Whether skipping exact zeros is exact for this network at these weights: finite weights and
 * cached values, and a zero change mapped to a zero change by every activation and the loss.
 * Every hidden layer must also be element-wise (the batches carry its change unit by unit), and a coupled output softmax.
 */
export function isZeroClean(model: Model, params: Params, fwd: ForwardCache, Y: Tensor): boolean {
  // The finiteness scans by the dense kernel's (allFinite): they run once per check, cold.
  for (const { W } of params) if (!allFinite(W.data)) return false;
  const L = model.layers.length;
  for (let k = 0; k < L; k++) {
    const act = model.layers[k].activation;
    // The batches carry a hidden layer's change unit by unit, and know one coupled output: softmax.
    if (!act.diagonal && (k < L - 1 || act !== SOFTMAX)) return false;
    const Z = fwd.Z[k].data, A = fwd.A[k + 1].data;
    // A record that states it needs no probe (tanh, sigmoid: their constants are finite).
    const probe = act.diagonal && !act.zeroStepIsZero;
    if (!allFinite(Z) || !allFinite(A)) return false;
    if (probe) {
      for (let i = 0; i < Z.length; i++) if (act.difference(Z[i], A[i], 0) !== 0 || act.difference(Z[i], A[i], -0) !== 0) return false;
    }
  }
  const out = fwd.A[L].data;
  for (let i = 0; i < out.length; i++) {
    if (model.loss.difference(out[i], Y.data[i], 0) !== 0 || model.loss.difference(out[i], Y.data[i], -0) !== 0) return false;
  }
  return true;
}
