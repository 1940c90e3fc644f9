// The library API: the same report as `--format json`, from files or from plain objects.
export { run, load, type RunOptions } from './run.js';
export { check, DEFAULT_OPTIONS, type CheckInput, type CheckOptions, type GradientSource } from './core/check.js';
export type { Report, TensorCheck, Finding, LayerHealth, Settings, Status, Mode, Severity } from './core/report.js';
export type { Model, Params, Grads, Matrix } from './core/model.js';
export { UserError } from './io/errors.js';
