// The WebAssembly kernels' modules (layers/dense.wat, differences/rows.wat), compiled once per
// process on first use, from their committed base64 (decoded natively: a character at a time, cold,
// it took longer than compiling). Compiling in V8's background threads from import was tried: the
// module reaches the main thread only in a task of the event loop, which a check that starts at
// once waits for longer than the 0.3–0.8 ms a compile here takes.

/** A kernel's compiled module. */
export interface KernelModule {
  /** The module, compiled the first time; null where this runtime cannot (no WebAssembly, no SIMD). */
  get(): WebAssembly.Module | null;
}

/** BACKPROP_CHECK_WASM=0: the JavaScript loops instead of the WebAssembly kernels (the same numbers, to compare). */
export function wasmTurnedOff(): boolean {
  return process.env.BACKPROP_CHECK_WASM?.trim() === '0';
}

/** The module of `base64` (its bytes). */
export function kernelModule(base64: string): KernelModule {
  let module: WebAssembly.Module | null | undefined;
  return {
    get() {
      if (module !== undefined) return module;
      try {
        module = new WebAssembly.Module(new Uint8Array(Buffer.from(base64, 'base64')));
      } catch {
        module = null;
      }
      return module;
    },
  };
}
