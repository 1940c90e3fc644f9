// Reading a user's file with a limit that holds whatever the file is. A size from stat() says
// nothing about /dev/zero (size 0, endless), a FIFO (opening it waits for a writer, reading it
// waits for data) or a file that grows while it is read. So the file is opened without waiting
// (O_NONBLOCK: a FIFO opens at once), fstat() of the open descriptor says what it is (a symlink to
// a device is a device here), anything but a regular file is refused, and the bytes are counted
// as they are read, so that no more than the limit is ever held.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { UserError } from './errors.js';

/** JSON files (net.json, parameters, gradients) larger than this are refused. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

export interface ReadLimit {
  /** The most bytes accepted. */
  maxBytes: number;
  /** The error for a file over the limit, given its size (or a lower bound, `more`: it grew while read). */
  tooLarge: (bytes: number, more: boolean) => UserError;
}

/** What a file that is not a regular file is, in words. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a named pipe (FIFO), not a file: it is never read, as it could wait or stream forever';
  if (s.isCharacterDevice()) return 'a character device (such as /dev/zero or /dev/null), not a file: it is never read, as it could stream forever';
  if (s.isBlockDevice()) return 'a block device, not a file: it is never read';
  if (s.isSocket()) return 'a socket, not a file: it is never read';
  return 'something that is not a regular file';
}

function openError(err: unknown, file: string, what: string): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  const found = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : `an unreadable file (${code ?? (err as Error).message})`;
  return new UserError(file, '', what, found);
}

/** The bytes of a regular file, at most `limit.maxBytes` of them, or a UserError saying why not. */
export function readBounded(file: string, what: string, limit: ReadLimit): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw openError(err, file, what);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UserError(file, '', what, kindOf(stats));
    if (stats.size > limit.maxBytes) throw limit.tooLarge(stats.size, false);
    // One byte more than the limit is asked for, so that a file grown past it is seen.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(Math.max(stats.size - total, 64 * 1024), limit.maxBytes + 1 - total, 16 * 1024 * 1024);
      const chunk = Buffer.allocUnsafe(want);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, want, null);
      } catch (err) {
        throw openError(err, file, what);
      }
      if (n === 0) break;
      chunks.push(n === want ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > limit.maxBytes) throw limit.tooLarge(total, true);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** "256 MiB", "100 bytes". */
export function byteCount(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(0)} MiB` : `${n} bytes`;
}

/** The usual limit for JSON files. */
export function jsonLimit(file: string, what: string): ReadLimit {
  return {
    maxBytes: MAX_JSON_BYTES,
    tooLarge: (bytes, more) => new UserError(file, '', `${what} of at most ${byteCount(MAX_JSON_BYTES)}`, `${more ? 'more than ' : ''}${byteCount(bytes)}`),
  };
}
