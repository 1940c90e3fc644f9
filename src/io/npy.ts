// The NumPy .npy format (numpy.lib.format, versions 1.0, 2.0 and 3.0) → a Tensor of any rank. The
// header is a Python dict literal, parsed here by a small recursive-descent reader that knows strings,
// numbers, True/False/None, tuples, lists and dicts — nothing is evaluated and nothing is unpickled: an
// object array ('O', which np.save pickles) is refused before its bytes are looked at.
//
// Layout: "\x93NUMPY", major and minor version bytes, the header length (uint16 LE in 1.0,
// uint32 LE in 2.0/3.0), the header (latin-1 in 1.0/2.0, UTF-8 in 3.0), then the raw data:
// product(shape) items in C order, or in Fortran order when fortran_order is True.
import { indexOf, type Tensor } from '../core/tensor.js';
import { clip, UserError } from './errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Where a tensor came from, for error messages: the file and "tensor W1" (or "" for a lone .npy). */
export interface NpySource {
  file: string;
  place: string;
}

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first data byte. */
  dataOffset: number;
}

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/** Reads a whole .npy of any rank: header, dtype, shape and data, converted to row-major float64.
 *  Whether the shape suits the tensor it is read for is judged later, against the layer (tensors.ts). */
export function parseNpy(bytes: Uint8Array, src: NpySource): Tensor {
  const header = parseNpyHeader(bytes, src);
  const dtype = floatDtype(header.descr, src);
  const shape = header.shape;
  const count = shape.reduce((n, d) => n * d, 1);
  const needed = count * dtype.size;
  const available = bytes.length - header.dataOffset;
  if (available < needed) {
    throw new UserError(src.file, src.place, `${needed} bytes of ${dtype.name} data for shape (${shapeText(shape)})`, `only ${available} (the file is truncated)`);
  }
  if (available > needed) {
    throw new UserError(src.file, src.place, `${needed} bytes of ${dtype.name} data for shape (${shapeText(shape)})`, `${available} bytes (the file is corrupt)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, needed);
  const stored = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    stored[i] = dtype.size === 8 ? view.getFloat64(i * 8, dtype.littleEndian) : view.getFloat32(i * 4, dtype.littleEndian);
  }
  const data = header.fortranOrder && shape.length >= 2 ? toRowMajor(stored, shape) : stored;
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(data[i])) {
      const index = indexOf(i, shape).map((k) => `[${k}]`).join('');
      throw new UserError(src.file, `${src.place}${index}`, 'a finite number', String(data[i]));
    }
  }
  return { shape, data };
}

/** Column-major (Fortran) → row-major: the element at (i₀, i₁, …) sits at i₀ + d₀·(i₁ + d₁·(…)) in Fortran order. */
function toRowMajor(colMajor: Float64Array, shape: number[]): Float64Array {
  const out = new Float64Array(colMajor.length);
  for (let i = 0; i < out.length; i++) {
    const index = indexOf(i, shape);
    let f = 0;
    for (let d = shape.length - 1; d >= 0; d--) f = f * shape[d] + index[d];
    out[i] = colMajor[f];
  }
  return out;
}

function shapeText(shape: number[]): string {
  return shape.length === 1 ? `${shape[0]},` : shape.join(', ');
}

/** Magic, version and the header dict, validated; the dtype is not judged here. */
export function parseNpyHeader(bytes: Uint8Array, src: NpySource): NpyHeader {
  if (!isNpy(bytes)) {
    throw new UserError(src.file, src.place, 'a NumPy .npy array (starting with "\\x93NUMPY")', describeStart(bytes));
  }
  if (bytes.length < 10) throw new UserError(src.file, src.place, 'a complete .npy header', `only ${bytes.length} bytes (the file is truncated)`);
  const major = bytes[6], minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw new UserError(src.file, src.place, '.npy format version 1.0, 2.0 or 3.0', `version ${major}.${minor}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new UserError(src.file, src.place, 'a complete .npy header', `only ${bytes.length} bytes (the file is truncated)`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (start + headerLength > bytes.length) {
    throw new UserError(src.file, src.place, `a .npy header of ${headerLength} bytes`, `only ${bytes.length - start} (the file is truncated)`);
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));
  let dict: PyValue;
  try {
    dict = new PyLiteral(text).parseAll();
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new UserError(src.file, src.place, 'a .npy header holding a Python dict literal', `${JSON.stringify(text.trim().slice(0, 80))} (${err.message})`);
  }
  if (!isDict(dict)) throw new UserError(src.file, src.place, 'a .npy header holding a dict', JSON.stringify(text.trim().slice(0, 80)));
  const keys = [...dict.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw new UserError(src.file, src.place, 'a .npy header with exactly the keys descr, fortran_order and shape', `the keys ${keys.join(', ') || 'none'}`);
  }
  const descr = dict.get('descr');
  if (typeof descr !== 'string') {
    throw new UserError(src.file, src.place, 'a plain float64 or float32 array', 'a structured (record) array', 'Save each field as its own array.');
  }
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw new UserError(src.file, src.place, 'fortran_order True or False in the .npy header', describePy(fortran));
  const shape = dict.get('shape');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new UserError(src.file, src.place, 'a shape tuple of whole numbers in the .npy header', describePy(shape));
  }
  return { descr, fortranOrder: fortran, shape: shape as number[], dataOffset: start + headerLength };
}

interface FloatDtype {
  name: 'float64' | 'float32';
  size: 8 | 4;
  littleEndian: boolean;
}

/**
 * '<f8', '>f8', '<f4', '>f4' (and '|'/'=' byte orders, read as little-endian: NumPy writes them only
 * for a native order, and every platform it runs on today is little-endian). Anything else is refused
 * with its NumPy name.
 */
export function floatDtype(descr: string, src: NpySource): FloatDtype {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (m && m[2] === 'f' && (m[3] === '8' || m[3] === '4')) {
    return { name: m[3] === '8' ? 'float64' : 'float32', size: m[3] === '8' ? 8 : 4, littleEndian: m[1] !== '>' };
  }
  const found = `${dtypeName(descr)} ('${descr}')`;
  if (m && m[2] === 'O') {
    throw new UserError(src.file, src.place, 'a float64 or float32 array', `${found}, which NumPy pickles`,
      'backprop-check never unpickles. Save numeric arrays: np.asarray(x, dtype=np.float64).');
  }
  throw new UserError(src.file, src.place, 'a float64 or float32 array', found, 'Convert it before saving: x.astype(np.float64).');
}

function dtypeName(descr: string): string {
  const m = /^[<>|=]?([a-zA-Z])(\d*)/.exec(descr);
  if (!m) return 'an unknown dtype';
  const size = Number(m[2] || 0);
  switch (m[1]) {
    case 'f': return `float${size * 8}`;
    case 'i': return `int${size * 8}`;
    case 'u': return `uint${size * 8}`;
    case 'b': return 'bool';
    case '?': return 'bool';
    case 'c': return `complex${size * 8}`;
    case 'O': return 'an object array';
    case 'U': return 'unicode strings';
    case 'S': case 'a': return 'byte strings';
    case 'M': return 'datetime64';
    case 'm': return 'timedelta64';
    case 'V': return 'raw bytes (void)';
    default: return 'an unknown dtype';
  }
}

function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  if (bytes[0] === 0x80) return 'a Python pickle (never unpickled)';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'a zip archive (an .npz?)';
  const head = Array.from(bytes.subarray(0, 6), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  return `bytes starting "${head}"`;
}

function describePy(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  // A number too large for float64 (a 400-digit dimension) is Infinity: JSON.stringify would say null.
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'a number beyond float64\'s range';
  if (typeof v === 'string') return JSON.stringify(clip(v));
  if (Array.isArray(v)) return `(${v.slice(0, 8).map(describePy).join(', ')}${v.length > 8 ? `, … (${v.length} items)` : ''})`;
  return 'a dict';
}

// ---------------------------------------------------------------------------------------------
// Python literals: just enough of the grammar for .npy headers (which repr() a dict), no more.

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

function isDict(v: PyValue): v is Map<string, PyValue> {
  return v instanceof Map;
}

class PyLiteral {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseAll(): PyValue {
    const v = this.value(0);
    this.space();
    if (this.pos !== this.text.length) this.fail('unexpected text after the dict');
    return v;
  }

  private value(depth: number): PyValue {
    if (depth > 8) this.fail('nested too deeply');
    this.space();
    const ch = this.text[this.pos];
    if (ch === '{') return this.dict(depth);
    if (ch === '(') return this.sequence('(', ')', depth);
    if (ch === '[') return this.sequence('[', ']', depth);
    if (ch === "'" || ch === '"') return this.string();
    if (ch !== undefined && /[-+0-9]/.test(ch)) return this.number();
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.text.startsWith(word, this.pos) && !/\w/.test(this.text[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail(ch === undefined ? 'the header ends early' : `unexpected "${ch}"`);
  }

  private dict(depth: number): Map<string, PyValue> {
    this.pos++; // {
    const out = new Map<string, PyValue>();
    for (;;) {
      this.space();
      if (this.eat('}')) return out;
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('a dict key that is not a string');
      this.space();
      if (!this.eat(':')) this.fail('":" expected after a dict key');
      if (out.has(key as string)) this.fail(`the key '${key}' twice`);
      out.set(key as string, this.value(depth + 1));
      this.space();
      if (this.eat('}')) return out;
      if (!this.eat(',')) this.fail('"," or "}" expected');
    }
  }

  private sequence(open: string, close: string, depth: number): PyValue[] {
    this.pos++; // ( or [
    const out: PyValue[] = [];
    for (;;) {
      this.space();
      if (this.eat(close)) return out;
      out.push(this.value(depth + 1));
      this.space();
      if (this.eat(close)) return out;
      if (!this.eat(',')) this.fail(`"," or "${close}" expected`);
    }
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    for (;;) {
      const ch = this.text[this.pos++];
      if (ch === undefined) this.fail('a string that does not end');
      if (ch === quote) return out;
      if (ch === '\\') {
        const next = this.text[this.pos++];
        if (next === undefined) this.fail('a string that does not end');
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      } else {
        out += ch;
      }
    }
  }

  private number(): number {
    const m = /^[-+]?\d+L?/.exec(this.text.slice(this.pos));
    if (!m) return this.fail('a malformed number');
    this.pos += m[0].length;
    return Number(m[0].replace(/L$/, ''));
  }

  private space(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private eat(s: string): boolean {
    if (this.text[this.pos] !== s) return false;
    this.pos++;
    return true;
  }

  private fail(why: string): never {
    throw new SyntaxError(`${why} at character ${this.pos + 1}`);
  }
}
