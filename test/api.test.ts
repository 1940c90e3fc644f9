// The library API, imported from the built package entry as a user would: `check` resolves to exactly
// the report `--format json` prints for the same inputs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error the examples are plain JavaScript, without types
import { backprop } from '../fixtures/examples/js/backprop.mjs';
import { check, checkNetwork, renderJson, UserError, type Report } from '../dist/index.js';
import { root, runCliSync } from './helpers/cli.js';

function cliJson(args: string[]): { status: number | null; report: Report } {
  const r = runCliSync([...args, '--format', 'json']);
  return { status: r.status, report: JSON.parse(r.stdout) as Report };
}

describe('check (the library API)', () => {
  it('returns the report --format json prints: the seed spec’s declared backward', async () => {
    const report = await check({ net: 'fixtures/seed/net.json', data: 'fixtures/seed/data.csv' });
    const cli = cliJson(['fixtures/seed/net.json', 'fixtures/seed/data.csv']);
    expect(cli.status).toBe(1);
    expect(report.ok).toBe(false);
    expect(report).toEqual(cli.report);
    expect(renderJson(report)).toBe(JSON.stringify(cli.report, null, 2) + '\n');
  });

  it('returns the report --format json prints: .npz params and grads, with settings', async () => {
    const args = { net: 'fixtures/xor/net.json', data: 'fixtures/xor/data.csv', params: 'fixtures/npz/f4.npz', grads: 'fixtures/npz/grads_xor.npz' };
    const report = await check({ ...args, mode: 'sample', samples: 3, seed: 7 });
    const cli = cliJson([args.net, args.data, '--params', args.params, '--grads', args.grads, '--mode', 'sample', '--samples', '3', '--seed', '7']);
    expect(cli.status).toBe(0);
    expect(report).toEqual(cli.report);
    expect(report.settings).toEqual({ epsilon: 1e-6, tolerance: 1e-6, mode: 'sample', seed: 7, samples: 3 });
  });

  it('takes a JavaScript gradient function: the same report as that code run through --exec', async () => {
    const files = { net: 'fixtures/seed/net.json', data: 'fixtures/seed/data.csv' };
    const report = await check({ ...files, backprop });
    const cli = cliJson([files.net, files.data, '--exec', 'node fixtures/examples/js/backprop.mjs']);
    expect(cli.status).toBe(0);
    expect(report.source).toBe('exec');
    expect(report).toEqual(cli.report);
  });

  it('rejects bad input with the package’s UserError, carrying file, place, expected and found', async () => {
    const error = await check({ net: 'fixtures/xor/net.json', data: 'fixtures/xor/data.csv', params: 'fixtures/npz/transposed.npz' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ file: 'fixtures/npz/transposed.npz', place: 'tensor W1', expected: 'shape (4, 2)', found: 'shape (2, 4), its transpose' });
    const bad = await check({ net: 'fixtures/xor/net.json', data: 'fixtures/xor/data.csv', backprop: () => ({ dW1: 'nope' }) }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UserError);
    expect((bad as Error).message).toBe('the backprop function, tensor dW1: expected a list of numbers or a list of rows; found "nope".');
  });

  it('keeps the pure core available as checkNetwork, and ships type declarations', () => {
    expect(typeof checkNetwork).toBe('function');
    const types = readFileSync(join(root, 'dist/index.d.ts'), 'utf8');
    expect(types).toContain('export declare function check(options: CheckFilesOptions): Promise<Report>;');
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/library.mjs' });
  });

  it('the package\'s entry (the bundled library with its code cache) exports what dist/index.js does, and checks the same', async () => {
    const entry = (await import(join(root, 'dist/library.mjs'))) as Record<string, unknown>;
    const plain = (await import(join(root, 'dist/index.js'))) as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(Object.keys(plain).sort());
    const files = { net: 'fixtures/seed/net.json', data: 'fixtures/seed/data.csv' };
    const [a, b] = await Promise.all([entry, plain].map((lib) => (lib.check as typeof check)(files)));
    expect(a).toEqual(b);
  });
});
