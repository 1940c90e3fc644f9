// The --sweep table: the worst tensor's relative error against the step ε, with backprop-check's
// differences and with plain subtraction, each with a log-scale bar (1e-16 empty, 1 full), and the
// chosen ε marked. Printed before the check's own table.
import { Chalk } from 'chalk';
import type { SweepResult } from '../core/report.js';
import { num } from './format.js';

const WIDTH = 16;

/** A bar of WIDTH cells for 1e-16 … 1 on a log scale. */
function bar(x: number): string {
  if (!Number.isFinite(x)) return '?'.padEnd(WIDTH);
  const cells = x <= 0 ? 0 : Math.max(0, Math.min(WIDTH, Math.round(WIDTH + Math.log10(x))));
  return '█'.repeat(cells).padEnd(WIDTH, '·');
}

export function renderSweep(s: SweepResult, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const elements = Math.max(...s.tensors.map((t) => t.elements));
  const cell = (x: number) => `${num(x).padStart(8)} ${bar(x)}`;
  const lines = [
    c.bold(`Step sweep: the worst tensor's relative error against ε (${elements} seeded elements per tensor, bars from 1e-16 to 1)`),
    `${'ε'.padStart(7)}  ${"backprop-check's differences".padEnd(WIDTH + 9)}  plain (J(θ+ε) − J(θ−ε)) / 2ε`,
  ];
  s.epsilons.forEach((e, i) => {
    const chosen = e === s.chosen;
    const row = `${e.toExponential(0).padStart(7)}  ${cell(s.worst.accurate[i])}  ${cell(s.worst.plain[i])}`;
    lines.push(chosen ? `${c.bold(row)}  ${c.cyan('◀ chosen')}` : row);
  });
  lines.push(
    ...(s.program
      ? [`Marked ε = ${num(s.chosen)}: ${s.reason}.`,
        "A program's costs give plain differences only (both columns are the same). Each tensor is checked at its own step:",
        Object.entries(s.perTensor).map(([name, h]) => `${name} ${num(h)}`).join(', ') + '.',
        'Right gradients reach the bottom; wrong ones stay flat and high at every ε.']
      : [`Chosen ε = ${num(s.chosen)}: ${s.reason}. The check below runs with it.`,
        'Plain subtraction loses digits as ε shrinks (the right arm of the V); backprop-check never subtracts two costs,',
        'so its curve stays at the bottom. Right gradients reach the bottom; wrong ones stay flat and high at every ε.']),
    '',
  );
  return lines.join('\n') + '\n';
}
