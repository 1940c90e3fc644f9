// Seeded networks for the unit tests, built the way the CLI builds them: parseSpec (or loadSpec for a
// fixture folder), withInputs to fit the first layer to the data, initialise with the spec's init
// (or an explicit seed, as --seed), and data either given or drawn from a seeded Random. A test's
// numbers depend on its seeds and on the order of its draws, so a test that draws its own way
// passes its fill, which draws in that order.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialise } from '../../src/core/init.js';
import type { Grads, Model, Params } from '../../src/core/model.js';
import { Random } from '../../src/core/random.js';
import { zeros, type Tensor } from '../../src/core/tensor.js';
import { loadData } from '../../src/io/data.js';
import { loadSpec, parseSpec, withInputs, type DeclaredBackward } from '../../src/io/spec.js';
import { assemble, type RawTensors } from '../../src/io/tensors.js';
import { root } from './cli.js';

export interface Network {
  model: Model;
  params: Params;
  /** Inputs, features × samples. */
  X: Tensor;
  /** Targets, output units × samples. */
  Y: Tensor;
  /** The spec's declared backward, or null when it has none. */
  declared: DeclaredBackward | null;
}

export interface Data { X: Tensor; Y: Tensor }

/** Fills X and Y (allocated as zeros) with draws from `rng`. */
export type Fill = (rng: Random, X: Tensor, Y: Tensor, model: Model) => void;

export interface NetworkOptions {
  /** The data, or how to make it for the fitted model (see `drawn`). */
  data: Data | ((model: Model) => Data);
  /** Features per sample; default: the rows of the given X, else the spec's `input`. */
  inputs?: number;
  /** Overrides the spec's init.seed, as --seed does. */
  initSeed?: number;
  /** The parameters to use instead of initialising them. */
  params?: Params;
  /** The file name parseSpec's messages name. */
  file?: string;
}

/** The spec's model fitted to `inputs` features (default: the spec's `input`), and its declared backward. */
export function specOf(spec: unknown, inputs?: number, file = 'net.json'): { model: Model; declared: DeclaredBackward | null } {
  const loaded = parseSpec(spec, file);
  const features = inputs ?? loaded.statedInputs;
  if (features === undefined) throw new Error(`${file}: the test gives no input count and the spec states none`);
  return { model: withInputs(loaded.model, features), declared: loaded.declared };
}

/** specOf's model alone. */
export const modelOf = (spec: unknown, inputs?: number, file?: string): Model => specOf(spec, inputs, file).model;

/** A network from a spec object: its model, initialised parameters and data. */
export function network(spec: unknown, options: NetworkOptions): Network {
  const given = typeof options.data === 'function' ? null : options.data;
  const { model, declared } = specOf(spec, options.inputs ?? given?.X.shape[0], options.file);
  const { X, Y } = given ?? (options.data as (model: Model) => Data)(model);
  return { model, params: options.params ?? initialise(model, options.initSeed), X, Y, declared };
}

/**
 * Data of `samples` columns drawn by `fill` from `rng` (a seed starts a fresh Random; a Random
 * goes on from where the test left it). Default fill: `standardData`.
 */
export function drawn(samples: number, rng: Random | number, fill: Fill = standardData): (model: Model) => Data {
  return (model) => {
    const X = zeros([model.inputs, samples]);
    const Y = zeros([model.layers[model.layers.length - 1].units, samples]);
    fill(typeof rng === 'number' ? new Random(rng) : rng, X, Y, model);
    return { X, Y };
  };
}

/**
 * Standard normal inputs (row by row), then targets that fit the loss, sample by sample: a one-hot
 * class for categorical cross-entropy, 0 or 1 for binary cross-entropy, standard normal otherwise.
 */
export function standardData(rng: Random, X: Tensor, Y: Tensor, model: Model): void {
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  const [k, m] = Y.shape;
  for (let c = 0; c < m; c++) {
    if (model.loss.name === 'categorical_cross_entropy') Y.data[rng.int(k) * m + c] = 1;
    else for (let r = 0; r < k; r++) Y.data[r * m + c] = model.loss.name === 'binary_cross_entropy' ? rng.int(2) : rng.normal();
  }
}

/** fixtures/<name>: its net.json and data.csv loaded as the CLI loads them, initialised as its spec says (or with `initSeed`). */
export function fixtureNetwork(name: string, initSeed?: number): Network {
  const spec = loadSpec(join(root, 'fixtures', name, 'net.json'));
  const data = loadData(join(root, 'fixtures', name, 'data.csv'), spec.model, spec.statedInputs);
  const model = withInputs(spec.model, data.X.shape[0]);
  return { model, params: initialise(model, initSeed), X: data.X, Y: data.Y, declared: spec.declared };
}

/** What scripts/golden.py and scripts/golden_trained.py save: a spec, its data and params, and PyTorch's float64 gradients, as nested lists. */
export interface SavedJson {
  spec: unknown;
  X: number[][];
  Y: number[][];
  params: Record<string, number[][]>;
  grads: Record<string, number[][]>;
}

const matrix = (rows: number[][]): Tensor => ({ shape: [rows.length, rows[0].length], data: Float64Array.from(rows.flat()) });
const rawTensors = (tensors: Record<string, number[][]>): RawTensors => new Map(Object.entries(tensors).map(([name, rows]) => [name, matrix(rows)]));

/** `dir`/`file` saved by the PyTorch scripts: the network at its saved params, torch's gradients, and the JSON itself. */
export function savedNetwork<J extends SavedJson>(dir: string, file: string): Network & { grads: Grads; json: J } {
  const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as J;
  const X = matrix(json.X), Y = matrix(json.Y);
  const { model, declared } = specOf(json.spec, X.shape[0], file);
  return {
    model, X, Y, declared, json,
    params: assemble(rawTensors(json.params), model, file, 'params'),
    grads: assemble(rawTensors(json.grads), model, file, 'grads'),
  };
}

/** fixtures/trained/*.json (scripts/golden_trained.py): gradients at trained, saturated, symmetric and large-scale weights. */
export const TRAINED_DIR = join(root, 'fixtures/trained/');
export const TRAINED_FILES = readdirSync(TRAINED_DIR).filter((f) => f.endsWith('.json')).sort();

export interface Trained extends Network {
  name: string;
  note: string;
  /** torch's float64 gradients. */
  grads: Grads;
  /** torch's cost. */
  loss: number;
}

export function loadTrained(file: string): Trained {
  const { json, ...saved } = savedNetwork<SavedJson & { name: string; note: string; loss: number }>(TRAINED_DIR, file);
  return { ...saved, name: json.name, note: json.note, loss: json.loss };
}

/**
 * Puts ReLU pre-activations of the first layer on the kink and within a step of it: sample 0
 * is all zeros (Z₁ = b₁ = 0 there, exactly on the kink), sample 1 has one tiny feature, so a
 * step of b₁ pushes it across 0.
 */
export function withKinks<N extends Data>(n: N): N {
  const m = n.X.shape[1];
  for (let j = 0; j < n.X.shape[0]; j++) {
    n.X.data[j * m] = 0;
    n.X.data[j * m + 1] = j === 0 ? 1e-9 : 0;
  }
  return n;
}
