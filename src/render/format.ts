import { formatNumber } from '../core/format.js';
// Number formatting shared by the renderers.

/** 3 significant digits, exponent form outside [1e-3, 1e4). */
export function num(x: number): string {
  return formatNumber(x, 3, 1e4);
}

export function shape(s: readonly number[]): string {
  return s.join('×');
}
