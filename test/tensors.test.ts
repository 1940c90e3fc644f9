// Parameter and gradient files (SPEC.md, "Parameter and gradient files"): deeplearning.ai names and
// shapes, W (units, inputs) and b (units, 1) or flat; transposed, flat, missing and unexpected
// tensors are errors with exact messages.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/io/errors.js';
import { assemble, assembleTensors, extraGradientsFinding, jsonTensors, loadTensors, type TensorRole } from '../src/io/tensors.js';
import { modelOf } from './helpers/network.js';

// A 2-3-1 net: W1 (3, 2), b1 (3, 1), W2 (1, 3), b2 (1, 1).
const layers = [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }];
const model = modelOf({ input: 2, layers, loss: 'binary_cross_entropy' }, 2);
const noBias = modelOf({ input: 2, layers, loss: 'binary_cross_entropy', bias: false }, 2);

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
    expect(p.map(({ W: w }) => [w.shape[0], w.shape[1]])).toEqual([[3, 2], [1, 3]]);
    expect(Array.from(p[0].W.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(p[0].b!.data)).toEqual([0.1, 0.2, 0.3]);
    expect([p[1].b!.shape[0], p[1].b!.shape[1]]).toEqual([1, 1]);
  });

  it('accepts biases as flat lists', () => {
    const p = from({ W1, b1: [0.1, 0.2, 0.3], W2, b2: [0.5] });
    expect([p[0].b!.shape[0], p[0].b!.shape[1]]).toEqual([3, 1]);
    expect(Array.from(p[0].b!.data)).toEqual([0.1, 0.2, 0.3]);
  });

  it('gradients are dW1, db1, …', () => {
    const g = from({ dW1: W1, db1: b1, dW2: W2, db2: b2 }, 'grads');
    expect(Array.from(g[1].W.data)).toEqual([7, 8, 9]);
  });

  it('a net without biases has no b tensors', () => {
    const p = from({ W1, W2 }, 'params', noBias);
    expect(p.map((layer) => layer.b ?? null)).toEqual([null, null]);
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
    expect(Array.from(loadTensors(file, model, 'params')[1].W.data)).toEqual([7, 8, 9]);
  });

  it('names the file in its errors', () => {
    const file = join(dir, 'grads.json');
    writeFileSync(file, JSON.stringify({ dW1: W1, db1: b1, dW2: W2 }));
    expect(() => loadTensors(file, model, 'grads')).toThrow(`${file}, tensor db2: expected a tensor db2 of shape (1, 1); found none.`);
  });
});

/** A model with the given layer widths after the input (tanh, then a linear or sigmoid output). */
function net(input: number, units: number[], loss: 'binary_cross_entropy' | 'mean_squared_error' = 'binary_cross_entropy') {
  const ls = units.map((u, i) => ({ units: u, activation: i === units.length - 1 ? (loss === 'mean_squared_error' ? 'linear' : 'sigmoid') : 'tanh' }));
  return modelOf({ input, layers: ls, loss }, input);
}
/** A (rows, cols) matrix of distinct numbers, and its transpose. */
const mat = (rows: number, cols: number, start = 1) => Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => start + r * cols + c));
const T = (m: number[][]) => m[0].map((_, c) => m.map((row) => row[c]));
const col = (n: number) => Array.from({ length: n }, (_, i) => [i / 10]);

describe('the layout of a whole file', () => {
  it('every W stored as (inputs, units): refused once, naming every W, with the fix', () => {
    expect(failure({ W1: T(W1), b1, W2: T(W2), b2 })).toBe(
      'p.json: expected weights stored as (units, inputs), as in deeplearning.ai code: W1 (3, 2), W2 (1, 3); ' +
      'found the (inputs, units) layout of Keras and X @ W code throughout: W1 (2, 3), W2 (3, 1), their transposes. ' +
      'Add "layout": "rows" to net.json, or store every W transposed: json.dump({k: (v.T if k.startswith("W") else v).tolist() for k, v in params.items()}, f).');
  });

  it('a square W in such a file is named too: its shape cannot tell, and it would be read transposed', () => {
    const m = net(2, [3, 3, 1]);
    const file = { W1: T(mat(3, 2)), b1: col(3), W2: T(mat(3, 3)), b2: col(3), W3: T(mat(1, 3)), b3: [[0]] };
    expect(failure(file, 'params', m)).toBe(
      'p.json: expected weights stored as (units, inputs), as in deeplearning.ai code: W1 (3, 2), W2 (3, 3), W3 (1, 3); ' +
      'found the (inputs, units) layout of Keras and X @ W code throughout: W1 (2, 3), W3 (3, 1), their transposes; ' +
      'W2 (3, 3) is square, so its shape cannot tell which way it is stored (in a file written this way, transposed too). ' +
      'Add "layout": "rows" to net.json, or store every W transposed, the square ones too: json.dump({k: (v.T if k.startswith("W") else v).tolist() for k, v in params.items()}, f).');
  });

  it('one transposed W beside a square one (so no W says "right"): the whole file, not the one tensor', () => {
    const m = net(3, [3, 1]);
    expect(failure({ W1: mat(3, 3), b1: col(3), W2: T(mat(1, 3)), b2: [[0]] }, 'params', m)).toBe(
      'p.json: expected weights stored as (units, inputs), as in deeplearning.ai code: W1 (3, 3), W2 (1, 3); ' +
      'found the (inputs, units) layout of Keras and X @ W code throughout: W2 (3, 1), its transpose; ' +
      'W1 (3, 3) is square, so its shape cannot tell which way it is stored (in a file written this way, transposed too). ' +
      'Add "layout": "rows" to net.json, or store every W transposed, the square ones too: json.dump({k: (v.T if k.startswith("W") else v).tolist() for k, v in params.items()}, f).');
  });

  it('gradients, an .npz, biases stored as rows: the fix is written for them', () => {
    const grads = { dW1: T(W1), db1: T(b1), dW2: T(W2), db2: b2 };
    const message = (role: TensorRole, file: string) => {
      try {
        assemble(jsonTensors(role === 'grads' ? grads : { W1: T(W1), b1: T(b1), W2: T(W2), b2 }, file, role), model, file, role);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message('grads', 'g.json')).toMatch(/^g\.json: expected weights stored as \(units, inputs\), as in deeplearning\.ai code: dW1 \(3, 2\), dW2 \(1, 3\); found .*: dW1 \(2, 3\), dW2 \(3, 1\), their transposes\. /);
    expect(message('grads', 'g.json')).toMatch(/store every dW transposed, and db1 as columns: json\.dump\(\{k: v\.T\.tolist\(\) for k, v in grads\.items\(\)\}, f\)\.$/);
    expect(message('params', 'dir/params.npz')).toMatch(/store every W transposed, and b1 as columns: np\.savez\("params\.npz", W1=W1\.T, b1=b1\.T, W2=W2\.T, b2=b2\)\.$/);
  });

  it('two or more transposed W beside right ones: one message saying which', () => {
    const m = net(2, [3, 4, 2, 1]);
    const file = { W1: T(mat(3, 2)), b1: col(3), W2: mat(4, 3), b2: col(4), W3: T(mat(2, 4)), b3: col(2), W4: mat(1, 2), b4: [[0]] };
    expect(failure(file, 'params', m)).toBe(
      'p.json: expected every weight matrix stored the same way, as (units, inputs): W1 (3, 2), W2 (4, 3), W3 (2, 4), W4 (1, 2); ' +
      'found a mixture: W1 (2, 3) and W3 (4, 2) are stored transposed, as (inputs, units), while W2 and W4 are (units, inputs). ' +
      'Store W1 and W3 as (units, inputs) too: save W1.T and W3.T.');
  });

  it('one transposed W among right ones, or in a one-layer net, keeps the message about that tensor', () => {
    const m = net(2, [3, 4, 1]);
    expect(failure({ W1: T(mat(3, 2)), b1: col(3), W2: mat(4, 3), b2: col(4), W3: mat(1, 4), b3: [[0]] }, 'params', m)).toBe(
      'p.json, tensor W1: expected shape (3, 2); found shape (2, 3), its transpose. Store W1 as (units, inputs), as in deeplearning.ai code: save W1.T.');
    const one = net(2, [3]);
    expect(failure({ W1: T(mat(3, 2)), b1: col(3) }, 'params', one)).toBe(
      'p.json, tensor W1: expected shape (3, 2); found shape (2, 3), its transpose. Store W1 as (units, inputs), as in deeplearning.ai code: save W1.T.');
  });

  it('a missing or misshapen W is its own mistake, whatever the other W’s layout', () => {
    expect(failure({ W1: T(W1), b1, b2 })).toBe('p.json, tensor W1: expected shape (3, 2); found shape (2, 3), its transpose. Store W1 as (units, inputs), as in deeplearning.ai code: save W1.T.');
    expect(failure({ W1: T(W1), b1, W2: [[1, 2]], b2 })).toBe('p.json, tensor W1: expected shape (3, 2); found shape (2, 3), its transpose. Store W1 as (units, inputs), as in deeplearning.ai code: save W1.T.');
  });

  it('a 1×1 W reads the same either way and counts as neither layout', () => {
    const m = net(2, [3, 1, 1]);
    expect(failure({ W1: T(mat(3, 2)), b1: col(3), W2: T(mat(1, 3)), b2: [[0]], W3: [[2]], b3: [0] }, 'params', m)).toMatch(/^p\.json: expected weights stored as \(units, inputs\)/);
  });

  it('a file whose W’s are all square cannot be decided from shapes: it is read as stored', () => {
    const m = net(3, [3, 3], 'mean_squared_error');
    const p = from({ W1: mat(3, 3), b1: col(3), W2: mat(3, 3, 10), b2: col(3) }, 'params', m);
    expect(Array.from(p[1].W.data)).toEqual(mat(3, 3, 10).flat());
  });
});

describe('extra gradients (a deeplearning.ai grads dict)', () => {
  const grads = { dW1: W1, db1: b1, dW2: W2, db2: b2 };
  const assembled = (json: unknown) => assembleTensors(jsonTensors(json, 'g.json', 'grads'), model, 'g.json', 'grads');

  it('dA0 … dAL and dZ1 … dZL are accepted, named, and not used', () => {
    const r = assembled({ dA0: [[1, 2]], dA1: [[1]], dA2: [[3]], dZ1: [[1]], dZ2: [[2]], ...grads });
    expect(r.ignored).toEqual(['dA0', 'dA1', 'dA2', 'dZ1', 'dZ2']);
    expect(Array.from(r.tensors[1].W.data)).toEqual([7, 8, 9]);
    expect(assembled(grads).ignored).toEqual([]);
  });

  it('a gradient of a tensor the net does not have stays an error', () => {
    expect(failure({ ...grads, dW9: [[1]] }, 'grads')).toBe('p.json, tensor dW9: expected only the tensors dW1, db1, dW2, db2; found an unexpected tensor "dW9".');
    expect(failure({ ...grads, dA3: [[1]] }, 'grads')).toBe(
      'p.json, tensor dA3: expected only the tensors dW1, db1, dW2, db2; found an unexpected tensor "dA3". dA3 would be the gradient of A3, which a 2-layer net does not have: ' +
      'beside dW1 … dW2 and db1 … db2, only dA0 … dA2 and dZ1 … dZ2 are accepted (and not checked).');
    expect(failure({ ...grads, dZ0: [[1]] }, 'grads')).toMatch(/found an unexpected tensor "dZ0"\. dZ0 would be the gradient of Z0/);
  });

  it('in a parameter file they are still unexpected', () => {
    expect(failure({ ...valid, dA0: [[1]] })).toBe('p.json, tensor dA0: expected only the tensors W1, b1, W2, b2; found an unexpected tensor "dA0".');
  });

  it('the note is an info finding that names them', () => {
    expect(extraGradientsFinding(['dA0', 'dZ1'], 'The --exec answer')).toEqual({
      code: 'extra-gradients', severity: 'info',
      message: 'The --exec answer also holds dA0, dZ1: gradients of activations or pre-activations (as a deeplearning.ai grads dict keeps them), not of parameters. They were accepted and not checked.',
      fix: 'Nothing to fix. To leave them out, keep only dW and db: {k: v for k, v in grads.items() if k.startswith(("dW", "db"))}.',
      evidence: { tensors: 'dA0, dZ1' },
    });
  });
});
