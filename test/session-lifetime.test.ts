// Nothing a --model program starts outlives the session: not after a normal end, a timeout or a
// crash, not after Ctrl-C or SIGTERM of backprop-check, not even after its SIGKILL. Each program here
// starts a sleep with a unique number of seconds, and the protocol program itself carries a unique
// marker argument, so that /proc can be searched for both afterwards (as test/exec-lifetime.test.ts does).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openSession } from '../src/io/session.js';
import { spawnCli } from './helpers/cli.js';
import { goneSoon, running, sleeping, until } from './helpers/processes.js';

const program = new URL('./session/program.mjs', import.meta.url).pathname;

/** A number no other test uses, to find this test's processes by. */
let nextMarker = 5100 + (process.pid % 500) * 10;
const marker = () => String(nextMarker++);

const programs = (m: string) => running((cmd) => /(^|\/)node$/.test(cmd[0]) && cmd[1] === program && cmd[3] === m);

/** The shell command: a setsid'd sleep `a` (it left the group), then the protocol program in `mode`, marked `m`. */
const command = (a: string, mode: string, m: string) => `setsid sleep ${a} > /dev/null 2>&1 < /dev/null & node ${program} ${mode} ${m}`;

describe('the lifetime of what --model starts', () => {
  it('leaves nothing running after a normal end (bye)', async () => {
    const a = marker(), m = marker();
    const p = await openSession({ command: command(a, 'good', m) }, { stderr: null, timeoutSeconds: 20 });
    await p.cost();
    expect(programs(m)).toHaveLength(1);
    await p.close();
    expect(await goneSoon(() => sleeping(a))).toBe(true);
    expect(await goneSoon(() => programs(m))).toBe(true);
  });

  it('kills the program, its group and its setsid child on a timeout', async () => {
    const a = marker(), m = marker();
    const p = await openSession({ command: command(a, 'hang', m) }, { stderr: null, timeoutSeconds: 0.5 });
    await expect(p.costs([{ param: 's', index: [], delta: 1e-6 }])).rejects.toThrow(/found none after 0\.5 s \(its process group was killed\)/);
    await p.close();
    expect(await goneSoon(() => sleeping(a))).toBe(true);
    expect(await goneSoon(() => programs(m))).toBe(true);
  });

  it('kills what a crashed program left running', async () => {
    const a = marker(), m = marker();
    const p = await openSession({ command: command(a, 'crash', m) }, { stderr: null, timeoutSeconds: 20 });
    await expect(p.costs([{ param: 's', index: [], delta: 1e-6 }])).rejects.toThrow(/found its exit with status 1 before it answered/);
    await p.close();
    expect(await goneSoon(() => sleeping(a))).toBe(true);
  });

  it('Ctrl-C of backprop-check: a partial report, exit status 130, and nothing left running', async () => {
    const a = marker(), m = marker();
    const cli = spawnCli(['--model', command(a, 'slow', m), '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    cli.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    await until(() => sleeping(a).length > 0 && programs(m).length > 0);
    expect(programs(m)).toHaveLength(1);
    cli.kill('SIGINT');
    expect(await exited).toBe(130);
    expect((JSON.parse(stdout) as { partial?: boolean }).partial).toBe(true);
    expect(await goneSoon(() => sleeping(a))).toBe(true);
    expect(await goneSoon(() => programs(m))).toBe(true);
  });

  it('SIGTERM of backprop-check: it dies of it, and nothing is left running', async () => {
    const a = marker(), m = marker();
    const cli = spawnCli(['--model', command(a, 'hang', m)], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => cli.on('exit', (_code, signal) => resolve(signal)));
    await until(() => sleeping(a).length > 0 && programs(m).length > 0);
    cli.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(await goneSoon(() => sleeping(a))).toBe(true);
    expect(await goneSoon(() => programs(m))).toBe(true);
  });

  it('leaves nothing running when backprop-check is killed with SIGKILL during --model', async () => {
    const a = marker(), m = marker();
    const cli = spawnCli(['--model', command(a, 'hang', m)], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => cli.on('exit', (_code, signal) => resolve(signal)));
    await until(() => sleeping(a).length > 0 && programs(m).length > 0);
    expect(sleeping(a)).toHaveLength(1);
    cli.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await goneSoon(() => sleeping(a))).toBe(true);
    expect(await goneSoon(() => programs(m))).toBe(true);
  });

  it('has /proc to search (the tests above would prove nothing without it)', () => {
    expect(existsSync('/proc/self/cmdline')).toBe(true);
  });
});
