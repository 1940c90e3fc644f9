// Number formatting shared by the renderers.
import { formatNumber } from '../core/format.js';
import type { Finding, LayerHealth, Mode, Report, TensorCheck } from '../core/report.js';

/** 3 significant digits, exponent form outside [1e-3, 1e4). */
export function num(x: number): string {
  return formatNumber(x, 3, 1e4);
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

/** A program's tensor warned without a verdict: "unresolved (floor 2.1e-3)", "no verdict (cost not deterministic)"; else null. */
export function resolutionWords(c: TensorCheck): string | null {
  if (c.resolution === 'unresolved') return `unresolved (floor ${num(c.floor ?? NaN)})`;
  if (c.resolution === 'nondeterministic') return 'no verdict (cost not deterministic)';
  return null;
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
/** The tolerance, and the tensors judged against float32's resolution instead of float64's. */
export function toleranceWords(report: Report): string {
  const f32 = report.checks.filter((c) => c.precision === 'float32' && (c.checked > 0 || c.kinks > 0)).map((c) => c.param);
  if (report.source === 'model') return `tolerance ${num(report.settings.tolerance)}` + (f32.length ? ' (a float32 program)' : '');
  return `tolerance ${num(report.settings.tolerance)}` + (f32.length ? ` (${f32.join(', ')} against float32 resolution: float32 gradients)` : '');
}

/** The step, and the tensors checked with another one (scaled to their inputs, or chosen by --sweep). */
export function stepWords(report: Report): string {
  const base = report.settings.epsilon;
  const others = new Map<number, string[]>();
  for (const c of report.checks) {
    if (c.epsilon === undefined || c.epsilon === base || !(c.checked > 0 || c.kinks > 0)) continue;
    others.set(c.epsilon, [...(others.get(c.epsilon) ?? []), c.param]);
  }
  const parts = [...others].map(([h, names]) => `${num(h)} for ${names.join(', ')}`);
  // A program's tensors each have their own step unless --epsilon fixed one.
  if (report.source === 'model' && parts.length > 0) return `ε per tensor: ${parts.join('; ')}`;
  return `ε=${num(base)}` + (parts.length ? ` (${parts.join('; ')})` : '');
}

/**
 * The error finding that leaves a report without a verdict although no tensor failed: NaN/Inf at
 * these weights, every gradient exactly 0 (cannotCheck), or a program whose cost is not
 * deterministic. Every format says "no verdict" for it, never a pass.
 */
export function noVerdict(report: Report): Finding | undefined {
  return report.findings.find((f) => f.severity === 'error' && (f.evidence?.cannotCheck === true || f.code === 'nondeterministic-cost'));
}

/** What a layer is, for the health views: its activation, or its type first (conv2d relu, maxpool2d) when it is not dense. */
export function layerKindWords(l: Pick<LayerHealth, 'type' | 'activation'>): string {
  return [l.type, l.type && l.activation === 'linear' ? '' : l.activation].filter(Boolean).join(' ');
}

/**
 * The findings a renderer attaches to one tensor: those that name it (in `params`, every tensor a
 * finding explains, or `param`); for a failing tensor also those about its layer as a whole or
 * about no layer in particular (the likely causes of the failure). A finding with `params` is
 * attached to those tensors only, at whatever layers they are.
 */
export function findingsFor(c: Pick<TensorCheck, 'param' | 'layer'>, findings: readonly Finding[], failing: boolean): Finding[] {
  return findings.filter((f) => {
    if (f.params !== undefined) return f.params.includes(c.param) || f.params.includes(`d${c.param}`);
    if (f.param !== undefined) return f.param === c.param || f.param === `d${c.param}`;
    return failing && (f.layer === undefined || f.layer === c.layer);
  });
}

/** Where a finding is, as the reports head it: "layer 2 W2", or with several tensors "layer 1: W1, b1, W2, b2". */
export function findingWhere(f: Finding): string {
  const layer = f.layer !== undefined ? `layer ${f.layer}` : '';
  if (f.params !== undefined && f.params.length > 0) return [layer, f.params.join(', ')].filter(Boolean).join(': ');
  return [layer, f.param ?? ''].filter(Boolean).join(' ');
}
