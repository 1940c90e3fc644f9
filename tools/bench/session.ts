// The bench's session case (`npm run bench -- --only session`): what `--model` costs on top of the
// user's own cost function, with NumPy programs served by the Python helper (tools/bench/session_model.py).
//
// - Evaluations per second: the ~50 µs MLP checked through `--model` (the program counts its cost
//   calls and times the first to the last), side by side with the same program's own bare loop of
//   as many cost calls; the ratio is the issue's target (≥ 0.7). ROUNDS rounds, session then bare
//   in each, so that both see the same load; the median ratio and the range.
// - The full check of the 10,072-parameter CNN (fixtures/models/cnn.py --large --fixed) through
//   `--model`, the whole process timed, against the time of its 2n bare cost calls.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Odd, so that the median is one of the rounds. */
const ROUNDS = 3;

type Model = 'mlp' | 'cnn';

interface Served {
  /** Wall seconds of the whole `backprop-check --model` process. */
  wallSeconds: number;
  ok: boolean;
  parameters: number;
  /** Cost calls the program answered, and the seconds from the first to the last one. */
  calls: number;
  spanSeconds: number;
}

interface Bare {
  calls: number;
  seconds: number;
}

export interface SessionResult {
  python: string;
  rounds: { served: Served; bare: Bare; ratio: number }[];
  /** Session evaluations per second over the bare loop's, the median of the rounds. */
  ratio: number;
  cnn: { served: Served; bare: Bare };
}

/** The first Python that can `import numpy`, or null. */
export function numpyPython(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

function served(root: string, python: string, model: Model): Served {
  const dir = mkdtempSync(join(tmpdir(), 'bpc-bench-session-'));
  const stats = join(dir, 'stats.json');
  try {
    const command = `${quote(python)} ${quote(join(root, 'tools/bench/session_model.py'))} ${model} serve`;
    const start = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'bin/backprop-check.js'), '--model', command, '--format', 'json'], {
      env: { ...process.env, BENCH_STATS: stats }, encoding: 'utf8', maxBuffer: 1 << 26,
    });
    const wallSeconds = (performance.now() - start) / 1000;
    if (r.status !== 0 && r.status !== 1) throw new Error(`backprop-check --model "${command}" failed (${r.status}):\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { shape: number[] }[] };
    const counted = JSON.parse(readFileSync(stats, 'utf8')) as { calls: number; first: number; last: number };
    const parameters = report.checks.reduce((n, c) => n + c.shape.reduce((a, b) => a * b, 1), 0);
    return { wallSeconds, ok: report.ok, parameters, calls: counted.calls, spanSeconds: counted.last - counted.first };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bare(root: string, python: string, model: Model, calls: number): Bare {
  const r = spawnSync(python, [join(root, 'tools/bench/session_model.py'), model, 'bare', String(calls)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`session_model.py ${model} bare failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as Bare;
}

export function sessionBench(root: string, python: string): SessionResult {
  const rounds = Array.from({ length: ROUNDS }, () => {
    const s = served(root, python, 'mlp');
    // Evaluations per second: (calls - 1) intervals between the first and the last call.
    const b = bare(root, python, 'mlp', s.calls);
    return { served: s, bare: b, ratio: ((s.calls - 1) / s.spanSeconds) / (b.calls / b.seconds) };
  });
  const ratio = rounds.map((r) => r.ratio).sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
  const cnn = served(root, python, 'cnn');
  return { python, rounds, ratio, cnn: { served: cnn, bare: bare(root, python, 'cnn', 2 * cnn.parameters) } };
}

const fmt = (x: number, digits = 3) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(digits)).toString());

export function sessionReport(r: SessionResult): string {
  const lines = [`session (--model, NumPy programs through ${r.python} and python/backprop_check.serve):`];
  for (const [i, { served: s, bare: b, ratio }] of r.rounds.entries()) {
    lines.push(`  round ${i + 1}: MLP (${s.parameters.toLocaleString('en-US')} params, ${fmt((b.seconds / b.calls) * 1e6)} µs per bare cost): ` +
      `${s.calls.toLocaleString('en-US')} costs through the session at ${fmt((s.calls - 1) / s.spanSeconds)}/s, ` +
      `the bare loop at ${fmt(b.calls / b.seconds)}/s: ${fmt(ratio)}× (whole check ${fmt(s.wallSeconds)} s${s.ok ? '' : ', NOT ok'})`);
  }
  const ratios = r.rounds.map((x) => x.ratio).sort((a, b) => a - b);
  lines.push(`  evaluations per second through the session / bare: ${fmt(r.ratio)}× (median of ${r.rounds.length}, ${fmt(ratios[0])}–${fmt(ratios[ratios.length - 1])}; target ≥ 0.7)`);
  const { served: s, bare: b } = r.cnn;
  lines.push(`  CNN (fixtures/models/cnn.py --large --fixed, ${s.parameters.toLocaleString('en-US')} params): the full check ${fmt(s.wallSeconds)} s` +
    ` (${s.calls.toLocaleString('en-US')} cost calls${s.ok ? '' : ', NOT ok'}), its 2n = ${b.calls.toLocaleString('en-US')} bare cost calls ${fmt(b.seconds)} s:` +
    ` ${fmt(s.wallSeconds / b.seconds)}× the bare time`);
  return lines.join('\n');
}
