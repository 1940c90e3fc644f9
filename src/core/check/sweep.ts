// --sweep: the relative error of the gradients under test against finite differences taken with
// steps ε = 1e-1 … 1e-12, one per decade, on a seeded sample of elements per tensor, in two ways:
//
//   accurate — the check's own difference source (differences/product.ts: propagated.ts or layered.ts, which never subtract two costs);
//   plain    — (J(θ + εe) − J(θ − εe)) / 2ε from two evaluations of J, as most checkers do (differences/costs.ts).
//
// With right gradients the plain curve is the textbook V: truncation error ∝ ε² on the left,
// round-off ∝ ulp(J)/ε on the right. The accurate curve has the left arm only and stays flat at
// the bottom, because no cost is ever subtracted. With wrong gradients both curves are flat, high
// above the tolerance, whatever ε. The step is chosen per tensor, on its own accurate curve: the
// largest ε whose error is within 10× of the tensor's smallest, at the bottom of its curve, clear of
// the left arm. A tensor whose curve stays at or above the tolerance at every ε is wrong at every ε:
// it keeps its normal step, and it never drags the others to a step (0.1, say) that their own
// curves mark as unresolved.
import { compare } from './compare.js';
import { prepare, type CheckInput, type Prepared } from './check.js';
import { plainCostSource } from '../differences/costs.js';
import type { DifferenceSource } from '../differences/source.js';
import { namedTensors } from '../model.js';
import { Random } from '../random.js';
import type { SweepResult, SweepTensor } from '../report.js';

export type { SweepResult, SweepTensor } from '../report.js';

export const SWEEP_EPSILONS = Array.from({ length: 12 }, (_, i) => Number(`1e-${i + 1}`));

/** The two curves' sources: the check's own (with the gradients under test), and plain subtraction. */
export interface SweepSources {
  prepared: Prepared;
  plain: DifferenceSource;
}

/** The check's prepared pass (default: prepare(input)) and the plain subtraction of forward costs on it. */
export function sweepSources(input: CheckInput, prepared: Prepared = prepare(input)): SweepSources {
  return { prepared, plain: plainCostSource(input, prepared.fwd) };
}

/** Elements per tensor: enough to see the curve, few enough that 24 forward passes each stay cheap. */
export const SWEEP_ELEMENTS = 8;

export function sweep(input: CheckInput, seed: number, epsilons: readonly number[] = SWEEP_EPSILONS, tolerance = 1e-6, sources: SweepSources = sweepSources(input)): SweepResult {
  const { prepared, plain } = sources;
  const tested = namedTensors(input.model, prepared.tested);
  const rng = new Random(seed);
  const tensors = namedTensors(input.model, input.params).map((p, t): SweepTensor => {
    const picked = rng.sample(p.value.data.length, SWEEP_ELEMENTS);
    const g = picked.map((flat) => tested[t].value.data[flat]);
    const curve = (source: DifferenceSource) =>
      epsilons.map((h) => compare(g, picked.map((flat) => source.element(p.ref, flat, h).numeric)).relativeError);
    const accurate = curve(prepared.differences);
    return {
      param: p.label,
      elements: picked.length,
      accurate,
      plain: curve(plain),
      ...chooseFor(epsilons, accurate, tolerance),
    };
  });
  const worstOf = (key: 'accurate' | 'plain', of: SweepTensor[]) => epsilons.map((_h, i) => Math.max(...of.map((t) => (Number.isNaN(t[key][i]) ? Infinity : t[key][i]))));
  const worst = { accurate: worstOf('accurate', tensors), plain: worstOf('plain', tensors) };
  const resolved = tensors.filter((t) => t.chosen !== null);
  const { chosen, reason } = resolved.length > 0
    ? choose(epsilons, worstOf('accurate', resolved))
    : { chosen: 1e-6, reason: 'every tensor is wrong at every step; the default 1e-6 is used' };
  // A tensor that the common step resolves too (within its own margin) is checked at the common
  // step, as before per-tensor choices existed; only one that the common step would leave
  // unresolved keeps its own.
  const at = epsilons.indexOf(chosen);
  for (const t of resolved) {
    if (at >= 0 && t.accurate[at] <= Math.max(10 * Math.min(...t.accurate.map((w) => (Number.isFinite(w) ? w : Infinity))), tolerance / 1000)) {
      t.chosen = chosen;
      t.reason = 'the common step, which its own curve resolves too';
    }
  }
  const perTensor = Object.fromEntries(resolved.map((t) => [t.param, t.chosen!]));
  return {
    epsilons: [...epsilons], tensors, worst, chosen,
    reason: resolved.length < tensors.length && resolved.length > 0 ? `${reason} among the tensors some step resolves (${tensors.filter((t) => t.chosen === null).map((t) => t.param).join(', ')}: wrong at every step, checked at the normal step)` : reason,
    perTensor,
  };
}

/** One tensor's step: the largest ε within 10× of its own smallest error, or null when even that is at or above the tolerance. */
export function chooseFor(epsilons: readonly number[], curve: readonly number[], tolerance: number): { chosen: number | null; reason: string } {
  const finite = curve.map((w) => (Number.isFinite(w) ? w : Infinity));
  const best = Math.min(...finite);
  if (!(best < tolerance)) {
    return { chosen: null, reason: `wrong at every step (its smallest relative error, ${Number.isFinite(best) ? best.toExponential(1) : 'not finite'}, is at or above the tolerance): checked at its normal step` };
  }
  // Within 10× of the smallest, or far below the tolerance anyway: a curve at the bottom of float64
  // (1e-17) would otherwise send the step to wherever its rounding noise happens to be lowest.
  const good = Math.max(10 * best, tolerance / 1000);
  const at = finite.findIndex((w) => w <= good);
  return {
    chosen: epsilons[at],
    reason: `the largest step whose relative error is within 10× of its smallest (${best === 0 ? '0' : best.toExponential(1)}) or below ${(tolerance / 1000).toExponential(0).replace('+', '')}`,
  };
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
