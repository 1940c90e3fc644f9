// Per-layer health of the network at the checked weights, from the correct gradients: how large
// each layer's gradient is, how saturated its units are, how many ReLUs are dead, and how the
// weight scale compares with the scale Xavier or He initialisation would give.
import type { ForwardCache } from '../forward.js';
import type { Grads, Model, Params } from '../model.js';
import type { LayerHealth } from '../report.js';

function norm(data: Float64Array): number {
  let max = 0;
  for (const v of data) max = Math.max(max, Math.abs(v));
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (const v of data) s += (v / max) ** 2;
  return max * Math.sqrt(s);
}

function std(data: Float64Array): number {
  let mean = 0;
  for (const v of data) mean += v;
  mean /= data.length;
  let s = 0;
  for (const v of data) s += (v - mean) ** 2;
  return Math.sqrt(s / data.length);
}

export function layerHealth(model: Model, params: Params, fwd: ForwardCache, correct: Grads): LayerHealth[] {
  return model.layers.map((layer, l) => {
    const A = fwd.A[l + 1].data;
    const family = layer.activation.family;
    let saturated = 0;
    if (family === 'tanh') for (const a of A) { if (Math.abs(a) > 0.99) saturated++; }
    if (family === 'sigmoid') for (const a of A) { if (a < 0.01 || a > 0.99) saturated++; }
    let dead = 0;
    if (family === 'relu') {
      const m = fwd.samples;
      for (let i = 0; i < layer.units; i++) {
        let alive = false;
        for (let c = 0; c < m && !alive; c++) alive = fwd.Z[l].data[i * m + c] > 0;
        if (!alive) dead++;
      }
    }
    const gainSquared = family === 'relu' ? 2 : 1;
    return {
      layer: l + 1,
      activation: layer.activation.name,
      gradientNorm: norm(correct[l].W.data),
      saturation: A.length === 0 ? 0 : saturated / A.length,
      deadFraction: family === 'relu' ? dead / layer.units : 0,
      weightScale: std(params[l].W.data),
      recommendedScale: Math.sqrt(gainSquared / layer.inputs),
      histogram: histogram(A, layer.activation.bounds ?? undefined),
    };
  });
}

const HISTOGRAM_BINS = 20;

/** Counts of the finite values in equal bins over `range` (the activation's bounds, so that the
 *  saturated tails sit at the edges) or, for unbounded activations, over the values' own range. */
function histogram(data: Float64Array, range?: readonly [number, number]): NonNullable<LayerHealth['histogram']> {
  let lo = Infinity, hi = -Infinity, nonFinite = 0;
  for (const v of data) {
    if (!Number.isFinite(v)) { nonFinite++; continue; }
    lo = Math.min(lo, v); hi = Math.max(hi, v);
  }
  if (range) [lo, hi] = range;
  else if (!(lo < hi)) { const mid = lo <= hi ? lo : 0; lo = mid - 0.5; hi = mid + 0.5; }
  const width = (hi - lo) / HISTOGRAM_BINS;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => (i === HISTOGRAM_BINS ? hi : lo + i * width));
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const v of data) {
    if (Number.isFinite(v)) counts[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  }
  return { edges, counts, ...(nonFinite > 0 ? { nonFinite } : {}) };
}

