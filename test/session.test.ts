// The session protocol's client (io/session.ts) against small protocol programs: the hello, each op,
// batching and pipelining in order, every non-finite form of a cost, and every fault the program can
// commit, each a UserError naming the command, the request, what was expected and what was found.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CostRequest } from '../src/core/session/program.js';
import { UserError } from '../src/io/errors.js';
import { runCli } from './helpers/cli.js';
import { MAX_STEPS_PER_REQUEST, openSession, REQUESTS_IN_FLIGHT } from '../src/io/session.js';
import { parseTensor } from '../src/io/tensor-values.js';

const program = new URL('./session/program.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'bpc-session-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const command = (mode: string) => `node ${program} ${mode}`;
const open = (mode: string, timeoutSeconds = 20, env?: NodeJS.ProcessEnv) =>
  openSession({ command: command(mode) }, { stderr: null, timeoutSeconds, ...(env ? { env: { ...process.env, ...env } } : {}) });

/** J of test/session/program.mjs at its parameters, with one change applied to the flat values. */
function cost(change: (p: { W: number[]; b: number[]; s: number[] }) => void = () => {}): number {
  const p = { W: [0.5, -1, 2, 1.5, 0.25, -0.75], b: [0.3, -0.6, 0.9], s: [0.7] };
  change(p);
  return p.W.reduce((j, w) => j + (w * w) / 2, 0) + p.b.reduce((j, v) => j + (v * v * v) / 3, 0) + 2 * p.s[0] * p.s[0];
}

async function fault(mode: string, act: (p: Awaited<ReturnType<typeof open>>) => Promise<unknown> = (p) => p.grads(), timeoutSeconds = 20): Promise<UserError> {
  let p: Awaited<ReturnType<typeof open>> | undefined;
  try {
    p = await open(mode, timeoutSeconds);
    await act(p);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  } finally {
    await p?.close();
  }
  throw new Error(`no fault from ${mode}`);
}

describe('a session with a program', () => {
  it('reads the hello: names in order, shapes of any rank, layers and dtype', async () => {
    const p = await open('float32');
    try {
      expect(p.params.map((t) => t.name)).toEqual(['W', 'b', 's']);
      expect(p.params.map((t) => t.value.shape)).toEqual([[2, 3], [3], []]);
      expect(Array.from(p.params[0].value.data)).toEqual([0.5, -1, 2, 1.5, 0.25, -0.75]);
      expect(p.layers).toEqual([['W', 'b'], ['s']]);
      expect(p.dtype).toBe('float32');
      expect(p.describe).toBe(`--model "${command('float32')}"`);
    } finally {
      await p.close();
    }
  });

  it('asks for grads, cost and costs along element and direction steps', async () => {
    const p = await open('good');
    try {
      const g = await p.grads();
      expect([...g.keys()]).toEqual(['W', 'b', 's']);
      expect(Array.from(g.get('b')!.data)).toEqual([0.09, 0.36, 0.81].map((v, i) => [0.3, -0.6, 0.9][i] ** 2));
      expect(g.get('s')!.shape).toEqual([]);
      expect(await p.cost()).toBeCloseTo(cost(), 13);
      const requests: CostRequest[] = [
        { param: 'W', index: [1, 2], delta: 1e-3 },
        { param: 's', index: [], delta: 0.1 },
        { param: 'b', direction: { shape: [3], data: Float64Array.of(1, 0, -2) }, scale: 0.1 },
        { param: 'W', direction: { shape: [2, 3], data: Float64Array.of(0, 0, 0, 0, 0, 1) }, scale: -0.5 },
      ];
      const costs = await p.costs(requests);
      expect(costs[0]).toBeCloseTo(cost((q) => { q.W[5] += 1e-3; }), 14);
      expect(costs[1]).toBeCloseTo(cost((q) => { q.s[0] += 0.1; }), 14);
      expect(costs[2]).toBeCloseTo(cost((q) => { q.b[0] += 0.1; q.b[2] -= 0.2; }), 14);
      expect(costs[3]).toBeCloseTo(cost((q) => { q.W[5] -= 0.5; }), 14);
    } finally {
      await p.close();
    }
  });

  it('chunks many steps into requests of at most 512, keeps several in flight, and returns the costs in order', async () => {
    const logFile = join(tmp, 'requests.log');
    const p = await open('good', 20, { SESSION_LOG: logFile });
    try {
      const n = MAX_STEPS_PER_REQUEST * 5 + 7;
      const requests: CostRequest[] = Array.from({ length: n }, (_, i) => ({ param: 'W', index: [i % 2, i % 3], delta: (i + 1) * 1e-4 }));
      const costs = await p.costs(requests);
      for (let i = 0; i < n; i++) expect(costs[i]).toBeCloseTo(cost((q) => { q.W[(i % 2) * 3 + (i % 3)] += (i + 1) * 1e-4; }), 12);
      const sent = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; steps: unknown[] });
      expect(sent.map((r) => r.steps.length)).toEqual([512, 512, 512, 512, 512, 7]);
      expect(sent.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(REQUESTS_IN_FLIGHT).toBeGreaterThanOrEqual(2);
    } finally {
      await p.close();
    }
  });

  it('reads every non-finite form of a cost: bare NaN/Infinity/-Infinity, null, "NaN", "-Infinity"', async () => {
    const p = await open('nan-forms');
    try {
      const costs = await p.costs(Array.from({ length: 7 }, () => ({ param: 's', index: [], delta: 0 })));
      expect(Array.from(costs.subarray(0, 6))).toEqual([NaN, Infinity, -Infinity, NaN, NaN, -Infinity]);
      expect(costs[6]).toBeCloseTo(cost(), 13);
      expect(Number.isNaN(await p.cost())).toBe(false);
    } finally {
      await p.close();
    }
  });

  it('talks to a Python program, reading the bare NaN its json.dumps writes', async () => {
    const py = new URL('./session/program.py', import.meta.url).pathname;
    const p = await openSession({ command: `/usr/bin/python3 ${py}` }, { stderr: null, timeoutSeconds: 20 });
    try {
      expect(Array.from((await p.grads()).get('w')!.data)).toEqual([1, -2, 4, 0.5]);
      const costs = await p.costs([{ param: 'w', index: [0, 1], delta: 0.5 }, { param: 'w', index: [1, 1], delta: -1 }]);
      expect(costs[0]).toBeCloseTo(0.25 + 0.25 + 4 + 0.0625, 14);
      expect(Number.isNaN(costs[1])).toBe(true);
    } finally {
      await p.close();
    }
  });

  it('sends bye on close, and close is safe to call twice', async () => {
    const logFile = join(tmp, 'bye.log');
    const p = await open('good', 20, { SESSION_LOG: logFile });
    await p.cost();
    await p.close();
    await p.close();
    const sent = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string });
    expect(sent.map((r) => r.op)).toEqual(['cost', 'bye']);
    await expect(p.cost()).rejects.toThrow(/expected an open session; found one already closed/);
  });
});

describe('the faults of a program', () => {
  const where = (mode: string) => `--model "${command(mode)}"`;

  it('a debug line before the hello: stdout is the protocol channel', async () => {
    expect((await fault('debug-line')).message).toBe(`${where('debug-line')}, the hello: expected the program's hello, {"protocol": "backprop-check/1", "params": {…}}, as the first line on stdout; found "loading the model...", which is not JSON. stdout is the protocol channel: print debug output to stderr (in Python, print(..., file=sys.stderr)).`);
  });

  it('an exit before the hello, quoting its stderr', async () => {
    expect((await fault('exit-before-hello')).message).toBe(`${where('exit-before-hello')}, the hello: expected the program's hello, {"protocol": "backprop-check/1", "params": {…}}, on stdout; found its exit with status 3 before it. Its stderr ended with: "Traceback (most recent call last): | ModuleNotFoundError: No module named numpy".`);
  });

  it('a command the shell cannot find', async () => {
    let err: UserError | undefined;
    try { await openSession({ command: 'no-such-command-bpc' }, { stderr: null }); } catch (x) { err = x as UserError; }
    expect(err?.message).toMatch(/^--model "no-such-command-bpc", the hello: expected the program's hello, .*; found exit status 127 before it\. The shell could not find the command\./);
  });

  it('no hello within the timeout: the program is killed', async () => {
    expect((await fault('silent', undefined, 0.5)).message).toBe(`${where('silent')}, the hello: expected the hello within 0.5 s; found none after 0.5 s (its process group was killed). Give it longer with --exec-timeout <seconds>, and flush stdout after each line (in Python, print(..., flush=True)).`);
  });

  it('a hello without its newline: the timeout says so', async () => {
    expect((await fault('no-newline', undefined, 0.5)).message).toBe(`${where('no-newline')}, the hello: expected the hello within 0.5 s; found none after 0.5 s (its process group was killed). It wrote part of a line and no "\\n": end each line with a newline. Give it longer with --exec-timeout <seconds>, and flush stdout after each line (in Python, print(..., flush=True)).`);
  });

  it('a wrong protocol version', async () => {
    expect((await fault('wrong-version')).message).toBe(`${where('wrong-version')}, the hello, protocol: expected "backprop-check/1"; found "backprop-check/2". This backprop-check speaks backprop-check/1: update the program or its helper.`);
  });

  it('a ragged tensor in the hello, naming the path', async () => {
    expect((await fault('ragged')).message).toBe(`${where('ragged')}, the hello, params.W[1]: expected a list of 3, like the first at its depth (the tensor is ragged); found a list of 2.`);
  });

  it('a {shape, data} tensor whose data does not fill the shape', async () => {
    expect((await fault('shape-data')).message).toBe(`${where('shape-data')}, the hello, params.W.data: expected 6 numbers (the product of shape [2, 3]); found 5.`);
  });

  it('a missing gradient', async () => {
    expect((await fault('missing-grad')).message).toBe(`${where('missing-grad')}, request 1 (grads), grads: expected a gradient for every parameter of the hello; found none for "b".`);
  });

  it('an extra gradient', async () => {
    expect((await fault('extra-grad')).message).toBe(`${where('extra-grad')}, request 1 (grads), grads: expected the gradient of each parameter of the hello ("W", "b", "s") and nothing else; found a gradient of "c", which the hello did not name.`);
  });

  it('a transposed gradient says so', async () => {
    expect((await fault('transposed-grad')).message).toBe(`${where('transposed-grad')}, request 1 (grads), grads.W: expected shape [2, 3], as the parameter's in the hello; found shape [3, 2] (transposed). Return the gradient in the parameter’s own layout (in NumPy, without .T).`);
  });

  it('an answer that is not JSON', async () => {
    expect((await fault('not-json')).message).toBe(`${where('not-json')}, request 1 (grads): expected one line of JSON; found "{\\"id\\": 1, \\"grads\\": {W: 1}}", which is not JSON. Write each answer with a JSON library, on one line; print anything else to stderr.`);
  });

  it('an answer with the wrong id', async () => {
    expect((await fault('wrong-id')).message).toBe(`${where('wrong-id')}, request 1 (grads): expected the answer to it, {"id": 1, …}, first: answers come one per request, in the order of the requests; found an answer with "id": 2.`);
  });

  it('answers out of order', async () => {
    const steps = Array.from({ length: 2 * MAX_STEPS_PER_REQUEST }, () => ({ param: 's', index: [] as number[], delta: 1e-6 }));
    expect((await fault('swap', (p) => p.costs(steps))).message).toBe(`${where('swap')}, request 1 (costs): expected the answer to it, {"id": 1, …}, first: answers come one per request, in the order of the requests; found an answer with "id": 2 (a later request’s).`);
  });

  it('an error reply, quoted', async () => {
    expect((await fault('error-reply')).message).toBe(`${where('error-reply')}, request 1 (grads): expected its grads; found the error "CUDA out of memory".`);
  });

  it('a line beyond the answer', async () => {
    expect((await fault('extra-line', async (p) => { await p.grads(); await p.cost(); })).message)
      .toMatch(new RegExp(`^${escape(where('extra-line'))}, stdout: expected nothing beyond the answers to the requests sent; found the line "\\{\\\\"id\\\\":1,\\\\"grads\\\\".*" with no request waiting for it\\. Answer each request with exactly one line; write anything else to stderr\\.$`));
  });

  it('a crash mid-session, quoting its stderr', async () => {
    expect((await fault('crash', (p) => p.costs([{ param: 's', index: [], delta: 1e-6 }]))).message).toBe(`${where('crash')}, request 1 (costs): expected an answer; found its exit with status 1 before it answered. Its stderr ended with: "Traceback (most recent call last): | IndexError: index 3 is out of bounds for axis 0 with size 3".`);
  });

  it('a death by signal while requests are in flight, as the shell reports it', async () => {
    const steps = Array.from({ length: 3000 }, () => ({ param: 's', index: [] as number[], delta: 1e-6 }));
    expect((await fault('late-crash', (p) => p.costs(steps))).message).toMatch(/, request 2 \(costs\): expected an answer; found its exit with status 139 \(128 \+ 11: death by signal SIGSEGV, as the shell reports it\) before it answered\./);
  });

  it('a hang past the timeout', async () => {
    expect((await fault('hang', (p) => p.costs([{ param: 's', index: [], delta: 1e-6 }]), 0.5)).message).toBe(`${where('hang')}, request 1 (costs): expected an answer within 0.5 s; found none after 0.5 s (its process group was killed). Give it longer with --exec-timeout <seconds>, and flush stdout after each line (in Python, print(..., flush=True)).`);
  });

  it('a flood: a line longer than the limit', async () => {
    let err: UserError | undefined;
    const p = await openSession({ command: command('flood') }, { stderr: null, maxLineBytes: 1024 * 1024 });
    try { await p.costs([{ param: 's', index: [], delta: 1e-6 }]); } catch (e) { err = e as UserError; } finally { await p.close(); }
    expect(err?.message).toBe(`${where('flood')}, request 1 (costs): expected one JSON object per line, each at most 1 MiB; found a line longer than that (the program was stopped). Answer each request with one line of JSON; write anything else to stderr.`);
  });

  it('an exit between requests (before bye)', async () => {
    expect((await fault('quit', async (p) => { await p.grads(); await new Promise((r) => setTimeout(r, 500)); await p.cost(); })).message)
      .toBe(`${where('quit')}, after request 1: expected the program to wait for requests until "bye"; found its exit with status 0 between requests.`);
  });

  it('too few costs', async () => {
    expect((await fault('count', (p) => p.costs([{ param: 's', index: [], delta: 1e-6 }, { param: 's', index: [], delta: 2e-6 }]))).message).toBe(`${where('count')}, request 1 (costs): expected 2 costs, one per step, in order; found 1.`);
  });

  it('a cost that is not a number', async () => {
    expect((await fault('bad-cost', (p) => p.costs([{ param: 's', index: [], delta: 1e-6 }, { param: 's', index: [], delta: 2e-6 }]))).message).toBe(`${where('bad-cost')}, request 1 (costs), costs[1]: expected a number (or null, "NaN", "Infinity", "-Infinity" for a non-finite cost); found "oops".`);
  });
});

/**
 * A program listening on a Unix-domain socket at `path`, with one parameter s = 0.7: its cost J(s)
 * and the gradient it claims; it answers bye with {"id": n} when `answerBye`, else just hangs up.
 */
function listeningProgram(path: string, J: (s: number) => number, gradient: number, answerBye = true): Promise<Server> {
  const server = createServer((socket) => {
    socket.write(JSON.stringify({ protocol: 'backprop-check/1', params: { s: 0.7 } }) + '\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString();
      for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
        const req = JSON.parse(buffered.slice(0, at)) as { id: number; op: string; steps?: { delta: number }[] };
        buffered = buffered.slice(at + 1);
        if (req.op === 'bye') { socket.end(answerBye ? JSON.stringify({ id: req.id }) + '\n' : undefined); continue; }
        const answer = req.op === 'grads' ? { grads: { s: gradient } } : req.op === 'cost' ? { cost: J(0.7) } : { costs: req.steps!.map((step) => J(0.7 + step.delta)) };
        socket.write(JSON.stringify({ id: req.id, ...answer }) + '\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

describe('--connect: a program listening on a Unix-domain socket', () => {
  /** test/session/program.mjs's model with the `good` behaviour: J = 2s², ∂J/∂s = 4s = 2.8. */
  const serve = (path: string) => listeningProgram(path, (x) => 2 * x ** 2, 2.8);

  it('runs the same session over the socket', async () => {
    const path = join(tmp, 'good.sock');
    const server = await serve(path);
    try {
      const p = await openSession({ socket: path }, { timeoutSeconds: 20 });
      expect(p.describe).toBe(`--connect ${path}`);
      expect(Array.from((await p.grads()).get('s')!.data)).toEqual([2.8]);
      expect(Array.from(await p.costs([{ param: 's', index: [], delta: 0.1 }]))).toEqual([2 * (0.7 + 0.1) ** 2]);
      await p.close();
    } finally {
      server.close();
    }
  });

  it('no such socket', async () => {
    const path = join(tmp, 'none.sock');
    await expect(openSession({ socket: path }, {})).rejects.toThrow(`--connect ${path}: expected a Unix-domain socket that a program speaking backprop-check/1 listens on; found no such socket. Start the program that listens on it first, and give its path.`);
  });

  it('a socket nobody listens on', async () => {
    const path = join(tmp, 'stale.sock');
    // A socket bound and never listened on, as a program that died leaves one behind.
    execFileSync('/usr/bin/python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
    await expect(openSession({ socket: path }, {})).rejects.toThrow(`--connect ${path}: expected a Unix-domain socket that a program speaking backprop-check/1 listens on; found a socket nobody listens on (connection refused). The program that made it has stopped listening: start it again.`);
  });

  it('a program on the socket that hangs up before its hello', async () => {
    const path = join(tmp, 'rude.sock');
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      await expect(openSession({ socket: path }, {})).rejects.toThrow(`--connect ${path}, the hello: expected the program's hello, {"protocol": "backprop-check/1", "params": {…}}, on the socket; found the connection closed by the program before it.`);
    } finally {
      server.close();
    }
  });
});

describe('the command line with --model and --connect', () => {
  it('checks a program: exit 0 when its gradients are right, 1 when not, and --json writes what --format json prints', async () => {
    const good = await runCli(['--model', command('good')]);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/all 3 tensors pass/);
    const json = join(tmp, 'bug.json');
    const bug = await runCli(['--model', command('bug'), '--format', 'json', '--json', json]);
    expect(bug.status, bug.stderr).toBe(1);
    expect(readFileSync(json, 'utf8')).toBe(bug.stdout);
    const report = JSON.parse(bug.stdout) as { checks: { param: string; status: string }[] };
    expect(report.checks.map((c) => [c.param, c.status])).toEqual([['W', 'pass'], ['b', 'fail'], ['s', 'pass']]);
  });

  it('--json also for a net.json check, and --report with --model writes the HTML report', async () => {
    const json = join(tmp, 'xor.json'), html = join(tmp, 'model.html');
    const files = await runCli(['fixtures/xor/net.json', 'fixtures/xor/data.csv', '--json', json]);
    expect(files.status, files.stderr).toBe(0);
    expect((JSON.parse(readFileSync(json, 'utf8')) as { ok: boolean }).ok).toBe(true);
    const model = await runCli(['--model', command('good'), '--report', html, '--format', 'markdown']);
    expect(model.status, model.stderr).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>[\s\S]*--model &quot;node /);
  });

  it('--connect: checks the program listening on the socket', async () => {
    const path = join(tmp, 'cli.sock');
    // J = s³, so ∂J/∂s = 3s²; this program's gradient says 2s² (a wrong factor).
    const server = await listeningProgram(path, (x) => x ** 3, 2 * 0.49, false);
    try {
      const r = await runCli(['--connect', path, '--format', 'json']);
      expect(r.status, r.stderr).toBe(1);
      expect((JSON.parse(r.stdout) as { checks: { status: string }[] }).checks.map((c) => c.status)).toEqual(['fail']);
    } finally {
      server.close();
    }
  });
});

describe('parseTensor', () => {
  const fail = (place: string, expected: string, found: string) => new UserError('t', place, expected, found);
  it('reads numbers, nested lists of any rank and {shape, data}', () => {
    expect(parseTensor(3, 'x', fail, false)).toEqual({ shape: [], data: Float64Array.of(3) });
    expect(parseTensor([[[1], [2]], [[3], [4]]], 'x', fail, false)).toEqual({ shape: [2, 2, 1], data: Float64Array.of(1, 2, 3, 4) });
    expect(parseTensor({ shape: [2, 1], data: [5, 6] }, 'x', fail, false)).toEqual({ shape: [2, 1], data: Float64Array.of(5, 6) });
  });
  it('refuses a ragged list deeper down, a non-finite parameter, and accepts a non-finite gradient', () => {
    expect(() => parseTensor([[1, 2], [3, [4]]], 'x', fail, false)).toThrow('t, x[1][1]: expected a number; found a list of 1.');
    expect(() => parseTensor([1, 'NaN'], 'x', fail, false)).toThrow('t, x[1]: expected a finite number; found NaN.');
    expect(Array.from(parseTensor([1, 'NaN', null, '-Infinity'], 'x', fail, true).data)).toEqual([1, NaN, NaN, -Infinity]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
