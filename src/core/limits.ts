// How much work a check will be, counted before it starts, so that an input too large for a full
// check stops with what to do instead of running for hours.
//
// A full check carries each element's ±h perturbation through every sample: one (element, sample)
// evaluation each. 10⁷ of them is the 784-128-64-10 network on 91 samples, about 15 s here; ten
// times that is minutes. Directional mode is never limited: it is what to use instead.
import type { Mode } from './report.js';
import type { Model } from './model.js';
import { SWEEP_ELEMENTS, SWEEP_EPSILONS } from './sweep.js';

export const MAX_ELEMENT_EVALUATIONS = 10_000_000;

export interface Workload {
  /** Elements the check perturbs (all of them in full mode). */
  elements: number;
  samples: number;
  /** elements × samples. */
  evaluations: number;
  tensors: number;
}

export function workload(model: Model, samples: number, options: { mode: Mode; samples: number }): Workload {
  let elements = 0, tensors = 0;
  for (const layer of model.layers) {
    for (const size of [layer.units * layer.inputs, layer.bias ? layer.units : 0]) {
      if (size === 0) continue;
      tensors++;
      elements += options.mode === 'full' ? size : options.mode === 'sample' ? Math.min(options.samples, size) : 0;
    }
  }
  return { elements, samples, evaluations: elements * samples, tensors };
}

/** Forward passes' worth of multiply-adds a --sweep makes: three per element and step (plain ±ε, and ours). */
export function sweepWork(model: Model, samples: number): number {
  const params = model.layers.reduce((n, l) => n + l.units * l.inputs + (l.bias ? l.units : 0), 0);
  const tensors = model.layers.reduce((n, l) => n + (l.bias ? 2 : 1), 0);
  return SWEEP_EPSILONS.length * SWEEP_ELEMENTS * tensors * 3 * params * samples;
}

/** About a minute of forward passes. */
export const MAX_SWEEP_WORK = 1e10;

/** The most elements per tensor a sample check can take within `max` evaluations (0: not even one). */
export function samplesWithin(w: Workload, max: number): number {
  return Math.floor(max / (w.tensors * w.samples));
}
