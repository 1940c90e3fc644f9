// The layer kinds, and how a net.json layer entry is made of them.
//
// A net.json entry (units, activation, bias) is a dense record followed by an activation record:
// Z_l = W_l·A_{l−1} + b_l, A_l = g_l(Z_l). Users number entries ("layer 3", "W3"), not records.
// The forward pass and the naive finite differences walk LAYER_KINDS for every entry; backprop.ts
// walks them back with the hooks a user's code can differ at.
//
// Adding a layer kind: a file here that implements LayerKind (kind.ts), a line in LAYER_KINDS, and
// its entry in the net.json schema (io/spec.ts, with the Layer fields it reads in kind.ts).
import { activation } from './activation.js';
import { dense } from './dense.js';
import { size } from '../tensor.js';
import type { Layer, LayerKind, ParamSpec } from './kind.js';

/** The kinds, in the order one net.json entry applies them: its values are Z_l, then A_l. */
export const LAYER_KINDS: readonly LayerKind[] = [dense, activation];

/** An entry's parameters, kind by kind (a dense entry's W, then b when it has one). */
export function entryParams(layer: Layer): ParamSpec[] {
  return LAYER_KINDS.flatMap((kind) => kind.params(layer));
}

/** An entry's parameter count: the sizes of its tensors. */
export function entryParamCount(layer: Layer): number {
  return entryParams(layer).reduce((n, p) => n + size(p.shape), 0);
}

/** An entry's forward multiply-adds per sample, kind by kind: what a difference carried through it costs. */
export function entryWork(layer: Layer): number {
  return LAYER_KINDS.reduce((n, kind) => n + kind.work(layer), 0);
}

export { activation, dense };
export type { Backward, HealthStats, Layer, LayerKind, ParamSpec, TensorSet } from './kind.js';
