// Number formatting shared by the renderers.

/** 3 significant digits, exponent form outside [1e-3, 1e4). */
export function num(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (x === 0) return '0';
  const ax = Math.abs(x);
  if (ax >= 1e-3 && ax < 1e4) return Number(x.toPrecision(3)).toString();
  return x.toExponential(2).replace('e+', 'e');
}

export function shape(s: readonly number[]): string {
  return s.join('×');
}
