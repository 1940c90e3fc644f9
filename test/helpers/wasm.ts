// BACKPROP_CHECK_WASM for the tests that hold the WebAssembly kernels to their JavaScript loops:
// set for a while, then unset (the suite runs with it unset).
import { afterEach, beforeEach } from 'vitest';

/** `body` with BACKPROP_CHECK_WASM set to `setting` (undefined: unset), and unset after. */
export function withWasmSetting<T>(setting: string | undefined, body: () => T): T {
  if (setting === undefined) delete process.env.BACKPROP_CHECK_WASM;
  else process.env.BACKPROP_CHECK_WASM = setting;
  try {
    return body();
  } finally {
    delete process.env.BACKPROP_CHECK_WASM;
  }
}

/** `body` in the kernels (BACKPROP_CHECK_WASM unset), then in the JavaScript loops (0), told which. */
export function inKernelAndJs(body: (setting: string | undefined) => void): void {
  for (const setting of [undefined, '0']) withWasmSetting(setting, () => body(setting));
}

/** A describe block's tests with BACKPROP_CHECK_WASM set to `flag` (undefined: unset), unset after each. */
export function withWasmFlag(flag: string | undefined): void {
  beforeEach(() => {
    if (flag === undefined) delete process.env.BACKPROP_CHECK_WASM;
    else process.env.BACKPROP_CHECK_WASM = flag;
  });
  afterEach(() => {
    delete process.env.BACKPROP_CHECK_WASM;
  });
}
