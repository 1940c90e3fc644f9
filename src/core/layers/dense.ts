// The dense layer kind: Z = W·A + b, with W (units × inputs) and b (units × 1, when the layer has a
// bias) broadcast over the samples (columns of A).
//
//   forward      Z = W·A + b
//   backward     dW = s·dZ·Aᵀ,  db = s·Σ_samples dZ,  dA = Wᵀ·dZ
//   difference   δZ = W·δA + δW·A + δb    (linear: no cancellation to avoid, no kinks)
//                over changed rows q of δA: every row of δZ, Σ_q W[:, q]·δA[q]; W[r][q] or b[r]: row r
//   work         units·inputs multiply-adds per sample
//   health       ‖dW‖₂, the spread of W and the scale Xavier/He initialisation would give it
import { zeros, type Tensor } from '../tensor.js';
import { denseTimes, statistic, transposeFinite } from './dense-kernel.js';
import type { Layer, LayerKind, ParamSpec, Rows, TensorSet } from './kind.js';

/** W, then b when the layer has one: the order every list of a dense layer's tensors keeps. */
export function denseParams(layer: { units: number; inputs: number; bias: boolean }): ParamSpec[] {
  const W: ParamSpec = { name: 'W', shape: [layer.units, layer.inputs] };
  return layer.bias ? [W, { name: 'b', shape: [layer.units, 1] }] : [W];
}

/**
 * s·dZ·Aᵀ: each element s times its sum over the samples in order from 0. With A finite that is
 * the forward pass's kernel on Aᵀ, which V8 has optimised by then: the kernel skips the terms of a
 * zero dZ, and a term 0·a = ±0 changes no sum that starts at +0. A non-finite A (where 0·Inf = NaN
 * must stay) takes the plain loop.
 */
export function weightGradient(dZ: Tensor, A: Tensor, s: number): Tensor {
  const rows = dZ.shape[0], cols = A.shape[0], m = dZ.shape[1];
  const out = zeros([rows, cols]);
  const o = out.data;
  // Aᵀ and whether A is finite, in one pass (dense-kernel.ts).
  const At = new Float64Array(cols * m);
  if (transposeFinite(A.data, cols, m, At)) {
    denseTimes(dZ, At, o, cols);
    // s·sum as the plain loop has it (1·x = x: backprop passes s = 1 and scales later).
    if (s !== 1) for (let i = 0; i < o.length; i++) o[i] = s * o[i];
    return out;
  }
  const z = dZ.data, a = A.data;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let c = 0; c < m; c++) sum += z[i * m + c] * a[j * m + c];
      o[i * cols + j] = s * sum;
    }
  }
  return out;
}

/**
 * s·Σ_columns dZ, as a units × 1 matrix. The row sums are dZ·1, the kernel's sums over the samples
 * in order (x·1 = x, and a skipped zero changes no sum that starts at +0), in code V8 has optimised.
 */
export function biasGradient(dZ: Tensor, s: number): Tensor {
  const [rows, m] = dZ.shape;
  const out = zeros([rows, 1]);
  const o = out.data;
  denseTimes(dZ, new Float64Array(m).fill(1), o, 1);
  if (s !== 1) for (let i = 0; i < rows; i++) o[i] = s * o[i];
  return out;
}

/**
 * dA = Wᵀ·dZ: each output row k sums W[i][k]·dZ[i] over the rows i in order from 0, zero weights
 * skipped. That is the forward pass's kernel on Wᵀ (the same sums, in the same order), which the
 * forward pass has just had V8 optimise.
 */
export function inputGradient(W: Tensor, dZ: Tensor): Tensor {
  const m = dZ.shape[1];
  const [rows, cols] = W.shape;
  const out = zeros([cols, m]);
  const Wt = new Float64Array(rows * cols);
  transposeFinite(W.data, rows, cols, Wt);
  denseTimes({ shape: [cols, rows], data: Wt }, dZ.data, out.data, m);
  return out;
}

/** ‖v‖₂, scaled by the largest magnitude so that neither tiny nor huge values under- or overflow. */
export function norm(data: Float64Array): number {
  // By the WebAssembly kernel where it runs (dense-kernel.ts), the same operations as below.
  const compiled = statistic('norm', data);
  if (compiled !== null) return compiled;
  // Indexed loops without a builtin call per element (here and in std): health runs once per
  // check, in V8's interpreter, where for…of costs an iterator call per element and Math.max,
  // Math.abs and ** a runtime call each (x ** 2 is x·x: fdlibm's pow returns x·x for y = 2).
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i], a = x < 0 ? -x : x;
    // Math.max(max, |x|): a NaN, once met, is kept.
    if (a > max || a !== a) max = a;
  }
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (let i = 0; i < data.length; i++) {
    const r = data[i] / max;
    s += r * r;
  }
  return max * Math.sqrt(s);
}

/** The population standard deviation. */
export function std(data: Float64Array): number {
  const compiled = statistic('std', data);
  if (compiled !== null) return compiled;
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i];
  mean /= data.length;
  let s = 0;
  for (let i = 0; i < data.length; i++) {
    const d = data[i] - mean;
    s += d * d;
  }
  return Math.sqrt(s / data.length);
}

export const dense = {
  name: 'dense',
  params: denseParams,
  outputShape: (layer: Layer, input: readonly number[]) => [layer.units, input[1]],

  forward(layer: Layer, x: Tensor, p: TensorSet): Tensor {
    // Each output is b, then W's products added in order (dense-kernel.ts).
    const z = zeros(dense.outputShape(layer, x.shape));
    denseTimes(p.W, x.data, z.data, x.shape[1], p.b ? p.b.data : null);
    return z;
  },

  backward(_layer: Layer, x: Tensor, _y: Tensor, dy: Tensor, p: TensorSet, s: number) {
    const dparams: Record<string, () => Tensor> = { W: () => weightGradient(dy, x, s) };
    if (p.b) dparams.b = () => biasGradient(dy, s);
    return { dx: () => inputGradient(p.W, dy), dparams };
  },

  difference(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, p: TensorSet, dp: TensorSet | null, out: Float64Array) {
    // δZ[r][c] = Σ_q W[r][q]·δA[q][c] (+ Σ_q δW[r][q]·A[q][c]) (+ δb[r]), summed in that order.
    const W = p.W.data, A = x.data;
    const units = layer.units, inputs = layer.inputs, m = x.shape[1];
    const dW = dp?.W?.data, db = dp?.b?.data;
    for (let r = 0; r < units; r++) {
      for (let c = 0; c < m; c++) {
        let z = 0;
        for (let q = 0; q < inputs; q++) z += W[r * inputs + q] * dx[q * m + c];
        if (dW) for (let q = 0; q < inputs; q++) z += dW[r * inputs + q] * A[q * m + c];
        if (db) z += db[r];
        out[r * m + c] = z;
      }
    }
  },

  kinks(_layer: Layer, _x: Tensor, _dx: Float64Array, _from: number, _to: number, _flags: Uint8Array) {
    // Linear in x and in the parameters: no slope jumps.
  },

  differenceRows(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, rows: Rows, p: TensorSet, out: Float64Array): Rows {
    // δZ[r][c] = Σ_{q in rows} W[r][q]·δA[q][c], added over q in order from 0 as in `difference`
    // (whose other terms are W·0: exact zeros that change no sum), every output row. Row by row
    // as axpys over the samples, zero weights skipped; out starts at 0.
    const W = p.W.data, units = layer.units, inputs = layer.inputs, m = x.shape[1];
    if (rows[1] - rows[0] === 1) {
      // One changed row q (a rank-one change): δZ[r] = W[r][q]·δA[q], the sum's one term.
      const q = rows[0], d = q * m;
      for (let r = 0; r < units; r++) {
        const w = W[r * inputs + q], o = r * m;
        if (w !== 0) for (let c = 0; c < m; c++) out[o + c] = w * dx[d + c];
      }
      return [0, units];
    }
    if (rows[0] === 0 && rows[1] === inputs) {
      // Every input changed: the forward pass's kernel, the same sums in the same order.
      denseTimes(p.W, dx, out, m);
      return [0, units];
    }
    for (let r = 0; r < units; r++) {
      const o = r * m;
      for (let q = rows[0]; q < rows[1]; q++) {
        const w = W[r * inputs + q];
        if (w === 0) continue;
        const d = q * m;
        for (let c = 0; c < m; c++) out[o + c] += w * dx[d + c];
      }
    }
    return [0, units];
  },

  paramChange(layer: Layer, x: Tensor, _y: Tensor, _p: TensorSet, name: string, index: number, h: number, out: Float64Array): Rows {
    // W[r][q] += h changes row r alone, by h·A[q]; b[r] += h row r, by h.
    const m = x.shape[1];
    const r = name === 'W' ? Math.floor(index / layer.inputs) : index;
    const o = r * m;
    if (name === 'W') {
      const a = (index % layer.inputs) * m;
      for (let c = 0; c < m; c++) out[o + c] = h * x.data[a + c];
    } else {
      out.fill(h, o, o + m);
    }
    return [r, r + 1];
  },

  work: (layer: Layer) => layer.units * layer.inputs,

  health(layer: Layer, _x: Tensor, _y: Tensor, p: TensorSet, g: TensorSet) {
    // He initialisation for ReLU-like activations (gain² = 2), Xavier (gain² = 1) otherwise.
    const gainSquared = layer.activation.family === 'relu' ? 2 : 1;
    return { gradientNorm: norm(g.W.data), weightScale: std(p.W.data), recommendedScale: Math.sqrt(gainSquared / layer.inputs) };
  },
} satisfies LayerKind;
