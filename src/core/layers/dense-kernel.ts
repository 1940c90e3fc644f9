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
  let i = 0;
  for (; i + 1 < rows; i += 2) {
    const wa = i * cols, wb = wa + cols, oa = i * m, ob = oa + m;
    const sa = start ? start[i] : 0, sb = start ? start[i + 1] : 0;
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
  if (i < rows) {
    // The last row of an odd count.
    const wi = i * cols, oi = i * m;
    const si = start ? start[i] : 0;
    for (let c = 0; c < m4; c += 4) {
      let s0 = si, s1 = si, s2 = si, s3 = si;
      for (let k = 0; k < cols; k++) {
        const x = w[wi + k];
        if (x === 0) continue;
        const dk = k * m + c;
        s0 += x * D[dk]; s1 += x * D[dk + 1]; s2 += x * D[dk + 2]; s3 += x * D[dk + 3];
      }
      out[oi + c] = s0; out[oi + c + 1] = s1; out[oi + c + 2] = s2; out[oi + c + 3] = s3;
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
