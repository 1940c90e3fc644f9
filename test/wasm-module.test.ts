// The kernels' modules (src/core/wasm-module.ts): compiled once, from the committed base64, with
// the exports the kernels call; null (no throw) for bytes that are not a module, so that the
// JavaScript loops run.
import { describe, expect, it } from 'vitest';
import { DENSE_WASM } from '../src/core/layers/dense-wasm.js';
import { ROWS_WASM } from '../src/core/differences/rows-wasm.js';
import { kernelModule } from '../src/core/wasm-module.js';

const exportsOf = (m: WebAssembly.Module | null) => (m ? WebAssembly.Module.exports(m).map((e) => e.name).sort() : null);

describe('a kernel module', () => {
  it('is compiled once, with the exports the kernels call', () => {
    const dense = kernelModule(DENSE_WASM), rows = kernelModule(ROWS_WASM);
    expect(dense.get()).toBeInstanceOf(WebAssembly.Module);
    expect(dense.get()).toBe(dense.get());
    expect(exportsOf(dense.get())).toEqual(['bilinear', 'denseTimes', 'finite', 'finiteRange', 'gate', 'histogram', 'hooks', 'maxAbs', 'memory', 'norm', 'outer', 'pieces', 'relu', 'std', 'transpose']);
    expect(exportsOf(rows.get())).toEqual(['columns', 'denseBlock', 'inputStage', 'lossChanges', 'lossColumns', 'prepare', 'quotientSums', 'rowSamples', 'steps', 'storeStage']);
  });

  it('bytes that are not a module give null, every time', () => {
    for (const text of ['not a module', '\0asm\x01\0\0\0\x99']) {
      const broken = kernelModule(Buffer.from(text).toString('base64'));
      expect(broken.get()).toBeNull();
      expect(broken.get()).toBeNull();
    }
  });
});
