// The pooling layer kinds, maxpool2d and avgpool2d: a window of kh × kw moved by a stride over each
// channel, no padding, no parameters (torch.nn.functional.max_pool2d / avg_pool2d). Values are
// blocks of features × samples with image rows in (C, H, W) order (window.ts).
//
//   maxpool2d    y = max_window x         dx[a] += dy at the window's first maximum a (row-major,
//                                         PyTorch's choice on ties), accumulated where windows overlap
//                δy = max(x + δx) − max(x), which is exactly δx[a] while the argmax stays a; a step
//                that moves the argmax, or starts on a tie and moves a tied element, is a kink
//   avgpool2d    y = Σ_window x / (kh·kw)  dx += dy/(kh·kw) on every element of the window
//                δy = Σ_window δx / (kh·kw)  (linear: no cancellation, no kinks)
//   work         C·H'·W'·kh·kw per sample (one visit of each window element)
import { zeros, type Tensor } from '../tensor.js';
import type { Backward, KindMistake, Layer, LayerKind, ParamSpec, Rows, TensorSet } from './kind.js';
import { gridOf, reachedOutputs, windowCorner, type Grid } from './window.js';

/** Scratch for firstMaxes: per sample, the row of the maximum so far and its value. */
let bestRows = new Int32Array(0), bestValues = new Float64Array(0);

/**
 * The input row of the first maximum of x over the window at `corner` (row-major, the first on a
 * tie), for every sample n: best[n]. Each sample's elements are compared in the window's order, as
 * one sample at a time would, with the samples innermost: one call per window instead of per
 * window and sample, which is most of the cost of these loops until V8 has optimised them.
 * The returned array is scratch, overwritten by the next call.
 */
function firstMaxes(g: Grid, X: Float64Array, corner: number, m: number): Int32Array {
  if (bestRows.length < m) {
    bestRows = new Int32Array(m);
    bestValues = new Float64Array(m);
  }
  const best = bestRows, value = bestValues, kh = g.kh, kw = g.kw, W = g.W;
  for (let n = 0; n < m; n++) {
    best[n] = corner;
    value[n] = X[corner * m + n];
  }
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      const r = corner + u * W + v, k = r * m;
      for (let n = 0; n < m; n++) if (X[k + n] > value[n]) { value[n] = X[k + n]; best[n] = r; }
    }
  }
  return best;
}

/**
 * δy of max-pooling for the output rows [o0, o1): δx at the argmax while it stays, else the new max − y.
 * The first maximum of x and that of x + δx found in one scan of the window, written out (the
 * comparisons of firstMaxes, in its order): the finite differences run this on every step.
 */
function maxDifference(g: Grid, X: Float64Array, Y: Float64Array, D: Float64Array, m: number, out: Float64Array, o0: number, o1: number): void {
  const kh = g.kh, kw = g.kw, W = g.W;
  for (let o = o0; o < o1; o++) {
    const corner = windowCorner(g, o);
    for (let n = 0; n < m; n++) {
      let a = corner, top = X[corner * m + n];
      let b = corner, moved = top + D[corner * m + n];
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          const r = corner + u * W + v, k = r * m + n;
          if (X[k] > top) { top = X[k]; a = r; }
          if (X[k] + D[k] > moved) { moved = X[k] + D[k]; b = r; }
        }
      }
      out[o * m + n] = b === a ? D[a * m + n] : X[b * m + n] + D[b * m + n] - Y[o * m + n];
    }
  }
}

/** δy of average pooling for the output rows [o0, o1): the window's δx summed in row-major order, / (kh·kw). */
function avgDifference(g: Grid, D: Float64Array, m: number, out: Float64Array, o0: number, o1: number): void {
  const area = g.kh * g.kw;
  for (let o = o0; o < o1; o++) {
    const corner = windowCorner(g, o);
    for (let n = 0; n < m; n++) {
      let sum = 0;
      for (let u = 0; u < g.kh; u++) for (let v = 0; v < g.kw; v++) sum += D[(corner + u * g.W + v) * m + n];
      out[o * m + n] = sum / area;
    }
  }
}

/**
 * Max-pooling's dx as a code routes dy: 'argmax' (right: dy to the first maximum, accumulated),
 * 'window' (dy to every element of the window, accumulated), 'overwrite' (each window in turn
 * assigns mask·dy to its whole slice, so a later window's zeros replace an earlier one's dy),
 * 'assign' (each window in turn assigns dy to its argmax element only, so where overlapping
 * windows share a maximum only the last one's dy survives).
 */
function maxInputGradient(g: Grid, x: Tensor, dy: Tensor, route: 'argmax' | 'window' | 'overwrite' | 'assign'): Tensor {
  const m = dy.shape[1];
  const dx = zeros([g.C * g.H * g.W, m]);
  const X = x.data, D = dy.data, out = dx.data;
  for (let o = 0; o < g.C * g.Ho * g.Wo; o++) {
    const corner = windowCorner(g, o);
    const best = route === 'window' ? null : firstMaxes(g, X, corner, m);
    for (let n = 0; n < m; n++) {
      const d = D[o * m + n];
      if (route === 'argmax') { out[best![n] * m + n] += d; continue; }
      if (route === 'assign') { out[best![n] * m + n] = d; continue; }
      const a = best ? best[n] : -1;
      for (let u = 0; u < g.kh; u++) {
        for (let v = 0; v < g.kw; v++) {
          const r = corner + u * g.W + v;
          if (route === 'window') out[r * m + n] += d;
          else out[r * m + n] = r === a ? d : 0;
        }
      }
    }
  }
  return dx;
}

/** Average pooling's dx: dy/divisor on every element of each window, the windows at stride (sh, sw). */
function avgInputGradient(g: Grid, dy: Tensor, divisor: number, sh: number, sw: number): Tensor {
  const m = dy.shape[1];
  const dx = zeros([g.C * g.H * g.W, m]);
  const D = dy.data, out = dx.data;
  for (let o = 0; o < g.C * g.Ho * g.Wo; o++) {
    const corner = windowCorner(g, o, sh, sw);
    for (let n = 0; n < m; n++) {
      const d = D[o * m + n] / divisor;
      for (let u = 0; u < g.kh; u++) for (let v = 0; v < g.kw; v++) out[(corner + u * g.W + v) * m + n] += d;
    }
  }
  return dx;
}

function overlaps(g: Grid): boolean {
  return (g.sh < g.kh && g.Ho > 1) || (g.sw < g.kw && g.Wo > 1);
}

const noParams = (_layer: Layer): ParamSpec[] => [];
const sameRows = (layer: Layer, input: readonly number[]) => [layer.units, input[1]];
const windowWork = (layer: Layer) => {
  const g = gridOf(layer);
  return g.C * g.Ho * g.Wo * g.kh * g.kw;
};
const noHealth = (_layer: Layer, _x: Tensor, _y: Tensor, _p: TensorSet, _g: TensorSet) => ({});
const onlyDx = (dx: () => Tensor): Backward => ({ dx, dparams: {} });

const maxMistakes: Record<string, KindMistake> = {
  'maxpool-whole-window': {
    says: 'dy goes to every element of the pooling window instead of only to its maximum',
    fix: 'route dy through the max mask: mask = (a_slice == np.max(a_slice)); dA_prev[window] += mask * dA[n, h, w, c]',
    appliesTo: (layer) => {
      const g = gridOf(layer);
      return g.kh * g.kw > 1;
    },
    backward: (layer, x, _y, dy) => onlyDx(() => maxInputGradient(gridOf(layer), x, dy, 'window')),
  },
  'maxpool-overwrite': {
    says: 'each window assigns its mask·dy to its slice of dA_prev (=) instead of adding it (+=), so where windows overlap a later window overwrites an earlier one’s gradient',
    fix: 'accumulate: dA_prev[n, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[n, h, w, c]',
    appliesTo: (layer) => overlaps(gridOf(layer)),
    backward: (layer, x, _y, dy) => onlyDx(() => maxInputGradient(gridOf(layer), x, dy, 'overwrite')),
  },
  // The same `=` for `+=`, in the loop that finds the argmax first (get_max_index, then one
  // element assigned): only windows that share their maximum lose a gradient.
  'maxpool-overwrite-argmax': {
    code: 'maxpool-overwrite',
    says: 'each window assigns dy to its maximum (dA_prev[argmax] = dy) instead of adding it (+=), so where overlapping windows share a maximum only the last window’s gradient survives',
    fix: 'accumulate: dA_prev[n, c, i * stride + k, j * stride + l] += dA[n, c, i, j] at each window’s argmax (k, l)',
    appliesTo: (layer) => overlaps(gridOf(layer)),
    backward: (layer, x, _y, dy) => onlyDx(() => maxInputGradient(gridOf(layer), x, dy, 'assign')),
  },
};

const avgMistakes: Record<string, KindMistake> = {
  'avgpool-not-averaged': {
    says: 'dy goes to each element of the window whole, without the 1/(kh·kw) of the average',
    fix: 'spread dy evenly: dA_prev[window] += np.ones((kh, kw)) * dA[n, h, w, c] / (kh * kw)',
    appliesTo: (layer) => {
      const g = gridOf(layer);
      return g.kh * g.kw > 1;
    },
    backward: (layer, _x, _y, dy) => {
      const g = gridOf(layer);
      return onlyDx(() => avgInputGradient(g, dy, 1, g.sh, g.sw));
    },
  },
  'avgpool-stride-ignored': {
    says: 'the backward pass puts window (i, j) at offset (i, j) instead of (i·stride, j·stride)',
    fix: 'slice the window at the strided offset: vert_start = h * stride, horiz_start = w * stride',
    appliesTo: (layer) => {
      const g = gridOf(layer);
      return (g.sh > 1 && g.Ho > 1) || (g.sw > 1 && g.Wo > 1);
    },
    backward: (layer, _x, _y, dy) => {
      const g = gridOf(layer);
      return onlyDx(() => avgInputGradient(g, dy, g.kh * g.kw, 1, 1));
    },
  },
};

export const maxpool2d = {
  name: 'maxpool2d',
  params: noParams,
  outputShape: sameRows,

  forward(layer: Layer, x: Tensor, _p: TensorSet): Tensor {
    const g = gridOf(layer);
    const m = x.shape[1];
    const y = zeros(sameRows(layer, x.shape));
    for (let o = 0; o < g.C * g.Ho * g.Wo; o++) {
      const best = firstMaxes(g, x.data, windowCorner(g, o), m);
      for (let n = 0; n < m; n++) y.data[o * m + n] = x.data[best[n] * m + n];
    }
    return y;
  },

  backward: (layer: Layer, x: Tensor, _y: Tensor, dy: Tensor, _p: TensorSet, _s: number) => onlyDx(() => maxInputGradient(gridOf(layer), x, dy, 'argmax')),

  difference(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, _p: TensorSet, _dp: TensorSet | null, out: Float64Array) {
    const g = gridOf(layer);
    maxDifference(g, x.data, y.data, dx, x.shape[1], out, 0, g.C * g.Ho * g.Wo);
  },

  differenceRows(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, rows: Rows, _p: TensorSet, out: Float64Array): Rows {
    const g = gridOf(layer);
    const reached = reachedOutputs(g, rows);
    maxDifference(g, x.data, y.data, dx, x.shape[1], out, reached[0], reached[1]);
    return reached;
  },

  kinks(layer: Layer, x: Tensor, dx: Float64Array, from: number, to: number, flags: Uint8Array) {
    // A window whose argmax moves differences across the switch from one element to another; a
    // window on a tie whose tied elements move starts on the switch. δx counts on [from, to) only.
    if (from >= to) return;
    const g = gridOf(layer);
    const m = x.shape[1], X = x.data;
    const [o0, o1] = reachedOutputs(g, [Math.floor(from / m), Math.floor((to - 1) / m) + 1]);
    // δx at position k (0 outside [from, to)) written out: this runs on every step.
    const kh = g.kh, kw = g.kw, W = g.W;
    for (let o = o0; o < o1; o++) {
      const corner = windowCorner(g, o), best = firstMaxes(g, X, corner, m);
      for (let n = 0; n < m; n++) {
        if (flags[n]) continue;
        const a = best[n], ka = a * m + n, top = X[ka];
        const moved = top + (ka >= from && ka < to ? dx[ka] : 0);
        let kink = false;
        for (let u = 0; u < kh && !kink; u++) {
          for (let v = 0; v < kw && !kink; v++) {
            const r = corner + u * W + v, k = r * m + n;
            const d = k >= from && k < to ? dx[k] : 0;
            if (r === a) kink = d !== 0 && hasTie(g, X, corner, a, m, n);
            // r is tied with a and moves, or the first maximum of x + δx is r ≠ a: r beats a, or
            // ties it from before a.
            else kink = (d !== 0 && X[k] === top) || X[k] + d > moved || (X[k] + d === moved && r < a);
          }
        }
        if (kink) flags[n] = 1;
      }
    }
  },

  work: windowWork,
  health: noHealth,
  mistakes: maxMistakes,
} satisfies LayerKind;

/** Whether another element of the window equals x at its first maximum a. */
function hasTie(g: Grid, X: Float64Array, corner: number, a: number, m: number, n: number): boolean {
  const top = X[a * m + n];
  for (let u = 0; u < g.kh; u++) {
    for (let v = 0; v < g.kw; v++) {
      const r = corner + u * g.W + v;
      if (r !== a && X[r * m + n] === top) return true;
    }
  }
  return false;
}

export const avgpool2d = {
  name: 'avgpool2d',
  params: noParams,
  outputShape: sameRows,

  forward(layer: Layer, x: Tensor, _p: TensorSet): Tensor {
    const g = gridOf(layer);
    const y = zeros(sameRows(layer, x.shape));
    avgDifference(g, x.data, x.shape[1], y.data, 0, g.C * g.Ho * g.Wo);
    return y;
  },

  backward: (layer: Layer, _x: Tensor, _y: Tensor, dy: Tensor, _p: TensorSet, _s: number) => {
    const g = gridOf(layer);
    return onlyDx(() => avgInputGradient(g, dy, g.kh * g.kw, g.sh, g.sw));
  },

  difference(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, _p: TensorSet, _dp: TensorSet | null, out: Float64Array) {
    const g = gridOf(layer);
    avgDifference(g, dx, x.shape[1], out, 0, g.C * g.Ho * g.Wo);
  },

  differenceRows(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, rows: Rows, _p: TensorSet, out: Float64Array): Rows {
    const g = gridOf(layer);
    const reached = reachedOutputs(g, rows);
    avgDifference(g, dx, x.shape[1], out, reached[0], reached[1]);
    return reached;
  },

  kinks(_layer: Layer, _x: Tensor, _dx: Float64Array, _from: number, _to: number, _flags: Uint8Array) {
    // Linear in x: no slope jumps.
  },

  work: windowWork,
  health: noHealth,
  mistakes: avgMistakes,
} satisfies LayerKind;
