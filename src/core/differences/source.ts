// A difference source: where the finite differences of a check come from.
//
// The check, the sweep and the Taylor test ask questions about the cost J near the checked
// weights θ, and never say how J is evaluated. A source answers them:
//
//   element(t, i, h)    (J(θ + h·eᵢ) − J(θ − h·eᵢ)) / 2h, for element i (flat, row-major) of tensor t;
//   direction(t, v, h)  (J(θ + h·v) − J(θ − h·v)) / 2h, for a unit direction v over the whole of t;
//   change(t, v, h)     J(θ + h·v) − J(θ), one-sided, the Taylor test's question.
//
// Units: h is an absolute step in the units of the weights; a quotient is in units of J per unit
// of weight, the same as the gradient it is compared with (the reduction and the L2 penalty
// included); a change is in units of J.
//
// What a source can do is what it has: `element` is required, the rest are optional capabilities,
// looked up as properties (never by the source's class). The check uses `elements` when present
// (an accelerator: the same numbers as element() on each), needs `direction` for the directional
// mode and `change` for the Taylor test, and refuses those when the source lacks them.
//
// Sources: differences/propagated.ts (differences carried through the cached forward pass
// without cancellation, the one the product uses on dense networks; its dense row batching is its
// `elements`), differences/layered.ts (the same, record by record over the rows a step changes: the
// product's on networks with other layer kinds; product.ts chooses), differences/naive.ts (the bench's reference, and plain per-sample subtraction), and
// differences/costs.ts (J(θ ± h) from evaluations of J alone, as the user's own program gives it).
// Answers are synchronous; a check's row jobs can also be answered elsewhere (worker threads)
// through checkSteps' driver.
import type { ParamRef } from '../model.js';
import { bilinearKernel } from '../layers/dense-kernel.js';

/** Which tensor of the parameters: its layer (0-based) and its name within the layer kind. */
export type TensorRef = ParamRef;

/**
 * A unit direction over a tensor: dense (a Float64Array of the tensor's shape), or, over a W,
 * rank one: V = u·vᵀ with |u| = |v| = 1, which needs rows + cols numbers instead of rows·cols and
 * one matrix–vector product per step instead of a matrix product.
 */
export type Direction = Float64Array | RankOne;
export interface RankOne { u: Float64Array; v: Float64Array }

export interface ElementDifference {
  /** The central difference quotient. */
  numeric: number;
  /**
   * The cost is not differentiable at θ along this step: some sample's pre-activation sits exactly
   * on a kink (ReLU at 0 …), even at the smallest step. `numeric` is then the middle of the
   * interval of one-sided quotients, ± `spread`, and any value in it is a valid derivative. A
   * source that sees only J, not the samples, cannot tell and reports false (spread 0).
   */
  kink: boolean;
  spread: number;
  /**
   * A kink was crossed: some sample's pre-activation changed side of a kink between θ − h and
   * θ + h, so its quotient at step h mixes two slopes, and it was differenced again with a smaller
   * step. False for a source that does not refine.
   */
  refined: boolean;
}

export interface DifferenceSource {
  /** (J(θ + h·eᵢ) − J(θ − h·eᵢ)) / 2h for element `index` (flat, row-major) of tensor `t`. */
  element(t: TensorRef, index: number, h: number): ElementDifference;
  /**
   * element(t, indices[k], h) for every k, computed together, with the same numbers. The check
   * hands over the elements of one row of a tensor at a time, in increasing order.
   */
  elements?(t: TensorRef, indices: ArrayLike<number>, h: number): ElementDifference[];
  /** (J(θ + h·v) − J(θ − h·v)) / 2h along a unit direction v over the whole of tensor `t`. */
  direction?(t: TensorRef, v: Direction, h: number): ElementDifference;
  /** J(θ + h·v) − J(θ) along a unit direction v over the whole of tensor `t`. */
  change?(t: TensorRef, v: Direction, h: number): number;
  /**
   * |J(θ)|, for a source whose changes are the subtraction of two evaluations of J: their rounding
   * is then a few units of J's last place, not of the change. Absent: the change is carried
   * without cancellation, and its rounding is a few units of its own last place.
   */
  subtractedCost?: number;
}

/**
 * ⟨G, V⟩ = Σ G_ij·V_ij for a gradient G (rows × cols, flat) and a direction V over it; for V = u·vᵀ
 * as uᵀ·(G·v), in the dense kernel where it runs (the same loops: once per direction, cold).
 */
export function alongDirection(G: Float64Array, V: Direction): number {
  let dot = 0;
  if (V instanceof Float64Array) {
    for (let i = 0; i < V.length; i++) dot += G[i] * V[i];
    return dot;
  }
  const kernel = bilinearKernel(V.u, G, V.v);
  if (kernel !== null) return kernel;
  const cols = V.v.length;
  for (let i = 0; i < V.u.length; i++) {
    let row = 0;
    for (let j = 0; j < cols; j++) row += G[i * cols + j] * V.v[j];
    dot += V.u[i] * row;
  }
  return dot;
}

/** The element differences of a source, batched when it can, one by one otherwise. */
export function elementsOf(source: DifferenceSource, t: TensorRef, indices: ArrayLike<number>, h: number): ElementDifference[] {
  if (source.elements) return source.elements(t, indices, h);
  return Array.from(indices, (i) => source.element(t, i, h));
}
