// The one value type of the core: an n-D array of float64 values in row-major (C) order with its
// shape. Dense weights are 2-D (units × inputs), biases (units × 1), activations (units × samples);
// other layer kinds may use any rank. A leaf module: it imports nothing.

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** The number of elements of a tensor of this shape: the product of its dimensions (1 for rank 0). */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function zeros(shape: readonly number[]): Tensor {
  return { shape: shape.slice(), data: new Float64Array(size(shape)) };
}

export function clone(t: Tensor): Tensor {
  return { shape: t.shape.slice(), data: Float64Array.from(t.data) };
}

/** A 2-D tensor's rows: its first dimension. For the dense kernels, read once outside their loops. */
export function rows(t: Tensor): number {
  return t.shape[0];
}

/** A 2-D tensor's columns: its second dimension (1 for a flat vector). */
export function cols(t: Tensor): number {
  return t.shape.length > 1 ? t.shape[1] : 1;
}

/** The index (i₀, i₁, …) of the flat row-major position `flat` in a tensor of this shape. */
export function indexOf(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** "64×32", "3×3×16×8", "5" — how the renderers show a shape. */
export function shapeText(shape: readonly number[]): string {
  return shape.join('×');
}
