// The WebAssembly kernels' modules (layers/dense.wat, differences/rows.wat), compiled once per
// process. Compiling starts in V8's background threads when the kernel's module is imported, so
// that by the first check (after the files are read and parsed) the module is usually ready;
// otherwise the first use compiles it here and now, and the numbers are the same either way.

/** A kernel's compiled module. */
export interface KernelModule {
  /** The module: the background compilation's when it has finished, else compiled now; null where this runtime cannot (no WebAssembly, no SIMD). */
  get(): WebAssembly.Module | null;
  /** The background compilation: its module, or null when it failed or was not started. */
  readonly compiled: Promise<WebAssembly.Module | null>;
}

/** BACKPROP_CHECK_WASM=0: the JavaScript loops instead of the WebAssembly kernels (the same numbers, to compare). */
export function wasmTurnedOff(): boolean {
  return process.env.BACKPROP_CHECK_WASM?.trim() === '0';
}

/** The module of `base64` (its bytes), its compilation started now unless the kernels are turned off. */
export function kernelModule(base64: string): KernelModule {
  let module: WebAssembly.Module | null | undefined;
  const bytes = (): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(base64, 'base64'));
  // A failure here is the synchronous compile's failure too, which get() reports as null.
  const compiled = !wasmTurnedOff() && typeof WebAssembly === 'object'
    ? WebAssembly.compile(bytes()).then((m) => (module ??= m), () => null)
    : Promise.resolve(null);
  return {
    compiled,
    get() {
      if (module !== undefined) return module;
      try {
        module = new WebAssembly.Module(bytes());
      } catch {
        module = null;
      }
      return module;
    },
  };
}
