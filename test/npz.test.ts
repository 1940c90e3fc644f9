// .npy/.npz reading: files NumPy itself wrote (fixtures/npz, from make_npz.py) must read back as
// exactly values.json; malformed ones, and edge cases built here byte by byte, are refused with a
// message naming the file, the tensor and what is wrong.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../src/io/npy.js';
import { readNpz } from '../src/io/npz.js';
import { loadTensors } from '../src/io/tensors.js';
import { run } from '../src/run.js';
import { fixtureNetwork } from './helpers/network.js';

const dir = 'fixtures/npz';
const { model } = fixtureNetwork('xor');
const tmp = mkdtempSync(join(tmpdir(), 'bpc-npz-'));

const expected = JSON.parse(readFileSync(`${dir}/values.json`, 'utf8')) as Record<string, number[][]>;
const plain = (p: ReturnType<typeof loadTensors>) => ({
  W1: p.map(({ W: m }) => [m.shape[0], m.shape[1], Array.from(m.data)]),
  b: p.map(({ b: m }) => m && [m.shape[0], m.shape[1], Array.from(m.data)]),
});

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect((e as Error).name).toBe('UserError');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

/** A .npy as numpy.lib.format writes it: magic, version, padded header dict, data in storage order. */
function npy(descr: string, shape: number[], stored: number[], o: { fortran?: boolean; version?: 1 | 2 | 3; header?: string } = {}): Uint8Array {
  const version = o.version ?? 1;
  const dict = o.header ?? `{'descr': '${descr}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const prefix = version === 1 ? 10 : 12;
  let header = dict + ' ';
  while ((prefix + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = new TextEncoder().encode(header);
  const size = Number(/\d+$/.exec(descr)?.[0] ?? 8);
  const out = new Uint8Array(prefix + head.length + stored.length * size);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, head.length, true);
  else view.setUint32(8, head.length, true);
  out.set(head, prefix);
  const little = !descr.startsWith('>');
  stored.forEach((v, i) => {
    const at = prefix + head.length + i * size;
    if (size === 8) view.setFloat64(at, v, little);
    else view.setFloat32(at, v, little);
  });
  return out;
}

function npzFile(name: string, members: Record<string, Uint8Array>): string {
  const file = join(tmp, name);
  writeFileSync(file, zipSync(members));
  return file;
}

const src = { file: 'x.npz', place: 'tensor W1' };

describe('files written by NumPy (fixtures/npz/make_npz.py)', () => {
  const reference = plain(loadTensors(`${dir}/values.json`, model, 'params'));

  it.each(['f8_c', 'f4', 'f8_big', 'f4_big', 'fortran', 'compressed', 'flat_bias', 'versions'])('%s.npz reads back as values.json', (name) => {
    expect(plain(loadTensors(`${dir}/${name}.npz`, model, 'params'))).toEqual(reference);
  });

  it('values.json holds what make_npz.py says (a spot check of the reference itself)', () => {
    expect(expected.W1).toEqual([[0.125, -0.25], [0.375, 0.5], [-0.625, 0.75], [0.875, -1]]);
    expect(expected.b2).toEqual([[0.265625]]);
  });

  it.each([
    ['int_w.npz', "fixtures/npz/int_w.npz, tensor W1: expected a float64 or float32 array; found int64 ('<i8'). Convert it before saving: x.astype(np.float64)."],
    ['bool_b.npz', "fixtures/npz/bool_b.npz, tensor b1: expected a float64 or float32 array; found bool ('|b1'). Convert it before saving: x.astype(np.float64)."],
    ['complex_w.npz', "fixtures/npz/complex_w.npz, tensor W2: expected a float64 or float32 array; found complex128 ('<c16'). Convert it before saving: x.astype(np.float64)."],
    ['f2_w.npz', "fixtures/npz/f2_w.npz, tensor W2: expected a float64 or float32 array; found float16 ('<f2'). Convert it before saving: x.astype(np.float64)."],
    ['object_w.npz', "fixtures/npz/object_w.npz, tensor W1: expected a float64 or float32 array; found an object array ('|O'), which NumPy pickles. backprop-check never unpickles. Save numeric arrays: np.asarray(x, dtype=np.float64)."],
    ['threed.npz', 'fixtures/npz/threed.npz, tensor W1: expected a 1-D or 2-D array; found a 3-D array of shape (1, 4, 2). Weights are (units, inputs) matrices and biases (units, 1) columns.'],
    ['scalar.npz', 'fixtures/npz/scalar.npz, tensor b2: expected a 1-D or 2-D array; found a 0-D array (a single number). Save the tensor with its full shape, e.g. np.array([[x]]) for a (1, 1) one.'],
    ['nan.npz', 'fixtures/npz/nan.npz, tensor W2[0][1]: expected a finite number; found NaN.'],
    ['transposed.npz', 'fixtures/npz/transposed.npz, tensor W1: expected shape (4, 2); found shape (2, 4), its transpose. Store W1 as (units, inputs), as in deeplearning.ai code: save W1.T.'],
    ['positional.npz', 'fixtures/npz/positional.npz, tensor arr_0: expected arrays saved by name; found an unnamed array "arr_0". np.savez names positional arrays arr_0, arr_1, …; pass them as keywords: np.savez("params.npz", W1=W1, b1=b1, W2=W2, b2=b2, …).'],
    ['single.npy', 'fixtures/npz/single.npy: expected a set of named parameters (W1, b1, …) in an .npz archive; found a .npy file, which holds a single unnamed array (shape (4, 2)). Write all of them into one archive: np.savez("params.npz", W1=W1, b1=b1, W2=W2, b2=b2, …).'],
    ['dict.npy', 'fixtures/npz/dict.npy: expected a set of named parameters (W1, b1, …) in an .npz archive; found a .npy holding a pickled Python object (a dict saved with np.save?), which is never unpickled. Write all of them into one archive: np.savez("params.npz", W1=W1, b1=b1, W2=W2, b2=b2, …).'],
  ])('%s is refused', (name, message) => {
    expect(errorOf(() => loadTensors(`${dir}/${name}`, model, 'params'))).toBe(message);
  });

  it('gradients in an .npz are checked: NumPy’s correct gradients pass, a transposed dW1 is an error', async () => {
    const options = { net: 'fixtures/xor/net.json', data: 'fixtures/xor/data.csv', params: `${dir}/f8_c.npz` };
    const report = await run({ ...options, grads: `${dir}/grads_xor.npz` });
    expect(report.source).toBe('grads');
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.param)).toEqual(['W1', 'b1', 'W2', 'b2']);
    for (const c of report.checks) expect(c.relativeError).toBeLessThan(1e-9);
    await expect(run({ ...options, grads: `${dir}/grads_xor_transposed.npz` })).rejects.toThrow(
      'fixtures/npz/grads_xor_transposed.npz, tensor dW1: expected shape (4, 2); found shape (2, 4), its transpose.',
    );
    await expect(run({ ...options, grads: `${dir}/f8_c.npz` })).rejects.toThrow(
      'fixtures/npz/f8_c.npz, tensor W1: expected only the tensors dW1, db1, dW2, db2; found an unexpected tensor "W1". Gradient names start with "d": call it "dW1".',
    );
  });
});

describe('the .npy reader, byte by byte', () => {
  it('converts Fortran order to row-major', () => {
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    const t = parseNpy(npy('<f8', [2, 3], [1, 4, 2, 5, 3, 6], { fortran: true }), src);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads big-endian float32 and 1-D arrays, and .npy versions 2.0 and 3.0', () => {
    expect(Array.from(parseNpy(npy('>f4', [3], [0.5, -2, 8]), src).data)).toEqual([0.5, -2, 8]);
    expect(parseNpy(npy('<f8', [2, 1], [1, 2], { version: 2 }), src).shape).toEqual([2, 1]);
    expect(Array.from(parseNpy(npy('<f8', [1, 2], [1, 2], { version: 3 }), src).data)).toEqual([1, 2]);
  });

  it('accepts an empty tensor’s header (the shape check happens later) and 0 as a dimension', () => {
    expect(parseNpy(npy('<f8', [0, 3], []), src)).toEqual({ shape: [0, 3], data: new Float64Array(0) });
  });

  it.each([
    ['truncated data', () => npy('<f8', [2, 2], [1, 2, 3, 4]).slice(0, -3), 'x.npz, tensor W1: expected 32 bytes of float64 data for shape (2, 2); found only 29 (the file is truncated).'],
    ['extra bytes', () => new Uint8Array([...npy('<f4', [2], [1, 2]), 0, 0, 0, 0]), 'x.npz, tensor W1: expected 8 bytes of float32 data for shape (2,); found 12 bytes (the file is corrupt).'],
    ['a truncated header', () => npy('<f8', [2], [1, 2]).slice(0, 40), 'x.npz, tensor W1: expected a .npy header of 118 bytes; found only 30 (the file is truncated).'],
    ['no magic', () => new TextEncoder().encode('W1,1,2,3'), 'x.npz, tensor W1: expected a NumPy .npy array (starting with "\\x93NUMPY"); found bytes starting "W1,1,2".'],
    ['a pickle', () => new Uint8Array([0x80, 4, 0x95]), 'x.npz, tensor W1: expected a NumPy .npy array (starting with "\\x93NUMPY"); found a Python pickle (never unpickled).'],
    ['version 4.0', () => { const b = npy('<f8', [1], [1]); b[6] = 4; return b; }, 'x.npz, tensor W1: expected .npy format version 1.0, 2.0 or 3.0; found version 4.0.'],
    ['a structured dtype', () => npy('<f8', [2], [1, 2], { header: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }" }), 'x.npz, tensor W1: expected a plain float64 or float32 array; found a structured (record) array. Save each field as its own array.'],
    ['a missing key', () => npy('<f8', [2], [1, 2], { header: "{'descr': '<f8', 'shape': (2,), }" }), 'x.npz, tensor W1: expected a .npy header with exactly the keys descr, fortran_order and shape; found the keys descr, shape.'],
    ['code instead of a dict', () => npy('<f8', [2], [1, 2], { header: "__import__('os').system('true')" }), 'x.npz, tensor W1: expected a .npy header holding a Python dict literal; found "__import__(\'os\').system(\'true\')" (unexpected "_" at character 1).'],
    ['a negative dimension', () => npy('<f8', [2], [1, 2], { header: "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }" }), 'x.npz, tensor W1: expected a shape tuple of whole numbers in the .npy header; found (-2).'],
    ['unicode strings', () => npy('<U3', [2], [], {}), "x.npz, tensor W1: expected a float64 or float32 array; found unicode strings ('<U3'). Convert it before saving: x.astype(np.float64)."],
    ['infinity', () => npy('<f8', [2], [1, Infinity]), 'x.npz, tensor W1[1]: expected a finite number; found Infinity.'],
  ])('refuses %s', (_what, bytes, message) => {
    expect(errorOf(() => parseNpy(bytes(), src))).toBe(message);
  });
});

describe('the .npz reader, archives built here', () => {
  it('reads members by name and ignores directory entries', () => {
    const file = npzFile('ok.npz', { 'W1.npy': npy('<f8', [1, 2], [1, 2]), 'sub/': new Uint8Array(0) });
    const raw = readNpz(file, 'params');
    expect([...raw.keys()]).toEqual(['W1']);
  });

  it.each([
    ['a member that is not .npy', { 'W1.npy': npy('<f8', [1], [1]), 'notes.txt': new Uint8Array([0x61]) }, 'member notes.txt: expected only .npy arrays, as np.savez writes them; found "notes.txt".'],
    ['an empty archive', {}, ': expected a parameter archive (.npz with W1, b1, …); found an archive with no arrays. Write it with np.savez("params.npz", W1=W1, b1=b1, W2=W2, b2=b2, …).'],
  ])('refuses %s', (_what, members, message) => {
    const file = npzFile('bad.npz', members as Record<string, Uint8Array>);
    expect(errorOf(() => readNpz(file, 'params'))).toBe(file + (message.startsWith(':') ? '' : ', ') + message);
  });

  it('refuses a damaged zip, a .npy, a pickle and JSON under the name .npz, and a missing file', () => {
    const whole = zipSync({ 'dW1.npy': npy('<f8', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]) });
    const damaged = join(tmp, 'damaged.npz');
    writeFileSync(damaged, whole.slice(0, whole.length - 30));
    expect(errorOf(() => readNpz(damaged, 'grads'))).toMatch(
      new RegExp(`^${damaged}: expected a gradient archive \\(\\.npz with dW1, db1, …\\): a readable zip archive; found a damaged one \\(.+\\)\\. Write it again with np\\.savez\\("grads\\.npz", dW1=dW1, db1=db1, …\\)\\.$`),
    );
    const lone = join(tmp, 'lone.npz');
    writeFileSync(lone, npy('<f8', [1], [1]));
    expect(errorOf(() => readNpz(lone, 'grads'))).toBe(`${lone}: expected a gradient archive (.npz with dW1, db1, …); found a single .npy array (np.save), not an archive of named arrays. Write it with np.savez("grads.npz", dW1=dW1, db1=db1, …).`);
    const pickle = join(tmp, 'pickle.npz');
    writeFileSync(pickle, new Uint8Array([0x80, 4, 0x95, 0, 0]));
    expect(errorOf(() => readNpz(pickle, 'params'))).toContain('found a Python pickle (never unpickled).');
    const json = join(tmp, 'json.npz');
    writeFileSync(json, '{"W1": [[1, 2]]}');
    expect(errorOf(() => readNpz(json, 'params'))).toContain('found what looks like JSON. Write it with np.savez("params.npz", W1=W1, b1=b1, W2=W2, b2=b2, …), or name the file .json.');
    expect(errorOf(() => readNpz(join(tmp, 'nope.npz'), 'params'))).toBe(`${join(tmp, 'nope.npz')}: expected a parameter archive (.npz with W1, b1, …); found no such file.`);
  });
});
