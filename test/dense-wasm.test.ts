// The dense kernel's WebAssembly: the committed bytes are what scripts/build-wasm.mjs assembles
// from src/core/layers/dense.wat, the product runs them (not the fallback), and they give the plain
// loop's bits on shapes that make the kernel grow its memory, shrink back, and meet every edge
// (one row, an odd row count, samples not a multiple of four, no inputs, NaN, ±Inf, −0, zeros).
import { describe, expect, it } from 'vitest';
import { DENSE_WASM } from '../src/core/layers/dense-wasm.js';
import { denseKernel, denseTimes, denseTimesPlain } from '../src/core/layers/dense-kernel.js';
import { Random } from '../src/core/random.js';
import { assemble } from '../scripts/build-wasm.mjs';

describe('the dense kernel in WebAssembly', () => {
  it('the committed module is the one dense.wat assembles to', async () => {
    expect(DENSE_WASM).toBe(await assemble('dense'));
  });

  it('is the kernel denseTimes runs', () => {
    expect(denseKernel()).toBe('webassembly');
  });

  it('gives the plain loop\'s bits, growing its memory and back, on every edge', () => {
    const rng = new Random(11);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1e308];
    const draw = (n: number) => Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
    // [rows, cols, m]: small, large enough to grow the memory several pages, then small again.
    const shapes = [[1, 1, 1], [3, 5, 7], [65, 33, 128], [1, 32, 128], [128, 784, 64], [7, 0, 5], [0, 4, 3], [2, 3, 0], [5, 6, 9]];
    for (const [rows, cols, m] of shapes) {
      for (const withStart of [false, true]) {
        const W = { shape: [rows, cols], data: draw(rows * cols) };
        const D = draw(cols * m), start = withStart ? draw(rows) : null;
        const got = new Float64Array(rows * m).fill(42), want = new Float64Array(rows * m).fill(42);
        denseTimes(W, D, got, m, start);
        denseTimesPlain(W, D, want, m, start);
        for (let i = 0; i < got.length; i++) expect(Object.is(got[i], want[i]), `${rows}×${cols}·${cols}×${m}, element ${i}`).toBe(true);
      }
    }
  });
});
