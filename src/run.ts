// From file names and settings to a Report: loads and validates every input at the boundary,
// then hands plain objects to the pure core. The CLI and the library API both call this.
import { check, DEFAULT_OPTIONS, type CheckOptions, type GradientSource } from './core/check.js';
import { correctPlan } from './core/backward.js';
import { initialise } from './core/init.js';
import type { Grads, Model, Params } from './core/model.js';
import type { Report } from './core/report.js';
import { loadData, type Dataset } from './io/data.js';
import { UserError } from './io/errors.js';
import { declaredPlan, loadSpec, withInputs, type LoadedSpec } from './io/spec.js';
import { loadTensors } from './io/tensors.js';

export interface RunOptions extends Partial<CheckOptions> {
  net: string;
  data: string;
  /** Weights to check at; default: initialised from the spec's `init`. */
  params?: string;
  /** Gradients computed by the user's code at `params`. */
  grads?: string;
  /** Columns of data.csv that are targets (names or 1-based numbers, comma-separated). */
  target?: string;
  /** A seed given explicitly (--seed) also seeds the initialisation. */
  seedGiven?: boolean;
}

export interface Loaded {
  spec: LoadedSpec;
  model: Model;
  data: Dataset;
  params: Params;
}

export function load(options: RunOptions): Loaded {
  const spec = loadSpec(options.net);
  const data = loadData(options.data, spec.model, spec.statedInputs, options.target);
  const model = withInputs(spec.model, data.X.rows);
  const seed = options.seedGiven && options.seed !== undefined ? options.seed : model.init.seed;
  const params = options.params ? loadTensors(options.params, model, 'params') : initialise(model, seed);
  return { spec, model, data, params };
}

/** The gradients under test: the user's file, or the spec's declared/correct backprop. */
export function gradientSource(loaded: Loaded, options: RunOptions): GradientSource {
  if (options.grads) {
    if (!options.params) {
      throw new UserError('command line', '--grads', '--params too: gradients are only meaningful at the weights they were computed at', '--grads without --params');
    }
    const grads: Grads = loadTensors(options.grads, loaded.model, 'grads');
    return { source: 'grads', grads };
  }
  const declared = loaded.spec.declared;
  return declared
    ? { source: 'declared', plan: declaredPlan(loaded.model, declared) }
    : { source: 'correct', plan: correctPlan(loaded.model) };
}

export function run(options: RunOptions): Report {
  const loaded = load(options);
  const settings: CheckOptions = { ...DEFAULT_OPTIONS, ...definedOnly(options) };
  return check(
    { model: loaded.model, params: loaded.params, X: loaded.data.X, Y: loaded.data.Y, gradients: gradientSource(loaded, options) },
    settings,
  );
}

function definedOnly(options: RunOptions): Partial<CheckOptions> {
  const out: Partial<CheckOptions> = {};
  for (const key of ['epsilon', 'tolerance', 'mode', 'seed', 'samples', 'onProgress', 'shouldStop'] as const) {
    if (options[key] !== undefined) (out as Record<string, unknown>)[key] = options[key];
  }
  return out;
}
