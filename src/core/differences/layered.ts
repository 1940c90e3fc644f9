// The difference source of a model with any layer kinds (kind.ts): the propagated finite
// differences of propagated.ts, record by record, over only the rows a perturbation changes.
//
// A step h at element i of parameter θ of entry l changes Z_l in the rows its record's
// `paramChange` says (a dense W[r][q]: row r, by h·A_{l−1}[q]; a conv2d W[f]…: filter f's channel;
// a batchnorm γ[j]: feature or channel j). Each later record turns the change of its input rows into
// the change of its output rows with its `differenceRows`, the same cancellation-free arithmetic as
// its `difference` on those rows (a ReLU keeps the rows, a max-pool maps a channel to that
// channel, a dense layer or a softmax spreads to every row), and marks with `kinks` the samples
// whose step crosses a point where its slope jumps (ReLU at 0, a window's argmax). The loss turns
// the output rows that changed into each sample's change of its loss term. J is never subtracted,
// so the quotients keep their digits when J ≈ 0.69 and the gradient is 1e-9, and the numbers are
// those of the naive reference (naive.ts), which runs every record's full `difference` from the
// first layer for every perturbation.
//
// Per-sample quotients, the refinement of samples that cross a kink (the step shrunk 10× up to 6
// times), the interval of one-sided quotients of samples left on a kink, the L2 penalty's exact
// quotient 2c·w and the reduction are FiniteDifferences' own (propagated.ts): this class only
// says how a step's per-sample changes are computed.
//
// Buffers: one per record output, all zeros except while a step runs; each step zeroes the rows it
// wrote once the next record has read them (the contract of differenceRows and paramChange). A
// record whose change is its input's (the identity, a linear activation) is skipped: the change
// stays where it is.
import { entryValues, type ForwardCache } from '../forward.js';
import { differenceAndKinks } from '../layers/activation.js';
import { activation, allDense, entryKinds, identity } from '../layers/index.js';
import type { Layer, LayerKind, Rows } from '../layers/kind.js';
import type { Model, Params } from '../model.js';
import { cols as colsOf, size, type Tensor } from '../tensor.js';
import { elementOf, FiniteDifferences, penaltyAlong, propagatedSource } from './propagated.js';
import type { DifferenceSource, Direction, TensorRef } from './source.js';

/**
 * The layered source on the forward pass cached at the checked weights: elements, directions, changes.
 *
 * The elements of the trailing run of dense entries (a CNN's classifier after its flatten: most of
 * its parameters) go to the dense source (propagated.ts, with its row batches) on that run alone:
 * a model whose input is the run's first entry's cached input A_s. A step there changes nothing
 * before entry s, and after it the layered walk's records are the dense source's (a dense
 * layer's rank-one change, the activation's difference and kinks, the loss), the same arithmetic
 * on the same numbers; the L2 coefficient, the loss and the reduction are the model's.
 */
export function layeredSource(at: { model: Model; params: Params; Y: Tensor }, fwd: ForwardCache): DifferenceSource {
  const fd = new LayeredDifferences(at.model, at.params, fwd, at.Y);
  const element = elementOf(fd, at.params);
  const s = denseSuffixStart(at.model.layers);
  // s = 0: an all-dense model, which the product gives to the dense source itself (product.ts);
  // here the layered walk stays its own, so that it can be compared with that source.
  if (s === 0 || s === at.model.layers.length) {
    return { element, direction: (t, v, h) => fd.direction(t.layer, t.name, v, h), change: (t, v, h) => fd.directionChange(t.layer, t.name, v, h) };
  }
  const tail = propagatedSource(denseTail(at, s), { A: fwd.A.slice(s), Z: fwd.Z.slice(s), dataCost: fwd.dataCost, cost: fwd.cost, samples: fwd.samples });
  const inTail = (t: TensorRef): TensorRef | null => (t.layer >= s ? { layer: t.layer - s, name: t.name } : null);
  return {
    element: (t, index, h) => {
      const u = inTail(t);
      return u ? tail.element(u, index, h) : element(t, index, h);
    },
    elements: (t, indices, h) => {
      const u = inTail(t);
      return u ? tail.elements!(u, indices, h) : Array.from(indices, (i) => element(t, i, h));
    },
    direction: (t, v, h) => fd.direction(t.layer, t.name, v, h),
    change: (t, v, h) => fd.directionChange(t.layer, t.name, v, h),
  };
}

/** The first entry of the longest trailing run of dense entries (the entry count when the last is not dense). */
export function denseSuffixStart(layers: readonly Layer[]): number {
  let s = layers.length;
  while (s > 0 && allDense([layers[s - 1]])) s--;
  return s;
}

/** The entries s … L − 1 as a model of their own, on the same targets, loss, reduction and L2 coefficient. */
function denseTail(at: { model: Model; params: Params; Y: Tensor }, s: number): { model: Model; params: Params; Y: Tensor } {
  const layers = at.model.layers.slice(s);
  return { model: { ...at.model, inputs: layers[0].inputs, layers }, params: at.params.slice(s), Y: at.Y };
}

/** The rows of a features × samples block. */
const rowsOf = (t: Tensor): number => t.shape[0];

/** The fast path needs every record's differenceRows, and paramChange of every kind with parameters. */
function requireFastPath(kind: LayerKind, layer: Layer): void {
  const missing = !kind.differenceRows ? 'differenceRows' : kind.params(layer).length > 0 && !kind.paramChange ? 'paramChange' : null;
  if (missing) throw new Error(`internal: the ${kind.name} layer kind has no ${missing}`);
}

/**
 * Whether a record's δy is δx itself, whatever δx: the identity (flatten, the first record of an
 * activation entry) and a linear activation (the second record of every kind without one). The
 * carry skips them and hands the change on as it is, the same numbers as copying it.
 */
function passesThrough(record: LayerKind, entry: Layer): boolean {
  return record === identity || (record === activation && entry.activation.family === 'linear');
}

/** A unit direction as a dense array over its tensor: V = u·vᵀ over (shape[0], the rest) for a rank-one one. */
function denseDirection(v: Direction, shape: readonly number[]): Float64Array {
  if (v instanceof Float64Array) return v;
  const out = new Float64Array(size(shape));
  const cols = v.v.length;
  for (let i = 0; i < v.u.length; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = v.u[i] * v.v[j];
  return out;
}

export class LayeredDifferences extends FiniteDifferences {
  /** out[l]: the changes of entry l's records' outputs, in entryKinds order (δZ_l, δA_l). */
  private readonly out: [Float64Array, Float64Array][];
  /** Per entry, zeros of its input's size: the unchanged input of a parameter's step. */
  private readonly still: Float64Array[];
  /** Per entry, its records and their outputs at θ (entryKinds, entryValues), looked up once. */
  private readonly kinds: (readonly [LayerKind, LayerKind])[];
  private readonly values: [Tensor, Tensor][];
  private readonly passes: [boolean, boolean][];

  constructor(model: Model, params: Params, fwd: ForwardCache, Y: Tensor) {
    super(model, params, fwd, Y);
    this.out = model.layers.map((_layer, l) => {
      const [z, a] = entryValues(fwd, l);
      return [new Float64Array(z.data.length), new Float64Array(a.data.length)];
    });
    this.still = model.layers.map((_layer, l) => new Float64Array(fwd.A[l].data.length));
    this.kinds = model.layers.map(entryKinds);
    model.layers.forEach((entry, l) => this.kinds[l].forEach((kind) => requireFastPath(kind, entry)));
    this.values = model.layers.map((_layer, l) => entryValues(fwd, l));
    this.passes = model.layers.map((entry, l) => [passesThrough(this.kinds[l][0], entry), passesThrough(this.kinds[l][1], entry)]);
  }

  /** Fills colChange[c] = L_c(θ + h·e) − L_c(θ) per sample (and colKink); returns J(θ + h·e) − J(θ). */
  override costChange(layer: number, kind: string, row: number, col: number, h: number): number {
    const { model, params, fwd } = this;
    const entry = model.layers[layer], first = this.kinds[layer][0];
    const t = params[layer][kind];
    const index = row * colsOf(t) + col;
    const rows = first.paramChange!(entry, fwd.A[layer], fwd.Z[layer], params[layer], kind, index, h, this.out[layer][0]);
    let penaltyChange = 0;
    if (kind === 'W' && this.c !== 0) {
      const w = t.data[index];
      penaltyChange = this.c * h * (2 * w + h);
    }
    this.colKink.fill(0);
    return this.carry(layer, rows) + penaltyChange;
  }

  /**
   * Along v, δZ_l = f(x; θ + h·V) − f(x; θ) = h·D with D = f(x; θ + V) − f(x; θ): every kind is
   * affine in its own parameters (dense, conv2d: in W and b; batchnorm, layernorm: in γ and β), so D
   * is its record's difference for δθ = V, computed once, and each step scales it.
   */
  protected override directionSteps(layer: number, kind: string, v: Direction): (h: number) => number {
    const { model, params, fwd } = this;
    const entry = model.layers[layer], first = this.kinds[layer][0];
    const t = params[layer][kind];
    const V = denseDirection(v, t.shape);
    const D = new Float64Array(fwd.Z[layer].data.length);
    first.difference(entry, fwd.A[layer], fwd.Z[layer], this.still[layer], params[layer], { [kind]: { shape: t.shape, data: V } }, D);
    const out = this.out[layer][0];
    return (h) => {
      for (let i = 0; i < D.length; i++) out[i] = h * D[i];
      const penaltyChange = kind === 'W' && this.c !== 0 ? this.c * h * penaltyAlong(t, V, h) : 0;
      this.colKink.fill(0);
      return this.carry(layer, [0, rowsOf(fwd.Z[layer])]) + penaltyChange;
    };
  }

  /**
   * Carries the change of entry `layer`'s first record's output, non-zero in `rows` of out[layer][0],
   * through the entry's activation record and every later entry's two records to the loss; marks
   * the samples that cross a kink in colKink, fills colChange and returns the change of the data
   * cost. Every buffer is zero again afterwards.
   */
  private carry(layer: number, rows: Rows): number {
    const { model, params, fwd, m } = this;
    const L = model.layers.length;
    // The record after entry `layer`'s first: its activation. x, dx: the record's input and its change.
    let x = fwd.Z[layer];
    let dx = this.out[layer][0];
    for (let k = layer, r = 1; k < L; k++, r = 0) {
      const entry = model.layers[k], kinds = this.kinds[k], values = this.values[k];
      for (; r < 2; r++) {
        const record = kinds[r], y = values[r], out = this.out[k][r];
        // δy = δx: the change stays in its buffer, to be zeroed by the record that reads it next.
        if (this.passes[k][r]) {
          x = y;
          continue;
        }
        let next: Rows;
        if (record === activation) {
          next = differenceAndKinks(entry, x, y, dx, rows, out, this.colKink);
        } else {
          next = record.differenceRows!(entry, x, y, dx, rows, params[k], out);
          record.kinks(entry, x, dx, rows[0] * m, rows[1] * m, this.colKink);
        }
        dx.fill(0, rows[0] * m, rows[1] * m);
        x = y;
        dx = out;
        rows = next;
      }
    }
    // The loss over the output rows that changed, summed per sample.
    const change = this.lossChange(dx, rows[0], rows[1]);
    dx.fill(0, rows[0] * m, rows[1] * m);
    return change;
  }
}
