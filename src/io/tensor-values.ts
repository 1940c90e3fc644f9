// Tensors as a user's program or model function gives them: a number (0-d), nested lists of any
// rank, or { shape, data } (row-major). The session protocol's hello and answers (io/session.ts) and
// the library's in-process model (core/session/functions.ts) both read them here, each naming its
// mistakes its own way through `fail`.
import { size, type Tensor } from '../core/tensor.js';
import { show, type UserError } from './errors.js';

/** Builds the UserError for a mistake at `place`: what was expected and what was found. */
export type Fail = (place: string, expected: string, found: string, hint?: string) => UserError;

/** The strings a JSON writer may use for the numbers JSON has no literal for. */
export const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/**
 * A tensor as the protocol writes it: a number (0-d), nested lists of numbers of any rank (every
 * sublist at one depth the same length), or {"shape": [...], "data": [...]} (row-major, data of the
 * shape's size). `nonFinite`: NaN and ±Infinity (null, "NaN", …) are accepted, as a gradient may be.
 */
export function parseTensor(value: unknown, path: string, fail: Fail, nonFinite: boolean): Tensor {
  const element = (v: unknown, at: string): number => {
    if (typeof v === 'number') return v;
    if (nonFinite && (v === null || (typeof v === 'string' && v in NON_FINITE))) return v === null ? NaN : NON_FINITE[v as string];
    if (!nonFinite && (v === null || (typeof v === 'string' && v in NON_FINITE))) throw fail(at, 'a finite number', v === null ? 'null' : String(v));
    throw fail(at, 'a number', show(v));
  };
  if (typeof value === 'number' || value === null || typeof value === 'string') {
    const v = element(value, path);
    if (!nonFinite && !Number.isFinite(v)) throw fail(path, 'a finite number', String(v));
    return { shape: [], data: Float64Array.of(v) };
  }
  if (!Array.isArray(value)) {
    if (typeof value !== 'object') throw fail(path, 'a number, a nested list of numbers, or {"shape": […], "data": […]}', show(value));
    const { shape, data } = value as { shape?: unknown; data?: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw fail(`${path}.shape`, 'a list of whole numbers', show(shape));
    }
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<unknown>).length !== 'number') throw fail(`${path}.data`, 'a flat list of numbers, row-major', show(data));
    const values = data as ArrayLike<unknown>;
    const n = size(shape as number[]);
    if (values.length !== n) throw fail(`${path}.data`, `${n} numbers (the product of shape [${shape.join(', ')}])`, `${values.length}`);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = element(values[i], `${path}.data[${i}]`);
    return { shape: (shape as number[]).slice(), data: out };
  }
  // The shape is read down the first elements; every list is then checked against it.
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const out = new Float64Array(size(shape));
  let k = 0;
  const walk = (v: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      out[k++] = element(v, at);
      return;
    }
    if (!Array.isArray(v)) throw fail(at, `a list of ${shape[depth]} (the tensor is ragged: every list at one depth must be as long as the first)`, show(v));
    if (v.length !== shape[depth]) throw fail(at, `a list of ${shape[depth]}, like the first at its depth (the tensor is ragged)`, `a list of ${v.length}`);
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${at}[${i}]`);
  };
  walk(value, 0, path);
  for (let i = 0; i < out.length && !nonFinite; i++) if (!Number.isFinite(out[i])) throw fail(path, 'finite numbers', String(out[i]));
  return { shape, data: out };
}
