// The row batches' hot loops in WebAssembly (rows.wat): tanh's and sigmoid's per-z constants and
// steps, the batch's dense blocks, the common losses' changes, and the sums of each element's
// central difference. A RowBatch sizes one memory for everything those loops
// touch, once, and takes its work buffers from it as typed-array views (an Arena), so that a loop
// is one call with byte offsets and nothing is copied. The JavaScript the kernel stands for stays
// the reference (test/rows-wasm.test.ts holds the two to the same bits) and the fallback.
import { ROWS_WASM } from './rows-wasm.js';
import { kernelModule, wasmTurnedOff } from '../wasm-module.js';
import type { PreparedSteps } from '../records/activations.js';

/** The exports of rows.wat; every pointer is a byte offset into the instance's memory. */
export interface RowsKernel {
  memory: WebAssembly.Memory;
  /** Constants of z = Z[i], a = A[i] for i < n at K + 80·i (tanh: half 1, scale 4; sigmoid: ½, 1). */
  prepare(Z: number, A: number, n: number, K: number, half: number, scale: number): void;
  /**
   * O[i] = the step of D[i] for i < n by the constants at K (each = 0) or K + 80·i (each = 1); the
   * indices of steps beyond the series go to WIDE (i32s), unwritten. Returns how many.
   */
  steps(K: number, each: number, D: number, O: number, n: number, WIDE: number): number;
  /**
   * RowBatch.sample's first stage at a tanh/sigmoid hidden unit (weightSteps or biasSteps, the
   * unit's steps, liveChains): returns the live chains, or −1 when a step needs the closed form.
   */
  inputStage(K: number, bias: number, X: number, COLS: number, n: number, h: number, DZ: number, DA: number, CHAIN: number, WIDE: number): number;
  /** scaledColumns; a unit left to the caller has NZ[u] = 2. Returns how many were left. */
  columns(K: number, W: number, wStride: number, units: number, D: number, O: number, count: number, NZ: number): number;
  /** One block of a dense batch with no zero weight (see rows.wat). */
  denseBlock(WB: number, IN: number, active: number, D: number, live: number, O: number, block: number): void;
  /** downstream's last loop and storeChanges of dense-rows.ts in one pass (see rows.wat). */
  storeStage(
    CHANGE: number, CHAIN: number, live: number, COL: number, FLAG: number, n: number,
    from: number, c: number, m: number, PLUS: number, MINUS: number, CROSSED: number,
  ): void;
  /** OUT[k] = Σ_c (P[k·m + c] − M[k·m + c]) / h2 for k < count, the samples in order. */
  quotientSums(P: number, M: number, m: number, count: number, h2: number, OUT: number): void;
  /**
   * SUMS[t] += the loss change of output a (target y) by DA[t] for t < n, by a loss record's
   * kernelForm; chains beyond its series go to WIDE (i32s), untouched. Returns how many.
   */
  lossChanges(form: number, a: number, y: number, DA: number, n: number, SUMS: number, WIDE: number): number;
  /**
   * SUMS[c] = Σ_r the loss change at output (r, c) (A, Y, D rows × m), for a loss record's kernelForm;
   * returns 1, or 0 (SUMS unspecified) when a step is beyond the series.
   */
  lossColumns(form: number, A: number, Y: number, D: number, rows: number, m: number, SUMS: number): number;
  /**
   * RowBatch.sample for samples c, c + 1, … of a row of tanh/sigmoid layer l whose chains run
   * through tanh/sigmoid layers to a sigmoid output and a named loss, the network and buffers
   * described by the frame F (see rows.wat). Returns the first sample it left to the caller, or m.
   */
  rowSamples(F: number, l: number, bias: number, i: number, from: number, n: number, h: number, c: number): number;
}

/** Beyond this many bytes the JavaScript loops run (the kernel's offsets are 32-bit). */
const MAX_BYTES = 2 ** 30;
const PAGE = 65536;

// Where there is no WebAssembly (or no SIMD) the JavaScript loops give the same numbers.
const rowsModule = kernelModule(ROWS_WASM);

/** An instance with a memory of its own of at least `bytes`; null where WebAssembly cannot run it. */
export function rowsKernel(bytes: number): RowsKernel | null {
  if (bytes > MAX_BYTES || wasmTurnedOff()) return null;
  const module = rowsModule.get();
  if (!module) return null;
  try {
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Omit<RowsKernel, 'memory'>;
    const { prepare, steps, inputStage, columns, denseBlock, storeStage, quotientSums, lossChanges, lossColumns, rowSamples } = exports;
    return { memory, prepare, steps, inputStage, columns, denseBlock, storeStage, quotientSums, lossChanges, lossColumns, rowSamples };
  } catch {
    return null;
  }
}

/** Bytes an allocation of `bytes` takes in an Arena (16-byte aligned, for f64x2 loads). */
export const arenaBytes = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Typed arrays for a RowBatch: views on a kernel's memory, handed out one after the other, or
 * ordinary arrays when there is no kernel. The memory never grows, so the views stay valid.
 */
export class Arena {
  private used = 0;

  /** `bytes`: the sum of arenaBytes(…) of every allocation to come; null counts them (sized). */
  constructor(bytes: number | null) {
    this.counting = bytes === null;
    this.kernel = bytes === null ? null : rowsKernel(bytes);
  }

  readonly kernel: RowsKernel | null;
  private readonly counting: boolean;

  /**
   * `build`'s arrays in one memory of exactly their size: build runs once on an arena that only
   * adds up what it asks for (every array it gets there is empty), then on the real one. So
   * build must only allocate; filling the arrays is the caller's, after.
   */
  static sized<T>(build: (arena: Arena) => T): { arena: Arena; built: T } {
    const counter = new Arena(null);
    build(counter);
    const arena = new Arena(counter.used);
    return { arena, built: build(arena) };
  }

  f64(n: number): Float64Array {
    if (this.counting) return this.count(n * 8, Float64Array);
    return this.kernel ? new Float64Array(this.kernel.memory.buffer, this.take(n * 8), n) : new Float64Array(n);
  }

  i32(n: number): Int32Array {
    if (this.counting) return this.count(n * 4, Int32Array);
    return this.kernel ? new Int32Array(this.kernel.memory.buffer, this.take(n * 4), n) : new Int32Array(n);
  }

  u8(n: number): Uint8Array {
    if (this.counting) return this.count(n, Uint8Array);
    return this.kernel ? new Uint8Array(this.kernel.memory.buffer, this.take(n), n) : new Uint8Array(n);
  }

  private count<A>(bytes: number, empty: new (length: number) => A): A {
    this.used += arenaBytes(bytes);
    return new empty(0);
  }

  /** Whether `a` lives in the kernel's memory (so the kernel can take it by offset). */
  holds(a: ArrayBufferView): boolean {
    return this.kernel !== null && a.buffer === this.kernel.memory.buffer;
  }

  private take(bytes: number): number {
    const at = this.used;
    this.used += arenaBytes(bytes);
    if (this.used > this.kernel!.memory.buffer.byteLength) throw new Error(`internal: the row batch's memory is sized too small (${this.used} bytes)`);
    return at;
  }
}

/**
 * A layer's tanh or sigmoid constants for every unit and sample (z = Z[i], a = A[i]), computed
 * once in a kernel's memory, and steps by them, element i by its own constants: what a
 * directional check needs for every direction and both signs (propagated.ts). The steps' input
 * and output are copied in and out (memcpy), CHUNK elements at a time; steps beyond the series
 * take the record's closed form. null where the kernel cannot run or the record's constants are not the series'.
 */
export class PreparedBlock {
  private constructor(
    private readonly kernel: RowsKernel,
    /** The constants, 10 per element. */
    readonly K: Float64Array,
    private readonly D: Float64Array,
    private readonly O: Float64Array,
    private readonly wide: Int32Array,
    private readonly difference: (z: number, a: number, d: number) => number,
  ) {}

  static create(prepared: PreparedSteps, difference: (z: number, a: number, d: number) => number, Z: Float64Array, A: Float64Array): PreparedBlock | null {
    if (!prepared.series || prepared.size !== 10) return null;
    const n = Z.length, chunk = Math.min(n, CHUNK);
    const { arena, built: b } = Arena.sized((a) => ({ K: a.f64(10 * n), D: a.f64(chunk), O: a.f64(chunk), wide: a.i32(chunk) }));
    const kernel = arena.kernel;
    if (!kernel) return null;
    // z and a pass through the step buffers a chunk at a time, on their way into the constants.
    for (let from = 0; from < n; from += chunk) {
      const count = Math.min(chunk, n - from);
      b.D.set(Z.subarray(from, from + count));
      b.O.set(A.subarray(from, from + count));
      kernel.prepare(b.D.byteOffset, b.O.byteOffset, count, b.K.byteOffset + 80 * from, prepared.series.half, prepared.series.scale);
    }
    return new PreparedBlock(kernel, b.K, b.D, b.O, b.wide, difference);
  }

  /** out[i] = the step of d[i] at element i, for from ≤ i < to (PreparedSteps.each); `out` may be `d`. */
  each(d: Float64Array, out: Float64Array, from: number, to: number): void {
    const chunk = this.D.length;
    for (let start = from; start < to; start += chunk) {
      const n = Math.min(chunk, to - start);
      this.D.set(d.subarray(start, start + n));
      const wide = this.kernel.steps(this.K.byteOffset + 80 * start, 1, this.D.byteOffset, this.O.byteOffset, n, this.wide.byteOffset);
      out.set(this.O.subarray(0, n), start);
      for (let q = 0; q < wide; q++) {
        const i = start + this.wide[q], o = 10 * i;
        out[i] = this.difference(this.K[o + 8], this.K[o + 9], d[i]);
      }
    }
  }
}

/**
 * Elements a PreparedBlock steps per kernel call: its step buffers hold this many, not the whole
 * layer (fresh memory costs its first touch: about 0.7 ms a megabyte on the bench's machine).
 */
const CHUNK = 2048;

/**
 * The output layer's outputs and targets in a kernel's memory, and the loss's change per sample
 * for a step of the outputs there (lossColumns): what a directional check computes for every
 * direction and sign (propagated.ts, lossChange). null where the kernel cannot run.
 */
export class LossColumns {
  private constructor(
    private readonly kernel: RowsKernel,
    private readonly form: number,
    private readonly m: number,
    private readonly A: Float64Array,
    private readonly Y: Float64Array,
    private readonly D: Float64Array,
    private readonly sums: Float64Array,
  ) {}

  /** For outputs A and targets Y (units × m) under the loss of kernelForm `form`. */
  static create(form: number, A: Float64Array, Y: Float64Array, m: number): LossColumns | null {
    const n = A.length;
    const { arena, built: b } = Arena.sized((a) => ({ A: a.f64(n), Y: a.f64(n), D: a.f64(n), sums: a.f64(m) }));
    if (!arena.kernel) return null;
    b.A.set(A);
    b.Y.set(Y);
    return new LossColumns(arena.kernel, form, m, b.A, b.Y, b.D, b.sums);
  }

  /**
   * out[c] = Σ over rows firstRow … lastRow − 1 of the loss change at (r, c) by d there, for c < m;
   * false (out unspecified) when a step is beyond the series, for the caller's loop.
   */
  columns(d: Float64Array, firstRow: number, lastRow: number, out: Float64Array): boolean {
    const m = this.m, from = firstRow * m, to = lastRow * m;
    this.D.set(d.subarray(from, to));
    const done = this.kernel.lossColumns(this.form, this.A.byteOffset + 8 * from, this.Y.byteOffset + 8 * from, this.D.byteOffset, lastRow - firstRow, m, this.sums.byteOffset);
    if (done !== 1) return false;
    out.set(this.sums);
    return true;
  }
}
