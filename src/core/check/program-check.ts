// The check of a user's program (`--model`, `--connect`, the library's `model`): finite differences
// taken through the program's own cost, in its own precision, judged so that the pipe, the rounding
// and the kinks of someone else's code never make a false failure.
//
// Per tensor, in order:
//   1. its step: from its own scale and a sweep of a few seeded elements over decades of steps (the
//      largest step whose estimated error has stopped improving, session/steps.ts); --epsilon fixes it;
//   2. the central difference of each checked element (or direction), (J₊ − J₋) / (h₊ + h₋) with the
//      steps the program really takes, every request of the tensor handed over in large batches;
//   3. when that would warn or fail: the one-sided differences (J₊ − J) / h₊ and (J − J₋) / h₋ of an
//      element that disagrees; a gap between them that does not shrink with the step (h/10, h/100) is
//      a kink, and the element is compared with the interval between its one-sided slopes; then a
//      second step h/2 for the truncation, D(h) − D(h/2) ≈ ¾·c·h²;
//   4. the verdict against each element's floor: rounding ROUNDING_ULPS·u·(|J₊| + |J₋|) / (h₊ + h₋),
//      the truncation, and any spread of repeated costs. A disagreement within a floor that is itself at
//      or above the tolerance is "unresolved" (warn, with the floor stated), never a fail.
// Then determinism: a few requests asked again in a later batch and the cost asked again at the end;
// a cost that changes by more than a few units of rounding is an error finding and no gradient verdict.
import { compare, statusOf, worstOf } from './compare.js';
import { progressTicker, type CheckOptions } from './check.js';
import { judge, type Judgement } from './resolution.js';
import { SWEEP_EPSILONS, choose } from './sweep.js';
import { taylorFit, taylorStart, taylorSteps } from './taylor.js';
import type { RegisteredFinding } from '../findings/registry.js';
import { programConventionFindings } from '../diagnose/conventions.js';
import { programDecomposition } from '../diagnose/decompose.js';
import { Random } from '../random.js';
import { VALUES_CAP, type LayerHealth, type Report, type SweepResult, type SweepTensor, type TensorCheck } from '../report.js';
import type { CostProgram, CostRequest, ProgramTensor } from '../session/program.js';
import { ROUNDING_ULPS, TYPICAL_ULPS, UNIT, chooseStep, effectiveSteps, pilotSteps, precisionOf, roundingFloor, scaleOf, type Precision } from '../session/steps.js';
import { indexOf, type Tensor } from '../tensor.js';

export interface ProgramCheckOptions extends CheckOptions {
  /** Also measure the relative error against ε per tensor (the report's `sweep`). */
  sweep?: boolean;
  /** The most cost evaluations the check may ask for (default DEFAULT_MAX_EVALUATIONS). */
  maxEvaluations?: number;
}

/** A full check needs ≈ 2n costs; beyond this many a seeded sample per tensor is checked instead. */
export const DEFAULT_MAX_EVALUATIONS = 200_000;
/** The tolerance a float32 program is held to at least: its differences resolve about u^(2/3) ≈ 2e-5. */
export const FLOAT32_PROGRAM_TOLERANCE = 1e-3;
/** Seeded elements of the per-tensor step sweep. */
const PILOT_ELEMENTS = 4;
/** Requests handed to the program at once: large enough that the pipe is not the cost, small enough for progress and Ctrl-C. */
const BATCH = 2048;
/** Requests asked a second time, in a later batch, to see whether the cost is a function of the parameters. */
const REPEATS = 8;
/** Costs that differ by more than this many units of rounding of |J| between identical calls are not deterministic. */
const DETERMINISM_ULPS = 64;
/** A gap between one-sided slopes that keeps more than this fraction when the step shrinks tenfold does not come from curvature. */
const KINK_KEEPS = 0.3;

/** One compared quantity: an element (flat index) or a unit direction over the tensor. */
type Item = { flat: number } | { direction: Float64Array };

/** What the differences of one item gave. */
interface Probe {
  analytic: number;
  /** The central difference, or at a kink the point of the one-sided interval nearest to the analytic value. */
  numeric: number;
  /** Rounding floor of the central difference. */
  rounding: number;
  plus: number;
  minus: number;
  hPlus: number;
  hMinus: number;
  kink: boolean;
  /** The step of the value used (smaller than the tensor's when a kink within the step was stepped past). */
  step: number;
}

interface TensorState {
  tensor: ProgramTensor;
  layer: number;
  g: Float64Array;
  items: Item[];
  planned: number;
  step: number;
  probes: Probe[];
  truncation?: Float64Array;
}

export async function checkProgram(program: CostProgram, options: ProgramCheckOptions): Promise<Report> {
  // The order of the protocol's example: the gradients under test first, then the cost.
  const grads = await program.grads();
  const J0 = await program.cost();
  const precision = precisionOf(program.dtype, program.params, J0);
  const u = UNIT[precision];
  const tolerance = precision === 'float32' ? Math.max(options.tolerance, FLOAT32_PROGRAM_TOLERANCE) : options.tolerance;
  const layers = layerNumbers(program);
  const findings: RegisteredFinding[] = [];
  const counter = new CostCounter(program);

  if (!Number.isFinite(J0)) {
    findings.push({
      code: 'non-finite', severity: 'error',
      message: `The cost of ${program.describe} is ${J0} at its parameters: no difference of it means anything.`,
      fix: 'Check the program at parameters where its cost is finite (a log of 0, an overflow in exp, a division by 0 are the usual causes).',
      evidence: { cannotCheck: true, cost: String(J0) },
    });
    return { ok: false, loss: J0, source: 'model', checks: [], findings, health: { layers: [] }, settings: settingsOf(options, tolerance) };
  }

  const rng = new Random(options.seed);
  const budget = options.maxEvaluations ?? DEFAULT_MAX_EVALUATIONS;
  const plans = program.params.map((p) => planItems(p, options, rng));
  const limited = limitToBudget(program.params, plans, budget, options, rng);
  if (limited) findings.push(limited.finding);

  const total = plans.reduce((s, p) => s + p.length, 0);
  let done = 0;
  let stopped = false;
  const tick = progressTicker(options, total);
  const states: TensorState[] = [];

  for (let t = 0; t < program.params.length && !stopped; t++) {
    const tensor = program.params[t];
    const g = grads.get(tensor.name)!.data;
    const step = options.fixedStep ? options.epsilon : await pilotStep(counter, tensor, precision, rng);
    const state: TensorState = { tensor, layer: layers.get(tensor.name)!, g, items: plans[t], planned: plans[t].length, step, probes: [] };
    states.push(state);
    for (let from = 0; from < state.items.length; from += BATCH / 2) {
      const chunk = state.items.slice(from, from + BATCH / 2);
      state.probes.push(...await centralProbes(counter, tensor, g, chunk, step, precision, true));
      done += chunk.length;
      tick(done);
      if (options.shouldStop?.() && (from + BATCH / 2 < state.items.length || t + 1 < program.params.length)) { stopped = true; break; }
    }
    if (!stopped) await refine(counter, state, precision, tolerance, J0);
  }
  options.onProgress?.(done, total);

  // Determinism: requests of earlier batches asked again in one later batch, and the cost again at the end.
  let spread = 0;
  if (!stopped) {
    const again = counter.repeats();
    const answers = again.length > 0 ? await program.costs(again.map((r) => r.request)) : new Float64Array(0);
    // The same non-finite answer twice is no spread.
    const gap = (a: number, b: number) => (Object.is(a, b) ? 0 : Math.abs(a - b));
    again.forEach((r, k) => { spread = Math.max(spread, gap(answers[k], r.cost)); });
    const J1 = await program.cost();
    spread = Math.max(spread, gap(J1, J0));
    counter.count += again.length + 1;
  }
  const deterministic = !(spread > DETERMINISM_ULPS * u * Math.abs(J0)) && Number.isFinite(spread);
  if (!deterministic) findings.push(nondeterminism(program, spread, J0, counter.repeatCount + 1));

  const checks = states.map((s) => judgeTensor(s, u, spread, tolerance, deterministic, stopped));
  if (stopped) {
    const reached = new Set(states.map((s) => s.tensor.name));
    program.params.forEach((p, t) => {
      if (reached.has(p.name)) return;
      checks.push({
        layer: layers.get(p.name)!, param: p.name, shape: p.value.shape.slice(), relativeError: 0, maxElementError: 0, worst: null,
        analyticNorm: 0, numericNorm: 0, checked: 0, kinks: 0, status: 'pass', planned: plans[t].length,
      });
    });
  }
  if (precision === 'float32') {
    for (const c of checks) c.precision = 'float32';
    findings.push(float32Finding(program, options.tolerance, tolerance));
  }
  if (options.taylor && !stopped && deterministic) await taylor(counter, states, checks, J0, u, options.seed);
  findings.push(...resolutionFindings(checks, precision));
  if (deterministic && !stopped) {
    // The same factor on every tensor: a loss convention (diagnose/conventions.ts).
    const probed = states.map((s) => ({ label: s.tensor.name, analytic: s.probes.map((p) => p.analytic), numeric: s.probes.map((p) => p.numeric) }));
    findings.push(...programConventionFindings(probed, checks.filter((c) => c.status === 'fail').map((c) => c.param), tolerance));
    // The error of each failing tensor against its differences, decomposed (diagnose/decompose.ts).
    findings.push(...programDecomposition(states.map((s, t) => ({
      check: checks[t], value: s.tensor.value, flats: s.items.every((i) => 'flat' in i) ? s.items.map((i) => (i as { flat: number }).flat) : null,
      analytic: Float64Array.from(s.probes, (p) => p.analytic), numeric: Float64Array.from(s.probes, (p) => p.numeric),
    }))));
  }
  // A cost that changes between identical calls makes one-sided gaps that do not shrink: noise, not
  // kinks; and its differences say nothing about the gradients' size either.
  if (deterministic) findings.push(...kinkFindings(checks));
  else for (const c of checks) c.kinks = 0;

  const report: Report = {
    ok: !stopped && deterministic && checks.every((c) => c.status !== 'fail'),
    loss: J0,
    source: 'model',
    checks,
    findings,
    health: { layers: deterministic ? healthOf(states) : [] },
    settings: settingsOf(options, tolerance),
    ...(stopped ? { partial: true } : {}),
  };
  if (options.sweep && !stopped) report.sweep = await sweepProgram(counter, program.params, grads, states, precision, options.seed);
  return report;
}

/** The settings as the report states them; ε is the base (or fixed) step, each tensor's own is its `epsilon`. */
function settingsOf(options: ProgramCheckOptions, tolerance: number): Report['settings'] {
  return {
    epsilon: options.epsilon, tolerance, mode: options.mode, seed: options.seed,
    ...(options.mode === 'full' ? {} : { samples: options.samples }),
  };
}

/** 1-based layer of each tensor: its group in program.layers, else a group of its own after them. */
export function layerNumbers(program: Pick<CostProgram, 'params' | 'layers'>): Map<string, number> {
  const out = new Map<string, number>();
  (program.layers ?? []).forEach((group, i) => { for (const name of group) if (!out.has(name)) out.set(name, i + 1); });
  let next = (program.layers ?? []).length;
  for (const p of program.params) if (!out.has(p.name)) out.set(p.name, ++next);
  return out;
}

/** The program's costs, counted, with one request of each batch kept for the determinism check. */
class CostCounter {
  count = 0;
  private kept: { request: CostRequest; cost: number }[] = [];
  private batches = 0;
  repeatCount = 0;
  constructor(private readonly program: CostProgram) {}

  async costs(requests: CostRequest[], keep = false): Promise<Float64Array> {
    const out = await this.program.costs(requests);
    this.count += requests.length;
    if (keep && requests.length > 0) {
      // One per batch, the last one asked, spread over the batches when there are many of them.
      this.batches++;
      const k = requests.length - 1;
      if (this.kept.length < REPEATS) this.kept.push({ request: requests[k], cost: out[k] });
      else if (this.batches % 2 === 0) this.kept[(this.batches / 2) % REPEATS] = { request: requests[k], cost: out[k] };
    }
    return out;
  }

  repeats(): { request: CostRequest; cost: number }[] {
    this.repeatCount = this.kept.length;
    return this.kept;
  }
}

/** The requests of an item at nominal step δ, up and down, and the steps really taken. */
function requestsFor(tensor: ProgramTensor, item: Item, delta: number, precision: Precision): { up: CostRequest; down: CostRequest; hPlus: number; hMinus: number } {
  if ('flat' in item) {
    const index = indexOf(item.flat, tensor.value.shape);
    const [hPlus, hMinus] = effectiveSteps(precision, tensor.value.data[item.flat], delta);
    return { up: { param: tensor.name, index, delta: hPlus }, down: { param: tensor.name, index, delta: -hMinus }, hPlus, hMinus };
  }
  // Along a direction the program rounds θ + s·v element by element; that rounding is within the floor.
  const direction: Tensor = { shape: tensor.value.shape, data: item.direction };
  return { up: { param: tensor.name, direction, scale: delta }, down: { param: tensor.name, direction, scale: -delta }, hPlus: delta, hMinus: delta };
}

function analyticOf(g: Float64Array, item: Item): number {
  if ('flat' in item) return g[item.flat];
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * item.direction[i];
  return s;
}

/** Central differences of the items at step δ, in one batch. */
async function centralProbes(counter: CostCounter, tensor: ProgramTensor, g: Float64Array, items: Item[], delta: number, precision: Precision, keep: boolean): Promise<Probe[]> {
  const reqs = items.map((item) => requestsFor(tensor, item, delta, precision));
  const costs = await counter.costs(reqs.flatMap((r) => [r.up, r.down]), keep);
  const u = UNIT[precision];
  return items.map((item, k) => {
    const plus = costs[2 * k], minus = costs[2 * k + 1];
    const { hPlus, hMinus } = reqs[k];
    return {
      analytic: analyticOf(g, item), numeric: (plus - minus) / (hPlus + hMinus), rounding: roundingFloor(u, plus, minus, hPlus + hMinus),
      plus, minus, hPlus, hMinus, kink: false, step: delta,
    };
  });
}

/** The tensor's step from the sweep of a few seeded elements over decades (session/steps.ts, chooseStep). */
async function pilotStep(counter: CostCounter, tensor: ProgramTensor, precision: Precision, rng: Random): Promise<number> {
  const steps = pilotSteps(precision, scaleOf(tensor.value.data));
  const items = rng.sample(tensor.value.data.length, PILOT_ELEMENTS).map((flat) => ({ flat }));
  if (items.length === 0) return steps[0];
  const requests = steps.flatMap((h) => items.flatMap((item) => { const r = requestsFor(tensor, item, h, precision); return [r.up, r.down]; }));
  const costs = await counter.costs(requests, true);
  const D: Float64Array[] = [], floors: Float64Array[] = [];
  steps.forEach((h, k) => {
    const d = new Float64Array(items.length), f = new Float64Array(items.length);
    items.forEach((item, i) => {
      const { hPlus, hMinus } = requestsFor(tensor, item, h, precision);
      const plus = costs[2 * (k * items.length + i)], minus = costs[2 * (k * items.length + i) + 1];
      d[i] = (plus - minus) / (hPlus + hMinus);
      f[i] = roundingFloor(UNIT[precision], plus, minus, hPlus + hMinus, TYPICAL_ULPS);
    });
    D.push(d);
    floors.push(f);
  });
  return chooseStep(steps, D, floors).step;
}

/**
 * A tensor that would warn or fail on its central differences: its disagreeing items checked for
 * kinks (one-sided gaps that do not shrink with the step), then every item's truncation from a
 * second step h/2.
 */
async function refine(counter: CostCounter, s: TensorState, precision: Precision, tolerance: number, J: number): Promise<void> {
  if (rawStatus(s.probes, tolerance) === 'pass') return;
  const u = UNIT[precision];
  const gapOf = (p: Probe) => Math.abs((p.plus - J) / p.hPlus - (J - p.minus) / p.hMinus);
  const oneSidedFloor = (p: Probe) => roundingFloor(u, p.plus, J, p.hPlus) + roundingFloor(u, J, p.minus, p.hMinus);
  // A gap counts when it stands clear of the rounding to expect (TYPICAL_ULPS), not of the bound: a
  // kink of a small gradient (a float32 ReLU net's bias) leaves a gap below the bound.
  const typicalFloor = (p: Probe) => (oneSidedFloor(p) * TYPICAL_ULPS) / ROUNDING_ULPS;
  const suspects = s.probes.map((p, k) => k).filter((k) => {
    const p = s.probes[k];
    const off = Math.abs(p.analytic - p.numeric) > tolerance * Math.max(Math.abs(p.analytic), Math.abs(p.numeric)) + p.rounding;
    return off && gapOf(p) > 10 * typicalFloor(p);
  });
  if (suspects.length > 0) {
    const items = suspects.map((k) => s.items[k]);
    const tenth = await centralProbes(counter, s.tensor, s.g, items, s.step / 10, precision, false);
    const hundredth = await centralProbes(counter, s.tensor, s.g, items, s.step / 100, precision, false);
    suspects.forEach((k, i) => {
      const gaps = [s.probes[k], tenth[i], hundredth[i]].map((p) => (gapOf(p) > 10 * typicalFloor(p) ? gapOf(p) : 0));
      if (gaps[1] > KINK_KEEPS * gaps[0] && gaps[2] > KINK_KEEPS * gaps[1]) {
        // A kink: any slope between the one-sided ones (at the smallest step, widened by their rounding) is valid.
        const p = hundredth[i];
        const right = (p.plus - J) / p.hPlus, left = (J - p.minus) / p.hMinus, pad = oneSidedFloor(p);
        const lo = Math.min(left, right) - pad, hi = Math.max(left, right) + pad;
        s.probes[k] = { ...s.probes[k], numeric: Math.min(Math.max(s.probes[k].analytic, lo), hi), kink: true };
      } else {
        // The gap collapsed at a smaller step: a kink within the step, or strong curvature; the first
        // step past the collapse is clear of both.
        s.probes[k] = gaps[1] <= KINK_KEEPS * gaps[0] ? tenth[i] : hundredth[i];
      }
    });
  }
  // Truncation from a second step: D(h) − D(h/2) = ¾·c·h² + O(h⁴), so D(h)'s is about 4/3 of it.
  const smooth = s.probes.map((p, k) => k).filter((k) => !s.probes[k].kink);
  s.truncation = new Float64Array(s.probes.length);
  for (let from = 0; from < smooth.length; from += BATCH / 2) {
    const at = smooth.slice(from, from + BATCH / 2);
    const halves = await centralProbesAt(counter, s, at, precision);
    at.forEach((k, i) => { s.truncation![k] = (4 / 3) * Math.abs(s.probes[k].numeric - halves[i].numeric); });
  }
}

/** The central differences of some of a tensor's items at half the step each was taken with. */
async function centralProbesAt(counter: CostCounter, s: TensorState, at: number[], precision: Precision): Promise<Probe[]> {
  const out: Probe[] = new Array(at.length);
  const bySteps = new Map<number, number[]>();
  at.forEach((k, i) => { const h = s.probes[k].step; bySteps.set(h, [...(bySteps.get(h) ?? []), i]); });
  for (const [h, is] of bySteps) {
    const probes = await centralProbes(counter, s.tensor, s.g, is.map((i) => s.items[at[i]]), h / 2, precision, false);
    is.forEach((i, n) => { out[i] = probes[n]; });
  }
  return out;
}

/**
 * The verdict on the central differences alone, as a check without floors gives it (check.ts's
 * verdict): the norm rule on the relative error, and the element rule.
 */
function rawJudgement(g: ArrayLike<number>, d: ArrayLike<number>, tolerance: number): Judgement {
  const j = judge(g, d, null, tolerance);
  const norm = statusOf(compare(g, d).relativeError, tolerance);
  if (norm === 'fail') return { ...j, status: 'fail', failedBy: 'norm' };
  if (j.failedBy === 'element') return j;
  return { resolvedError: j.resolvedError, floor: j.floor, status: norm };
}

function rawStatus(probes: readonly Probe[], tolerance: number): Judgement['status'] {
  return probes.length === 0 ? 'pass' : rawJudgement(probes.map((p) => p.analytic), probes.map((p) => p.numeric), tolerance).status;
}

/**
 * One tensor's check. A disagreement is judged beyond each element's floor (rounding + truncation +
 * the spread of repeated costs); what the floor accounts for passes ("within resolution"), unless the
 * norm-wise error is at or above the tolerance and so is the floor: then it is "unresolved" (warn), the
 * differences cannot tell at this tolerance. Costs that are not deterministic give no verdict (warn, "nondeterministic").
 */
function judgeTensor(s: TensorState, u: number, spread: number, tolerance: number, deterministic: boolean, stopped: boolean): TensorCheck {
  const n = s.probes.length;
  const g = Float64Array.from(s.probes, (p) => p.analytic), d = Float64Array.from(s.probes, (p) => p.numeric);
  const c = compare(g, d);
  const index = (k: number) => { const item = s.items[k]; return 'flat' in item ? indexOf(item.flat, s.tensor.value.shape) : [k]; };
  const base: TensorCheck = {
    layer: s.layer, param: s.tensor.name, shape: s.tensor.value.shape.slice(), relativeError: c.relativeError, maxElementError: c.maxElementError,
    worst: worstOf(c, index, g, d), analyticNorm: c.analyticNorm, numericNorm: c.numericNorm, checked: n,
    kinks: s.probes.filter((p) => p.kink).length, status: 'pass', epsilon: s.step,
    ...(n < s.planned ? { planned: s.planned } : {}),
  };
  const withValues = (check: TensorCheck): TensorCheck => (check.status === 'pass' ? check : { ...check, values: comparedValues(g, d) });
  if (n === 0) return base;
  if (!deterministic) return withValues({ ...base, status: 'warn', resolution: 'nondeterministic' });
  const raw = rawJudgement(g, d, tolerance);
  if (raw.status === 'pass' || stopped || !s.truncation) {
    return withValues({ ...base, status: raw.status, ...(raw.status === 'fail' ? { failedBy: raw.failedBy ?? 'norm' } : {}) });
  }
  const floor = new Float64Array(n);
  let rounding2 = 0, truncation2 = 0;
  s.probes.forEach((p, k) => {
    // Each of the two costs may be off by the spread that repeated calls showed.
    const r = p.rounding + (2 * spread) / (p.hPlus + p.hMinus);
    floor[k] = r + s.truncation![k];
    rounding2 += r * r;
    truncation2 += s.truncation![k] ** 2;
  });
  const j = judge(g, d, floor, tolerance);
  const floorFields = { floor: j.floor, resolvedError: j.resolvedError, floorCause: truncation2 > rounding2 ? 'step' as const : 'forward' as const };
  if (j.status === 'fail') return withValues({ ...base, status: 'fail', failedBy: j.failedBy ?? 'norm', ...floorFields });
  // Unresolved: a norm-wise disagreement at or above the tolerance lies within a floor at or above it.
  // One below the tolerance (a warn, or single elements the element rule caught) is within its floors: a pass.
  if (j.floor >= tolerance && raw.failedBy === 'norm') return withValues({ ...base, status: 'warn', resolution: 'unresolved', ...floorFields });
  if (j.status === 'pass') return { ...base, status: 'pass', withinResolution: true, ...floorFields };
  return withValues({ ...base, status: 'warn', ...floorFields });
}

/** A warning or failing tensor's compared values for the HTML plots: at most VALUES_CAP, evenly spaced. */
function comparedValues(g: Float64Array, d: Float64Array): TensorCheck['values'] {
  const m = Math.min(g.length, VALUES_CAP);
  const analytic: number[] = [], numeric: number[] = [];
  for (let k = 0; k < m; k++) {
    const i = Math.floor((k * g.length) / m);
    analytic.push(g[i]);
    numeric.push(d[i]);
  }
  return { analytic, numeric };
}

/** Which elements (or directions) of a tensor to check, drawn from the seeded generator. */
function planItems(p: ProgramTensor, options: CheckOptions, rng: Random): Item[] {
  const n = p.value.data.length;
  if (options.mode === 'full') return Array.from({ length: n }, (_, flat) => ({ flat }));
  if (options.mode === 'sample') return rng.sample(n, options.samples).map((flat) => ({ flat }));
  if (n === 0) return [];
  return Array.from({ length: options.samples }, () => ({ direction: rng.unitVector(n) }));
}

/**
 * When the check would ask for more costs than `budget`, a seeded sample of each tensor's items, in
 * proportion to its size (at least one), so that the whole fits; and the finding that says so.
 */
function limitToBudget(params: readonly ProgramTensor[], plans: Item[][], budget: number, options: ProgramCheckOptions, rng: Random): { finding: RegisteredFinding } | null {
  // What the check asks besides the central differences: the step sweeps, Taylor, --sweep, the repeats.
  const overhead = params.reduce((s, p) => {
    const n = p.value.data.length;
    return s + (options.fixedStep ? 0 : 2 * pilotSteps('float64', 1).length * Math.min(PILOT_ELEMENTS, n)) + (options.taylor ? 24 : 0) + (options.sweep ? 2 * SWEEP_EPSILONS.length * Math.min(8, n) : 0);
  }, REPEATS + 2);
  const items = plans.reduce((s, p) => s + p.length, 0);
  const needed = 2 * items + overhead;
  if (needed <= budget) return null;
  const share = Math.max(0, budget - overhead) / (2 * items);
  let kept = 0;
  plans.forEach((plan, t) => {
    const k = Math.max(Math.min(1, plan.length), Math.floor(plan.length * share));
    const picked = rng.sample(plan.length, k);
    plans[t] = picked.map((i) => plan[i]);
    kept += k;
  });
  const unit = options.mode === 'directional' ? 'directions' : 'elements';
  return {
    finding: {
      code: 'evaluation-limit', severity: 'info',
      message: `Checking all ${items.toLocaleString('en-US')} ${unit} needs about ${needed.toLocaleString('en-US')} cost evaluations, more than the ${budget.toLocaleString('en-US')} allowed: a seeded sample of ${kept.toLocaleString('en-US')} ${unit}, in proportion to each tensor's size, was checked instead.`,
      fix: `To check everything, allow it: --max-evaluations ${needed}; or choose the sample yourself: --mode sample --samples N (N ${unit} per tensor).`,
      evidence: { needed, allowed: budget, checked: kept, total: items },
    },
  };
}


function nondeterminism(program: CostProgram, spread: number, J: number, repeats: number): RegisteredFinding {
  const relative = spread / Math.abs(J);
  return {
    code: 'nondeterministic-cost', severity: 'error',
    message: `The cost of ${program.describe} is not a function of its parameters: asked again at the same parameters (${repeats} point${repeats === 1 ? '' : 's'}: requests repeated in a later batch, and the cost at the end), it changed by up to ${spread.toPrecision(3)} (${Number.isFinite(relative) ? relative.toExponential(1) : relative} of |J|). Finite differences of such costs measure the noise, so no gradient verdict is taken from them.`,
    fix: 'Make the cost depend on the parameters alone while it is checked: a dropout mask drawn once (or dropout off), the same batch of data on every call (no shuffling or sampling inside the cost), batch-norm in one mode without updating its running statistics inside the cost, a fixed random seed, and deterministic GPU kernels (torch.use_deterministic_algorithms(True)) or the CPU.',
    evidence: { spread, relativeSpread: relative, repeats },
  };
}

function float32Finding(program: CostProgram, requested: number, used: number): RegisteredFinding {
  const how = program.dtype === 'float32' ? 'says it computes in float32' : 'computes in float32 (every parameter and the cost are exactly float32 values)';
  return {
    code: 'float32-program', severity: 'info',
    message: `${program.describe} ${how}: its costs keep about 7 digits, so each tensor's step and floor use float32's unit roundoff (2^-24), and the tolerance is ${used}${used !== requested ? ` (the ${requested} asked for is below what float32 differences resolve)` : ''}.`,
    fix: 'To check more tightly, run the program in float64 while it is checked (model.double() in PyTorch, np.float64 in NumPy).',
    evidence: { tolerance: used, requestedTolerance: requested },
  };
}

/** The unresolved tensors, and those whose gradients lie far below what the differences resolve. */
function resolutionFindings(checks: TensorCheck[], precision: Precision): RegisteredFinding[] {
  const resolve = [
    ...(precision === 'float32' ? ['run the program in float64 for the check'] : []),
    'a larger step with Richardson extrapolation (--epsilon 1e-3, say: the truncation cancels to O(h⁴))',
    '--taylor, whose verdict needs no step',
  ].join('; ');
  return checks.filter((c) => c.resolution === 'unresolved').map((c): RegisteredFinding => {
    const below = (c.floor ?? 0) >= 0.5;
    return {
      code: below ? 'gradients-below-floor' : 'unresolved-gradients', severity: 'warning', layer: c.layer, param: c.param,
      message: below
        ? `The gradients of ${c.param} (‖g‖ = ${c.analyticNorm.toPrecision(3)}) lie far below what its finite differences resolve at step ${c.epsilon?.toPrecision(3)}: the floor, ${c.floor!.toPrecision(2)} of ‖g‖ + ‖ĝ‖, is as large as the gradients themselves (a cost of ${precision} rounding at this |J|), so the check can neither confirm nor refute them. Not a failure.`
        : `The disagreement of ${c.param} (relative error ${c.relativeError.toExponential(1)}) lies within what its finite differences resolve at step ${c.epsilon?.toPrecision(3)}: a floor of ${c.floor!.toExponential(1)}, at or above the tolerance, from the ${c.floorCause === 'step' ? "step's truncation" : "rounding of the program's costs"}. Unresolved: not a pass, not a failure.`,
      fix: `To resolve it: ${resolve}.`,
      evidence: { floor: c.floor!, relativeError: c.relativeError, resolvedError: c.resolvedError ?? 0, epsilon: c.epsilon ?? 0 },
    };
  });
}

function kinkFindings(checks: TensorCheck[]): RegisteredFinding[] {
  return checks.filter((c) => c.kinks > 0).map((c) => ({
    code: 'kink', severity: 'info', layer: c.layer, param: c.param,
    message: `${c.kinks} of the checked ${c.param} ${c.kinks === 1 ? 'sits' : 'sit'} at a kink of the program's cost (a ReLU at 0, a max-pool tie, an abs): their one-sided differences disagree by a gap that does not shrink with the step, so any value between the one-sided slopes is accepted for them.`,
    fix: 'Nothing to fix: a subgradient is a valid answer at a kink.',
    evidence: { kinks: c.kinks, checked: c.checked },
  }));
}

/** --taylor: the order of J(θ + h·v) − J(θ) − h·g·v along one seeded direction per tensor, from one batch of costs. */
async function taylor(counter: CostCounter, states: TensorState[], checks: TensorCheck[], J0: number, u: number, seed: number): Promise<void> {
  const rng = new Random(seed + 0x7a11);
  for (const s of states) {
    const c = checks.find((x) => x.param === s.tensor.name)!;
    if (c.checked === 0) continue;
    const v = rng.unitVector(s.g.length);
    const gv = analyticOf(s.g, { direction: v });
    const steps = taylorSteps(taylorStart(s.tensor.value.data));
    const direction: Tensor = { shape: s.tensor.value.shape, data: v };
    const costs = await counter.costs(steps.map((h) => ({ param: s.tensor.name, direction, scale: h })));
    const result = taylorFit(steps, Array.from(costs, (J) => J - J0), gv, Math.abs(J0), 2 * u);
    c.taylorOrder = result.order;
    c.taylorStatus = result.status;
  }
}

/** Per layer group: ‖ĝ‖ from the differences and the standard deviation of its weights; nothing a program does not show. */
function healthOf(states: TensorState[]): LayerHealth[] {
  const groups = new Map<number, TensorState[]>();
  for (const s of states) groups.set(s.layer, [...(groups.get(s.layer) ?? []), s]);
  return [...groups.keys()].sort((a, b) => a - b).map((layer) => {
    const members = groups.get(layer)!;
    let g2 = 0, sum = 0, sum2 = 0, count = 0;
    for (const s of members) {
      for (const p of s.probes) g2 += p.numeric * p.numeric;
      const data = s.tensor.value.data;
      for (let i = 0; i < data.length; i++) { sum += data[i]; sum2 += data[i] * data[i]; }
      count += data.length;
    }
    const mean = count === 0 ? 0 : sum / count;
    return { layer, gradientNorm: Math.sqrt(g2), weightScale: count === 0 ? 0 : Math.sqrt(Math.max(0, sum2 / count - mean * mean)), tensors: members.map((s) => s.tensor.name) };
  });
}

/**
 * --sweep: each tensor's relative error against ε ∈ SWEEP_EPSILONS on a seeded sample of elements, by
 * plain subtraction of the program's costs (the only differences a program offers: `accurate` is the
 * same curve). Each tensor is checked at its own step (perTensor), not at the curve's `chosen`.
 */
async function sweepProgram(
  counter: CostCounter, params: readonly ProgramTensor[], grads: Map<string, Tensor>, states: TensorState[], precision: Precision, seed: number,
): Promise<SweepResult> {
  const rng = new Random(seed + 0x5eed);
  const epsilons = [...SWEEP_EPSILONS];
  const tensors: SweepTensor[] = [];
  for (const p of params) {
    const g = grads.get(p.name)!.data;
    const items = rng.sample(p.value.data.length, 8).map((flat) => ({ flat }));
    const plain: number[] = [];
    for (const h of epsilons) {
      const probes = await centralProbes(counter, p, g, items, h, precision, false);
      plain.push(compare(probes.map((x) => x.analytic), probes.map((x) => x.numeric)).relativeError);
    }
    const step = states.find((s) => s.tensor.name === p.name)?.step ?? null;
    tensors.push({ param: p.name, elements: items.length, accurate: plain, plain: [...plain], chosen: step, reason: "its own step, from the sweep of its own differences over decades of its scale (the largest whose estimated error has stopped improving)" });
  }
  const worstOf = (key: 'plain') => epsilons.map((_h, i) => Math.max(...tensors.map((t) => (Number.isNaN(t[key][i]) ? Infinity : t[key][i]))));
  const worst = worstOf('plain');
  const { chosen, reason } = choose(epsilons, worst);
  return {
    epsilons, tensors, worst: { accurate: worst, plain: [...worst] }, chosen, program: true,
    reason: `${reason} (marked only: each tensor of a program is checked at its own step, listed per tensor)`,
    perTensor: Object.fromEntries(tensors.filter((t) => t.chosen !== null).map((t) => [t.param, t.chosen!])),
  };
}
