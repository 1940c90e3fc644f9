// --data data.npz → a Dataset: the arrays X and Y as the user's code held them, read bit for bit
// (float64, or float32 widened exactly, by npy.ts, which also refuses NaN and ±Inf) with no rounding through text. They are stored in
// net.json's layout (tensors.ts): columns X (features, samples), Y (outputs, samples); rows X
// (samples, features), Y (samples, outputs); an image X is (samples, C, H, W) in both, and Y may be
// a flat (samples,) of labels for a one-label loss (a 0/1 label for one output, a class index for
// categorical cross-entropy). Inside, X and Y are features × samples blocks, as data.csv gives them.
import { extname } from 'node:path';
import type { Model } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import type { Dataset } from './data.js';
import { clip, UserError } from './errors.js';
import { readNpz } from './npz.js';
import { blockOfStored, storedBlockShape, type Layout } from './tensors.js';

/** Whether a data file is a NumPy archive (read here) rather than data.csv. */
export function isNpz(file: string): boolean {
  return extname(file).toLowerCase() === '.npz';
}

const shapeText = (s: readonly number[]) => `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** `statedShape` is net.json's image "input" [C, H, W]; `model.inputs` its flat "input" (0 when unstated). */
export function loadNpzData(file: string, model: Model, layout: Layout, statedShape?: readonly number[]): Dataset {
  const raw = readNpz(file, 'data');
  for (const name of raw.keys()) {
    if (name !== 'X' && name !== 'Y') {
      throw new UserError(file, `array ${clip(name)}`, 'only the arrays X and Y', `an unexpected array "${clip(name)}"`, 'Write the archive with np.savez("data.npz", X=X, Y=Y).');
    }
  }
  const x = raw.get('X'), y = raw.get('Y');
  if (!x || !y) throw new UserError(file, `array ${x ? 'Y' : 'X'}`, 'the arrays X and Y', 'none', 'Write the archive with np.savez("data.npz", X=X, Y=Y).');
  const K = model.layers[model.layers.length - 1].units;
  const image = statedShape !== undefined;
  const yFlat = y.shape.length === 1 && (K === 1 || model.loss.targets === 'one-hot');
  /** The shapes X and Y must have in a layout, the samples read from X where it can say them. */
  const wanted = (l: Layout) => {
    const rows = l === 'rows';
    const ySamples = yFlat || rows ? y.shape[0] : y.shape[1];
    const m = image ? (x.shape.length === 4 ? x.shape[0] : ySamples) : rows ? x.shape[0] : x.shape.length === 2 ? x.shape[1] : ySamples;
    const n = image ? statedShape.reduce((a, b) => a * b, 1) : model.inputs > 0 ? model.inputs : x.shape.length === 2 ? x.shape[rows ? 1 : 0] : 0;
    return { m, n, X: storedBlockShape(image ? statedShape : [n], m, l), Y: yFlat ? [m] : storedBlockShape([K], m, l) };
  };
  const want = wanted(layout);
  const { m, n } = want;
  const xFits = same(x.shape, want.X), yFits = same(y.shape, want.Y);
  if (!xFits || !yFits) {
    const other = wanted(layout === 'rows' ? 'columns' : 'rows');
    // Both arrays fit the other layout, and at least one is stored differently in it: the file's layout is the other one.
    // Said with the samples the other layout reads, which are the file's.
    const flip = (s: number[]) => (s.length === 2 ? [s[1], s[0]] : s);
    if (same(x.shape, other.X) && same(y.shape, other.Y)) refuseOtherLayout(file, layout, flip(other.X), flip(other.Y), x.shape, y.shape, xFits, yFits);
    refuseShape(file, layout, image, !xFits ? 'X' : 'Y', !xFits ? want.X : want.Y, !xFits ? x.shape : y.shape);
  }
  const X = blockOfStored(x.data, image ? statedShape : [n], m, layout);
  const Y = yFlat ? labels(y.data, K, model, file) : blockOfStored(y.data, [K], m, layout);
  if (!yFlat) refuseTargets(Y, model, file);
  return {
    X, Y,
    featureNames: Array.from({ length: n }, (_, i) => `x${i + 1}`),
    targetNames: Array.from({ length: K }, (_, i) => `y${i + 1}`),
  };
}

const how = (layout: Layout) => (layout === 'rows' ? '"layout": "rows" says: X (samples, features), Y (samples, outputs)' : 'the columns layout (net.json\'s default): X (features, samples), Y (outputs, samples)');

/** X and Y stored in the other layout: said once, naming both, with the "layout" line that fixes it. */
function refuseOtherLayout(file: string, layout: Layout, wantX: number[], wantY: number[], xs: readonly number[], ys: readonly number[], xFits: boolean, yFits: boolean): never {
  const line = layout === 'rows' ? 'Set "layout": "columns" in net.json (or leave "layout" out)' : 'Add "layout": "rows" to net.json';
  throw new UserError(file, '', `X ${shapeText(wantX)} and Y ${shapeText(wantY)}, as ${how(layout)}`, `X ${shapeText(xs)} and Y ${shapeText(ys)}, the other layout`,
    `${line}, or save ${[!xFits ? 'X.T' : null, !yFits ? 'Y.T' : null].filter(Boolean).join(' and ')}.`);
}

/** One array of the wrong shape. */
function refuseShape(file: string, layout: Layout, image: boolean, name: 'X' | 'Y', want: number[], found: readonly number[]): never {
  const note = name === 'X' && image ? ' (samples, C, H, W) for net.json\'s image "input", in either layout' : ` as ${how(layout)}`;
  throw new UserError(file, `array ${name}`, `shape ${shapeText(want)}${note}`, `shape ${shapeText(found)}`,
    name === 'Y' ? 'Y has a row or column per sample, as X does, and one per output unit (or is a flat array of labels: a 0/1 label for one output, a class index for categorical cross-entropy).' : undefined);
}

/** A flat array of labels: a 0/1 (or soft) label for one output, else a class index 0…K−1, one-hot. */
function labels(data: Float64Array, K: number, model: Model, file: string): Tensor {
  const m = data.length;
  const Y: Tensor = { shape: [K, m], data: new Float64Array(K * m) };
  for (let s = 0; s < m; s++) {
    const v = data[s];
    if (K === 1) {
      Y.data[s] = v;
      continue;
    }
    if (!Number.isInteger(v) || v < 0 || v >= K) {
      throw new UserError(file, `array Y[${s}]`, `a class index 0..${K - 1} (the output layer has ${K} units)`, String(v), v === K ? 'Class indices start at 0: subtract 1 if yours count from 1.' : undefined);
    }
    Y.data[v * m + s] = 1;
  }
  if (K === 1) refuseTargets(Y, model, file);
  return Y;
}

/** Targets a loss cannot take: labels outside [0, 1] for binary cross-entropy, one-hot values outside it. */
function refuseTargets(Y: Tensor, model: Model, file: string): void {
  const loss = model.loss;
  if (loss.targets === 'any') return;
  const bad = Y.data.findIndex((v) => v < 0 || v > 1);
  if (bad < 0) return;
  const [K, m] = Y.shape;
  const what = loss.targets === 'probability' ? 'a label 0 or 1 (or a soft label in [0, 1])' : 'a one-hot (or probability) target in [0, 1]';
  throw new UserError(file, `array Y, output ${Math.floor(bad / m) + 1} of ${K}, sample ${(bad % m) + 1}`, `${what} for ${loss.title.toLowerCase()}`, String(Y.data[bad]));
}
