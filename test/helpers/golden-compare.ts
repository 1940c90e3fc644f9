// How the golden tests compare our gradients with PyTorch's (test/golden.test.ts, test/golden-layers.test.ts).

/** ‖g − ĝ‖ / (‖g‖ + ‖ĝ‖), as SPEC.md defines a tensor's relative error. */
export function relativeError(a: Float64Array, b: Float64Array): number {
  let diff = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { diff += (a[i] - b[i]) ** 2; na += a[i] ** 2; nb += b[i] ** 2; }
  const denom = Math.sqrt(na) + Math.sqrt(nb);
  return denom === 0 ? 0 : Math.sqrt(diff) / denom;
}

/**
 * The largest per-element error, each element relative to its own size. An element far below the
 * tensor's largest is a sum whose terms cancelled, and its rounding is relative to those terms,
 * so the denominator never drops below 1e-3 of the tensor's largest element.
 */
export function worstElement(a: Float64Array, b: Float64Array): number {
  let top = 0;
  for (let i = 0; i < b.length; i++) top = Math.max(top, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(Math.abs(a[i]), Math.abs(b[i]), 1e-3 * top);
    if (scale > 0) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  }
  return worst;
}
