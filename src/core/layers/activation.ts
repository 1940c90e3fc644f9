// The activation layer kind: A = g(Z) for an activation record g (records/activations.ts),
// element-wise or over each sample's units (softmax). No parameters; the output has the input's shape.
//
//   forward      A = g(Z)
//   backward     dZ = J_g(Z)ᵀ·dA                     (element-wise: dA ⊙ g'(Z))
//                in magnitudes: the sum of |terms| of that product (element-wise: |dA| ⊙ |g'(Z)|)
//   difference   δA = g(Z + δZ) − g(Z), the record's cancellation-free columnDifference
//                over changed rows: element-wise the same rows, coupled (softmax) every row
//   kinks        the record's kinks (fixed z) and, for custom formulas, `crosses`
//   work         none counted: the dense products dominate (check/limits.ts)
//   health       saturation (tanh, sigmoid), dead units (ReLU) and a histogram of A
import { zeros, type Tensor } from '../tensor.js';
import { finiteRangeKernel, histogramCounts, reluKernel } from './dense-kernel.js';
import type { HealthStats, Layer, LayerKind, ParamSpec, Rows, TensorSet } from './kind.js';

const HISTOGRAM_BINS = 20;

/** Counts of the finite values in equal bins over `range` (the activation's bounds, so that the
 *  saturated tails sit at the edges) or, for unbounded activations, over the values' own range. */
export function histogram(data: Float64Array, range?: readonly [number, number]): NonNullable<HealthStats['histogram']> {
  return histogramAndSaturation(data, range, -Infinity, Infinity).histogram;
}

/**
 * histogram(data, range), and how many values lie below satLo or above satHi (saturated units),
 * in one pass: by the WebAssembly kernel (dense-kernel.ts, histogramCounts) where it runs, else by
 * the loop below, the same comparisons and arithmetic. A check runs this once per entry, cold:
 * in V8's interpreter a builtin call (Number.isFinite, Math.min, Math.floor …) is a runtime call
 * per element, so the loops compare instead.
 */
export function histogramAndSaturation(data: Float64Array, range: readonly [number, number] | undefined, satLo: number, satHi: number) {
  let [lo, hi] = range ?? finiteRange(data);
  if (!range && !(lo < hi)) { const mid = lo <= hi ? lo : 0; lo = mid - 0.5; hi = mid + 0.5; }
  const bins = HISTOGRAM_BINS;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
  const counts = new Array<number>(bins).fill(0);
  let nonFinite = 0, saturated = 0;
  const counted = histogramCounts(data, lo, width, bins, satLo, satHi);
  if (counted) {
    for (let b = 0; b < bins; b++) counts[b] = counted[b];
    nonFinite = counted[bins];
    // A NaN bin (an infinite or zero width) is a key "NaN" of counts, NaN, as counts[NaN]++ makes it.
    if (counted[bins + 1] > 0) (counts as unknown as Record<string, number>).NaN = NaN;
    saturated = counted[bins + 2];
  } else {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < satLo || v > satHi) saturated++;
      // v − v is 0 for a finite v, NaN for ±Infinity and NaN.
      if (v - v !== 0) { nonFinite++; continue; }
      // min(bins − 1, max(0, floor(q))): q | 0 is floor(q) for 0 ≤ q < bins; a NaN q (an infinite
      // or zero width) stays NaN, as through Math.floor, max and min.
      const q = (v - lo) / width;
      counts[q >= 0 ? (q < bins ? q | 0 : bins - 1) : q < 0 ? 0 : q]++;
    }
  }
  return { histogram: { edges, counts, ...(nonFinite > 0 ? { nonFinite } : {}) }, saturated };
}

/**
 * The least and the greatest finite value (Infinity and −Infinity when there is none), as
 * Math.min and Math.max fold them: of 0 and −0 the least is −0 and the greatest 0.
 */
function finiteRange(data: Float64Array): [number, number] {
  const kernel = finiteRangeKernel(data);
  if (kernel) return kernel;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) continue;
    if (v < lo || (v === 0 && lo === 0 && 1 / v < 0)) lo = v;
    if (v > hi || (v === 0 && hi === 0 && 1 / v > 0)) hi = v;
  }
  return [lo, hi];
}

/**
 * The backward step in magnitudes: for a dy of magnitudes (dy ≥ 0), per element of dx the sum of
 * the magnitudes of the terms whose signed sum the kind's backward gives (the record's
 * backwardMagnitude; element-wise dy·|g'(x)|). Backprop in absolute values takes it instead of
 * backward (backprop.ts's magnitudesOf, check/resolution.ts).
 */
export function backwardMagnitude(layer: Layer, x: Tensor, y: Tensor, dy: Tensor): Tensor {
  const out = zeros(dy.shape);
  layer.activation.backwardMagnitude(x.data, y.data, dy.data, out.data, layer.units, dy.shape[1]);
  return out;
}

/**
 * ReLU's and leaky ReLU's difference (records/activations.ts, piecewiseLinear) over flat positions
 * from … to, written out here with the same arithmetic: the records' shared element-wise loop
 * calls each one's difference through a call site V8 cannot inline, and this is the hottest loop
 * of the layered differences. With `flags`, also kinks' marks for the kink at 0 (a step that
 * changes side, or starts exactly on 0 and moves), decided in the branch that computes the
 * element: z and z + δz both above 0 never mark.
 */
/** Values from which reluDifference runs in the kernel. */
const KERNEL_BLOCK = 1024;

function reluDifference(
  slope: number, Z: Float64Array, A: Float64Array, dx: Float64Array, out: Float64Array, from: number, to: number, flags: Uint8Array | null, m: number,
): void {
  // A whole block (a directional step, cold) in the kernel; a row at a time (the element-wise
  // differences, which V8 soon optimises) here, where a call and its copies would cost more.
  if (to - from >= KERNEL_BLOCK && reluKernel(slope, Z, A, dx, out, from, to, flags, m)) return;
  for (let i = from; i < to; i++) {
    const z = Z[i], d = dx[i], w = z + d;
    if (z > 0 && w > 0) {
      out[i] = d;
      continue;
    }
    out[i] = z <= 0 && w <= 0 ? slope * d : (w > 0 ? w : slope * w) - A[i];
    if (flags && d !== 0 && (z > 0 !== w > 0 || z === 0)) flags[i % m] = 1;
  }
}

export const activation = {
  name: 'activation',
  params: (_layer: Layer): ParamSpec[] => [],
  outputShape: (_layer: Layer, input: readonly number[]) => input.slice(),

  forward(layer: Layer, x: Tensor, _p: TensorSet) {
    const a = zeros(activation.outputShape(layer, x.shape));
    layer.activation.forward(x.data, a.data, layer.units, x.shape[1]);
    return a;
  },

  backward(layer: Layer, x: Tensor, y: Tensor, dy: Tensor, _p: TensorSet, _s: number) {
    const dx = () => {
      const out = zeros(dy.shape);
      layer.activation.backward(x.data, y.data, dy.data, out.data, layer.units, dy.shape[1]);
      return out;
    };
    return { dx, dparams: {} };
  },

  difference(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, _p: TensorSet, _dp: TensorSet | null, out: Float64Array) {
    layer.activation.columnDifference(x.data, y.data, dx, out, layer.units, x.shape[1]);
  },

  differenceRows(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, rows: Rows, _p: TensorSet, out: Float64Array): Rows {
    const act = layer.activation, m = x.shape[1];
    const from = rows[0] * m, to = rows[1] * m;
    if (act.family === 'relu') {
      reluDifference(act.alpha ?? 0, x.data, y.data, dx, out, from, to, null, m);
      return rows;
    }
    if (act.diagonal) {
      // Element-wise: a changed row of δZ changes that row of δA alone, by the record's difference
      // (its own columnDifference loop, on those rows).
      act.columnDifference(x.data.subarray(from, to), y.data.subarray(from, to), dx.subarray(from, to), out.subarray(from, to), rows[1] - rows[0], m);
      return rows;
    }
    // Coupled over each sample's units (softmax): every row moves; δZ is zero outside `rows`.
    act.columnDifference(x.data, y.data, dx, out, layer.units, m);
    return [0, layer.units];
  },

  kinks(layer: Layer, x: Tensor, dx: Float64Array, from: number, to: number, flags: Uint8Array) {
    const { kinks, crosses } = layer.activation;
    const Z = x.data, m = x.shape[1];
    // Kinks of a custom formula lie wherever its abs/max/min arguments change sign.
    if (crosses) for (let i = from; i < to; i++) if (dx[i] !== 0 && crosses(Z[i], dx[i])) flags[i % m] = 1;
    for (let j = 0; j < kinks.length; j++) {
      const k = kinks[j];
      for (let i = from; i < to; i++) {
        const d = dx[i];
        if (d === 0) continue;
        // A step that crosses the kink, or starts exactly on it, differences across it.
        const z = Z[i];
        if (z > k !== z + d > k || z === k) flags[i % m] = 1;
      }
    }
  },

  work: (_layer: Layer) => 0,

  health(layer: Layer, x: Tensor, y: Tensor, _p: TensorSet, _g: TensorSet) {
    const A = y.data;
    const family = layer.activation.family;
    // Saturated: tanh |a| > 0.99, sigmoid a < 0.01 or a > 0.99 (counted with the histogram).
    const [satLo, satHi] = family === 'tanh' ? [-0.99, 0.99] : family === 'sigmoid' ? [0.01, 0.99] : [-Infinity, Infinity];
    const { histogram, saturated } = histogramAndSaturation(A, layer.activation.bounds ?? undefined, satLo, satHi);
    let dead = 0;
    if (family === 'relu') {
      // A dead unit is inactive (z ≤ 0) on every sample.
      const m = x.shape[1];
      for (let i = 0; i < layer.units; i++) {
        let alive = false;
        for (let c = 0; c < m && !alive; c++) alive = x.data[i * m + c] > 0;
        if (!alive) dead++;
      }
    }
    return {
      saturation: A.length === 0 ? 0 : saturated / A.length,
      deadFraction: family === 'relu' ? dead / layer.units : 0,
      histogram,
    };
  },
} satisfies LayerKind;

/**
 * The activation record's differenceRows, then its kinks on the same change, in one pass over the
 * rows where the record allows (ReLU: the branch that computes an element's difference says
 * whether it crosses 0). The same numbers and flags as the two calls; the layered differences
 * (differences/layered.ts) call this instead of them.
 */
export function differenceAndKinks(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, rows: Rows, out: Float64Array, flags: Uint8Array): Rows {
  const act = layer.activation, m = x.shape[1];
  if (act.family === 'relu' && !act.crosses && act.kinks.length === 1 && act.kinks[0] === 0) {
    reluDifference(act.alpha ?? 0, x.data, y.data, dx, out, rows[0] * m, rows[1] * m, flags, m);
    return rows;
  }
  const next = activation.differenceRows(layer, x, y, dx, rows, {}, out);
  activation.kinks(layer, x, dx, rows[0] * m, rows[1] * m, flags);
  return next;
}
