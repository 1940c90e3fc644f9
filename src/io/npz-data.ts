// --data data.npz → a Dataset: the arrays X and Y as the user's code held them, read bit for bit
// (float64, or float32 widened exactly, by npy.ts) with no rounding through text. They are stored in
// net.json's layout (tensors.ts): columns X (features, samples), Y (outputs, samples); rows X
// (samples, features), Y (samples, outputs); an image X is (samples, C, H, W) in both, and Y may be
// a flat (samples,) of labels for a one-label loss (a 0/1 label for one output, a class index for
// categorical cross-entropy). Inside, X and Y are features × samples blocks, as data.csv gives them.
import { extname } from 'node:path';
import { transposed } from '../core/backprop.js';
import type { Model } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import type { Dataset } from './data.js';
import { clip, UserError } from './errors.js';
import { readNpz } from './npz.js';
import type { Layout } from './tensors.js';

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
  const rows = layout === 'rows';
  const image = statedShape !== undefined;
  // The samples: an image's first axis, else the axis the layout puts them on (of X, or of a flat Y when X cannot say).
  const m = image || rows ? x.shape[0] : x.shape.length === 2 ? x.shape[1] : y.shape[0];
  const n = image ? statedShape.reduce((a, b) => a * b, 1) : model.inputs > 0 ? model.inputs : x.shape.length === 2 ? x.shape[rows ? 1 : 0] : 0;
  const wantX = image ? [m, ...statedShape] : rows ? [m, n] : [n, m];
  const yFlat = y.shape.length === 1 && (K === 1 || model.loss.targets === 'one-hot');
  const wantY = yFlat ? [m] : rows ? [m, K] : [K, m];
  const xFits = same(x.shape, wantX), yFits = same(y.shape, wantY);
  if (!xFits || !yFits) refuseShapes(file, layout, image, x.shape, y.shape, wantX, wantY, xFits, yFits);
  for (const [name, t] of [['X', x], ['Y', y]] as const) {
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new UserError(file, `array ${name}`, 'finite numbers', `${t.data[bad]} at flat index ${bad}`);
  }
  // Images and rows hold the samples first: the block is their transpose.
  const X: Tensor = image || rows ? transposed({ shape: [m, n], data: x.data }) : { shape: [n, m], data: x.data };
  const Y = yFlat ? labels(y.data, K, model, file) : rows ? transposed({ shape: [m, K], data: y.data }) : { shape: [K, m], data: y.data };
  if (!yFlat) refuseTargets(Y, model, file);
  return {
    X, Y,
    featureNames: Array.from({ length: n }, (_, i) => `x${i + 1}`),
    targetNames: Array.from({ length: K }, (_, i) => `y${i + 1}`),
  };
}

/**
 * Arrays of the wrong shape, said once: both in the other layout (the "layout" line that fixes
 * it), or each array's expected and found shape.
 */
function refuseShapes(file: string, layout: Layout, image: boolean, xs: readonly number[], ys: readonly number[], wantX: number[], wantY: number[], xFits: boolean, yFits: boolean): never {
  const flip = (s: readonly number[]) => (s.length === 2 ? [s[1], s[0]] : s);
  const otherX = image ? xFits : same(xs, flip(wantX));
  const otherY = wantY.length === 1 ? yFits : same(ys, flip(wantY));
  const how = layout === 'rows' ? '"layout": "rows" says: X (samples, features), Y (samples, outputs)' : 'the columns layout (net.json\'s default): X (features, samples), Y (outputs, samples)';
  if (otherX && otherY && !(xFits && yFits)) {
    const line = layout === 'rows' ? 'Set "layout": "columns" in net.json (or leave "layout" out)' : 'Add "layout": "rows" to net.json';
    throw new UserError(file, '', `X ${shapeText(wantX)} and Y ${shapeText(wantY)}, as ${how}`,
      `X ${shapeText(xs)} and Y ${shapeText(ys)}, the other layout${image ? ' for Y' : ''}`, `${line}, or save ${[!xFits ? 'X.T' : null, !yFits ? 'Y.T' : null].filter(Boolean).join(' and ')}.`);
  }
  const name = !xFits ? 'X' : 'Y';
  const [want, found] = !xFits ? [wantX, xs] : [wantY, ys];
  const imageNote = name === 'X' && image ? ' (samples, C, H, W) for net.json\'s image "input", in either layout' : ` as ${how}`;
  throw new UserError(file, `array ${name}`, `shape ${shapeText(want)}${imageNote}`, `shape ${shapeText(found)}`,
    name === 'Y' ? 'The samples must agree with X\'s; one column of Y per output unit (or a flat array of labels for one output or a class index per sample).' : undefined);
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
