// The one dense kernel of the hot paths: the forward pass's W·A + b, the finite differences' W·δA,
// and backprop's Wᵀ·dZ and dZ·Aᵀ (layers/dense.ts); with it, the loops a check runs once or a few
// times, cold (scans, backprop's gates and hook scales, a directional step's pieces, health). It
// runs as WebAssembly (dense.wat), compiled on first use (wasm-module.ts); the plain loops here and
// in the callers are the reference it is held to (test/dense-wasm.test.ts) and the fallback.
import type { Tensor } from '../tensor.js';
import { DENSE_WASM } from './dense-wasm.js';
import { kernelModule, wasmTurnedOff } from '../wasm-module.js';

/** The exports of dense.wat; every pointer is a byte offset into its memory. */
interface DenseExports {
  denseTimes: (...args: number[]) => void;
  transpose: (...args: number[]) => number;
  histogram: (...args: number[]) => void;
  norm: (src: number, n: number) => number;
  std: (src: number, n: number) => number;
  finite: (src: number, n: number) => number;
  maxAbs: (src: number, n: number) => number;
  outer: (U: number, n: number, V: number, m: number, h: number, O: number) => void;
  gate: (kind: number, Z: number, A: number, DA: number, n: number, slope: number, DZ: number) => void;
  pieces: (Z: number, n: number, slope: number, A: number) => void;
  finiteRange: (src: number, n: number, OUT: number) => void;
  bilinear: (U: number, n: number, G: number, cols: number, V: number) => number;
  hooks: (P: number, PEN: number, n: number, k: number, s: number, beta: number, hasPen: number, O: number) => void;
  relu: (slope: number, Z: number, A: number, DX: number, n: number, hasFlags: number, FLAGS: number, m: number, c0: number, OUT: number) => void;
  memory: WebAssembly.Memory;
}
/** The kernel in WebAssembly, instantiated on first use; null where it cannot be. */
let wasm: DenseExports | null | undefined;

/** Above this many bytes of operands the plain loop runs (WebAssembly's offsets here are 32-bit). */
const WASM_MAX_BYTES = 2 ** 30;

const denseModule = kernelModule(DENSE_WASM);

/** The kernel for operands of `bytes`, unless they are too large for it or it is turned off. */
function kernelFor(bytes: number): typeof wasm {
  return bytes <= WASM_MAX_BYTES && !wasmTurnedOff() ? wasmKernel() : null;
}

function wasmKernel(): typeof wasm {
  if (wasm !== undefined) return wasm;
  const module = denseModule.get();
  if (!module) return (wasm = null);
  try {
    wasm = new WebAssembly.Instance(module, {}).exports as unknown as DenseExports;
  } catch {
    // No WebAssembly in this runtime: the plain loop gives the same numbers.
    wasm = null;
  }
  return wasm;
}

/** Which kernel denseTimes runs (for the tests and the benchmark's notes). */
export function denseKernel(): 'webassembly' | 'javascript' {
  return kernelFor(0) ? 'webassembly' : 'javascript';
}

/**
 * out = start + W·D, as denseTimesPlain below: by the WebAssembly kernel (dense.wat, the same
 * operations in the same order, so the same bits), which runs compiled from its first call, where
 * V8 would run the loop below in its interpreter until it had compiled it (most of a check in a
 * fresh process: 30–40 ms of products cold against 5 ms, 1 ms warm against 1.5–4). The operands
 * are copied into its memory and the result out (memcpy, not loops).
 */
export function denseTimes(W: Tensor, D: Float64Array, out: Float64Array, m: number, start: Float64Array | null = null): void {
  const [rows, cols] = W.shape;
  const held = kernelMemory(rows * cols + cols * m + rows + rows * m);
  if (!held) {
    denseTimesPlain(W, D, out, m, start);
    return;
  }
  const { kernel, f } = held;
  const w = 0, d = rows * cols, s = d + cols * m, o = s + rows;
  f.set(W.data.subarray(0, rows * cols), w);
  f.set(D.subarray(0, cols * m), d);
  if (start) f.set(start.subarray(0, rows), s);
  kernel.denseTimes(rows, cols, m, w * 8, d * 8, s * 8, start ? 1 : 0, o * 8);
  out.set(f.subarray(o, o + rows * m));
}

/**
 * The kernel for operands of `doubles` values, and its memory as doubles, grown to hold them;
 * null where the plain loops run (too large, turned off, no WebAssembly).
 */
function kernelMemory(doubles: number): { kernel: DenseExports; f: Float64Array } | null {
  const kernel = kernelFor(doubles * 8);
  if (!kernel) return null;
  const { memory } = kernel;
  if (memory.buffer.byteLength < doubles * 8) memory.grow(Math.ceil((doubles * 8 - memory.buffer.byteLength) / 65536));
  return { kernel, f: new Float64Array(memory.buffer) };
}

/**
 * out = Mᵀ for M rows × cols (row-major; out cols × rows), and whether every value of M is finite
 * (allFinite): by the WebAssembly kernel (dense.wat, transpose) where it runs, in one pass and
 * compiled from its first call, where V8's interpreter would run two loops over M (backprop
 * transposes each layer's input and weights once per check, cold); the loops where it does not
 * (or BACKPROP_CHECK_WASM=0, as rows-kernel.ts). The same values either way: a transpose only moves them.
 */
export function transposeFinite(M: Float64Array, rows: number, cols: number, out: Float64Array): boolean {
  const n = rows * cols;
  const held = kernelMemory(2 * n);
  if (!held) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = M[i * cols + j];
    return allFinite(M.subarray(0, n));
  }
  const { kernel, f } = held;
  f.set(M.subarray(0, n), 0);
  const finite = kernel.transpose(0, rows, cols, n * 8) === 1;
  out.set(f.subarray(n, 2 * n));
  return finite;
}

/**
 * An activation's histogram by the kernel (dense.wat, histogram; the loop in layers/activation.ts
 * is the reference, the same comparisons and arithmetic): counts[b] for b < bins, then the
 * non-finite values, the finite ones whose bin is NaN, and those below satLo or above satHi.
 * null where the kernel does not run (or BACKPROP_CHECK_WASM=0, as rows-kernel.ts). Health runs
 * once per check, cold: compiled code from the first value, where the interpreter takes a heap
 * number per value.
 */
export function histogramCounts(data: Float64Array, lo: number, width: number, bins: number, satLo: number, satHi: number): Int32Array | null {
  const n = data.length;
  const held = kernelMemory(n + bins + 3);
  if (!held) return null;
  const { kernel, f } = held;
  f.set(data, 0);
  kernel.histogram(0, n, lo, width, bins, satLo, satHi, n * 8);
  return new Int32Array(f.buffer, n * 8, bins + 3).slice();
}

/**
 * A dense layer's norm or std (layers/dense.ts, whose loops are the reference: the same operations
 * in the same order) by the kernel, over every value of data; null where the kernel does not run
 * (or BACKPROP_CHECK_WASM=0). Health runs once per check, cold.
 */
export function statistic(which: 'norm' | 'std', data: Float64Array): number | null {
  const n = data.length;
  const held = kernelMemory(n);
  if (!held) return null;
  held.f.set(data, 0);
  return held.kernel[which](0, n);
}

/**
 * out = start + W·D for D (inputs × m, row-major) and start a value per output row (a bias; 0 when
 * null): each output is start, then the products added over the inputs in order from 0, zero weights
 * skipped. Two output rows × four samples accumulate in registers, so that each load of D serves two
 * rows (1.6× one row at a time on the 784-wide first layer, 2–3× the row-by-row axpy loop the forward
 * pass had); every sum keeps that one order, so the results are bit for bit those of the plain loop.
 *
 * One loop nest does every shape: an odd last row is paired with itself, and the last block of
 * fewer than four samples repeats its last sample. A repeated sum is the same arithmetic on the
 * same numbers, written to the same place. (Separate loops for those cases ran for the first time
 * after V8 had optimised the main one, at a one-unit output layer, and sent it back to the
 * interpreter each time.)
 */
export function denseTimesPlain(W: Tensor, D: Float64Array, out: Float64Array, m: number, start: Float64Array | null = null): void {
  const [rows, cols] = W.shape;
  const w = W.data;
  // The clamps below are selections, not arithmetic: no operation first runs after V8 has
  // optimised the kernel for other shapes, which would send it back to the interpreter for want
  // of type feedback.
  for (let i = 0; i < rows; i += 2) {
    const next = i + 1, j = next < rows ? next : i;
    const wa = i * cols, wb = j * cols, oa = i * m, ob = j * m;
    const sa = start ? start[i] : 0, sb = start ? start[j] : 0;
    for (let c = 0; c < m; c += 4) {
      // Offsets of the block's other three samples from c (the last sample repeated past m).
      const r = m - 1 - c, o1 = r < 1 ? r : 1, o2 = r < 2 ? r : 2, o3 = r < 3 ? r : 3;
      let a0 = sa, a1 = sa, a2 = sa, a3 = sa, b0 = sb, b1 = sb, b2 = sb, b3 = sb;
      for (let k = 0; k < cols; k++) {
        const x = w[wa + k], y = w[wb + k];
        const dk = k * m + c;
        const d0 = D[dk], d1 = D[dk + o1], d2 = D[dk + o2], d3 = D[dk + o3];
        if (x !== 0) { a0 += x * d0; a1 += x * d1; a2 += x * d2; a3 += x * d3; }
        if (y !== 0) { b0 += y * d0; b1 += y * d1; b2 += y * d2; b3 += y * d3; }
      }
      out[oa + c] = a0; out[oa + c + o1] = a1; out[oa + c + o2] = a2; out[oa + c + o3] = a3;
      out[ob + c] = b0; out[ob + c + o1] = b1; out[ob + c + o2] = b2; out[ob + c + o3] = b3;
    }
  }
}

/**
 * Whether every value is finite, by the kernel (dense.wat, finite) where it runs: the scans of a
 * check's tensors run once, cold. Otherwise, and as the reference: x·0 is ±0 for a finite x and NaN for ±Inf and NaN, so the sum is
 * 0 exactly when all are. One multiply-add per value and no call (Number.isFinite is one per
 * value until V8 has optimised the loop, and these scans run once per check).
 */
export function allFinite(d: Float64Array): boolean {
  const held = kernelMemory(d.length);
  if (held) {
    held.f.set(d, 0);
    return held.kernel.finite(0, d.length) === 1;
  }
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * 0;
  return s === 0;
}

/**
 * The largest |x| of d, from 0 (a NaN never exceeds it; an Infinity does): by the kernel where it
 * runs (dense.wat, maxAbs), where these once-per-tensor scans would run in V8's interpreter.
 */
export function maxAbsOf(d: Float64Array): number {
  const held = kernelMemory(d.length);
  if (held) {
    held.f.set(d, 0);
    return held.kernel.maxAbs(0, d.length);
  }
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    // |x| by a comparison, not Math.abs: a call per value until V8 has optimised the loop.
    const x = d[i], a = x < 0 ? -x : x;
    if (a > m) m = a;
  }
  return m;
}

/**
 * out[i·m + c] = (u[i]·v[c])·h for i < u.length, c < m = v.length: by the kernel where it runs
 * (dense.wat, outer; the loop below, the same products, where it does not). A directional check
 * forms it for each step along a rank-one direction of W, cold.
 */
export function scaledOuter(u: Float64Array, v: Float64Array, h: number, out: Float64Array): void {
  const n = u.length, m = v.length;
  const held = kernelMemory(n + m + n * m);
  if (!held) {
    for (let i = 0; i < n; i++) {
      const ui = u[i], o = i * m;
      for (let c = 0; c < m; c++) out[o + c] = ui * v[c] * h;
    }
    return;
  }
  const { kernel, f } = held;
  f.set(u, 0);
  f.set(v, n);
  kernel.outer(0, n, n * 8, m, h, (n + m) * 8);
  out.set(f.subarray(n + m, n + m + n * m));
}

/** The derivatives backprop's gates write in (records/activations.ts): tanh 1 − a², sigmoid a·(1 − a), piecewise linear (z > 0 ? 1 : slope). */
export type Gate = 'tanh' | 'sigmoid' | 'pieces';
const GATE_KIND: Record<Gate, number> = { tanh: 0, sigmoid: 1, pieces: 2 };

/**
 * dz[i] = da[i]·g'(z[i], a[i]) for i < n by the kernel (dense.wat, gate: the records' loops, the same
 * operations); false, with nothing written, where it does not run. Backprop runs these once per
 * check, cold, where V8's interpreter takes a heap number per element.
 */
export function gateBackward(gate: Gate, z: Float64Array, a: Float64Array, da: Float64Array, dz: Float64Array, n: number, slope = 0): boolean {
  const held = kernelMemory(4 * n);
  if (!held) return false;
  const { kernel, f } = held;
  if (gate === 'pieces') f.set(z.subarray(0, n), 0);
  else f.set(a.subarray(0, n), n);
  f.set(da.subarray(0, n), 2 * n);
  kernel.gate(GATE_KIND[gate], 0, n * 8, 2 * n * 8, n, slope, 3 * n * 8);
  dz.set(f.subarray(3 * n, 4 * n));
  return true;
}

/** a[i] = z[i] where z[i] > 0, else slope·z[i], for i < n, by the kernel (dense.wat, pieces); false where it does not run. */
export function piecesForward(z: Float64Array, a: Float64Array, n: number, slope: number): boolean {
  const held = kernelMemory(2 * n);
  if (!held) return false;
  const { kernel, f } = held;
  f.set(z.subarray(0, n), 0);
  kernel.pieces(0, n, slope, n * 8);
  a.set(f.subarray(n, 2 * n));
  return true;
}

/** The least and greatest finite value of data by the kernel (dense.wat, finiteRange; layers/activation.ts holds the loop), or null where it does not run. */
export function finiteRangeKernel(data: Float64Array): [number, number] | null {
  const n = data.length;
  const held = kernelMemory(n + 2);
  if (!held) return null;
  const { kernel, f } = held;
  f.set(data, 0);
  kernel.finiteRange(0, n, n * 8);
  return [f[n], f[n + 1]];
}

/**
 * reluDifference of layers/activation.ts over flat positions from … to by the kernel (dense.wat,
 * relu: the same arithmetic and marks), the layer's m samples per row; false, with nothing
 * written, where it does not run.
 */
export function reluKernel(
  slope: number, Z: Float64Array, A: Float64Array, dx: Float64Array, out: Float64Array, from: number, to: number, flags: Uint8Array | null, m: number,
): boolean {
  const n = to - from;
  if (n <= 0) return true;
  const held = kernelMemory(4 * n + Math.ceil(m / 8));
  if (!held) return false;
  const { kernel, f } = held;
  f.set(Z.subarray(from, to), 0);
  f.set(A.subarray(from, to), n);
  f.set(dx.subarray(from, to), 2 * n);
  const marks = 4 * n * 8;
  const bytes = new Uint8Array(f.buffer, marks, m);
  if (flags) bytes.set(flags.subarray(0, m));
  kernel.relu(slope, 0, n * 8, 2 * n * 8, n, flags ? 1 : 0, marks, m, from % m, 3 * n * 8);
  out.set(f.subarray(3 * n, 4 * n), from);
  if (flags) flags.set(bytes);
  return true;
}

/** uᵀ·G·v for G u.length × v.length by the kernel (dense.wat, bilinear: alongDirection's loops, every term added in order), or null where it does not run. */
export function bilinearKernel(u: Float64Array, G: Float64Array, v: Float64Array): number | null {
  const n = u.length, cols = v.length;
  const held = kernelMemory(n + cols + n * cols);
  if (!held) return null;
  const { kernel, f } = held;
  f.set(u, 0);
  f.set(v, n);
  f.set(G.subarray(0, n * cols), n + cols);
  return kernel.bilinear(0, n, (n + cols) * 8, cols, n * 8);
}

/**
 * out[i] = k·(s·p[i] + β·pen[i]) (pen null: k·(s·p[i])) for i < out.length by the kernel (dense.wat,
 * hooks: backprop's loops, the same operations); false, nothing written, where it does not run.
 */
export function hookScales(p: Float64Array, pen: Float64Array | null, k: number, s: number, beta: number, out: Float64Array): boolean {
  const n = out.length;
  const held = kernelMemory(3 * n);
  if (!held) return false;
  const { kernel, f } = held;
  f.set(p.subarray(0, n), 0);
  if (pen) f.set(pen.subarray(0, n), n);
  kernel.hooks(0, n * 8, n, k, s, beta, pen ? 1 : 0, 2 * n * 8);
  out.set(f.subarray(2 * n, 3 * n));
  return true;
}
