// --sweep: the relative error of the gradients under test against finite differences taken with
// steps ε = 1e-1 … 1e-12, one per decade, on a seeded sample of elements per tensor, in two ways:
//
//   accurate — backprop-check's own differences, which never subtract two costs (numeric.ts);
//   plain    — (J(θ + εe) − J(θ − εe)) / 2ε from two forward passes, as most checkers do.
//
// With right gradients the plain curve is the textbook V: truncation error ∝ ε² on the left,
// round-off ∝ ulp(J)/ε on the right. The accurate curve has the left arm only and stays flat at
// the bottom, because no cost is ever subtracted. With wrong gradients both curves are flat, high
// above the tolerance, whatever ε. The step chosen for the check is the largest ε whose error is
// within 10× of the smallest: at the bottom of the curve, clear of the left arm.
import { compare } from './compare.js';
import type { GradientSource } from './check.js';
import { forward } from './forward.js';
import { cloneMatrix, namedTensors, type Matrix, type Model, type NamedTensor, type Params } from './model.js';
import { FiniteDifferences } from './numeric.js';
import { Random } from './random.js';
import { backward } from './backward.js';

export const SWEEP_EPSILONS = Array.from({ length: 12 }, (_, i) => Number(`1e-${i + 1}`));

export interface SweepTensor {
  param: string;
  /** Elements compared (a seeded sample, the same at every ε). */
  elements: number;
  /** Relative error at each ε of SWEEP_EPSILONS, with backprop-check's differences and with plain subtraction. */
  accurate: number[];
  plain: number[];
}

export interface SweepResult {
  epsilons: number[];
  tensors: SweepTensor[];
  /** The worst tensor's relative error at each ε. */
  worst: { accurate: number[]; plain: number[] };
  /** The step the check then runs with. */
  chosen: number;
  /** How it was chosen, in a sentence. */
  reason: string;
}

export interface SweepInput {
  model: Model;
  params: Params;
  X: Matrix;
  Y: Matrix;
  gradients: GradientSource;
}

/** Elements per tensor: enough to see the curve, few enough that 24 forward passes each stay cheap. */
export const SWEEP_ELEMENTS = 8;

export function sweep(input: SweepInput, seed: number, epsilons: readonly number[] = SWEEP_EPSILONS): SweepResult {
  const { model, params, X, Y } = input;
  const fwd = forward(model, params, X, Y);
  const gs = input.gradients;
  const tested = namedTensors('plan' in gs ? backward(model, params, fwd, Y, gs.plan) : gs.grads);
  const fd = new FiniteDifferences(model, params, fwd, Y);
  const rng = new Random(seed);
  const tensors = namedTensors(params).map((p, t): SweepTensor => {
    const picked = rng.sample(p.value.data.length, SWEEP_ELEMENTS);
    const g = picked.map((flat) => tested[t].value.data[flat]);
    const curve = (difference: (flat: number, h: number) => number) =>
      epsilons.map((h) => compare(g, picked.map((flat) => difference(flat, h))).relativeError);
    return {
      param: p.name,
      elements: picked.length,
      accurate: curve((flat, h) => fd.element(p.layer, p.kind, Math.floor(flat / p.value.cols), flat % p.value.cols, h).numeric),
      plain: curve((flat, h) => plainDifference(input, p, flat, h)),
    };
  });
  const worstOf = (key: 'accurate' | 'plain') => epsilons.map((_h, i) => Math.max(...tensors.map((t) => (Number.isNaN(t[key][i]) ? Infinity : t[key][i]))));
  const worst = { accurate: worstOf('accurate'), plain: worstOf('plain') };
  const { chosen, reason } = choose(epsilons, worst.accurate);
  return { epsilons: [...epsilons], tensors, worst, chosen, reason };
}

/** (J(θ + h·e) − J(θ − h·e)) / 2h by two full forward passes: the plain way, cancellation and all. */
function plainDifference(input: SweepInput, p: NamedTensor, flat: number, h: number): number {
  const { model, params, X, Y } = input;
  const at = (step: number) => {
    const copy = cloneMatrix(p.value);
    copy.data[flat] += step;
    const W = params.W.map((w, l) => (p.kind === 'W' && l === p.layer ? copy : w));
    const b = params.b.map((x, l) => (p.kind === 'b' && l === p.layer ? copy : x));
    return forward(model, { W, b }, X, Y).cost;
  };
  return (at(h) - at(-h)) / (2 * h);
}

/** The largest ε whose worst relative error is within 10× of the smallest one. */
export function choose(epsilons: readonly number[], worst: readonly number[]): { chosen: number; reason: string } {
  const finite = worst.map((w) => (Number.isFinite(w) ? w : Infinity));
  const best = Math.min(...finite);
  if (!Number.isFinite(best)) return { chosen: 1e-6, reason: 'no step gave a finite error; the default 1e-6 is used' };
  const at = finite.findIndex((w) => w <= 10 * best);
  return {
    chosen: epsilons[at],
    reason: `the largest step whose worst relative error (${best === 0 ? '0' : best.toExponential(1)} at best) is within 10× of the smallest`,
  };
}
