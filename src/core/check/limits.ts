// How much work a check will be, counted before it starts, so that an input too large for a full
// check stops with what to do instead of running for hours.
//
// A full check carries each element's ±h perturbation through every sample: one (element, sample)
// evaluation each. 10⁷ of them is the 784-128-64-10 network on 91 samples, about 15 s here; ten
// times that is minutes. Directional mode is never limited: it is what to use instead.
import type { Mode } from '../report.js';
import { entryParamCount, entryParams } from '../layers/index.js';
import { inShapeOf, typeOf, type Layer } from '../layers/kind.js';
import type { Model } from '../model.js';
import { size } from '../tensor.js';
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
    for (const { shape } of entryParams(layer)) {
      const n = size(shape);
      if (n === 0) continue;
      tensors++;
      elements += options.mode === 'full' ? n : options.mode === 'sample' ? Math.min(options.samples, n) : 0;
    }
  }
  return { elements, samples, evaluations: elements * samples, tensors };
}

/** Forward passes' worth of multiply-adds a --sweep makes: three per element and step (plain ±ε, and ours). */
export function sweepWork(model: Model, samples: number): number {
  const params = model.layers.reduce((n, l) => n + entryParamCount(l), 0);
  const tensors = model.layers.reduce((n, l) => n + entryParams(l).length, 0);
  return SWEEP_EPSILONS.length * SWEEP_ELEMENTS * tensors * 3 * params * samples;
}

/** About a minute of forward passes. */
export const MAX_SWEEP_WORK = 1e10;

/** The most elements per tensor a sample check can take within `max` evaluations (0: not even one). */
export function samplesWithin(w: Workload, max: number): number {
  return Math.floor(max / (w.tensors * w.samples));
}

// Memory and work, estimated from the sizes alone before anything is allocated, so that a spec or
// a data set too large stops with what to change instead of exhausting memory (a 1e5-wide layer
// asks for 80 GB per copy of its weights) or running for minutes (5000 layers).

/**
 * Weights and biases in all: 8 bytes each per copy, and a check holds several copies (the
 * parameters, the gradients under test, the correct ones, the finite differences). 10⁷ is 80 MB
 * per copy, ~90 times the 784-128-64-10 network.
 */
export const MAX_PARAMETERS = 10_000_000;

/** Σ units × samples: the values of one copy of the forward pass (Z, A, and as many in the backward pass), 240 MB each. */
export const MAX_LAYER_VALUES = 30_000_000;

/**
 * Multiply-adds (checkWork, differences/propagated.ts) per allowed element evaluation. A full check of
 * 784-128-64-10 on 91 samples makes ~1,300 per evaluation, ~1.3e10 in all (~15 s here); a deep
 * network makes many more per evaluation (each is carried through every later layer), so the
 * evaluation limit alone lets 5000 layers of 4 units run for minutes. 3,000 per evaluation is
 * 3e10 at the default --max-evaluations, about half a minute.
 */
export const WORK_PER_EVALUATION = 3_000;

/** Direction vectors a directional check holds (directions × tensors), and the numbers in them. */
export const MAX_DIRECTIONS = 1_000_000;
export const MAX_DIRECTION_VALUES = 30_000_000;

/**
 * An entry's parameter count from its fields alone, as the kinds' params() shape them: dense
 * units·inputs (+ units), conv2d filters·C·kh·kw (+ filters), batchnorm γ and β per channel after
 * an image (per feature otherwise), layernorm γ and β per feature; the other kinds have none. It is
 * counted without the kinds because net.json's size is refused before a model exists to check
 * (spec.ts), and a count that overflows is still a count (Infinity is refused like any other).
 */
export function parameterCount(layer: Layer): number {
  switch (typeOf(layer)) {
    case 'dense':
      return layer.units * layer.inputs + (layer.bias ? layer.units : 0);
    case 'conv2d': {
      const [kh, kw] = layer.kernel!, filters = layer.filters!;
      return filters * inShapeOf(layer)[0] * kh * kw + (layer.bias ? filters : 0);
    }
    case 'batchnorm':
      return 2 * (inShapeOf(layer).length === 3 ? inShapeOf(layer)[0] : layer.units);
    case 'layernorm':
      return 2 * layer.units;
    default:
      return 0;
  }
}

/** Weights and biases (and γ, β) of each layer, and in all. */
export function parameterCounts(model: Pick<Model, 'layers'>): { perLayer: number[]; total: number } {
  const perLayer = model.layers.map(parameterCount);
  return { perLayer, total: perLayer.reduce((a, b) => a + b, 0) };
}

/** Σ units over the layers × samples: one copy of the forward pass. */
export function layerValues(model: Pick<Model, 'layers'>, samples: number): number {
  return model.layers.reduce((n, l) => n + l.units, 0) * samples;
}

/**
 * Multiply-adds of a directional check: per direction and tensor, two perturbed passes (±h) from
 * that tensor's layer to the loss, each a matrix product per later layer on every sample.
 */
export function directionalWork(model: Pick<Model, 'layers'>, samples: number, directions: number): number {
  const { perLayer } = parameterCounts(model);
  let work = 0, after = 0;
  for (let l = model.layers.length - 1; l >= 0; l--) {
    after += perLayer[l];
    work += entryParams(model.layers[l]).length * directions * 2 * samples * after;
  }
  return work;
}

/**
 * The direction vectors a directional check draws, and the numbers they hold: rank one over a 2-D
 * W of more than one row and column (rows + cols), a dense direction over every other tensor (its size).
 */
export function directionStorage(model: Pick<Model, 'layers'>, directions: number): { vectors: number; values: number } {
  let vectors = 0, values = 0;
  for (const l of model.layers) {
    for (const { name, shape } of entryParams(l)) {
      vectors += directions;
      values += directions * (name === 'W' && shape.length === 2 && shape[0] > 1 && shape[1] > 1 ? shape[0] + shape[1] : size(shape));
    }
  }
  return { vectors, values };
}

/** A count for a message: 1,234,567 below 10¹⁵, else 1.0e+308 (toLocaleString would print 309 digits). */
export function count(n: number): string {
  return n < 1e15 ? n.toLocaleString('en-US') : n.toExponential(1).replace('+', '');
}
