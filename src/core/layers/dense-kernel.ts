// The one dense kernel of the hot paths: the forward pass's W·A + b and the finite differences'
// W·δA. Plain loops over Float64Array, no allocation.
import type { Tensor } from '../tensor.js';

/**
 * out = start + W·D for D (inputs × m, row-major) and start a value per output row (a bias; 0 when
 * null): each output is start, then the products added over the inputs in order from 0, zero weights
 * skipped. Two output rows × four samples accumulate in registers, so that each load of D serves two
 * rows (1.6× one row at a time on the 784-wide first layer, 2–3× the row-by-row axpy loop the forward
 * pass had); every sum keeps that one order, so the results are bit for bit those of the plain loop.
 */
export function denseTimes(W: Tensor, D: Float64Array, out: Float64Array, m: number, start: Float64Array | null = null): void {
  const [rows, cols] = W.shape;
  const w = W.data;
  const m4 = m - (m % 4);
  // Rows in pairs; an odd last row is paired with itself (both halves compute the same sums and
  // write them to the same place), so that one loop nest, compiled once, does every row.
  for (let i = 0; i < rows; i += 2) {
    const j = i + 1 < rows ? i + 1 : i;
    const wa = i * cols, wb = j * cols, oa = i * m, ob = j * m;
    const sa = start ? start[i] : 0, sb = start ? start[j] : 0;
    for (let c = 0; c < m4; c += 4) {
      let a0 = sa, a1 = sa, a2 = sa, a3 = sa, b0 = sb, b1 = sb, b2 = sb, b3 = sb;
      for (let k = 0; k < cols; k++) {
        const x = w[wa + k], y = w[wb + k];
        const dk = k * m + c;
        const d0 = D[dk], d1 = D[dk + 1], d2 = D[dk + 2], d3 = D[dk + 3];
        if (x !== 0) { a0 += x * d0; a1 += x * d1; a2 += x * d2; a3 += x * d3; }
        if (y !== 0) { b0 += y * d0; b1 += y * d1; b2 += y * d2; b3 += y * d3; }
      }
      out[oa + c] = a0; out[oa + c + 1] = a1; out[oa + c + 2] = a2; out[oa + c + 3] = a3;
      out[ob + c] = b0; out[ob + c + 1] = b1; out[ob + c + 2] = b2; out[ob + c + 3] = b3;
    }
  }
  // The last m mod 4 samples, every row.
  for (let r = 0; r < rows; r++) {
    const wi = r * cols, oi = r * m;
    for (let c = m4; c < m; c++) {
      let s = start ? start[r] : 0;
      for (let k = 0; k < cols; k++) {
        const x = w[wi + k];
        if (x !== 0) s += x * D[k * m + c];
      }
      out[oi + c] = s;
    }
  }
}

/**
 * out[i][j] = s·Σ_c P[i][c]·Q[j][c] for P (rows × m) and Q (cols × m), row-major: backprop's
 * dW = s·dZ·Aᵀ. Each sum runs over c in order from 0 with every term (no zero skipped: 0·Inf must
 * stay NaN), then is scaled once, so the bits are those of the plain triple loop. Two rows of P ×
 * four rows of Q accumulate together, so that each load serves four or two products. An odd last
 * row, or the last cols mod 4 rows of Q, repeat the last one: the repeated sums are the same
 * arithmetic, written to the same place, and one loop nest does every shape.
 */
export function rowDots(P: Float64Array, Q: Float64Array, out: Float64Array, rows: number, cols: number, m: number, s: number): void {
  for (let i = 0; i < rows; i += 2) {
    const i2 = i + 1 < rows ? i + 1 : i;
    const pa = i * m, pb = i2 * m;
    for (let j = 0; j < cols; j += 4) {
      const j1 = j + 1 < cols ? j + 1 : cols - 1, j2 = j + 2 < cols ? j + 2 : cols - 1, j3 = j + 3 < cols ? j + 3 : cols - 1;
      const q0 = j * m, q1 = j1 * m, q2 = j2 * m, q3 = j3 * m;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let c = 0; c < m; c++) {
        const x = P[pa + c], y = P[pb + c];
        const e0 = Q[q0 + c], e1 = Q[q1 + c], e2 = Q[q2 + c], e3 = Q[q3 + c];
        a0 += x * e0; a1 += x * e1; a2 += x * e2; a3 += x * e3;
        b0 += y * e0; b1 += y * e1; b2 += y * e2; b3 += y * e3;
      }
      const oa = i * cols, ob = i2 * cols;
      out[oa + j] = s * a0; out[oa + j1] = s * a1; out[oa + j2] = s * a2; out[oa + j3] = s * a3;
      out[ob + j] = s * b0; out[ob + j1] = s * b1; out[ob + j2] = s * b2; out[ob + j3] = s * b3;
    }
  }
}
