// The conv2d layer kind: cross-correlation with zero padding and a stride, as PyTorch's
// torch.nn.functional.conv2d and cs231n's conv_forward_naive compute it. W is (F, C, kh, kw), b
// (F, 1); values are blocks of features × samples with image rows in (C, H, W) order (window.ts).
//
//   forward      y[f,i,j] = b[f] + Σ_{c,u,v} W[f,c,u,v]·x[c, i·sh+u−ph, j·sw+v−pw]   (x = 0 outside)
//   backward     dx[c,r,q] = Σ_{f,i,j,u,v: i·sh+u−ph = r, j·sw+v−pw = q} W[f,c,u,v]·dy[f,i,j]
//                dW[f,c,u,v] = s·Σ_{samples,i,j} dy[f,i,j]·x[c, i·sh+u−ph, j·sw+v−pw]
//                db[f] = s·Σ_{samples,i,j} dy[f,i,j]
//   difference   δy = conv(δx; W) + conv(x; δW) + δb    (linear: no cancellation to avoid, no kinks;
//                one change at a time, δx or δθ, as the finite differences make them and dense.ts)
//   work         F·C·kh·kw·H'·W' multiply-adds per sample
//   health       ‖dW‖₂, the spread of W and the scale He/Xavier initialisation gives a fan-in C·kh·kw
import { zeros, type Tensor } from '../tensor.js';
import { norm, std } from './dense.js';
import type { Backward, KindMistake, Layer, LayerKind, ParamSpec, Rows, TensorSet } from './kind.js';
import { gridOf, touched, type Grid } from './window.js';

/**
 * Where a code puts window (i, j)'s element (u, v) in the input: row i·sh + u − ph, column
 * j·sw + v − pw, W read as given or rotated by 180° (W[f, c, kh−1−u, kw−1−v]). The right backward
 * places it as forward reads it; the mistaken ones change one of these.
 */
interface Placement { sh: number; sw: number; ph: number; pw: number; flipped: boolean }

function forwardPlacement(g: Grid): Placement {
  return { sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, flipped: false };
}

/**
 * out[f,i,j] += Σ_{c,u,v} K[f,c,u,v]·D[c, i·sh+u−ph, j·sw+v−pw] for the output rows i0 … i1 of
 * every filter and the input channels c0 … c1 (the others add only zeros), each term added in the
 * order c, u, v, sample by sample.
 */
function correlate(g: Grid, K: Float64Array, D: Float64Array, m: number, out: Float64Array, c0: number, c1: number, i0: number, i1: number): void {
  const { C, H, W, F, Wo, kh, kw, sh, sw, ph, pw } = g;
  for (let f = 0; f < F; f++) {
    for (let i = i0; i <= i1; i++) {
      for (let j = 0; j < Wo; j++) {
        const o = ((f * g.Ho + i) * Wo + j) * m;
        for (let c = c0; c <= c1; c++) {
          for (let u = 0; u < kh; u++) {
            const r = i * sh + u - ph;
            if (r < 0 || r >= H) continue;
            for (let v = 0; v < kw; v++) {
              const q = j * sw + v - pw;
              if (q < 0 || q >= W) continue;
              const k = K[((f * C + c) * kh + u) * kw + v];
              const d = ((c * H + r) * W + q) * m;
              for (let n = 0; n < m; n++) out[o + n] += k * D[d + n];
            }
          }
        }
      }
    }
  }
}

/** dx: every window's W·dy scattered back to the input positions the placement gives it. */
function inputGradient(g: Grid, Wt: Float64Array, dy: Tensor, at: Placement): Tensor {
  const { C, H, W, F, Ho, Wo, kh, kw } = g;
  const m = dy.shape[1];
  const dx = zeros([C * H * W, m]);
  const out = dx.data, D = dy.data;
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const o = ((f * Ho + i) * Wo + j) * m;
        for (let c = 0; c < C; c++) {
          for (let u = 0; u < kh; u++) {
            const r = i * at.sh + u - at.ph;
            if (r < 0 || r >= H) continue;
            for (let v = 0; v < kw; v++) {
              const q = j * at.sw + v - at.pw;
              if (q < 0 || q >= W) continue;
              const k = at.flipped ? Wt[((f * C + c) * kh + kh - 1 - u) * kw + kw - 1 - v] : Wt[((f * C + c) * kh + u) * kw + v];
              const d = ((c * H + r) * W + q) * m;
              for (let n = 0; n < m; n++) out[d + n] += k * D[o + n];
            }
          }
        }
      }
    }
  }
  return dx;
}

/** dW = s·Σ over the samples n0 … m−1 and the positions of dy[f,i,j]·x at the placement. */
function weightGradient(g: Grid, x: Tensor, dy: Tensor, s: number, at: Placement, n0: number): Tensor {
  const { C, H, W, F, Ho, Wo, kh, kw } = g;
  const m = dy.shape[1];
  const dW = zeros([F, C, kh, kw]);
  const X = x.data, D = dy.data;
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          let sum = 0;
          for (let i = 0; i < Ho; i++) {
            const r = i * at.sh + u - at.ph;
            if (r < 0 || r >= H) continue;
            for (let j = 0; j < Wo; j++) {
              const q = j * at.sw + v - at.pw;
              if (q < 0 || q >= W) continue;
              const o = ((f * Ho + i) * Wo + j) * m, d = ((c * H + r) * W + q) * m;
              for (let n = n0; n < m; n++) sum += D[o + n] * X[d + n];
            }
          }
          dW.data[((f * C + c) * kh + u) * kw + v] = s * sum;
        }
      }
    }
  }
  return dW;
}

/** db[f] = s·Σ_{samples, i, j} dy[f,i,j], divided by `per` (1 right; H'·W' for a mean over positions). */
function biasGradient(g: Grid, dy: Tensor, s: number, per: number): Tensor {
  const m = dy.shape[1], plane = g.Ho * g.Wo * m;
  const db = zeros([g.F, 1]);
  for (let f = 0; f < g.F; f++) {
    let sum = 0;
    for (let k = f * plane; k < (f + 1) * plane; k++) sum += dy.data[k];
    db.data[f] = (s * sum) / per;
  }
  return db;
}

/** A conv2d backward made of the given dx, dW and db rules (the right one: forward's placement throughout). */
function convBackward(layer: Layer, x: Tensor, dy: Tensor, p: TensorSet, s: number, rules: { dx?: Placement; dW?: Placement; lastSampleOnly?: boolean; dbPer?: number } = {}): Backward {
  const g = gridOf(layer);
  const right = forwardPlacement(g);
  const dparams: Record<string, () => Tensor> = {
    W: () => weightGradient(g, x, dy, s, rules.dW ?? right, rules.lastSampleOnly ? dy.shape[1] - 1 : 0),
  };
  if (p.b) dparams.b = () => biasGradient(g, dy, s, rules.dbPer ?? 1);
  return { dx: () => inputGradient(g, p.W.data, dy, rules.dx ?? right), dparams };
}

// ---- the mistakes people make in conv_backward (cs231n's conv_backward_naive and its cousins) ----

const mistakes: Record<string, KindMistake> = {
  'conv-stride-ignored': {
    says: 'the backward pass takes window (i, j) at offset (i, j) instead of (i·stride, j·stride), for dx and dW',
    fix: 'slice the window at the strided offset, for dW and dx alike: window = x_pad[n, :, i*stride:i*stride+kh, j*stride:j*stride+kw]; dx_pad[n, :, i*stride:i*stride+kh, j*stride:j*stride+kw] += W[f] * dout[n, f, i, j]',
    appliesTo: (layer) => {
      const g = gridOf(layer);
      return (g.sh > 1 && g.Ho > 1) || (g.sw > 1 && g.Wo > 1);
    },
    backward: (layer, x, _y, dy, p, s) => {
      const g = gridOf(layer);
      const unstrided = { ...forwardPlacement(g), sh: 1, sw: 1 };
      return convBackward(layer, x, dy, p, s, { dx: unstrided, dW: unstrided });
    },
  },
  'conv-padding-not-stripped': {
    says: 'dx is the top-left H×W corner of the padded gradient (dx_pad[:, :, :H, :W]) instead of its interior, so it is shifted by the padding',
    fix: 'strip the padding from both sides: dx = dx_pad[:, :, pad:-pad, pad:-pad]',
    appliesTo: (layer) => {
      const g = gridOf(layer);
      return g.ph > 0 || g.pw > 0;
    },
    backward: (layer, x, _y, dy, p, s) => convBackward(layer, x, dy, p, s, { dx: { ...forwardPlacement(gridOf(layer)), ph: 0, pw: 0 } }),
  },
  'conv-kernel-flipped': {
    says: 'dx is computed with the kernel rotated by 180° (a convolution) where forward is a cross-correlation',
    fix: 'scatter each window with W as forward uses it: dx_pad[n, :, i*stride:i*stride+kh, j*stride:j*stride+kw] += W[f] * dout[n, f, i, j] (no np.flip / [::-1, ::-1])',
    appliesTo: (layer) => {
      const g = gridOf(layer);
      return g.kh * g.kw > 1;
    },
    backward: (layer, x, _y, dy, p, s) => convBackward(layer, x, dy, p, s, { dx: { ...forwardPlacement(gridOf(layer)), flipped: true } }),
  },
  'conv-dw-not-summed': {
    says: 'dW is the last sample’s alone (dW = … where the loop over the samples needs dW += …)',
    fix: 'accumulate over the samples: dW += x_pad[n, :, window] * dout[n, f, i, j] inside the loop over n',
    appliesTo: (_layer, samples) => samples > 1,
    backward: (layer, x, _y, dy, p, s) => convBackward(layer, x, dy, p, s, { lastSampleOnly: true }),
  },
  'conv-db-not-summed': {
    says: 'db is the mean of dZ over the output positions instead of their sum (np.mean(dZ, axis=(0, 2, 3)) divides by m·H\'·W\', the dense layer’s mean over the samples carried over)',
    fix: 'sum over the positions, average over the samples only: db = np.sum(dZ, axis=(0, 2, 3)) / m (no / m for a summed loss)',
    appliesTo: (layer) => {
      const g = gridOf(layer);
      return g.Ho * g.Wo > 1;
    },
    backward: (layer, x, _y, dy, p, s) => {
      const g = gridOf(layer);
      return convBackward(layer, x, dy, p, s, { dbPer: g.Ho * g.Wo });
    },
  },
};

/** W (filters, C, kh, kw), then b (filters, 1) when the entry has one. */
function convParams(layer: Layer): ParamSpec[] {
  const g = gridOf(layer);
  const W: ParamSpec = { name: 'W', shape: [g.F, g.C, g.kh, g.kw] };
  return layer.bias ? [W, { name: 'b', shape: [g.F, 1] }] : [W];
}

export const conv2d = {
  name: 'conv2d',
  params: convParams,
  outputShape: (layer: Layer, input: readonly number[]) => [layer.units, input[1]],

  forward(layer: Layer, x: Tensor, p: TensorSet): Tensor {
    // Each output starts at b[f], then adds the window's products in the order c, u, v.
    const g = gridOf(layer);
    const m = x.shape[1];
    const y = zeros(conv2d.outputShape(layer, x.shape));
    if (p.b) {
      const plane = g.Ho * g.Wo * m;
      for (let f = 0; f < g.F; f++) y.data.fill(p.b.data[f], f * plane, (f + 1) * plane);
    }
    correlate(g, p.W.data, x.data, m, y.data, 0, g.C - 1, 0, g.Ho - 1);
    return y;
  },

  backward: (layer: Layer, x: Tensor, _y: Tensor, dy: Tensor, p: TensorSet, s: number) => convBackward(layer, x, dy, p, s),

  difference(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, p: TensorSet, dp: TensorSet | null, out: Float64Array) {
    // δy = conv(δx; W) + conv(x; δW) + δb, each output's terms added in that order.
    const g = gridOf(layer);
    const m = x.shape[1];
    out.fill(0);
    correlate(g, p.W.data, dx, m, out, 0, g.C - 1, 0, g.Ho - 1);
    if (dp?.W) correlate(g, dp.W.data, x.data, m, out, 0, g.C - 1, 0, g.Ho - 1);
    if (dp?.b) {
      const plane = g.Ho * g.Wo * m;
      for (let f = 0; f < g.F; f++) for (let k = f * plane; k < (f + 1) * plane; k++) out[k] += dp.b.data[f];
    }
  },

  differenceRows(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, rows: Rows, p: TensorSet, out: Float64Array): Rows {
    // Only the channels the change touches add anything but zeros, and only the output rows whose
    // windows reach it change: the same sums as `difference`, without the terms that add 0.
    const g = gridOf(layer);
    const { c0, c1, i0, i1 } = touched(g, rows);
    if (i0 > i1) return [0, 0];
    correlate(g, p.W.data, dx, x.shape[1], out, c0, c1, i0, i1);
    return [i0 * g.Wo, ((g.F - 1) * g.Ho + i1 + 1) * g.Wo];
  },

  paramChange(layer: Layer, x: Tensor, _y: Tensor, _p: TensorSet, name: string, index: number, h: number, out: Float64Array): Rows {
    // W[f,c,u,v] + h moves only filter f's outputs, by h·x at each window's (u, v); b[f] + h moves
    // them all by h. Added to out's zeros, as `difference` adds to its.
    const g = gridOf(layer);
    const m = x.shape[1];
    const plane = g.Ho * g.Wo * m;
    if (name === 'b') {
      for (let k = index * plane; k < (index + 1) * plane; k++) out[k] += h;
      return [index * g.Ho * g.Wo, (index + 1) * g.Ho * g.Wo];
    }
    const v = index % g.kw, u = Math.floor(index / g.kw) % g.kh;
    const c = Math.floor(index / (g.kw * g.kh)) % g.C, f = Math.floor(index / (g.kw * g.kh * g.C));
    // The grid in locals: this runs on every step of W's elements, mostly before V8 optimises it.
    const X = x.data, Ho = g.Ho, Wo = g.Wo, H = g.H, W = g.W, sh = g.sh, sw = g.sw, ph = g.ph, pw = g.pw;
    for (let i = 0; i < Ho; i++) {
      const r = i * sh + u - ph;
      if (r < 0 || r >= H) continue;
      for (let j = 0; j < Wo; j++) {
        const q = j * sw + v - pw;
        if (q < 0 || q >= W) continue;
        const o = ((f * Ho + i) * Wo + j) * m, d = ((c * H + r) * W + q) * m;
        for (let n = 0; n < m; n++) out[o + n] += h * X[d + n];
      }
    }
    return [f * g.Ho * g.Wo, (f + 1) * g.Ho * g.Wo];
  },

  kinks(_layer: Layer, _x: Tensor, _dx: Float64Array, _from: number, _to: number, _flags: Uint8Array) {
    // Linear in x and in the parameters: no slope jumps.
  },

  work(layer: Layer) {
    const g = gridOf(layer);
    return g.F * g.C * g.kh * g.kw * g.Ho * g.Wo;
  },

  health(layer: Layer, _x: Tensor, _y: Tensor, p: TensorSet, g: TensorSet) {
    // He initialisation for ReLU-like activations (gain² = 2), Xavier (gain² = 1) otherwise, over
    // the fan-in of one output: C·kh·kw.
    const grid = gridOf(layer);
    const gainSquared = layer.activation.family === 'relu' ? 2 : 1;
    return { gradientNorm: norm(g.W.data), weightScale: std(p.W.data), recommendedScale: Math.sqrt(gainSquared / (grid.C * grid.kh * grid.kw)) };
  },

  mistakes,
} satisfies LayerKind;
