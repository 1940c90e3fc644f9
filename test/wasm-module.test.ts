// The kernels' modules (src/core/wasm-module.ts): compiled in the background from import, or here
// and now when asked first; the same module's exports either way, and null (no throw, no unhandled
// rejection) for bytes that are not a module, so that the JavaScript loops run.
import { describe, expect, it } from 'vitest';
import { DENSE_WASM } from '../src/core/layers/dense-wasm.js';
import { ROWS_WASM } from '../src/core/differences/rows-wasm.js';
import { kernelModule } from '../src/core/wasm-module.js';

const exportsOf = (m: WebAssembly.Module | null) => (m ? WebAssembly.Module.exports(m).map((e) => e.name).sort() : null);

describe('a kernel module', () => {
  it('asked for at once compiles here; asked for later is the background compilation', async () => {
    for (const base64 of [DENSE_WASM, ROWS_WASM]) {
      const now = kernelModule(base64);
      const first = now.get();
      expect(first).toBeInstanceOf(WebAssembly.Module);
      expect(now.get()).toBe(first);

      const later = kernelModule(base64);
      const background = await later.compiled;
      expect(background).toBeInstanceOf(WebAssembly.Module);
      expect(later.get()).toBe(background);
      expect(exportsOf(background)).toEqual(exportsOf(first));
    }
    expect(exportsOf(kernelModule(DENSE_WASM).get())).toContain('maxAbs');
  });

  it('bytes that are not a module give null, before and after the background compilation', async () => {
    const broken = kernelModule(Buffer.from('not a module').toString('base64'));
    expect(broken.get()).toBeNull();
    expect(await broken.compiled).toBeNull();
    const late = kernelModule(Buffer.from('\0asm\x01\0\0\0\x99').toString('base64'));
    expect(await late.compiled).toBeNull();
    expect(late.get()).toBeNull();
  });

  it('BACKPROP_CHECK_WASM=0 starts no compilation', async () => {
    process.env.BACKPROP_CHECK_WASM = '0';
    try {
      expect(await kernelModule(DENSE_WASM).compiled).toBeNull();
    } finally {
      delete process.env.BACKPROP_CHECK_WASM;
    }
  });
});
