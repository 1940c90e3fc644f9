// --data data.npz (SPEC.md, "Beyond dense layers"): X and Y reach the check bit for bit (values a
// CSV written with %g would round, float32 widened exactly), images (samples, C, H, W) become
// C·H·W rows in C, H, W order, Y may be a flat array of labels, and every disagreement with the
// spec or the layout is one exit-2 paragraph. Also: n-D tensors in JSON and in the exec payload.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execPayload } from '../src/io/exec.js';
import { UserError } from '../src/io/errors.js';
import { loadNpzData } from '../src/io/npz-data.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { assembleTensors, jsonTensors, loadTensorFile } from '../src/io/tensors.js';
import { initialise } from '../src/core/init.js';
import { runCli } from './helpers/cli.js';
import { writeNpz } from './helpers/npz.js';

const tmp = mkdtempSync(join(tmpdir(), 'bpc-data-npz-'));
const npz = (name: string, arrays: Parameters<typeof writeNpz>[1], descr?: '<f4') => writeNpz(join(tmp, name), arrays, descr);
const specOf = (spec: unknown) => parseSpec(spec, 'net.json');
const flat = (input?: number, loss = 'mean_squared_error', units = 1) => specOf({ ...(input ? { input } : {}), layers: [{ units, activation: units > 1 && loss === 'categorical_cross_entropy' ? 'softmax' : 'linear' }], loss });

function message(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('values bit for bit', () => {
  it('float64: 1/3, 0.1 + 0.2, the least subnormal and a 17-digit value are the numbers the archive holds', () => {
    const values = [1 / 3, 0.1 + 0.2, 2 ** -1074, 123456.78901234567, -Math.PI, Math.E / 7];
    const file = npz('bits.npz', { X: { shape: [2, 3], data: values }, Y: { shape: [1, 3], data: [0.5, -1 / 3, 2 / 3] } });
    const { X, Y } = loadNpzData(file, flat(2).model, 'columns');
    expect(X.shape).toEqual([2, 3]);
    values.forEach((v, i) => expect(Object.is(X.data[i], v), `X[${i}]`).toBe(true));
    expect(Y.data[1]).toBe(-1 / 3);
    // %g (6 significant digits), as np.savetxt(fmt="%g") writes it, would have rounded all but the subnormal (5e-324 reads back as itself).
    expect(values.filter((v) => Number(v.toPrecision(6)) !== v)).toEqual(values.filter((v) => v !== 2 ** -1074));
  });

  it('float32 is widened exactly: each float32 value, not its shortest decimal', () => {
    const file = npz('f4.npz', { X: { shape: [1, 2], data: [0.1, 1 / 3] }, Y: { shape: [1, 2], data: [0, 1] } }, '<f4');
    const { X } = loadNpzData(file, flat(1).model, 'columns');
    expect(X.data[0]).toBe(Math.fround(0.1));
    expect(X.data[1]).toBe(Math.fround(1 / 3));
  });

  it('rows: X (samples, features) and Y (samples, outputs) are the transposes of the blocks', () => {
    const file = npz('rows.npz', { X: { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }, Y: { shape: [3, 2], data: [7, 8, 9, 10, 11, 12] } });
    const { X, Y } = loadNpzData(file, flat(2, 'mean_squared_error', 2).model, 'rows');
    expect(Array.from(X.data)).toEqual([1, 3, 5, 2, 4, 6]);
    expect(Array.from(Y.data)).toEqual([7, 9, 11, 8, 10, 12]);
  });
});

describe('images and labels', () => {
  const cnn = specOf({ input: [2, 2, 3], layers: [{ type: 'flatten' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy' });
  // Two samples of 2 × 2 × 3: sample s, channel c, row h, column w holds 100s + 10c + 3h + w.
  const images = Array.from({ length: 2 * 12 }, (_, i) => { const s = Math.floor(i / 12), c = Math.floor((i % 12) / 6), hw = i % 6; return 100 * s + 10 * c + hw; });

  it.each(['columns', 'rows'] as const)('an image X (samples, C, H, W) in the %s layout is C·H·W rows in (C, H, W) order, a flat Y one class index per sample', (layout) => {
    const file = npz(`img-${layout}.npz`, { X: { shape: [2, 2, 2, 3], data: images }, Y: { shape: [2], data: [2, 0] } });
    const { X, Y } = loadNpzData(file, cnn.model, layout, cnn.statedShape);
    expect(X.shape).toEqual([12, 2]);
    // Row (c·H + h)·W + w, column s.
    expect(X.data[(1 * 2 + 1) * 3 * 2 + 2 * 2 + 1]).toBe(100 + 10 + 5);
    expect(Array.from(Y.data)).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it('a flat Y of 0/1 labels for one sigmoid output', () => {
    const spec = specOf({ input: 1, layers: [{ units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' });
    const { Y } = loadNpzData(npz('labels.npz', { X: { shape: [1, 3], data: [1, 2, 3] }, Y: { shape: [3], data: [1, 0, 1] } }), spec.model, 'columns');
    expect(Array.from(Y.data)).toEqual([1, 0, 1]);
  });

  it('without "input", the features are X\'s in the layout', () => {
    const spec = flat();
    const { X } = loadNpzData(npz('any.npz', { X: { shape: [4, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] }, Y: { shape: [2], data: [0, 1] } }), spec.model, 'columns');
    expect(withInputs(spec.model, X.shape[0]).layers[0].inputs).toBe(4);
  });
});

describe('arrays that disagree with the spec or the layout', () => {
  const cnn = specOf({ input: [1, 2, 2], layers: [{ type: 'flatten' }, { units: 2, activation: 'softmax' }], loss: 'categorical_cross_entropy' });
  it.each([
    ['X with the wrong features', () => loadNpzData(npz('e1.npz', { X: { shape: [3, 4], data: new Array(12).fill(0) }, Y: { shape: [1, 4], data: [0, 0, 0, 0] } }), flat(2).model, 'columns'),
      'e1.npz, array X: expected shape (2, 4) as the columns layout (net.json\'s default): X (features, samples), Y (outputs, samples); found shape (3, 4).'],
    ['Y for other samples than X', () => loadNpzData(npz('e2.npz', { X: { shape: [2, 4], data: new Array(8).fill(0) }, Y: { shape: [1, 5], data: [0, 0, 0, 0, 0] } }), flat(2).model, 'columns'),
      'e2.npz, array Y: expected shape (1, 4) as the columns layout (net.json\'s default): X (features, samples), Y (outputs, samples); found shape (1, 5). Y has a row or column per sample, as X does, and one per output unit (or is a flat array of labels: a 0/1 label for one output, a class index for categorical cross-entropy).'],
    ['an image X stored flat', () => loadNpzData(npz('e3.npz', { X: { shape: [3, 4], data: new Array(12).fill(0) }, Y: { shape: [3], data: [0, 1, 0] } }), cnn.model, 'columns', cnn.statedShape),
      'e3.npz, array X: expected shape (3, 1, 2, 2) (samples, C, H, W) for net.json\'s image "input", in either layout; found shape (3, 4).'],
    ['a class index out of range', () => loadNpzData(npz('e4.npz', { X: { shape: [2, 1, 2, 2], data: new Array(8).fill(0) }, Y: { shape: [2], data: [0, 2] } }), cnn.model, 'rows', cnn.statedShape),
      'e4.npz, array Y[1]: expected a class index 0..1 (the output layer has 2 units); found 2. Class indices start at 0: subtract 1 if yours count from 1.'],
    ['a NaN', () => loadNpzData(npz('e5.npz', { X: { shape: [1, 2], data: [1, NaN] }, Y: { shape: [1, 2], data: [0, 0] } }), flat(1).model, 'columns'),
      'e5.npz, tensor X[0][1]: expected a finite number; found NaN.'],
    ['another array', () => loadNpzData(npz('e6.npz', { X: { shape: [1, 2], data: [1, 2] }, Y: { shape: [1, 2], data: [0, 0] }, mask: { shape: [1], data: [1] } }), flat(1).model, 'columns'),
      'e6.npz, array mask: expected only the arrays X and Y; found an unexpected array "mask". Write the archive with np.savez("data.npz", X=X, Y=Y).'],
    ['no Y', () => loadNpzData(npz('e7.npz', { X: { shape: [1, 2], data: [1, 2] } }), flat(1).model, 'columns'),
      'e7.npz, array Y: expected the arrays X and Y; found none. Write the archive with np.savez("data.npz", X=X, Y=Y).'],
  ])('%s', (_what, f, expected) => {
    expect(message(f)).toBe(join(tmp, expected.split(',')[0]) + expected.slice(expected.indexOf(',')));
  });
});

describe('tensors of any rank', () => {
  it('a JSON conv weight (filters, C, kh, kw) as nested lists, row-major', () => {
    const W = [[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]];
    const t = jsonTensors({ W1: W }, 'p.json', 'params').get('W1')!;
    expect(t.shape).toEqual([1, 2, 2, 2]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a ragged level is named with its place', () => {
    expect(message(() => jsonTensors({ W1: [[[1, 2], [3]]] }, 'p.json', 'params'))).toBe(
      'p.json, tensor W1[0][1]: expected a list of 2 numbers, like the first at this level (shape (1, 2, 2)); found a list of 1.');
  });

  const conv = withInputs(specOf({ input: [2, 4, 4], layers: [{ type: 'conv2d', filters: 3, kernel: 3 }, { type: 'flatten' }, { units: 2, activation: 'linear' }], loss: 'mean_squared_error' }).model, 32);
  const Wc = Array.from({ length: 3 * 2 * 3 * 3 }, (_, i) => i / 10);
  const nestedW = Array.from({ length: 3 }, (_, f) => Array.from({ length: 2 }, (_, c) => Array.from({ length: 3 }, (_, u) => Wc.slice(((f * 2 + c) * 3 + u) * 3, ((f * 2 + c) * 3 + u) * 3 + 3))));
  const denseW = Array.from({ length: 2 }, () => new Array(12).fill(0.5));

  it.each(['columns', 'rows'] as const)('--params for a conv net in %s: W1 (filters, C, kh, kw) as 4-deep lists, b1 flat, read as they are', (layout) => {
    const W3 = layout === 'rows' ? Array.from({ length: 12 }, () => [0.5, 0.5]) : denseW;
    const raw = jsonTensors({ W1: nestedW, b1: [1, 2, 3], W3, b3: [0, 0] }, 'p.json', 'params');
    const [p1, , p3] = assembleTensors(raw, conv, 'p.json', 'params', 'file', { layout }).tensors;
    expect(p1.W.shape).toEqual([3, 2, 3, 3]);
    expect(Array.from(p1.W.data)).toEqual(Wc);
    expect(p1.b.shape).toEqual([3, 1]);
    expect(p3.W.shape).toEqual([2, 12]);
  });

  it('a conv W stored flat: its 4-D shape, and the reshape that gives it', () => {
    const raw = jsonTensors({ W1: Wc, b1: [1, 2, 3], W3: denseW, b3: [0, 0] }, 'p.json', 'params');
    expect(message(() => assembleTensors(raw, conv, 'p.json', 'params'))).toBe(
      'p.json, tensor W1: expected shape (3, 2, 3, 3); found shape (54,). Save it with its 4-D shape, e.g. W1.reshape(3, 2, 3, 3).');
  });

  it('a conv net\'s gradients from an .npz, 4-D dW1', () => {
    const file = npz('conv-grads.npz', { dW1: { shape: [3, 2, 3, 3], data: Wc }, db1: { shape: [3], data: [1, 2, 3] }, dW3: { shape: [2, 12], data: denseW.flat() }, db3: { shape: [2, 1], data: [0, 0] } });
    const grads = loadTensorFile(file, conv, 'grads').tensors;
    expect(grads[0].W.shape).toEqual([3, 2, 3, 3]);
    expect(grads[0].W.data[53]).toBe(5.3);
  });

  it('initialisation: a conv W by its fan-in C·kh·kw (xavier: N(0, 1/18) here)', () => {
    const wide = withInputs(specOf({ input: [2, 4, 4], layers: [{ type: 'conv2d', filters: 200, kernel: 3 }, { type: 'flatten' }, { units: 1, activation: 'linear' }], loss: 'mean_squared_error' }).model, 32);
    const W = initialise(wide)[0].W.data;
    const std = Math.sqrt(W.reduce((s, v) => s + v * v, 0) / W.length);
    // 3,600 draws: the sample std is within 5% of 1/√18 = 0.2357 with overwhelming probability (seed 1 gives it).
    expect(Math.abs(std / Math.sqrt(1 / 18) - 1)).toBeLessThan(0.05);
  });

  it('the exec payload writes a 4-D tensor as 4-deep lists', () => {
    const W = { shape: [1, 2, 2, 2], data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
    const payload = execPayload({ shape: [1, 1], data: Float64Array.of(0) }, { shape: [1, 1], data: Float64Array.of(0) }, [{ W }]);
    expect(payload.params.W1).toEqual([[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]]);
  });
});

describe('the command line', () => {
  const net = join(tmp, 'net.json');
  writeFileSync(net, JSON.stringify({ input: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }));
  const data = npz('cli.npz', { X: { shape: [2, 4], data: [0.1, -0.4, 0.3, 0.8, -0.2, 0.5, 0.9, -0.7] }, Y: { shape: [4], data: [1, 0, 1, 0] } });

  it('--data data.npz and a positional .npz check the same data', async () => {
    const flag = await runCli([net, '--data', data, '--format', 'json']);
    const positional = await runCli([net, data, '--format', 'json']);
    expect(flag.status).toBe(0);
    expect(flag.stdout).toBe(positional.stdout);
  });

  it('--target with an .npz: exit 2, its Y holds the targets', async () => {
    const r = await runCli([net, '--data', data, '--target', 'y']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`backprop-check: command line, --target: expected no --target with an .npz data set: its X holds the features and its Y the targets; found --target "y" with ${data}. Leave it out, or save only the columns you mean: np.savez("data.npz", X=X, Y=Y).`);
  });

  it('--data and a data argument together: exit 2, one paragraph', async () => {
    const r = await runCli([net, data, '--data', data]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`backprop-check: command line, --data: expected either --data or a <data.csv> argument: each names the data set; found both (--data "${data}" and "${data}").`);
  });
});
