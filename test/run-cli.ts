// The built command line, run as a user runs it (colour off), for the end-to-end tests.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/backprop-check.js with `args` in `cwd` (default: the repository root). */
export function runCli(args: string[], cwd = root): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/backprop-check.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' } },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
  });
}
