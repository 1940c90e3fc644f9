// The dropout layer kind, inverted: y = x·(mask/keep) with a fixed 0/1 mask (layer.mask, a block of
// units × samples: drawn from the entry's seed, or the user's own; io/ sets it before any forward).
// mask/keep is formed first, as PyTorch (the mask divided by 1 − p, then multiplied in) and cs231n
// (mask = (np.random.rand(*x.shape) < p) / p; out = x * mask) compute it: x·(1/keep) rounds
// differently from x/keep, and y is then theirs bit for bit for the same keep.
//
//   forward      y = x·q,  q = mask/keep       backward   dx = dy·q
//   difference   δy = δx·q (linear)            kinks      none
//   work         1 per unit                     health     nothing of its own
import { clone, zeros, type Tensor } from '../tensor.js';
import { drawMask } from './dropout-mask.js';
import type { KindMistake, Layer, LayerKind, ParamSpec, Rows, TensorSet } from './kind.js';

function maskOf(layer: Layer): Tensor {
  if (!layer.mask) throw new Error('internal: a dropout entry reached the core without its mask');
  return layer.mask;
}

function keepOf(layer: Layer): number {
  if (layer.keep === undefined) throw new Error('internal: a dropout entry reached the core without keep');
  return layer.keep;
}

/** out[i] = v[i]·(mask[i]/keep) over flat positions [from, to). */
function scaleByMask(v: Float64Array, mask: Float64Array, keep: number, out: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) out[i] = v[i] * (mask[i] / keep);
}

function masked(v: Tensor, mask: Float64Array, keep: number): Tensor {
  const out = zeros(v.shape);
  scaleByMask(v.data, mask, keep, out.data, 0, v.data.length);
  return out;
}

/** Whether the mask drops any value: otherwise a mask left out of backward changes nothing. */
function dropsAny(layer: Layer): boolean {
  return maskOf(layer).data.includes(0);
}

/**
 * The seed of the mask a mistaken backward draws afresh: a hash (FNV-1a) of the entry's own mask,
 * which its seed (or the user's file) fixed, so that the mistake is reproducible and its new mask
 * is not the forward's.
 */
export function redrawSeed(mask: Float64Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < mask.length; i++) h = Math.imul(h ^ (mask[i] === 0 ? 0 : 1), 0x01000193) >>> 0;
  return h ^ 0x0d509e7;
}

const mistakes: Record<string, KindMistake> = {
  'dropout-mask-missing': {
    // The common form: backward passes the gradient through as if there were no dropout (dx = dy).
    says: 'backward passes dy through without the dropout mask (dx = dy)',
    fix: 'dx = dout * mask / keep, with the mask forward used',
    appliesTo: (layer) => keepOf(layer) < 1 || dropsAny(layer),
    backward: (_layer, _x, _y, dy) => ({ dx: () => clone(dy), dparams: {} }),
  },
  'dropout-keep-missing': {
    says: 'backward applies the mask but does not divide by keep (dx = dy·mask)',
    fix: 'dx = dout * mask / keep',
    appliesTo: (layer) => keepOf(layer) < 1,
    backward: (layer, _x, _y, dy) => ({ dx: () => masked(dy, maskOf(layer).data, 1), dparams: {} }),
  },
  'dropout-new-mask': {
    says: 'backward draws a new mask instead of reusing the one forward applied',
    fix: 'keep the mask from forward (cache it) and use it in backward: dx = dout * mask / keep',
    appliesTo: (layer) => keepOf(layer) < 1,
    backward: (layer, _x, _y, dy) => ({
      dx: () => {
        const [units, m] = dy.shape;
        const fresh = drawMask(units, m, keepOf(layer), redrawSeed(maskOf(layer).data));
        return masked(dy, fresh.data, keepOf(layer));
      },
      dparams: {},
    }),
  },
};

export const dropout = {
  name: 'dropout',
  params: (_layer: Layer): ParamSpec[] => [],
  outputShape: (_layer: Layer, input: readonly number[]) => input.slice(),
  forward: (layer: Layer, x: Tensor, _p: TensorSet) => masked(x, maskOf(layer).data, keepOf(layer)),
  backward: (layer: Layer, _x: Tensor, _y: Tensor, dy: Tensor, _p: TensorSet, _s: number) => ({ dx: () => masked(dy, maskOf(layer).data, keepOf(layer)), dparams: {} }),

  difference(layer: Layer, _x: Tensor, _y: Tensor, dx: Float64Array, _p: TensorSet, _dp: TensorSet | null, out: Float64Array) {
    scaleByMask(dx, maskOf(layer).data, keepOf(layer), out, 0, dx.length);
  },

  differenceRows(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, rows: Rows, _p: TensorSet, out: Float64Array): Rows {
    const m = x.shape[1];
    scaleByMask(dx, maskOf(layer).data, keepOf(layer), out, rows[0] * m, rows[1] * m);
    return rows;
  },

  kinks(_layer: Layer, _x: Tensor, _dx: Float64Array, _from: number, _to: number, _flags: Uint8Array) {
    // Linear in x: no slope jumps.
  },

  work: (layer: Layer) => layer.units,
  health: (_layer: Layer, _x: Tensor, _y: Tensor, _p: TensorSet, _g: TensorSet) => ({}),
  mistakes,
} satisfies LayerKind;
