// The shape arithmetic of windowed kinds (conv2d, pooling), shared by the spec's validation (which
// says which sizes do not fit, and what would) and the kinds themselves. A leaf module.

/** A window (kernel or pooling) of kh × kw moved by stride over an input padded on each side. */
export interface Window {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
}

/**
 * The output size along one axis, (n + 2p − k)/s + 1, or null when the windows do not tile the
 * padded input exactly (the last window would hang over its edge, or the window is larger).
 */
export function outputSize(n: number, k: number, s: number, p: number): number | null {
  const span = n + 2 * p - k;
  if (span < 0 || span % s !== 0) return null;
  return span / s + 1;
}

/** The output's [H', W'] of a window over an H × W input, or null on either axis that does not fit. */
export function windowOutput(h: number, w: number, win: Window): [number | null, number | null] {
  return [outputSize(h, win.kernel[0], win.stride[0], win.padding[0]), outputSize(w, win.kernel[1], win.stride[1], win.padding[1])];
}
