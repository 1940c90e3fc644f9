// The real-bug corpus (test/real-bugs/): every buggy backprop someone published, reproduced in NumPy,
// run through the built command line as its user would run it (case.json's `args` in the case's
// directory), and its fix (`fixedArgs`) beside it. A case is named when the check fails and a
// root-cause finding with one of the case's expected codes is reported at its layer as an error;
// a fix is clean when its check passes with no root-cause finding. test/real-bugs.test.ts asserts the
// naming rate and the clean fixes; `npm run matrix -- --real [more case directories…]` prints the table.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { categoryOf } from '../src/core/findings/registry.js';
import type { Finding, Report } from '../src/core/report.js';

// tools/ runs from source (vitest) and compiled to build/tools/ (npm run matrix): the root is one or two up.
const up = new URL('..', import.meta.url).pathname;
export const ROOT = up.endsWith('/build/') ? up.slice(0, -'build/'.length) : up;
export const CORPUS = join(ROOT, 'test/real-bugs');
const BIN = join(ROOT, 'bin/backprop-check.js');

/** The share of the corpus that must be named (issue 15). */
export const REAL_BUG_RATE = 0.9;

/** case.json, as test/real-bugs/common.py writes it. */
export interface RealBug {
  id: string;
  source: string;
  title: string;
  quote: string;
  bug: string;
  expect: { codes: string[]; layer: number };
  args: string[];
  fixedArgs: string[];
  /** The case's directory (not in case.json). */
  dir: string;
}

/** Every case under the corpus directories, in id order; a directory without case.json is skipped. */
export function realBugs(corpora: string[] = [CORPUS]): RealBug[] {
  const cases: RealBug[] = [];
  for (const corpus of corpora) {
    for (const id of readdirSync(corpus).sort()) {
      const file = join(corpus, id, 'case.json');
      if (existsSync(file)) cases.push({ ...(JSON.parse(readFileSync(file, 'utf8')) as Omit<RealBug, 'dir'>), dir: join(corpus, id) });
    }
  }
  return cases.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

export interface Outcome {
  /** The JSON report, or null when the command did not give one (then `error` says why). */
  report: Report | null;
  error?: string;
}

/**
 * Runs the built command line on one of a case's argument lists in its directory, with
 * `--format json`; "{python}" stands for a Python that imports NumPy (the --model cases).
 */
export function runCase(bug: RealBug, args: string[], python: string): Outcome {
  const argv = args.map((a) => a.replaceAll('{python}', python));
  const r = spawnSync(process.execPath, [BIN, ...argv, '--format', 'json'], {
    cwd: bug.dir, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 300_000, env: { ...process.env, NO_COLOR: '1' },
  });
  // Exit status 1 is a failing check (the buggy case); 2 and above are errors with no report.
  if (r.status === 0 || r.status === 1) {
    try {
      return { report: JSON.parse(r.stdout) as Report };
    } catch {
      return { report: null, error: `no JSON report on stdout: ${r.stdout.slice(0, 200)}` };
    }
  }
  return { report: null, error: `exit status ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' ')}` };
}

const isRoot = (f: Finding) => categoryOf(f.code) === 'root';
/** The layers a finding speaks of: its layer, evidence.layers, and those of the tensors it explains ("b1" is layer 1). */
const layersOf = (f: Finding) => [...new Set([
  ...(f.layer !== undefined ? [f.layer] : []),
  ...((f.evidence?.layers as number[] | undefined) ?? []),
  ...[f.param, ...(f.params ?? [])].flatMap((p) => (p && /^[A-Za-z]+(\d+)$/.test(p) ? [Number(/(\d+)$/.exec(p)![1])] : [])),
])];

/** "code@layer, …" for a report's root-cause findings ("nothing" when there are none). */
export function rootCauses(report: Report): string {
  return report.findings.filter(isRoot).map((f) => `${f.code}@${layersOf(f).join('/') || '?'}`).join(', ') || 'nothing';
}

/** Whether the buggy run is named: it fails, with an error of one of the expected codes at the expected layer. */
export function named(report: Report, expect: RealBug['expect']): boolean {
  return !report.ok && report.findings.some((f) => isRoot(f) && f.severity === 'error' && expect.codes.includes(f.code) && layersOf(f).includes(expect.layer));
}

/** Whether the fix is clean: the check passes and nothing is reported as a root cause. */
export function clean(report: Report): boolean {
  return report.ok && !report.findings.some(isRoot);
}

export interface RealBugRow {
  bug: RealBug;
  buggy: Outcome;
  fixed: Outcome;
  named: boolean;
  clean: boolean;
}

export function realBugTable(python: string, corpora?: string[]): RealBugRow[] {
  return realBugs(corpora).map((bug) => {
    const buggy = runCase(bug, bug.args, python);
    const fixed = runCase(bug, bug.fixedArgs, python);
    return {
      bug, buggy, fixed,
      named: buggy.report !== null && named(buggy.report, bug.expect),
      clean: fixed.report !== null && clean(fixed.report),
    };
  });
}

/** The source, short enough for a table: owner/repo#n on GitHub, else the host and the path's tail. */
function shortSource(url: string): string {
  const gh = /^https:\/\/github\.com\/([^/]+\/[^/]+)(?:\/(?:issues|pull)\/(\d+))?/.exec(url);
  if (gh) return gh[2] ? `${gh[1]}#${gh[2]}` : gh[1];
  const m = /^https?:\/\/(?:www\.)?([^/]+)(\/.*)?$/.exec(url);
  if (!m) return url;
  return cut(`${m[1]}/…/${(m[2] ?? '').replace(/\/$/, '').split('/').pop()}`, 44);
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function renderRealBugs(rows: RealBugRow[]): { text: string; named: number; total: number; clean: number } {
  const named = rows.filter((r) => r.named).length, clean = rows.filter((r) => r.clean).length;
  const lines = ['', 'Real bugs: backprop people published (test/real-bugs/), reproduced in NumPy and run as their user would run them.',
    'named ✓: the check fails and an expected code is an error at the expected layer; fix ✓: the fix passes with no root cause.', ''];
  const head = ['case', 'source', 'bug', 'expected', 'found', 'named', 'fix'];
  const body = rows.map((r) => [
    r.bug.id, shortSource(r.bug.source), cut(r.bug.bug, 48), `${r.bug.expect.codes.join('|')}@${r.bug.expect.layer}`,
    cut(r.buggy.report ? rootCauses(r.buggy.report) : `error: ${r.buggy.error}`, 60), r.named ? '✓' : '✗',
    r.clean ? '✓' : r.fixed.report ? `✗ ${cut(rootCauses(r.fixed.report), 40)}` : `✗ error: ${cut(r.fixed.error ?? '', 40)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  lines.push(line(head), ...body.map(line));
  const rate = (100 * named) / Math.max(1, rows.length);
  lines.push('', `${named} of ${rows.length} real bugs named (${rate.toFixed(1)}%); ${clean} of ${rows.length} fixes clean.`);
  return { text: lines.join('\n') + '\n', named, total: rows.length, clean };
}
