// Bad input that the corpus (test/bad-input/) cannot hold as files: FIFOs, a full disk as
// stdout, inputs of 100 MB, a 10 MB key, a million levels of nesting; and the units behind them
// (bounded reading, capped quoting, byte-order marks, zip directories, limits).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directionalWork, directionStorage, parameterCounts } from '../src/core/check/limits.js';
import { checkWork } from '../src/core/differences/propagated.js';
import { clip, UserError } from '../src/io/errors.js';
import { centralDirectory } from '../src/io/npz.js';
import { readBounded } from '../src/io/read.js';
import { parseSpec, unicodeBom } from '../src/io/spec.js';
import { run } from '../src/run.js';
import { maxThreads, threadSetting, wasmSetting } from '../src/cli/threaded-check.js';
import { cliCommand, cliEnv, root, runCli, runCliSync, spawnCli, type CliRun as Outcome } from './helpers/cli.js';

const shared = join(root, 'test/bad-input/shared');
const tmp = mkdtempSync(join(tmpdir(), 'bpc-hardening-'));

const cli = (args: string[], options: { timeout?: number } = {}): Promise<Outcome> => runCli(args, { cwd: tmp, timeout: options.timeout ?? 60_000 });

/** Exit 2, nothing on stdout, one line on stderr without a stack: the message after "backprop-check: ". */
function refusal(r: Outcome): string {
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr.endsWith('\n') && r.stderr.indexOf('\n') === r.stderr.length - 1, r.stderr).toBe(true);
  return r.stderr.replace(/^backprop-check: /, '').replace(/\n$/, '');
}

function fifo(name: string): string {
  const path = join(tmp, name);
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  return path;
}

describe('files that are not files', () => {
  it.each([
    ['net.json', (p: string) => [p, join(shared, 'data.csv')], 'a network spec (net.json)'],
    ['data.csv', (p: string) => [join(shared, 'net.json'), p], 'a CSV data file'],
    ['params.json', (p: string) => [join(shared, 'net.json'), join(shared, 'data.csv'), '--params', p], 'a parameter file (JSON with W1, b1, …)'],
    ['params.npz', (p: string) => [join(shared, 'net.json'), join(shared, 'data.csv'), '--params', p], 'a parameter archive (.npz with W1, b1, …)'],
  ])('refuses a FIFO as %s at once, without waiting for a writer', async (name, args, what) => {
    const path = fifo(`fifo-${name}`);
    const r = await cli(args(path), { timeout: 20_000 });
    expect(refusal(r)).toBe(`${path}: expected ${what}; found a named pipe (FIFO), not a file: it is never read, as it could wait or stream forever.`);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('refuses a FIFO as --report before the check, instead of waiting for a reader after it', async () => {
    const path = fifo('report.html');
    const r = await cli([join(shared, 'net.json'), join(shared, 'data.csv'), '--report', path], { timeout: 20_000 });
    expect(refusal(r)).toBe(`command line, --report: expected an HTML file that can be written; found "${path}": it is a named pipe (FIFO) or a socket, not a file.`);
  });

  it('reads a file whose stat() size says nothing (/proc) only up to the limit', () => {
    const limit = { maxBytes: 10, tooLarge: (n: number, more: boolean) => new UserError('/proc/self/environ', '', 'at most 10 bytes', `${more ? 'more than ' : ''}${n}`) };
    expect(() => readBounded('/proc/self/environ', 'a file', limit)).toThrow('/proc/self/environ: expected at most 10 bytes; found more than 11.');
    expect(readBounded('/proc/self/stat', 'a file', { ...limit, maxBytes: 1 << 20 }).toString()).toMatch(/^\d+ \(/);
  });
});

describe('a full disk or a closed pipe as stdout', () => {
  it('a report that cannot be written (/dev/full) is one line on stderr and exit status 2, without a stack', () => {
    for (const format of ['table', 'json']) {
      const r = spawnSync('sh', ['-c', `${cliCommand([`${shared}/net.json`, `${shared}/data.csv`, '--format', format])} > /dev/full`], { env: cliEnv(), encoding: 'utf8' });
      expect(r.stderr).toBe('backprop-check: stdout: expected somewhere the output can be written; found ENOSPC: no space left on the device. The output (the report) was not written.\n');
      expect(r.status).toBe(2);
    }
  });

  it('--version into /dev/full too', () => {
    const r = spawnSync('sh', ['-c', `${cliCommand(['--version'])} > /dev/full`], { env: cliEnv(), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a reader that closes the pipe early (| head) gets the verdict’s status: 1 for a failing check', async () => {
    const child = spawnCli([join(shared, 'net.json'), join(shared, 'data.csv'), '--params', join(shared, 'params.json'), '--grads', join(shared, 'grads.json')],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Closed before backprop-check writes anything: its first write meets EPIPE.
    child.stdout.destroy();
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(1);
    // The same check with its output read: status 1, so the gradients are wrong indeed.
    expect(runCliSync([join(shared, 'net.json'), join(shared, 'data.csv'), '--params', join(shared, 'params.json'), '--grads', join(shared, 'grads.json')]).status).toBe(1);
  });

  it('a message that cannot be written (stderr on /dev/full) keeps its exit status and no crash', () => {
    const r = spawnSync('sh', ['-c', `${cliCommand([`${shared}/net.json`, 'missing.csv'])} 2> /dev/full; echo "status $?"`], { env: cliEnv(), encoding: 'utf8', cwd: tmp });
    expect(r.stdout).toBe('status 2\n');
  });
});

describe('--version', () => {
  it.each(['--version', '-V'])('%s prints the version in package.json and exits 0', async (flag) => {
    const r = await cli([flag]);
    expect(r).toMatchObject({ status: 0, stderr: '', stdout: `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n` });
  });

  it('--help prints the help once', async () => {
    const r = await cli(['--help']);
    expect(r.stdout.match(/^Usage:/gm)).toHaveLength(1);
    expect(r.stdout).toContain('-V, --version');
  });
});

describe('inputs too large to read, parse or quote', () => {
  it('a 100 MB CSV line is refused before it is parsed, in seconds (35 s and 2.4 GB before)', async () => {
    const path = join(tmp, 'wide.csv');
    writeFileSync(path, `${'0.5,'.repeat(25_000_000)}1\n`);
    const r = await cli([join(shared, 'net.json'), path]);
    expect(refusal(r)).toBe(`${path}, row 1: expected at most 100,000 columns (features and targets); found more than that in a line of 100,000,001 characters. Check on fewer features: a few hundred columns find the same bugs.`);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a 10 MB key is quoted by its first 60 characters and its length', async () => {
    const path = join(tmp, 'long-key.json');
    writeFileSync(path, `{"${'k'.repeat(10_000_000)}": [[0]]}`);
    const message = refusal(await cli([join(shared, 'net.json'), join(shared, 'data.csv'), '--params', path]));
    const quoted = `${'k'.repeat(60)}… (10,000,000 characters)`;
    expect(message).toBe(`${path}, tensor ${quoted}: expected only the tensors W1, b1, W2, b2; found an unexpected tensor "${quoted}".`);
  });

  it('a million levels of nesting stop at the first 512, without exhausting the stack', async () => {
    const path = join(tmp, 'deep.json');
    writeFileSync(path, '['.repeat(1_000_000));
    expect(refusal(await cli([path, join(shared, 'data.csv')]))).toBe(`${path}, line 1, column 514: expected a network spec (net.json) in valid JSON; found lists or objects nested more than 512 deep.`);
  });
});

describe('the parts', () => {
  it('clip: short text as it is; control characters escaped; long text cut, with its length', () => {
    expect(clip('W1')).toBe('W1');
    expect(clip('a\nb\tc\r\u0001')).toBe('a\\nb\\tc\\r\\u0001');
    expect(clip('x'.repeat(61))).toBe(`${'x'.repeat(60)}… (61 characters)`);
    expect(clip('x'.repeat(70), 10)).toBe('xxxxxxxxxx… (70 characters)');
  });

  it('byte-order marks: UTF-32 (both orders) before UTF-16, whose LE mark begins UTF-32LE’s', () => {
    expect(unicodeBom(Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0]))).toBe('UTF-32');
    expect(unicodeBom(Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x7b]))).toBe('UTF-32');
    expect(unicodeBom(Buffer.from([0xff, 0xfe, 0x7b, 0]))).toBe('UTF-16');
    expect(unicodeBom(Buffer.from([0xfe, 0xff, 0, 0x7b]))).toBe('UTF-16');
    expect(unicodeBom(Buffer.from('{}'))).toBeNull();
  });

  it('the zip directory: names and the encryption flag of each member; null when there is none', () => {
    const encrypted = readFileSync(join(root, 'test/bad-input/cases/npz-encrypted/params.npz'));
    expect(centralDirectory(encrypted)?.map((e) => [e.name, e.flags & 1])).toEqual([['W1.npy', 1], ['W2.npy', 1], ['b1.npy', 1], ['b2.npy', 1]]);
    const twice = readFileSync(join(root, 'test/bad-input/cases/npz-duplicate-member/params.npz'));
    expect(centralDirectory(twice)?.map((e) => e.name)).toEqual(['W1.npy', 'b1.npy', 'W2.npy', 'b2.npy', 'W1.npy']);
    expect(centralDirectory(Buffer.from('PK not a zip at all'))).toBeNull();
  });

  it('BACKPROP_CHECK_THREADS: unset or 1 … 4 per CPU (at least 8); anything else refused', () => {
    expect(maxThreads(2)).toBe(8);
    expect(maxThreads(16)).toBe(64);
    for (const ok of [undefined, '', '1', '8', ' 3 ']) expect(() => threadSetting({ BACKPROP_CHECK_THREADS: ok }, 2), String(ok)).not.toThrow();
    for (const bad of ['0', '9', '1000', '-1', '2.5', 'many', '1e3']) expect(() => threadSetting({ BACKPROP_CHECK_THREADS: bad }, 2), bad).toThrow(UserError);
    for (const ok of [undefined, '', '0', '1', ' 0 ']) expect(() => wasmSetting({ BACKPROP_CHECK_WASM: ok }), String(ok)).not.toThrow();
    for (const bad of ['2', 'no', 'false', '-1']) expect(() => wasmSetting({ BACKPROP_CHECK_WASM: bad }), bad).toThrow(UserError);
  });

  it('the estimates count what the check does: parameters, directional work and storage', () => {
    const layers = [{ units: 4, inputs: 2, bias: true }, { units: 1, inputs: 4, bias: true }];
    expect(parameterCounts({ layers } as never)).toEqual({ perLayer: [12, 5], total: 17 });
    // Layer 2's two tensors see 5 parameters after them, layer 1's 17; two passes per direction.
    expect(directionalWork({ layers } as never, 6, 10)).toBe(2 * 10 * 2 * 6 * 5 + 2 * 10 * 2 * 6 * 17);
    // W1 (4×2) is rank one: 4 + 2 numbers; b1 4; W2 (1×4) dense: 4; b2 1.
    expect(directionStorage({ layers } as never, 10)).toEqual({ vectors: 40, values: 10 * (6 + 4 + 4 + 1) });
    // Depth multiplies the full check's work: 1000 layers of 4 cost far more per element than 2.
    const deep = { layers: [{ units: 4, inputs: 2, bias: true }, ...Array.from({ length: 999 }, () => ({ units: 4, inputs: 4, bias: true }))] };
    expect(checkWork(deep as never, 6, { mode: 'full', samples: 10 }) / 20_000).toBeGreaterThan(3_000 * 6);
  });

  it('a spec too large is refused by the library too, before anything is allocated', () => {
    const raw = { input: 2, layers: [{ units: 1e308, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' };
    expect(() => parseSpec(raw, 'net.json')).toThrow(/^net\.json, layers\[0\]\.units: expected a network of at most 10,000,000 weights and biases/);
  });

  it('the library refuses steps and tolerances that resolve nothing, as the flags do', async () => {
    const files = { net: join(shared, 'net.json'), data: join(shared, 'data.csv') };
    await expect(run({ ...files, epsilon: 5e-324 })).rejects.toThrow("options, epsilon: expected a step from 2.2e-16 (float64's machine epsilon: below it θ + h == θ for a weight of 1) to below 1; found 5e-324.");
    await expect(run({ ...files, epsilon: Number.NaN })).rejects.toThrow(UserError);
    await expect(run({ ...files, tolerance: 0 })).rejects.toThrow("options, tolerance: expected a relative error from 2.2e-16 (float64's machine epsilon) to 1; found 0.");
    expect((await run({ ...files, epsilon: 1e-5 })).ok).toBe(true);
  });
});
