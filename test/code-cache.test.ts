// The V8 code cache the command line starts with (src/cli/code-cache.ts): used when it was made
// from the very source, and otherwise never in the way: a damaged cache is compiled around, a cache
// of another source (even one of the same length, which V8 alone would take) is not used, and a
// missing one is no cache. And the caches npm run build wrote are taken by a plain node.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCache, runCached } from '../src/cli/code-cache.js';

const root = new URL('..', import.meta.url).pathname;
const env = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', FORCE_COLOR: undefined };

/**
 * runCached's status in a new node process (the built code-cache.js): within one process V8 keeps
 * what it compiled, and a second compile of the same source takes that, not the cache it is given.
 */
function statusInNode(file: string, cache: string): string {
  const script = `import { runCached } from ${JSON.stringify(join(root, 'dist/cli/code-cache.js'))};
    const r = runCached(${JSON.stringify(file)}, ${JSON.stringify(cache)}); console.log(r.status, r.exports.answer?.());`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

describe('runCached', () => {
  let dir: string, file: string, cache: string;
  type Exports = { answer(): number; file: string; strict: boolean };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpc-cache-'));
    file = join(dir, 'script.js');
    cache = `${file}.cache`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (answer: number) => writeFileSync(file, `"use strict";exports.answer=function(){return ${answer}};exports.file=__filename;exports.strict=(function(){return this===undefined})();`);

  it('runs a script without a cache as a CommonJS module, and then with the cache it made', () => {
    write(41);
    const first = runCached<Exports>(file, cache);
    expect(first.status).toBe('missing');
    expect([first.exports.answer(), first.exports.file, first.exports.strict]).toEqual([41, file, true]);
    makeCache(first, cache);
    expect(statusInNode(file, cache)).toBe('accepted 41');
  });

  it('does not use a cache made from another source of the same length (V8 would), and runs the new source', () => {
    write(41);
    makeCache(runCached(file, cache), cache);
    write(42);
    const loaded = runCached<Exports>(file, cache);
    expect(loaded.status).toBe('stale');
    expect(loaded.exports.answer()).toBe(42);
  });

  it('compiles the source when V8 refuses a damaged cache', () => {
    write(43);
    makeCache(runCached(file, cache), cache);
    const bytes = readFileSync(cache);
    // V8's data, after the length and the copy of the source: its own header and checksum.
    for (let i = 4 + readFileSync(file).length; i < bytes.length; i++) bytes[i] ^= 0x5a;
    writeFileSync(cache, bytes);
    expect(statusInNode(file, cache)).toBe('rejected 43');
  });

  it('takes an empty or truncated cache file (no V8 data after the source) for a cache of another source', () => {
    write(44);
    const whole = (() => { makeCache(runCached(file, cache), cache); return readFileSync(cache); })();
    for (const content of [Buffer.alloc(0), Buffer.alloc(3), whole.subarray(0, 4 + readFileSync(file).length)]) {
      writeFileSync(cache, content);
      const loaded = runCached<Exports>(file, cache);
      expect(loaded.status).toBe('stale');
      expect(loaded.exports.answer()).toBe(44);
    }
  });
});

describe('the built command line and its caches', () => {
  const seed = [join(root, 'fixtures/seed/net.json'), join(root, 'fixtures/seed/data.csv')];

  it('a plain node takes the caches npm run build made for the bundle, the library and the slim mathjs', () => {
    const script = `import { runCached } from ${JSON.stringify(join(root, 'dist/cli/code-cache.js'))};
      for (const f of ['bundle.js', 'library.cjs', 'mathjs.cjs']) { const p = ${JSON.stringify(join(root, 'dist/cli'))} + '/' + f; console.log(f, runCached(p, p + '.cache').status); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('bundle.js accepted\nlibrary.cjs accepted\nmathjs.cjs accepted\n');
  });

  it('prints the same bytes and exits the same with damaged, stale or missing caches', () => {
    // A copy of the package's files that the bin needs, with node_modules linked.
    const tree = mkdtempSync(join(tmpdir(), 'bpc-cache-bin-'));
    try {
      mkdirSync(join(tree, 'bin'));
      mkdirSync(join(tree, 'dist/cli'), { recursive: true });
      symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
      copyFileSync(join(root, 'package.json'), join(tree, 'package.json'));
      for (const f of ['backprop-check.js', 'package.json']) copyFileSync(join(root, 'bin', f), join(tree, 'bin', f));
      for (const f of ['bundle.js', 'code-cache.cjs', 'mathjs.cjs', 'row-worker.js']) copyFileSync(join(root, 'dist/cli', f), join(tree, 'dist/cli', f));
      const run = () => spawnSync(process.execPath, [join(tree, 'bin/backprop-check.js'), ...seed], { encoding: 'utf8', env });
      const expected = spawnSync(process.execPath, [join(root, 'bin/backprop-check.js'), ...seed], { encoding: 'utf8', env });
      expect(expected.status).toBe(1);
      const caches = ['bundle.js.cache', 'mathjs.cjs.cache'].map((f) => join(tree, 'dist/cli', f));
      const damaged = (f: string) => {
        const name = f.split('/').pop()!;
        const bytes = readFileSync(join(root, 'dist/cli', name));
        // V8's data, after the length and the copy of the source.
        for (let i = 4 + readFileSync(join(root, 'dist/cli', name.replace(/\.cache$/, ''))).length; i < bytes.length; i += 7) bytes[i] ^= 0xff;
        return bytes;
      };
      const variants: [string, (f: string) => Buffer | null][] = [
        ['missing', () => null],
        ['damaged', damaged],
        ['stale', () => Buffer.concat([Buffer.alloc(4), Buffer.from('not V8 data')])],
      ];
      for (const [, content] of variants) {
        for (const c of caches) {
          rmSync(c, { force: true });
          const bytes = content(c);
          if (bytes) writeFileSync(c, bytes);
        }
        const r = run();
        expect([r.status, r.stderr, r.stdout]).toEqual([expected.status, expected.stderr, expected.stdout]);
      }
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
