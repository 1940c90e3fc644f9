// net.json's layer types (SPEC.md, "Beyond dense layers"): every kind's fields and defaults as
// Layers, the shapes that flow from "input" through the entries, the rules a schema cannot say
// (exact messages), the losses that now go with softmax, and MSE averaged over the outputs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { message, parse } from './helpers/spec.js';
import { parameterCount } from '../src/core/check/limits.js';
import { dense } from '../src/core/layers/dense.js';
import { UserError } from '../src/io/errors.js';
import { withInputs } from '../src/io/spec.js';
import { dropoutSeed } from '../src/io/spec-layers.js';
import { load, run } from '../src/run.js';
import { drawMask } from '../src/core/layers/dropout-mask.js';

const loss = 'mean_squared_error';
/** The layers as plain data, each activation by its name. */
const layersOf = (spec: unknown) => parse(spec).model.layers.map((l) => ({ ...l, activation: l.activation.name }));

describe('every layer type, with its defaults', () => {
  it('a small CNN: conv2d (stride 1, activation linear unless given), maxpool2d (stride = size), flatten, dense', () => {
    expect(layersOf({
      input: [1, 12, 12],
      layers: [{ type: 'conv2d', filters: 4, kernel: 3, padding: 1, activation: 'relu' }, { type: 'maxpool2d', size: 2 }, { type: 'flatten' }, { units: 10, activation: 'softmax' }],
      loss: 'categorical_cross_entropy',
    })).toEqual([
      { type: 'conv2d', units: 4 * 12 * 12, inputs: 144, activation: 'relu', bias: true, inShape: [1, 12, 12], outShape: [4, 12, 12], filters: 4, kernel: [3, 3], stride: [1, 1], padding: [1, 1] },
      { type: 'maxpool2d', units: 4 * 6 * 6, inputs: 576, activation: 'linear', bias: false, inShape: [4, 12, 12], outShape: [4, 6, 6], kernel: [2, 2], stride: [2, 2], padding: [0, 0] },
      { type: 'flatten', units: 144, inputs: 144, activation: 'linear', bias: false, inShape: [4, 6, 6], outShape: [144] },
      // A dense entry is the Layer it always was, with no optional field.
      { units: 10, inputs: 144, activation: 'softmax', bias: true },
    ]);
  });

  it('conv2d with [h, w] pairs, a stride, no bias, and the default linear activation; avgpool2d with its own stride', () => {
    const [conv, pool] = layersOf({
      input: [3, 9, 8], bias: true,
      layers: [{ type: 'conv2d', filters: 2, kernel: [3, 2], stride: [2, 3], padding: [1, 0], bias: false }, { type: 'avgpool2d', size: [2, 1], stride: 1 }],
      loss,
    });
    // H' = (9 + 2 − 3)/2 + 1 = 5, W' = (8 − 2)/3 + 1 = 3; pooling 2 × 1 by 1: 4 × 3.
    expect(conv).toMatchObject({ units: 2 * 5 * 3, inputs: 3 * 9 * 8, activation: 'linear', bias: false, outShape: [2, 5, 3], kernel: [3, 2], stride: [2, 3], padding: [1, 0] });
    expect(pool).toMatchObject({ type: 'avgpool2d', units: 2 * 4 * 3, outShape: [2, 4, 3], kernel: [2, 1], stride: [1, 1] });
  });

  it('batchnorm and layernorm (eps 1e-5 unless given), dropout (keep), activation: each keeps its input\'s shape', () => {
    const layers = layersOf({
      input: 5,
      layers: [{ units: 4, activation: 'linear' }, { type: 'batchnorm' }, { type: 'activation', activation: 'tanh' }, { type: 'dropout', keep: 0.8, seed: 7 }, { type: 'layernorm', eps: 1e-3 }, { units: 1, activation: 'linear' }],
      loss,
    });
    const flat = { units: 4, inputs: 4, inShape: [4], outShape: [4], bias: false };
    expect(layers.slice(1, 5)).toEqual([
      { type: 'batchnorm', ...flat, activation: 'linear', eps: 1e-5 },
      { type: 'activation', ...flat, activation: 'tanh' },
      { type: 'dropout', ...flat, activation: 'linear', keep: 0.8 },
      { type: 'layernorm', ...flat, activation: 'linear', eps: 1e-3 },
    ]);
    expect(parse({ input: 5, layers: [{ type: 'dropout', keep: 0.8, seed: 7 }, { type: 'dropout', keep: 0.5 }, { units: 1, activation: 'linear' }], loss }).dropoutSeeds).toEqual([7, null, undefined]);
  });

  it('batch norm after a conv is per channel; "type": "dense" is the default spelled out', () => {
    const [, bn] = parse({ input: [2, 4, 4], layers: [{ type: 'conv2d', filters: 3, kernel: 3 }, { type: 'batchnorm' }, { type: 'flatten' }, { type: 'dense', units: 1, activation: 'linear' }], loss }).model.layers;
    expect(bn).toMatchObject({ inShape: [3, 2, 2], outShape: [3, 2, 2], units: 12 });
    expect(parameterCount(bn)).toBe(2 * 3);
    expect(layersOf({ input: 2, layers: [{ type: 'dense', units: 3, activation: 'relu' }], loss })).toEqual(layersOf({ input: 2, layers: [{ units: 3, activation: 'relu' }], loss }));
  });

  it('parameter counts by type: dense as its kind declares, conv2d filters·C·kh·kw + filters, norms γ and β, none for the rest', () => {
    const layers = parse({
      input: [2, 6, 6],
      layers: [{ type: 'conv2d', filters: 3, kernel: 3 }, { type: 'maxpool2d', size: 2 }, { type: 'flatten' }, { type: 'layernorm' }, { type: 'dropout', keep: 0.5 }, { units: 4, activation: 'relu' }],
      loss,
    }).model.layers;
    expect(layers.map(parameterCount)).toEqual([3 * 2 * 3 * 3 + 3, 0, 0, 2 * 12, 0, 4 * 12 + 4]);
    expect(parameterCount(layers[5])).toBe(dense.params(layers[5]).reduce((n, p) => n + p.shape[0] * p.shape[1], 0));
  });

  it('without "input", the data sets the size of the leading entries that keep their input\'s shape, and the first dense layer\'s fan-in', () => {
    const { model } = parse({ layers: [{ type: 'batchnorm' }, { type: 'dropout', keep: 0.9 }, { units: 2, activation: 'relu' }, { type: 'layernorm' }], loss });
    const sized = withInputs(model, 7).layers;
    expect(sized.map((l) => [l.units, l.inputs])).toEqual([[7, 7], [7, 7], [2, 7], [2, 2]]);
    expect(sized[0].inShape).toEqual([7]);
  });

  it('a dropout entry without a seed: the check\'s seed mixed with its position, different for each position and each seed', () => {
    expect(dropoutSeed(1, 0)).toBe((1 ^ 0x9e3779b9) >>> 0);
    const seeds = [0, 1, 2].flatMap((seed) => [0, 1, 2].map((l) => dropoutSeed(seed, l)));
    expect(new Set(seeds).size).toBe(9);
  });
});

describe('the rules a schema cannot say', () => {
  const image = (layers: unknown[], input: unknown = [1, 12, 12]) => ({ input, layers, loss });
  it.each([
    ['a kernel larger than the padded input', image([{ type: 'conv2d', filters: 4, kernel: 7, padding: 2 }], [1, 2, 9]),
      'net.json, layers[0].kernel: expected a kernel of at most 6 × 13 (the 2 × 9 input padded by 2); found 7 × 7. Use a smaller kernel, or pad the input ("padding").'],
    ['a pooling window larger than its input', image([{ type: 'maxpool2d', size: 3 }], [1, 2, 2]),
      'net.json, layers[0].size: expected a window of at most 2 × 2 (the 2 × 2 input); found 3 × 3. Use a smaller window.'],
    ['stride 0', image([{ type: 'conv2d', filters: 4, kernel: 3, stride: 0 }]),
      'net.json, layers[0].stride: expected a number ≥ 1; found 0. A window moves by at least 1 at each step.'],
    ['output sizes that are not whole: the strides and paddings that fit', image([{ type: 'conv2d', filters: 4, kernel: 4, stride: 3 }]),
      'net.json, layers[0].stride: expected a stride and padding with which the kernels tile the input: (size + 2·padding − kernel) / stride a whole number on both axes; found (12 − 4) / 3 = 2.667 along the height and (12 − 4) / 3 = 2.667 along the width. These fit: stride 1 (output 9 × 9) or 2 (output 5 × 5) or 4 (output 3 × 3) with padding 0; padding 2 (output 5 × 5) with stride 3.'],
    ['no padding fits that stride: only the strides are offered', image([{ type: 'conv2d', filters: 4, kernel: 3, stride: 2 }]),
      'net.json, layers[0].stride: expected a stride and padding with which the kernels tile the input: (size + 2·padding − kernel) / stride a whole number on both axes; found (12 − 3) / 2 = 4.5 along the height and (12 − 3) / 2 = 4.5 along the width. These fit: stride 1 (output 10 × 10) or 3 (output 4 × 4) with padding 0.'],
    ['pooling that does not tile one axis', image([{ type: 'avgpool2d', size: 2 }], [1, 4, 5]),
      'net.json, layers[0].stride: expected a stride with which the windows tile the input: (size − window) / stride a whole number on both axes; found (5 − 2) / 2 = 1.5 along the width. These fit: stride 1 (output 3 × 4).'],
    ['conv on a flat input', { input: 4, layers: [{ type: 'conv2d', filters: 2, kernel: 1 }], loss },
      'net.json, layers[0].type: expected an image input [C, H, W] for conv2d; found a flat input of 4 features ("input": 4). State the image\'s shape: "input": [C, H, W] (data.csv then holds C·H·W feature columns per row, in C, H, W order).'],
    ['pooling after a flatten', image([{ type: 'flatten' }, { type: 'maxpool2d', size: 2 }]),
      'net.json, layers[1].type: expected an image input [C, H, W] for maxpool2d; found a flat input of 144 features from layer 1. A maxpool2d layer reads channels of H × W: put it before the flatten and dense layers, not after.'],
    ['a dense layer directly after an image', image([{ type: 'conv2d', filters: 2, kernel: 3 }, { units: 3, activation: 'relu' }]),
      'net.json, layers[1]: expected a flat input for a dense layer (features, not an image); found an image of 2 × 10 × 10 (C × H × W) from layer 1. Add { "type": "flatten" } before it: a dense layer after a flatten reads the C·H·W values in C, H, W order.'],
    ['a flatten of flat features', { input: 3, layers: [{ type: 'flatten' }, { units: 1, activation: 'linear' }], loss },
      'net.json, layers[0].type: expected an image input to flatten ([C, H, W]); found a flat input of 3 features: there is nothing to flatten. Leave the flatten layer out: a dense layer takes flat features as they are.'],
    ['softmax on a hidden activation entry', { input: 3, layers: [{ type: 'activation', activation: 'softmax' }, { units: 1, activation: 'linear' }], loss },
      'net.json, layers[0].activation: expected softmax only on the output layer; found softmax on hidden layer 1 of 2.'],
    ['keep 0', { input: 3, layers: [{ type: 'dropout', keep: 0 }, { units: 1, activation: 'linear' }], loss },
      'net.json, layers[0].keep: expected a number > 0; found 0. "keep" is the probability of keeping a unit, in (0, 1]: PyTorch\'s and Keras\'s p or rate is the probability of dropping one, so keep = 1 − p.'],
    ['keep above 1', { input: 3, layers: [{ type: 'dropout', keep: 1.5 }, { units: 1, activation: 'linear' }], loss },
      'net.json, layers[0].keep: expected a number ≤ 1; found 1.5. "keep" is the probability of keeping a unit, in (0, 1]: PyTorch\'s and Keras\'s p or rate is the probability of dropping one, so keep = 1 − p.'],
    ['a field of another type', { input: 3, layers: [{ type: 'batchnorm', units: 3 }], loss },
      'net.json, layers[0].units: expected only the properties eps; found an unknown property "units".'],
    ['a conv2d without its kernel', image([{ type: 'conv2d', filters: 3 }]),
      'net.json, layers[0]: expected a property "kernel"; found none.'],
    ['a padding of three numbers', image([{ type: 'conv2d', filters: 3, kernel: 3, padding: [1, 1, 1] }]),
      'net.json, layers[0].padding: expected a whole number n, or [h, w]; found a list of 3.'],
    ['an input of two numbers', image([{ type: 'flatten' }], [12, 12]),
      'net.json, input: expected a number of features, or an image\'s [C, H, W]; found a list of 2.'],
    ['a conv2d too large to hold: named by its type and parameter count', image([{ type: 'conv2d', filters: 4000, kernel: 3 }, { type: 'conv2d', filters: 400, kernel: 3 }], [1, 12, 12]),
      'net.json, layers[1].filters: expected a network of at most 10,000,000 weights and biases (80 MB for each of the several copies a check holds); found 14,440,400 (layer 2: conv2d, 14,400,400 parameters, of 2 layers). Check a narrower network: the same code on layers of a few dozen units finds the same bugs.'],
    ['average over anything but the outputs', { input: 2, layers: [{ units: 2, activation: 'linear' }], loss: { name: 'mean_squared_error', average: 'samples' } },
      'net.json, loss.average: expected one of "outputs"; found "samples".'],
  ])('%s', (_what, spec, expected) => {
    expect(message(spec)).toBe(expected);
  });
});

describe('losses with any output activation', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bpc-spec-layers-'));
  // 3 features, 3 outputs in (0, 1): targets that every loss here takes.
  const rows = Array.from({ length: 12 }, (_, s) => [Math.sin(s + 1), Math.cos(2 * s), (s % 5) / 4 - 0.5, ((s * 7) % 10) / 10, ((s * 3) % 10) / 10, 0.5]);
  const data = join(tmp, 'data.csv');
  writeFileSync(data, rows.map((r) => r.join(',')).join('\n'));

  it.each([
    ['softmax with mean squared error', 'softmax', 'mean_squared_error'],
    ['softmax with binary cross-entropy', 'softmax', 'binary_cross_entropy'],
    ['softmax with a custom loss', 'softmax', { expr: '(a - y)^4' }],
    ['softmax with MSE averaged over the outputs', 'softmax', { name: 'mean_squared_error', average: 'outputs' }],
    ['a linear output with MSE averaged over the outputs', 'linear', { name: 'mean_squared_error', average: 'outputs' }],
  ])('%s: the correct backprop passes the check', async (_what, activation, spec) => {
    const net = join(tmp, `net-${_what.replace(/\W+/g, '-')}.json`);
    writeFileSync(net, JSON.stringify({ input: 3, layers: [{ units: 4, activation: 'tanh' }, { units: 3, activation }], loss: spec, init: { seed: 3 } }));
    const report = await run({ net, data });
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.param)).toEqual(['W1', 'b1', 'W2', 'b2']);
  });

  it('MSE averaged over the outputs is PyTorch\'s MSELoss(): (a − y)²/K per unit, gradient 2(a − y)/K, and says so', () => {
    const { model } = parse({ input: 2, layers: [{ units: 4, activation: 'linear' }], loss: { name: 'mean_squared_error', average: 'outputs' } });
    const l = model.loss;
    expect(l.value(1.5, 0.5)).toBe(0.25);
    expect(l.gradient(1.5, 0.5)).toBe(0.5);
    // (a + δ − y)² − (a − y)² with a − y = 1, δ = 1e-9: 2e-9 + 1e-18, over 4, without cancellation.
    expect(l.difference(1.5, 0.5, 1e-9)).toBe((1e-9 * (2 + 1e-9)) / 4);
    expect(l.title).toBe("Mean squared error averaged over the 4 outputs (PyTorch's MSELoss())");
    expect(l.gradientText).toBe('2 * (a - y) / 4');
    expect(l.canonicalActivation).toBeNull();
  });
});

describe('dropout masks and norm parameters, once the samples are known', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bpc-masks-'));
  const write = (name: string, value: unknown) => {
    const file = join(tmp, name);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };
  const net = write('net.json', { input: 3, layers: [{ units: 4, activation: 'linear' }, { type: 'batchnorm' }, { type: 'dropout', keep: 0.7 }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' });
  const data = write('data.csv', Array.from({ length: 6 }, (_, s) => [Math.sin(s), Math.cos(s), s / 6, s % 2].join(',')).join('\n'));
  const mask = [[1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 1, 1]];
  const loaded = load({ net, data });
  /** The loaded parameters as a --params JSON, with `extra` tensors. */
  const paramsFile = (name: string, extra: Record<string, unknown>) => write(name, {
    ...Object.fromEntries(loaded.params.flatMap((ps, l) => Object.entries(ps).map(([k, t]) => [`${k}${l + 1}`, Array.from({ length: t.shape[0] }, (_, r) => Array.from(t.data.subarray(r * t.shape[1], (r + 1) * t.shape[1])))]))),
    ...extra,
  });
  const refusal = (options: Parameters<typeof load>[0]) => {
    try {
      load(options);
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('without a mask of the user\'s: drawn from the check\'s seed and the position (units × samples, 0/1), another with --seed, the entry\'s own seed over both', () => {
    const drawn = loaded.model.layers[2].mask!;
    expect(drawn.shape).toEqual([4, 6]);
    expect(Array.from(drawn.data).every((v) => v === 0 || v === 1)).toBe(true);
    expect(drawn).toEqual(drawMask(4, 6, 0.7, dropoutSeed(1, 2)));
    expect(load({ net, data, seed: 5 }).model.layers[2].mask).toEqual(drawMask(4, 6, 0.7, dropoutSeed(5, 2)));
    const own = write('own.json', { ...JSON.parse(readFileSync(net, 'utf8')), layers: [{ units: 4, activation: 'linear' }, { type: 'dropout', keep: 0.5, seed: 9 }, { units: 1, activation: 'sigmoid' }] });
    expect(load({ net: own, data, seed: 5 }).model.layers[1].mask).toEqual(drawMask(4, 6, 0.5, 9));
  });

  it('γ ~ U[0.5, 1.5] and β ~ U[−0.5, 0.5], drawn, not 1 and 0', () => {
    const { gamma, beta } = loaded.params[1];
    expect(gamma.shape).toEqual([4, 1]);
    expect(Array.from(gamma.data).every((g) => g >= 0.5 && g <= 1.5 && g !== 1)).toBe(true);
    expect(Array.from(beta.data).every((b) => b >= -0.5 && b <= 0.5 && b !== 0)).toBe(true);
    expect(new Set(gamma.data).size).toBe(4);
  });

  it('the user\'s mask{l} from --params, (features, samples) in columns and (samples, features) in rows; a file without it keeps the drawn one', () => {
    expect(Array.from(load({ net, data, params: paramsFile('p.json', { mask3: mask }) }).model.layers[2].mask!.data)).toEqual(mask.flat());
    const rowsNet = write('net_rows.json', { ...JSON.parse(readFileSync(net, 'utf8')), layout: 'rows' });
    const rowsParams = write('p_rows.json', {
      ...Object.fromEntries(loaded.params.flatMap((ps, l) => Object.entries(ps).map(([k, t]) => [`${k}${l + 1}`, k === 'W' ? Array.from({ length: t.shape[1] }, (_, c) => Array.from({ length: t.shape[0] }, (_, r) => t.data[r * t.shape[1] + c])) : Array.from(t.data)]))),
      mask3: mask[0].map((_, s) => mask.map((row) => row[s])),
    });
    const rows = load({ net: rowsNet, data, params: rowsParams });
    expect(Array.from(rows.model.layers[2].mask!.data)).toEqual(mask.flat());
    expect(rows.params).toEqual(loaded.params);
    expect(load({ net, data, params: paramsFile('p_none.json', {}) }).model.layers[2].mask).toEqual(loaded.model.layers[2].mask);
  });

  it.each([
    ['a mask of the wrong shape', { mask3: [[1, 0, 1]] }, 'tensor mask3: expected a mask of shape (4, 6): (features, samples), the layer output\'s shape in the columns layout; found shape (1, 3).'],
    ['a mask already divided by keep', { mask3: mask.map((r) => r.map((v) => v / 0.7)) }, 'tensor mask3: expected a mask of 0s and 1s (which units are kept; the division by keep is the layer\'s); found 1.4285714285714286 at flat index 0. That is 1/keep: the layer divides by keep itself, so save the 0/1 mask before scaling (mask = (np.random.rand(…) < keep)).'],
    ['a mask of another value', { mask3: mask.map((r) => r.map((v) => v * 0.5)) }, 'tensor mask3: expected a mask of 0s and 1s (which units are kept; the division by keep is the layer\'s); found 0.5 at flat index 0.'],
    ['a mask for a layer that is not dropout', { mask2: mask }, 'tensor mask2: expected only the tensors W1, b1, gamma2, beta2, W4, b4; found an unexpected tensor "mask2". Only a dropout layer has a mask: layer 2 is not one.'],
  ])('%s: refused', (_what, extra, expected) => {
    const file = paramsFile(`${_what.replace(/\W+/g, '-')}.json`, extra);
    expect(refusal({ net, data, params: file })).toBe(`${file}, ${expected}`);
  });

  it.each(['columns', 'rows'])('after a conv, mask{l} is (samples, C, H, W) in %s too, read as C·H·W rows × samples', (layout) => {
    const cnn = write(`cnn-${layout}.json`, { input: [1, 3, 3], layout, layers: [{ type: 'conv2d', filters: 2, kernel: 2 }, { type: 'dropout', keep: 0.5 }, { type: 'flatten' }, { units: 1, activation: 'linear' }], loss: 'mean_squared_error' });
    const images = write('images.csv', Array.from({ length: 3 }, (_, s) => [...Array.from({ length: 9 }, (_, i) => Math.sin(s * 9 + i)), s].join(',')).join('\n'));
    const p = load({ net: cnn, data: images }).params;
    // Sample s, channel c, position (h, w) kept when (s + c + h + w) is even.
    const m4 = Array.from({ length: 3 }, (_, s) => Array.from({ length: 2 }, (_, c) => Array.from({ length: 2 }, (_, h) => Array.from({ length: 2 }, (_, w) => ((s + c + h + w) % 2 === 0 ? 1 : 0)))));
    const W3 = layout === 'rows' ? Array.from(p[3].W.data, (v) => [v]) : [Array.from(p[3].W.data)];
    const file = write(`cnn-p-${layout}.json`, { W1: [[[[0.1, 0.2], [0.3, 0.4]]], [[[0.5, 0.6], [0.7, 0.8]]]], b1: [0, 0], W4: W3, b4: [0] });
    const withMask = write(`cnn-pm-${layout}.json`, { ...JSON.parse(readFileSync(file, 'utf8')), mask2: m4 });
    const block = load({ net: cnn, data: images, params: withMask }).model.layers[1].mask!;
    expect(block.shape).toEqual([8, 3]);
    // Row (c·2 + h)·2 + w, column s.
    for (let r = 0; r < 8; r++) for (let s = 0; s < 3; s++) expect(block.data[r * 3 + s]).toBe((s + (r >> 2) + ((r >> 1) & 1) + (r & 1)) % 2 === 0 ? 1 : 0);
  });

  it('batch norm on one sample: refused once the data is read', () => {
    const one = write('one.csv', '0.1,0.2,0.3,1');
    expect(refusal({ net, data: one })).toBe(`${one}, the rows: expected at least 2 samples for the batch norm of layer 2 (its mean and variance are over the batch); found 1 sample: the variance is 0, so the normalised values are all 0 and no gradient reaches the layers before it. Check on a batch of several samples, as the code trains on.`);
  });
});
