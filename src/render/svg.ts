// Small pure SVG chart builders for the HTML report: plain data in, one `<svg>` string out.
// No DOM, no scripts, no external resources: every chart is drawn here, coordinates rounded so
// that the output is deterministic and snapshot-friendly. Values that a log axis cannot place
// (0, NaN, ±Inf) are drawn on labelled lanes beside the axis, never dropped.
import type { Status } from '../core/report.js';
import { num } from './format.js';

export const COLORS = {
  pass: '#1a7f37', warn: '#9a6700', fail: '#cf222e',
  passBand: '#dafbe1', warnBand: '#fff8c5', failBand: '#ffebe9',
  analytic: '#2563eb', numeric: '#1f2328',
  text: '#1f2328', muted: '#59636e', grid: '#e1e4e8', axis: '#8c959f', bar: '#4c6ef5',
} as const;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

type Attrs = Record<string, string | number | undefined>;

/** One element; attribute values are escaped, `children` is already-built markup. */
function el(tag: string, attrs: Attrs, children = ''): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? String(r(v)) : String(v))}"`)
    .join('');
  return children === '' && tag !== 'text' && tag !== 'title' ? `<${tag}${a}/>` : `<${tag}${a}>${children}</${tag}>`;
}

const text = (x: number, y: number, s: string, attrs: Attrs = {}) => el('text', { x, y, ...attrs }, escapeXml(s));
const title = (s: string) => el('title', {}, escapeXml(s));
/** Rounds a coordinate to 0.1 px. */
const r = (v: number) => Math.round(v * 10) / 10;

function svgRoot(kind: string, width: number, height: number, label: string, body: string): string {
  return el('svg', {
    // No xmlns: the charts are inline in HTML, whose parser puts <svg> in the SVG namespace.
    class: 'chart', 'data-chart': kind, role: 'img', 'aria-label': label,
    width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': FONT, 'font-size': 11, fill: COLORS.text,
  }, title(label) + body);
}

// ---------------------------------------------------------------------------------------------
// Scales

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** "10⁻⁷" for a decade exponent. */
export function decadeLabel(exponent: number): string {
  return '10' + String(exponent).split('').map((ch) => SUPERSCRIPT[ch]).join('');
}

export interface LogScale {
  /** Decade exponents at the ends of the axis. */
  loExp: number;
  hiExp: number;
  /** Maps a positive value to a pixel between `from` (at 10^loExp) and `to` (at 10^hiExp). */
  at(value: number): number;
  /** Decades to draw a grid line at, and which of them carry a label (at most about 8 labels). */
  decades: { exponent: number; labelled: boolean }[];
}

/**
 * A log axis spanning whole decades around the finite positive `values` (and `include`), at
 * least one decade wide. With no positive value at all it spans 10⁻¹…10⁰.
 */
export function logScale(values: readonly number[], from: number, to: number, include: readonly number[] = []): LogScale {
  const positive = [...values, ...include].filter((v) => v > 0 && Number.isFinite(v));
  const loExp = positive.length ? Math.floor(Math.log10(Math.min(...positive))) : -1;
  let hiExp = positive.length ? Math.ceil(Math.log10(Math.max(...positive))) : 0;
  if (hiExp <= loExp) hiExp = loExp + 1;
  const span = hiExp - loExp;
  const every = Math.ceil(span / 8);
  const decades = [];
  for (let e = loExp; e <= hiExp; e++) decades.push({ exponent: e, labelled: (e - loExp) % every === 0 });
  return {
    loExp, hiExp, decades,
    at: (v) => from + ((Math.log10(v) - loExp) / span) * (to - from),
  };
}

/** Evenly spaced "nice" ticks (1, 2 or 5 × 10ⁿ apart) covering [lo, hi]. */
export function linearTicks(lo: number, hi: number, target = 5): { ticks: number[]; step: number } {
  const span = hi - lo;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(roundTo(k * step));
  return { ticks, step };
}

/** Removes floating-point dust (0.30000000000000004 → 0.3). */
const roundTo = (v: number) => (v === 0 ? 0 : Number(v.toPrecision(12)));

/** A compact tick label: "0.25", "-3", "2e-6", "1.5e4". */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? String(roundTo(v)) : roundTo(v).toExponential().replace('e+', 'e');
}

/** A linear axis over the finite values and 0, widened to whole tick steps, with its ticks. */
export function linearDomain(values: readonly number[], target = 4): { lo: number; hi: number; ticks: number[] } {
  let lo = 0, hi = 0;
  for (const v of values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (hi === lo) hi = lo + 1;
  const { step } = linearTicks(lo, hi, target);
  const from = Math.floor(lo / step + 1e-9), to = Math.ceil(hi / step - 1e-9);
  const ticks = Array.from({ length: to - from + 1 }, (_, k) => roundTo((from + k) * step));
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks };
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

interface Box { left: number; top: number; right: number; bottom: number }

/** Horizontal grid lines and labels of a log y axis. */
function logYAxis(scale: LogScale, box: Box): string {
  return scale.decades.map(({ exponent, labelled }) => {
    const y = scale.at(10 ** exponent);
    return el('line', { x1: box.left, x2: box.right, y1: y, y2: y, stroke: COLORS.grid }) +
      (labelled ? text(box.left - 6, y + 4, decadeLabel(exponent), { 'text-anchor': 'end', fill: COLORS.muted }) : '');
  }).join('');
}

/** Vertical grid lines and labels of a log x axis. */
function logXAxis(scale: LogScale, box: Box): string {
  return scale.decades.map(({ exponent, labelled }) => {
    const x = scale.at(10 ** exponent);
    return el('line', { x1: x, x2: x, y1: box.top, y2: box.bottom, stroke: COLORS.grid }) +
      (labelled ? text(x, box.bottom + 14, decadeLabel(exponent), { 'text-anchor': 'middle', fill: COLORS.muted }) : '');
  }).join('');
}

/** A side lane for values a log axis cannot place: a dashed separator and its label. */
function laneY(y: number, box: Box, label: string): string {
  return el('line', { x1: box.left, x2: box.right, y1: y, y2: y, stroke: COLORS.axis, 'stroke-dasharray': '2 3' }) +
    text(box.left - 6, y + 4, label, { 'text-anchor': 'end', fill: COLORS.muted, 'font-style': 'italic' });
}

function laneX(x: number, box: Box, label: string): string {
  return el('line', { x1: x, x2: x, y1: box.top, y2: box.bottom, stroke: COLORS.axis, 'stroke-dasharray': '2 3' }) +
    text(x, box.bottom + 14, label, { 'text-anchor': 'middle', fill: COLORS.muted, 'font-style': 'italic' });
}

function frame(box: Box): string {
  return el('path', { d: `M${r(box.left)},${r(box.top)}V${r(box.bottom)}H${r(box.right)}`, fill: 'none', stroke: COLORS.axis, class: 'axis' });
}

function yAxisTitle(s: string, x: number, box: Box): string {
  const cy = (box.top + box.bottom) / 2;
  return text(x, cy, s, { 'text-anchor': 'middle', transform: `rotate(-90 ${r(x)} ${r(cy)})`, fill: COLORS.muted });
}

const isPositive = (v: number) => v > 0 && Number.isFinite(v);

/** Where a value goes on a log axis with side lanes: the axis, the zero lane, or the non-finite lane. */
function logPosition(v: number, scale: LogScale, zeroAt: number, nonFiniteAt: number): number {
  if (isPositive(v)) return scale.at(v);
  return v === 0 || v < 0 ? zeroAt : nonFiniteAt;
}

// ---------------------------------------------------------------------------------------------
// Gradient flow: analytic and numeric gradient norm per layer on a log axis.

export interface FlowPoint { label: string; sublabel?: string; analytic: number; numeric: number }

export function gradientFlowChart(points: readonly FlowPoint[]): string {
  const W = 880, H = 300;
  const values = points.flatMap((p) => [p.analytic, p.numeric]);
  const hasZero = values.some((v) => v <= 0);
  const hasNonFinite = values.some((v) => !Number.isFinite(v));
  const box: Box = { left: 64, right: W - 16, top: 40 + (hasNonFinite ? 22 : 0), bottom: H - 46 - (hasZero ? 22 : 0) };
  const scale = logScale(values, box.bottom, box.top);
  const zeroAt = box.bottom + 16, nonFiniteAt = box.top - 16;
  const stepX = (box.right - box.left) / Math.max(1, points.length);
  const xAt = (i: number) => box.left + stepX * (i + 0.5);

  let body = logYAxis(scale, box);
  if (hasZero) body += laneY(zeroAt, box, '0');
  if (hasNonFinite) body += laneY(nonFiniteAt, box, 'NaN/∞');
  body += frame(box);
  points.forEach((p, i) => {
    body += text(xAt(i), H - 30, p.label, { 'text-anchor': 'middle' });
    if (p.sublabel) body += text(xAt(i), H - 16, p.sublabel, { 'text-anchor': 'middle', fill: COLORS.muted, 'font-size': 10 });
  });
  body += yAxisTitle('gradient norm (log scale)', 14, box);

  const series = [
    { key: 'numeric' as const, name: 'numeric (finite differences)', color: COLORS.numeric, dash: undefined },
    { key: 'analytic' as const, name: 'analytic (under test)', color: COLORS.analytic, dash: '5 3' },
  ];
  for (const s of series) {
    // The line joins neighbouring layers that both sit on the log axis; it breaks at 0 and NaN.
    let d = '', open = false;
    points.forEach((p, i) => {
      const v = p[s.key];
      if (!isPositive(v)) { open = false; return; }
      d += `${open ? 'L' : 'M'}${r(xAt(i))},${r(scale.at(v))}`;
      open = true;
    });
    if (d) body += el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash, class: `line ${s.key}` });
    points.forEach((p, i) => {
      const v = p[s.key];
      const x = xAt(i), y = logPosition(v, scale, zeroAt, nonFiniteAt);
      const tip = title(`${p.label} ${s.name}: ${num(v)}`);
      body += s.key === 'numeric'
        ? el('circle', { cx: x, cy: y, r: 4.5, fill: s.color, stroke: '#fff', 'stroke-width': 1.5, class: 'mark numeric' }, tip)
        : el('rect', { x: x - 4, y: y - 4, width: 8, height: 8, fill: s.color, stroke: '#fff', 'stroke-width': 1.5, class: 'mark analytic', transform: `rotate(45 ${r(x)} ${r(y)})` }, tip);
    });
  }
  body += legend([
    { label: series[0].name, color: COLORS.numeric, mark: el('circle', { cx: 0, cy: 0, r: 4.5, fill: COLORS.numeric }) },
    { label: series[1].name, color: COLORS.analytic, dash: '5 3', mark: el('rect', { x: -4, y: -4, width: 8, height: 8, fill: COLORS.analytic, transform: 'rotate(45)' }) },
  ], box.left, 16);
  return svgRoot('gradient-flow', W, H, 'Gradient norm per layer, analytic and numeric, log scale', body);
}

/** A one-line legend: a line sample with its mark, then the label; widths estimated from the text. */
function legend(items: { label: string; color: string; mark: string; dash?: string }[], x: number, y: number): string {
  let out = '', at = x;
  for (const item of items) {
    out += el('g', { transform: `translate(${r(at + 12)} ${r(y)})`, class: 'legend' },
      el('line', { x1: -12, x2: 12, y1: 0, y2: 0, stroke: item.color, 'stroke-width': 2, 'stroke-dasharray': item.dash }) +
      item.mark + text(20, 4, item.label));
    at += 48 + item.label.length * 6;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Relative error per tensor against the pass / warn / fail bands.

export interface ErrorPoint { label: string; value: number; status: Status }

export function relativeErrorChart(items: readonly ErrorPoint[], tolerance: number): string {
  const W = 880, rowH = 24;
  const values = items.map((i) => i.value);
  const hasZero = values.some((v) => v <= 0);
  const hasNonFinite = values.some((v) => !Number.isFinite(v));
  const top = 34;
  const box: Box = { left: 64 + (hasZero ? 40 : 0), right: W - 72 - (hasNonFinite ? 44 : 0), top, bottom: top + rowH * Math.max(1, items.length) };
  const H = box.bottom + 40;
  const tolExp = Math.log10(tolerance);
  const scale = logScale(values, box.left, box.right, [10 ** Math.floor(tolExp - 3), 10 ** Math.ceil(tolExp + 1), 1]);
  const zeroAt = box.left - 28, nonFiniteAt = box.right + 30;
  const warnAt = scale.at(tolerance / 100), failAt = scale.at(tolerance);

  let body = '';
  body += el('rect', { x: box.left, y: box.top, width: warnAt - box.left, height: box.bottom - box.top, fill: COLORS.passBand, class: 'band pass' });
  body += el('rect', { x: warnAt, y: box.top, width: failAt - warnAt, height: box.bottom - box.top, fill: COLORS.warnBand, class: 'band warn' });
  body += el('rect', { x: failAt, y: box.top, width: box.right - failAt, height: box.bottom - box.top, fill: COLORS.failBand, class: 'band fail' });
  body += logXAxis(scale, box);
  body += text((box.left + warnAt) / 2, box.top - 8, 'pass', { 'text-anchor': 'middle', fill: COLORS.pass, 'font-weight': 600 });
  body += text((warnAt + failAt) / 2, box.top - 8, 'warn', { 'text-anchor': 'middle', fill: COLORS.warn, 'font-weight': 600 });
  body += text((failAt + box.right) / 2, box.top - 8, 'fail', { 'text-anchor': 'middle', fill: COLORS.fail, 'font-weight': 600 });
  body += el('line', { x1: failAt, x2: failAt, y1: box.top - 4, y2: box.bottom, stroke: COLORS.fail, 'stroke-width': 1.5 });
  body += text(failAt, box.bottom + 28, `tolerance ${num(tolerance)}`, { 'text-anchor': 'middle', fill: COLORS.fail });
  if (hasZero) body += laneX(zeroAt, box, '0');
  if (hasNonFinite) body += laneX(nonFiniteAt, box, 'NaN');
  body += frame(box);
  body += text(box.right, box.bottom + 28, 'relative error (log scale)', { 'text-anchor': 'end', fill: COLORS.muted });

  items.forEach((item, i) => {
    const y = box.top + rowH * (i + 0.5);
    const x = logPosition(item.value, scale, zeroAt, nonFiniteAt);
    const color = COLORS[item.status];
    body += text(8, y + 4, item.label, { 'font-weight': 600 });
    if (isPositive(item.value)) body += el('line', { x1: box.left, x2: x, y1: y, y2: y, stroke: color, 'stroke-width': 2, 'stroke-opacity': 0.45 });
    body += el('circle', { cx: x, cy: y, r: 5.5, fill: color, stroke: '#fff', 'stroke-width': 1.5, class: `mark ${item.status}` },
      title(`${item.label}: relative error ${num(item.value)} (${item.status})`));
    body += text(W - 8, y + 4, num(item.value), { 'text-anchor': 'end', fill: color, style: 'font-variant-numeric: tabular-nums' });
  });
  return svgRoot('relative-error', W, H, 'Relative error per tensor against the pass, warn and fail bands', body);
}

// ---------------------------------------------------------------------------------------------
// Analytic against numeric, element by element, with the line y = x.

/** Points with more elements than this get no hover titles (they would bloat the page). */
const TITLED_POINTS = 200;

export function scatterChart(analytic: readonly number[], numeric: readonly number[], name: string): string {
  // A square plot area, so that y = x is the 45° diagonal.
  const W = 320, side = 242, H = 26 + side + 46;
  const box: Box = { left: 64, right: 64 + side, top: 26, bottom: 26 + side };
  const pairs: [number, number][] = [];
  let dropped = 0;
  for (let i = 0; i < analytic.length; i++) {
    if (Number.isFinite(analytic[i]) && Number.isFinite(numeric[i])) pairs.push([numeric[i], analytic[i]]);
    else dropped++;
  }
  // One domain for both axes, so that agreement is the diagonal.
  const { lo, hi, ticks } = linearDomain(pairs.flat());
  const sx = (v: number) => box.left + ((v - lo) / (hi - lo)) * (box.right - box.left);
  const sy = (v: number) => box.bottom - ((v - lo) / (hi - lo)) * (box.bottom - box.top);

  let body = '';
  for (const t of ticks) {
    body += el('line', { x1: sx(t), x2: sx(t), y1: box.top, y2: box.bottom, stroke: COLORS.grid });
    body += el('line', { x1: box.left, x2: box.right, y1: sy(t), y2: sy(t), stroke: COLORS.grid });
    body += text(sx(t), box.bottom + 14, tickLabel(t), { 'text-anchor': 'middle', fill: COLORS.muted });
    body += text(box.left - 6, sy(t) + 4, tickLabel(t), { 'text-anchor': 'end', fill: COLORS.muted });
  }
  body += frame(box);
  body += el('path', { d: `M${r(sx(lo))},${r(sy(lo))}L${r(sx(hi))},${r(sy(hi))}`, stroke: COLORS.pass, 'stroke-width': 1.5, 'stroke-dasharray': '6 4', fill: 'none', class: 'identity' });
  body += text(box.right - 4, box.top + 12, 'y = x', { 'text-anchor': 'end', fill: COLORS.pass });
  const titled = pairs.length <= TITLED_POINTS;
  body += el('g', { fill: COLORS.fail, 'fill-opacity': 0.65, stroke: COLORS.fail, 'stroke-width': 0.8 },
    pairs.map(([x, y]) => el('circle', { cx: sx(x), cy: sy(y), r: 3.5, class: 'mark' }, titled ? title(`numeric ${num(x)}, analytic ${num(y)}`) : '')).join(''));
  if (dropped > 0) body += text(box.left, box.top - 10, `${dropped} pair${dropped === 1 ? '' : 's'} with NaN/∞ not plotted`, { fill: COLORS.fail, 'font-weight': 600 });
  if (pairs.length === 0 && dropped === 0) body += text((box.left + box.right) / 2, (box.top + box.bottom) / 2, 'no values', { 'text-anchor': 'middle', fill: COLORS.muted });
  body += text((box.left + box.right) / 2, H - 10, 'numeric (finite differences)', { 'text-anchor': 'middle', fill: COLORS.muted });
  body += yAxisTitle('analytic (under test)', 14, box);
  return svgRoot('scatter', W, H, `${name}: analytic against numeric gradient, element by element`, body);
}

// ---------------------------------------------------------------------------------------------
// Residuals of a nearly-right tensor: g − ĝ against ĝ, element by element, with the line g = ĝ.

export function residualChart(analytic: readonly number[], numeric: readonly number[], name: string, status: Status): string {
  const W = 320, H = 26 + 242 + 46;
  const box: Box = { left: 72, right: W - 12, top: 26, bottom: 26 + 242 };
  const points: [number, number][] = [];
  let dropped = 0;
  for (let i = 0; i < analytic.length; i++) {
    const d = analytic[i] - numeric[i];
    if (Number.isFinite(numeric[i]) && Number.isFinite(d)) points.push([numeric[i], d]);
    else dropped++;
  }
  const x = linearDomain(points.map((p) => p[0]));
  // A y axis symmetric about 0, so that a one-sided bias shows as such.
  const big = Math.max(0, ...points.map((p) => Math.abs(p[1])));
  const y = big > 0 ? linearDomain([-big, big]) : { lo: -1, hi: 1, ticks: [-1, 0, 1] };
  const sx = (v: number) => box.left + ((v - x.lo) / (x.hi - x.lo)) * (box.right - box.left);
  const sy = (v: number) => box.bottom - ((v - y.lo) / (y.hi - y.lo)) * (box.bottom - box.top);

  let body = '';
  for (const t of x.ticks) {
    body += el('line', { x1: sx(t), x2: sx(t), y1: box.top, y2: box.bottom, stroke: COLORS.grid });
    body += text(sx(t), box.bottom + 14, tickLabel(t), { 'text-anchor': 'middle', fill: COLORS.muted });
  }
  for (const t of y.ticks) {
    body += el('line', { x1: box.left, x2: box.right, y1: sy(t), y2: sy(t), stroke: COLORS.grid });
    body += text(box.left - 6, sy(t) + 4, tickLabel(t), { 'text-anchor': 'end', fill: COLORS.muted });
  }
  body += frame(box);
  body += el('line', { x1: box.left, x2: box.right, y1: sy(0), y2: sy(0), stroke: COLORS.pass, 'stroke-width': 1.5, 'stroke-dasharray': '6 4', class: 'identity' });
  body += text(box.right - 4, sy(0) - 5, 'g = ĝ', { 'text-anchor': 'end', fill: COLORS.pass });
  const titled = points.length <= TITLED_POINTS;
  const color = COLORS[status];
  body += el('g', { fill: color, 'fill-opacity': 0.65, stroke: color, 'stroke-width': 0.8 },
    points.map(([u, d]) => el('circle', { cx: sx(u), cy: sy(d), r: 3, class: 'mark' }, titled ? title(`numeric ${num(u)}, g − ĝ ${num(d)}`) : '')).join(''));
  if (dropped > 0) body += text(box.left, box.top - 10, `${dropped} value${dropped === 1 ? '' : 's'} with NaN/∞ not plotted`, { fill: COLORS.fail, 'font-weight': 600 });
  if (points.length === 0 && dropped === 0) body += text((box.left + box.right) / 2, (box.top + box.bottom) / 2, 'no values', { 'text-anchor': 'middle', fill: COLORS.muted });
  body += text((box.left + box.right) / 2, H - 10, 'numeric ĝ (finite differences)', { 'text-anchor': 'middle', fill: COLORS.muted });
  body += yAxisTitle('g − ĝ (under test − numeric)', 14, box);
  return svgRoot('residual', W, H, `${name}: the difference between the gradient under test and the numeric one, against the numeric one`, body);
}

// ---------------------------------------------------------------------------------------------
// Activation histogram of one layer.

export function histogramChart(edges: readonly number[], counts: readonly number[], name: string, nonFinite = 0): string {
  const W = 300, H = 180;
  const box: Box = { left: 48, right: W - 10, top: 22, bottom: H - 36 };
  const lo = edges[0], hi = edges[edges.length - 1];
  const max = Math.max(0, ...counts);
  const yTicks = max > 0 ? linearTicks(0, max, 4) : { ticks: [0], step: 1 };
  const yTop = Math.max(max, yTicks.ticks[yTicks.ticks.length - 1]) || 1;
  const sx = (v: number) => box.left + ((v - lo) / (hi - lo)) * (box.right - box.left);
  const sy = (c: number) => box.bottom - (c / yTop) * (box.bottom - box.top);

  let body = '';
  for (const t of yTicks.ticks) {
    body += el('line', { x1: box.left, x2: box.right, y1: sy(t), y2: sy(t), stroke: COLORS.grid });
    body += text(box.left - 6, sy(t) + 4, tickLabel(t), { 'text-anchor': 'end', fill: COLORS.muted });
  }
  for (const t of linearTicks(lo, hi, 4).ticks) {
    body += text(sx(t), box.bottom + 14, tickLabel(t), { 'text-anchor': 'middle', fill: COLORS.muted });
  }
  counts.forEach((c, i) => {
    if (c <= 0) return;
    const x0 = sx(edges[i]), x1 = sx(edges[i + 1]);
    body += el('rect', { x: x0 + 0.5, y: sy(c), width: Math.max(0.5, x1 - x0 - 1), height: box.bottom - sy(c), fill: COLORS.bar, class: 'mark' },
      title(`[${num(edges[i])}, ${num(edges[i + 1])}${i === counts.length - 1 ? ']' : ')'}: ${c}`));
  });
  body += frame(box);
  if (max === 0) body += text((box.left + box.right) / 2, (box.top + box.bottom) / 2, 'no finite activations', { 'text-anchor': 'middle', fill: COLORS.muted });
  if (nonFinite > 0) body += text(box.right, box.top - 10, `${nonFinite} NaN/∞ not binned`, { 'text-anchor': 'end', fill: COLORS.fail, 'font-weight': 600 });
  body += text((box.left + box.right) / 2, H - 6, 'activation', { 'text-anchor': 'middle', fill: COLORS.muted });
  body += yAxisTitle('count', 12, box);
  return svgRoot('histogram', W, H, `${name}: histogram of activations`, body);
}

// ---------------------------------------------------------------------------------------------
// Step sweep (--sweep): the worst tensor's relative error against ε, log-log, with backprop-check's
// differences and with plain subtraction, the chosen ε and the tolerance marked. ε falls from left
// to right, as in the terminal table, so plain subtraction's round-off is the right arm of its V.

export function sweepChart(epsilons: readonly number[], accurate: readonly number[], plain: readonly number[], chosen: number, tolerance: number): string {
  const W = 880, H = 320;
  const values = [...accurate, ...plain];
  const hasZero = values.some((v) => v <= 0);
  const hasNonFinite = values.some((v) => !Number.isFinite(v));
  const box: Box = { left: 64, right: W - 24, top: 48 + (hasNonFinite ? 22 : 0), bottom: H - 40 - (hasZero ? 22 : 0) };
  const xs = logScale(epsilons, box.right, box.left);
  const ys = logScale(values, box.bottom, box.top, [tolerance]);
  const zeroAt = box.bottom + 16, nonFiniteAt = box.top - 16;

  let body = logYAxis(ys, box);
  // The ε labels go below the zero lane, whose points sit on the ε grid lines too.
  body += logXAxis(xs, { ...box, bottom: hasZero ? zeroAt + 6 : box.bottom });
  if (hasZero) body += laneY(zeroAt, box, '0');
  if (hasNonFinite) body += laneY(nonFiniteAt, box, 'NaN/∞');
  body += frame(box);
  const tolAt = ys.at(tolerance);
  body += el('line', { x1: box.left, x2: box.right, y1: tolAt, y2: tolAt, stroke: COLORS.fail, 'stroke-width': 1, 'stroke-dasharray': '6 3', class: 'tolerance' });
  body += text(box.right - 4, tolAt - 5, `tolerance ${num(tolerance)}`, { 'text-anchor': 'end', fill: COLORS.fail });
  // The chosen step: a line through the plot and its lanes, labelled above them, clear of the curves.
  const chosenAt = xs.at(chosen), chosenTop = hasNonFinite ? nonFiniteAt : box.top;
  body += el('line', { x1: chosenAt, x2: chosenAt, y1: chosenTop, y2: hasZero ? zeroAt : box.bottom, stroke: COLORS.pass, 'stroke-width': 2, class: 'chosen' });
  body += text(chosenAt, chosenTop - 6, `chosen ε = ${num(chosen)}`, { 'text-anchor': chosenAt > (box.left + box.right) / 2 ? 'end' : 'start', fill: COLORS.pass, 'font-weight': 600 });
  body += text((box.left + box.right) / 2, H - 6, 'step ε (log scale)', { 'text-anchor': 'middle', fill: COLORS.muted });
  body += yAxisTitle('worst relative error (log scale)', 14, box);

  const series = [
    { key: 'accurate', name: 'backprop-check’s differences', values: accurate, color: COLORS.numeric, dash: undefined },
    { key: 'plain', name: 'plain (J(θ+ε) − J(θ−ε)) / 2ε', values: plain, color: COLORS.bar, dash: '5 3' },
  ];
  for (const s of series) {
    // The line joins neighbouring steps that both sit on the log axis; it breaks at 0 and NaN.
    let d = '', open = false;
    epsilons.forEach((e, i) => {
      if (!isPositive(s.values[i])) { open = false; return; }
      d += `${open ? 'L' : 'M'}${r(xs.at(e))},${r(ys.at(s.values[i]))}`;
      open = true;
    });
    if (d) body += el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash, class: `line ${s.key}` });
    epsilons.forEach((e, i) => {
      const x = xs.at(e), y = logPosition(s.values[i], ys, zeroAt, nonFiniteAt);
      const tip = title(`ε = ${e.toExponential(0)}, ${s.name}: ${num(s.values[i])}`);
      body += s.key === 'accurate'
        ? el('circle', { cx: x, cy: y, r: 4, fill: s.color, stroke: '#fff', 'stroke-width': 1.5, class: 'mark accurate' }, tip)
        : el('rect', { x: x - 3.5, y: y - 3.5, width: 7, height: 7, fill: s.color, stroke: '#fff', 'stroke-width': 1.5, class: 'mark plain' }, tip);
    });
  }
  body += legend([
    { label: series[0].name, color: COLORS.numeric, mark: el('circle', { cx: 0, cy: 0, r: 4, fill: COLORS.numeric }) },
    { label: series[1].name, color: COLORS.bar, dash: '5 3', mark: el('rect', { x: -3.5, y: -3.5, width: 7, height: 7, fill: COLORS.bar }) },
  ], box.left, 16);
  return svgRoot('sweep', W, H, `The worst tensor’s relative error against the step ε, log-log: backprop-check’s differences and plain subtraction; chosen ε = ${num(chosen)}`, body);
}
