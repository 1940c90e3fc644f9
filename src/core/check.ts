// The whole check: forward, the gradients under test, finite differences, comparison, health and
// diagnosis, as one pure function from plain inputs to a Report.
import { backward, correctPlan, type BackwardPlan } from './backward.js';
import { compare, statusOf, worstOf } from './compare.js';
import { forward, type ForwardCache } from './forward.js';
import { categoryOf } from './diagnose/explain.js';
import { layerHealth } from './health.js';
import { namedTensors, type Grads, type Matrix, type Model, type NamedTensor, type Params } from './model.js';
import { alongDirection, FiniteDifferences, type Direction, type ElementDifference } from './numeric.js';
import { mergeNumerics, numericalFindings, toleranceFor } from './numerics.js';
import { taylorTest } from './taylor.js';
import { Random } from './random.js';
import { VALUES_CAP, type Finding, type Mode, type Report, type TensorCheck } from './report.js';

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
  /** Also run the Taylor-remainder test (core/taylor.ts) on every checked tensor. */
  taylor?: boolean;
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
  X: Matrix;
  /** outputs × samples */
  Y: Matrix;
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
  fwd: ReturnType<typeof forward>;
}

/** Finite differences wanted for elements (row, cols[k]) of one tensor; see checkSteps. */
export interface RowJob {
  layer: number;
  kind: NamedTensor['kind'];
  row: number;
  cols: number[];
  h: number;
}

/** One step of checkSteps: a tensor's row jobs, and the elements done before them out of the total. */
export interface CheckStep {
  jobs: RowJob[];
  done: number;
  total: number;
}

export function check(input: CheckInput, options: CheckOptions = DEFAULT_OPTIONS, diagnose?: Diagnose): Report {
  const steps = checkSteps(input, options, diagnose);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/**
 * check() one tensor at a time, for a driver that runs the numeric work elsewhere (worker threads)
 * or gives the event loop a turn in between: each step yields a tensor's row jobs and takes their
 * element differences back, or computes them itself when given nothing. A driver that stopped
 * early (options.shouldStop) leaves the jobs it did not run undefined.
 */
export function* checkSteps(
  input: CheckInput, options: CheckOptions = DEFAULT_OPTIONS, diagnose?: Diagnose,
): Generator<CheckStep, Report, (ElementDifference[] | undefined)[] | undefined> {
  const { model, params, X, Y } = input;
  const fwd = forward(model, params, X, Y);
  const correct = backward(model, params, fwd, Y, correctPlan(model));
  const gs = input.gradients;
  // The correct plan is deterministic: its gradients are the ones just computed.
  const tested = gs.source === 'correct' ? correct : 'plan' in gs ? backward(model, params, fwd, Y, gs.plan) : gs.grads;
  const fd = new FiniteDifferences(model, params, fwd, Y);
  const rng = new Random(options.seed);

  const testedTensors = namedTensors(tested);
  const paramTensors = namedTensors(params);
  const plans = paramTensors.map((t) => elementsToCheck(t, options, rng));
  // Gradients handed in as float32 cannot be held to a tighter tolerance than float32 allows.
  const tolerances = testedTensors.map((g) => toleranceFor(g.value.data, !('plan' in gs), options.tolerance));
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
    const { rows, cols } = p.value;
    let result: { check: TensorCheck; stopped: boolean };
    if (plan.kind === 'directions') {
      result = checkDirections(fd, p, g.value, plan.directions, { ...options, tolerance: tolerances[t] }, () => { done++; tick(done); return options.shouldStop?.() ?? false; });
      yield { jobs: [], done, total };
    } else {
      const values = new Float64Array(rows * cols);
      const checkedMask = new Uint8Array(rows * cols);
      const kinks = new Uint8Array(rows * cols);
      let halted = false;
      const jobs = rowJobs(p, plan.elements, options.epsilon);
      const given = yield { jobs, done, total };
      for (let k = 0; k < jobs.length; k++) {
        if (!given && options.shouldStop?.()) { halted = true; break; }
        const job = jobs[k];
        const ds = given ? given[k] : fd.elements(job.layer, job.kind, job.row, job.cols, job.h);
        if (!ds) { halted = true; continue; }
        ds.forEach((d, n) => {
          const flat = job.row * cols + job.cols[n];
          // At a kink every value between the one-sided quotients is a valid derivative, and so
          // is backprop with either one-sided slope there (with several units on kinks the two need
          // not coincide): compare with the valid value nearest to the gradient under test.
          const gv = g.value.data[flat];
          if (d.kink) {
            conventions ??= kinkConventions(model, params, fwd, Y);
            const pick = (gr: Grads) => (p.kind === 'W' ? gr.W[p.layer] : gr.b[p.layer]!).data[flat];
            const candidates = [d.numeric - d.spread, d.numeric + d.spread, pick(conventions[0]), pick(conventions[1])];
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
      numeric.set(p.name, { values, checked: checkedMask, kinks });
      result = { check: elementCheck(p, g.value, values, checkedMask, kinks, tolerances[t]), stopped: halted };
    }
    if (result.check.checked > 0 || result.check.kinks > 0) checks.push(result.check);
    stopped = result.stopped;
  }
  options.onProgress?.(done, total);
  if (options.taylor) {
    // The ε-free second verdict, along one seeded direction per tensor (its own stream, so the
    // sampled elements and directions above stay what they were).
    const taylorRng = new Random(options.seed + 0x7a11);
    for (const c of checks) {
      const t = paramTensors.findIndex((p) => p.name === c.param);
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
  return report;
}

/**
 * Correct backprop with the left and with the right slope wherever a pre-activation sits exactly on
 * a kink (relu'(0) taken as 0, and as 1): what a correct implementation computes there, whichever
 * convention it uses.
 */
function kinkConventions(model: Model, params: Params, fwd: ForwardCache, Y: Matrix): [Grads, Grads] {
  const withSlope = (side: -1 | 1): Grads => {
    const plan = correctPlan(model);
    plan.derivatives = model.layers.map(({ activation: act }) => {
      if ((act.kinks.length === 0 && !act.onKink) || act.columnwise) return null;
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
  // Over a W the directions are rank one, u·vᵀ (see numeric.ts, Direction): a wrong gradient
  // G + E is still seen by almost every one (uᵀEv ≠ 0 unless E = 0), with the same mean square
  // ‖E‖²/n as a direction uniform on the sphere, at a cost of rows + cols instead of rows·cols.
  const { rows, cols } = t.value;
  const directions = Array.from({ length: options.samples }, (): Direction =>
    t.kind === 'W' && rows > 1 && cols > 1 ? { u: rng.unitVector(rows), v: rng.unitVector(cols) } : rng.unitVector(n));
  return { kind: 'directions', directions, count: directions.length };
}

function elementCheck(
  p: NamedTensor, g: Matrix, values: Float64Array, checked: Uint8Array, kinks: Uint8Array, tolerance: number,
): TensorCheck {
  const { rows, cols } = p.value;
  const skip = new Uint8Array(values.length);
  let count = 0, kinkCount = 0;
  for (let i = 0; i < values.length; i++) {
    if (!checked[i]) { skip[i] = 1; continue; }
    if (kinks[i]) kinkCount++;
    count++;
  }
  const c = compare(g.data, values, skip);
  const status = count === 0 ? 'pass' : statusOf(c.relativeError, tolerance);
  return {
    layer: p.layer + 1,
    param: p.name,
    shape: [rows, cols],
    relativeError: c.relativeError,
    maxElementError: c.maxElementError,
    worst: worstOf(c, (flat) => [Math.floor(flat / cols), flat % cols], g.data, values),
    analyticNorm: c.analyticNorm,
    numericNorm: c.numericNorm,
    checked: count,
    kinks: kinkCount,
    status,
    ...(status === 'fail' ? { values: comparedValues(g.data, values, (i) => checked[i] === 1) } : {}),
  };
}

/** Directional mode: compares g·v with the central difference of J along v, for each v. */
function checkDirections(
  fd: FiniteDifferences, p: NamedTensor, g: Matrix, directions: Direction[], options: CheckOptions, step: () => boolean,
): { check: TensorCheck; stopped: boolean } {
  const analytic: number[] = [], numericValues: number[] = [], skip: number[] = [];
  let kinks = 0, stopped = false;
  for (const v of directions) {
    const dot = alongDirection(g.data, v);
    const d = fd.direction(p.layer, p.kind, v, options.epsilon);
    analytic.push(dot);
    numericValues.push(d.numeric);
    skip.push(d.kink ? 1 : 0);
    if (d.kink) kinks++;
    if (step()) { stopped = true; break; }
  }
  const c = compare(analytic, numericValues, skip);
  const checked = analytic.length - kinks;
  const status = checked === 0 ? 'pass' : statusOf(c.relativeError, options.tolerance);
  return {
    check: {
      layer: p.layer + 1,
      param: p.name,
      shape: [p.value.rows, p.value.cols],
      relativeError: c.relativeError,
      maxElementError: c.maxElementError,
      worst: worstOf(c, (i) => [i], analytic, numericValues),
      analyticNorm: c.analyticNorm,
      numericNorm: c.numericNorm,
      checked,
      kinks,
      status,
      ...(status === 'fail' ? { values: comparedValues(analytic, numericValues, () => true) } : {}),
    },
    stopped,
  };
}

/** A failing tensor's compared values, for the report's scatter: at most VALUES_CAP, evenly spaced. */
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

/** The elements of one tensor (sorted flat indices) as row jobs: each row is computed as one batch. */
function rowJobs(p: NamedTensor, elements: number[], h: number): RowJob[] {
  const cols = p.value.cols;
  const jobs: RowJob[] = [];
  for (const flat of elements) {
    const row = Math.floor(flat / cols);
    if (jobs.length === 0 || jobs[jobs.length - 1].row !== row) jobs.push({ layer: p.layer, kind: p.kind, row, cols: [], h });
    jobs[jobs.length - 1].cols.push(flat % cols);
  }
  return jobs;
}

function progressTicker(options: CheckOptions, total: number): (done: number) => void {
  if (!options.onProgress) return () => {};
  const every = Math.max(1, Math.floor(total / 200));
  let next = every;
  return (done) => {
    if (done < next) return;
    next = done + every;
    options.onProgress!(done, total);
  };
}
