// net.json's layer types (SPEC.md, "Beyond dense layers"): every kind's fields and defaults as
// Layers, the shapes that flow from "input" through the entries, the rules a schema cannot say
// (exact messages), the losses that now go with softmax, and MSE averaged over the outputs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parameterCount } from '../src/core/check/limits.js';
import { dense } from '../src/core/layers/dense.js';
import { UserError } from '../src/io/errors.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { dropoutSeed } from '../src/io/spec-layers.js';
import { run } from '../src/run.js';

const parse = (spec: unknown) => parseSpec(spec, 'net.json');
const loss = 'mean_squared_error';
/** The layers as plain data, each activation by its name. */
const layersOf = (spec: unknown) => parse(spec).model.layers.map((l) => ({ ...l, activation: l.activation.name }));

function message(spec: unknown): string {
  try {
    parse(spec);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('the spec was accepted');
}

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
