// Runs a CommonJS script (the command line's bundle, the slim mathjs) with a V8 code cache made at
// build time, so that a start does not parse and compile it again: V8 reads back the bytecode of
// every function the build's sample run compiled (scripts/bundle.mjs). Measured: compiling
// dist/cli/bundle.js takes 6 ms with the cache instead of 19 ms, and the functions a check runs
// are not compiled again on their first call.
//
// It never changes what runs: the cache file holds a copy of the source it was made from, and a
// cache of any other source (a rebuild whose cache was not written, a file edited by hand) is not
// used at all, since V8 itself checks only the source's length. (A byte-for-byte comparison: no
// hash to collide, and no node:crypto to load, ~3 ms.) A cache that V8 refuses (another Node.js
// version, other V8 flags, a damaged file) is compiled from the source as if there were none. A
// missing or unreadable cache file is no cache.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** What became of the cache: used, refused by V8, made from another source, or not there. */
export type CacheStatus = 'accepted' | 'rejected' | 'stale' | 'missing';

export interface CachedScript<T> {
  exports: T;
  status: CacheStatus;
  /** The compiled script, for makeCache after a sample run. */
  script: Script;
  source: Buffer;
}

/** The cache file: the source's length in bytes (4, little-endian), the source, V8's data. */
const LENGTH_BYTES = 4;

/** Node's CommonJS wrapper, kept here so that the cache and every load compile the same text. */
function wrapped(source: Buffer): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source.toString('utf8')}\n});`;
}

/** V8's data from `cacheFile`, when the file exists and was made from this very source. */
function cachedData(source: Buffer, cacheFile: string): { data?: Buffer; status: CacheStatus } {
  let cache: Buffer;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return { status: 'missing' };
  }
  const start = LENGTH_BYTES + source.length;
  const same = cache.length > start && cache.readUInt32LE(0) === source.length && source.equals(cache.subarray(LENGTH_BYTES, start));
  return same ? { data: cache.subarray(start), status: 'accepted' } : { status: 'stale' };
}

/** Compiles `file` (with the cache when it is good) and runs it as a CommonJS module; returns its exports. */
export function runCached<T>(file: string, cacheFile: string, source: Buffer = readFileSync(file)): CachedScript<T> {
  const found = cachedData(source, cacheFile);
  const script = new Script(wrapped(source), { filename: file, cachedData: found.data });
  const status: CacheStatus = found.data && script.cachedDataRejected ? 'rejected' : found.status;
  const module = { exports: {} as T };
  const run = script.runInThisContext() as (this: T, ...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, status, script, source };
}

/**
 * Writes the cache of a script loaded by runCached: its source, then V8's data, which after a
 * sample run holds the bytecode of every function that run compiled.
 */
export function makeCache(loaded: CachedScript<unknown>, cacheFile: string): void {
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32LE(loaded.source.length);
  writeFileSync(cacheFile, Buffer.concat([length, loaded.source, loaded.script.createCachedData()]));
}
