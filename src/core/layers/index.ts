// The layer kinds, and how a net.json layer entry is made of them.
//
// Every entry is two records: its type's record, then an activation record (kind.ts). A dense
// entry is Z_l = W_l·A_{l−1} + b_l, A_l = g_l(Z_l); a conv2d entry the same with the convolution;
// an activation entry the identity, then g_l; every other kind its record, then the identity
// (`linear`), so Z_l = A_l. Users number entries ("layer 3", "W3"), not records. The forward pass
// and the naive finite differences walk entryKinds for every entry; backprop.ts walks them back
// with the hooks a user's code can differ at.
//
// Adding a layer kind: a file here that implements LayerKind (kind.ts), its line in KINDS, and
// its fields in the net.json schema (io/spec-schema.ts, LAYER_FIELDS) and its Layer built from them
// (io/spec-layers.ts, with the Layer fields it reads in kind.ts).
import { activation } from './activation.js';
import { batchnorm } from './batchnorm.js';
import { conv2d } from './conv2d.js';
import { dense } from './dense.js';
import { dropout } from './dropout.js';
import { identity } from './identity.js';
import { layernorm } from './layernorm.js';
import { avgpool2d, maxpool2d } from './pool.js';
import { size } from '../tensor.js';
import { typeOf, type Layer, type LayerKind, type LayerType, type ParamSpec } from './kind.js';

/** The first record of each type of entry; the second is always `activation`. */
const KINDS: Readonly<Record<LayerType, LayerKind>> = {
  dense,
  conv2d,
  maxpool2d,
  avgpool2d,
  flatten: identity,
  activation: identity,
  batchnorm,
  layernorm,
  dropout,
};

/** The record of an entry's type (its first record). */
export function kindOf(layer: Layer): LayerKind {
  return KINDS[typeOf(layer)];
}

/** The records of an entry, in the order it applies them: its values are Z_l, then A_l. */
export function entryKinds(layer: Layer): readonly [LayerKind, LayerKind] {
  return [kindOf(layer), activation];
}

/** Whether every entry is dense: the dense fast paths (differences/dense-rows.ts, diagnose/) apply. */
export function allDense(layers: readonly Layer[]): boolean {
  return layers.every((l) => typeOf(l) === 'dense');
}

/** An entry's parameters, kind by kind (a dense entry's W, then b when it has one). */
export function entryParams(layer: Layer): ParamSpec[] {
  return entryKinds(layer).flatMap((kind) => kind.params(layer));
}

/** An entry's parameter count: the sizes of its tensors. */
export function entryParamCount(layer: Layer): number {
  return entryParams(layer).reduce((n, p) => n + size(p.shape), 0);
}

/** An entry's forward multiply-adds per sample, kind by kind: what a difference carried through it costs. */
export function entryWork(layer: Layer): number {
  return entryKinds(layer).reduce((n, kind) => n + kind.work(layer), 0);
}

export { activation, dense, identity };
export { inShapeOf, outShapeOf, typeOf } from './kind.js';
export type { Backward, HealthStats, KindMistake, Layer, LayerKind, LayerType, MistakenBackward, ParamSpec, Rows, TensorSet } from './kind.js';
