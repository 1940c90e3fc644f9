// The identity layer kind: y = x, no parameters. It is the first record of an `activation` entry
// (the identity, then the activation) and the whole of a `flatten` entry: values are blocks of
// features × samples in (C, H, W) order already (kind.ts), so flattening moves no number; only the
// shape the next entry reads them in changes (inShape [C, H, W], outShape [C·H·W]).
//
//   forward      y = x            backward   dx = dy
//   difference   δy = δx          kinks      none
import { clone, type Tensor } from '../tensor.js';
import type { Layer, LayerKind, ParamSpec, Rows, TensorSet } from './kind.js';

export const identity = {
  name: 'identity',
  params: (_layer: Layer): ParamSpec[] => [],
  outputShape: (_layer: Layer, input: readonly number[]) => input.slice(),
  forward: (_layer: Layer, x: Tensor, _p: TensorSet) => clone(x),
  backward: (_layer: Layer, _x: Tensor, _y: Tensor, dy: Tensor, _p: TensorSet, _s: number) => ({ dx: () => clone(dy), dparams: {} }),
  difference(_layer: Layer, _x: Tensor, _y: Tensor, dx: Float64Array, _p: TensorSet, _dp: TensorSet | null, out: Float64Array) {
    out.set(dx);
  },
  differenceRows(_layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, rows: Rows, _p: TensorSet, out: Float64Array): Rows {
    const m = x.shape[1];
    out.set(dx.subarray(rows[0] * m, rows[1] * m), rows[0] * m);
    return rows;
  },
  kinks(_layer: Layer, _x: Tensor, _dx: Float64Array, _from: number, _to: number, _flags: Uint8Array) {
    // y = x has no slope jumps.
  },
  work: (_layer: Layer) => 0,
  health: (_layer: Layer, _x: Tensor, _y: Tensor, _p: TensorSet, _g: TensorSet) => ({}),
} satisfies LayerKind;
