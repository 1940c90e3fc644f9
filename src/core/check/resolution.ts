// What float64 (or float32) can resolve at the checked weights, per gradient element, for both
// sides of the comparison, and the verdict judged against it.
//
// The gradient side. A correct backprop computed in plain floating point starts from rounded
// forward quantities: a = σ(z) near 1 is held to an ulp, so 1 − a (and a − y) keeps only a few
// digits of e^−z; softmax's a − y at a margin of 28 keeps four. Monte-Carlo arithmetic measures
// that without guessing: correct backprop re-run K times with every forward quantity (Z, A and so
// the loss inputs) perturbed by a random relative amount of a few units of rounding; the per-element
// spread is the rounding sensitivity of any backprop at these weights. A deterministic bound adds
// the rounding of the sums themselves: γ·u·Σ|terms| from a backprop in absolute values (a bias
// gradient that is 0 by symmetry is a sum of terms that cancel exactly).
//
// The difference side. The differences carry the same forward rounding (they start from the same
// cached Z and A), their own sums (the same Σ|terms|), and truncation, which a second step
// estimates: D(h) − D(h/2) = ¾·c·h² + O(h⁴), so D(h)'s truncation is about 4/3 of that.
//
// The verdict. Only the part of each element's disagreement that exceeds its floor counts: the
// norm-wise rule on those excesses, and an element rule (one element clearly wrong fails the
// tensor even when the norm-wise error is small).
import { backward, correctChain, correctPlan, evaluate, magnitudesOf, netOf, outputDelta } from '../backprop.js';
import type { ForwardCache } from '../forward.js';
import { mapTensors, namedTensors, tensorOf, type Grads, type Model, type NamedTensor, type Params } from '../model.js';
import { maxAbsOf } from '../layers/dense-kernel.js';
import { zeros, type Tensor } from '../tensor.js';
import type { Direction } from '../differences/source.js';
import { Random } from '../random.js';
import type { Status } from '../report.js';

/** The unit roundoff of float64 and of float32. */
export const FLOAT64_UNIT = 2 ** -53;
export const FLOAT32_UNIT = 2 ** -24;

/** Monte-Carlo backprops per floor, and the relative perturbation, in units of rounding. */
const MC_RUNS = 4;
const MC_UNITS = 2;
/** The spread of MC_RUNS runs underestimates the largest deviation: this much safety. */
const MC_SAFETY = 3;

/**
 * One element fails the tensor when its error beyond its floor is at least the tolerance relative
 * to the element itself and at least ELEMENT_SCALE tolerances of the tensor's largest element (so
 * that an element a billion times smaller than the rest, all rounding, cannot fail it).
 */
export const ELEMENT_SCALE = 0.01;

/**
 * The step for one tensor from the base step ε. An element of W_l moves row i of Z_l by h·A_{l−1},
 * so with inputs of size s the change is s·h: for s above 10 the step shrinks by decades until the
 * change is at most about 10·ε (features of 1e4 would otherwise move Z by 1e-2, far outside the
 * quadratic regime). A bias moves Z by h itself. The step also stays at least 2¹² ulps of the
 * tensor's largest element, so that θ ± h is a different number (plain differences need it).
 */
export function stepFor(p: NamedTensor, fwd: ForwardCache, epsilon: number): number {
  let h = epsilon;
  if (p.ref.name === 'W') {
    const s = maxAbsOf(fwd.A[p.ref.layer].data);
    if (Number.isFinite(s) && s > 10) h = epsilon / 10 ** Math.ceil(Math.log10(s / 10));
  }
  const size = maxAbsOf(p.value.data);
  if (Number.isFinite(size)) h = Math.max(h, 2 ** 12 * FLOAT64_UNIT * size);
  return Math.min(h, epsilon);
}

/** The parts of a floor, each per element of each tensor (absolute values). */
export interface GradientFloor {
  /** MC_SAFETY × the largest Monte-Carlo deviation from correct backprop. */
  forward: Grads;
  /** γ·u·Σ|terms|. */
  sums: Grads;
}

/**
 * The gradient side's floor at these weights for arithmetic of unit roundoff `unit`: how far a
 * correct backprop in that arithmetic can land from the true gradient. Seeded.
 */
export function gradientFloor(model: Model, params: Params, fwd: ForwardCache, Y: Tensor, correct: Grads, unit: number, seed: number): GradientFloor {
  const rng = new Random(seed ^ 0x5eed);
  const forwardPart: Grads = mapTensors(correct, (t) => zeros(t.shape));
  // float32 code also rounds its inputs; float64 code reads them exactly.
  const fromLayer = unit > FLOAT64_UNIT ? 0 : 1;
  for (let k = 0; k < MC_RUNS; k++) {
    const perturbed: ForwardCache = {
      ...fwd,
      Z: fwd.Z.map((z) => perturb(z, unit, rng)),
      A: fwd.A.map((a, l) => (l >= fromLayer ? perturb(a, unit, rng) : a)),
    };
    const g = backward(model, params, perturbed, Y, correctPlan(model));
    const widen = (out: Tensor, run: Tensor, ref: Tensor) => {
      for (let i = 0; i < out.data.length; i++) {
        const d = Math.abs(run.data[i] - ref.data[i]);
        // A perturbation that makes a value non-finite says nothing about the rounding.
        if (Number.isFinite(d)) out.data[i] = Math.max(out.data[i], MC_SAFETY * d);
      }
    };
    for (const { ref, value } of namedTensors(model, g)) widen(tensorOf(forwardPart, ref), value, tensorOf(correct, ref));
  }
  const abs = absoluteBackward(model, params, fwd, Y);
  // A few roundings per layer, and a sum over m samples: log2(m) levels pairwise (NumPy), more
  // when summed in a loop; 2·log2(m) covers the typical √m-like growth of loop sums up to m ≈ 10⁵.
  const gamma = 2 * model.layers.length + 4 + 2 * Math.log2(Math.max(2, fwd.samples));
  const scale = (m: Tensor, ref: Tensor): Tensor => ({ ...m, data: m.data.map((v, i) => gamma * unit * v + unit * Math.abs(ref.data[i])) });
  return {
    forward: forwardPart,
    sums: mapTensors(abs, (t, ref) => scale(t, tensorOf(correct, ref))),
  };
}

/** m ⊙ (1 + δ) with δ uniform in ±MC_UNITS·unit, element by element. */
function perturb(m: Tensor, unit: number, rng: Random): Tensor {
  const data = new Float64Array(m.data.length);
  for (let i = 0; i < data.length; i++) data[i] = m.data[i] * (1 + (2 * rng.uniform() - 1) * MC_UNITS * unit);
  return { shape: m.shape, data };
}

/**
 * Backprop in absolute values from the output delta's magnitude: the one walk in magnitudes
 * (backprop.ts's magnitudesOf: |W|ᵀ·|dZ| through each activation's backwardMagnitude (⊙ |g'|),
 * s·|dZ|·|A|ᵀ + 2c·|W|). Each element is the sum of the magnitudes of the terms whose signed sum
 * is the gradient, which bounds the rounding of that sum relative to unit roundoff.
 */
export function absoluteBackward(model: Model, params: Params, fwd: ForwardCache, Y: Tensor): Grads {
  const net = netOf(model, params, fwd, Y);
  const chain = correctChain(net);
  // The output delta itself in magnitude: its own cancellation (1 − a, a − y, softmax's Jacobian)
  // is the forward rounding the Monte-Carlo part measures; from here on the sums are bounded.
  const delta = outputDelta(net, chain.output, null);
  return evaluate(magnitudesOf(net), { ...chain, output: { kind: 'delta', values: delta.data.map(Math.abs) } }).grads;
}

/** One tensor's floor in its parts, per element: forward rounding, and the sums' rounding for one side. */
export function floorParts(floor: GradientFloor, p: NamedTensor): { forward: Float64Array; sums: Float64Array } {
  return { forward: tensorOf(floor.forward, p.ref).data, sums: tensorOf(floor.sums, p.ref).data };
}

/** One tensor's floor as a flat array: forward rounding + sums, for the tensor under test and for the differences. */
export function tensorFloor(floor: GradientFloor, p: NamedTensor, sidesOfSums = 2): Float64Array {
  const { forward, sums } = floorParts(floor, p);
  const out = new Float64Array(forward.length);
  for (let i = 0; i < out.length; i++) out[i] = forward[i] + sidesOfSums * sums[i];
  return out;
}

/** A per-element floor carried along a direction: Σ|V_ij|·floor_ij. */
export function floorAlong(floor: Float64Array, V: Direction): number {
  let sum = 0;
  if (V instanceof Float64Array) {
    for (let i = 0; i < V.length; i++) sum += Math.abs(V[i]) * floor[i];
    return sum;
  }
  const cols = V.v.length;
  for (let i = 0; i < V.u.length; i++) {
    let row = 0;
    for (let j = 0; j < cols; j++) row += floor[i * cols + j] * Math.abs(V.v[j]);
    sum += Math.abs(V.u[i]) * row;
  }
  return sum;
}

export interface Judgement {
  status: Status;
  /** Which rule failed the tensor. */
  failedBy?: 'norm' | 'element';
  /** ‖max(|g − ĝ| − floor, 0)‖₂ / (‖g‖₂ + ‖ĝ‖₂): the relative error beyond resolution. */
  resolvedError: number;
  /** ‖floor‖₂ / (‖g‖₂ + ‖ĝ‖₂). */
  floor: number;
  /** The element (index into the compared values) that decided an element-rule failure. */
  element?: number;
}

/**
 * The verdict on g against ĝ, each element's disagreement reduced by its floor (none: 0).
 * Norm rule: fail at or above the tolerance, warn within two decades below it (compare.ts's
 * statusOf). Element rule: an element whose excess is at least the tolerance relative to itself
 * and ELEMENT_SCALE·tolerance relative to the tensor's largest element fails it. Skipped entries are left out.
 */
export function judge(g: ArrayLike<number>, gHat: ArrayLike<number>, floor: ArrayLike<number> | null, tolerance: number, skip?: ArrayLike<number>): Judgement {
  // |x| and the larger of two by comparisons, not Math.abs/Math.max (as in compare.ts: this runs
  // once per tensor, unoptimised, where a call per value costs more than the arithmetic). `larger`
  // is NaN when either is, as Math.max is.
  let scale = 0;
  for (let i = 0; i < g.length; i++) {
    if (skip !== undefined && skip[i]) continue;
    const a = g[i], n = gHat[i];
    const absA = a < 0 ? -a : a, absN = n < 0 ? -n : n;
    const larger = a !== a || n !== n ? NaN : absA > absN ? absA : absN;
    if (!(larger <= scale)) scale = larger;
  }
  if (Number.isNaN(scale) || !Number.isFinite(scale)) return { status: 'fail', failedBy: 'norm', resolvedError: NaN, floor: 0 };
  if (scale === 0) return { status: 'pass', resolvedError: 0, floor: 0 };
  let e2 = 0, g2 = 0, h2 = 0, f2 = 0, wrongAt = -1, wrongBy = 0;
  for (let i = 0; i < g.length; i++) {
    if (skip !== undefined && skip[i]) continue;
    const a = g[i], n = gHat[i];
    // A floor that is not finite (a NaN in correct backprop) resolves nothing: it never turns a failure into a pass.
    const fi = floor ? floor[i] : 0;
    const f = fi - fi === 0 ? fi : 0;
    const d = a - n, over = (d < 0 ? -d : d) - f;
    // max(0, over): NaN stays NaN.
    const excess = over > 0 || over !== over ? over : 0;
    e2 += (excess / scale) ** 2;
    g2 += (a / scale) ** 2;
    h2 += (n / scale) ** 2;
    f2 += (f / scale) ** 2;
    const absA = a < 0 ? -a : a, absN = n < 0 ? -n : n;
    const clearly = excess >= tolerance * (absA > absN ? absA : absN) && excess >= ELEMENT_SCALE * tolerance * scale;
    if (clearly && excess > wrongBy) { wrongBy = excess; wrongAt = i; }
  }
  const denominator = Math.sqrt(g2) + Math.sqrt(h2);
  const resolvedError = Math.sqrt(e2) / denominator;
  const floorRel = Math.sqrt(f2) / denominator;
  const norm: Status = resolvedError >= tolerance ? 'fail' : resolvedError >= tolerance / 100 ? 'warn' : 'pass';
  if (norm === 'fail') return { status: 'fail', failedBy: 'norm', resolvedError, floor: floorRel };
  if (wrongAt >= 0) return { status: 'fail', failedBy: 'element', resolvedError, floor: floorRel, element: wrongAt };
  return { status: norm, resolvedError, floor: floorRel };
}
