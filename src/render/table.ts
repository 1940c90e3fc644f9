// The terminal table: one row per tensor, then the verdict and the findings.
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Finding, Report, Status } from '../core/report.js';
import { columnHeads, count, num, resolutionWords, stepWords, taylorWords, toleranceWords, unfinished, unfinishedWords, unitWord } from './format.js';
import { shapeText } from '../core/tensor.js';
import { gradientNormBars } from './sparkline.js';

/** Columns to wrap finding lines at when stdout is not a terminal (a CI log, a pipe, a test). */
export const DEFAULT_WIDTH = 100;

/** The table, the gradient-norm bars, the verdict and the findings (wrapped at `width` columns). */
export function renderTable(report: Report, color: boolean, width = DEFAULT_WIDTH): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  // With --taylor, a column for the ε-free verdict: the fitted order (≈ 2 right, ≈ 1 wrong).
  const taylor = report.checks.some((ch) => ch.taylorStatus !== undefined);
  const mode = report.settings.mode;
  const heads = columnHeads(mode);
  const table = new Table({
    head: ['layer', 'tensor', 'shape', heads.analytic, heads.numeric, 'rel. error', heads.worst, 'status', ...(taylor ? ['Taylor order'] : [])],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
    colAligns: ['right', 'left', 'left', 'right', 'right', 'right', 'left', 'left', ...(taylor ? ['left' as const] : [])],
  });
  for (const ch of report.checks) {
    const u = unfinished(ch, mode);
    if (u && !u.reached) {
      table.push([String(ch.layer), ch.param, shapeText(ch.shape), '', '', '', '', c.yellow(unfinishedWords(ch, mode)!), ...(taylor ? [''] : [])]);
      continue;
    }
    const worst = ch.worst ? `[${ch.worst.index.join(',')}] ${num(ch.worst.analytic)} vs ${num(ch.worst.numeric)}` : '';
    const kinks = ch.kinks > 0 ? c.dim(` (${ch.kinks} at a kink)`) : '';
    table.push([
      String(ch.layer), ch.param, shapeText(ch.shape),
      num(ch.analyticNorm), num(ch.numericNorm), num(ch.relativeError),
      worst + kinks, u ? (ch.status === 'fail' ? c.red.bold : c.yellow)(unfinishedWords(ch, mode)!) : resolutionWords(ch) ? c.yellow(resolutionWords(ch)!) : statusText(ch.status, c),
      ...(taylor ? [taylorText(ch, c)] : []),
    ]);
  }
  const bars = gradientNormBars(report.health.layers, 24, (s) => c.cyan(s));
  const lines = [underHeaderOnly(table.toString()), ...modeNote(report).map((l) => c.dim(l)), ...bars, verdict(report, c)];
  if (report.findings.length > 0) lines.push('', ...renderFindings(report.findings, c, width));
  return lines.join('\n') + '\n';
}

/** The table with its rule under the header and none between the rows (cli-table3 draws both with
 *  the same characters, so the later ones are dropped here). */
function underHeaderOnly(table: string): string {
  let rules = 0;
  return table.split('\n').filter((line) => !line.replace(ANSI, '').startsWith('├') || rules++ === 0).join('\n');
}

/** Under the table in sample and directional mode: what a row's numbers are over. */
function modeNote(report: Report): string[] {
  const k = report.settings.samples;
  if (report.settings.mode === 'directional') return [`directional mode: each tensor is compared along ${k ?? 'its'} random unit direction${k === 1 ? '' : 's'} v (the numbers are over the projections g·v; [i] is direction i, from 0).`];
  if (report.settings.mode === 'sample') return [`sample mode: each tensor is compared on ${k ?? 'its'} seeded element${k === 1 ? '' : 's'} (the numbers are over those only).`];
  return [];
}

function taylorText(check: Report['checks'][number], c: ChalkInstance): string {
  const { order, word } = taylorWords(check);
  const text = `${order} (${word})`;
  return word === 'right' ? c.green(text) : word === 'WRONG' ? c.red.bold(text) : c.yellow(text);
}

function statusText(s: Status, c: ChalkInstance): string {
  return s === 'pass' ? c.green('pass') : s === 'warn' ? c.yellow('warn') : c.red.bold('FAIL');
}

/** What the gradients under test are, by the report's source. */
export const CHECKED: Record<Report['source'], string> = {
  correct: 'the gradients of correct backprop for this spec', declared: 'the gradients from the backward formulas in net.json',
  grads: 'the gradients in your --grads file', exec: 'the gradients from your --exec program',
  model: "your program's gradients",
};

/** One sentence on the outcome, with the tolerance each tensor was judged at; also the verdict of
 *  the Markdown and JUnit reports (colour off). Not wrapped: one line to grep for. */
export function verdict(report: Report, c: ChalkInstance): string {
  const judged = report.checks.filter((x) => x.planned === undefined || x.checked > 0 || x.kinks > 0);
  const failed = judged.filter((x) => x.status === 'fail');
  const warned = judged.filter((x) => x.status === 'warn' && x.planned === undefined);
  const what = CHECKED[report.source];
  const cost = `cost ${num(report.loss)}`;
  const settings = `${stepWords(report)}, ${toleranceWords(report)}, ${report.settings.mode} mode`;
  if (report.partial) {
    const so = failed.length > 0 ? `; ${failed.length} fail${failed.length === 1 ? 's' : ''} so far (${failed.map((f) => f.param).join(', ')})` : '; none fails so far';
    return c.yellow(`Interrupted: ${interruptedCounts(report)}${so} (${cost}; ${settings}).`);
  }
  // NaN/Inf in the forward pass, or every gradient exactly 0: the comparison itself means nothing.
  const blocked = report.findings.find((f) => f.severity === 'error' && f.evidence?.cannotCheck === true);
  if (blocked) {
    const why = blocked.code === 'non-finite' ? 'NaN or Inf at these weights' : 'every gradient is exactly 0 at these weights';
    return c.red.bold('✗ nothing could be checked') + `: ${why}, so ${what} can be neither confirmed nor refuted (see ${blocked.code} below; ${cost}; ${settings}).`;
  }
  // A program whose cost is not deterministic: no tensor was judged (nondeterministic-cost below).
  if (report.findings.some((f) => f.code === 'nondeterministic-cost')) {
    return c.red.bold('✗ no verdict') + `: the program's cost changes between identical calls, so its finite differences measure noise (see nondeterministic-cost below; ${cost}; ${settings}).`;
  }
  if (failed.length > 0) {
    return c.red.bold(`✗ ${failed.length} of ${report.checks.length} tensors fail`) +
      ` (${failed.map((f) => f.param).join(', ')}): ${what} disagree with finite differences (${cost}; ${settings}).`;
  }
  const unresolved = warned.filter((w) => w.resolution === 'unresolved');
  if (unresolved.length > 0) {
    const near = warned.filter((w) => w.resolution === undefined);
    return c.yellow.bold(`✓ none of ${report.checks.length} tensors fails, ${unresolved.length} unresolved`) +
      ` (${unresolved.map((w) => `${w.param}: floor ${num(w.floor ?? NaN)}`).join(', ')}): ${what} match finite differences as far as they resolve (${cost}; ${settings}).` +
      (near.length > 0 ? c.yellow(` ${near.length} within 100× of the tolerance (${near.map((w) => w.param).join(', ')}).`) : '');
  }
  const warn = warned.length > 0 ? c.yellow(` ${warned.length} within 100× of the tolerance (${warned.map((w) => w.param).join(', ')}).`) : '';
  return c.green.bold(`✓ all ${report.checks.length} tensors pass`) + `: ${what} match finite differences (${cost}; ${settings}).` + warn;
}

/** An interrupted check: "2 of 8 tensors checked in full, W2 partly (1,204 of 8,192 elements), 5 not
 *  checked (b2, W3, b3, W4, b4)". */
export function interruptedCounts(report: Report): string {
  const mode = report.settings.mode;
  const full = report.checks.filter((x) => x.planned === undefined).length;
  const partly = report.checks.filter((x) => unfinished(x, mode)?.reached);
  const notChecked = report.checks.filter((x) => unfinished(x, mode)?.reached === false);
  return [
    `${full} of ${report.checks.length} tensor${report.checks.length === 1 ? '' : 's'} checked in full`,
    ...partly.map((x) => `${x.param} partly (${count(unfinished(x, mode)!.done)} of ${count(x.planned!)} ${unitWord(mode)})`),
    ...(notChecked.length > 0 ? [`${notChecked.length} not checked (${notChecked.map((x) => x.param).join(', ')})`] : []),
  ].join(', ');
}

export function renderFindings(findings: Finding[], c: ChalkInstance, width = Infinity): string[] {
  const out: string[] = [];
  for (const f of findings) {
    const mark = f.severity === 'error' ? c.red.bold('error') : f.severity === 'warning' ? c.yellow('warning') : c.cyan('info');
    const where = [f.layer !== undefined ? `layer ${f.layer}` : '', f.param ?? ''].filter(Boolean).join(' ');
    out.push(...wrap(`${mark} ${c.bold(f.code)}${where ? ` (${where})` : ''}: ${f.message}`, width, '  '));
    if (f.fix) out.push(...wrap(`  ${c.dim('fix:')} ${f.fix}`, width, '       '));
  }
  return out;
}

/** Colour codes, which take no columns. */
const ANSI = /\x1b\[[0-9;]*m/g;
const columns = (s: string) => [...s.replace(ANSI, '')].length;

/**
 * `text` broken at spaces into lines of at most `width` columns, the later ones indented by
 * `indent`. A word longer than a line (a formula, a path) stays whole on a line of its own.
 */
export function wrap(text: string, width: number, indent: string): string[] {
  if (!Number.isFinite(width) || columns(text) <= width) return [text];
  const lead = /^ */.exec(text)![0];
  const words = text.slice(lead.length).split(' ');
  const lines: string[] = [];
  let line = lead + words[0];
  for (const word of words.slice(1)) {
    if (line.trim() !== '' && columns(line) + 1 + columns(word) > width) {
      lines.push(line);
      line = indent + word;
    } else {
      line += ` ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
