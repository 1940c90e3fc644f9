// What a layer kind says about itself, as micrograd's ops and tfjs's *_grad.ts files each say
// everything about one op. A net.json layer entry is its type's record followed by an activation
// record (layers/index.ts): a dense entry is dense then its activation, a conv2d entry conv2d then
// its activation, a pooling, normalisation, dropout or flatten entry its record then the identity,
// an activation entry the identity then its activation. Each kind reads its part of the entry.
//
// Values between records are blocks of features × samples (row-major, the samples last), whatever
// the kind: an image of C channels of H × W is C·H·W rows in (C, H, W) order, so flattening is the
// identity and a dense layer after it reads the rows as they are. `inShape` and `outShape` say how
// a kind reads its rows. A leaf module: it imports only types.
import type { Activation } from '../records/activations.js';
import type { Tensor } from '../tensor.js';

/** The `type` of a net.json layer entry. */
export type LayerType = 'dense' | 'conv2d' | 'maxpool2d' | 'avgpool2d' | 'flatten' | 'batchnorm' | 'layernorm' | 'dropout' | 'activation';

/**
 * One net.json layer entry, validated. `units` and `inputs` are the flat sizes of its output and
 * input features (a dense entry's units and fan-in; a conv2d entry's filters·H'·W' and C·H·W).
 * The optional fields are absent on dense entries (type absent = 'dense', shapes [inputs] → [units]).
 */
export interface Layer {
  units: number;
  inputs: number;
  /** The entry's activation record: `linear` (the identity) for kinds that have none. */
  activation: Activation;
  /** Whether the entry has a bias b{l} (dense, conv2d). */
  bias: boolean;
  type?: LayerType;
  /** The input's and the output's feature shapes, without the samples: [n] flat, [C, H, W] images. */
  inShape?: readonly number[];
  outShape?: readonly number[];
  /** conv2d: the number of filters (= output channels). */
  filters?: number;
  /** conv2d: the kernel; maxpool2d, avgpool2d: the window. [h, w]. */
  kernel?: readonly [number, number];
  /** conv2d, pooling: the stride [h, w] (conv2d 1, pooling the window). */
  stride?: readonly [number, number];
  /** conv2d: zeros added on each side [h, w] (0). */
  padding?: readonly [number, number];
  /** batchnorm, layernorm: ε added to the variance (1e-5). */
  eps?: number;
  /** dropout: the probability of keeping a unit, in (0, 1]. */
  keep?: number;
  /**
   * dropout: the fixed 0/1 mask, a block of units × samples like the layer's values; drawn from the
   * entry's seed when the data's samples are known, or the user's own `mask{l}` (io/ fills it in).
   */
  mask?: Tensor;
}

/** A layer entry's type: 'dense' when the entry does not say. */
export function typeOf(layer: Layer): LayerType {
  return layer.type ?? 'dense';
}

/** A layer entry's input feature shape ([inputs] for a flat one). */
export function inShapeOf(layer: Layer): readonly number[] {
  return layer.inShape ?? [layer.inputs];
}

/** A layer entry's output feature shape ([units] for a flat one). */
export function outShapeOf(layer: Layer): readonly number[] {
  return layer.outShape ?? [layer.units];
}

/** Rows [from, to) of a features × samples block: the rows a perturbation may have changed. */
export type Rows = readonly [number, number];

/**
 * A parameter a kind declares: its name within the kind ("W", "b", "gamma", "beta") and its shape.
 * The L2 penalty, when the spec has one, is on every tensor named W (dense and conv2d weights).
 */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/** One layer's tensors by the kind's names (its parameters, or gradients or changes shaped like them). */
export type TensorSet = Readonly<Record<string, Tensor>>;

/** Health statistics of one layer at the checked weights; each kind fills the fields it has. */
export interface HealthStats {
  gradientNorm?: number;
  saturation?: number;
  deadFraction?: number;
  weightScale?: number;
  recommendedScale?: number;
  /** batchnorm, layernorm: the smallest variance the layer divides by (before ε), where σ near 0 blows dx up. */
  minVariance?: number;
  histogram?: { edges: number[]; counts: number[]; nonFinite?: number };
}

/** What backprop through one record gives, each part computed on demand. */
export interface Backward {
  dx(): Tensor;
  dparams: Readonly<Record<string, () => Tensor>>;
}

/**
 * A layer kind, on values of `units` rows × m samples (row-major). x is the kind's input, y = f(x)
 * its output as forward computed it; `s` is the scale of the data term (1/m for a mean, 1 for a sum),
 * applied where the parameters' gradients are summed over the samples.
 */
export interface LayerKind {
  name: string;
  /** The parameters of this kind in an entry, in the order every list of them keeps. */
  params(layer: Layer): ParamSpec[];
  /** The output's shape for an input of shape [features, samples]. */
  outputShape(layer: Layer, input: readonly number[]): number[];
  /** y = f(x; params). */
  forward(layer: Layer, x: Tensor, p: TensorSet): Tensor;
  /**
   * Backprop through the kind: dx = (∂y/∂x)ᵀ·dy, and s·(∂y/∂θ)ᵀ·dy per parameter θ. Each is
   * computed when asked for (as tfjs's gradient functions), so that a walk that does not need one
   * (no dx below the first layer, a hook that replaces it) does not pay for it.
   */
  backward(layer: Layer, x: Tensor, y: Tensor, dy: Tensor, p: TensorSet, s: number): Backward;
  /**
   * δy = f(x + δx; θ + δθ) − f(x; θ) without cancellation (dp null: the parameters do not change).
   * The finite differences carry a perturbation through the network with these.
   */
  difference(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, p: TensorSet, dp: TensorSet | null, out: Float64Array): void;
  /**
   * Marks, in flags (one per sample), the samples whose step x → x + δx over the flat positions
   * from … to crosses a point where f' jumps or starts on one and moves: their difference mixes two slopes.
   */
  kinks(layer: Layer, x: Tensor, dx: Float64Array, from: number, to: number, flags: Uint8Array): void;
  /** Multiply-adds of the forward pass per sample: what a finite difference carried through it costs. */
  work(layer: Layer): number;
  /** The kind's health statistics (check/layer-health.ts); g is the layer's correct gradients. */
  health(layer: Layer, x: Tensor, y: Tensor, p: TensorSet, g: TensorSet): HealthStats;

  // ---- the fast path of the propagated differences (differences/layered.ts) -------------------
  // Both write into `out`, which is all zeros on entry, only the rows they return, and leave every
  // other row zero; `dx` is zero outside `rows`. The numbers are those of `difference` on the same
  // change (the same arithmetic on the rows that change), so the fast path and the naive reference
  // agree.

  /** δy for a change δx that is non-zero only in `rows` of x (the parameters unchanged). */
  differenceRows?(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, rows: Rows, p: TensorSet, out: Float64Array): Rows;
  /** δy for the parameter `name`'s flat element `index` moved by h (x unchanged). */
  paramChange?(layer: Layer, x: Tensor, y: Tensor, p: TensorSet, name: string, index: number, h: number, out: Float64Array): Rows;

  /**
   * Backprop in magnitudes (check/resolution.ts): for dy ≥ 0, per element of dx the sum of the
   * magnitudes of the terms whose signed sum `backward` gives. Absent: `backward` on |θ| and |dy| is
   * that sum already (a kind linear in x, with non-negative weights of |θ|, routes magnitudes as it
   * routes values: dense, conv2d, pooling, dropout, flatten).
   */
  backwardMagnitude?(layer: Layer, x: Tensor, y: Tensor, dy: Tensor, p: TensorSet): Tensor;
  /**
   * The same for the parameters' gradients (with s = 1): per element, the sum of the magnitudes of
   * the terms its gradient sums, from the signed forward values x. Absent: backward on |x| and |dy|
   * is that sum (a kind whose parameter gradients are products of x and dy: dense, conv2d).
   */
  paramMagnitudes?(layer: Layer, x: Tensor, y: Tensor, dy: Tensor, p: TensorSet): Readonly<Record<string, () => Tensor>>;

  /**
   * The backprop mistakes people make in this kind's backward, by id (the id is the finding code
   * that names it, findings/registry.ts). The diagnosis tries each as a chain's `mistake` hook
   * (backprop.ts) at every entry of this kind where it applies, and names it when its gradients
   * reproduce the ones under test; tools/matrix.ts injects each.
   */
  mistakes?: Readonly<Record<string, KindMistake>>;
}

/** A kind's backward as a mistaken code computes it. */
export type MistakenBackward = (layer: Layer, x: Tensor, y: Tensor, dy: Tensor, p: TensorSet, s: number) => Backward;

/** One mistake people make in a kind's backward: what it computes, and how to tell the user. */
export interface KindMistake {
  /**
   * The finding code, when the record is another form of a mistake listed under that code (the
   * same slip written two ways); absent: the mistake's id is its code.
   */
  code?: string;
  /** What the code does wrong, as a finding's message says it after "layer N (conv2d): ". */
  says: string;
  /** The change that fixes it, written as the user's NumPy would be (np.sum(…, axis=…), `+=`). */
  fix: string;
  /** Whether the mistake changes anything on this entry (a stride-1 conv cannot ignore its stride); absent: always. */
  appliesTo?(layer: Layer, samples: number): boolean;
  backward: MistakenBackward;
}
