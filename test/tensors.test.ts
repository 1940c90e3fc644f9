// Parameter and gradient files (SPEC.md, "Parameter and gradient files"): deeplearning.ai names and
// shapes, W (units, inputs) and b (units, 1) or flat; transposed, flat, missing and unexpected
// tensors are errors with exact messages.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/io/errors.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { assemble, jsonTensors, loadTensors, type TensorRole } from '../src/io/tensors.js';

// A 2-3-1 net: W1 (3, 2), b1 (3, 1), W2 (1, 3), b2 (1, 1).
const layers = [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }];
const model = withInputs(parseSpec({ input: 2, layers, loss: 'binary_cross_entropy' }, 'net.json').model, 2);
const noBias = withInputs(parseSpec({ input: 2, layers, loss: 'binary_cross_entropy', bias: false }, 'net.json').model, 2);

const W1 = [[1, 2], [3, 4], [5, 6]];
const b1 = [[0.1], [0.2], [0.3]];
const W2 = [[7, 8, 9]];
const b2 = [[0.5]];
const valid = { W1, b1, W2, b2 };

const from = (json: unknown, role: TensorRole = 'params', m = model) => assemble(jsonTensors(json, 'p.json', role), m, 'p.json', role);
function failure(json: unknown, role: TensorRole = 'params', m = model): string {
  try {
    from(json, role, m);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('assemble', () => {
  it('builds row-major matrices in layer order', () => {
    const p = from(valid);
    expect(p.W.map((w) => [w.rows, w.cols])).toEqual([[3, 2], [1, 3]]);
    expect(Array.from(p.W[0].data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(p.b[0]!.data)).toEqual([0.1, 0.2, 0.3]);
    expect([p.b[1]!.rows, p.b[1]!.cols]).toEqual([1, 1]);
  });

  it('accepts biases as flat lists', () => {
    const p = from({ W1, b1: [0.1, 0.2, 0.3], W2, b2: [0.5] });
    expect([p.b[0]!.rows, p.b[0]!.cols]).toEqual([3, 1]);
    expect(Array.from(p.b[0]!.data)).toEqual([0.1, 0.2, 0.3]);
  });

  it('gradients are dW1, db1, …', () => {
    const g = from({ dW1: W1, db1: b1, dW2: W2, db2: b2 }, 'grads');
    expect(Array.from(g.W[1].data)).toEqual([7, 8, 9]);
  });

  it('a net without biases has no b tensors', () => {
    const p = from({ W1, W2 }, 'params', noBias);
    expect(p.b).toEqual([null, null]);
  });
});

describe('error messages', () => {
  it('a transposed weight matrix says so, with the fix', () => {
    expect(failure({ ...valid, W1: [[1, 3, 5], [2, 4, 6]] })).toBe(
      'p.json, tensor W1: expected shape (3, 2); found shape (2, 3), its transpose. Store W1 as (units, inputs), as in deeplearning.ai code: save W1.T.');
  });

  it('a bias stored as a row says so', () => {
    expect(failure({ ...valid, b1: [[0.1, 0.2, 0.3]] })).toBe(
      'p.json, tensor b1: expected shape (3, 1); found shape (1, 3), its transpose. Store b1 as a column (units, 1), or a flat list.');
  });

  it('a flattened weight matrix', () => {
    expect(failure({ ...valid, W1: [1, 2, 3, 4, 5, 6] })).toBe(
      'p.json, tensor W1: expected shape (3, 2); found a flat shape (6,). Save it as a 2-D array of 3 rows.');
  });

  it('a wrong shape', () => {
    expect(failure({ ...valid, W2: [[7, 8]] })).toBe('p.json, tensor W2: expected shape (1, 3); found shape (1, 2).');
  });

  it('a missing tensor', () => {
    expect(failure({ W1, b1, W2 })).toBe('p.json, tensor b2: expected a tensor b2 of shape (1, 1); found none.');
    expect(failure({ dW1: W1, db1: b1, db2: b2 }, 'grads')).toBe('p.json, tensor dW2: expected a tensor dW2 of shape (1, 3); found none.');
  });

  it('an unexpected tensor, with a hint where the name is nearly right', () => {
    expect(failure({ ...valid, W3: [[1]] })).toBe('p.json, tensor W3: expected only the tensors W1, b1, W2, b2; found an unexpected tensor "W3".');
    expect(failure({ W1, db1: b1, W2, b2 })).toBe(
      'p.json, tensor db1: expected only the tensors W1, b1, W2, b2; found an unexpected tensor "db1". Parameter names have no "d": call it "b1" (or pass this file as --grads).');
    expect(failure(valid, 'grads')).toBe(
      'p.json, tensor W1: expected only the tensors dW1, db1, dW2, db2; found an unexpected tensor "W1". Gradient names start with "d": call it "dW1".');
    expect(failure(valid, 'params', noBias)).toBe(
      'p.json, tensor b1: expected only the tensors W1, W2; found an unexpected tensor "b1". That layer has no bias ("bias": false in net.json).');
  });

  it('JSON that is not an object of lists of numbers', () => {
    expect(failure([W1])).toBe('p.json, the top level: expected an object of named tensors { "W1": [[…]], … }; found a list of 1.');
    expect(failure({ ...valid, W1: 3 })).toBe('p.json, tensor W1: expected a list of numbers or a list of rows; found 3.');
    expect(failure({ ...valid, W1: [] })).toBe('p.json, tensor W1: expected a non-empty list; found an empty list.');
    expect(failure({ ...valid, W1: [[1, 2], [3], [5, 6]] })).toBe(
      'p.json, tensor W1[1]: expected a row of 2 numbers, like row 0 (rows must all be the same length); found 1 number.');
    expect(failure({ ...valid, W1: [[1, 2], [3, null], [5, 6]] })).toBe('p.json, tensor W1[1][1]: expected a number; found null.');
    expect(failure({ ...valid, W1: [[1, 2], [3, '4'], [5, 6]] })).toBe('p.json, tensor W1[1][1]: expected a number; found "4".');
  });
});

describe('loadTensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backprop-check-tensors-'));

  it('reads a JSON file', () => {
    const file = join(dir, 'params.json');
    writeFileSync(file, JSON.stringify(valid));
    expect(Array.from(loadTensors(file, model, 'params').W[1].data)).toEqual([7, 8, 9]);
  });

  it('names the file in its errors', () => {
    const file = join(dir, 'grads.json');
    writeFileSync(file, JSON.stringify({ dW1: W1, db1: b1, dW2: W2 }));
    expect(() => loadTensors(file, model, 'grads')).toThrow(`${file}, tensor db2: expected a tensor db2 of shape (1, 1); found none.`);
  });
});
