// The library API: what the command line does, as functions. `check` takes what the CLI takes (file
// names, an --exec command, settings) — or a JavaScript gradient function — and resolves to the
// Report that `--format json` prints; or a model as JavaScript functions (`model: { params, cost,
// grads }`), checked in process through its own cost. A mistake in the input rejects with a UserError (the CLI's
// exit status 2); a failing check is not an error: it is `report.ok === false`.
import type { ProgramCheckOptions } from './core/check/program-check.js';
import type { Report } from './core/report.js';
import { functionProgram, type ModelFunctions } from './core/session/functions.js';
import { withoutChartData } from './render/json.js';
import { run, runProgram, type RunOptions } from './run.js';

/**
 * Checks gradients against finite differences, tensor by tensor.
 *
 *     const report = await check({ net: 'net.json', data: 'data.csv', params: 'params.npz', grads: 'grads.npz' });
 *     if (!report.ok) console.log(report.findings);
 *
 * The gradients under test come from at most one of `backprop` (a function), `exec` (a command) or
 * `grads` (a JSON or .npz file, with `params`); with none, from the spec's `backward` formulas.
 *
 *     const report = await check({ model: { params: { w: [1, 2] }, cost: (p) => …, grads: (p) => ({ w: … }) } });
 *
 * With `model`, the functions are the model: their cost is differenced, their grads are checked.
 */
export async function check(options: CheckFilesOptions): Promise<Report> {
  if (isModelOptions(options)) {
    const { model } = options;
    return withoutChartData(await runProgram(options, () => functionProgram(model)));
  }
  return withoutChartData(await run(options));
}

/** The options of `check` for a model given as JavaScript functions. */
export interface CheckModelOptions extends Partial<Omit<ProgramCheckOptions, 'fixedStep' | 'epsilons'>> {
  model: ModelFunctions;
}

/** A model of JavaScript functions (an object), not a command line to start (a string, --model). */
function isModelOptions(options: CheckFilesOptions): options is CheckModelOptions {
  const model = (options as { model?: unknown }).model;
  return typeof model === 'object' && model !== null;
}

/** The options of `check`: the CLI's options, by their camelCase names; or a model given as JavaScript functions. */
export type CheckFilesOptions = RunOptions | CheckModelOptions;

export { run, load, gradientSource, type RunOptions, type Loaded } from './run.js';
/** The pure core: a model, weights, data and a gradient source in, a Report out (no files, no processes). */
export { check as checkNetwork, DEFAULT_OPTIONS, type CheckInput, type CheckOptions, type GradientSource } from './core/check/check.js';
/** checkNetwork, resolving: worker threads for a large element-wise check, and a turn of the event loop every 50 ms. */
export { checkAsync as checkNetworkAsync } from './cli/threaded-check.js';
export type { Report, TensorCheck, Finding, LayerHealth, Settings, Status, Mode, Severity, SweepResult, SweepTensor } from './core/report.js';
export type { Model, Params, Grads, ParamRef } from './core/model.js';
export { checkProgram, DEFAULT_MAX_EVALUATIONS, type ProgramCheckOptions } from './core/check/program-check.js';
export { functionProgram, type ModelFunctions, type ModelParams, type TensorLike } from './core/session/functions.js';
export type { CostProgram, CostRequest, ElementStep, DirectionStep, ProgramTensor } from './core/session/program.js';
export type { Tensor } from './core/tensor.js';
export { execPayload, type ExecPayload, type BackpropFunction } from './io/exec.js';
export { UserError } from './io/errors.js';
export { renderJson } from './render/json.js';
export { renderTable } from './render/table.js';
export { renderJunit } from './render/junit.js';
export { renderMarkdown } from './render/markdown.js';
