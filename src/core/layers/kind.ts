// What a layer kind says about itself, as micrograd's ops and tfjs's *_grad.ts files each say
// everything about one op. A net.json layer entry (units, activation, bias) is one dense record
// followed by one activation record (layers/index.ts); each kind reads its part of the entry.
// A leaf module: it imports only types.
import type { Activation } from '../records/activations.js';
import type { Tensor } from '../tensor.js';

/** One net.json layer entry, validated: the dense part (units, inputs, bias) and its activation. */
export interface Layer {
  units: number;
  inputs: number;
  activation: Activation;
  bias: boolean;
}

/** A parameter a kind declares: its name within the kind ("W", "b") and its shape. */
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
}
