// End-to-end: spawns the built binary (npm test builds first) on the bundled fixtures.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliSync } from './helpers/cli.js';

/** NO_COLOR and FORCE_COLOR empty (neither set, as most users run it) unless `env` sets them. */
function cli(args: string[], env: Record<string, string> = {}) {
  const r = runCliSync(args, { env: { NO_COLOR: '', FORCE_COLOR: '', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fixture = (name: string) => [`fixtures/${name}/net.json`, `fixtures/${name}/data.csv`];

describe('the fixtures', () => {
  it('seed: the story’s backward formulas fail on every tensor, exit 1', () => {
    const r = cli([...fixture('seed'), '--no-color']);
    expect(r.status).toBe(1);
    for (const t of ['W1', 'b1', 'W2', 'b2', 'W3', 'b3', 'W4', 'b4']) expect(r.stdout).toMatch(new RegExp(`│ ${t} .*FAIL`));
    expect(r.stdout).toContain('✗ 8 of 8 tensors fail');
    expect(r.stdout).toContain('cost 0.693');
  });

  it('seed-fixed: the same net with correct formulas passes with every relative error below 1e-8', () => {
    const r = cli([...fixture('seed-fixed'), '--format', 'json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.source).toBe('declared');
    expect(report.checks).toHaveLength(8);
    for (const c of report.checks) {
      expect(c.status).toBe('pass');
      expect(c.relativeError).toBeLessThan(1e-8);
    }
  });

  it.each(['xor', 'softmax3', 'mse2', 'relu-l2'])('%s: correct backprop passes with a 100× margin', (name) => {
    const r = cli([...fixture(name), '--format', 'json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    for (const c of report.checks) expect(c.relativeError).toBeLessThan(report.settings.tolerance / 100);
  });
});

describe('the JSON report', () => {
  it('has the fields of SPEC.md', () => {
    const r = cli([...fixture('seed'), '--format', 'json']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, settings: { epsilon: 1e-6, tolerance: 1e-6, mode: 'full', seed: 1 } });
    expect(report.loss).toBeCloseTo(Math.log(2), 4);
    const w3 = report.checks.find((c: { param: string }) => c.param === 'W3');
    expect(w3).toMatchObject({ layer: 3, param: 'W3', shape: [4, 6], checked: 24, status: 'fail' });
    expect(w3.worst.index).toHaveLength(2);
    expect(typeof w3.worst.analytic).toBe('number');
    expect(typeof w3.worst.numeric).toBe('number');
    expect(w3.relativeError).toBeGreaterThan(0.5);
    expect(w3.maxElementError).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(report.findings)).toBe(true);
    expect(report.health.layers).toHaveLength(4);
    expect(report.health.layers[0]).toHaveProperty('gradientNorm');
    expect(report.health.layers[0]).toHaveProperty('saturation');
  });

  it('reports directional and sample modes per tensor', () => {
    const dir = JSON.parse(cli([...fixture('seed-fixed'), '--format', 'json', '--mode', 'directional', '--samples', '3']).stdout);
    expect(dir.settings).toMatchObject({ mode: 'directional', samples: 3 });
    for (const c of dir.checks) expect(c.checked).toBe(3);
    const sample = JSON.parse(cli([...fixture('relu-l2'), '--format', 'json', '--mode', 'sample', '--samples', '5']).stdout);
    expect(sample.checks.find((c: { param: string }) => c.param === 'W2').checked).toBe(5);
    expect(sample.checks.find((c: { param: string }) => c.param === 'b3').checked).toBe(1);
  });
});

describe('--params', () => {
  it('checks at the given weights; the cost changes with them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpc-'));
    const params = {
      W1: [[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1], [0.4, 0.4]],
      b1: [0.1, -0.1, 0.0, 0.2],
      W2: [[0.3, -0.7, 0.5, 0.9]],
      b2: [[0.05]],
    };
    writeFileSync(join(dir, 'params.json'), JSON.stringify(params));
    const r = cli([...fixture('xor'), '--params', join(dir, 'params.json'), '--format', 'json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    const base = JSON.parse(cli([...fixture('xor'), '--format', 'json']).stdout);
    expect(report.loss).not.toBeCloseTo(base.loss, 6);
  });

  it('names a transposed tensor as such (exit 2, nothing on stdout)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpc-'));
    const file = join(dir, 'params.json');
    writeFileSync(file, JSON.stringify({ W1: [[1, 2, 3, 4], [5, 6, 7, 8]], b1: [0, 0, 0, 0], W2: [[1, 2, 3, 4]], b2: [0] }));
    const r = cli([...fixture('xor'), '--params', file]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`backprop-check: ${file}, tensor W1: expected shape (4, 2); found shape (2, 4), its transpose. Store W1 as (units, inputs), as in deeplearning.ai code: save W1.T.\n`);
  });
});

describe('usage and colour', () => {
  it('prints help and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: backprop-check');
  });

  it('a missing file is exit 2 with one line naming it', () => {
    const r = cli(['fixtures/nope/net.json', 'fixtures/seed/data.csv']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('backprop-check: fixtures/nope/net.json: expected a network spec (net.json); found no such file.\n');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad flag value is exit 2', () => {
    const r = cli([...fixture('xor'), '--epsilon', 'abc']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--epsilon');
    expect(r.stdout).toBe('');
  });

  it('colours only when forced, and --no-color wins over FORCE_COLOR', () => {
    // Not a terminal here: plain by default.
    expect(cli(fixture('xor')).stdout).not.toContain('\u001b[');
    expect(cli(fixture('xor'), { FORCE_COLOR: '1' }).stdout).toContain('\u001b[');
    expect(cli([...fixture('xor'), '--no-color'], { FORCE_COLOR: '1' }).stdout).not.toContain('\u001b[');
  });
});
