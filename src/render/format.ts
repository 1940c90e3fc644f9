// Number formatting shared by the renderers.
import { formatNumber } from '../core/format.js';
import type { Mode, Report, TensorCheck } from '../core/report.js';

/** 3 significant digits, exponent form outside [1e-3, 1e4). */
export function num(x: number): string {
  return formatNumber(x, 3, 1e4);
}

export function shape(s: readonly number[]): string {
  return s.join('×');
}

/** With --taylor: a tensor's fitted order ("2.00", or "n/a") and its verdict, as every format words it. */
export function taylorWords(c: Pick<TensorCheck, 'taylorOrder' | 'taylorStatus'>): { order: string; word: 'right' | 'WRONG' | 'unclear' } {
  const order = c.taylorOrder === undefined || c.taylorOrder === null ? 'n/a' : c.taylorOrder.toFixed(2);
  return { order, word: c.taylorStatus === 'pass' ? 'right' : c.taylorStatus === 'fail' ? 'WRONG' : 'unclear' };
}

/** The per-tensor columns, headed for what they hold in each mode: in directional mode a tensor's
 *  "elements" are its projections g·v on random unit directions v, and the worst is a direction. */
export function columnHeads(mode: Mode): { analytic: string; numeric: string; worst: string } {
  if (mode === 'directional') return { analytic: '‖analytic·v‖ over directions', numeric: '‖numeric along v‖', worst: 'worst direction (analytic·v vs numeric)' };
  if (mode === 'sample') return { analytic: '‖analytic‖ of sample', numeric: '‖numeric‖ of sample', worst: 'worst sampled element (analytic vs numeric)' };
  return { analytic: '‖analytic‖', numeric: '‖numeric‖', worst: 'worst element (analytic vs numeric)' };
}

/** What one check compares: "elements", or "directions" in directional mode. */
export const unitWord = (mode: Mode): string => (mode === 'directional' ? 'directions' : 'elements');

/** An interrupted check's tensor that did not finish: how far it got; null for a finished one. */
export function unfinished(c: TensorCheck, mode: Mode): { done: number; planned: number; reached: boolean } | null {
  if (c.planned === undefined) return null;
  const done = mode === 'directional' ? c.checked + c.kinks : c.checked;
  return { done, planned: c.planned, reached: done > 0 };
}

/** "not checked (0 of 1,000 elements)", "partial: 312 of 1,000 elements", "FAIL on 312 of 1,000
 *  elements"; null for a tensor whose check finished. */
export function unfinishedWords(c: TensorCheck, mode: Mode): string | null {
  const u = unfinished(c, mode);
  if (!u) return null;
  const counts = `${count(u.done)} of ${count(u.planned)} ${unitWord(mode)}`;
  if (!u.reached) return `not checked (${counts})`;
  return c.status === 'fail' ? `FAIL on ${counts}` : `partial: ${counts}`;
}

export const count = (n: number): string => n.toLocaleString('en-US');

/**
 * The tolerance the tensors were judged at: "tolerance 1.00e-6", or with the tensors judged at
 * another one (float32 gradients at 1e-4) "tolerance 1.00e-6; 1.00e-4 for W1, b1 (float32 gradients)",
 * or when every tensor was "tolerance 1.00e-4 (float32 gradients; 1.00e-6 asked)".
 */
export function toleranceWords(report: Report): string {
  const asked = report.settings.tolerance;
  const judged = report.checks.filter((c) => c.checked > 0 || c.kinks > 0);
  const others = new Map<number, string[]>();
  for (const c of judged) {
    if (c.tolerance === undefined || c.tolerance === asked) continue;
    others.set(c.tolerance, [...(others.get(c.tolerance) ?? []), c.param]);
  }
  const why = (t: number) => (report.findings.some((f) => f.code === 'float32-precision' && f.evidence?.tolerance === t) ? 'float32 gradients' : '');
  if (others.size === 1 && [...others.values()][0].length === judged.length) {
    const t = [...others.keys()][0];
    return `tolerance ${num(t)} (${[why(t), `${num(asked)} asked`].filter(Boolean).join('; ')})`;
  }
  const parts = [...others].map(([t, names]) => `${num(t)} for ${names.join(', ')}${why(t) ? ` (${why(t)})` : ''}`);
  return `tolerance ${num(asked)}${parts.length ? `; ${parts.join('; ')}` : ''}`;
}

/** The tolerance one tensor was judged at. */
export const toleranceOf = (c: TensorCheck, report: Report): number => c.tolerance ?? report.settings.tolerance;
