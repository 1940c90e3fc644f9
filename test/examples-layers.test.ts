// The example fixtures of the layer kinds (scripts/make_layer_fixtures.py), run through the built CLI
// as a user runs them: each buggy --grads file (course-style NumPy code with one real bug) exits 1
// with exactly the tensors its bug touches failing, and the diagnosis names the bug at its layer;
// the fixed code's gradients exit 0; the rows-layout net read with --data data.npz exits 0 with the
// same report as the same net in the columns layout.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../src/core/report.js';
import { readNpz } from '../src/io/npz.js';
import { root, runCliSync } from './helpers/cli.js';
import { pythonWith } from './helpers/python.js';

function run(args: string[]): { status: number | null; report: Report; stderr: string } {
  const r = runCliSync([...args, '--format', 'json']);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`exit ${r.status}, no JSON report:\n${r.stderr}`);
  }
  return { status: r.status, report, stderr: r.stderr };
}

/** The fixture's net.json and data.csv with its params.npz and the given gradients file. */
const fixture = (name: string, grads: string) =>
  [`fixtures/${name}/net.json`, `fixtures/${name}/data.csv`, '--params', `fixtures/${name}/params.npz`, '--grads', `fixtures/${name}/${grads}`];

/** The findings at error severity, as "code@layer". */
const errors = (report: Report): string[] => report.findings.filter((f) => f.severity === 'error').map((f) => `${f.code}@${f.layer}`);

const failing = (report: Report): string[] => report.checks.filter((c) => c.status === 'fail').map((c) => c.param);

const BUGS = [
  // cs231n's conv_backward_naive with the window at (i, j) instead of (i·stride, j·stride): only dW1.
  { name: 'cnn', tensors: ['W1', 'b1', 'W4', 'b4'], fails: ['W1'], code: 'conv-stride-ignored', layer: 1 },
  // The "simplified" batch-norm dx = γ·dy/σ: the dense layer below it, W1.
  { name: 'batchnorm', tensors: ['W1', 'gamma2', 'beta2', 'W4', 'b4'], fails: ['W1'], code: 'batchnorm-simplified', layer: 2 },
  // deeplearning.ai-style dropout whose backward forgets the mask and the 1/keep (dx = dy): layer 1's W1 and b1.
  { name: 'dropout', tensors: ['W1', 'b1', 'W3', 'b3'], fails: ['W1', 'b1'], code: 'dropout-mask-missing', layer: 2 },
];

describe.each(BUGS)('fixtures/$name', ({ name, tensors, fails, code, layer }) => {
  it('the buggy gradients: exit 1, exactly the tensors the bug touches fail', () => {
    const { status, report, stderr } = run(fixture(name, 'grads.npz'));
    expect(stderr).toBe('');
    expect(status).toBe(1);
    expect(report.source).toBe('grads');
    expect(report.checks.map((c) => c.param)).toEqual(tensors);
    expect(failing(report)).toEqual(fails);
  });

  it(`the diagnosis names ${code} at layer ${layer}`, () => {
    const { report } = run(fixture(name, 'grads.npz'));
    // The one root cause: the layers below it are only told that its error reaches them (info).
    expect(errors(report)).toEqual([`${code}@${layer}`]);
  });

  it('the fixed code\'s gradients: exit 0, every tensor passes', () => {
    const { status, report } = run(fixture(name, 'grads_fixed.npz'));
    expect(status).toBe(0);
    expect(report.checks.map((c) => c.param)).toEqual(tensors);
    for (const c of report.checks) expect(c.relativeError, c.param).toBeLessThan(1e-7);
    expect(errors(report)).toEqual([]);
  });
});

describe('fixtures/rows: a PyTorch-style net, "layout": "rows", --data data.npz', () => {
  const rows = ['fixtures/rows/net.json', '--data', 'fixtures/rows/data.npz', '--params', 'fixtures/rows/params.npz', '--grads', 'fixtures/rows/grads.npz'];
  // The columns twin names its data.npz positionally, as a data.csv is named.
  const columns = ['fixtures/rows/columns/net.json', 'fixtures/rows/columns/data.npz', '--params', 'fixtures/rows/columns/params.npz', '--grads', 'fixtures/rows/columns/grads.npz'];

  it('exits 0: the correct gradients pass', () => {
    const { status, report, stderr } = run(rows);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(report.checks.map((c) => c.param)).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    for (const c of report.checks) expect(c.relativeError, c.param).toBeLessThan(1e-7);
  });

  it('its report equals the same net\'s in the columns layout', () => {
    const a = run(rows), b = run(columns);
    expect(b.status).toBe(0);
    // Everything but the settings, which name the files.
    const { settings: _a, ...fromRows } = a.report;
    const { settings: _b, ...fromColumns } = b.report;
    expect(fromRows).toEqual(fromColumns);
  });
});

/**
 * Arrays equal to a few units of rounding: the NumPy backward's matrix products sum in the order of
 * the machine's BLAS (reference BLAS and OpenBLAS differ in the last bit), so an .npz is compared by
 * value, while the JSON and CSV files must match byte for byte.
 */
function sameArrays(committed: string, fresh: string, label: string): void {
  const a = readNpz(committed, 'grads'), b = readNpz(fresh, 'grads');
  expect([...b.keys()], label).toEqual([...a.keys()]);
  for (const [key, t] of a) {
    const u = b.get(key)!;
    expect(u.shape, `${label} ${key}`).toEqual(t.shape);
    const scale = Math.max(...t.data.map(Math.abs));
    const worst = Math.max(0, ...t.data.map((v, i) => Math.abs(v - u.data[i])));
    expect(worst, `${label} ${key}`).toBeLessThanOrEqual(8 * Number.EPSILON * scale);
  }
}

describe('scripts/make_layer_fixtures.py', () => {
  it('writes exactly the committed fixtures', () => {
    const python = pythonWith('numpy, torch', 'The layer fixtures');
    const out = mkdtempSync(join(tmpdir(), 'bpc-layer-fixtures-'));
    const r = spawnSync(python, ['scripts/make_layer_fixtures.py', '--out', out], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)).map((g) => join(f, g)) : [f]));
    for (const name of ['cnn', 'batchnorm', 'dropout', 'rows']) {
      const written = walk(join(out, name)).sort();
      expect(walk(join(root, 'fixtures', name)).sort(), name).toEqual(written);
      for (const f of written) {
        const committed = join(root, 'fixtures', name, f), fresh = join(out, name, f);
        if (f.endsWith('.npz')) sameArrays(committed, fresh, `${name}/${f}`);
        else expect(readFileSync(committed).equals(readFileSync(fresh)), `${name}/${f}`).toBe(true);
      }
    }
  });
});
