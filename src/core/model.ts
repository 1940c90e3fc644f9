// The network as the core sees it: validated, with activation and loss records resolved.
// Tensors are row-major Float64Arrays with a shape (tensor.ts); a dense layer's are shaped as in
// deeplearning.ai code: W (units × inputs), b (units × 1), activations (units × samples).
import { entryParams } from './layers/index.js';
import type { Layer } from './layers/kind.js';
import type { Loss } from './records/losses.js';
import type { Tensor } from './tensor.js';

export type { Layer } from './layers/kind.js';

/** How the cost is regularised: λ/(2m)·Σ‖W‖² (mean) or λ/2·Σ‖W‖² (sum), or exactly c·Σ‖W‖². */
export type L2 =
  | { kind: 'none' }
  | { kind: 'lambda'; lambda: number }
  | { kind: 'coefficient'; coefficient: number };

export type Reduction = 'mean' | 'sum';

export interface InitSpec {
  scheme: 'normal' | 'uniform' | 'xavier' | 'he';
  scale: number;
  seed: number;
}

export interface Model {
  inputs: number;
  layers: Layer[];
  loss: Loss;
  reduction: Reduction;
  l2: L2;
  init: InitSpec;
}

/** Which parameter: a 0-based layer index and the layer kind's name for it ("W", "b"). */
export interface ParamRef {
  readonly layer: number;
  readonly name: string;
}

/** "W1", "b3": how users name a parameter (1-based layer numbers). The only place that label is built. */
export function paramLabel(ref: ParamRef): string {
  return `${ref.name}${ref.layer + 1}`;
}

/** One layer's parameters by the kind's names: params[l].W, params[l].b (absent for a layer without bias). */
export type LayerParams = Readonly<Record<string, Tensor>>;

/** The parameters of every layer, in layer order. */
export type Params = ReadonlyArray<LayerParams>;

/** Gradients have the same structure as parameters: grads[l].W is dJ/dW of layer l. */
export type Grads = Params;

/** One tensor of a parameter set with its identity: the pairs that travel together through a check. */
export interface NamedTensor {
  ref: ParamRef;
  /** paramLabel(ref): "W1", "b1", … */
  label: string;
  value: Tensor;
}

/** The tensor of a parameter set (or of gradients, or of anything shaped like them) at ref. */
export function tensorOf(set: Params, ref: ParamRef): Tensor {
  return set[ref.layer][ref.name];
}

/** Every layer's parameters in the order its kinds list them (W1, b1, W2, b2, …), skipping absent biases. */
export function namedTensors(model: Pick<Model, 'layers'>, set: Params): NamedTensor[] {
  return model.layers.flatMap((layer, l) => entryParams(layer).map(({ name }) => {
    const ref = { layer: l, name };
    return { ref, label: paramLabel(ref), value: set[l][name] };
  }));
}

/** A set shaped like `set` (the same layers and names), each tensor replaced by f(tensor, its ref). */
export function mapTensors(set: Params, f: (t: Tensor, ref: ParamRef) => Tensor): Params {
  return set.map((tensors, layer) => Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, f(t, { layer, name })])));
}

/** The effective coefficient c of the penalty c·Σ‖W‖² for m samples. */
export function l2Coefficient(model: Model, m: number): number {
  switch (model.l2.kind) {
    case 'none': return 0;
    case 'coefficient': return model.l2.coefficient;
    case 'lambda': return model.reduction === 'mean' ? model.l2.lambda / (2 * m) : model.l2.lambda / 2;
  }
}
