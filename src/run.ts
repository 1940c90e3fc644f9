// From file names and settings to a Report: loads and validates every input at the boundary,
// then hands plain objects to the pure core. The CLI and the library API both call this. With a
// program as the model (--model, --connect) there are no files: runModel opens the session instead.
import { check, DEFAULT_OPTIONS, prepare, type CheckInput, type CheckOptions, type GradientSource } from './core/check/check.js';
import { correctPlan, transposed } from './core/backprop.js';
import { diagnoser } from './core/diagnose/index.js';
import { initialise } from './core/init.js';
import type { Grads, Model, Params } from './core/model.js';
import type { Finding, Report } from './core/report.js';
import { loadData, type Dataset } from './io/data.js';
import { isNpz, loadNpzData } from './io/npz-data.js';
import { refuseOneValueStatistics, withMasks } from './io/spec-layers.js';
import { clip, UserError } from './io/errors.js';
import { openSession } from './io/session.js';
import { checkProgram } from './core/check/program-check.js';
import type { CostProgram } from './core/session/program.js';
import { execAnswer, execPayload, functionAnswer, type BackpropFunction } from './io/exec.js';
import { declaredPlan, loadSpec, refuseTooManyParameters, withInputs, type LoadedSpec } from './io/spec.js';
import { extraGradientsFinding, loadTensorFile, otherLayoutFinding, type Layout } from './io/tensors.js';
import { allDense } from './core/layers/index.js';
import { count, directionalWork, directionStorage, layerValues, MAX_DIRECTION_VALUES, MAX_DIRECTIONS, MAX_ELEMENT_EVALUATIONS, MAX_LAYER_VALUES, MAX_SWEEP_WORK, samplesWithin, sweepWork, workload, WORK_PER_EVALUATION } from './core/check/limits.js';
import { checkWork } from './core/differences/propagated.js';
import { sweep, sweepSources, SWEEP_ELEMENTS, SWEEP_EPSILONS } from './core/check/sweep.js';
import { checkAsync, threadSetting, wasmSetting } from './cli/threaded-check.js';

export interface RunOptions extends Partial<CheckOptions> {
  /** The spec and the data set; neither with `model` or `connect`, both otherwise. */
  net?: string;
  data?: string;
  /** A shell command that runs the user's own program as the model (the session protocol, io/session.ts). */
  model?: string;
  /** The Unix-domain socket a program speaking the session protocol listens on. */
  connect?: string;
  /** Weights to check at; default: initialised from the spec's `init`. */
  params?: string;
  /** Gradients computed by the user's code at `params` (JSON or .npz). */
  grads?: string;
  /** A shell command that computes the gradients through the exec protocol (docs/formats.md); at `params`
   *  if given, else at the spec's initialisation. */
  exec?: string;
  /** Seconds before the --exec program's process group is killed (default 60); with --model/--connect, for the hello and each answer. */
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
  /** Sweep ε over 1e-1 … 1e-12 first (core/check/sweep.ts), then check at the chosen ε; the report carries the sweep. */
  sweep?: boolean;
  /** The most (element, sample) evaluations a full or sample check may make (default 10⁷, core/check/limits.ts). */
  maxEvaluations?: number;
}

export interface Loaded {
  spec: LoadedSpec;
  model: Model;
  data: Dataset;
  params: Params;
}

export function load(options: RunOptions): Loaded {
  const { net, data: dataFile } = options;
  if (net === undefined || dataFile === undefined) {
    throw new UserError('options', net === undefined ? 'net' : 'data', 'a net.json and a data.csv, or a program to check (model or connect)', `no ${net === undefined ? 'net' : 'data'}`);
  }
  const spec = loadSpec(net);
  if (isNpz(dataFile) && (options.target !== undefined || options.ignoreColumns !== undefined)) {
    const flag = options.target !== undefined ? '--target' : '--ignore-columns';
    throw new UserError('command line', flag, `no ${flag} with an .npz data set: its X holds the features and its Y the targets`, `${flag} "${clip(options.target ?? options.ignoreColumns ?? '')}" with ${clip(dataFile)}`,
      'Leave it out, or save only the columns you mean: np.savez("data.npz", X=X, Y=Y).');
  }
  const data = isNpz(dataFile)
    ? loadNpzData(dataFile, spec.model, spec.layout, spec.statedShape)
    : loadData(dataFile, spec.model, spec.statedInputs, options.target, options.ignoreColumns, spec.statedShape);
  const sized = withInputs(spec.model, data.X.shape[0]);
  // The data's columns fix the first layer's inputs: the weights' size is known only now.
  refuseTooManyParameters(sized.layers, net, 'data', dataFile);
  const m = data.X.shape[1];
  refuseTooManyValues(sized, m, net, dataFile);
  refuseOneValueStatistics(sized, m, dataFile);
  // --seed seeds every random choice, the initialisation and the dropout masks included; without it, init.seed does.
  const seed = options.seed ?? sized.init.seed;
  const file = options.params ? loadTensorFile(options.params, sized, 'params', 'file', { layout: spec.layout, samples: m }) : null;
  const model = withMasks(sized, spec.dropoutSeeds, seed, m, file?.masks ?? new Map());
  const params = file ? file.tensors : initialise(model, seed);
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
    const answer = await functionAnswer(options.backprop, execPayload(loaded.data.X, loaded.data.Y, loaded.params, loaded.model, loaded.spec.layout), loaded.model, loaded.spec.layout);
    return handedIn('exec', answer.grads, answer.ignored, 'The backprop function’s answer');
  }
  if (options.exec !== undefined) {
    if (options.exec.trim() === '') throw new UserError('command line', '--exec', 'a command to run', 'an empty string');
    const payload = execPayload(loaded.data.X, loaded.data.Y, loaded.params, loaded.model, loaded.spec.layout);
    const answer = await execAnswer(options.exec, payload, loaded.model, { timeoutSeconds: options.execTimeout, stderr: options.execStderr }, loaded.spec.layout);
    return handedIn('exec', answer.grads, answer.ignored, 'The --exec answer');
  }
  if (options.grads) {
    if (!options.params) {
      throw new UserError('command line', '--grads', '--params too: gradients are only meaningful at the weights they were computed at', '--grads without --params');
    }
    const file = loadTensorFile(options.grads, loaded.model, 'grads', 'file', { layout: loaded.spec.layout });
    return handedIn('grads', file.tensors, file.ignored, options.grads);
  }
  const declared = loaded.spec.declared;
  return {
    gradients: declared ? { source: 'declared', plan: declaredPlan(loaded.model, declared) } : { source: 'correct', plan: correctPlan(loaded.model) },
    notes: [],
  };
}

export async function run(options: RunOptions): Promise<Report> {
  if (options.model !== undefined || options.connect !== undefined) return runModel(options);
  threadSetting();
  wasmSetting();
  refuseUnresolvable(options);
  const loaded = load(options);
  // An --epsilon given is used as given on every tensor; without it each tensor's step is scaled from the base step.
  const settings: CheckOptions = { ...DEFAULT_OPTIONS, seed: loaded.model.init.seed, ...definedOnly(options), ...(options.epsilon !== undefined ? { fixedStep: true } : {}) };
  refuseTooLarge(loaded, settings, options);
  const { gradients, notes } = await gradientsUnderTest(loaded, options);
  const input = { model: loaded.model, params: loaded.params, X: loaded.data.X, Y: loaded.data.Y, gradients };
  // The forward pass and the backprops at these weights, once, with the propagated source on them:
  // the sweep and the check share them.
  const prepared = prepare(input);
  const swept = options.sweep ? sweep(input, settings.seed, SWEEP_EPSILONS, settings.tolerance, sweepSources(input, prepared)) : undefined;
  // check() itself, on worker threads when large, yielding to the event loop so Ctrl-C can stop it.
  const checkSettings = swept ? { ...settings, epsilon: swept.chosen, epsilons: swept.perTensor } : settings;
  const checked = await checkAsync(input, checkSettings, diagnoser(loaded.spec.declared, loaded.spec.layout), {}, prepared);
  const layout = otherLayout(input, checked, checkSettings, options, loaded.spec.layout);
  // The layout, when it explains every failure, comes before the diagnosis of the files as read.
  const report = { ...checked, findings: [...(layout ? [layout] : []), ...checked.findings, ...notes] };
  return swept ? { ...report, sweep: swept } : report;
}

/**
 * The user's program as the model (--model, --connect): started or connected to, checked through
 * its own costs, and always closed (bye, then its process group killed), whatever the check did.
 */
export async function runModel(options: RunOptions): Promise<Report> {
  const target = options.model !== undefined ? { command: options.model } : { socket: options.connect! };
  return runProgram(options, () => openSession(target, { timeoutSeconds: options.execTimeout, stderr: options.execStderr }));
}

/** The options of a check of a program: RunOptions, whose `model` may also be the library's functions. */
export type ProgramRunOptions = Omit<RunOptions, 'model'> & { model?: unknown };

/**
 * The check of a program, however it is reached (a session, the library's functions): the settings
 * checked as for a net.json check, the program opened, checked, and closed whatever happens.
 */
export async function runProgram(options: ProgramRunOptions, open: () => CostProgram | Promise<CostProgram>): Promise<Report> {
  refuseWithProgram(options);
  refuseUnresolvable(options);
  if (options.sweep && options.epsilon !== undefined) {
    throw new UserError('command line', '--sweep', 'either --sweep or --epsilon: the sweep chooses ε itself', 'both');
  }
  const settings: CheckOptions = { ...DEFAULT_OPTIONS, ...definedOnly(options), ...(options.epsilon !== undefined ? { fixedStep: true } : {}) };
  const program = await open();
  try {
    return await checkProgram(program, { ...settings, sweep: options.sweep, maxEvaluations: options.maxEvaluations });
  } finally {
    await program.close();
  }
}

/** With a program as the model, the files and flags that describe a net.json model mean nothing: each is refused. */
function refuseWithProgram(options: ProgramRunOptions): void {
  const flag = options.model !== undefined ? '--model' : '--connect';
  if (options.model !== undefined && options.connect !== undefined) {
    throw new UserError('command line', '--connect', 'either --model or --connect: each names the program to check', 'both');
  }
  const files = [options.net, options.data].filter((f): f is string => f !== undefined);
  if (files.length > 0) {
    throw new UserError('command line', 'the arguments', `no <net.json> or <data.csv> with ${flag}: the program owns its model and its data`,
      files.map((f) => `"${clip(f)}"`).join(' and '), `Leave them out, or check the files without ${flag}.`);
  }
  const meaningless: [string, unknown, string][] = [
    ['--params', options.params, 'the program owns its parameters'],
    ['--grads', options.grads, 'the program computes its own gradients'],
    ['--exec', options.exec, 'the program computes its own gradients'],
    ['backprop', options.backprop, 'the program computes its own gradients'],
    ['--target', options.target, 'the program owns its data'],
    ['--ignore-columns', options.ignoreColumns, 'the program owns its data'],
  ];
  for (const [name, value, why] of meaningless) {
    if (value === undefined) continue;
    throw new UserError('command line', name, `no ${name} with ${flag}: ${why}`, typeof value === 'string' ? `${name} "${clip(value)}"` : name);
  }
}

/**
 * When every W is square, shapes cannot tell whether --params and --grads were written as
 * (units, inputs) or as (inputs, units), and files in the other layout are read transposed. So a
 * failing check of such files is run once more with every W and dW transposed: if that passes, the
 * files use the other layout, and a finding says so (the diagnosis of the first check is kept).
 */
function otherLayout(input: CheckInput, report: Report, settings: CheckOptions, options: RunOptions, layout: Layout): Finding | null {
  const { model, params, gradients } = input;
  if (report.ok || report.partial || !('grads' in gradients) || options.grads === undefined || options.params === undefined) return null;
  if (!allDense(model.layers) || !model.layers.every((l) => l.units === l.inputs && l.units > 1)) return null;
  const flip = (p: Params): Params => p.map((layer) => ({ ...layer, W: transposed(layer.W) }));
  const again = check({ ...input, params: flip(params), gradients: { source: gradients.source, grads: flip(gradients.grads) } },
    { ...settings, onProgress: undefined, shouldStop: undefined });
  return again.ok ? otherLayoutFinding(options.params, options.grads, model.layers.length, layout) : null;
}

/** Stops a check that would run for hours, before it starts, with what to do instead. */
function refuseTooLarge(loaded: Loaded, settings: CheckOptions, options: RunOptions): void {
  const m = loaded.data.X.shape[1];
  if (options.sweep && options.epsilon !== undefined) {
    throw new UserError('command line', '--sweep', 'either --sweep or --epsilon: the sweep chooses ε itself', 'both');
  }
  if (options.sweep && sweepWork(loaded.model, m) > MAX_SWEEP_WORK) {
    throw new UserError('command line', '--sweep', `a network and data small enough to sweep (${SWEEP_EPSILONS.length} steps × ${SWEEP_ELEMENTS} elements per tensor × 3 forward passes: at most ${MAX_SWEEP_WORK.toExponential(0).replace('+', '')} multiply-adds)`,
      `${sweepWork(loaded.model, m).toExponential(1).replace('+', '')} with ${m.toLocaleString('en-US')} samples`, 'Sweep on fewer rows of data.csv (the curve is the same) or a smaller network, or check without --sweep.');
  }
  if (settings.mode === 'directional') return refuseTooManyDirections(loaded.model, m, settings.samples, options);
  const max = options.maxEvaluations ?? MAX_ELEMENT_EVALUATIONS;
  const w = workload(loaded.model, m, settings);
  const n = (x: number) => x.toLocaleString('en-US');
  if (w.evaluations <= max) {
    // Each evaluation is carried through every later layer: depth multiplies the work.
    const work = checkWork(loaded.model, m, settings), allowed = max * WORK_PER_EVALUATION;
    if (work <= allowed) return;
    throw new UserError('command line', `--mode ${settings.mode}`,
      `at most ${count(allowed)} multiply-adds in one check (${n(WORK_PER_EVALUATION)} per element evaluation allowed by --max-evaluations ${n(max)}; about half a minute at the default)`,
      `${count(work)} for ${n(w.evaluations)} evaluations through ${n(loaded.model.layers.length)} layers`,
      `Check fewer layers or rows of data.csv, or use --mode directional --directions 10${settings.mode === 'full' ? ' or --mode sample' : ''}; or raise the limit with --max-evaluations ${Math.ceil(work / WORK_PER_EVALUATION)}.`);
  }
  const k = Math.min(50, samplesWithin(w, max));
  const instead = k >= 1
    ? `Check a seeded sample instead: --mode sample --samples ${k} (${n(k * w.tensors * m)} evaluations), or --mode directional --directions 10`
    : `Even one element per tensor (${n(w.tensors * m)} evaluations) is over the limit: ${m > 500 ? 'check a few hundred rows of data.csv (they find the same bugs), or ' : ''}use --mode directional --directions 10`;
  throw new UserError('command line', `--mode ${settings.mode}`,
    `at most ${n(max)} element evaluations (elements checked × samples) in one check`,
    `${n(w.elements)} elements × ${n(m)} samples = ${n(w.evaluations)}`,
    `${instead}; or raise the limit with --max-evaluations ${n(w.evaluations).replace(/,/g, '')}.`);
}

/** A forward pass over this many samples that would not fit in memory is refused before it is allocated. */
function refuseTooManyValues(model: Model, m: number, net: string, data: string): void {
  const values = layerValues(model, m);
  if (values <= MAX_LAYER_VALUES) return;
  const units = model.layers.reduce((s, l) => s + l.units, 0);
  throw new UserError(data, 'the rows', `at most ${count(MAX_LAYER_VALUES)} values in one forward pass (units of all layers × samples; ${MAX_LAYER_VALUES * 8 / 1e6} MB each, and a check holds several)`,
    `${count(units)} units in ${net} × ${count(m)} samples = ${count(values)}`,
    `Check on at most ${count(Math.floor(MAX_LAYER_VALUES / units))} rows of ${data}: a few hundred find the same bugs.`);
}

/** A directional check holds every direction it draws, and carries each through the layers after its tensor. */
function refuseTooManyDirections(model: Model, m: number, directions: number, options: RunOptions): void {
  const flag = options.samples !== undefined ? `--directions ${directions}` : '--mode directional';
  const { vectors, values } = directionStorage(model, directions);
  const perDirection = directionStorage(model, 1);
  const fit = Math.max(1, Math.min(Math.floor(MAX_DIRECTIONS / perDirection.vectors), Math.floor(MAX_DIRECTION_VALUES / perDirection.values)));
  if (vectors > MAX_DIRECTIONS || values > MAX_DIRECTION_VALUES) {
    throw new UserError('command line', flag,
      `at most ${count(MAX_DIRECTIONS)} direction vectors (directions × tensors) holding at most ${count(MAX_DIRECTION_VALUES)} numbers`,
      `${count(directions)} directions × ${perDirection.vectors} tensors = ${count(vectors)} vectors of ${count(values)} numbers`,
      `Use at most --directions ${count(fit)}: 10 to 100 directions per tensor find the same bugs.`);
  }
  const max = (options.maxEvaluations ?? MAX_ELEMENT_EVALUATIONS) * WORK_PER_EVALUATION;
  const work = directionalWork(model, m, directions);
  if (work > max) {
    const fitWork = Math.floor(max / directionalWork(model, m, 1));
    throw new UserError('command line', flag,
      `at most ${count(max)} multiply-adds in one check (about half a minute; --max-evaluations sets it, ${n(WORK_PER_EVALUATION)} per evaluation)`,
      `${count(work)} for ${count(directions)} directions per tensor through ${n(model.layers.length)} layers on ${n(m)} samples`,
      fitWork >= 1 ? `Use at most --directions ${n(fitWork)}, or fewer layers or rows of data.csv; or raise the limit with --max-evaluations ${Math.ceil(work / WORK_PER_EVALUATION)}.`
        : `Check fewer layers or rows of data.csv; or raise the limit with --max-evaluations ${Math.ceil(work / WORK_PER_EVALUATION)}.`);
  }
}

const n = (x: number) => x.toLocaleString('en-US');

/** float64's machine epsilon, 2⁻⁵²: the least step (1 + h ≠ 1) and the least tolerance that can mean anything (cli/main.ts says the same for its flags). */
const MACHINE_EPSILON = 2 ** -52;

/** The library's epsilon and tolerance, checked as the command line checks its flags. */
function refuseUnresolvable(options: Pick<RunOptions, 'epsilon' | 'tolerance'>): void {
  const { epsilon, tolerance } = options;
  if (epsilon !== undefined && !(epsilon >= MACHINE_EPSILON && epsilon < 1)) {
    throw new UserError('options', 'epsilon', 'a step from 2.2e-16 (float64\'s machine epsilon: below it θ + h == θ for a weight of 1) to below 1', String(epsilon));
  }
  if (tolerance !== undefined && !(tolerance >= MACHINE_EPSILON && tolerance <= 1)) {
    throw new UserError('options', 'tolerance', 'a relative error from 2.2e-16 (float64\'s machine epsilon) to 1', String(tolerance));
  }
}

function definedOnly(options: Partial<CheckOptions>): Partial<CheckOptions> {
  const out: Partial<CheckOptions> = {};
  for (const key of ['epsilon', 'tolerance', 'mode', 'seed', 'samples', 'onProgress', 'shouldStop', 'taylor'] as const) {
    if (options[key] !== undefined) (out as Record<string, unknown>)[key] = options[key];
  }
  return out;
}
