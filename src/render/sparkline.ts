// Terminal bars of the gradient norm per layer on a log scale, so that a vanishing (or exploding)
// layer shows at a glance under the table. Plain text: block characters, no colour needed.
import type { LayerHealth } from '../core/report.js';
import { layerKindWords, num } from './format.js';
import { decadeLabel, logScale } from './svg.js';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `fraction` (0…1) of `width` cells, in eighths of a cell, padded with spaces. */
export function bar(fraction: number, width: number): string {
  const eighths = Math.round(Math.min(1, Math.max(0, fraction)) * width * 8);
  const full = Math.floor(eighths / 8);
  const s = '█'.repeat(full) + EIGHTHS[eighths % 8];
  return s + ' '.repeat(width - [...s].length);
}

/**
 * One line per layer: its ‖∂J/∂W‖ as a bar on a log scale from a decade below the smallest
 * norm up to 1 (or the decade above the largest norm, if that is higher), then the value. 0 and NaN get an empty bar and say so.
 * `paint` colours the bar (identity when there is no colour).
 */
export function gradientNormBars(layers: readonly LayerHealth[], width = 24, paint: (s: string) => string = (s) => s): string[] {
  if (layers.length === 0) return [];
  const norms = layers.filter((l) => !l.noParameters).map((l) => l.gradientNorm);
  const positive = norms.filter((v) => v > 0 && Number.isFinite(v));
  // The scale always reaches up to 1, so that uniformly tiny gradients look tiny, not full.
  const scale = logScale(norms, 0, 1, positive.length ? [Math.min(...positive) / 10, 1] : [1]);
  // A program's layer groups have no activation: they are named by their tensors.
  const names = layers.map((l) => `layer ${l.layer} ${l.activation === undefined ? (l.tensors ?? []).join(' ') : layerKindWords(l)}`.trimEnd());
  const pad = Math.max(...names.map((n) => [...n].length));
  const lines = [`gradient norm ‖∂J/∂W‖ per layer (log scale, ${decadeLabel(scale.loExp)} … ${decadeLabel(scale.hiExp)}):`];
  layers.forEach((l, i) => {
    if (l.noParameters) {
      lines.push(`  ${names[i].padEnd(pad)} ▕${' '.repeat(width)}▏ (no parameters)`);
      return;
    }
    const v = l.gradientNorm;
    const value = v === 0 ? '0 (no gradient)' : Number.isFinite(v) ? num(v) : `${num(v)} (not finite)`;
    const b = v > 0 && Number.isFinite(v) ? bar(scale.at(v), width) : ' '.repeat(width);
    lines.push(`  ${names[i].padEnd(pad)} ▕${paint(b)}▏ ${value}`);
  });
  return lines;
}
