// The JUnit XML report, for CI test dashboards: one <testsuite> "backprop-check", one <testcase> per
// tensor (classname "layer N", name "W1"). A failing tensor's <failure> says its relative error, its
// worst element, and the findings about that tensor, its layer, or the whole network; a finding
// that explains several tensors (Finding.params) is in the <failure> of each of them. With --taylor
// each testcase also says its Taylor order; a <failure> is still only what makes the exit status 1
// (a failing finite-difference check), so a Taylor verdict of WRONG on a passing tensor is written to
// its system-out. With --sweep the suite has sweep.* properties and the sweep in its system-out.
// Deterministic: no timestamps, no durations, no host names.
import { Chalk } from 'chalk';
import type { Finding, Report, TensorCheck } from '../core/report.js';
import type { SweepResult } from '../core/report.js';
import { findingsFor, findingWhere, noVerdict, num, resolutionWords, taylorWords, unfinished, unfinishedWords } from './format.js';
import { interruptedCounts, verdict } from './table.js';
import { shapeText } from '../core/tensor.js';

const plain = new Chalk({ level: 0 });

export function renderJunit(report: Report): string {
  const cases = report.checks.map((c) => testcase(c, report));
  if (report.partial) {
    cases.push(
      `    <testcase classname="backprop-check" name="every tensor checked">\n` +
      `      <failure message="${attr(`interrupted: ${interruptedCounts(report)}`)}" type="interrupted"/>\n` +
      `    </testcase>`,
    );
  }
  // No tensor failed, but there is no verdict (a cost that is not deterministic, NaN at these weights,
  // nothing compared): one failing testcase says why, so that a dashboard never shows a pass.
  const blocked = report.partial || report.checks.some((c) => c.status === 'fail') ? undefined : noVerdict(report);
  if (blocked) {
    cases.push(
      `    <testcase classname="backprop-check" name="a verdict">\n` +
      `      <failure message="${attr(`no verdict: ${blocked.code}`)}" type="no-verdict">${text(findingText(blocked))}</failure>\n` +
      `    </testcase>`,
    );
  }
  const tests = cases.length;
  const failures = report.checks.filter((c) => c.status === 'fail').length + (report.partial || blocked ? 1 : 0);
  const skipped = report.checks.filter((c) => c.planned !== undefined && c.status !== 'fail').length;
  const properties = [
    ['source', report.source],
    ['loss', String(report.loss)],
    ['epsilon', String(report.settings.epsilon)],
    ['tolerance', String(report.settings.tolerance)],
    ['mode', report.settings.mode],
    ['seed', String(report.settings.seed)],
    ...(report.settings.samples !== undefined ? [['samples', String(report.settings.samples)]] : []),
    ...(report.sweep ? [['sweep.chosenEpsilon', String(report.sweep.chosen)], ['sweep.reason', report.sweep.reason]] : []),
  ];
  const summary = [verdict(report, plain), ...taylorSummary(report.checks), ...report.findings.map(findingText), ...(report.sweep ? sweepText(report.sweep) : [])].join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="backprop-check" tests="${tests}" failures="${failures}" errors="0">`,
    `  <testsuite name="backprop-check" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}">`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property name="${attr(name)}" value="${attr(value)}"/>`),
    '    </properties>',
    ...cases,
    `    <system-out>${text(summary)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(c: TensorCheck, report: Report): string {
  const open = `    <testcase classname="layer ${c.layer}" name="${attr(c.param)}">`;
  const findings = findingsFor(c, report.findings, c.status === 'fail');
  const tolerance = report.settings.tolerance;
  const mode = report.settings.mode;
  const part = unfinishedWords(c, mode);
  const worstWord = mode === 'directional' ? 'direction' : 'element';
  const measured = `relative error ${num(c.relativeError)} (tolerance ${num(tolerance)})` +
    (c.worst ? `; worst ${worstWord} [${c.worst.index.join(',')}]: analytic ${num(c.worst.analytic)} vs numeric ${num(c.worst.numeric)}` : '');
  // Interrupted before this tensor was done and nothing failed in it: skipped, with how far it got.
  if (part !== null && c.status !== 'fail') {
    const why = unfinished(c, mode)!.reached ? `${part} were checked before the interrupt (${measured} on them)` : `${part}: the check was interrupted before it`;
    return `${open}\n      <skipped message="${attr(why)}"/>\n    </testcase>`;
  }
  if (c.status === 'fail') {
    const message = `${c.param}: ${measured}${part ? ` (${part})` : ''}` + (findings.length > 0 ? `. ${findings.map((f) => `${f.code}: ${f.message}`).join(' ')}` : '');
    const details = [
      `${c.param} (layer ${c.layer}, shape ${shapeText(c.shape)}): the gradient under test disagrees with finite differences.`,
      `relative error ${c.relativeError} ≥ tolerance ${tolerance}; largest element-wise error ${c.maxElementError}`,
      ...(c.worst ? [`worst ${worstWord} [${c.worst.index.join(',')}]: analytic ${c.worst.analytic}, numeric ${c.worst.numeric}`] : []),
      `‖analytic‖ ${c.analyticNorm}, ‖numeric‖ ${c.numericNorm}; ${c.checked} ${worstWord}(s) checked${c.planned !== undefined ? ` of ${c.planned} (interrupted)` : ''}${c.kinks > 0 ? `, ${c.kinks} at a kink` : ''}`,
      ...taylorLine(c),
      ...findings.map(findingText),
    ].join('\n');
    return `${open}\n      <failure message="${attr(message)}" type="gradient-mismatch">${text(details)}</failure>\n    </testcase>`;
  }
  const notes = [
    ...(c.status === 'warn' ? [resolutionWords(c) ? `${measured}: ${resolutionWords(c)}, not a failure` : `${measured}: passes, but within 100× of the tolerance`] : []),
    ...taylorLine(c),
    ...findings.map(findingText),
  ];
  return notes.length > 0 ? `${open}\n      <system-out>${text(notes.join('\n'))}</system-out>\n    </testcase>` : `${open}</testcase>`;
}

/** With --taylor, the tensor's fitted order and its verdict, worded as in the terminal table. */
function taylorLine(c: TensorCheck): string[] {
  if (c.taylorStatus === undefined) return [];
  const { order, word } = taylorWords(c);
  if (word !== 'WRONG') return [`Taylor order ${order} (${word})`];
  // Not a <failure>: the exit status follows the finite-difference check alone, and so does JUnit.
  return [`Taylor order ${order} (WRONG)` + (c.status === 'fail' ? '' :
    ': the ε-free Taylor test says this gradient is wrong, though it passes the finite-difference check (which alone sets the exit status)')];
}

/** With --taylor, one line for the suite: how many tensors the Taylor test reads right, wrong, unclear. */
function taylorSummary(checks: TensorCheck[]): string[] {
  const tested = checks.filter((c) => c.taylorStatus !== undefined);
  if (tested.length === 0) return [];
  const named = (s: TensorCheck['taylorStatus']) => tested.filter((c) => c.taylorStatus === s).map((c) => c.param);
  const [right, wrong, unclear] = [named('pass'), named('fail'), named('inconclusive')];
  const list = (xs: string[]) => (xs.length > 0 ? ` (${xs.join(', ')})` : '');
  return [`Taylor test: ${right.length} of ${tested.length} tensors right, ${wrong.length} WRONG${list(wrong)}, ${unclear.length} unclear${list(unclear)}.`];
}

/** The worst tensor's relative error at each ε, both ways, the chosen ε marked. */
function sweepText(s: SweepResult): string[] {
  const elements = Math.max(0, ...s.tensors.map((t) => t.elements));
  return [
    `Step sweep: the worst tensor's relative error against ε (${elements} seeded elements per tensor), with backprop-check's differences and with plain (J(θ+ε) − J(θ−ε)) / 2ε:`,
    ...s.epsilons.map((e, i) => `  ε = ${e.toExponential(0)}: backprop-check ${num(s.worst.accurate[i])}, plain ${num(s.worst.plain[i])}${e === s.chosen ? '  ◀ chosen' : ''}`),
    `Chosen ε = ${num(s.chosen)}: ${s.reason}.`,
  ];
}

function findingText(f: Finding): string {
  const where = findingWhere(f);
  return `${f.severity} ${f.code}${where ? ` (${where})` : ''}: ${f.message}${f.fix ? ` Fix: ${f.fix}` : ''}`;
}

/** Characters XML 1.0 cannot hold at all (control characters, lone surrogates, U+FFFE/U+FFFF). */
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Element text. */
export function text(s: string): string {
  return s.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value in double quotes; line breaks kept as character references. */
export function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}
