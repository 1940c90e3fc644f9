// Finite differences from evaluations of the cost alone: J(θ′) for weights θ′ that differ from the
// checked θ in one tensor, and a subtraction. That is all a program that only computes J can
// answer (the user's own program computing the cost), and it is how most gradient checkers work:
// the sweep's "plain" curve. The subtraction cancels the leading digits of J (≈ ulp(J)/h of
// rounding in every quotient), and without the samples no kink can be seen.
import { forward, type ForwardCache } from '../forward.js';
import { tensorOf, type Model, type Params } from '../model.js';
import { clone, cols as colsOf, type Tensor } from '../tensor.js';
import type { DifferenceSource, Direction, ElementDifference, TensorRef } from './source.js';

/**
 * A source on a cost function: `cost(θ′)` evaluates J at moved weights, `costAt` is J(θ) itself.
 * Every answer is a subtraction of two costs: its rounding is relative to J (subtractedCost).
 */
export function costSource(params: Params, cost: (moved: Params) => number, costAt: number): DifferenceSource {
  /** J with tensor t's values moved by `move`, the others as they are. */
  const costWith = (t: TensorRef, move: (data: Float64Array, cols: number) => void): number => {
    const copy = clone(tensorOf(params, t));
    move(copy.data, colsOf(copy));
    return cost(params.map((layer, l) => (l === t.layer ? { ...layer, [t.name]: copy } : layer)));
  };
  const along = (t: TensorRef, v: Direction, h: number) => costWith(t, (data, cols) => {
    if (v instanceof Float64Array) for (let i = 0; i < v.length; i++) data[i] += h * v[i];
    else for (let i = 0; i < v.u.length; i++) for (let j = 0; j < cols; j++) data[i * cols + j] += h * v.u[i] * v.v[j];
  });
  const quotient = (plus: number, minus: number, h: number): ElementDifference => ({ numeric: (plus - minus) / (2 * h), kink: false, spread: 0, refined: false });
  return {
    element: (t, index, h) => quotient(costWith(t, (data) => { data[index] += h; }), costWith(t, (data) => { data[index] += -h; }), h),
    direction: (t, v, h) => quotient(along(t, v, h), along(t, v, -h), h),
    change: (t, v, h) => along(t, v, h) - costAt,
    subtractedCost: Math.abs(costAt),
  };
}

/** The plain source of a net.json model: J by ordinary forward passes (the cost with its L2 penalty). */
export function plainCostSource(at: { model: Model; params: Params; X: Tensor; Y: Tensor }, fwd: ForwardCache): DifferenceSource {
  return costSource(at.params, (moved) => forward(at.model, moved, at.X, at.Y).cost, fwd.cost);
}
