// Numbers in messages and tables: `digits` significant digits, exponent form (3 digits) outside
// [1e-3, upper). The core's findings use 4 digits; the renderers' tables 3.

export function formatNumber(x: number, digits: number, upper: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (x === 0) return '0';
  const ax = Math.abs(x);
  if (ax >= 1e-3 && ax < upper) return Number(x.toPrecision(digits)).toString();
  return x.toExponential(2).replace('e+', 'e');
}

/** 4 significant digits, exponent form outside [1e-3, 1e5): the wording of findings. */
export const fmt = (x: number): string => formatNumber(x, 4, 1e5);

/** 0-based layers as findings name them: [0, 1, 2] → "layers 1, 2 and 3"; [3] → "layer 4". */
export function layersText(layers: number[], capital = false): string {
  const n = layers.map((l) => String(l + 1));
  const word = capital ? (n.length === 1 ? 'Layer' : 'Layers') : n.length === 1 ? 'layer' : 'layers';
  return n.length === 1 ? `${word} ${n[0]}` : `${word} ${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`;
}
