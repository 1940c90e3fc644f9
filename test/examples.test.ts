// The NumPy examples (fixtures/examples/numpy), run for real through the built CLI: the story's buggy
// backprop fails with both of its bugs named, the fixed one passes — through --exec and through
// --params/--grads .npz files. These need a python3 with NumPy (.ci/run installs python3-numpy).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/core/report.js';
import { pythonWith } from './helpers/python.js';
import { root, runCliSync } from './helpers/cli.js';

const seed = ['fixtures/seed/net.json', 'fixtures/seed/data.csv'];
const examples = 'fixtures/examples/numpy';
let python = '';

function cli(args: string[]) {
  const r = runCliSync([...seed, ...args]);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The findings at error severity, as "code@layer". */
function errors(report: Report): string[] {
  return report.findings.filter((f) => f.severity === 'error').map((f) => `${f.code}@${f.layer}`).sort();
}

beforeAll(() => { python = pythonWith('numpy', 'The NumPy examples'); });

describe('--exec with the NumPy exec adapter', () => {
  it('buggy: exit 1, every tensor fails, the JUnit report names both bugs at layer 4', () => {
    const r = cli(['--exec', `${python} ${examples}/exec_adapter.py buggy`, '--format', 'junit']);
    expect(r.status).toBe(1);
    // Parsed by Python's own XML parser: an independent opinion on well-formedness.
    const parsed = spawnSync(python, ['-c', [
      'import sys, xml.etree.ElementTree as ET',
      'suite = ET.fromstring(sys.stdin.read()).find("testsuite")',
      'for case in suite.findall("testcase"):',
      '    failure = case.find("failure")',
      '    print(case.get("classname"), case.get("name"), "|", failure.get("message") if failure is not None else "pass")',
    ].join('\n')], { input: r.stdout, encoding: 'utf8' });
    expect(parsed.status).toBe(0);
    const lines = parsed.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' |')[0])).toEqual(['layer 1 W1', 'layer 1 b1', 'layer 2 W2', 'layer 2 b2', 'layer 3 W3', 'layer 3 b3', 'layer 4 W4', 'layer 4 b4']);
    for (const line of lines) expect(line).toMatch(/\| \w+: relative error /);
    const w4 = lines.find((l) => l.startsWith('layer 4 W4'))!;
    expect(w4).toContain('wrong-output-gradient:');
    expect(w4).toContain('wrong-activation-derivative:');
  });

  it('fixed: exit 0, and the Markdown summary says all 8 tensors pass', () => {
    const r = cli(['--exec', `${python} ${examples}/exec_adapter.py fixed`, '--format', 'markdown']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('### backprop-check: ✅ all 8 tensors pass');
    expect(r.stdout).toContain('the gradients from your --exec program match finite differences');
  });
});

describe('--params/--grads with the .npz files dump_npz.py writes', () => {
  const out = mkdtempSync(join(tmpdir(), 'bpc-examples-'));

  it.each([['buggy', 1], ['fixed', 0]] as const)('%s: exit %i', (which, status) => {
    const dir = join(out, which);
    const dump = spawnSync(python, [`${examples}/dump_npz.py`, which, dir], { cwd: root, encoding: 'utf8' });
    expect(dump.status).toBe(0);
    const r = cli(['--params', join(dir, 'params.npz'), '--grads', join(dir, 'grads.npz'), '--format', 'json']);
    expect(r.status).toBe(status);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.source).toBe('grads');
    expect(report.checks).toHaveLength(8);
    if (which === 'buggy') {
      expect(report.checks.every((c) => c.status === 'fail')).toBe(true);
      expect(errors(report)).toEqual(['wrong-activation-derivative@4', 'wrong-output-gradient@4']);
    } else {
      for (const c of report.checks) expect(c.relativeError).toBeLessThan(1e-7);
      expect(errors(report)).toEqual([]);
    }
  });
});
