// Loads fixtures/trained/*.json (scripts/golden_trained.py: PyTorch float64 gradients at trained,
// saturated, symmetric and large-scale weights) as check() inputs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Grads, Model, Params } from '../src/core/model.js';
import type { Tensor } from '../src/core/tensor.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { assemble, type RawTensors } from '../src/io/tensors.js';

export const TRAINED_DIR = new URL('../fixtures/trained/', import.meta.url).pathname;

export interface Trained {
  name: string;
  note: string;
  model: Model;
  params: Params;
  X: Tensor;
  Y: Tensor;
  grads: Grads;
  loss: number;
}

const matrix = (rows: number[][]): Tensor => ({ shape: [rows.length, rows[0].length], data: Float64Array.from(rows.flat()) });
const raw = (tensors: Record<string, number[][]>): RawTensors =>
  new Map(Object.entries(tensors).map(([name, rows]) => [name, { shape: [rows.length, rows[0].length], data: Float64Array.from(rows.flat()) }]));

export function loadTrained(file: string): Trained {
  const g = JSON.parse(readFileSync(join(TRAINED_DIR, file), 'utf8'));
  const X = matrix(g.X), Y = matrix(g.Y);
  const model = withInputs(parseSpec(g.spec, file).model, X.shape[0]);
  return {
    name: g.name, note: g.note, model, X, Y, loss: g.loss,
    params: assemble(raw(g.params), model, file, 'params'),
    grads: assemble(raw(g.grads), model, file, 'grads'),
  };
}

export const TRAINED_FILES = readdirSync(TRAINED_DIR).filter((f) => f.endsWith('.json')).sort();
