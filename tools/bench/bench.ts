// npm run bench: how fast a full element-wise check is, side by side with the naive checker and
// with torch.autograd.gradcheck, on the seed net, 20-64-32-1 × 128, 64-128-64-10 × 64,
// 784-128-64-10 × 64, a small CNN (1×12×12, conv 4@3×3 ReLU, max-pool 2, dense 10 softmax, 16
// samples) and a batch-norm MLP (20-64-BN-ReLU-32-BN-ReLU-1 × 64), and the session case: `--model`
// on NumPy programs (tools/bench/session.ts).
// Everything for one network runs before the next network, so that each ratio is measured under
// the same load.
//
//   npm run bench                     all networks and the session case, torch when `import torch` works
//   npm run bench -- --no-torch       without torch
//   npm run bench -- --only 64-128    the networks whose name contains the text ("session": that case alone);
//                                     several texts, comma-separated: --only cnn,batchnorm (the layered cases)
//   npm run bench -- --json out.json  also write the measurements as JSON: { networks, session }
//
// Per network:
// - full check: the check in a child process (so that its peak RSS is its own), on all threads and
//   on one (BACKPROP_CHECK_THREADS=1), timed from loaded inputs to the report, diagnosis left out;
//   the first check in that fresh process, as one command-line run makes it, and (warm) the median of
//   five more of the same check in the same process, once V8 has compiled its loops; and the whole
//   `backprop-check NET DATA` command (full mode, the terminal table to a pipe), node start to exit,
//   the median of PROCESS_RUNS runs (3 where one run takes over a second): "× torch full (process)"
//   sets that against torch's gradcheck call alone;
// - naive: the naive source (every layer densely from the first, per perturbation) on evenly spaced
//   elements of every tensor, timed and scaled to the whole tensor; its numbers are compared with
//   the product's source's (the dense fast path, or the layered one for the CNN and batch-norm
//   nets), element by element;
// - plain subtraction J(θ+h)−J(θ−h), on fewer elements, for context: how far it is from the
//   cancellation-free value;
// - directional mode: the whole `backprop-check --mode directional` process (the median of
//   PROCESS_RUNS runs, with their range), and the check alone in process, with the default 10
//   directions per tensor and with 1, which is what gradcheck's fast mode checks (one random
//   direction per input tensor): "× torch fast" is that pair's ratio;
// - torch: scripts/bench_torch.py (gradcheck, full and fast mode, float64) on the same networks;
//   fast mode the median of several calls.
// The first full check and the one-direction check are each the median of several fresh processes
// (a cold check of tens of milliseconds moves by a third from one process to the next here).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { forward } from '../../src/core/forward.js';
import { namedTensors } from '../../src/core/model.js';
import { productSource } from '../../src/core/differences/product.js';
import { DEFAULT_OPTIONS } from '../../src/core/check/check.js';
import { gradientSource, load } from '../../src/run.js';
import { caseFolder, CASES, parameterCountOf, writeCase, type BenchCase } from './cases.js';
import { naiveSource, perSamplePlainSource } from '../../src/core/differences/naive.js';
import { numpyPython, sessionBench, sessionReport, type SessionResult } from './session.js';

// Compiled to build/tools/bench/: the repository is three folders up.
const root = new URL('../../../', import.meta.url).pathname;
const EPSILON = 1e-6;
/** Checks after the first in a full-mode child, for its warm time (an odd number: the median is one of them). */
const WARM_RUNS = 5;

interface Timing {
  seconds: number;
  /**
   * Full mode only: the median of WARM_RUNS more checks of the same input in the same process, after
   * the first: the check once V8 has compiled its hot loops, as a notebook or a test suite that checks
   * again sees it. `seconds` is the first, cold check, as one command-line run sees it.
   */
  warmSeconds?: number;
  elements: number;
  maxRssMB: number;
  relativeErrors: Record<string, number>;
}

/**
 * Child mode: one check in this process, its wall time and peak RSS as JSON on stdout. The time is
 * the check's (forward and backward pass, finite differences, comparison), after the files are
 * loaded and any formulas compiled, without the diagnosis: what gradcheck's time is to torch.
 */
async function child(net: string, data: string, mode: 'full' | 'directional', samples = DEFAULT_OPTIONS.samples): Promise<void> {
  // The library as a program that imports backprop-check gets it (the package's entry,
  // dist/library.mjs: the bundle with its code cache), not the tools' own build of src/.
  const lib = (await import(join(root, 'dist/library.mjs'))) as typeof import('../../src/index.js');
  const options = { net, data, mode, epsilon: EPSILON };
  const loaded = lib.load(options);
  const input = { model: loaded.model, params: loaded.params, X: loaded.data.X, Y: loaded.data.Y, gradients: await lib.gradientSource(loaded, options) };
  const start = performance.now();
  const report = await lib.checkNetworkAsync(input, { ...lib.DEFAULT_OPTIONS, mode, epsilon: EPSILON, samples });
  const seconds = (performance.now() - start) / 1000;
  let warmSeconds: number | undefined;
  if (mode === 'full') {
    const warm: number[] = [];
    for (let run = 0; run < WARM_RUNS; run++) {
      const again = performance.now();
      await lib.checkNetworkAsync(input, { ...lib.DEFAULT_OPTIONS, mode, epsilon: EPSILON, samples });
      warm.push((performance.now() - again) / 1000);
    }
    warmSeconds = warm.sort((a, b) => a - b)[Math.floor(WARM_RUNS / 2)];
  }
  const elements = report.checks.reduce((n, c) => n + c.checked + c.kinks, 0);
  const relativeErrors = Object.fromEntries(report.checks.map((c) => [c.param, c.relativeError]));
  const timing: Timing = { seconds, ...(warmSeconds !== undefined ? { warmSeconds } : {}), elements, maxRssMB: process.resourceUsage().maxRSS / 1024, relativeErrors };
  process.stdout.write(JSON.stringify(timing));
}

/**
 * inChild `runs` times, each a fresh process: the run of the median time (an odd number of runs),
 * with the spread of the first checks' times. One cold check takes tens of milliseconds, which on
 * a shared machine move by a third from one process to the next.
 */
function medianChild(
  files: { net: string; data: string }, mode: 'full' | 'directional', runs: number, { samples, first }: { samples?: number; first?: Timing } = {},
): Timing & { spread: Spread } {
  const timings = Array.from({ length: runs }, (_, i) => (i === 0 && first ? first : inChild(files, mode, undefined, samples))).sort((a, b) => a.seconds - b.seconds);
  const median = timings[Math.floor(runs / 2)];
  return { ...median, spread: { median: median.seconds, min: timings[0].seconds, max: timings[runs - 1].seconds, runs } };
}

function inChild(files: { net: string; data: string }, mode: 'full' | 'directional', threads?: number, samples?: number): Timing {
  const env = { ...process.env, ...(threads ? { BACKPROP_CHECK_THREADS: String(threads) } : {}) };
  const args = [join(root, 'build/tools/bench/bench.js'), '--child', files.net, files.data, mode, ...(samples ? [String(samples)] : [])];
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as Timing;
}

/**
 * Runs of the whole command-line process, `backprop-check NET DATA ARGS` as a user runs it (output
 * to a pipe), from `node` starting to its exit; each run's wall seconds.
 */
function wholeProcess(files: { net: string; data: string }, args: string[], runs: number): Spread {
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'bin/backprop-check.js'), files.net, files.data, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
    seconds.push((performance.now() - start) / 1000);
    if (r.status !== 0 && r.status !== 1) throw new Error(`backprop-check failed (${r.status}):\n${r.stderr}`);
  }
  seconds.sort((a, b) => a - b);
  return { median: seconds[Math.floor(seconds.length / 2)], min: seconds[0], max: seconds[seconds.length - 1], runs };
}

/** A time measured several times: on a shared machine one run says little. */
interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Runs of the directional command per network (an odd number, so that the median is one of them). */
const PROCESS_RUNS = 7;
/** Fresh processes for the first full check (odd); 3 where one check takes over a second. */
const CHILD_RUNS = 5;

interface Reference {
  /** Naive seconds scaled to every element, and the elements it was timed on. */
  naiveSeconds: number;
  naiveElements: number;
  /** Elements whose naive and fast values are bit for bit equal; the largest relative difference. */
  identical: number;
  maxRelativeDifference: number;
  plainElements: number;
  plainMaxDeviation: number;
}

/** Evenly spaced flat indices of a tensor of n elements, at most k of them. */
function spread(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k));
}

function references(files: { net: string; data: string }, naivePerTensor: number, plainPerTensor: number): Reference {
  const loaded = load({ net: files.net, data: files.data });
  const { model, params } = loaded;
  const { X, Y } = loaded.data;
  const fwd = forward(model, params, X, Y);
  const at = { model, params, Y };
  const fast = productSource(at, fwd);
  const naive = naiveSource(at, fwd);
  const plain = perSamplePlainSource(at, fwd);
  const out: Reference = { naiveSeconds: 0, naiveElements: 0, identical: 0, maxRelativeDifference: 0, plainElements: 0, plainMaxDeviation: 0 };
  for (const t of namedTensors(at.model, params)) {
    const n = t.value.data.length;
    const chosen = spread(n, naivePerTensor);
    const start = performance.now();
    const naiveValues = chosen.map((flat) => naive.element(t.ref, flat, EPSILON));
    out.naiveSeconds += ((performance.now() - start) / 1000) * (n / chosen.length);
    out.naiveElements += chosen.length;
    chosen.forEach((flat, k) => {
      const d = fast.elements ? fast.elements(t.ref, [flat], EPSILON)[0] : fast.element(t.ref, flat, EPSILON);
      const want = naiveValues[k];
      if (Object.is(d.numeric, want.numeric) && d.spread === want.spread && d.kink === want.kink) out.identical++;
      const scale = Math.max(Math.abs(d.numeric), Math.abs(want.numeric));
      if (scale > 0) out.maxRelativeDifference = Math.max(out.maxRelativeDifference, Math.abs(d.numeric - want.numeric) / scale);
    });
    for (const flat of spread(n, plainPerTensor)) {
      const exact = fast.element(t.ref, flat, EPSILON).numeric;
      const p = plain.element(t.ref, flat, EPSILON).numeric;
      const scale = Math.max(Math.abs(exact), Math.abs(p));
      if (scale > 0) out.plainMaxDeviation = Math.max(out.plainMaxDeviation, Math.abs(exact - p) / scale);
      out.plainElements++;
    }
  }
  return out;
}

/** The parameters of the network the files describe, as the check loads it. */
function parameterCountOfFiles(files: { net: string; data: string }): number {
  const { model, params } = load({ net: files.net, data: files.data });
  return namedTensors(model, params).reduce((n, t) => n + t.value.data.length, 0);
}

interface Torch {
  available: boolean;
  why?: string;
  version?: string;
  threads?: number;
  full?: { seconds: number; passed: boolean };
  /** The median of its calls (bench_torch.py: FAST_RUNS after the full call), with their range. */
  fast?: { seconds: number; passed: boolean; runs?: number; min?: number; max?: number };
}

/** The first Python that can `import torch`. */
function torchPython(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return python;
  }
  return null;
}

function torchCase(python: string | null, c: BenchCase): Torch {
  if (!python) return { available: false, why: 'skipped: no python3 with torch (`python3 -c "import torch"` fails)' };
  const spec = { cases: [{ name: c.name, sizes: c.sizes, hidden: c.hidden, output: c.output, loss: c.loss, samples: c.samples, ...c.net }] };
  const r = spawnSync(python, [join(root, 'scripts/bench_torch.py'), JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { available: false, why: `failed: ${r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout);
  return { available: true, version: out.torch, threads: out.threads, full: out.cases[0].full, fast: out.cases[0].fast };
}

interface Row {
  case: BenchCase;
  parameters: number;
  /** The median of CHILD_RUNS fresh processes (3 where a check takes over a second). */
  full: Timing & { spread: Spread };
  serial: Timing;
  /** The whole `backprop-check NET DATA` process (full mode), node start to exit. */
  fullProcess: Spread;
  reference: Reference;
  directionalProcess: Spread;
  directional: Timing;
  /** One direction per tensor, as gradcheck's fast mode checks one random direction per input tensor (median of PROCESS_RUNS fresh processes). */
  oneDirection: Timing & { spread: Spread };
  torch: Torch;
}

function fmt(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toString();
}

function table(rows: Row[]): string {
  const head = ['network', 'params', 'elements', 'full check', 'warm', 'full (process, median)', 'elements/s', 'peak RSS', '1 thread', 'naive (est.)', '× naive', 'torch full', '× torch full', '× torch full (process)', 'torch fast', '× torch fast', 'directional (process, median)'];
  const body = rows.map((r) => [
    r.case.name,
    r.parameters.toLocaleString('en-US'),
    r.full.elements.toLocaleString('en-US'),
    `${fmt(r.full.seconds)} s`,
    `${fmt(r.full.warmSeconds)} s`,
    `${fmt(r.fullProcess.median)} s`,
    fmt(r.full.elements / r.full.seconds),
    `${Math.round(r.full.maxRssMB)} MB`,
    `${fmt(r.serial.seconds)} s`,
    `${fmt(r.reference.naiveSeconds)} s`,
    `${fmt(r.reference.naiveSeconds / r.full.seconds)}×`,
    r.torch.full ? `${fmt(r.torch.full.seconds)} s` : '–',
    r.torch.full ? `${fmt(r.torch.full.seconds / r.full.seconds)}× (warm ${fmt(r.torch.full.seconds / (r.full.warmSeconds ?? NaN))}×)` : '–',
    r.torch.full ? `${fmt(r.torch.full.seconds / r.fullProcess.median)}×` : '–',
    r.torch.fast ? `${fmt(r.torch.fast.seconds)} s` : '–',
    r.torch.fast ? `${fmt(r.torch.fast.seconds / r.oneDirection.seconds)}×` : '–',
    `${fmt(r.directionalProcess.median)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1 - (i === 0 ? 1 : 0)) + (i === 0 ? '-' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

const targetWords = (ratio: number, target = 20) => `${fmt(ratio)}× (${ratio >= target ? 'met' : 'not met'})`;

/** The targets a network's row is held to, said after its notes (the issues that set them). */
function targets(r: Row): string {
  const out: string[] = [];
  const torchFull = r.torch.full?.seconds, torchFast = r.torch.fast?.seconds;
  if (r.case.fixture === 'seed') {
    const t = r.fullProcess.median;
    out.push(`Target: the README's first command as a whole process ≤ 0.35 s: ${fmt(t)} s (${t <= 0.35 ? 'met' : 'not met'}).`);
  }
  if (r.case.net && torchFull) {
    out.push(`Target for this network: ≥ 20× torch full; the first check in a fresh process ${targetWords(torchFull / r.full.seconds)}, warm in process ${targetWords(torchFull / (r.full.warmSeconds ?? NaN))}.`);
  }
  if (!r.case.net && !r.case.fixture && r.case.hidden === 'tanh' && torchFull) {
    out.push(`Targets for this tanh/sigmoid network: ≥ 20× torch full in process, the first check ${targetWords(torchFull / r.full.seconds)} (warm ${fmt(torchFull / (r.full.warmSeconds ?? NaN))}×); ` +
      `≥ 10× as a whole process (node start to exit against torch's call alone) ${targetWords(torchFull / r.fullProcess.median, 10)}.`);
  }
  if (!r.case.net && !r.case.fixture && r.case.sizes[0] < 100 && torchFast) {
    // "Within 2× of torch fast": our one-direction check takes at most twice gradcheck's fast mode.
    const ratio = r.oneDirection.seconds / torchFast;
    out.push(`Target: directional mode in process within 2× of torch fast: ${fmt(ratio)}× torch fast's time (${ratio <= 2 ? 'met' : 'not met'}).`);
  }
  return out.length > 0 ? ' ' + out.join(' ') : '';
}

function notes(rows: Row[]): string {
  const out: string[] = [];
  for (const r of rows) {
    const ref = r.reference;
    out.push(`${r.case.name}: fast = naive on ${ref.identical}/${ref.naiveElements} sampled elements bit for bit (largest relative difference ${ref.maxRelativeDifference.toExponential(1)}); ` +
      `plain J(θ+h)−J(θ−h) is off by up to ${ref.plainMaxDeviation.toExponential(1)} relative on ${ref.plainElements} elements; ` +
      `directional: the whole process ${fmt(r.directionalProcess.median)} s (median of ${r.directionalProcess.runs} runs, ${fmt(r.directionalProcess.min)}–${fmt(r.directionalProcess.max)} s), the check in process ${fmt(r.directional.seconds)} s, with one direction per tensor ${fmt(r.oneDirection.seconds)} s (median of ${r.oneDirection.spread.runs} processes, ${fmt(r.oneDirection.spread.min)}–${fmt(r.oneDirection.spread.max)} s), vs torch fast ${r.torch.fast ? `${fmt(r.torch.fast.seconds)} s${r.torch.fast.runs ? ` (median of ${r.torch.fast.runs} calls, ${fmt(r.torch.fast.min)}–${fmt(r.torch.fast.max)} s)` : ''}` : '–'}; ` +
      `the first full check ${fmt(r.full.seconds)} s (median of ${r.full.spread.runs} processes, ${fmt(r.full.spread.min)}–${fmt(r.full.spread.max)} s); ` +
      `full check as a whole process ${fmt(r.fullProcess.median)} s (median of ${r.fullProcess.runs} runs, ${fmt(r.fullProcess.min)}–${fmt(r.fullProcess.max)} s); ` +
      `1 thread: ${r.torch.full ? `${fmt(r.torch.full.seconds / r.serial.seconds)}× torch full, ` : ''}${fmt(ref.naiveSeconds / r.serial.seconds)}× naive.` +
      targets(r));
  }
  return out.join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(argv[1], argv[2], argv[3] as 'full' | 'directional', argv[4] ? Number(argv[4]) : undefined);
  const noTorch = argv.includes('--no-torch');
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const jsonOut = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined;
  const python = noTorch ? null : torchPython();
  const dir = join(tmpdir(), 'backprop-check-bench');
  const cpu = cpus();
  console.log(`machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GB; node ${process.version}; ` +
    `load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(python ? `torch: ${python}` : `torch: ${noTorch ? 'skipped (--no-torch)' : 'skipped: no python3 with torch (`python3 -c "import torch"` fails)'}`);
  const rows: Row[] = [];
  const wanted = only?.split(',');
  for (const c of CASES.filter((x) => !wanted || wanted.some((w) => x.name.includes(w)))) {
    const files = writeCase(c, root, join(dir, caseFolder(c)));
    process.stderr.write(`${c.name}: full check …`);
    const first = inChild(files, 'full');
    const full = medianChild(files, 'full', first.seconds > 1 ? 3 : CHILD_RUNS, { first });
    const serial = inChild(files, 'full', 1);
    // The full check as one command: the default terminal table, as the README's first command
    // prints it. Fewer runs where one takes seconds.
    const fullProcess = wholeProcess(files, [], full.seconds > 1 ? 3 : PROCESS_RUNS);
    process.stderr.write(' naive …');
    const big = c.sizes[0] >= 100;
    const reference = references(files, big ? 24 : 64, big ? 4 : 16);
    process.stderr.write(' directional …');
    const directionalProcess = wholeProcess(files, ['--mode', 'directional', '--format', 'json'], PROCESS_RUNS);
    const directional = inChild(files, 'directional');
    const oneDirection = medianChild(files, 'directional', PROCESS_RUNS, { samples: 1 });
    process.stderr.write(python ? ' torch …' : '');
    const torch = noTorch ? { available: false, why: 'skipped (--no-torch)' } : torchCase(python, c);
    process.stderr.write(' done\n');
    rows.push({ case: c, parameters: c.net ? parameterCountOfFiles(files) : parameterCountOf(c), full, serial, fullProcess, reference, directionalProcess, directional, oneDirection, torch });
  }
  if (rows.length > 0) {
    console.log('');
    console.log(table(rows));
    console.log('');
    console.log(notes(rows));
    const t = rows.find((r) => r.torch.available)?.torch;
    console.log(t ? `torch ${t.version}, ${t.threads} thread(s), gradcheck eps 1e-6, float64.` : `torch: ${rows[0]?.torch.why ?? 'skipped'}`);
  }
  let session: SessionResult | undefined;
  if (!wanted || wanted.some((w) => 'session'.includes(w))) {
    const numpy = numpyPython();
    console.log('');
    if (numpy) {
      process.stderr.write('session …');
      session = sessionBench(root, numpy);
      process.stderr.write(' done\n');
      console.log(sessionReport(session));
    } else {
      console.log('session: skipped: no python3 with NumPy (`python3 -c "import numpy"` fails)');
    }
  }
  console.log(`load average at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ networks: rows, session }, null, 2) + '\n');
}

await main(process.argv.slice(2));
