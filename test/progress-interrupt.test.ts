// Ctrl-C during a long check: the binary prints the report of what was checked so far, marked
// partial, and exits with status 130. Spawns the built binary (npm test builds first) on the
// 784-128-64-10 × 64 network of the benchmark, a full check of several seconds.
//
// Node dies of a SIGINT that comes before backprop-check has set its handler (while it loads), so
// the signal is sent after a delay, and again with a longer one if the process died of it. The
// full check itself lasts seconds (on one thread here, so that a machine with many cores does not
// finish it first), a wide window.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES, writeCase } from '../src/bench/cases.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/backprop-check.js');

interface Outcome { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function interruptAfter(files: { net: string; data: string }, ms: number): Promise<Outcome> {
  const child = spawn(process.execPath, [bin, files.net, files.data, '--format', 'json'], {
    cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', BACKPROP_CHECK_THREADS: '1' },
  });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGINT'), ms);
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  }));
}

describe('Ctrl-C', () => {
  it('prints the partial report (what was checked so far) and exits 130', async () => {
    const big = CASES.find((c) => c.sizes[0] === 784)!;
    const files = writeCase(big, root, mkdtempSync(join(tmpdir(), 'bpc-interrupt-')));
    let outcome: Outcome;
    let delay = 1000;
    for (let attempt = 0; ; attempt++) {
      outcome = await interruptAfter(files, delay);
      if (outcome.signal !== 'SIGINT' || attempt === 4) break;
      delay += 1000;
    }
    const { code, signal, stdout, stderr } = outcome;
    expect({ code, signal, stderr }).toEqual({ code: 130, signal: null, stderr: '' });
    const report = JSON.parse(stdout);
    expect(report.partial).toBe(true);
    expect(report.ok).toBe(false);
    const checked = report.checks.reduce((n: number, c: { checked: number }) => n + c.checked, 0);
    expect(checked).toBeLessThan(109_386);
    for (const c of report.checks) expect(c.status).toBe('pass');
  }, 300_000);
});
