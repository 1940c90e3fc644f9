// The geometry of a windowed entry (conv2d, maxpool2d, avgpool2d) on blocks of features × samples:
// an input of C channels of H × W is C·H·W rows, row (c·H + h)·W + w (kind.ts), the output F
// channels of H' × W'. Output position (i, j) reads input (i·sh + u − ph, j·sw + v − pw) for the
// window's (u, v); positions outside the input are the zero padding.
import type { Layer, Rows } from './kind.js';

/** The numbers a windowed kind's loops read, once per call. */
export interface Grid {
  C: number; H: number; W: number;
  /** Output channels (conv2d: filters; pooling: C) and the output's H' × W'. */
  F: number; Ho: number; Wo: number;
  kh: number; kw: number;
  sh: number; sw: number;
  ph: number; pw: number;
}

/** An entry's grid from its validated shapes (io/ fills kernel, stride and padding). */
export function gridOf(layer: Layer): Grid {
  const [C, H, W] = layer.inShape!;
  const [F, Ho, Wo] = layer.outShape!;
  const [kh, kw] = layer.kernel!;
  const [sh, sw] = layer.stride ?? layer.kernel!;
  const [ph, pw] = layer.padding ?? [0, 0];
  return { C, H, W, F, Ho, Wo, kh, kw, sh, sw, ph, pw };
}

/**
 * The output rows i whose windows reach input rows h0 … h1 along one axis: window i covers
 * i·s − p … i·s − p + k − 1, so i from ⌈(h0 + p − k + 1)/s⌉ to ⌊(h1 + p)/s⌋, clipped to the output.
 * Empty (first > last) when the rows fall between windows (a stride larger than the window).
 */
export function reaching(h0: number, h1: number, k: number, s: number, p: number, n: number): [number, number] {
  return [Math.max(0, Math.ceil((h0 + p - k + 1) / s)), Math.min(n - 1, Math.floor((h1 + p) / s))];
}

/**
 * For a change in input rows [from, to): the input channels c0 … c1 it touches and the output rows
 * i0 … i1 (of H') whose windows reach it (none, i0 > i1, when they all miss it), taking the spatial rows the change spans within its first and
 * last channel (all of them when it spans more than one channel, as a flat range then covers whole
 * images between).
 */
export function touched(g: Grid, rows: Rows): { c0: number; c1: number; i0: number; i1: number } {
  // No rows changed: no output row is reached (i0 > i1).
  if (rows[0] >= rows[1]) return { c0: 0, c1: -1, i0: 0, i1: -1 };
  const plane = g.H * g.W;
  const c0 = Math.floor(rows[0] / plane), c1 = Math.floor((rows[1] - 1) / plane);
  const h0 = c0 === c1 ? Math.floor((rows[0] % plane) / g.W) : 0;
  const h1 = c0 === c1 ? Math.floor(((rows[1] - 1) % plane) / g.W) : g.H - 1;
  const [i0, i1] = reaching(h0, h1, g.kh, g.sh, g.ph, g.Ho);
  return { c0, c1, i0, i1 };
}

/**
 * For a kind that keeps its channels (pooling): the output rows [from, to) whose windows reach a
 * change in input rows `rows`, [0, 0] when none does.
 */
export function reachedOutputs(g: Grid, rows: Rows): Rows {
  const { c0, c1, i0, i1 } = touched(g, rows);
  if (i0 > i1) return [0, 0];
  return [(c0 * g.Ho + i0) * g.Wo, (c1 * g.Ho + i1 + 1) * g.Wo];
}

/**
 * The input row of output row o's window's top-left element (no padding: pooling), at the stride
 * (sh, sw): the grid's own, or (1, 1) where a mistaken backward forgets it.
 */
export function windowCorner(g: Grid, o: number, sh = g.sh, sw = g.sw): number {
  const j = o % g.Wo, i = Math.floor(o / g.Wo) % g.Ho, c = Math.floor(o / (g.Wo * g.Ho));
  return (c * g.H + i * sh) * g.W + j * sw;
}
