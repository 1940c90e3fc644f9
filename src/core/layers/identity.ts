// The identity layer kind: y = x, no parameters. It is the first record of an `activation` entry
// (the identity, then the activation) and the whole of a `flatten` entry: values are blocks of
// features × samples in (C, H, W) order already (kind.ts), so flattening moves no number; only the
// shape the next entry reads them in changes (inShape [C, H, W], outShape [C·H·W]).
//
//   forward      y = x            backward   dx = dy
//   difference   δy = δx          kinks      none
//
// Its one mistake is flatten's: a backward that un-flattens dy in (H, W, C) order (channels last,
// as Keras and deeplearning.ai store images) while forward flattened (C, H, W).
import { clone, zeros, type Tensor } from '../tensor.js';
import { typeOf, type KindMistake, type Layer, type LayerKind, type ParamSpec, type Rows, type TensorSet } from './kind.js';

/**
 * dx[c, h, w] = dy[(h·W + w)·C + c]: dy read as (H, W, C), then moved to (C, H, W) —
 * dA.reshape(m, H, W, C).transpose(0, 3, 1, 2) for an A that was flattened as (C, H, W).
 */
function channelsLastGradient(layer: Layer, dy: Tensor): Tensor {
  // A flat input is one channel of one position per feature: the reading is the identity.
  const [C, H = 1, W = 1] = layer.inShape ?? [layer.units];
  const m = dy.shape[1];
  const dx = zeros(dy.shape);
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const from = ((h * W + w) * C + c) * m, to = ((c * H + h) * W + w) * m;
        dx.data.set(dy.data.subarray(from, from + m), to);
      }
    }
  }
  return dx;
}

const mistakes: Record<string, KindMistake> = {
  'flatten-order': {
    says: 'the backward pass un-flattens dA in (H, W, C) order while forward flattened (C, H, W), so each gradient lands on another channel and position',
    fix: 'undo the forward reshape exactly: dA_prev = dA.reshape(m, C, H, W) (the inverse of A.reshape(m, -1) on (m, C, H, W))',
    // Only a flatten entry of an image with several channels and positions reorders anything.
    appliesTo: (layer) => {
      const shape = layer.inShape ?? [];
      return typeOf(layer) === 'flatten' && shape.length === 3 && shape[0] > 1 && shape[1] * shape[2] > 1;
    },
    backward: (layer, _x, _y, dy) => ({ dx: () => channelsLastGradient(layer, dy), dparams: {} }),
  },
};

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
  mistakes,
} satisfies LayerKind;
