// The network as the core sees it: validated, with activation and loss records resolved.
// Matrices are row-major Float64Arrays, shaped as in deeplearning.ai code: W (units × inputs),
// b (units × 1), activations (units × samples).
import type { Activation } from './records/activations.js';
import type { Loss } from './records/losses.js';

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function cloneMatrix(m: Matrix): Matrix {
  return { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data) };
}

export interface Layer {
  units: number;
  inputs: number;
  activation: Activation;
  bias: boolean;
}

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

/** The weights and biases; b[l] is null for a layer without bias. */
export interface Params {
  W: Matrix[];
  b: (Matrix | null)[];
}

/** Gradients have the same structure as parameters: dW[l], db[l]. */
export type Grads = Params;

export type ParamKind = 'W' | 'b';

/** One named tensor of a parameter set: the pairs that travel together through a check. */
export interface NamedTensor {
  /** "W1", "b1", … (1-based layer numbers, as users name them). */
  name: string;
  /** 0-based layer index. */
  layer: number;
  kind: ParamKind;
  value: Matrix;
}

/** The tensor of a parameter set (or of gradients, or of anything shaped like them) at { layer, kind }. */
export function tensorOf(set: Params, { layer, kind }: { layer: number; kind: ParamKind }): Matrix {
  return kind === 'W' ? set.W[layer] : set.b[layer]!;
}

/** W1, b1, W2, b2, … in that order, skipping absent biases. */
export function namedTensors(params: Params): NamedTensor[] {
  const out: NamedTensor[] = [];
  params.W.forEach((W, l) => {
    out.push({ name: `W${l + 1}`, layer: l, kind: 'W', value: W });
    const b = params.b[l];
    if (b) out.push({ name: `b${l + 1}`, layer: l, kind: 'b', value: b });
  });
  return out;
}

/** The effective coefficient c of the penalty c·Σ‖W‖² for m samples. */
export function l2Coefficient(model: Model, m: number): number {
  switch (model.l2.kind) {
    case 'none': return 0;
    case 'coefficient': return model.l2.coefficient;
    case 'lambda': return model.reduction === 'mean' ? model.l2.lambda / (2 * m) : model.l2.lambda / 2;
  }
}

export function parameterCount(model: Model): number {
  return model.layers.reduce((n, layer) => n + layer.units * layer.inputs + (layer.bias ? layer.units : 0), 0);
}
