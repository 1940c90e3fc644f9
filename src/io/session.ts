// The session protocol (SPEC "Your code is the model"): the user's program owns its parameters, data
// and code, and answers JSON Lines requests — its gradients, its cost, and batches of costs at
// stepped parameters. `--model "<cmd>"` starts it through the shell under exec's supervisor (its own
// process group, killed on a timeout, Ctrl-C or our exit); `--connect <socket>` talks to a program
// already listening on a Unix-domain socket. Either way the program becomes a CostProgram
// (core/session/program.ts), and every way it can break the protocol is a UserError naming the
// command, the request, what was expected and what was found, with its last stderr lines.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { CostProgram, CostRequest, DirectionStep, ElementStep, ProgramTensor } from '../core/session/program.js';
import { size, type Tensor } from '../core/tensor.js';
import { clip, show, UserError } from './errors.js';
import { NON_FINITE, parseTensor, type Fail } from './tensor-values.js';
import { byteSize, DEFAULT_EXEC_TIMEOUT_SECONDS, MAX_EXEC_OUTPUT_BYTES, quoteStderr, supervise, type CommandEnd } from './exec.js';

export const PROTOCOL = 'backprop-check/1';
/** Element steps per `costs` request: small enough to answer in well under a second, large enough that the pipe is not the cost. */
export const MAX_STEPS_PER_REQUEST = 512;
/** Numbers sent per request of direction steps (at least one direction each). */
export const MAX_DIRECTION_NUMBERS_PER_REQUEST = 1 << 16;
/** Requests sent before the oldest is answered: the program never waits for the next one. */
export const REQUESTS_IN_FLIGHT = 3;

export interface SessionOptions {
  /** Seconds to wait for the hello, and for each answer (--exec-timeout). */
  timeoutSeconds?: number;
  /** The longest line accepted from the program (bytes). */
  maxLineBytes?: number;
  /** Where a --model program's stderr goes as it arrives; null: nowhere (it is still quoted in errors). */
  stderr?: NodeJS.WritableStream | null;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export type SessionTarget = { command: string } | { socket: string };

/** The program as messages name it: `--model "<cmd>"` or `--connect <path>`. */
export function sessionWhere(target: SessionTarget): string {
  return 'command' in target ? `--model "${clip(target.command, 1000)}"` : `--connect ${clip(target.socket, 1000)}`;
}

/** Starts (or connects to) the program, reads its hello, and offers it as a CostProgram. */
export async function openSession(target: SessionTarget, options: SessionOptions = {}): Promise<CostProgram> {
  const session = new Session(target, options);
  try {
    return await session.start();
  } catch (e) {
    await session.close();
    throw e;
  }
}

/** The byte transport under the protocol: a supervised command's pipes or a socket. */
interface Channel {
  send(text: string): void;
  stderrTail(): string;
  /** The program is asked to end: its input is closed; resolves when it has ended or after `graceMs`, then it is stopped. */
  hangUp(graceMs: number): Promise<void>;
  /** Stops it now (a fault, a timeout); idempotent. */
  kill(): void;
}

/** What the channel tells the session. */
interface ChannelEvents {
  data(chunk: Buffer): void;
  /** The program ended (or the connection closed): how, in words, for the message. */
  end(found: string, hint: string): void;
  /** The socket could not be connected to: why, in words. */
  unreachable(found: string, hint: string): void;
  /** backprop-check got a signal nobody else handles: the program is being stopped. */
  interrupted(signal: NodeJS.Signals): void;
}

function commandChannel(command: string, options: SessionOptions, events: ChannelEvents): Channel {
  let ended: ((v: void) => void) | null = null;
  const done = new Promise<void>((resolve) => { ended = resolve; });
  // Once the supervisor has closed, its group is gone: nothing is stopped (or killed by number) again.
  let over = false;
  const stop = (): void => { if (!over) running.stop(); };
  const running = supervise(command, options, {
    onStdout: (chunk) => events.data(chunk),
    onSpawnError: (err) => { events.end(`a command the shell could not start (${err.message})`, ''); },
    // Ctrl-C of a check: backprop-check's own handler stops the check and closes the session, which
    // reports what was checked; only with nobody else listening is the program stopped here.
    onSignal: (signal, othersListen) => {
      if (othersListen) return false;
      events.interrupted(signal);
      return true;
    },
    onClose: (end) => {
      over = true;
      running.release();
      events.end(...endText(end));
      ended?.();
    },
  });
  return {
    send: (text) => { running.stdin.write(text); },
    stderrTail: () => running.stderrTail(),
    hangUp: async (graceMs) => {
      running.stdin.end();
      const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([done, timer]);
      stop();
      await Promise.race([done, new Promise<void>((resolve) => setTimeout(resolve, 1500).unref())]);
    },
    kill: stop,
  };
}

function endText(end: CommandEnd): [string, string] {
  if (end.error !== undefined) return [`a command the shell could not start (${end.error})`, ''];
  if (end.signal) return [`its death by signal ${end.signal}`, ''];
  if (end.code === 127) return ['exit status 127', 'The shell could not find the command.'];
  if (end.code === 126) return ['exit status 126', 'The command is not executable.'];
  const signal = end.code !== null && end.code > 128 ? Object.entries(constants.signals).find(([, n]) => n === end.code! - 128)?.[0] : undefined;
  if (signal) return [`its exit with status ${end.code} (128 + ${end.code! - 128}: death by signal ${signal}, as the shell reports it)`, ''];
  return [`its exit with status ${end.code}`, ''];
}

const CONNECT_ERRORS: Record<string, [string, string]> = {
  ENOENT: ['no such socket', 'Start the program that listens on it first, and give its path.'],
  ECONNREFUSED: ['a socket nobody listens on (connection refused)', 'The program that made it has stopped listening: start it again.'],
  ENOTSOCK: ['a file that is not a socket', 'Give the path of the Unix-domain socket the program listens on.'],
  EACCES: ['a socket it may not connect to (permission denied)', ''],
  ENAMETOOLONG: ['a path too long for a Unix-domain socket', 'Use a shorter path (at most about 100 characters).'],
};

function socketChannel(path: string, events: ChannelEvents): Channel {
  // Required here, as exec.ts requires child_process: only --connect needs it.
  const { connect } = createRequire(import.meta.url)('node:net') as typeof import('node:net');
  const socket: Socket = connect(path);
  let connected = false;
  let closed = false;
  const done = new Promise<void>((resolve) => socket.once('close', () => { closed = true; resolve(); }));
  socket.on('connect', () => { connected = true; });
  socket.on('data', (chunk: Buffer) => events.data(chunk));
  socket.on('error', (e: NodeJS.ErrnoException) => {
    if (connected) return events.end(`the connection failing (${e.code ?? e.message})`, '');
    const [found, hint] = CONNECT_ERRORS[e.code ?? ''] ?? [`a connection that failed (${e.code ?? e.message})`, ''];
    events.unreachable(found, hint);
  });
  socket.on('close', () => events.end('the connection closed by the program', ''));
  return {
    send: (text) => { if (!closed) socket.write(text); },
    stderrTail: () => '',
    hangUp: async (graceMs) => {
      socket.end();
      await Promise.race([done, new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())]);
      socket.destroy();
    },
    kill: () => { socket.destroy(); },
  };
}

interface Pending {
  id: number;
  op: 'grads' | 'cost' | 'costs';
  /** Reads the answer (throwing the UserError of a wrong one) and resolves the request with it. */
  accept(answer: Record<string, unknown>): void;
  reject(error: UserError): void;
}

const NEWLINE = 0x0a;

class Session {
  private readonly where: string;
  /** Where the program's lines come from, in messages. */
  private readonly stream: string;
  private readonly timeoutSeconds: number;
  private readonly maxLine: number;
  private channel: Channel | null = null;
  private readonly pending: Pending[] = [];
  private nextId = 1;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private fault: UserError | null = null;
  private helloWaiter: { accept(line: string): void; reject(e: UserError): void } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | null = null;
  private helloRead = false;

  constructor(private readonly target: SessionTarget, private readonly options: SessionOptions) {
    this.where = sessionWhere(target);
    this.stream = 'command' in target ? 'stdout' : 'the socket';
    this.timeoutSeconds = options.timeoutSeconds ?? DEFAULT_EXEC_TIMEOUT_SECONDS;
    this.maxLine = options.maxLineBytes ?? MAX_EXEC_OUTPUT_BYTES;
  }

  async start(): Promise<CostProgram> {
    if ('command' in this.target && this.target.command.trim() === '') {
      throw new UserError('command line', '--model', 'a command to run', 'an empty string');
    }
    const events: ChannelEvents = {
      data: (chunk) => this.onData(chunk),
      end: (found, hint) => this.onEnd(found, hint),
      unreachable: (found, hint) => this.failAll(this.fail('', `a Unix-domain socket that a program speaking ${PROTOCOL} listens on`, found, hint)),
      interrupted: (signal) => this.failAll(new UserError(this.where, this.place(), 'an answer', `none: interrupted by ${signal}`)),
    };
    const line = new Promise<string>((accept, reject) => { this.helloWaiter = { accept, reject }; });
    this.channel = 'command' in this.target ? commandChannel(this.target.command, this.options, events) : socketChannel(this.target.socket, events);
    this.arm();
    let hello: Hello;
    try {
      hello = parseHello(this.parseLine(await line, 'the hello'), this.fail);
    } catch (e) {
      // A program whose hello is wrong is not asked for anything, not even bye: it is stopped.
      if (e instanceof UserError) this.failAll(e);
      throw e;
    }
    return {
      params: hello.params,
      ...(hello.layers ? { layers: hello.layers } : {}),
      ...(hello.dtype ? { dtype: hello.dtype } : {}),
      describe: this.where,
      grads: () => this.grads(hello.params),
      cost: () => this.cost(),
      costs: (requests) => this.costs(requests, hello.params),
      close: () => this.close(),
    };
  }

  /** Builds a fault at `place` with the program's last stderr lines quoted. */
  private readonly fail = (place: string, expected: string, found: string, hint = ''): UserError =>
    new UserError(this.where, place, expected, found, (hint + quoteStderr(this.channel?.stderrTail() ?? '')).trim() || undefined);

  /** Where the session stands, for a fault that belongs to no one answer: the oldest request waiting, the hello, or after the last answer. */
  private place(): string {
    const first = this.pending[0];
    if (first) return requestName(first);
    if (this.helloWaiter || !this.helloRead) return 'the hello';
    return this.nextId === 1 ? 'after the hello' : `after request ${this.nextId - 1}`;
  }

  private onData(chunk: Buffer): void {
    // After close() only the answer to bye may come, and nothing more is read.
    if (this.fault || this.closed) return;
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, at);
      start = at + 1;
      if (this.bufferedBytes + piece.length > this.maxLine) return this.flood();
      const line = this.buffered.length === 0 ? piece.toString('utf8') : Buffer.concat([...this.buffered, piece]).toString('utf8');
      this.buffered = [];
      this.bufferedBytes = 0;
      this.onLine(line);
      if (this.fault) return;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.bufferedBytes + rest.length > this.maxLine) return this.flood();
      this.buffered.push(Buffer.from(rest));
      this.bufferedBytes += rest.length;
    }
  }

  private flood(): void {
    this.failAll(this.fail(this.place(), `one JSON object per line, each at most ${byteSize(this.maxLine)}`, `a line longer than that (the program was stopped)`,
      'Answer each request with one line of JSON; write anything else to stderr.'));
  }

  private onLine(raw: string): void {
    const line = raw.replace(/^\uFEFF/, '').replace(/\r$/, '');
    if (this.helloWaiter) {
      const waiter = this.helloWaiter;
      this.helloWaiter = null;
      this.helloRead = true;
      this.arm();
      return waiter.accept(line);
    }
    if (line.trim() === '') return;
    const request = this.pending.shift();
    if (!request) {
      return this.failAll(this.fail(this.stream, 'nothing beyond the answers to the requests sent', `the line ${describeLine(line)} with no request waiting for it`,
        'Answer each request with exactly one line; write anything else to stderr.'));
    }
    this.arm();
    let answer: Record<string, unknown>;
    try {
      answer = this.parseLine(line, requestName(request));
    } catch (e) {
      return this.failAll(e as UserError, request);
    }
    if (answer.id !== request.id) {
      const later = typeof answer.id === 'number' && answer.id > request.id && answer.id < this.nextId;
      return this.failAll(this.fail(requestName(request), `the answer to it, {"id": ${request.id}, …}, first: answers come one per request, in the order of the requests`,
        `${answer.id === undefined ? 'an answer without an "id"' : `an answer with "id": ${clip(JSON.stringify(answer.id) ?? String(answer.id))}`}${later ? ' (a later request’s)' : ''}`), request);
    }
    if ('error' in answer) {
      const message = typeof answer.error === 'string' ? answer.error : JSON.stringify(answer.error);
      return this.failAll(this.fail(requestName(request), `its ${request.op === 'costs' ? 'costs' : request.op}`, `the error "${clip(message ?? '', 500)}"`), request);
    }
    try {
      request.accept(answer);
    } catch (e) {
      this.failAll(e as UserError, request);
    }
  }

  /** One line as a JSON object; NaN and ±Infinity written bare (Python's json.dumps) are read as the strings the protocol also allows. */
  private parseLine(line: string, place: string): Record<string, unknown> {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      try {
        value = JSON.parse(bareNonFinite(line));
      } catch {
        const hello = place === 'the hello';
        throw this.fail(place, hello ? `the program's hello, {"protocol": "${PROTOCOL}", "params": {…}}, as the first line on ${this.stream}` : 'one line of JSON',
          `${describeLine(line)}, which is not JSON`,
          hello ? `${this.stream === 'stdout' ? 'stdout' : 'The socket'} is the protocol channel: print debug output to stderr (in Python, print(..., file=sys.stderr)).`
            : 'Write each answer with a JSON library, on one line; print anything else to stderr.');
      }
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.fail(place, place === 'the hello' ? `a JSON object {"protocol": "${PROTOCOL}", "params": {…}}` : 'a JSON object {"id": …, …}', show(value));
    }
    return value as Record<string, unknown>;
  }

  /** (Re)starts the clock on the hello or the oldest answer waited for. */
  private arm(): void {
    clearTimeout(this.timer);
    if (this.fault || (!this.helloWaiter && this.pending.length === 0)) return;
    this.timer = setTimeout(() => {
      this.failAll(this.fail(this.place(), `${this.helloWaiter ? 'the hello' : 'an answer'} within ${this.timeoutSeconds} s`,
        `none after ${this.timeoutSeconds} s (${'command' in this.target ? 'its process group was killed' : 'the connection was closed'})`, this.timeoutHint()));
    }, Math.min(this.timeoutSeconds * 1000, 2 ** 31 - 1));
  }

  /** A program that answered into a buffer (Python's stdout to a pipe is block-buffered) looks exactly like one that hangs. */
  private timeoutHint(): string {
    const partial = this.bufferedBytes > 0 ? 'It wrote part of a line and no "\\n": end each line with a newline. ' : '';
    if (!('command' in this.target)) return `${partial}Give it longer with --exec-timeout <seconds>.`;
    return `${partial}Give it longer with --exec-timeout <seconds>, and flush stdout after each line (in Python, print(..., flush=True)).`;
  }

  private onEnd(found: string, hint: string): void {
    if (this.fault || this.closed) return;
    const place = this.place();
    const expected = this.helloWaiter ? `the program's hello, {"protocol": "${PROTOCOL}", "params": {…}}, on ${this.stream}` : this.pending.length > 0 ? 'an answer' : 'the program to wait for requests until "bye"';
    this.failAll(this.fail(place, expected, `${found} ${this.helloWaiter ? 'before it' : this.pending.length > 0 ? 'before it answered' : 'between requests'}`, hint));
  }

  /** The session is over: every waiting request (and later ones) fails with `error`, and the program is stopped. */
  private failAll(error: UserError, answered?: Pending): void {
    if (this.fault) return;
    this.fault = error;
    clearTimeout(this.timer);
    answered?.reject(error);
    this.helloWaiter?.reject(error);
    this.helloWaiter = null;
    for (const p of this.pending.splice(0)) p.reject(error);
    this.channel?.kill();
  }

  private request<T>(op: Pending['op'], body: string, read: (answer: Record<string, unknown>, place: string) => T): Promise<T> {
    if (this.fault) return Promise.reject(this.fault);
    if (this.closed) return Promise.reject(new UserError(this.where, op, 'an open session', 'one already closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { id, op, reject, accept: (answer) => resolve(read(answer, requestName(p))) };
      this.pending.push(p);
      if (this.pending.length === 1) this.arm();
      this.channel!.send(`{"id":${id},"op":"${op}"${body}}\n`);
    });
  }

  private grads(params: readonly ProgramTensor[]): Promise<Map<string, Tensor>> {
    return this.request('grads', '', (answer, place) => readGrads(answer.grads, params, place, this.fail));
  }

  private cost(): Promise<number> {
    return this.request('cost', '', (answer, place) => {
      if (!('cost' in answer)) throw this.fail(place, 'an answer {"id": …, "cost": <number>}', `an answer without "cost"${keysOf(answer)}`);
      return costValue(answer.cost, `${place}, cost`, this.fail);
    });
  }

  /** Chunks the requests (≤ 512 element steps, or directions up to 65,536 numbers) and keeps REQUESTS_IN_FLIGHT of them in flight. */
  private async costs(requests: readonly CostRequest[], params: readonly ProgramTensor[]): Promise<Float64Array> {
    const out = new Float64Array(requests.length);
    const shapes = new Map(params.map((p) => [p.name, p.value.shape]));
    const chunks: [number, number][] = [];
    for (let from = 0; from < requests.length;) {
      const elements = !('direction' in requests[from]);
      let to = from, numbers = 0;
      while (to < requests.length && !('direction' in requests[to]) === elements) {
        if (elements ? to - from >= MAX_STEPS_PER_REQUEST : to > from && numbers + size((requests[to] as DirectionStep).direction.shape) > MAX_DIRECTION_NUMBERS_PER_REQUEST) break;
        if (!elements) numbers += size((requests[to] as DirectionStep).direction.shape);
        to++;
      }
      chunks.push([from, to]);
      from = to;
    }
    let next = 0;
    const sendNext = (): Promise<void> | null => {
      if (next >= chunks.length) return null;
      const [from, to] = chunks[next++];
      const body = stepsJson(requests, from, to, shapes);
      return this.request('costs', body, (answer, place) => {
        const costs = answer.costs;
        if (!Array.isArray(costs)) throw this.fail(place, `an answer {"id": …, "costs": [${to - from} numbers]}`, 'costs' in answer ? `"costs": ${show(costs)}` : `an answer without "costs"${keysOf(answer)}`);
        if (costs.length !== to - from) throw this.fail(place, `${to - from} costs, one per step, in order`, `${costs.length}`);
        for (let i = 0; i < costs.length; i++) out[from + i] = costValue(costs[i], `${place}, costs[${i}]`, this.fail);
      }).then(() => { const more = sendNext(); return more ?? undefined; });
    };
    const lanes: Promise<void>[] = [];
    for (let k = 0; k < REQUESTS_IN_FLIGHT; k++) {
      const lane = sendNext();
      if (lane) lanes.push(lane);
    }
    await Promise.all(lanes);
    return out;
  }

  /** Sends bye, waits briefly for the program to end (status 0 expected), then stops it; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const channel = this.channel;
      const alive = !this.fault && !this.closed && channel !== null;
      this.closed = true;
      clearTimeout(this.timer);
      for (const p of this.pending.splice(0)) p.reject(new UserError(this.where, requestName(p), 'an answer', 'the session closed before it'));
      if (!channel) return;
      if (alive) channel.send(`{"id":${this.nextId++},"op":"bye"}\n`);
      await channel.hangUp(alive ? 2000 : 0);
    })();
    return this.closing;
  }
}

function requestName(p: { id: number; op: string }): string {
  return `request ${p.id} (${p.op})`;
}

function keysOf(answer: Record<string, unknown>): string {
  const keys = Object.keys(answer).filter((k) => k !== 'id');
  return keys.length > 0 ? ` (it holds ${keys.slice(0, 5).map((k) => `"${clip(k)}"`).join(', ')})` : '';
}

function describeLine(line: string): string {
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line);
}

/**
 * Bare NaN, Infinity and -Infinity outside strings (what Python's json.dumps writes) rewritten as the
 * strings "NaN", "Infinity", "-Infinity", which the protocol reads as the same values.
 */
function bareNonFinite(line: string): string {
  return line.replace(/"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g, (match, bare: string | undefined) => (bare ? `"${bare}"` : match));
}



/** A cost: a number, or a non-finite one as null, "NaN", "Infinity" or "-Infinity". */
function costValue(v: unknown, place: string, fail: Fail): number {
  if (typeof v === 'number') return v;
  if (v === null) return NaN;
  if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v];
  throw fail(place, 'a number (or null, "NaN", "Infinity", "-Infinity" for a non-finite cost)', show(v));
}

interface Hello {
  params: ProgramTensor[];
  layers?: string[][];
  dtype?: 'float32' | 'float64';
}

const HELLO = `{"protocol": "${PROTOCOL}", "params": {"<name>": <tensor>, …}}`;

function parseHello(hello: Record<string, unknown>, fail: Fail): Hello {
  const place = 'the hello';
  if (hello.protocol !== PROTOCOL) {
    throw fail(`${place}, protocol`, `"${PROTOCOL}"`, hello.protocol === undefined ? 'no "protocol"' : show(hello.protocol),
      hello.protocol === undefined ? `The first line on stdout must be the hello, ${HELLO}.` : `This backprop-check speaks ${PROTOCOL}: update the program or its helper.`);
  }
  const raw = hello.params;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw fail(`${place}, params`, 'an object of named tensors {"W1": [[…]], …}', raw === undefined ? 'no "params"' : show(raw));
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw fail(`${place}, params`, 'at least one parameter', 'an empty object');
  const params = entries.map(([name, value]) => {
    const path = `${place}, params.${clip(name)}`;
    if (name === '') throw fail(`${place}, params`, 'parameter names that are not empty', '""');
    const value_ = parseTensor(value, path, fail, false);
    if (size(value_.shape) === 0) throw fail(path, 'a tensor with at least one element', `shape [${value_.shape.join(', ')}]`);
    return { name, value: value_ };
  });
  const out: Hello = { params };
  if (hello.layers !== undefined) out.layers = parseLayers(hello.layers, params, place, fail);
  if (hello.dtype !== undefined) {
    if (hello.dtype !== 'float32' && hello.dtype !== 'float64') throw fail(`${place}, dtype`, '"float32" or "float64"', show(hello.dtype));
    out.dtype = hello.dtype;
  }
  return out;
}

function parseLayers(layers: unknown, params: readonly ProgramTensor[], place: string, fail: Fail): string[][] {
  const names = new Set(params.map((p) => p.name));
  if (!Array.isArray(layers) || layers.length === 0) throw fail(`${place}, layers`, 'a non-empty list of lists of parameter names, [["W1", "b1"], …]', show(layers));
  const seen = new Set<string>();
  const out = layers.map((group, l) => {
    if (!Array.isArray(group) || group.length === 0) throw fail(`${place}, layers[${l}]`, 'a non-empty list of parameter names', show(group));
    return group.map((name, i) => {
      if (typeof name !== 'string' || !names.has(name)) throw fail(`${place}, layers[${l}][${i}]`, `the name of a parameter in "params" (${[...names].slice(0, 6).map((n) => `"${clip(n)}"`).join(', ')}${names.size > 6 ? ', …' : ''})`, show(name));
      if (seen.has(name)) throw fail(`${place}, layers[${l}][${i}]`, 'each parameter in one layer only', `"${clip(name)}" again`);
      seen.add(name);
      return name;
    });
  });
  const missing = [...names].filter((n) => !seen.has(n));
  if (missing.length > 0) throw fail(`${place}, layers`, 'every parameter in some layer', `${missing.slice(0, 5).map((n) => `"${clip(n)}"`).join(', ')} in none`);
  return out;
}

function readGrads(raw: unknown, params: readonly ProgramTensor[], place: string, fail: Fail): Map<string, Tensor> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw fail(place, 'an answer {"id": …, "grads": {"<name>": <tensor>, …}}', raw === undefined ? 'an answer without "grads"' : `"grads": ${show(raw)}`);
  }
  const given = raw as Record<string, unknown>;
  const names = new Set(params.map((p) => p.name));
  const extra = Object.keys(given).filter((n) => !names.has(n));
  if (extra.length > 0) {
    throw fail(`${place}, grads`, `the gradient of each parameter of the hello (${[...names].slice(0, 6).map((n) => `"${clip(n)}"`).join(', ')}${names.size > 6 ? ', …' : ''}) and nothing else`,
      `${extra.length === 1 ? 'a gradient' : 'gradients'} of ${extra.slice(0, 5).map((n) => `"${clip(n)}"`).join(', ')}, which the hello did not name`);
  }
  const out = new Map<string, Tensor>();
  for (const p of params) {
    const path = `${place}, grads.${clip(p.name)}`;
    if (!(p.name in given)) throw fail(`${place}, grads`, `a gradient for every parameter of the hello`, `none for "${clip(p.name)}"`);
    const g = parseTensor(given[p.name], path, fail, true);
    const want = p.value.shape;
    const same = g.shape.length === want.length && g.shape.every((d, i) => d === want[i]);
    if (!same) {
      const transposed = g.shape.length === want.length && want.length >= 2 && g.shape.every((d, i) => d === want[want.length - 1 - i]);
      throw fail(path, `shape [${want.join(', ')}], as the parameter's in the hello`, `shape [${g.shape.join(', ')}]${transposed ? ' (transposed)' : ''}`,
        transposed ? 'Return the gradient in the parameter’s own layout (in NumPy, without .T).' : '');
    }
    out.set(p.name, g);
  }
  return out;
}

/** The steps of requests[from, to) as the body of a costs request: written by hand, JSON.stringify being the bottleneck at thousands of steps a second. */
function stepsJson(requests: readonly CostRequest[], from: number, to: number, shapes: Map<string, readonly number[]>): string {
  const first = requests[from];
  const parts = new Array<string>(to - from);
  if (!('direction' in first)) {
    for (let i = from; i < to; i++) {
      const s = requests[i] as ElementStep;
      parts[i - from] = `{"param":${JSON.stringify(s.param)},"index":[${s.index.join(',')}],"delta":${number(s.delta)}}`;
    }
    return `,"steps":[${parts.join(',')}]`;
  }
  for (let i = from; i < to; i++) {
    const s = requests[i] as DirectionStep;
    // Nested lists in the parameter's shape: what a program turns back into an array most simply (np.array(d)).
    parts[i - from] = `{"param":${JSON.stringify(s.param)},"direction":${nested(s.direction.data, shapes.get(s.param) ?? s.direction.shape)},"scale":${number(s.scale)}}`;
  }
  return `,"directions":[${parts.join(',')}]`;
}

/** A finite number as JSON: String() is the shortest text that reads back as the same float64. */
function number(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`a non-finite step (${x}) reached the session protocol`);
  return String(x);
}

function nested(data: Float64Array, shape: readonly number[]): string {
  if (shape.length === 0) return number(data[0]);
  const write = (offset: number, depth: number): string => {
    const n = shape[depth];
    if (depth === shape.length - 1) {
      const items = new Array<string>(n);
      for (let i = 0; i < n; i++) items[i] = number(data[offset + i]);
      return `[${items.join(',')}]`;
    }
    const stride = size(shape.slice(depth + 1));
    const items = new Array<string>(n);
    for (let i = 0; i < n; i++) items[i] = write(offset + i * stride, depth + 1);
    return `[${items.join(',')}]`;
  };
  return write(0, 0);
}
