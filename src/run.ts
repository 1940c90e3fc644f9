// From file names and settings to a Report: loads and validates every input at the boundary,
// then hands plain objects to the pure core. The CLI and the library API both call this.
import { check, DEFAULT_OPTIONS, type CheckInput, type CheckOptions, type GradientSource } from './core/check.js';
import { transposed } from './core/diagnose/chain.js';
import { correctPlan } from './core/backward.js';
import { diagnoser } from './core/diagnose/index.js';
import { initialise } from './core/init.js';
import type { Grads, Model, Params } from './core/model.js';
import type { Finding, Report } from './core/report.js';
import { loadData, type Dataset } from './io/data.js';
import { UserError } from './io/errors.js';
import { execAnswer, execPayload, functionAnswer, type BackpropFunction } from './io/exec.js';
import { declaredPlan, loadSpec, withInputs, type LoadedSpec } from './io/spec.js';
import { extraGradientsFinding, loadTensorFile, loadTensors, otherLayoutFinding } from './io/tensors.js';
import { MAX_ELEMENT_EVALUATIONS, MAX_SWEEP_WORK, samplesWithin, sweepWork, workload } from './core/limits.js';
import { sweep, SWEEP_ELEMENTS, SWEEP_EPSILONS } from './core/sweep.js';
import { checkAsync } from './workers.js';

export interface RunOptions extends Partial<CheckOptions> {
  net: string;
  data: string;
  /** Weights to check at; default: initialised from the spec's `init`. */
  params?: string;
  /** Gradients computed by the user's code at `params` (JSON or .npz). */
  grads?: string;
  /** A shell command that computes the gradients through the exec protocol (SPEC.md); at `params`
   *  if given, else at the spec's initialisation. */
  exec?: string;
  /** Seconds before the --exec program's process group is killed (default 60). */
  execTimeout?: number;
  /** Where the --exec program's stderr is passed through to (default process.stderr; null: nowhere). */
  execStderr?: NodeJS.WritableStream | null;
  /** Library API only: your gradient function, called with what an --exec program reads on stdin
   *  ({ X, Y, params }); it returns { dW1, db1, … } as nested arrays. The report's source is 'exec'. */
  backprop?: BackpropFunction;
  /** Columns of data.csv that are targets (names or 1-based numbers, comma-separated). */
  target?: string;
  /** Columns of data.csv that are dropped before features and targets are taken (an id column), named as `target`. */
  ignoreColumns?: string;
  /** Sweep ε over 1e-1 … 1e-12 first (core/sweep.ts), then check at the chosen ε; the report carries the sweep. */
  sweep?: boolean;
  /** The most (element, sample) evaluations a full or sample check may make (default 10⁷, core/limits.ts). */
  maxEvaluations?: number;
}

export interface Loaded {
  spec: LoadedSpec;
  model: Model;
  data: Dataset;
  params: Params;
}

export function load(options: RunOptions): Loaded {
  const spec = loadSpec(options.net);
  const data = loadData(options.data, spec.model, spec.statedInputs, options.target, options.ignoreColumns);
  const model = withInputs(spec.model, data.X.rows);
  // --seed seeds every random choice, the initialisation included; without it, init.seed does.
  const seed = options.seed ?? model.init.seed;
  const params = options.params ? loadTensors(options.params, model, 'params') : initialise(model, seed);
  return { spec, model, data, params };
}

/** The gradients under test: the user's file or program, or the spec's declared/correct backprop. */
export async function gradientSource(loaded: Loaded, options: RunOptions): Promise<GradientSource> {
  return (await gradientsUnderTest(loaded, options)).gradients;
}

/** gradientSource, with a note for the extra gradients (dA…, dZ…) the user's answer held. */
async function gradientsUnderTest(loaded: Loaded, options: RunOptions): Promise<{ gradients: GradientSource; notes: Finding[] }> {
  const given = [options.exec !== undefined && '--exec', options.grads !== undefined && '--grads', options.backprop !== undefined && 'backprop'].filter(Boolean);
  if (given.length > 1) {
    throw new UserError('command line', String(given[0]), `only one of ${given.join(' and ')}: each gives the gradients under test`, 'both');
  }
  const handedIn = (source: 'exec' | 'grads', grads: Grads, ignored: string[], where: string) =>
    ({ gradients: { source, grads }, notes: ignored.length > 0 ? [extraGradientsFinding(ignored, where)] : [] });
  if (options.backprop) {
    const answer = await functionAnswer(options.backprop, execPayload(loaded.data.X, loaded.data.Y, loaded.params), loaded.model);
    return handedIn('exec', answer.grads, answer.ignored, 'The backprop function’s answer');
  }
  if (options.exec !== undefined) {
    if (options.exec.trim() === '') throw new UserError('command line', '--exec', 'a command to run', 'an empty string');
    const payload = execPayload(loaded.data.X, loaded.data.Y, loaded.params);
    const answer = await execAnswer(options.exec, payload, loaded.model, { timeoutSeconds: options.execTimeout, stderr: options.execStderr });
    return handedIn('exec', answer.grads, answer.ignored, 'The --exec answer');
  }
  if (options.grads) {
    if (!options.params) {
      throw new UserError('command line', '--grads', '--params too: gradients are only meaningful at the weights they were computed at', '--grads without --params');
    }
    const file = loadTensorFile(options.grads, loaded.model, 'grads');
    return handedIn('grads', file.tensors, file.ignored, options.grads);
  }
  const declared = loaded.spec.declared;
  return {
    gradients: declared ? { source: 'declared', plan: declaredPlan(loaded.model, declared) } : { source: 'correct', plan: correctPlan(loaded.model) },
    notes: [],
  };
}

export async function run(options: RunOptions): Promise<Report> {
  const loaded = load(options);
  // An --epsilon given is used as given on every tensor; without it each tensor's step is scaled from the base step.
  const settings: CheckOptions = { ...DEFAULT_OPTIONS, seed: loaded.model.init.seed, ...definedOnly(options), ...(options.epsilon !== undefined ? { fixedStep: true } : {}) };
  refuseTooLarge(loaded, settings, options);
  const { gradients, notes } = await gradientsUnderTest(loaded, options);
  const input = { model: loaded.model, params: loaded.params, X: loaded.data.X, Y: loaded.data.Y, gradients };
  const swept = options.sweep ? sweep(input, settings.seed, SWEEP_EPSILONS, settings.tolerance) : undefined;
  // check() itself, on worker threads when large, yielding to the event loop so Ctrl-C can stop it.
  const checkSettings = swept ? { ...settings, epsilon: swept.chosen, epsilons: swept.perTensor } : settings;
  const checked = await checkAsync(input, checkSettings, diagnoser(loaded.spec.declared));
  const layout = otherLayout(input, checked, checkSettings, options);
  // The layout, when it explains every failure, comes before the diagnosis of the files as read.
  const findings = [...(layout ? [layout] : []), ...checked.findings, ...notes];
  const report = findings.length > checked.findings.length ? { ...checked, findings } : checked;
  return swept ? { ...report, sweep: swept } : report;
}

/**
 * When every W is square, shapes cannot tell whether --params and --grads were written as
 * (units, inputs) or as (inputs, units), and files in the other layout are read transposed. So a
 * failing check of such files is run once more with every W and dW transposed: if that passes, the
 * files use the other layout, and a finding says so (the diagnosis of the first check is kept).
 */
function otherLayout(input: CheckInput, report: Report, settings: CheckOptions, options: RunOptions): Finding | null {
  const { model, params, gradients } = input;
  if (report.ok || report.partial || !('grads' in gradients) || options.grads === undefined || options.params === undefined) return null;
  if (!model.layers.every((l) => l.units === l.inputs && l.units > 1)) return null;
  const flip = (p: Params): Params => ({ W: p.W.map(transposed), b: p.b });
  const again = check({ ...input, params: flip(params), gradients: { source: gradients.source, grads: flip(gradients.grads) } },
    { ...settings, onProgress: undefined, shouldStop: undefined });
  return again.ok ? otherLayoutFinding(options.params, options.grads, model.layers.length) : null;
}

/** Stops a check that would run for hours, before it starts, with what to do instead. */
function refuseTooLarge(loaded: Loaded, settings: CheckOptions, options: RunOptions): void {
  const m = loaded.data.X.cols;
  if (options.sweep && options.epsilon !== undefined) {
    throw new UserError('command line', '--sweep', 'either --sweep or --epsilon: the sweep chooses ε itself', 'both');
  }
  if (options.sweep && sweepWork(loaded.model, m) > MAX_SWEEP_WORK) {
    throw new UserError('command line', '--sweep', `a network and data small enough to sweep (${SWEEP_EPSILONS.length} steps × ${SWEEP_ELEMENTS} elements per tensor × 3 forward passes: at most ${MAX_SWEEP_WORK.toExponential(0).replace('+', '')} multiply-adds)`,
      `${sweepWork(loaded.model, m).toExponential(1).replace('+', '')} with ${m.toLocaleString('en-US')} samples`, 'Sweep on fewer rows of data.csv (the curve is the same) or a smaller network, or check without --sweep.');
  }
  if (settings.mode === 'directional') return;
  const max = options.maxEvaluations ?? MAX_ELEMENT_EVALUATIONS;
  const w = workload(loaded.model, m, settings);
  if (w.evaluations <= max) return;
  const n = (x: number) => x.toLocaleString('en-US');
  const k = Math.min(50, samplesWithin(w, max));
  const instead = k >= 1
    ? `Check a seeded sample instead: --mode sample --samples ${k} (${n(k * w.tensors * m)} evaluations), or --mode directional --directions 10`
    : `Even one element per tensor (${n(w.tensors * m)} evaluations) is over the limit: ${m > 500 ? 'check a few hundred rows of data.csv (they find the same bugs), or ' : ''}use --mode directional --directions 10`;
  throw new UserError('command line', `--mode ${settings.mode}`,
    `at most ${n(max)} element evaluations (elements checked × samples) in one check`,
    `${n(w.elements)} elements × ${n(m)} samples = ${n(w.evaluations)}`,
    `${instead}; or raise the limit with --max-evaluations ${n(w.evaluations).replace(/,/g, '')}.`);
}

function definedOnly(options: RunOptions): Partial<CheckOptions> {
  const out: Partial<CheckOptions> = {};
  for (const key of ['epsilon', 'tolerance', 'mode', 'seed', 'samples', 'onProgress', 'shouldStop', 'taylor'] as const) {
    if (options[key] !== undefined) (out as Record<string, unknown>)[key] = options[key];
  }
  return out;
}
