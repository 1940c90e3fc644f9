// The exec protocol (docs/formats.md): run the user's own gradient program (any language) through the
// shell, write { X, Y, params } as JSON to its stdin, read { dW1, db1, … } as JSON from its stdout.
// The program runs under a small supervisor (SUPERVISOR below) in its own process group, which
// kills everything the program started, setsid'd descendants included, when the program exits,
// on a timeout or interruption, and when backprop-check dies, even of SIGKILL. Its stderr is passed through as it arrives, and its last lines are quoted
// in every error. Every way the protocol can fail is a UserError naming the command. The session
// protocol's --model programs (io/session.ts) run under the same supervisor, through supervise().
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import { paramLabel, type Grads, type Model, type Params } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import { parseJsonText } from './json.js';
import { clip, UserError } from './errors.js';
import { assembleTensors, jsonTensors, storedOfBlock, type Layout } from './tensors.js';
import { inShapeOf, outShapeOf, typeOf } from '../core/layers/kind.js';
import { transposed } from '../core/backprop.js';

/** Larger output on stdout is refused (the program is stopped when it passes this). */
export const MAX_EXEC_OUTPUT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 60;

export interface ExecOptions {
  /** Seconds before the program's whole process group is killed. */
  timeoutSeconds?: number;
  /** Bytes of stdout accepted. */
  maxOutputBytes?: number;
  /** Where the program's stderr goes as it arrives; null: nowhere (it is still quoted in errors). */
  stderr?: NodeJS.WritableStream | null;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Nested lists of numbers, as deep as the tensor's rank. */
export type NestedNumbers = number[] | NestedNumbers[];

/**
 * What the program reads on stdin, as nested lists in net.json's layout (tensors.ts): columns,
 * deeplearning.ai's X (features, samples), Y (outputs, samples), W (units, inputs), b (units, 1);
 * rows, PyTorch's X (samples, features), Y (samples, outputs), W (inputs, units), b (units,). Images
 * are (samples, C, H, W) and conv2d weights (filters, C, kh, kw) in both, γ and β (n, 1) or (n,) as
 * biases are, and a dropout entry's mask{l} is among the params, shaped as --params takes it.
 */
export interface ExecPayload {
  X: NestedNumbers;
  Y: NestedNumbers;
  params: Record<string, NestedNumbers>;
}

/** The payload for X (features × samples) and Y (outputs × samples) at these parameters; without a model, a dense net in columns. */
export function execPayload(X: Tensor, Y: Tensor, params: Params, model?: Pick<Model, 'layers'>, layout: Layout = 'columns'): ExecPayload {
  const named: Record<string, NestedNumbers> = {};
  // Each layer's tensors in the order its record holds them (W, then b), labelled W1, b1, …
  params.forEach((tensors, layer) => {
    const dense = !model || typeOf(model.layers[layer]) === 'dense';
    for (const [name, t] of Object.entries(tensors)) named[paramLabel({ layer, name })] = layout === 'rows' ? inRows(t, name, dense) : nested(t);
  });
  model?.layers.forEach((l, i) => {
    if (l.mask) named[`mask${i + 1}`] = samplesBlock(l.mask, outShapeOf(l), layout);
  });
  const input = model ? inShapeOf(model.layers[0]) : [X.shape[0]];
  return { X: samplesBlock(X, input, layout), Y: samplesBlock(Y, [Y.shape[0]], layout), params: named };
}

/** A parameter in the rows layout: a dense W as (inputs, units), any (n, 1) column (b, γ, β) flat; a conv W as it is. */
function inRows(t: Tensor, name: string, dense: boolean): NestedNumbers {
  if (name === 'W' && dense) return nested(transposed(t));
  if (t.shape.length === 2 && t.shape[1] === 1) return Array.from(t.data);
  return nested(t);
}

/** A features × samples block as the layout stores it (tensors.ts storedBlockShape), as nested lists. */
function samplesBlock(block: Tensor, features: readonly number[], layout: Layout): NestedNumbers {
  return nested(storedOfBlock(block, features, layout));
}

/** A row-major tensor as nested lists (a 2-D one as its rows). */
function nested(t: Tensor): NestedNumbers {
  const walk = (level: number, offset: number, stride: number): NestedNumbers => {
    const n = t.shape[level];
    const inner = stride / n;
    if (level === t.shape.length - 1) return Array.from(t.data.subarray(offset, offset + n));
    return Array.from({ length: n }, (_, i) => walk(level + 1, offset + i * inner, inner)) as NestedNumbers;
  };
  return walk(0, 0, t.data.length);
}

/** The gradients an answer holds, and the other gradients in it (dA…, dZ…) that were accepted unchecked. */
export interface ExecAnswer {
  grads: Grads;
  ignored: string[];
}

/** Runs the command on the payload and validates its answer as the model's gradients. */
export async function execGradients(command: string, payload: ExecPayload, model: Model, options: ExecOptions = {}, layout: Layout = 'columns'): Promise<Grads> {
  return (await execAnswer(command, payload, model, options, layout)).grads;
}

/** execGradients, also naming the extra gradients (deeplearning.ai's dA0, dZ1, …) the answer held. */
export async function execAnswer(command: string, payload: ExecPayload, model: Model, options: ExecOptions = {}, layout: Layout = 'columns'): Promise<ExecAnswer> {
  const where = execWhere(command);
  const { stdout, stderrTail } = await runCommand(command, JSON.stringify(payload), options);
  const text = stdout.replace(/^\uFEFF/, '').trim();
  const quote = quoteStderr(stderrTail);
  if (text === '') {
    throw new UserError(where, 'stdout', 'one JSON object { "dW1": [[…]], "db1": [[…]], … }', 'nothing',
      'Print it as the last thing the program does, e.g. in Python: print(json.dumps({k: v.tolist() for k, v in grads.items()})).' + quote);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // (V8's own message is left out: its wording differs between Node versions.)
    throw new UserError(where, 'stdout', 'only one JSON object { "dW1": [[…]], … }',
      `${describeText(text)}, which is not valid JSON`, jsonHint(text) + quote);
  }
  // Valid JSON can still name a tensor twice, and JSON.parse keeps only the last: refuse it, as for files.
  parseJsonText(text, where, 'one JSON object { "dW1": [[…]], … } on stdout');
  const { tensors, ignored } = assembleTensors(jsonTensors(raw, where, 'grads'), model, where, 'grads', 'exec', { layout });
  return { grads: tensors, ignored };
}

/** The command as messages name it: on one line (a newline in it escaped as \n), at most 1,000 characters. */
export function execWhere(command: string): string {
  return `--exec "${clip(command, 1000)}"`;
}

/** The exec protocol in-process, for the library API: a JavaScript function instead of a program. */
export type BackpropFunction = (payload: ExecPayload) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Calls the function on the payload and validates its answer as the model's gradients (and the extra dA…, dZ… it held). */
export async function functionAnswer(fn: BackpropFunction, payload: ExecPayload, model: Model, layout: Layout = 'columns'): Promise<ExecAnswer> {
  const where = 'the backprop function';
  const answer: unknown = await fn(payload);
  const { tensors, ignored } = assembleTensors(jsonTensors(answer, where, 'grads'), model, where, 'grads', 'function', { layout });
  return { grads: tensors, ignored };
}

function describeText(text: string): string {
  const firstLine = text.split('\n', 1)[0];
  const shown = firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine;
  return `${JSON.stringify(shown)}${text.length > firstLine.length ? ' and more' : ''}`;
}

function jsonHint(text: string): string {
  if (/(^|[\s,[:])(-?Infinity|NaN)\b/.test(text)) {
    return 'Its gradients hold NaN or Infinity, which JSON cannot (Python’s json.dumps writes them anyway): find where they come from.';
  }
  const lines = text.split('\n');
  if (lines.length > 1) return 'stdout must hold only the JSON: write any other output to stderr (in Python, print(..., file=sys.stderr)).';
  return 'Write it with a JSON library (in Python, json.dumps on lists: array.tolist()).';
}

/** " Its stderr ended with: "…"." — the last few lines the program wrote, or nothing. */
export function quoteStderr(tail: string): string {
  // (Python's caret lines, "^^^^", only point into the line above.)
  const lines = tail.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !/^[\^~\s]+$/.test(l));
  if (lines.length === 0) return '';
  const last = lines.slice(-3).map((l) => (l.length > 200 ? `${l.slice(0, 197)}...` : l));
  return ` Its stderr ended with: "${last.join(' | ')}".`;
}

interface Finished {
  stdout: string;
  stderrTail: string;
}

const STDERR_TAIL_BYTES = 8192;
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The supervisor that runs the user's command, in plain JavaScript for `node -e`. backprop-check
 * starts it in a new session and process group (detached) with a fourth pipe, the control pipe,
 * whose other end only backprop-check holds. It runs `sh -c command` in its group with the
 * payload pipes as stdin, stdout and stderr, and kills everything the command started when:
 * - the command exits (what it left running would outlive the check);
 * - the control pipe reaches its end: backprop-check closed it (a timeout, Ctrl-C) or died,
 *   even of SIGKILL, which no handler of backprop-check's own could see. (Linux's parent-death
 *   signal, prctl(PR_SET_PDEATHSIG), is not reachable from Node; the pipe is.)
 * "Everything" is found three ways, because a process can leave the group (setsid) and, once
 * its parent has exited, no longer be anyone's child: the group's members; every process whose
 * environment holds this run's token (inherited by every descendant that does not clear its
 * environment); and every descendant seen while polling /proc every 50 ms (an escaped child of a
 * living descendant is its child until then). Each is SIGKILLed, checked against its start time
 * so that a reused pid is never hit, until a round finds nothing. Without /proc (not Linux), the
 * group alone. The command's exit status or signal is written on the control pipe as JSON.
 */
const SUPERVISOR = String.raw`
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const [command, token] = process.argv.slice(1);
const self = process.pid;
const stat = (pid) => {
  try {
    const text = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), start: f[19] };
  } catch { return null; }
};
const pids = () => { try { return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number); } catch { return []; } };
const seen = new Map();
const watch = () => {
  const all = pids().map((pid) => [pid, stat(pid)]).filter(([, s]) => s);
  const parent = new Map(all.map(([pid, s]) => [pid, s.ppid]));
  for (const [pid, s] of all) {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) {
      if (p === self) { seen.set(pid, s.start); break; }
    }
  }
};
const marked = (pid) => { try { return fs.readFileSync('/proc/' + pid + '/environ', 'latin1').includes('BACKPROP_CHECK_EXEC_TOKEN=' + token + '\0'); } catch { return false; } };
const sweep = () => {
  for (let round = 0; round < 20; round++) {
    let found = 0;
    for (const pid of pids()) {
      if (pid === self) continue;
      const s = stat(pid);
      if (!s || s.state === 'Z') continue;
      if (s.pgid === self || seen.get(pid) === s.start || marked(pid)) {
        try { process.kill(pid, 'SIGKILL'); found++; } catch {}
      }
    }
    if (found === 0) return;
  }
};
let finished = false;
const finish = (result) => {
  if (finished) return;
  finished = true;
  sweep();
  try { fs.writeSync(3, JSON.stringify(result) + '\n'); } catch {}
  // Without /proc the sweep found nothing: the group as a whole, this process last of all.
  if (pids().length === 0) { try { process.kill(-self, 'SIGKILL'); } catch {} }
  process.exit(0);
};
const child = spawn('/bin/sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, BACKPROP_CHECK_EXEC_TOKEN: token } });
child.on('error', (e) => finish({ error: e.message }));
child.on('exit', (code, signal) => finish({ code, signal }));
const control = new net.Socket({ fd: 3, readable: true, writable: false });
control.on('data', () => {});
control.on('end', () => finish({ stopped: true }));
control.on('error', () => finish({ stopped: true }));
setInterval(watch, 50).unref();
watch();
`;

/** How a supervised command ended: its exit status or signal, as the supervisor saw it, or why it could not start. */
export interface CommandEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The shell could not be started (the supervisor's spawn error). */
  error?: string;
}

export interface SupervisedHooks {
  /** Each chunk of the command's stdout as it arrives. */
  onStdout(chunk: Buffer): void;
  /** The supervisor could not be started. */
  onSpawnError(err: Error): void;
  /** The supervisor and its pipes are closed (after its group was killed). */
  onClose(end: CommandEnd): void;
  /**
   * SIGINT, SIGTERM or SIGHUP reached backprop-check; `othersListen`: someone else handles it too.
   * True: stop the command now (and, with nobody else listening, die of the signal as we would have).
   */
  onSignal(signal: NodeJS.Signals, othersListen: boolean): boolean;
}

/** A command running under the supervisor: its stdin, its stderr so far, and how to stop it. */
export interface Supervised {
  readonly stdin: import('node:stream').Writable;
  /** The last STDERR_TAIL_BYTES of what the command wrote to stderr. */
  stderrTail(): string;
  /** Stops everything the command started (closing the control pipe; the group after 500 ms; the pipes after 1 s). */
  stop(): void;
  /** Removes the process-wide handlers and the timers (the command has ended or been given up on). */
  release(): void;
}

/**
 * Spawns `command` under the supervisor in its own process group, with its stderr passed through
 * and its last lines kept. The --exec protocol and the session protocol (io/session.ts) both run
 * their programs through this, so that both are killed the same ways.
 */
export function supervise(command: string, options: ExecOptions, hooks: SupervisedHooks): Supervised {
  // Required here, not imported: most checks run no program, and the two modules are ~4 ms of a
  // start (the command line's bundle would load them before anything else).
  const require = createRequire(import.meta.url);
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const passThrough = options.stderr === undefined ? process.stderr : options.stderr;
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const child = spawn(process.execPath, ['-e', SUPERVISOR, command, token], {
    detached: true, // its own session and process group: killed as a whole, and no terminal's Ctrl-C reaches it twice
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    cwd: options.cwd,
    env: options.env ?? process.env,
  });
  const control = child.stdio[3] as import('node:net').Socket;
  let answer = '';
  control.on('data', (chunk: Buffer) => { answer += chunk.toString('utf8'); });
  control.on('error', () => {});
  let stderrTail = '';

  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone (ESRCH), or no process groups here: the child alone, then.
      try { child.kill('SIGKILL'); } catch { /* gone */ }
    }
  };
  // Closing the control pipe tells the supervisor to kill everything the command started, those
  // that left the group included; the group is killed too, after a moment, in case it cannot.
  let backstop: NodeJS.Timeout | undefined;
  const stopAll = (): void => {
    control.destroy();
    backstop ??= setTimeout(killGroup, 500);
  };
  // A process that left the group (setsid) can still hold the pipes; after a second, stop reading.
  let lastResort: NodeJS.Timeout | undefined;
  const stopSoon = (): void => {
    stopAll();
    lastResort ??= setTimeout(() => { child.stdout?.destroy(); child.stderr?.destroy(); }, 1000);
  };
  // Our own exit closes the control pipe whatever the cause: the supervisor then stops the rest.
  const onOurExit = (): void => { control.destroy(); };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!hooks.onSignal(signal, process.listenerCount(signal) > 1)) return;
    control.destroy();
    release();
    // With nobody else listening, die of the signal as we would have without this handler.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  let grace: NodeJS.Timeout | undefined;
  const release = (): void => {
    clearTimeout(grace);
    clearTimeout(lastResort);
    clearTimeout(backstop);
    process.removeListener('exit', onOurExit);
    for (const s of FORWARDED_SIGNALS) process.removeListener(s, onSignal);
  };
  process.on('exit', onOurExit);
  for (const s of FORWARDED_SIGNALS) process.on(s, onSignal);

  child.stdout.on('data', hooks.onStdout);
  const decoder = new StringDecoder('utf8');
  child.stderr.on('data', (chunk: Buffer) => {
    passThrough?.write(chunk);
    stderrTail = (stderrTail + decoder.write(chunk)).slice(-STDERR_TAIL_BYTES);
  });
  // A program that exits without reading all of its stdin closes the pipe under us: not our error.
  child.stdin.on('error', () => {});

  child.on('error', hooks.onSpawnError);
  // Whatever the program left running in its group would hold the pipes open: stop it shortly after.
  child.on('exit', () => { grace = setTimeout(stopSoon, 200); });
  child.on('close', (supervisorCode, supervisorSignal) => {
    killGroup(); // anything it left running in its group, holding the pipes or not
    // The command's own status, as the supervisor saw it (its own, should it have been killed).
    const told = parseAnswer(answer);
    if (told?.error !== undefined) return hooks.onClose({ code: null, signal: null, error: told.error });
    hooks.onClose({ code: told ? told.code ?? null : supervisorCode, signal: told ? told.signal ?? null : supervisorSignal });
  });
  return { stdin: child.stdin, stderrTail: () => stderrTail, stop: stopSoon, release };
}

/** Spawns `command` under the supervisor in its own process group, feeds `input`, and waits for it to exit 0. */
function runCommand(command: string, input: string, options: ExecOptions): Promise<Finished> {
  const where = execWhere(command);
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_EXEC_TIMEOUT_SECONDS;
  const maxOutput = options.maxOutputBytes ?? MAX_EXEC_OUTPUT_BYTES;

  return new Promise<Finished>((resolve, reject) => {
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stopped: 'timeout' | 'output' | NodeJS.Signals | null = null;
    let settled = false;

    const detach = (): void => {
      clearTimeout(timer);
      running.release();
    };
    const fail = (found: string, hint: string, place = ''): void => {
      if (settled) return;
      settled = true;
      detach();
      reject(new UserError(where, place, expectedAnswer(timeoutSeconds), found, (hint + quoteStderr(running.stderrTail())).trim() || undefined));
    };

    const running = supervise(command, options, {
      onStdout: (chunk) => {
        if (stopped) return;
        stdoutBytes += chunk.length;
        if (stdoutBytes > maxOutput) {
          stopped = 'output';
          running.stop();
          return;
        }
        stdout.push(chunk);
      },
      onSpawnError: (err) => fail(`a command the shell could not start (${err.message})`, ''),
      onSignal: (signal) => {
        stopped = signal;
        clearTimeout(timer);
        return true;
      },
      onClose: ({ code, signal, error }) => {
        if (settled) return;
        if (error !== undefined) return fail(`a command the shell could not start (${error})`, '');
        if (stopped === 'timeout') {
          return fail(`no answer after ${timeoutSeconds} s (its process group was killed)`, 'Give it longer with --exec-timeout <seconds>.');
        }
        if (stopped === 'output') {
          return fail(`more than ${byteSize(maxOutput)} on stdout (it was stopped)`, 'Print only the gradients, as one JSON object.', 'stdout');
        }
        if (stopped) return fail(`no answer: interrupted by ${stopped}`, '');
        if (signal) return fail(`death by signal ${signal}`, '');
        if (code !== 0) {
          const hint = code === 127 ? 'The shell could not find the command.' : code === 126 ? 'The command is not executable.' : '';
          return fail(`exit status ${code}`, hint);
        }
        settled = true;
        detach();
        resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderrTail: running.stderrTail() });
      },
    });
    const timer = setTimeout(() => { stopped = 'timeout'; running.stop(); }, Math.min(timeoutSeconds * 1000, 2 ** 31 - 1));
    running.stdin.end(input);
  });
}

/** The supervisor's last word on the control pipe: { code, signal } or { error }, or null if it said nothing. */
function parseAnswer(text: string): { code?: number | null; signal?: NodeJS.Signals | null; error?: string } | null {
  const line = text.trim().split('\n').pop();
  if (!line) return null;
  try {
    const told = JSON.parse(line) as { code?: number | null; signal?: NodeJS.Signals | null; error?: string; stopped?: boolean };
    return told.stopped ? null : told;
  } catch {
    return null;
  }
}

export function byteSize(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

function expectedAnswer(timeoutSeconds: number): string {
  return `the program to print its gradients as JSON on stdout and exit with status 0 within ${timeoutSeconds} s`;
}
