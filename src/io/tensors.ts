// Parameter and gradient files → Params. Every reader (JSON here, .npz in npz.ts) produces raw
// tensors by name; `assemble` checks names and shapes against the model in one place, so a
// transposed W gets the same message whatever format it came in.
import { extname } from 'node:path';
import type { Matrix, Model, Params } from '../core/model.js';
import { clip, show, UserError } from './errors.js';
import { readNpy, readNpz } from './npz.js';
import { parseJsonText } from './json.js';
import { readText } from './spec.js';

export interface RawTensor {
  /** The shape as stored: [n] for a 1-D array, [rows, cols] for 2-D. */
  shape: number[];
  /** Row-major (C-order) values. */
  data: Float64Array;
}

export type RawTensors = Map<string, RawTensor>;

/** What a file holds: weights ("W1", "b1") or gradients ("dW1", "db1"). */
export type TensorRole = 'params' | 'grads';

/** Readers for other formats register here (npz.ts adds ".npz" and ".npy"). */
export const readers: Record<string, (file: string, role: TensorRole) => RawTensors> = {
  '.json': readJsonTensors,
  '.npz': readNpz,
  '.npy': readNpy,
};

export function loadTensors(file: string, model: Model, role: TensorRole): Params {
  const ext = extname(file).toLowerCase();
  const reader = readers[ext] ?? readers['.json'];
  return assemble(reader(file, role), model, file, role);
}

function readJsonTensors(file: string, role: TensorRole): RawTensors {
  const what = role === 'params' ? 'a parameter file (JSON with W1, b1, …)' : 'a gradient file (JSON with dW1, db1, …)';
  const raw = parseJsonText(readText(file, what), file, what);
  return jsonTensors(raw, file, role);
}

/** Parsed JSON (a file's, or an --exec program's stdout) → named raw tensors. */
export function jsonTensors(raw: unknown, file: string, role: TensorRole): RawTensors {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(file, 'the top level', `an object of named tensors { "${role === 'params' ? 'W1' : 'dW1'}": [[…]], … }`, show(raw));
  }
  const out: RawTensors = new Map();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) out.set(name, jsonTensor(value, name, file));
  return out;
}

/** A JSON list of numbers (1-D) or a list of equal-length lists of numbers (2-D). */
function jsonTensor(value: unknown, name: string, file: string): RawTensor {
  const place = `tensor ${clip(name)}`;
  if (!Array.isArray(value)) throw new UserError(file, place, 'a list of numbers or a list of rows', show(value));
  if (value.length === 0) throw new UserError(file, place, 'a non-empty list', 'an empty list');
  if (!Array.isArray(value[0])) {
    const data = new Float64Array(value.length);
    value.forEach((v, i) => { data[i] = finite(v, file, `${place}[${i}]`); });
    return { shape: [value.length], data };
  }
  const cols = (value[0] as unknown[]).length;
  const data = new Float64Array(value.length * cols);
  value.forEach((row, r) => {
    if (!Array.isArray(row)) throw new UserError(file, `${place}[${r}]`, `a row of ${cols} numbers`, show(row));
    if (row.length !== cols) throw new UserError(file, `${place}[${r}]`, `a row of ${cols} numbers, like row 0 (rows must all be the same length)`, `${row.length} number${row.length === 1 ? '' : 's'}`);
    row.forEach((v, c) => { data[r * cols + c] = finite(v, file, `${place}[${r}][${c}]`); });
  });
  return { shape: [value.length, cols], data };
}

function finite(v: unknown, file: string, place: string): number {
  if (typeof v !== 'number') throw new UserError(file, place, 'a number', show(v));
  if (!Number.isFinite(v)) throw new UserError(file, place, 'a finite number', String(v));
  return v;
}

/** Checks names and shapes against the model and builds Params (or Grads). */
export function assemble(raw: RawTensors, model: Model, file: string, role: TensorRole): Params {
  const prefix = role === 'grads' ? 'd' : '';
  const expected = new Map<string, [number, number]>();
  model.layers.forEach((layer, l) => {
    expected.set(`${prefix}W${l + 1}`, [layer.units, layer.inputs]);
    if (layer.bias) expected.set(`${prefix}b${l + 1}`, [layer.units, 1]);
  });
  for (const name of raw.keys()) {
    if (!expected.has(name)) {
      const bare = name.replace(/^d/, '');
      const hint =
        role === 'grads' && expected.has(`d${name}`) ? `Gradient names start with "d": call it "d${name}".`
        : role === 'params' && expected.has(bare) && name !== bare ? `Parameter names have no "d": call it "${bare}" (or pass this file as --grads).`
        : /^d?b\d+$/.test(name) && !model.layers[Number(name.replace(/^d?b/, '')) - 1]?.bias ? 'That layer has no bias ("bias": false in net.json).'
        : undefined;
      throw new UserError(file, `tensor ${clip(name)}`, `only the tensors ${[...expected.keys()].join(', ')}`, `an unexpected tensor "${clip(name)}"`, hint);
    }
  }
  const get = (name: string): Matrix => {
    const t = raw.get(name);
    const [rows, cols] = expected.get(name)!;
    if (!t) throw new UserError(file, `tensor ${name}`, `a tensor ${name} of shape (${rows}, ${cols})`, 'none');
    return shaped(t, name, rows, cols, file);
  };
  const W = model.layers.map((_, l) => get(`${prefix}W${l + 1}`));
  const b = model.layers.map((layer, l) => (layer.bias ? get(`${prefix}b${l + 1}`) : null));
  return { W, b };
}

function shaped(t: RawTensor, name: string, rows: number, cols: number, file: string): Matrix {
  const s = t.shape;
  const found = `shape (${s.join(', ')}${s.length === 1 ? ',' : ''})`;
  // A bias may be a flat list of units numbers, or (units, 1).
  if (cols === 1 && s.length === 1 && s[0] === rows) return { rows, cols, data: t.data };
  if (s.length === 2 && s[0] === rows && s[1] === cols) return { rows, cols, data: t.data };
  if (s.length === 2 && s[0] === cols && s[1] === rows && rows !== cols) {
    const isBias = cols === 1;
    throw new UserError(file, `tensor ${name}`, `shape (${rows}, ${cols})`, `${found}, its transpose`,
      isBias ? `Store ${name} as a column (units, 1), or a flat list.` : `Store ${name} as (units, inputs), as in deeplearning.ai code: save ${name}.T.`);
  }
  if (s.length === 1 && cols !== 1 && s[0] === rows * cols) {
    throw new UserError(file, `tensor ${name}`, `shape (${rows}, ${cols})`, `a flat ${found}`, `Save it as a 2-D array of ${rows} rows.`);
  }
  throw new UserError(file, `tensor ${name}`, `shape (${rows}, ${cols})`, found);
}
