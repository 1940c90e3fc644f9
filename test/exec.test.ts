// The exec protocol (SPEC.md, "Exec protocol"): what the program reads, what it may print, and
// every way it can fail — each a UserError naming the command and quoting the program's stderr.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { execAnswer, execGradients, execPayload, type ExecPayload } from '../src/io/exec.js';
import { run } from '../src/run.js';
import { root, runCliSync, spawnCli } from './helpers/cli.js';
import { fixtureNetwork } from './helpers/network.js';

const { model, params, X, Y } = fixtureNetwork('xor', 3);
const payload = execPayload(X, Y, params);
const tmp = mkdtempSync(join(tmpdir(), 'bpc-exec-'));
const quiet = { stderr: null, timeoutSeconds: 20 };

/** A program in a file: `node <tmp>/<name>.mjs`. */
function program(name: string, source: string): string {
  const file = join(tmp, `${name}.mjs`);
  writeFileSync(file, source);
  return `node --no-warnings ${file}`;
}

const readStdin = `let text = ''; for await (const c of process.stdin) text += c; const p = JSON.parse(text);`;
// Gradients that depend on what was read: dW = 2·W, db = b + 1 (so the test sees the payload arrived).
const echo = program('echo', `${readStdin}
const out = {};
for (const [k, v] of Object.entries(p.params)) out['d' + k] = v.map((row) => row.map((x) => k[0] === 'W' ? 2 * x : x + 1));
process.stderr.write('read ' + p.X[0].length + ' samples\\n');
console.log(JSON.stringify(out));`);

const zeros = JSON.stringify({ dW1: [[0, 0], [0, 0], [0, 0], [0, 0]], db1: [[0], [0], [0], [0]], dW2: [[0, 0, 0, 0]], db2: [[0]] });

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).name).toBe('UserError');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('the payload', () => {
  it('holds X (features × samples), Y (outputs × samples) and the params as nested lists, biases as columns', () => {
    expect(payload.X).toHaveLength(2);
    expect(payload.X[0]).toHaveLength(200);
    expect(payload.Y).toHaveLength(1);
    expect(payload.X[0][0]).toBe(0.012978); // fixtures/xor/data.csv, first row
    expect(payload.X[1][0]).toBe(-0.065983);
    expect(payload.Y[0].slice(0, 2)).toEqual([0, 1]);
    expect(Object.keys(payload.params)).toEqual(['W1', 'b1', 'W2', 'b2']);
    const w = Array.from(params[0].W.data);
    expect(payload.params.W1).toEqual([w.slice(0, 2), w.slice(2, 4), w.slice(4, 6), w.slice(6, 8)]);
    expect(payload.params.b1).toEqual(Array.from(params[0].b!.data, (x) => [x]));
    expect(payload.params.W2).toEqual([Array.from(params[1].W.data)]);
  });
});

describe('execGradients', () => {
  it('sends the payload on stdin, reads the gradients from stdout and passes stderr through', async () => {
    const stderr = new PassThrough();
    let passed = '';
    stderr.on('data', (c) => { passed += c; });
    const grads = await execGradients(echo, payload, model, { stderr });
    expect(Array.from(grads[0].W.data)).toEqual(Array.from(params[0].W.data, (x) => 2 * x));
    expect(Array.from(grads[1].b!.data)).toEqual(Array.from(params[1].b!.data, (x) => x + 1));
    expect(passed).toBe('read 200 samples\n');
  });

  it('does not mind a program that never reads its (large) stdin', async () => {
    const big: ExecPayload = { ...payload, X: [Array.from({ length: 400_000 }, (_, i) => i / 7)] };
    const grads = await execGradients(`echo '${zeros}'`, big, model, quiet);
    expect(grads[1].W.data).toEqual(new Float64Array(4));
  });

  it.each([
    ['a non-zero exit, quoting the last lines of stderr', 'echo one >&2; echo two >&2; echo three >&2; echo "  ^^^^" >&2; echo four >&2; exit 3',
      'expected the program to print its gradients as JSON on stdout and exit with status 0 within 20 s; found exit status 3. Its stderr ended with: "two | three | four".'],
    ['a command the shell cannot find', 'no-such-program-bpc',
      'expected the program to print its gradients as JSON on stdout and exit with status 0 within 20 s; found exit status 127. The shell could not find the command. Its stderr ended with: "/bin/sh: 1: no-such-program-bpc: not found".'],
    ['death by a signal', 'kill -SEGV $$',
      'expected the program to print its gradients as JSON on stdout and exit with status 0 within 20 s; found death by signal SIGSEGV.'],
    ['nothing on stdout', 'true',
      'stdout: expected one JSON object { "dW1": [[…]], "db1": [[…]], … }; found nothing. Print it as the last thing the program does, e.g. in Python: print(json.dumps({k: v.tolist() for k, v in grads.items()})).'],
    ['debugging output before the JSON', `echo 'cost 0.69'; echo '${zeros}'`,
      'stdout: expected only one JSON object { "dW1": [[…]], … }; found "cost 0.69" and more, which is not valid JSON. stdout must hold only the JSON: write any other output to stderr (in Python, print(..., file=sys.stderr)).'],
    ['NaN, as Python’s json.dumps writes it', `echo '{"dW1": [[NaN, 1]]}'`,
      'stdout: expected only one JSON object { "dW1": [[…]], … }; found "{\\"dW1\\": [[NaN, 1]]}", which is not valid JSON. Its gradients hold NaN or Infinity, which JSON cannot (Python’s json.dumps writes them anyway): find where they come from.'],
    ['a transposed tensor', `echo '${zeros.replace('"dW1":[[0,0],[0,0],[0,0],[0,0]]', '"dW1":[[0,0,0,0],[0,0,0,0]]')}'`,
      'tensor dW1: expected shape (4, 2); found shape (2, 4), its transpose. Store dW1 as (units, inputs), as in deeplearning.ai code: save dW1.T.'],
    ['a missing tensor', `echo '{"dW1": [[0,0],[0,0],[0,0],[0,0]]}'`,
      'tensor dW2: expected a tensor dW2 of shape (1, 4); found none.'],
    ['a gradient of an activation the net does not have', `echo '${zeros.replace('{', '{"dA3": [[1]], ')}'`,
      'tensor dA3: expected only the tensors dW1, db1, dW2, db2; found an unexpected tensor "dA3". dA3 would be the gradient of A3, which a 2-layer net does not have: beside dW1 … dW2 and db1 … db2, only dA0 … dA2 and dZ1 … dZ2 are accepted (and not checked).'],
    ['every dW transposed (the other layout throughout)', `echo '${zeros.replace('"dW1":[[0,0],[0,0],[0,0],[0,0]]', '"dW1":[[0,0,0,0],[0,0,0,0]]').replace('"dW2":[[0,0,0,0]]', '"dW2":[[0],[0],[0],[0]]')}'`,
      'expected weights stored as (units, inputs), as in deeplearning.ai code: dW1 (4, 2), dW2 (1, 4); found the (inputs, units) layout of Keras and X @ W code throughout: dW1 (2, 4), dW2 (4, 1), their transposes. Add "layout": "rows" to net.json, or store every dW transposed: print(json.dumps({k: (v.T if k.startswith("dW") else v).tolist() for k, v in grads.items()})).'],
  ])('reports %s', async (_what, command, message) => {
    expect(await messageOf(execGradients(command, payload, model, quiet))).toBe(`--exec "${command}"${message.startsWith('expected') ? ': ' : ', '}${message}`);
  });

  it('accepts deeplearning.ai’s other gradients (dA0 … dA2, dZ1, dZ2) beside dW and db, and names them', async () => {
    const answer = await execAnswer(`echo '${zeros.replace('{', '{"dA0": [[1, 2]], "dA1": [[3]], "dZ2": [[4]], ')}'`, payload, model, quiet);
    expect(answer.ignored).toEqual(['dA0', 'dA1', 'dZ2']);
    expect(answer.grads[0].W.data).toEqual(new Float64Array(8));
  });

  it('kills the whole process group on a timeout', async () => {
    const pidFile = join(tmp, 'background.pid');
    const command = `sleep 30 & echo $! > ${pidFile}; wait`;
    const started = Date.now();
    expect(await messageOf(execGradients(command, payload, model, { stderr: null, timeoutSeconds: 0.3 }))).toBe(
      `--exec "${command}": expected the program to print its gradients as JSON on stdout and exit with status 0 within 0.3 s; found no answer after 0.3 s (its process group was killed). Give it longer with --exec-timeout <seconds>.`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    const pid = readFileSync(pidFile, 'utf8').trim();
    expect(await goneSoon(pid)).toBe(true);
  });

  it('stops a program whose output passes the cap', async () => {
    const message = await messageOf(execGradients('yes', payload, model, { stderr: null, maxOutputBytes: 64 * 1024 }));
    expect(message).toBe('--exec "yes", stdout: expected the program to print its gradients as JSON on stdout and exit with status 0 within 60 s; found more than 64 KiB on stdout (it was stopped). Print only the gradients, as one JSON object.');
  });

  it('does not wait for a process that left the group (setsid) but holds stdout open', async () => {
    const started = Date.now();
    const grads = await execGradients(`setsid sleep 5 & echo '${zeros}'`, payload, model, quiet);
    expect(grads[0].b!.data).toEqual(new Float64Array(4));
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('stops what the program left running once it has answered', async () => {
    const pidFile = join(tmp, 'straggler.pid');
    const started = Date.now();
    const grads = await execGradients(`sleep 30 > /dev/null 2>&1 & echo $! > ${pidFile}; sleep 30 & echo '${zeros}'`, payload, model, quiet);
    expect(grads).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await goneSoon(readFileSync(pidFile, 'utf8').trim())).toBe(true);
  });
});

/** Polls (a SIGKILL takes effect soon, not at once) until the process is gone, for up to 10 s
 *  (3 s was once too short in a full parallel run on a loaded machine). */
async function goneSoon(pid: string): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/** Running, not a zombie (an orphan's zombie lingers where nothing reaps it, as in containers). */
function alive(pid: string): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  return !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
}

describe('--exec through run() and the CLI', () => {
  const files = { net: 'fixtures/xor/net.json', data: 'fixtures/xor/data.csv' };

  it('checks the program’s gradients at the spec’s initialisation (correct ones pass, source "exec")', async () => {
    const report = await run({ ...files, exec: 'node fixtures/examples/js/backprop.mjs', execStderr: null });
    expect(report.source).toBe('exec');
    expect(report.ok).toBe(true);
    expect(report.settings).toMatchObject({ epsilon: DEFAULT_OPTIONS.epsilon, mode: 'full' });
    const wrong = await run({ ...files, exec: echo, execStderr: null });
    expect(wrong.ok).toBe(false);
  });

  it('a deeplearning.ai grads dict printed whole passes, with an info note naming the extra entries', async () => {
    const dict = program('dict', `import { backprop } from ${JSON.stringify(join(root, 'fixtures/examples/js/backprop.mjs'))};
${readStdin}
const g = backprop(p);
console.log(JSON.stringify({ dA1: [[0]], ...g, dZ2: [[0]], dA0: p.X }));`);
    const report = await run({ ...files, exec: dict, execStderr: null });
    expect(report.ok).toBe(true);
    expect(report.findings.filter((f) => f.code === 'extra-gradients')).toEqual([{
      code: 'extra-gradients', severity: 'info',
      message: 'The --exec answer also holds dA1, dZ2, dA0: gradients of activations or pre-activations (as a deeplearning.ai grads dict keeps them), not of parameters. They were accepted and not checked.',
      fix: 'Nothing to fix. To leave them out, keep only dW and db: {k: v for k, v in grads.items() if k.startswith(("dW", "db"))}.',
      evidence: { tensors: 'dA1, dZ2, dA0' },
    }]);
    const plain = await run({ ...files, exec: 'node fixtures/examples/js/backprop.mjs', execStderr: null });
    expect(plain.findings.some((f) => f.code === 'extra-gradients')).toBe(false);
  });

  it('refuses --exec together with --grads', async () => {
    expect(await messageOf(run({ ...files, exec: 'true', grads: 'fixtures/npz/grads_xor.npz', params: 'fixtures/npz/f8_c.npz' }))).toBe(
      'command line, --exec: expected only one of --exec and --grads: each gives the gradients under test; found both.',
    );
  });

  it('stops the program’s process group when backprop-check is interrupted (Ctrl-C: exit 130)', async () => {
    const pidFile = join(tmp, 'interrupted.pid');
    const command = `sleep 30 & echo $! > ${pidFile}; wait`;
    const cli = spawnCli([files.net, files.data, '--exec', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    cli.stderr.on('data', (c) => { stderr += c; });
    const exited = new Promise<number | null>((resolve) => cli.on('close', (code) => resolve(code)));
    for (let i = 0; i < 300 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== ''); i++) await new Promise((r) => setTimeout(r, 100));
    const pid = readFileSync(pidFile, 'utf8').trim();
    expect(alive(pid)).toBe(true);
    cli.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await goneSoon(pid)).toBe(true);
    expect(stderr).toBe(`backprop-check: --exec "${command}": expected the program to print its gradients as JSON on stdout and exit with status 0 within 60 s; found no answer: interrupted by SIGINT.\n`);
  });

  it('without a SIGINT handler of the caller’s own, stops the program and dies of the signal', async () => {
    const pidFile = join(tmp, 'library.pid');
    const script = join(tmp, 'library.mjs');
    writeFileSync(script, `import { run } from ${JSON.stringify(join(root, 'dist/run.js'))};
await run({ net: ${JSON.stringify(join(root, files.net))}, data: ${JSON.stringify(join(root, files.data))}, exec: 'sleep 30 & echo $! > ${pidFile}; wait' });`);
    const lib = spawn(process.execPath, [script], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => lib.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 300 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== ''); i++) await new Promise((r) => setTimeout(r, 100));
    const pid = readFileSync(pidFile, 'utf8').trim();
    expect(alive(pid)).toBe(true);
    lib.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(await goneSoon(pid)).toBe(true);
  });

  it('exits 2 with one paragraph for a protocol failure, the program’s stderr passed through first', () => {
    const r = runCliSync([files.net, files.data, '--exec', 'echo "Traceback: boom" >&2; exit 1']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'Traceback: boom\nbackprop-check: --exec "echo "Traceback: boom" >&2; exit 1": expected the program to print its gradients as JSON on stdout and exit with status 0 within 60 s; found exit status 1. Its stderr ended with: "Traceback: boom".\n',
    );
  });
});
