// Number formatting shared by the renderers.
import { formatNumber } from '../core/format.js';
import type { TensorCheck } from '../core/report.js';

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
