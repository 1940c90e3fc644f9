// check() for the command line: the same report, but the row jobs of a large check run on worker
// threads, and the event loop gets a turn between steps either way, so that Ctrl-C (SIGINT) can
// stop a long check and print what was done.
//
// The numbers do not depend on the thread count: every element is computed by the same code
// (the propagated source's elements) from the same inputs, whichever thread runs it, and the
// results go back to their own places. Worker threads are used only when the model can be rebuilt by name
// on the other side (every built-in activation and loss; custom formulas stay in this thread) and
// when the work is large enough to pay for starting them.
import { availableParallelism, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { elu, leakyRelu, namedActivation, type Activation } from '../core/records/activations.js';
import { checkSteps, DEFAULT_OPTIONS, prepare, type CheckInput, type CheckOptions, type Diagnose, type Prepared, type RowJob } from '../core/check/check.js';
import type { Model, Params } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import { namedLoss } from '../core/records/losses.js';
import { checkWork } from '../core/differences/propagated.js';
import { productSource } from '../core/differences/product.js';
import { allDense } from '../core/layers/index.js';
import { elementsOf, type DifferenceSource, type ElementDifference } from '../core/differences/source.js';
import type { Report } from '../core/report.js';
import { clip, UserError } from '../io/errors.js';

/**
 * The least work (checkWork's estimate) that starts worker threads. Each worker's start-up and JIT
 * warm-up cost about half a second of CPU (measured), so a check shorter than a few seconds on one
 * thread (64-128-64-10 × 64, 8e8) stays in this thread; 784-128-64-10 × 64 (9e9) uses idle CPUs.
 */
const THREADS_FROM_WORK = 3e9;
/** Longest stretch of work in this thread before the event loop gets a turn, in ms. */
const TURN_EVERY_MS = 50;

/** What a worker needs to rebuild the model and its forward pass: plain, cloneable data. */
export interface WorkerInput {
  model: Pick<Model, 'inputs' | 'reduction' | 'l2' | 'init'> & { layers: { units: number; inputs: number; bias: boolean; activation: string }[]; loss: string };
  params: Params;
  X: Tensor;
  Y: Tensor;
}

/** The element differences of one row job, packed for postMessage. */
export interface PackedRow {
  numeric: Float64Array;
  spread: Float64Array;
  kink: Uint8Array;
  refined: Uint8Array;
}

export function pack(ds: ElementDifference[]): PackedRow {
  const n = ds.length;
  const out = { numeric: new Float64Array(n), spread: new Float64Array(n), kink: new Uint8Array(n), refined: new Uint8Array(n) };
  ds.forEach((d, k) => {
    out.numeric[k] = d.numeric;
    out.spread[k] = d.spread;
    out.kink[k] = d.kink ? 1 : 0;
    out.refined[k] = d.refined ? 1 : 0;
  });
  return out;
}

function unpack(p: PackedRow): ElementDifference[] {
  return Array.from(p.numeric, (numeric, k) => ({ numeric, spread: p.spread[k], kink: p.kink[k] === 1, refined: p.refined[k] === 1 }));
}

/** A built-in activation from its record's name: "relu", "leaky_relu(0.1)", "elu(0.5)" …; custom ones are not. */
export function activationByName(name: string): Activation | undefined {
  const alpha = /^(leaky_relu|elu)\((.+)\)$/.exec(name);
  if (alpha) return alpha[1] === 'elu' ? elu(Number(alpha[2])) : leakyRelu(Number(alpha[2]));
  return namedActivation(name);
}

/** The model as names, or null when some record cannot be rebuilt from its name (custom formulas). */
export function describe(input: CheckInput): WorkerInput | null {
  const { model } = input;
  const layers = [];
  for (const layer of model.layers) {
    const again = activationByName(layer.activation.name);
    if (!again || again.name !== layer.activation.name || layer.activation.name.startsWith('expr(')) return null;
    layers.push({ units: layer.units, inputs: layer.inputs, bias: layer.bias, activation: layer.activation.name });
  }
  if (namedLoss(model.loss.name) !== model.loss) return null;
  const { inputs, reduction, l2, init } = model;
  return { model: { inputs, layers, loss: model.loss.name, reduction, l2, init }, params: input.params, X: input.X, Y: input.Y };
}

/** Worker threads that each hold the model and answer row jobs with packed element differences. */
export class WorkerPool {
  private readonly workers: Worker[];
  private failure: Error | null = null;

  constructor(input: WorkerInput, threads: number) {
    const script = new URL('./row-worker.js', import.meta.url);
    // node:worker_threads is loaded here, not at start-up: most checks run in one thread (~2 ms).
    const { Worker: WorkerThread } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    this.workers = Array.from({ length: threads }, () => new WorkerThread(script, { workerData: input }));
    for (const w of this.workers) w.on('error', (e) => { this.failure = e; });
  }

  /**
   * The jobs' element differences, in the jobs' order; the jobs are shared out in groups as
   * workers come free. Once `shouldStop` says so no further group starts, and the jobs not run
   * stay undefined. `progress` hears the elements done so far.
   */
  async run(jobs: RowJob[], shouldStop: () => boolean, progress: (elements: number) => void): Promise<(ElementDifference[] | undefined)[]> {
    const results: (ElementDifference[] | undefined)[] = new Array(jobs.length);
    // About sixteen groups per worker: few messages, an even share at the end, and a stop (Ctrl-C)
    // that waits for at most one group.
    const elements = jobs.reduce((n, j) => n + j.indices.length, 0);
    const target = Math.max(1, Math.ceil(elements / (16 * this.workers.length)));
    const groups: number[][] = [];
    let group: number[] = [], size = 0;
    jobs.forEach((job, k) => {
      group.push(k);
      size += job.indices.length;
      if (size >= target) { groups.push(group); group = []; size = 0; }
    });
    if (group.length > 0) groups.push(group);

    let next = 0, done = 0;
    const drive = async (worker: Worker): Promise<void> => {
      while (next < groups.length && !shouldStop()) {
        const mine = groups[next++];
        const packed = await this.ask(worker, mine.map((k) => jobs[k]));
        mine.forEach((k, i) => { results[k] = unpack(packed[i]); done += jobs[k].indices.length; });
        progress(done);
      }
    };
    await Promise.all(this.workers.map(drive));
    return results;
  }

  private ask(worker: Worker, jobs: RowJob[]): Promise<PackedRow[]> {
    return new Promise((resolve, reject) => {
      if (this.failure) { reject(this.failure); return; }
      const onMessage = (packed: PackedRow[]) => { cleanup(); resolve(packed); };
      const onError = (e: Error) => { cleanup(); reject(e); };
      const onExit = (code: number) => { cleanup(); reject(new Error(`internal: a worker thread exited (${code}) with work pending`)); };
      const cleanup = () => { worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit); };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(jobs);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Threads to use: BACKPROP_CHECK_THREADS if set (1 = this thread only), else the CPUs that are
 * idle. Threads only pay off on idle CPUs: on a busy machine (a shared CI runner) they share the
 * same slice of CPU time and add their own start-up, so the CPUs that the load average says other
 * work keeps busy are left out (the load counts this process's own thread too).
 */
export function threadCount(env: NodeJS.ProcessEnv = process.env, cpus = availableParallelism(), load = loadavg()[0]): number {
  const set = Number(env.BACKPROP_CHECK_THREADS);
  if (env.BACKPROP_CHECK_THREADS !== undefined && Number.isInteger(set) && set >= 1) return Math.min(set, maxThreads(cpus));
  return Math.max(1, Math.min(cpus, Math.floor(cpus - load + 1.5)));
}

/**
 * Each thread holds its own copy of the network, the parameters and the data, and more threads
 * than CPUs only share the same CPU time: four per CPU is already more than can pay off.
 */
export function maxThreads(cpus = availableParallelism()): number {
  return Math.max(8, 4 * cpus);
}

/** BACKPROP_CHECK_THREADS checked before the check starts: unset, or a whole number from 1 to maxThreads(). */
export function threadSetting(env: NodeJS.ProcessEnv = process.env, cpus = availableParallelism()): void {
  const v = env.BACKPROP_CHECK_THREADS;
  if (v === undefined || v === '') return;
  const max = maxThreads(cpus);
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || Number(v) > max) {
    throw new UserError('environment', 'BACKPROP_CHECK_THREADS', `a whole number of worker threads from 1 to ${max} (4 per CPU; this machine has ${cpus}), or unset for the idle CPUs`,
      `"${clip(v)}"`, 'Each thread holds a copy of the network and the data; more threads than CPUs only share the same CPU time.');
  }
}

/**
 * BACKPROP_CHECK_WASM checked before the check starts: unset, 1 (the WebAssembly kernels, where the
 * runtime has WebAssembly) or 0 (their JavaScript loops: the same numbers, slower).
 */
export function wasmSetting(env: NodeJS.ProcessEnv = process.env): void {
  const v = env.BACKPROP_CHECK_WASM;
  if (v === undefined || v === '' || v.trim() === '0' || v.trim() === '1') return;
  throw new UserError('environment', 'BACKPROP_CHECK_WASM', '0 (run the JavaScript loops instead of the WebAssembly kernels) or 1 (the default)',
    `"${clip(v)}"`, 'Both give the same numbers, bit for bit; 0 is slower and is there to compare the two.');
}

export interface Parallel {
  /** Threads for the element-wise work; default threadCount(). */
  threads?: number;
  /** The least work (checkWork) worth starting threads for. */
  minWork?: number;
}

/**
 * check(input, options, diagnose, prepared), with worker threads for a large element-wise check and
 * a turn of the event loop at least every 50 ms. The workers build the propagated source on their
 * own forward pass, so a check prepared with another source runs in this thread.
 */
export async function checkAsync(
  input: CheckInput, options: CheckOptions = DEFAULT_OPTIONS, diagnose?: Diagnose, parallel: Parallel = {}, prepared?: Prepared,
): Promise<Report> {
  const threads = parallel.threads ?? threadCount();
  const large = checkWork(input.model, input.X.shape[1], options) >= (parallel.minWork ?? THREADS_FROM_WORK);
  const shared = prepared ?? prepare(input);
  const description = threads > 1 && options.mode !== 'directional' && large && shared.factory === productSource && allDense(input.model.layers) ? describe(input) : null;
  const pool = description ? new WorkerPool(description, threads) : null;
  const shouldStop = () => options.shouldStop?.() ?? false;
  try {
    const steps = checkSteps(input, options, diagnose, shared);
    let step = steps.next();
    let turned = performance.now();
    while (!step.done) {
      const { jobs, done, total } = step.value;
      const progress = (n: number) => options.onProgress?.(done + n, total);
      let given: (ElementDifference[] | undefined)[] | undefined;
      if (jobs.length > 0) {
        given = pool ? await pool.run(jobs, shouldStop, progress) : await runHere(shared.differences, jobs, shouldStop, progress);
        turned = performance.now();
      } else if (performance.now() - turned > TURN_EVERY_MS) {
        // A tensor checkSteps checked itself (its directions): a turn once 50 ms have passed since the last.
        await turn();
        turned = performance.now();
      }
      step = steps.next(given);
    }
    return step.value;
  } finally {
    await pool?.close();
  }
}

/** The jobs in this thread, with a turn of the event loop every 50 ms. */
async function runHere(
  source: DifferenceSource, jobs: RowJob[], shouldStop: () => boolean, progress: (elements: number) => void,
): Promise<(ElementDifference[] | undefined)[]> {
  const results: (ElementDifference[] | undefined)[] = new Array(jobs.length);
  let since = performance.now(), done = 0;
  for (let k = 0; k < jobs.length && !shouldStop(); k++) {
    const j = jobs[k];
    results[k] = elementsOf(source, j, j.indices, j.h);
    done += j.indices.length;
    if (performance.now() - since > TURN_EVERY_MS) {
      progress(done);
      await turn();
      since = performance.now();
    }
  }
  return results;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
