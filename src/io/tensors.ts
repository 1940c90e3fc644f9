// Parameter and gradient files → Params. Every reader (JSON here, .npz in npz.ts) produces raw
// tensors of any rank by name; `assemble` checks names and shapes against each entry's parameter
// list (layers/index.ts, entryParams) in one place, so a transposed W gets the same message
// whatever format it came in (a file, an --exec answer). Files are in net.json's layout (columns
// or rows, converted to columns here); a file written in the other one is told from its dense W's
// and refused once, and deeplearning.ai's other gradients (dA…, dZ…) in a grads dict are accepted
// and named, unchecked. A parameter file may also hold each dropout entry's mask{l}.
import { basename, extname } from 'node:path';
import { entryParams } from '../core/layers/index.js';
import { outShapeOf, typeOf, type Layer } from '../core/layers/kind.js';
import { transposed } from '../core/backprop.js';
import { size } from '../core/tensor.js';
import { paramLabel, type Model, type Params, type ParamRef } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import type { RegisteredFinding } from '../core/findings/registry.js';
import { clip, show, UserError } from './errors.js';
import { readNpy, readNpz } from './npz.js';
import type { RawTensor, RawTensors, TensorRole } from './raw-tensors.js';
import { parseJsonText } from './json.js';
import { readText } from './spec.js';

export type { RawTensor, RawTensors, TensorRole } from './raw-tensors.js';

/** Readers for other formats register here (npz.ts adds ".npz" and ".npy"). */
export const readers: Record<string, (file: string, role: TensorRole) => RawTensors> = {
  '.json': readJsonTensors,
  '.npz': readNpz,
  '.npy': readNpy,
};

export function loadTensors(file: string, model: Model, role: TensorRole): Params {
  return loadTensorFile(file, model, role).tensors;
}

/** loadTensors, also naming the extra gradients (dA…, dZ…) the file held. */
export function loadTensorFile(file: string, model: Model, role: TensorRole, source: TensorSource = 'file', context: AssemblyContext = {}): Assembled {
  const ext = extname(file).toLowerCase();
  const reader = readers[ext] ?? readers['.json'];
  return assembleTensors(reader(file, role), model, file, role, source, context);
}

function readJsonTensors(file: string, role: TensorRole): RawTensors {
  const what = role === 'params' ? 'a parameter file (JSON with W1, b1, …)' : 'a gradient file (JSON with dW1, db1, …)';
  const raw = parseJsonText(readText(file, what), file, what);
  return jsonTensors(raw, file, role);
}

/** Parsed JSON (a file's, or an --exec program's stdout) → named raw tensors. */
export function jsonTensors(raw: unknown, file: string, role: TensorRole): RawTensors {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(file, 'the top level', `an object of named tensors { "${role === 'params' ? 'W1' : 'dW1'}": [[…]], … }`, show(raw));
  }
  const out: RawTensors = new Map();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) out.set(name, jsonTensor(value, name, file));
  return out;
}

/** A JSON list of numbers (1-D), a list of equal-length lists of numbers (2-D), or deeper nested lists (n-D). */
function jsonTensor(value: unknown, name: string, file: string): RawTensor {
  const place = `tensor ${clip(name)}`;
  if (!Array.isArray(value)) throw new UserError(file, place, 'a list of numbers or a list of rows', show(value));
  if (value.length === 0) throw new UserError(file, place, 'a non-empty list', 'an empty list');
  if (!Array.isArray(value[0])) {
    const data = new Float64Array(value.length);
    value.forEach((v, i) => { data[i] = finite(v, file, `${place}[${i}]`); });
    return { shape: [value.length], data };
  }
  if ((value[0] as unknown[]).some((v) => Array.isArray(v))) return nestedTensor(value, place, file);
  const cols = (value[0] as unknown[]).length;
  const data = new Float64Array(value.length * cols);
  value.forEach((row, r) => {
    if (!Array.isArray(row)) throw new UserError(file, `${place}[${r}]`, `a row of ${cols} numbers`, show(row));
    if (row.length !== cols) throw new UserError(file, `${place}[${r}]`, `a row of ${cols} numbers, like row 0 (rows must all be the same length)`, `${row.length} number${row.length === 1 ? '' : 's'}`);
    row.forEach((v, c) => { data[r * cols + c] = finite(v, file, `${place}[${r}][${c}]`); });
  });
  return { shape: [value.length, cols], data };
}

/**
 * Nested lists of three or more levels (a conv2d W is (filters, C, kh, kw)), row-major: the shape
 * is read down the first elements, and every list must be as long as the first at its level.
 */
function nestedTensor(value: unknown[], place: string, file: string): RawTensor {
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) {
    if (v.length === 0) throw new UserError(file, place, 'non-empty lists at every level', 'an empty list');
    shape.push(v.length);
  }
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let at = 0;
  const walk = (v: unknown, level: number, where: string) => {
    if (level === shape.length) {
      data[at++] = finite(v, file, where);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[level]) {
      throw new UserError(file, where, `a list of ${shape[level]} ${level + 1 === shape.length ? 'numbers' : 'lists'}, like the first at this level (shape (${shape.join(', ')}))`, Array.isArray(v) ? `a list of ${v.length}` : show(v));
    }
    v.forEach((x, i) => walk(x, level + 1, `${where}[${i}]`));
  };
  walk(value, 0, place);
  return { shape, data };
}

function finite(v: unknown, file: string, place: string): number {
  if (typeof v !== 'number') throw new UserError(file, place, 'a number', show(v));
  if (!Number.isFinite(v)) throw new UserError(file, place, 'a finite number', String(v));
  return v;
}

/** Where a set of tensors came from, for the fix a message offers: a file, an --exec program's stdout, a library function. */
export type TensorSource = 'file' | 'exec' | 'function';

/**
 * How files store tensors (net.json's "layout"): 'columns', deeplearning.ai's X (features, samples),
 * W (units, inputs), b (units, 1); or 'rows', PyTorch's and Keras's X (samples, features), W
 * (inputs, units), b (units,). Inside, everything is columns: io/ converts at the edge.
 */
export type Layout = 'columns' | 'rows';

/**
 * How a layout stores a features × samples block (the data's X and Y, a dropout mask, the exec
 * payload's X and Y): (features, samples) in columns, (samples, features) in rows, and (samples, C,
 * H, W) for an image in both — every stored form but the first holds the samples first.
 */
export function storedBlockShape(features: readonly number[], m: number, layout: Layout): number[] {
  if (features.length === 3) return [m, ...features];
  const n = size(features);
  return layout === 'rows' ? [m, n] : [n, m];
}

/** The features × samples block of values stored as storedBlockShape says. */
export function blockOfStored(data: Float64Array, features: readonly number[], m: number, layout: Layout): Tensor {
  const n = size(features);
  if (features.length !== 3 && layout === 'columns') return { shape: [n, m], data };
  return transposed({ shape: [m, n], data });
}

/** A features × samples block as its layout stores it (storedBlockShape). */
export function storedOfBlock(block: Tensor, features: readonly number[], layout: Layout): Tensor {
  if (features.length !== 3 && layout === 'columns') return block;
  return { shape: storedBlockShape(features, block.shape[1], layout), data: transposed(block).data };
}

/** Tensors built from a file or an answer, and the names in it that were accepted without being checked. */
export interface Assembled {
  tensors: Params;
  /** deeplearning.ai's other gradients (dA0 … dAL, dZ1 … dZL), which a grads dict keeps beside dW and db. */
  ignored: string[];
  /** A parameter file's dropout masks mask{l}, by 0-based layer, as units × samples blocks (given `samples`). */
  masks: Map<number, Tensor>;
}

/** What an assembly needs beyond the model: the layout the tensors are in, and the samples a mask spans. */
export interface AssemblyContext {
  layout?: Layout;
  samples?: number;
}

/** Checks names and shapes against the model and builds Params (or Grads). */
export function assemble(raw: RawTensors, model: Model, file: string, role: TensorRole, source: TensorSource = 'file', context: AssemblyContext = {}): Params {
  return assembleTensors(raw, model, file, role, source, context).tensors;
}

/** assemble, also saying which extra gradients (dA…, dZ…) it accepted and left unchecked, and reading the masks. */
export function assembleTensors(raw: RawTensors, model: Model, file: string, role: TensorRole, source: TensorSource = 'file', context: AssemblyContext = {}): Assembled {
  const layout = context.layout ?? 'columns';
  const prefix = role === 'grads' ? 'd' : '';
  const expected = expectedShapes(model, prefix);
  const ignored: string[] = [];
  const maskNames = new Map<string, number>();
  for (const name of raw.keys()) {
    if (expected.has(name)) continue;
    if (role === 'grads' && intermediateGradient(name, model.layers.length)) {
      ignored.push(name);
      continue;
    }
    const mask = /^mask([1-9]\d*)$/.exec(name);
    const maskLayer = mask ? Number(mask[1]) - 1 : -1;
    if (role === 'params' && maskLayer >= 0 && model.layers[maskLayer]?.type === 'dropout') {
      maskNames.set(name, maskLayer);
      continue;
    }
    const bare = name.replace(/^d/, '');
    const hint =
      role === 'grads' && expected.has(`d${name}`) ? `Gradient names start with "d": call it "d${name}".`
      : role === 'params' && expected.has(bare) && name !== bare ? `Parameter names have no "d": call it "${bare}" (or pass this file as --grads).`
      : /^d?b\d+$/.test(name) && !model.layers[Number(name.replace(/^d?b/, '')) - 1]?.bias ? 'That layer has no bias ("bias": false in net.json).'
      : role === 'grads' && /^d[AZ]\d+$/.test(name) ? intermediateHint(name, model.layers.length)
      : mask ? (role === 'grads' ? 'A dropout mask is not a parameter: give it as mask{l} in --params, not in the gradients.' : `Only a dropout layer has a mask: layer ${mask[1]} is not one.`)
      : undefined;
    throw new UserError(file, `tensor ${clip(name)}`, `only the tensors ${[...expected.keys()].join(', ')}`, `an unexpected tensor "${clip(name)}"`, hint);
  }
  refuseOtherLayout(raw, model, file, prefix, source, layout);
  const tensors: Record<string, Tensor>[] = model.layers.map(() => ({}));
  // Every layer's first parameter, then every layer's second (W1 … WL, then b1 … bL): the order in
  // which a file's mistakes have always been reported.
  const byPosition = [...expected.entries()].map(([name, e], k) => ({ name, ...e, k })).sort((x, y) => x.position - y.position || x.k - y.k);
  for (const { name, ref, shape, dense } of byPosition) {
    const t = raw.get(name);
    const stored = dense && layout === 'rows' ? rowsShape(ref.name, shape) : shape;
    if (!t) throw new UserError(file, `tensor ${name}`, `a tensor ${name} of shape ${shapeText(stored)}`, 'none');
    tensors[ref.layer][ref.name] =
      !dense ? shapedAny(t, name, shape, file)
      : layout === 'rows' ? shapedRows(t, name, ref.name, shape, file)
      : shaped(t, name, shape[0], shape[1], file);
  }
  const masks = new Map<number, Tensor>();
  for (const [name, l] of maskNames) masks.set(l, maskOf(raw.get(name)!, name, model.layers[l], context.samples, layout, file));
  return { tensors, ignored, masks };
}

/** "(3, 4)", "(4,)". */
const shapeText = (s: readonly number[]) => `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;

/** A dense tensor's shape in the rows layout: W (inputs, units), b (units,). */
const rowsShape = (name: string, shape: readonly number[]) => (name === 'W' ? [shape[1], shape[0]] : [shape[0]]);

/** What a file must hold, by its name in the file: W1 → (units₁, inputs), b1 → (units₁, 1), … in
 *  layer order (with "d" for gradients), each with its parameter, its place in the layer's list and
 *  whether it is a dense layer's W or b (the tensors a layout transposes). */
function expectedShapes(model: Model, prefix: string): Map<string, { ref: ParamRef; shape: number[]; position: number; dense: boolean }> {
  const expected = new Map<string, { ref: ParamRef; shape: number[]; position: number; dense: boolean }>();
  model.layers.forEach((layer, l) => {
    const dense = typeOf(layer) === 'dense';
    entryParams(layer).forEach(({ name, shape }, position) => {
      const ref = { layer: l, name };
      expected.set(prefix + paramLabel(ref), { ref, shape, position, dense });
    });
  });
  return expected;
}

/**
 * A tensor of a kind other than dense (a conv2d W (filters, C, kh, kw), γ, β), stored in its shape
 * in both layouts; a (n, 1) column may also be a flat (n,) list, as PyTorch keeps biases, γ and β.
 */
function shapedAny(t: RawTensor, name: string, shape: readonly number[], file: string): Tensor {
  const s = t.shape;
  const same = s.length === shape.length && s.every((d, i) => d === shape[i]);
  const flatColumn = shape.length === 2 && shape[1] === 1 && s.length === 1 && s[0] === shape[0];
  if (same || flatColumn) return { shape: shape.slice(), data: t.data };
  const hint = s.length === 1 && s[0] === size(shape) && shape.length > 2 ? `Save it with its ${shape.length}-D shape, e.g. ${name}.reshape(${shape.join(', ')}).` : undefined;
  throw new UserError(file, `tensor ${name}`, `shape ${shapeText(shape)}${shape.length === 2 && shape[1] === 1 ? ` or (${shape[0]},)` : ''}`, `shape ${shapeText(s)}`, hint);
}

/** A dense W or b in the rows layout, W (inputs, units) and b (units,) (or (1, units), a row as X @ W + b broadcasts it), as columns. */
function shapedRows(t: RawTensor, name: string, param: string, shape: readonly number[], file: string): Tensor {
  const [units, inputs] = shape;
  const s = t.shape;
  if (param === 'W') {
    if (s.length === 2 && s[0] === inputs && s[1] === units) return transposed({ shape: [inputs, units], data: t.data });
    const hint = s.length === 2 && s[0] === units && s[1] === inputs ? `That is the columns layout's (units, inputs): save ${name}.T, or set "layout": "columns" in net.json.` : undefined;
    throw new UserError(file, `tensor ${name}`, `shape (${inputs}, ${units}), (inputs, units) as "layout": "rows" says`, `shape ${shapeText(s)}`, hint);
  }
  if ((s.length === 1 && s[0] === units) || (s.length === 2 && s[0] === 1 && s[1] === units) || (s.length === 2 && s[0] === units && s[1] === 1)) {
    return { shape: [units, 1], data: t.data };
  }
  throw new UserError(file, `tensor ${name}`, `shape (${units},) as "layout": "rows" says (or (1, ${units}))`, `shape ${shapeText(s)}`);
}

/**
 * A dropout entry's mask{l} as a units × samples block of 0s and 1s: stored (features, samples) in
 * the columns layout, (samples, features) in rows, and (samples, C, H, W) for an image in both.
 */
function maskOf(t: RawTensor, name: string, layer: Layer, samples: number | undefined, layout: Layout, file: string): Tensor {
  const out = outShapeOf(layer);
  const m = samples ?? 0;
  const image = out.length === 3;
  const want = storedBlockShape(out, m, layout);
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    const how = image ? '(samples, C, H, W), the layer output\'s shape' : layout === 'rows' ? '(samples, features) as "layout": "rows" says' : '(features, samples), the layer output\'s shape in the columns layout';
    const flipped = !image && t.shape.length === 2 && t.shape[0] === want[1] && t.shape[1] === want[0];
    const other = layout === 'rows' ? 'the columns layout\'s (features, samples): save it transposed, or set "layout": "columns" in net.json' : 'the rows layout\'s (samples, features): save it transposed, or add "layout": "rows" to net.json';
    throw new UserError(file, `tensor ${name}`, `a mask of shape ${shapeText(want)}: ${how}`, `shape ${shapeText(t.shape)}`, flipped ? `That is ${other}.` : undefined);
  }
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (v !== 0 && v !== 1) {
      throw new UserError(file, `tensor ${name}`, 'a mask of 0s and 1s (which units are kept; the division by keep is the layer\'s)', `${v} at flat index ${i}`,
        Math.abs(v * layer.keep! - 1) < 1e-9 ? `That is 1/keep: the layer divides by keep itself, so save the 0/1 mask before scaling (mask = (np.random.rand(…) < keep)).` : undefined);
    }
  }
  return blockOfStored(t.data, out, m, layout);
}

/**
 * The other gradients a deeplearning.ai grads dict holds: dA_l for l = 0 … L (A0 is X, A_L the
 * output) and dZ_l for l = 1 … L. They are not parameters' gradients, so they are not checked.
 */
function intermediateGradient(name: string, layers: number): boolean {
  const m = /^d([AZ])(0|[1-9]\d*)$/.exec(name);
  if (!m) return false;
  const l = Number(m[2]);
  return l <= layers && (m[1] === 'A' || l >= 1);
}

function intermediateHint(name: string, layers: number): string {
  const kind = name[1];
  const l = name.slice(2);
  return `${name} would be the gradient of ${kind}${l}, which a ${layers}-layer net does not have: ` +
    `beside dW1 … dW${layers} and db1 … db${layers}, only dA0 … dA${layers} and dZ1 … dZ${layers} are accepted (and not checked).`;
}

/** How a stored tensor's shape relates to the expected (rows, cols): 1×1 and vectors stored flat read the same either way. */
type Fit = 'fits' | 'square' | 'transposed' | 'either' | 'other';

function fit(t: RawTensor | undefined, rows: number, cols: number): Fit {
  if (!t) return 'other';
  const s = t.shape;
  if (rows === 1 && cols === 1) return s.length === 2 && s[0] === 1 && s[1] === 1 ? 'either' : s.length === 1 && s[0] === 1 ? 'either' : 'other';
  if (s.length === 1) return cols === 1 && s[0] === rows ? 'fits' : 'other';
  if (s.length !== 2) return 'other';
  if (s[0] === rows && s[1] === cols) return rows === cols ? 'square' : 'fits';
  if (s[0] === cols && s[1] === rows) return 'transposed';
  return 'other';
}

/**
 * Decides the layout of the file as a whole, from its dense weight matrices. When every non-square
 * W is stored the other way round from the layout net.json says — as (inputs, units), Keras's
 * kernels and X @ W code, in the columns layout; as (units, inputs), deeplearning.ai's, in rows —
 * the file was written in the other layout, and its square W's (which fit either way) are
 * transposed too: they would be read silently wrong. That is refused once, naming every W, with the
 * "layout" line that fixes it. A file that mixes the layouts in two or more W's is refused once,
 * saying which. One transposed W among right ones, or in a one-layer net, keeps the message about
 * that tensor (shaped); a file whose W's are all square cannot be decided from shapes.
 */
function refuseOtherLayout(raw: RawTensors, model: Model, file: string, prefix: string, source: TensorSource, layout: Layout): void {
  const rowsLayout = layout === 'rows';
  const Ws = model.layers.flatMap((layer, l) => {
    if (typeOf(layer) !== 'dense') return [];
    const name = prefix + paramLabel({ layer: l, name: 'W' });
    const t = raw.get(name);
    const [rows, cols] = rowsLayout ? [layer.inputs, layer.units] : [layer.units, layer.inputs];
    return [{ name, rows, cols, shape: t?.shape ?? [], fit: fit(t, rows, cols) }];
  });
  // A missing or misshapen W is its own mistake: the messages about single tensors say it.
  if (Ws.some((w) => w.fit === 'other')) return;
  const transposed = Ws.filter((w) => w.fit === 'transposed');
  const right = Ws.filter((w) => w.fit === 'fits');
  const square = Ws.filter((w) => w.fit === 'square');
  if (transposed.length === 0) return;
  const shape = (s: readonly number[]) => `(${s.join(', ')})`;
  const names = (ws: { name: string }[]) => listed(ws.map((w) => w.name));
  const [ours, theirs] = rowsLayout ? ['(inputs, units)', '(units, inputs)'] : ['(units, inputs)', '(inputs, units)'];
  const squareNote = square.length === 0 ? '' : `; ${square.map((w) => `${w.name} ${shape(w.shape)}`).join(', ')} ${square.length === 1 ? 'is' : 'are'} square, so ${square.length === 1 ? 'its shape cannot tell' : 'their shapes cannot tell'} which way ${square.length === 1 ? 'it is' : 'they are'} stored`;
  if (right.length === 0 && transposed.length + square.length >= 2) {
    const listedWs = Ws.map((w) => `${w.name} ${shape([w.rows, w.cols])}`).join(', ');
    const stored = `${transposed.map((w) => `${w.name} ${shape(w.shape)}`).join(', ')}, ` +
      `${transposed.length === 1 ? 'its transpose' : 'their transposes'}${squareNote}${square.length > 0 ? ' (in a file written this way, transposed too)' : ''}`;
    if (rowsLayout) {
      throw new UserError(file, '', `weights stored as (inputs, units), as "layout": "rows" says (PyTorch, Keras and X @ W code): ${listedWs}`,
        `the (units, inputs) layout of deeplearning.ai code throughout: ${stored}`,
        'Set "layout": "columns" in net.json (or leave "layout" out: columns is the default), or store every W transposed.');
    }
    const biasRows = model.layers.flatMap((layer, l) => {
      const name = prefix + paramLabel({ layer: l, name: 'b' });
      return typeOf(layer) === 'dense' && layer.bias && layer.units > 1 && fit(raw.get(name), layer.units, 1) === 'transposed' ? [name] : [];
    });
    throw new UserError(file, '', `weights stored as (units, inputs), as in deeplearning.ai code: ${listedWs}`,
      `the (inputs, units) layout of Keras and X @ W code throughout: ${stored}`,
      `Add "layout": "rows" to net.json, or ${uncapitalised(layoutFix(model, file, prefix, source, biasRows, square.length > 0))}`);
  }
  if (transposed.length >= 2) {
    throw new UserError(file, '',
      `every weight matrix stored the same way, as ${ours}: ${Ws.map((w) => `${w.name} ${shape([w.rows, w.cols])}`).join(', ')}`,
      `a mixture: ${listed(transposed.map((w) => `${w.name} ${shape(w.shape)}`))} are stored transposed, as ${theirs}, while ${names(right)} ${right.length === 1 ? 'is' : 'are'} ${ours}${squareNote}`,
      `Store ${names(transposed)} as ${ours} too: save ${listed(transposed.map((w) => `${w.name}.T`))}.`);
  }
}

const uncapitalised = (text: string) => text[0].toLowerCase() + text.slice(1);

/** "Save every W transposed", as code for where the tensors came from. */
function layoutFix(model: Model, file: string, prefix: string, source: TensorSource, biasRows: string[], anySquare: boolean): string {
  const W = `${prefix}W`;
  const dict = prefix === 'd' ? 'grads' : 'params';
  const every = `Store every ${W} transposed${anySquare ? ', the square ones too' : ''}${biasRows.length > 0 ? `, and ${listed(biasRows)} as columns` : ''}`;
  // Transposing everything also turns row biases into columns; a flat bias is unchanged by .T.
  const comprehension = biasRows.length > 0 ? `{k: v.T.tolist() for k, v in ${dict}.items()}` : `{k: (v.T if k.startswith("${W}") else v).tolist() for k, v in ${dict}.items()}`;
  if (source === 'exec') return `${every}: print(json.dumps(${comprehension})).`;
  if (source === 'function') return `${every} (${W}.T).`;
  if (extname(file).toLowerCase() === '.npz') {
    const args = model.layers.flatMap((layer, l) => {
      if (typeOf(layer) !== 'dense') return [];
      const w = prefix + paramLabel({ layer: l, name: 'W' }), b = prefix + paramLabel({ layer: l, name: 'b' });
      return [`${w}=${w}.T`, ...(layer.bias ? [biasRows.includes(b) ? `${b}=${b}.T` : `${b}=${b}`] : [])];
    });
    return `${every}: np.savez("${basename(file)}", ${args.join(', ')}).`;
  }
  return `${every}: json.dump(${comprehension}, f).`;
}

/** "W1", "W1 and W3", "W1, W2 and W3". */
function listed(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A dense layer's 2-D tensor of shape (rows, cols), from a stored tensor of any rank. */
function shaped(t: RawTensor, name: string, rows: number, cols: number, file: string): Tensor {
  const s = t.shape;
  const place = `tensor ${name}`;
  if (s.length === 0) {
    throw new UserError(file, place, 'a 1-D or 2-D array', 'a 0-D array (a single number)', 'Save the tensor with its full shape, e.g. np.array([[x]]) for a (1, 1) one.');
  }
  if (s.length > 2) {
    throw new UserError(file, place, 'a 1-D or 2-D array', `a ${s.length}-D array of shape (${s.join(', ')})`,
      'Weights are (units, inputs) matrices and biases (units, 1) columns.');
  }
  const found = `shape (${s.join(', ')}${s.length === 1 ? ',' : ''})`;
  // A bias may be a flat list of units numbers, or (units, 1).
  if (cols === 1 && s.length === 1 && s[0] === rows) return { shape: [rows, cols], data: t.data };
  if (s.length === 2 && s[0] === rows && s[1] === cols) return { shape: [rows, cols], data: t.data };
  if (s.length === 2 && s[0] === cols && s[1] === rows && rows !== cols) {
    const isBias = cols === 1;
    throw new UserError(file, `tensor ${name}`, `shape (${rows}, ${cols})`, `${found}, its transpose`,
      isBias ? `Store ${name} as a column (units, 1), or a flat list.` : `Store ${name} as (units, inputs), as in deeplearning.ai code: save ${name}.T.`);
  }
  if (s.length === 1 && cols !== 1 && s[0] === rows * cols) {
    throw new UserError(file, `tensor ${name}`, `shape (${rows}, ${cols})`, `a flat ${found}`, `Save it as a 2-D array of ${rows} rows.`);
  }
  throw new UserError(file, `tensor ${name}`, `shape (${rows}, ${cols})`, found);
}

/** An error finding: read transposed, the square weights and gradients of these files agree (they are in the other layout). */
export function otherLayoutFinding(params: string, grads: string, layers: number, layout: Layout = 'columns'): RegisteredFinding {
  const Ws = Array.from({ length: layers }, (_, layer) => paramLabel({ layer, name: 'W' }));
  const other = layout === 'rows' ? '(units, inputs), the layout of deeplearning.ai code' : '(inputs, units), the layout of Keras and X @ W code';
  const line = layout === 'rows' ? 'set "layout": "columns" in net.json (or leave "layout" out)' : 'add "layout": "rows" to net.json';
  return {
    code: 'other-layout',
    severity: 'error',
    message: `Every W is square, so the shapes of ${params} and ${grads} cannot tell how they are stored. Read as ${other}, ` +
      `with ${listed([...Ws, ...Ws.map((w) => `d${w}`)])} transposed, every tensor passes: the files use that layout, and the failures above come from reading them transposed.`,
    fix: `Store every W and dW transposed: np.savez(path, ${Ws.map((w) => `${w}=${w}.T`).join(', ')}, …), or in JSON {k: (v.T if k.startswith(("W", "dW")) else v).tolist() for k, v in d.items()}; or ${line}.`,
    evidence: { tensors: [...Ws, ...Ws.map((w) => `d${w}`)].join(', ') },
  };
}

/** An info finding: `where` held these other gradients, accepted and not checked. */
export function extraGradientsFinding(ignored: string[], where: string): RegisteredFinding {
  const names = ignored.join(', ');
  return {
    code: 'extra-gradients',
    severity: 'info',
    message: `${where} also holds ${names}: gradients of activations or pre-activations (as a deeplearning.ai grads dict keeps them), not of parameters. ${ignored.length === 1 ? 'It was' : 'They were'} accepted and not checked.`,
    fix: 'Nothing to fix. To leave them out, keep only dW and db: {k: v for k, v in grads.items() if k.startswith(("dW", "db"))}.',
    evidence: { tensors: names },
  };
}
