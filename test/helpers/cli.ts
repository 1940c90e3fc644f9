// The built command line, run as a user runs it, for the end-to-end tests: `node bin/backprop-check.js`
// with colour off, in the repository root unless told otherwise. vitest's globalSetup
// (test/helpers/build.ts) has made dist/ current, so this runs the source the unit tests import.
import { execFile, spawn, spawnSync, type ChildProcess, type ChildProcessByStdio, type StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
export const bin = join(root, 'bin/backprop-check.js');

export interface CliRun {
  /** The exit status; null when the process died of a signal (or outgrew the output buffer). */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

export interface CliOptions {
  /** Default: the repository root. */
  cwd?: string;
  /** Added to (or, as undefined, removed from) the colour-off environment. */
  env?: Record<string, string | undefined>;
  /** Milliseconds before the process is killed with SIGTERM; default none. */
  timeout?: number;
}

/** Outputs of the 100 MB-input and escape-payload tests stay far below this. */
const MAX_BUFFER = 1 << 26;

/**
 * The test's environment with colour off: NO_COLOR=1 and no FORCE_COLOR (an empty FORCE_COLOR beside
 * NO_COLOR makes Node print a warning on an --exec program's stderr), then `extra` on top.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs the CLI with `args` and resolves when it exits (never rejects: a failure is in `status`). */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return runNode([bin, ...args], options);
}

/** runCli for another Node script (the bad-input harness, which runs the CLI's main() in-process): `args` start with it. */
export function runNode(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, args, {
      cwd: options.cwd ?? root, env: cliEnv(options.env), encoding: 'utf8', timeout: options.timeout ?? 0, maxBuffer: MAX_BUFFER,
    }, (err, stdout, stderr) => resolve({
      status: err ? (typeof err.code === 'number' ? err.code : null) : 0,
      signal: err?.signal ?? null, stdout, stderr, ms: Date.now() - started,
    }));
  });
}

/** runCli, blocking until the CLI exits. */
export function runCliSync(args: string[], options: CliOptions = {}): CliRun {
  const started = Date.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? root, env: cliEnv(options.env), encoding: 'utf8', timeout: options.timeout, maxBuffer: MAX_BUFFER,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

type SpawnOptions = Omit<CliOptions, 'timeout'>;

/** The CLI as a running child, for tests that signal it or close its pipes while it runs (stdio as node's spawn takes it). */
export function spawnCli(args: string[], options?: SpawnOptions & { stdio?: 'pipe' }): ChildProcessByStdio<Writable, Readable, Readable>;
export function spawnCli(args: string[], options: SpawnOptions & { stdio: ['ignore', 'pipe', 'pipe'] }): ChildProcessByStdio<null, Readable, Readable>;
export function spawnCli(args: string[], options: SpawnOptions & { stdio: ['ignore', 'ignore', 'pipe'] }): ChildProcessByStdio<null, null, Readable>;
export function spawnCli(args: string[], options: SpawnOptions & { stdio: 'ignore' }): ChildProcessByStdio<null, null, null>;
export function spawnCli(args: string[], options: SpawnOptions & { stdio?: StdioOptions } = {}): ChildProcess {
  return spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? root, env: cliEnv(options.env), stdio: options.stdio ?? 'pipe' });
}

/** `node bin/backprop-check.js args…` as one sh command line (arguments single-quoted), for shell redirections. */
export function cliCommand(args: string[]): string {
  return [process.execPath, bin, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
}
