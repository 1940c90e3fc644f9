// The Markdown report, for a CI job summary ($GITHUB_STEP_SUMMARY): a headline, the per-tensor
// table (with --taylor, its Taylor order column; when a tensor fails, a findings column naming the
// codes that explain it, so a finding about several tensors shows in each of their rows), the
// verdict, the findings and, with --sweep, the step sweep. Everything that comes from the report is escaped, so a formula like dA * (1 - Z^2)
// shows as written.
import { Chalk } from 'chalk';
import type { Finding, Mode, Report, Status, TensorCheck } from '../core/report.js';
import type { SweepResult } from '../core/report.js';
import { columnHeads, findingsFor, findingWhere, noVerdict, num, resolutionWords, taylorWords, unfinished, unfinishedWords } from './format.js';
import { shapeText } from '../core/tensor.js';
import { verdict } from './table.js';
import { categoryOf } from '../core/findings/registry.js';

const plain = new Chalk({ level: 0 });

export function renderMarkdown(report: Report): string {
  const lines = [`### backprop-check: ${headline(report)}`, '', ...table(report.checks, report.settings.mode, report.findings), '', escape(verdict(report, plain))];
  if (report.findings.length > 0) lines.push('', '#### Findings', '', ...report.findings.flatMap(finding));
  if (report.sweep) lines.push('', '#### Step sweep', '', ...sweep(report.sweep));
  return lines.join('\n') + '\n';
}

function headline(report: Report): string {
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  if (report.partial) return `⏸️ interrupted: ${report.checks.filter((c) => c.planned === undefined).length} of ${report.checks.length} tensors checked in full`;
  if (failed > 0) return `❌ ${failed} of ${report.checks.length} tensors fail`;
  const blocked = noVerdict(report);
  if (blocked) return `❌ no verdict (${blocked.code})`;
  return `✅ all ${report.checks.length} tensors pass`;
}

function table(checks: TensorCheck[], mode: Mode, findings: Finding[]): string[] {
  // With --taylor, a column for the ε-free verdict, worded as in the terminal table.
  const taylor = checks.some((c) => c.taylorStatus !== undefined);
  // The codes of the root-cause and propagated findings that explain each failing tensor (its
  // JUnit <failure> carries these and the health notes too; the table keeps to the explanations).
  const explains = findings.filter((f) => { const k = categoryOf(f.code); return k === 'root' || k === 'propagated'; });
  const codes = checks.map((c) => (c.status === 'fail' ? [...new Set(findingsFor(c, explains, true).map((f) => f.code))].join(', ') : ''));
  const named = codes.some((x) => x !== '');
  const heads = columnHeads(mode);
  const rows = checks.map((c, i) => {
    const u = unfinished(c, mode);
    if (u && !u.reached) return [String(c.layer), c.param, shapeText(c.shape), '', '', '', '', `⏸️ ${unfinishedWords(c, mode)}`, ...(taylor ? [''] : []), ...(named ? [codes[i]] : [])];
    const worst = c.worst ? `[${c.worst.index.join(',')}] ${num(c.worst.analytic)} vs ${num(c.worst.numeric)}` : '';
    const kinks = c.kinks > 0 ? ` (${c.kinks} at a kink)` : '';
    const state = u ? `${c.status === 'fail' ? '❌' : '⏸️'} ${unfinishedWords(c, mode)}` : resolutionWords(c) ? `⚠️ ${resolutionWords(c)}` : status(c.status);
    return [String(c.layer), c.param, shapeText(c.shape), num(c.analyticNorm), num(c.numericNorm), num(c.relativeError), worst + kinks, state,
      ...(taylor ? [taylorOrder(c)] : []), ...(named ? [codes[i]] : [])];
  });
  return [
    `| layer | tensor | shape | ${escape(heads.analytic)} | ${escape(heads.numeric)} | rel. error | ${escape(heads.worst)} | status |${taylor ? ' Taylor order |' : ''}${named ? ' findings |' : ''}`,
    `| ---: | --- | --- | ---: | ---: | ---: | --- | --- |${taylor ? ' --- |' : ''}${named ? ' --- |' : ''}`,
    ...rows.map((cells) => `| ${cells.map(escape).join(' | ')} |`),
  ];
}

function status(s: Status): string {
  return s === 'pass' ? '✅ pass' : s === 'warn' ? '⚠️ warn' : '❌ FAIL';
}

/** "✅ 2.00 (right)", "❌ 1.00 (WRONG)", "⚠️ n/a (unclear)": the fitted order (≈ 2 right, ≈ 1 wrong). */
function taylorOrder(c: TensorCheck): string {
  const { order, word } = taylorWords(c);
  return `${word === 'right' ? '✅' : word === 'WRONG' ? '❌' : '⚠️'} ${order} (${word})`;
}

/** The worst tensor's relative error at each ε, both ways, the chosen ε marked, then why it was chosen. */
function sweep(s: SweepResult): string[] {
  const elements = Math.max(0, ...s.tensors.map((t) => t.elements));
  const rows = s.epsilons.map((e, i) => {
    const cells = [e.toExponential(0), num(s.worst.accurate[i]), num(s.worst.plain[i])].map(escape);
    return e === s.chosen ? `| **${cells[0]}** ◀ chosen | **${cells[1]}** | **${cells[2]}** |` : `| ${cells.join(' | ')} |`;
  });
  return [
    `The worst tensor's relative error against the step ε, on ${elements} seeded elements per tensor.`,
    '',
    "| ε | backprop-check's differences | plain (J(θ+ε) − J(θ−ε)) / 2ε |",
    '| ---: | ---: | ---: |',
    ...rows,
    '',
    escape(s.program
      ? `Marked ε = ${num(s.chosen)}: ${s.reason}. Each tensor was checked at its own step: ${Object.entries(s.perTensor).map(([name, h]) => `${name} ${num(h)}`).join(', ')}.`
      : `Chosen ε = ${num(s.chosen)}: ${s.reason}. The check above ran with it.`),
  ];
}

function finding(f: Finding): string[] {
  const where = findingWhere(f);
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
