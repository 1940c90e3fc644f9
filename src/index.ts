// The library API: what the command line does, as functions. `check` takes what the CLI takes (file
// names, an --exec command, settings) — or a JavaScript gradient function — and resolves to the
// Report that `--format json` prints. A mistake in the input rejects with a UserError (the CLI's
// exit status 2); a failing check is not an error: it is `report.ok === false`.
import type { Report } from './core/report.js';
import { withoutChartData } from './render/json.js';
import { run, type RunOptions } from './run.js';

/**
 * Checks gradients against finite differences, tensor by tensor.
 *
 *     const report = await check({ net: 'net.json', data: 'data.csv', params: 'params.npz', grads: 'grads.npz' });
 *     if (!report.ok) console.log(report.findings);
 *
 * The gradients under test come from at most one of `backprop` (a function), `exec` (a command) or
 * `grads` (a JSON or .npz file, with `params`); with none, from the spec's `backward` formulas.
 */
export async function check(options: CheckFilesOptions): Promise<Report> {
  return withoutChartData(await run(options));
}

/** The options of `check`: the CLI's options, by their camelCase names. */
export type CheckFilesOptions = RunOptions;

export { run, load, gradientSource, type RunOptions, type Loaded } from './run.js';
/** The pure core: a model, weights, data and a gradient source in, a Report out (no files, no processes). */
export { check as checkNetwork, DEFAULT_OPTIONS, type CheckInput, type CheckOptions, type GradientSource } from './core/check/check.js';
export type { Report, TensorCheck, Finding, LayerHealth, Settings, Status, Mode, Severity } from './core/report.js';
export type { Model, Params, Grads, ParamRef } from './core/model.js';
export type { Tensor } from './core/tensor.js';
export { execPayload, type ExecPayload, type BackpropFunction } from './io/exec.js';
export { UserError } from './io/errors.js';
export { renderJson } from './render/json.js';
export { renderTable } from './render/table.js';
export { renderJunit } from './render/junit.js';
export { renderMarkdown } from './render/markdown.js';
