// The explanations table of the detection matrix: every mistake the diagnosis names by explaining
// the error itself (diagnose/decompose.ts), by recovering the formula the code used
// (diagnose/recover.ts) or by a loss convention or a data mismatch (diagnose/conventions.ts),
// injected into at least four architectures, must make the check fail and be named with its code
// at its layer as the only root cause. Each group of entries lives in its own file here; this one
// collects them, runs the cells and prints the table (`npm run matrix`).
import type { FindingCode } from '../../src/core/findings/registry.js';
import type { Cell } from '../matrix.js';
// A static import: a dynamic one would wait for matrix.ts, which awaits this module's table (a deadlock, exit 13).
import { entries as recover } from './recover.js';
import { entries as decomposeEntries } from './decompose.js';
import { entries as conventions } from './conventions.js';

/**
 * One mistake of one group, and its cells: one per network it is injected into, keyed by the
 * network's column label ("A".."E" for the dense architectures of tools/matrix.ts, "K1".."K10" for
 * the layer-kind ones, "P1".. for programs checked as --model), null where it cannot be made.
 */
export interface ExplanationEntry {
  id: string;
  /** What the mistake is, in a user's words ("½ missing from the squared error"). */
  name: string;
  code: FindingCode;
  cells(): Record<string, Cell | null>;
}

export interface ExplanationRow { entry: ExplanationEntry; cells: Record<string, Cell | null> }

/** Every group's entries, in the order they are printed. */
export async function explanationEntries(): Promise<ExplanationEntry[]> {
  const groups: ExplanationEntry[][] = [conventions(), await decomposeEntries(), recover()];
  return groups.flat();
}

export async function explanationMatrix(): Promise<ExplanationRow[]> {
  return (await explanationEntries()).map((entry) => ({ entry, cells: entry.cells() }));
}

const mark = (c: Cell | null | undefined) => (!c ? '·' : c.detected ? '✓' : '✗');

/** Columns: the dense architectures, then the layer kinds, then the programs, in label order. */
function columnOrder(a: string, b: string): number {
  const rank = (s: string) => (/^[A-Z]$/.test(s) ? 0 : s.startsWith('K') ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true });
}

export function renderExplanations(rows: ExplanationRow[]): { text: string; detected: number; total: number } {
  let detected = 0, total = 0;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r.cells)))].sort(columnOrder);
  const lines = ['', 'Explanations: mistakes named by explaining the error itself, by recovering the formula the code used, or by a', 'loss convention or a data mismatch, injected into each architecture (grads) or program (--model).', ''];
  const width = Math.max(24, ...rows.map((r) => r.entry.name.length));
  lines.push(`${'mistake'.padEnd(width)}  ${'code'.padEnd(28)}  ${columns.map((c) => c.padEnd(3)).join(' ')}`);
  const misses: string[] = [];
  for (const r of rows) {
    for (const [column, c] of Object.entries(r.cells)) {
      if (!c) continue;
      total++;
      if (c.detected) detected++;
      else misses.push(`  ${r.entry.id} in [${column}]: ${c.note}`);
    }
    lines.push(`${r.entry.name.padEnd(width)}  ${r.entry.code.padEnd(28)}  ${columns.map((c) => mark(r.cells[c]).padEnd(3)).join(' ')}`);
  }
  lines.push('', `${detected} of ${total} explanation cells detected (${((100 * detected) / Math.max(1, total)).toFixed(1)}%).`);
  if (misses.length > 0) lines.push('Missed:', ...misses);
  return { text: lines.join('\n') + '\n', detected, total };
}
