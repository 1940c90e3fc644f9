// The Python helper's own tests (python/tests, unittest): serve() against a scripted client, check()
// and assert_gradients() against a fake CLI, and a run with NumPy's import blocked. They need a
// python3 with NumPy (.ci/run installs python3-numpy), as the NumPy examples do.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pythonWith } from './helpers/python.js';
import { root } from './helpers/cli.js';

const tests = join(root, 'python', 'tests');
let python = '';

beforeAll(() => { python = pythonWith('numpy', 'The Python helper tests'); });

describe('python/ (backprop_check)', () => {
  // One vitest case per test module, so a failure names the module and prints unittest's report.
  for (const file of readdirSync(tests).filter((f) => /^test_.*\.py$/.test(f)).sort()) {
    it(file, () => {
      const r = spawnSync(python, ['-m', 'unittest', '-v', file.replace(/\.py$/, '')], {
        cwd: tests,
        env: { ...process.env, PYTHONPATH: [join(root, 'python'), tests].join(delimiter), PYTHONDONTWRITEBYTECODE: '1' },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/\nOK( \(skipped=\d+\))?\n$/);
    }, 130_000);
  }
});

describe('python/ in the npm package', () => {
  it('ships the helper without its tests or bytecode', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const f of ['python/backprop_check/__init__.py', 'python/backprop_check/_serve.py', 'python/pyproject.toml', 'python/README.md']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('python/tests/') || f.includes('__pycache__'))).toEqual([]);
  });

  it('finds the CLI next to itself (../../bin/backprop-check.js, run with node) when BACKPROP_CHECK_CLI is not set', () => {
    const env = { ...process.env, PYTHONPATH: join(root, 'python'), PYTHONDONTWRITEBYTECODE: '1' };
    delete env.BACKPROP_CHECK_CLI;
    const r = spawnSync(python, ['-c', 'import json, backprop_check._check as c; print(json.dumps(c.cli_command()))'], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [node, cli] = JSON.parse(r.stdout) as string[];
    expect(node).toMatch(/node$/);
    expect(cli).toBe(join(root, 'bin', 'backprop-check.js'));
  });
});
