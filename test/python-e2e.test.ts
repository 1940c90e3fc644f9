// The Python helper end to end, against the real command line (not python/tests' fake one): what a
// notebook or a pytest file does (test/python-e2e/notebook.py).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonWith } from './helpers/python.js';
import { root } from './helpers/cli.js';

let python = '';
const dir = mkdtempSync(join(tmpdir(), 'bc-python-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => { python = pythonWith('numpy', 'The Python helper tests'); });

describe('backprop_check from Python, with the real command line', () => {
  it('check() prints the table and returns the report; assert_gradients() raises with the table and findings; bad options raise BackpropCheckError', () => {
    const html = join(dir, 'check.html');
    const env = { ...process.env, PYTHONPATH: join(root, 'python'), PYTHONDONTWRITEBYTECODE: '1' };
    delete env.BACKPROP_CHECK_CLI;
    const r = spawnSync(python, [join(root, 'test', 'python-e2e', 'notebook.py'), html], { env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    // tanh' written as 1 - a: W1 and b1 are wrong, W2 and b2 right; grouped as the layers say.
    expect(out.buggy).toMatchObject({ ok: false, source: 'model', failing: ['W1', 'b1'], layers: [1, 1, 2, 2] });
    expect(out.buggy.table).toMatch(/│ +1 │ W1 +│ 5×4 .*FAIL/);
    expect(out.buggy.table).toMatch(/2 of 4 tensors fail \(W1, b1\)/);
    expect(out.calls).toBeGreaterThan(2 * 34);
    expect(out.assert_buggy).toMatch(/FAIL/);
    expect(out.assert_buggy).toMatch(/W1/);
    expect(out.restored).toBe(true);
    expect(out.fixed).toEqual({ ok: true, mode: 'directional', taylor: ['pass', 'pass', 'pass', 'pass'] });
    expect(out.bad).toMatch(/--tolerance/);
    expect(existsSync(html)).toBe(true);
    expect(readFileSync(html, 'utf8')).toMatch(/<title>backprop-check: --connect /);
  }, 130_000);
});
