// The whole check: forward, the gradients under test, finite differences, comparison, health and
// diagnosis, as one pure function from plain inputs to a Report. The forward pass and the backprops
// at the checked weights are computed once (prepare) and shared by every part of the check, the
// sweep and the difference source built on them; the source is the caller's choice.
import { backward, correctPlan, type BackwardPlan } from '../backprop.js';
import { compare, statusOf, worstOf, type Comparison } from './compare.js';
import { forward, type ForwardCache } from '../forward.js';
import { categoryOf } from '../findings/registry.js';
import { layerHealth } from './layer-health.js';
import { namedTensors, tensorOf, type Grads, type Model, type NamedTensor, type ParamRef, type Params } from '../model.js';
import { indexOf, type Tensor } from '../tensor.js';
import { productSource } from '../differences/product.js';
import { alongDirection, elementsOf, type DifferenceSource, type Direction, type ElementDifference } from '../differences/source.js';
import { isFloat32, mergeNumerics, numericalFindings } from './edges.js';
import { FLOAT32_UNIT, FLOAT64_UNIT, floorAlong, floorParts, gradientFloor, judge, stepFor, tensorFloor, type GradientFloor, type Judgement } from './resolution.js';
import { taylorTest } from './taylor.js';
import { Random } from '../random.js';
import { VALUES_CAP, type Finding, type Mode, type Report, type Status, type TensorCheck } from '../report.js';

export interface CheckOptions {
  epsilon: number;
  tolerance: number;
  mode: Mode;
  seed: number;
  /** Elements per tensor (sample mode) or directions per tensor (directional mode). */
  samples: number;
  /** Called now and then with the elements done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Polled between elements; when it returns true the report holds what was checked so far. */
  shouldStop?: () => boolean;
  /** Also run the Taylor-remainder test (core/check/taylor.ts) on every checked tensor. */
  taylor?: boolean;
  /**
   * True when ε was given (--epsilon): every tensor is checked with exactly that step. Otherwise ε
   * is the base step and each tensor's step is scaled to the size of its inputs (resolution.ts, stepFor).
   */
  fixedStep?: boolean;
  /** Steps per tensor ("W1", "b1", …) that override the others: the per-tensor choice of --sweep. */
  epsilons?: Record<string, number>;
}

export const DEFAULT_OPTIONS: CheckOptions = {
  epsilon: 1e-6,
  tolerance: 1e-6,
  mode: 'full',
  seed: 1,
  samples: 10,
};

/**
 * The gradients under test: a backward plan to run, or ready-made ones. The plan of 'correct' is
 * correctPlan(model), whose gradients the check computes anyway; it is not run a second time.
 */
export type GradientSource =
  | { source: 'correct' | 'declared'; plan: BackwardPlan }
  | { source: 'grads' | 'exec'; grads: Grads };

export interface CheckInput {
  model: Model;
  params: Params;
  /** features × samples */
  X: Tensor;
  /** outputs × samples */
  Y: Tensor;
  gradients: GradientSource;
}

/** Hooks that later stages (diagnosis) plug in without the core knowing them. */
export type Diagnose = (input: CheckInput, report: Report, context: CheckContext) => Finding[];

export interface CheckContext {
  /** The gradients under test, as named tensors. */
  tested: NamedTensor[];
  /** The finite-difference gradients where they were computed element-wise (full/sample mode). */
  numeric: Map<string, { values: Float64Array; checked: Uint8Array; kinks: Uint8Array }>;
  /** The correct gradients from our own backprop. */
  correct: Grads;
  fwd: ForwardCache;
}

/** Finite differences wanted for elements `indices` (flat, one row's worth) of one tensor; see checkSteps. */
export interface RowJob extends ParamRef {
  indices: number[];
  h: number;
}

/** What a check computes once at the checked weights, and shares between all its parts. */
export interface Prepared {
  fwd: ForwardCache;
  /** Correct backprop, from our own records. */
  correct: Grads;
  /** The gradients under test. */
  tested: Grads;
  /** The finite differences, built on `fwd`. */
  differences: DifferenceSource;
  /** What built them: a worker thread builds the same on its own forward pass (cli/row-worker.ts). */
  factory: SourceFactory;
}

/** Builds a difference source on the checked input and its forward pass (differences/*.ts). */
export type SourceFactory = (input: CheckInput, fwd: ForwardCache) => DifferenceSource;

/** The forward pass, correct backprop and the gradients under test, once; and the source on them. */
export function prepare(input: CheckInput, differences: SourceFactory = productSource): Prepared {
  const { model, params, X, Y } = input;
  const fwd = forward(model, params, X, Y);
  const correct = backward(model, params, fwd, Y, correctPlan(model));
  const gs = input.gradients;
  // The correct plan is deterministic: its gradients are the ones just computed.
  const tested = gs.source === 'correct' ? correct : 'plan' in gs ? backward(model, params, fwd, Y, gs.plan) : gs.grads;
  return { fwd, correct, tested, differences: differences(input, fwd), factory: differences };
}

/** One step of checkSteps: a tensor's row jobs, and the elements done before them out of the total. */
export interface CheckStep {
  jobs: RowJob[];
  done: number;
  total: number;
}

/** The check of `input`; `prepared` (default: prepare(input), the product's source) says where its differences come from. */
export function check(input: CheckInput, options: CheckOptions = DEFAULT_OPTIONS, diagnose?: Diagnose, prepared?: Prepared): Report {
  const steps = checkSteps(input, options, diagnose, prepared);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/**
 * check() one tensor at a time, for a driver that runs the numeric work elsewhere (worker threads)
 * or gives the event loop a turn in between: each step yields a tensor's row jobs and takes their
 * element differences back, or computes them itself when given nothing. A driver that stopped
 * early (options.shouldStop) leaves the jobs it did not run undefined.
 */
export function* checkSteps(
  input: CheckInput, options: CheckOptions = DEFAULT_OPTIONS, diagnose?: Diagnose, prepared: Prepared = prepare(input),
): Generator<CheckStep, Report, (ElementDifference[] | undefined)[] | undefined> {
  const { model, params, Y } = input;
  const { fwd, correct, tested, differences: fd } = prepared;
  const gs = input.gradients;
  const lacking = options.mode === 'directional' && !fd.direction ? 'directions' : options.taylor && !fd.change ? 'one-sided changes (the Taylor test)' : null;
  if (lacking) throw new Error(`internal: this check's difference source answers no ${lacking}`);
  const rng = new Random(options.seed);

  const testedTensors = namedTensors(model, tested);
  const paramTensors = namedTensors(model, params);
  const plans = paramTensors.map((t) => elementsToCheck(t, options, rng));
  const tolerance = options.tolerance;
  const steps = paramTensors.map((p) => options.epsilons?.[p.label] ?? (options.fixedStep ? options.epsilon : stepFor(p, fwd, options.epsilon)));
  // Gradients handed in as float32 are judged against float32's resolution, the others float64's.
  const units = testedTensors.map((g) => (!('plan' in gs) && isFloat32(g.value.data) ? FLOAT32_UNIT : FLOAT64_UNIT));
  // The floors cost a few backprops: computed once, and only when some tensor would warn or fail.
  const floors = new Map<number, GradientFloor>();
  const floorOf = (t: number): Float64Array => {
    const unit = units[t];
    if (!floors.has(unit)) floors.set(unit, gradientFloor(model, params, fwd, Y, correct, unit, options.seed));
    return tensorFloor(floors.get(unit)!, paramTensors[t]);
  };
  const conventionsOf = () => (conventions ??= kinkConventions(model, params, fwd, Y));
  const total = plans.reduce((n, p) => n + p.count, 0);
  let done = 0;
  let stopped = false;
  const tick = progressTicker(options, total);

  const checks: TensorCheck[] = [];
  const numeric: CheckContext['numeric'] = new Map();
  let conventions: [Grads, Grads] | undefined;
  for (let t = 0; t < paramTensors.length && !stopped; t++) {
    const p = paramTensors[t], g = testedTensors[t];
    const plan = plans[t];
    let result: { check: TensorCheck; stopped: boolean };
    const h = steps[t];
    if (plan.kind === 'directions') {
      result = checkDirections(fd, p, g.value, plan.directions, h, tolerance, () => floorOf(t), () => conventionsOf().map((gr) => tensorOf(gr, p.ref).data) as [Float64Array, Float64Array],
        () => { done++; tick(done); return options.shouldStop?.() ?? false; });
      yield { jobs: [], done, total };
    } else {
      // One per element, whatever the tensor's rank (a conv2d W is 4-D).
      const n = p.value.data.length;
      const values = new Float64Array(n);
      const checkedMask = new Uint8Array(n);
      const kinks = new Uint8Array(n);
      let halted = false;
      const jobs = rowJobs(p, plan.elements, h);
      const given = yield { jobs, done, total };
      for (let k = 0; k < jobs.length; k++) {
        if (!given && options.shouldStop?.()) { halted = true; break; }
        const job = jobs[k];
        const ds = given ? given[k] : elementsOf(fd, job, job.indices, job.h);
        if (!ds) { halted = true; continue; }
        ds.forEach((d, n) => {
          const flat = job.indices[n];
          // At a kink every value between the one-sided quotients is a valid derivative, and so
          // is backprop with either one-sided slope there (with several units on kinks the two need
          // not coincide): compare with the valid value nearest to the gradient under test.
          const gv = g.value.data[flat];
          if (d.kink) {
            const [left, right] = conventionsOf();
            const candidates = [d.numeric - d.spread, d.numeric + d.spread, tensorOf(left, p.ref).data[flat], tensorOf(right, p.ref).data[flat]];
            values[flat] = Math.min(Math.max(gv, Math.min(...candidates)), Math.max(...candidates));
          } else {
            values[flat] = d.numeric;
          }
          checkedMask[flat] = 1;
          kinks[flat] = d.kink ? 1 : 0;
          done++;
        });
        tick(done);
      }
      numeric.set(p.label, { values, checked: checkedMask, kinks });
      let c = elementCheck(p, g.value, values, checkedMask, kinks, tolerance, null, h);
      if (c.status !== 'pass' && !halted) {
        // Would warn or fail: judge it against resolution. The floor of backprop's rounding, plus
        // the truncation of these differences from a second step (none at kinks, whose value is
        // an interval's nearest point).
        const floor = floorOf(t);
        const truncation = new Float64Array(floor.length);
        for (const job of jobs) {
          elementsOf(fd, job, job.indices, job.h / 2).forEach((d2, n) => {
            const flat = job.indices[n];
            if (!kinks[flat] && checkedMask[flat]) truncation[flat] = (4 / 3) * Math.abs(values[flat] - d2.numeric);
          });
        }
        for (let i = 0; i < floor.length; i++) floor[i] += truncation[i];
        const resolved = elementCheck(p, g.value, values, checkedMask, kinks, tolerance, floor, h);
        c = { ...resolved, ...resolutionFields(c, resolved, truncation, floorParts(floors.get(units[t])!, paramTensors[t]), checkedMask) };
      }
      result = { check: c, stopped: halted };
    }
    stopped = result.stopped;
    if (units[t] === FLOAT32_UNIT) result.check.precision = 'float32';
    // Interrupted before this tensor was done: say how many of its elements (directions) were planned.
    if (stopped && result.check.checked < plan.count) result.check.planned = plan.count;
    if (result.check.checked > 0 || result.check.kinks > 0) checks.push(result.check);
  }
  options.onProgress?.(done, total);
  if (options.taylor) {
    // The ε-free second verdict, along one seeded direction per tensor (its own stream, so the
    // sampled elements and directions above stay what they were).
    const taylorRng = new Random(options.seed + 0x7a11);
    for (const c of checks) {
      const t = paramTensors.findIndex((p) => p.label === c.param);
      const result = taylorTest(fd, paramTensors[t], testedTensors[t].value.data, taylorRng);
      c.taylorOrder = result.order;
      c.taylorStatus = result.status;
    }
  }

  const report: Report = {
    ok: checks.every((c) => c.status !== 'fail') && !stopped,
    loss: fwd.cost,
    source: input.gradients.source,
    checks,
    findings: [],
    health: { layers: layerHealth(model, params, fwd, correct) },
    settings: {
      epsilon: options.epsilon,
      tolerance: options.tolerance,
      mode: options.mode,
      seed: options.seed,
      ...(options.mode === 'full' ? {} : { samples: options.samples }),
    },
    ...(stopped ? { partial: true } : {}),
  };
  if (diagnose) report.findings = diagnose(input, report, { tested: testedTensors, numeric, correct, fwd });
  // Numerical edges (NaN/Inf at these weights, tensors where nothing was compared) say when a
  // verdict means nothing; an error among them is never a pass.
  const numerics = numericalFindings({ model, params, fwd, Y, correct, checks, tested: testedTensors, handedIn: !('plan' in gs), tolerance: options.tolerance });
  report.findings = mergeNumerics(report.findings, numerics, (code) => ['root', 'propagated'].includes(categoryOf(code) ?? ''));
  if (numerics.some((f) => f.severity === 'error')) report.ok = false;
  // The tensors an interrupt left unreached, listed (after diagnosis, which must not read them) so
  // that no renderer can count them as passed.
  if (stopped) report.checks.push(...notReached(paramTensors, plans, checks));
  return report;
}

/**
 * Correct backprop with the left and with the right slope wherever a pre-activation sits exactly on
 * a kink (relu'(0) taken as 0, and as 1): what a correct implementation computes there, whichever
 * convention it uses.
 */
function kinkConventions(model: Model, params: Params, fwd: ForwardCache, Y: Tensor): [Grads, Grads] {
  const withSlope = (side: -1 | 1): Grads => {
    const plan = correctPlan(model);
    plan.derivatives = model.layers.map(({ activation: act }) => {
      // A per-element slope stands for the Jacobian only when it is diagonal.
      if (!act.diagonal || (act.kinks.length === 0 && !act.onKink)) return null;
      return (z: number, a: number) => {
        // A custom formula's kink (onKink) is taken at z itself: its one-sided slopes one step away.
        if (act.kinks.includes(z) || act.onKink?.(z)) {
          const t = z === 0 ? side * Number.MIN_VALUE : z * (1 + side * Number.EPSILON);
          return act.derivative(t, act.f(t));
        }
        return act.derivative(z, a);
      };
    });
    return backward(model, params, fwd, Y, plan);
  };
  return [withSlope(-1), withSlope(1)];
}

/** Interrupted: a check with nothing compared (checked 0) and `planned` for each tensor not reached. */
function notReached(tensors: NamedTensor[], plans: ElementPlan[], checks: TensorCheck[]): TensorCheck[] {
  const done = new Set(checks.map((c) => c.param));
  return tensors.flatMap((p, t) => done.has(p.label) ? [] : [{
    layer: p.ref.layer + 1, param: p.label, shape: p.value.shape.slice(),
    relativeError: 0, maxElementError: 0, worst: null, analyticNorm: 0, numericNorm: 0,
    checked: 0, kinks: 0, status: 'pass' as const, planned: plans[t].count,
  }]);
}

type ElementPlan =
  | { kind: 'elements'; elements: number[]; count: number }
  | { kind: 'directions'; directions: Direction[]; count: number };

/** Which elements (or directions) of a tensor to check, drawn from the seeded generator. */
function elementsToCheck(t: NamedTensor, options: CheckOptions, rng: Random): ElementPlan {
  const n = t.value.data.length;
  if (options.mode === 'full') return { kind: 'elements', elements: Array.from({ length: n }, (_, i) => i), count: n };
  if (options.mode === 'sample') {
    const elements = rng.sample(n, options.samples);
    return { kind: 'elements', elements, count: elements.length };
  }
  // Over a W the directions are rank one, u·vᵀ (see differences/propagated.ts, Direction): a wrong gradient
  // G + E is still seen by almost every one (uᵀEv ≠ 0 unless E = 0), with the same mean square
  // ‖E‖²/n as a direction uniform on the sphere, at a cost of rows + cols instead of rows·cols.
  // A conv2d W (4-D) gets dense directions.
  const [rows, cols] = t.value.shape;
  const directions = Array.from({ length: options.samples }, (): Direction =>
    t.ref.name === 'W' && t.value.shape.length === 2 && rows > 1 && cols > 1 ? { u: rng.unitVector(rows), v: rng.unitVector(cols) } : rng.unitVector(n));
  return { kind: 'directions', directions, count: directions.length };
}

function elementCheck(
  p: NamedTensor, g: Tensor, values: Float64Array, checked: Uint8Array, kinks: Uint8Array, tolerance: number, floor: Float64Array | null, h: number,
): TensorCheck {
  const skip = new Uint8Array(values.length);
  let count = 0, kinkCount = 0;
  for (let i = 0; i < values.length; i++) {
    if (!checked[i]) { skip[i] = 1; continue; }
    if (kinks[i]) kinkCount++;
    count++;
  }
  const c = compare(g.data, values, skip);
  const j = count === 0 ? null : verdict(c.relativeError, judge(g.data, values, floor, tolerance, skip), floor !== null, tolerance);
  const status = j?.status ?? 'pass';
  return {
    ...comparedFields(p, c, worstOf(c, (flat) => indexOf(flat, p.value.shape), g.data, values), count, kinkCount, status, h),
    ...judgementFields(j, floor !== null),
    ...(status !== 'pass' ? { values: comparedValues(g.data, values, (i) => checked[i] === 1) } : {}),
  };
}

/** A tensor check's comparison fields, in the report's order (element-wise and directional checks alike). */
function comparedFields(
  p: NamedTensor, c: Comparison, worst: TensorCheck['worst'], checked: number, kinks: number, status: Status, h: number,
): Pick<TensorCheck, 'layer' | 'param' | 'shape' | 'relativeError' | 'maxElementError' | 'worst' | 'analyticNorm' | 'numericNorm' | 'checked' | 'kinks' | 'status' | 'epsilon'> {
  return {
    layer: p.ref.layer + 1,
    param: p.label,
    shape: p.value.shape.slice(),
    relativeError: c.relativeError,
    maxElementError: c.maxElementError,
    worst,
    analyticNorm: c.analyticNorm,
    numericNorm: c.numericNorm,
    checked,
    kinks,
    status,
    epsilon: h,
  };
}

/**
 * The judgement, with the norm rule on the plain relative error where no floor was applied, so
 * that the verdicts of tensors that need no floor stay those of compare.ts's statusOf.
 */
function verdict(relativeError: number, j: Judgement, floored: boolean, tolerance: number): Judgement {
  if (floored) return j;
  const norm = statusOf(relativeError, tolerance);
  if (norm === 'fail') return { ...j, status: 'fail', failedBy: 'norm' };
  if (j.failedBy === 'element') return j;
  return { resolvedError: j.resolvedError, floor: j.floor, status: norm };
}

function judgementFields(j: Judgement | null, floored: boolean): Partial<TensorCheck> {
  if (!j) return {};
  return {
    ...(floored ? { floor: j.floor, resolvedError: j.resolvedError } : {}),
    ...(j.status === 'fail' ? { failedBy: j.failedBy ?? 'norm' } : {}),
  };
}

/** What judging against resolution changed, from the floor's parts per element. */
function resolutionFields(raw: TensorCheck, resolved: TensorCheck, step: ArrayLike<number>, parts: { forward: ArrayLike<number>; sums: ArrayLike<number> }, checked: Uint8Array): Partial<TensorCheck> {
  // The parts over the compared elements only (sample mode compares a few); the sums' part counts both sides.
  const norm = (x: ArrayLike<number>) => { let q = 0; for (let i = 0; i < x.length; i++) if (checked[i]) q += x[i] * x[i]; return Math.sqrt(q); };
  return resolutionOutcome(raw, resolved, norm(parts.forward), 2 * norm(parts.sums), norm(step));
}

/** A warn or fail that is now a pass is "within resolution"; and which part of the floor is largest. */
function resolutionOutcome(raw: TensorCheck, resolved: TensorCheck, forward: number, sums: number, step: number): Partial<TensorCheck> {
  const floorCause: TensorCheck['floorCause'] = step >= forward && step >= sums ? 'step' : forward >= sums ? 'forward' : 'sums';
  const within = resolved.status === 'pass' && raw.status !== 'pass';
  return { floorCause, ...(within ? { withinResolution: true } : {}) };
}

/**
 * Directional mode: compares g·v with the central difference of J along v, for each v. A
 * direction along which some sample sits exactly on a kink is compared with the nearest valid
 * value (between the one-sided quotients, or what backprop with either one-sided slope gives),
 * never left out.
 */
function checkDirections(
  fd: DifferenceSource, p: NamedTensor, g: Tensor, directions: Direction[], h: number, tolerance: number,
  floorOf: () => Float64Array, conventions: () => [Float64Array, Float64Array], step: () => boolean,
): { check: TensorCheck; stopped: boolean } {
  const analytic: number[] = [], numericValues: number[] = [], kinkAt: boolean[] = [];
  let kinks = 0, stopped = false;
  for (const v of directions) {
    const dot = alongDirection(g.data, v);
    const d = fd.direction!(p.ref, v, h);
    let value = d.numeric;
    if (d.kink) {
      const [left, right] = conventions();
      const candidates = [d.numeric - d.spread, d.numeric + d.spread, alongDirection(left, v), alongDirection(right, v)];
      value = Math.min(Math.max(dot, Math.min(...candidates)), Math.max(...candidates));
      kinks++;
    }
    analytic.push(dot);
    numericValues.push(value);
    kinkAt.push(d.kink);
    if (step()) { stopped = true; break; }
  }
  const c = compare(analytic, numericValues);
  const checked = analytic.length;
  const build = (j: Judgement | null, floored: boolean): TensorCheck => {
    const status = j?.status ?? 'pass';
    return {
      ...comparedFields(p, c, worstOf(c, (i) => [i], analytic, numericValues), checked, kinks, status, h),
      ...judgementFields(j, floored),
      ...(status !== 'pass' ? { values: comparedValues(analytic, numericValues, () => true) } : {}),
    };
  };
  const raw = build(checked === 0 ? null : verdict(c.relativeError, judge(analytic, numericValues, null, tolerance), false, tolerance), false);
  if (raw.status === 'pass' || stopped) return { check: raw, stopped };
  // Would warn or fail: each direction's floor is the elements' floors along it, plus the
  // truncation of its difference from a second step.
  const elementFloor = floorOf();
  let forward = 0, trunc = 0;
  const floor = analytic.map((_a, k) => {
    const v = directions[k];
    const f = floorAlong(elementFloor, v);
    const t = kinkAt[k] ? 0 : (4 / 3) * Math.abs(numericValues[k] - fd.direction!(p.ref, v, h / 2).numeric);
    forward += f * f;
    trunc += t * t;
    return f + t;
  });
  const resolved = build(verdict(c.relativeError, judge(analytic, numericValues, floor, tolerance), true, tolerance), true);
  return { check: { ...resolved, ...resolutionOutcome(raw, resolved, Math.sqrt(forward), 0, Math.sqrt(trunc)) }, stopped };
}

/** A failing or warning tensor's compared values, for the report's scatter and residual plots: at most VALUES_CAP, evenly spaced. */
function comparedValues(g: ArrayLike<number>, gHat: ArrayLike<number>, include: (i: number) => boolean): TensorCheck['values'] {
  const at: number[] = [];
  for (let i = 0; i < g.length; i++) if (include(i)) at.push(i);
  const n = Math.min(at.length, VALUES_CAP);
  const analytic: number[] = [], numeric: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = at[Math.floor((k * at.length) / n)];
    analytic.push(g[i]);
    numeric.push(gHat[i]);
  }
  return { analytic, numeric };
}

/** The elements of one tensor (sorted flat indices) as row jobs: a source with `elements` computes each row as one batch. */
function rowJobs(p: NamedTensor, elements: number[], h: number): RowJob[] {
  const cols = p.value.shape[1];
  const jobs: RowJob[] = [];
  let row = -1;
  for (const flat of elements) {
    if (Math.floor(flat / cols) !== row) {
      row = Math.floor(flat / cols);
      jobs.push({ layer: p.ref.layer, name: p.ref.name, indices: [], h });
    }
    jobs[jobs.length - 1].indices.push(flat);
  }
  return jobs;
}

/** Calls options.onProgress about 200 times over a check of `total` steps. */
export function progressTicker(options: CheckOptions, total: number): (done: number) => void {
  if (!options.onProgress) return () => {};
  const every = Math.max(1, Math.floor(total / 200));
  let next = every;
  return (done) => {
    if (done < next) return;
    next = done + every;
    options.onProgress!(done, total);
  };
}
