// NumPy archives → RawTensors. An .npz (np.savez / np.savez_compressed) is a zip of one .npy per
// keyword argument, "W1.npy", "b1.npy", …; fflate unzips it and npy.ts reads each member. A lone
// .npy holds one unnamed array, which cannot be a parameter set: it is refused with what to do.
import { createRequire } from 'node:module';

// fflate builds its inflate tables when it loads (~20 ms); only .npz files need it, so it is loaded
// on first use, as mathjs is (core/formula.ts), and left out of the command-line bundle.
function unzipSync(...args: Parameters<typeof import('fflate').unzipSync>): ReturnType<typeof import('fflate').unzipSync> {
  return (createRequire(import.meta.url)('fflate') as typeof import('fflate')).unzipSync(...args);
}
import { show, UserError } from './errors.js';
import { isNpy, parseNpy, parseNpyHeader } from './npy.js';
import { readBounded } from './read.js';
import type { RawTensors, TensorRole } from './raw-tensors.js';

/** Archives (and the sum of their unpacked members) larger than this are refused. */
export const MAX_NPZ_BYTES = 1024 * 1024 * 1024;

const ZIP_MAGIC = [0x50, 0x4b]; // "PK"

/** What an archive holds: parameters, gradients, or --data's X and Y. */
export type ArchiveRole = TensorRole | 'data';

function example(role: ArchiveRole): string {
  return role === 'params' ? 'np.savez("params.npz", W1=W1, b1=b1, W2=W2, b2=b2, …)'
    : role === 'grads' ? 'np.savez("grads.npz", dW1=dW1, db1=db1, …)'
    : 'np.savez("data.npz", X=X, Y=Y)';
}

function readBytes(file: string, what: string): Uint8Array {
  return readBounded(file, what, {
    maxBytes: MAX_NPZ_BYTES,
    tooLarge: (size, more) => new UserError(file, '', `${what} of at most ${MAX_NPZ_BYTES / 1024 / 1024} MiB`, `${more ? 'more than ' : ''}${(size / 1024 / 1024).toFixed(0)} MiB`),
  });
}

export function readNpz(file: string, role: ArchiveRole): RawTensors {
  const what = role === 'params' ? 'a parameter archive (.npz with W1, b1, …)' : role === 'grads' ? 'a gradient archive (.npz with dW1, db1, …)' : 'a data archive (.npz with X and Y)';
  const bytes = readBytes(file, what);
  if (!ZIP_MAGIC.every((b, i) => bytes[i] === b)) {
    const found = bytes.length === 0 ? 'an empty file'
      : isNpy(bytes) ? 'a single .npy array (np.save), not an archive of named arrays'
      : bytes[0] === 0x80 ? 'a Python pickle (never unpickled)'
      : bytes[0] === 0x7b ? 'what looks like JSON' : 'something that is not a zip archive';
    throw new UserError(file, '', what, found, `Write it with ${example(role)}${bytes[0] === 0x7b ? ', or name the file .json' : ''}.`);
  }
  refuseAmbiguousOrEncrypted(centralDirectory(bytes), file, what, role);
  let members: Record<string, Uint8Array>;
  try {
    let total = 0;
    members = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (total > MAX_NPZ_BYTES) throw new UserError(file, '', `an archive that unpacks to at most ${MAX_NPZ_BYTES / 1024 / 1024} MiB`, 'more');
        return true;
      },
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(file, '', `${what}: a readable zip archive`, `a damaged one (${(err as Error).message})`, `Write it again with ${example(role)}.`);
  }
  const out: RawTensors = new Map();
  for (const [member, data] of Object.entries(members)) {
    if (member.endsWith('/')) continue; // a directory entry
    if (!member.endsWith('.npy')) {
      throw new UserError(file, `member ${member}`, 'only .npy arrays, as np.savez writes them', `"${member}"`);
    }
    const name = member.slice(0, -'.npy'.length);
    if (/^arr_\d+$/.test(name)) {
      throw new UserError(file, `tensor ${name}`, 'arrays saved by name', `an unnamed array "${name}"`,
        `np.savez names positional arrays arr_0, arr_1, …; pass them as keywords: ${example(role)}.`);
    }
    out.set(name, parseNpy(data, { file, place: `tensor ${name}` }));
  }
  if (out.size === 0) throw new UserError(file, '', what, 'an archive with no arrays', `Write it with ${example(role)}.`);
  return out;
}

/** One entry of a zip's central directory: its name and general-purpose flags. */
interface ZipEntry {
  name: string;
  flags: number;
}

/**
 * The names and flags of a zip's central directory (APPNOTE.TXT 4.3.12, 4.3.16), or null when it
 * cannot be found: fflate then says what is damaged. fflate's unzipSync returns an object by name,
 * where a second member of the same name silently replaces the first, and it reads an encrypted
 * member's ciphertext as if it were data; both are seen here first.
 */
export function centralDirectory(bytes: Uint8Array): ZipEntry[] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record: 22 bytes, then a comment of at most 65535 bytes.
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { end = i; break; }
  }
  if (end < 0) return null;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries: ZipEntry[] = [];
  const decoder = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) return null;
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (at + 46 + nameLength > bytes.length) return null;
    entries.push({ name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)), flags });
    at += 46 + skip;
  }
  return entries;
}

function refuseAmbiguousOrEncrypted(entries: ZipEntry[] | null, file: string, what: string, role: ArchiveRole): void {
  if (entries === null) return;
  const seen = new Set<string>();
  for (const e of entries) {
    // Bit 0: the member is encrypted (bit 6: with strong encryption).
    if (e.flags & 0x1) {
      throw new UserError(file, `member ${show(e.name)}`, `${what}: an unencrypted zip archive, as np.savez and np.savez_compressed write`,
        'an encrypted member (a password-protected zip)', `Write it again with ${example(role)}.`);
    }
    if (seen.has(e.name)) {
      throw new UserError(file, `member ${show(e.name)}`, 'each member name at most once',
        `${show(e.name)} a second time, where unzipping would silently keep only the last one`, `Write it again with ${example(role)}.`);
    }
    seen.add(e.name);
  }
}

/** A lone .npy cannot name W1, b1, …: says so, recognising the pickled dict np.save writes. */
export function readNpy(file: string, role: TensorRole): RawTensors {
  const what = role === 'params' ? 'a set of named parameters (W1, b1, …)' : 'a set of named gradients (dW1, db1, …)';
  const bytes = readBytes(file, what);
  if (!isNpy(bytes)) return readNpz(file, role); // not an .npy at all: an .npz under another name?
  const header = parseNpyHeader(bytes, { file, place: '' });
  const pickled = /^[|<>=]?O/.test(header.descr);
  throw new UserError(file, '', `${what} in an .npz archive`,
    pickled ? 'a .npy holding a pickled Python object (a dict saved with np.save?), which is never unpickled'
      : `a .npy file, which holds a single unnamed array (shape (${header.shape.join(', ')}))`,
    `Write all of them into one archive: ${example(role)}.`);
}
