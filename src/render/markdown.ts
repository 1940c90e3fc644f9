// The Markdown report, for a CI job summary ($GITHUB_STEP_SUMMARY): a headline, the per-tensor
// table, the verdict and the findings. Everything that comes from the report is escaped, so a
// formula like dA * (1 - Z^2) shows as written.
import { Chalk } from 'chalk';
import type { Finding, Report, Status, TensorCheck } from '../core/report.js';
import { num, shape } from './format.js';
import { verdict } from './table.js';

const plain = new Chalk({ level: 0 });

export function renderMarkdown(report: Report): string {
  const lines = [`### backprop-check: ${headline(report)}`, '', ...table(report.checks), '', escape(verdict(report, plain))];
  if (report.findings.length > 0) lines.push('', '#### Findings', '', ...report.findings.flatMap(finding));
  return lines.join('\n') + '\n';
}

function headline(report: Report): string {
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  if (report.partial) return `interrupted after ${report.checks.length} tensor(s)`;
  return failed > 0 ? `❌ ${failed} of ${report.checks.length} tensors fail` : `✅ all ${report.checks.length} tensors pass`;
}

function table(checks: TensorCheck[]): string[] {
  const rows = checks.map((c) => {
    const worst = c.worst ? `[${c.worst.index.join(',')}] ${num(c.worst.analytic)} vs ${num(c.worst.numeric)}` : '';
    const kinks = c.kinks > 0 ? ` (${c.kinks} at a kink)` : '';
    return [String(c.layer), c.param, shape(c.shape), num(c.analyticNorm), num(c.numericNorm), num(c.relativeError), worst + kinks, status(c.status)];
  });
  return [
    '| layer | tensor | shape | ‖analytic‖ | ‖numeric‖ | rel. error | worst element (analytic vs numeric) | status |',
    '| ---: | --- | --- | ---: | ---: | ---: | --- | --- |',
    ...rows.map((cells) => `| ${cells.map(escape).join(' | ')} |`),
  ];
}

function status(s: Status): string {
  return s === 'pass' ? '✅ pass' : s === 'warn' ? '⚠️ warn' : '❌ FAIL';
}

function finding(f: Finding): string[] {
  const where = [f.layer !== undefined ? `layer ${f.layer}` : '', f.param ?? ''].filter(Boolean).join(' ');
  const out = [`- **${f.severity}** \`${f.code.replace(/`/g, "'")}\`${where ? ` (${escape(where)})` : ''}: ${escape(f.message)}`];
  if (f.fix) out.push(`  - *fix:* ${escape(f.fix)}`);
  return out;
}

/** The characters that mean something inside a line of GitHub Markdown, backslash-escaped (emphasis,
 *  code, links, HTML, table cells, strikethrough, math, entities); line breaks become spaces, so a
 *  table cell or list item stays on its line. Text never starts a line here, so block syntax (#, -)
 *  cannot arise. */
export function escape(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/[\\`*_[\]<>|~$&]/g, (ch) => `\\${ch}`);
}
