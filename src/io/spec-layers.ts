// net.json's layer entries → Layers (core/layers/kind.ts): each entry's type, its fields with their
// defaults (SPEC, "Beyond dense layers"), and the feature shapes that flow from "input" through the
// entries. The rules the schema cannot say are checked here, each as a UserError at the entry's
// JSON path: a window that is larger than its padded input or does not tile it, a conv or pooling
// layer on a flat input, a dense layer on an image, a flatten of what is flat already. Once the
// data says how many samples there are, the dropout entries get their masks (withMasks) and a batch
// norm over one value per statistic is refused (refuseOneValueStatistics).
import { customActivation, elu, leakyRelu, namedActivation, type Activation } from '../core/records/activations.js';
import { FormulaError } from '../core/formula/formula.js';
import { drawMask } from '../core/layers/dropout-mask.js';
import { inShapeOf, typeOf, type Layer, type LayerType } from '../core/layers/kind.js';
import type { Model } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import { windowOutput, type Window } from '../core/layers/shapes.js';
import { jsonPath, UserError } from './errors.js';

/** ε added to a normalisation's variance when the entry does not say: PyTorch's and Keras's default. */
export const DEFAULT_EPS = 1e-5;

type ActivationJson = string | { name?: string; alpha?: number; expr?: string };
type PairJson = number | [number, number];

/** One entry of "layers", valid against the schema (spec-schema.ts): only its type's fields are present. */
export interface EntryJson {
  type?: LayerType;
  units?: number;
  activation?: ActivationJson;
  bias?: boolean;
  filters?: number;
  kernel?: PairJson;
  stride?: PairJson;
  padding?: PairJson;
  size?: PairJson;
  eps?: number;
  keep?: number;
  seed?: number;
}

/** The layers, and each dropout entry's own "seed" (undefined: derived, see dropoutSeed). */
export interface BuiltLayers {
  layers: Layer[];
  seeds: (number | undefined)[];
}

/**
 * The seed of a dropout entry at 0-based position l that states none: the check's seed mixed with
 * the position, seed XOR ((l + 1)·0x9E3779B9) mod 2³² (the golden-ratio constant spreads nearby
 * positions far apart), so two dropout layers draw different masks and --seed changes them all.
 */
export function dropoutSeed(seed: number, l: number): number {
  return (seed ^ Math.imul(l + 1, 0x9e3779b9)) >>> 0;
}

const pair = (v: PairJson | undefined, fallback: readonly [number, number]): [number, number] =>
  v === undefined ? [fallback[0], fallback[1]] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const dims = (shape: readonly number[]) => shape.join(' × ');

/**
 * The entries as Layers. `input` is net.json's "input": n features, [C, H, W], or undefined (a flat
 * input whose size the data sets: withInputs). Softmax may only be the last entry's activation.
 */
export function buildLayers(entries: readonly EntryJson[], input: number | readonly number[] | undefined, topBias: boolean, file: string): BuiltLayers {
  let shape: readonly number[] = input === undefined ? [0] : typeof input === 'number' ? [input] : input.slice();
  const layers: Layer[] = [];
  const seeds: (number | undefined)[] = [];
  entries.forEach((entry, i) => {
    const at = (...rest: (string | number)[]) => jsonPath(['layers', i, ...rest]);
    const layer = buildLayer(entry, i, shape, input !== undefined, topBias, file, at);
    if (!layer.activation.diagonal && i !== entries.length - 1) {
      // Only the output may be other than element-wise (the row batches carry hidden layers unit by unit).
      throw new UserError(file, at('activation'), 'softmax only on the output layer', `softmax on hidden layer ${i + 1} of ${entries.length}`);
    }
    layers.push(layer);
    seeds.push(entry.type === 'dropout' ? entry.seed : undefined);
    shape = layer.outShape ?? [layer.units];
  });
  return { layers, seeds };
}

function buildLayer(entry: EntryJson, i: number, shape: readonly number[], inputKnown: boolean, topBias: boolean, file: string, at: (...rest: (string | number)[]) => string): Layer {
  const type = entry.type ?? 'dense';
  const flat = product(shape);
  const image = shape.length === 3;
  const activationAt = (a: ActivationJson | undefined) => (a === undefined ? namedActivation('linear')! : activationOf(a, file, at('activation')));
  const same = { units: flat, inputs: flat, inShape: shape, outShape: shape };
  switch (type) {
    case 'dense':
      if (image) {
        throw new UserError(file, at(), `a flat input for a dense layer (features, not an image)`, `an image of ${dims(shape)} (C × H × W) from ${i === 0 ? 'net.json\'s "input"' : `layer ${i}`}`,
          'Add { "type": "flatten" } before it: a dense layer after a flatten reads the C·H·W values in C, H, W order.');
      }
      // A dense entry is the Layer it has always been: no optional field.
      return { units: entry.units!, inputs: flat, activation: activationAt(entry.activation), bias: entry.bias ?? topBias };
    case 'conv2d': {
      const [C, H, W] = imageInput(shape, i, type, inputKnown, file, at);
      const win: Window = { kernel: pair(entry.kernel, [1, 1]), stride: pair(entry.stride, [1, 1]), padding: pair(entry.padding, [0, 0]) };
      const [Ho, Wo] = windowFits([H, W], win, 'kernel', true, file, at);
      const outShape = [entry.filters!, Ho, Wo];
      return {
        type, units: product(outShape), inputs: C * H * W, activation: activationAt(entry.activation), bias: entry.bias ?? topBias,
        inShape: shape, outShape, filters: entry.filters!, kernel: win.kernel, stride: win.stride, padding: win.padding,
      };
    }
    case 'maxpool2d':
    case 'avgpool2d': {
      const [C, H, W] = imageInput(shape, i, type, inputKnown, file, at);
      const kernel = pair(entry.size, [1, 1]);
      // A pooling window moves by its own size unless the entry says otherwise (PyTorch, Keras).
      const win: Window = { kernel, stride: pair(entry.stride, kernel), padding: [0, 0] };
      const [Ho, Wo] = windowFits([H, W], win, 'size', false, file, at);
      const outShape = [C, Ho, Wo];
      return { type, units: product(outShape), inputs: C * H * W, activation: namedActivation('linear')!, bias: false, inShape: shape, outShape, kernel: win.kernel, stride: win.stride, padding: win.padding };
    }
    case 'flatten':
      if (!image) {
        throw new UserError(file, at('type'), 'an image input to flatten ([C, H, W])', `a flat input of ${inputKnown || i > 0 ? `${flat} features` : 'features'}: there is nothing to flatten`,
          'Leave the flatten layer out: a dense layer takes flat features as they are.');
      }
      return { type, units: flat, inputs: flat, activation: namedActivation('linear')!, bias: false, inShape: shape, outShape: [flat] };
    case 'batchnorm':
    case 'layernorm':
      return { type, ...same, activation: namedActivation('linear')!, bias: false, eps: entry.eps ?? DEFAULT_EPS };
    case 'dropout':
      return { type, ...same, activation: namedActivation('linear')!, bias: false, keep: entry.keep! };
    case 'activation':
      return { type, ...same, activation: activationAt(entry.activation), bias: false };
  }
}

/** The [C, H, W] a conv or pooling entry reads, or why it has none. */
function imageInput(shape: readonly number[], i: number, type: LayerType, inputKnown: boolean, file: string, at: (...rest: (string | number)[]) => string): readonly number[] {
  if (shape.length === 3) return shape;
  const found = i === 0
    ? (inputKnown ? `a flat input of ${shape[0]} features ("input": ${shape[0]})` : 'a flat input (net.json has no "input", so the data\'s feature columns are flat features)')
    : `a flat input of ${shape[0]} features from layer ${i}`;
  throw new UserError(file, at('type'), `an image input [C, H, W] for ${type}`, found,
    i === 0 ? 'State the image\'s shape: "input": [C, H, W] (data.csv then holds C·H·W feature columns per row, in C, H, W order).'
      : `A ${type} layer reads channels of H × W: put it before the flatten and dense layers, not after.`);
}

/**
 * The output [H', W'] of a window over an H × W input, or a UserError: the window larger than the
 * padded input (at `field`), or windows that do not tile it, (n + 2p − k)/s not whole (at stride),
 * with the strides (and, for conv2d, the paddings) that would fit.
 */
function windowFits(input: readonly [number, number], win: Window, field: 'kernel' | 'size', padded: boolean, file: string, at: (...rest: (string | number)[]) => string): [number, number] {
  const [H, W] = input;
  const [kh, kw] = win.kernel, [sh, sw] = win.stride, [ph, pw] = win.padding;
  const what = field === 'kernel' ? 'kernel' : 'window';
  if (kh > H + 2 * ph || kw > W + 2 * pw) {
    const pad = ph > 0 || pw > 0 ? ` padded by ${ph === pw ? ph : `${ph}, ${pw}`}` : '';
    throw new UserError(file, at(field), `a ${what} of at most ${H + 2 * ph} × ${W + 2 * pw} (the ${H} × ${W} input${pad})`, `${kh} × ${kw}`,
      padded ? 'Use a smaller kernel, or pad the input ("padding").' : 'Use a smaller window.');
  }
  const [Ho, Wo] = windowOutput(H, W, win);
  if (Ho !== null && Wo !== null) return [Ho, Wo];
  const axis = (name: string, n: number, k: number, s: number, p: number) =>
    `(${n}${p > 0 ? ` + 2·${p}` : ''} − ${k}) / ${s} = ${formatRatio(n + 2 * p - k, s)} along the ${name}`;
  const bad = [Ho === null ? axis('height', H, kh, sh, ph) : null, Wo === null ? axis('width', W, kw, sw, pw) : null].filter(Boolean).join(' and ');
  throw new UserError(file, at('stride'),
    `a stride${padded ? ' and padding' : ''} with which the ${what}s tile the input: (size${padded ? ' + 2·padding' : ''} − ${what}) / stride a whole number on both axes`,
    bad, tilingHint(input, win, padded));
}

function formatRatio(num: number, den: number): string {
  return String(Math.round((num / den) * 1000) / 1000);
}

/** Which strides fit with this padding, and (conv2d) which paddings fit with this stride, with the output each gives. */
function tilingHint(input: readonly [number, number], win: Window, padded: boolean): string {
  const fits = (w: Window) => {
    const [a, b] = windowOutput(input[0], input[1], w);
    return a !== null && b !== null ? `${a} × ${b}` : null;
  };
  const strides: string[] = [];
  for (let s = 1; s <= Math.max(win.kernel[0], win.kernel[1], win.stride[0], win.stride[1]) && strides.length < 3; s++) {
    const out = fits({ ...win, stride: [s, s] });
    if (out) strides.push(`${s} (output ${out})`);
  }
  const paddings: string[] = [];
  if (padded) {
    for (let p = 0; p < Math.max(win.kernel[0], win.kernel[1]) && paddings.length < 2; p++) {
      const out = fits({ ...win, padding: [p, p] });
      if (out) paddings.push(`${p} (output ${out})`);
    }
  }
  const parts = [
    strides.length > 0 ? `stride ${strides.join(' or ')}${padded ? ` with padding ${win.padding[0] === win.padding[1] ? win.padding[0] : `[${win.padding.join(', ')}]`}` : ''}` : null,
    paddings.length > 0 ? `padding ${paddings.join(' or ')} with stride ${win.stride[0] === win.stride[1] ? win.stride[0] : `[${win.stride.join(', ')}]`}` : null,
  ].filter(Boolean);
  return parts.length > 0 ? `These fit: ${parts.join('; ')}.` : 'Crop or pad the input so that the windows tile it.';
}

/** An activation as net.json names it: a built-in name, { "name": "leaky_relu" | "elu", "alpha" } or { "expr": … }. */
export function activationOf(a: ActivationJson, file: string, place: string): Activation {
  if (typeof a === 'string') return namedActivation(a)!;
  if (a.expr !== undefined) {
    try {
      return customActivation(a.expr);
    } catch (err) {
      if (err instanceof FormulaError) throw new UserError(file, `${place}.expr`, 'an element-wise formula in z (mathjs syntax)', err.detail);
      throw err;
    }
  }
  if (a.name === 'leaky_relu') return leakyRelu(a.alpha ?? 0.01);
  return elu(a.alpha ?? 1);
}

/**
 * Every dropout entry's fixed mask, a units × samples block: the user's mask{l} from --params, else
 * drawn from the entry's "seed" or, without one, from dropoutSeed(the check's seed, l).
 */
export function withMasks(model: Model, seeds: readonly (number | null | undefined)[], seed: number, m: number, given: ReadonlyMap<number, Tensor>): Model {
  if (!model.layers.some((l) => typeOf(l) === 'dropout')) return model;
  const layers = model.layers.map((l, i): Layer => {
    if (typeOf(l) !== 'dropout') return l;
    return { ...l, mask: given.get(i) ?? drawMask(l.units, m, l.keep!, seeds[i] ?? dropoutSeed(seed, i)) };
  });
  return { ...model, layers };
}

/**
 * Batch norm's statistics over one value each (one sample, and a 1 × 1 image or flat features)
 * have variance 0: x̂ = 0 whatever x is, every gradient through the layer vanishes, and nothing
 * can be checked. Refused once the data says how many samples there are.
 */
export function refuseOneValueStatistics(model: Model, m: number, data: string): void {
  model.layers.forEach((l, i) => {
    if (typeOf(l) !== 'batchnorm') return;
    const shape = inShapeOf(l);
    const perStatistic = m * (shape.length === 3 ? shape[1] * shape[2] : 1);
    if (perStatistic > 1) return;
    throw new UserError(data, 'the rows', `at least 2 samples for the batch norm of layer ${i + 1} (its mean and variance are over the batch)`,
      `1 sample: the variance is 0, so the normalised values are all 0 and no gradient reaches the layers before it`, 'Check on a batch of several samples, as the code trains on.');
  });
}
