// The terminal table: one row per tensor, then the verdict and the findings.
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Finding, Report, Status } from '../core/report.js';
import { num, shape, taylorWords } from './format.js';
import { gradientNormBars } from './sparkline.js';

export function renderTable(report: Report, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  // With --taylor, a column for the ε-free verdict: the fitted order (≈ 2 right, ≈ 1 wrong).
  const taylor = report.checks.some((ch) => ch.taylorStatus !== undefined);
  const table = new Table({
    head: ['layer', 'tensor', 'shape', '‖analytic‖', '‖numeric‖', 'rel. error', 'worst element (analytic vs numeric)', 'status', ...(taylor ? ['Taylor order'] : [])],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
    colAligns: ['right', 'left', 'left', 'right', 'right', 'right', 'left', 'left', ...(taylor ? ['left' as const] : [])],
  });
  for (const ch of report.checks) {
    const worst = ch.worst ? `[${ch.worst.index.join(',')}] ${num(ch.worst.analytic)} vs ${num(ch.worst.numeric)}` : '';
    const kinks = ch.kinks > 0 ? c.dim(` (${ch.kinks} at a kink)`) : '';
    table.push([
      String(ch.layer), ch.param, shape(ch.shape),
      num(ch.analyticNorm), num(ch.numericNorm), num(ch.relativeError),
      worst + kinks, statusText(ch.status, c),
      ...(taylor ? [taylorText(ch, c)] : []),
    ]);
  }
  const bars = gradientNormBars(report.health.layers, 24, (s) => c.cyan(s));
  const lines = [table.toString(), ...bars, verdict(report, c)];
  if (report.findings.length > 0) lines.push('', ...renderFindings(report.findings, c));
  return lines.join('\n') + '\n';
}

function taylorText(check: Report['checks'][number], c: ChalkInstance): string {
  const { order, word } = taylorWords(check);
  const text = `${order} (${word})`;
  return word === 'right' ? c.green(text) : word === 'WRONG' ? c.red.bold(text) : c.yellow(text);
}

function statusText(s: Status, c: ChalkInstance): string {
  return s === 'pass' ? c.green('pass') : s === 'warn' ? c.yellow('warn') : c.red.bold('FAIL');
}

/** One sentence on the outcome; also the verdict of the Markdown and JUnit reports (colour off). */
/** What the gradients under test are, by the report's source. */
export const CHECKED: Record<Report['source'], string> = {
  correct: 'the gradients of correct backprop for this spec', declared: 'the gradients from the backward formulas in net.json',
  grads: 'the gradients in your --grads file', exec: 'the gradients from your --exec program',
};

export function verdict(report: Report, c: ChalkInstance): string {
  const failed = report.checks.filter((x) => x.status === 'fail');
  const warned = report.checks.filter((x) => x.status === 'warn');
  const what = CHECKED[report.source];
  const cost = `cost ${num(report.loss)}`;
  const settings = `ε=${num(report.settings.epsilon)}, tolerance ${num(report.settings.tolerance)}, ${report.settings.mode} mode`;
  if (report.partial) return c.yellow(`Interrupted: ${report.checks.length} tensor(s) checked so far (${cost}; ${settings}).`);
  // NaN/Inf in the forward pass, or every gradient exactly 0: the comparison itself means nothing.
  const blocked = report.findings.find((f) => f.severity === 'error' && f.evidence?.cannotCheck === true);
  if (blocked) {
    const why = blocked.code === 'non-finite' ? 'NaN or Inf at these weights' : 'every gradient is exactly 0 at these weights';
    return c.red.bold('✗ nothing could be checked') + `: ${why}, so ${what} can be neither confirmed nor refuted (see ${blocked.code} below; ${cost}; ${settings}).`;
  }
  if (failed.length > 0) {
    return c.red.bold(`✗ ${failed.length} of ${report.checks.length} tensors fail`) +
      ` (${failed.map((f) => f.param).join(', ')}): ${what} disagree with finite differences (${cost}; ${settings}).`;
  }
  const warn = warned.length > 0 ? c.yellow(` ${warned.length} within 100× of the tolerance (${warned.map((w) => w.param).join(', ')}).`) : '';
  return c.green.bold(`✓ all ${report.checks.length} tensors pass`) + `: ${what} match finite differences (${cost}; ${settings}).` + warn;
}

export function renderFindings(findings: Finding[], c: ChalkInstance): string[] {
  const out: string[] = [];
  for (const f of findings) {
    const mark = f.severity === 'error' ? c.red.bold('error') : f.severity === 'warning' ? c.yellow('warning') : c.cyan('info');
    const where = [f.layer !== undefined ? `layer ${f.layer}` : '', f.param ?? ''].filter(Boolean).join(' ');
    out.push(`${mark} ${c.bold(f.code)}${where ? ` (${where})` : ''}: ${f.message}`);
    if (f.fix) out.push(`  ${c.dim('fix:')} ${f.fix}`);
  }
  return out;
}
