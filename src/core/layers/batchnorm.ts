// The batch-norm layer kind, in training mode (torch.nn.functional.batch_norm(training=True)):
// each feature (after a dense layer) or each channel (after a conv, over the samples and H × W) is
// normalised with the batch's mean and biased variance, then scaled and shifted.
//
//   forward      x̂ = (x − μ)·r,  r = 1/√(σ² + ε),  y = γ·x̂ + β     (σ² = mean((x − μ)²), N elements)
//   backward     dx = r·(γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂))        (= (γ/σ)/N·(N·dy − Σdy − x̂·Σ(dy·x̂)))
//                dγ = s·Σ dy·x̂,  dβ = s·Σ dy
//   difference   δc = δx − δμ exactly, δσ² = mean(δc·(2c + δc)),
//                δr = −δσ²/(√v·√(v + δσ²)·(√v + √(v + δσ²))),  v = σ² + ε,
//                δy = γ·(δc·r' + c·δr) + δγ·x̂' + δβ        (c = x − μ, r' = r + δr, x̂' = (c + δc)·r')
//                every part a product of changes, never the difference of two close numbers
//   kinks        none of its own (smooth where σ² + ε > 0); a kink crossed upstream in one
//                sample reaches every sample through μ and σ², so it marks them all
//   work         4 per unit: the mean, the variance, the normalisation, the scale
//   health       the smallest σ² (before ε), ‖dγ‖₂, the spread of γ
//
// Layer norm (layernorm.ts) is the same arithmetic over each sample's features instead of each
// feature's samples, so the group arithmetic here is written for any grouping of a block's
// elements (Groups), and layernorm.ts uses it with its own.
import { zeros, type Tensor } from '../tensor.js';
import { norm, std } from './dense.js';
import { inShapeOf, type Backward, type KindMistake, type Layer, type LayerKind, type ParamSpec, type Rows, type TensorSet } from './kind.js';

/** ε when the entry does not say (SPEC, PyTorch's default). */
export const DEFAULT_EPS = 1e-5;

export function epsOf(layer: Layer): number {
  return layer.eps ?? DEFAULT_EPS;
}

// ---- groups of elements and their statistics ------------------------------------------------------

/**
 * How the elements of a block (features × samples, row-major) fall into the groups a normalisation
 * takes its statistics over: group g's elements j = 0 … size − 1 sit at g·start + j·step. γ and β
 * of element j of group g are number param[g] + j·paramStep (batch norm: the group's own, one per
 * feature or channel; layer norm: the element's feature).
 */
export interface Groups {
  count: number;
  size: number;
  start: number;
  step: number;
  param: Int32Array;
  paramStep: 0 | 1;
}

/** Per group: the mean and the biased variance (before ε). */
export interface Moments {
  mean: Float64Array;
  variance: Float64Array;
}

/** The last groups made per entry: the finite differences ask for them on every step. */
const groupsCache = new WeakMap<Layer, Groups>();

/**
 * Batch norm's groups for m samples: one per feature of a flat input (its row: m elements), one per
 * channel of an image input (its H·W rows, which are contiguous in (C, H, W) order: H·W·m elements).
 */
export function channelGroups(layer: Layer, m: number): Groups {
  const cached = groupsCache.get(layer);
  if (cached && cached.size === planeOf(layer) * m) return cached;
  const groups = makeChannelGroups(layer, m);
  groupsCache.set(layer, groups);
  return groups;
}

function makeChannelGroups(layer: Layer, m: number): Groups {
  const shape = inShapeOf(layer);
  const channels = shape[0];
  const plane = shape.length === 3 ? shape[1] * shape[2] : 1;
  return { count: channels, size: plane * m, start: plane * m, step: 1, param: Int32Array.from({ length: channels }, (_, g) => g), paramStep: 0 };
}

/** The rows of one feature or channel: H·W for an image input, 1 for a flat one. */
export function planeOf(layer: Layer): number {
  const shape = inShapeOf(layer);
  return shape.length === 3 ? shape[1] * shape[2] : 1;
}

/** Two passes: μ = Σx/N, then σ² = Σ(x − μ)²/N (no E[x²] − μ², which cancels). */
function momentsOf(x: Float64Array, g: Groups): Moments {
  const mean = new Float64Array(g.count), variance = new Float64Array(g.count);
  for (let k = 0; k < g.count; k++) {
    const base = k * g.start;
    let sum = 0;
    for (let j = 0; j < g.size; j++) sum += x[base + j * g.step];
    const mu = sum / g.size;
    let sq = 0;
    for (let j = 0; j < g.size; j++) {
      const c = x[base + j * g.step] - mu;
      sq += c * c;
    }
    mean[k] = mu;
    variance[k] = sq / g.size;
  }
  return { mean, variance };
}

/**
 * The statistics of x over these groups, computed once per input tensor: a check asks for the
 * difference through the same layer input for every perturbed element, and each would otherwise
 * recompute them. Tensors of the forward cache are never written after they are made.
 */
const momentsCache = new WeakMap<Tensor, Map<string, Moments>>();
/**
 * The same by the Groups object itself (channelGroups and sampleGroups hand out one per entry):
 * the finite differences ask on every step, and the geometry's key would be a new string each time.
 */
const momentsByGroups = new WeakMap<Groups, WeakMap<Tensor, Moments>>();

export function cachedMoments(x: Tensor, g: Groups): Moments {
  let forGroups = momentsByGroups.get(g);
  if (!forGroups) momentsByGroups.set(g, (forGroups = new WeakMap()));
  const known = forGroups.get(x);
  if (known) return known;
  const key = `${g.count},${g.size},${g.start},${g.step}`;
  let byGroups = momentsCache.get(x);
  if (!byGroups) momentsCache.set(x, (byGroups = new Map()));
  let moments = byGroups.get(key);
  if (!moments) byGroups.set(key, (moments = momentsOf(x.data, g)));
  forGroups.set(x, moments);
  return moments;
}

/** r = 1/√(σ²·scale + ε) per group: the forward's with scale 1; the mistakes' with N/(N − 1) or ε = 0. */
function inverseStd(variance: Float64Array, eps: number, scale = 1): Float64Array {
  const r = new Float64Array(variance.length);
  for (let k = 0; k < r.length; k++) r[k] = 1 / Math.sqrt(variance[k] * scale + eps);
  return r;
}

// ---- forward, backward, difference over groups --------------------------------------------------

/** y = γ·((x − μ)·r) + β. */
export function normForward(x: Tensor, g: Groups, eps: number, p: TensorSet): Tensor {
  const { mean, variance } = cachedMoments(x, g);
  const r = inverseStd(variance, eps);
  const gamma = p.gamma.data, beta = p.beta.data;
  const y = zeros(x.shape);
  for (let k = 0; k < g.count; k++) {
    const base = k * g.start, mu = mean[k], rk = r[k], pk = g.param[k];
    for (let j = 0; j < g.size; j++) {
      const i = base + j * g.step, q = pk + j * g.paramStep;
      y.data[i] = gamma[q] * ((x.data[i] - mu) * rk) + beta[q];
    }
  }
  return y;
}

/** What a backward (right or mistaken) normalises with, and which parts of the formula it keeps. */
export interface NormBackwardForm {
  groups: Groups;
  /** μ and r per group of `groups`. */
  mean: Float64Array;
  r: Float64Array;
  /** Whether dx has γ in it (batchnorm-gamma-missing: not). */
  gamma: boolean;
  /** Whether dx keeps the mean and variance terms (batchnorm-simplified: dx = γ·r·dy only). */
  full: boolean;
}

/** The backward's form as the kind itself computes it: the forward's groups and statistics. */
export function rightForm(x: Tensor, g: Groups, eps: number): NormBackwardForm {
  const { mean, variance } = cachedMoments(x, g);
  return { groups: g, mean, r: inverseStd(variance, eps), gamma: true, full: true };
}

/** dx = r·(d − mean(d) − x̂·mean(d·x̂)) per group, d = γ·dy (or dy when the form drops γ). */
export function normInputGradient(x: Tensor, dy: Tensor, gammaParam: Tensor, f: NormBackwardForm): Tensor {
  const g = f.groups, X = x.data, D = dy.data, gamma = gammaParam.data;
  const dx = zeros(x.shape);
  for (let k = 0; k < g.count; k++) {
    const base = k * g.start, mu = f.mean[k], rk = f.r[k], pk = g.param[k];
    let s1 = 0, s2 = 0;
    for (let j = 0; j < g.size; j++) {
      const i = base + j * g.step;
      const d = f.gamma ? gamma[pk + j * g.paramStep] * D[i] : D[i];
      s1 += d;
      s2 += d * ((X[i] - mu) * rk);
    }
    const m1 = s1 / g.size, m2 = s2 / g.size;
    for (let j = 0; j < g.size; j++) {
      const i = base + j * g.step;
      const d = f.gamma ? gamma[pk + j * g.paramStep] * D[i] : D[i];
      dx.data[i] = f.full ? rk * (d - m1 - (X[i] - mu) * rk * m2) : rk * d;
    }
  }
  return dx;
}

/**
 * s·Σ dy·x̂ (withXhat) or s·Σ dy per parameter element, summed over every element it scales; with
 * `magnitudes`, Σ |dy·x̂| or Σ |dy| (the terms' magnitudes, check/resolution.ts).
 */
export function normParamGradient(x: Tensor, dy: Tensor, f: NormBackwardForm, shape: readonly number[], withXhat: boolean, s: number, magnitudes = false): Tensor {
  const g = f.groups, X = x.data, D = dy.data;
  const out = zeros(shape);
  for (let k = 0; k < g.count; k++) {
    const base = k * g.start, mu = f.mean[k], rk = f.r[k], pk = g.param[k];
    for (let j = 0; j < g.size; j++) {
      const i = base + j * g.step;
      const term = withXhat ? D[i] * ((X[i] - mu) * rk) : D[i];
      out.data[pk + j * g.paramStep] += magnitudes ? Math.abs(term) : term;
    }
  }
  for (let q = 0; q < out.data.length; q++) out.data[q] *= s;
  return out;
}

/** A backward (right or mistaken) of γ, β and x from its form. */
export function normBackward(x: Tensor, dy: Tensor, p: TensorSet, s: number, f: NormBackwardForm): Backward {
  const shape = p.gamma.shape;
  return {
    dx: () => normInputGradient(x, dy, p.gamma, f),
    dparams: {
      gamma: () => normParamGradient(x, dy, f, shape, true, s),
      beta: () => normParamGradient(x, dy, f, shape, false, s),
    },
  };
}

/** The parameters' gradients in magnitudes (s = 1): Σ |dy·x̂| for γ, Σ |dy| for β. */
export function normParamMagnitudes(x: Tensor, dy: Tensor, p: TensorSet, g: Groups, eps: number): Readonly<Record<string, () => Tensor>> {
  const f = rightForm(x, g, eps), shape = p.gamma.shape;
  return { gamma: () => normParamGradient(x, dy, f, shape, true, 1, true), beta: () => normParamGradient(x, dy, f, shape, false, 1, true) };
}

/**
 * For dy ≥ 0, per element of dx the sum of the magnitudes of the terms whose signed sum
 * normInputGradient gives: dx_i = r·d_i − r·Σ_j d_j/N − r·x̂_i·Σ_j d_j·x̂_j/N has the terms r·d_i,
 * r·d_j/N and r·x̂_i·d_j·x̂_j/N, so the sum is r·(|d_i| + mean|d| + |x̂_i|·mean|d·x̂|), d = |γ|·dy.
 * Each term is rounded to a few units, so γ·u times this bounds the rounding of backward's sums
 * (check/resolution.ts) however much they cancel.
 */
export function normBackwardMagnitude(x: Tensor, dy: Tensor, p: TensorSet, g: Groups, eps: number): Tensor {
  const f = rightForm(x, g, eps);
  const X = x.data, D = dy.data, gamma = p.gamma.data;
  const out = zeros(x.shape);
  for (let k = 0; k < g.count; k++) {
    const base = k * g.start, mu = f.mean[k], rk = f.r[k], pk = g.param[k];
    let s1 = 0, s2 = 0;
    for (let j = 0; j < g.size; j++) {
      const i = base + j * g.step;
      const d = Math.abs(gamma[pk + j * g.paramStep]) * Math.abs(D[i]);
      s1 += d;
      s2 += d * Math.abs((X[i] - mu) * rk);
    }
    const m1 = s1 / g.size, m2 = s2 / g.size;
    for (let j = 0; j < g.size; j++) {
      const i = base + j * g.step;
      const d = Math.abs(gamma[pk + j * g.paramStep]) * Math.abs(D[i]);
      out.data[i] = rk * (d + m1 + Math.abs((X[i] - mu) * rk) * m2);
    }
  }
  return out;
}

/**
 * δy of group k (module header): written into out at the group's elements. A group whose input
 * does not change keeps its statistics, and its δy is δγ·x̂ + δβ exactly (0 without dp).
 */
export function groupDifference(
  x: Tensor, dx: Float64Array, g: Groups, k: number, moments: Moments, eps: number,
  p: TensorSet, dp: TensorSet | null, out: Float64Array,
): void {
  const X = x.data, gamma = p.gamma.data;
  const dgamma = dp?.gamma?.data, dbeta = dp?.beta?.data;
  // The group's geometry in locals, once: these loops run for every group of every step.
  const base = k * g.start, n = g.size, step = g.step, pstep = g.paramStep, pk = g.param[k];
  const end = base + n * step;
  const mu = moments.mean[k], v = moments.variance[k] + eps, sv = Math.sqrt(v), r = 1 / sv;
  let sum = 0, moved = false;
  for (let i = base; i < end; i += step) {
    const d = dx[i];
    sum += d;
    if (d !== 0) moved = true;
  }
  if (!moved) {
    for (let i = base, q = pk; i < end; i += step, q += pstep) {
      let d = 0;
      if (dgamma) d += dgamma[q] * ((X[i] - mu) * r);
      if (dbeta) d += dbeta[q];
      out[i] = d;
    }
    return;
  }
  const dmu = sum / n;
  // δσ² = mean((c + δc)² − c²) = mean(δc·(2c + δc)).
  let dv = 0;
  for (let i = base; i < end; i += step) {
    const dc = dx[i] - dmu;
    dv += dc * (2 * (X[i] - mu) + dc);
  }
  dv /= n;
  // 1/√(v + δv) − 1/√v = (√v − √(v + δv))/(√v·√(v + δv)) = −δv/(√v·√(v + δv)·(√v + √(v + δv))).
  const sv2 = Math.sqrt(v + dv), r2 = 1 / sv2;
  const dr = -dv / (sv * sv2 * (sv + sv2));
  for (let i = base, q = pk; i < end; i += step, q += pstep) {
    const c = X[i] - mu, dc = dx[i] - dmu;
    // (c + δc)·r' − c·r = δc·r' + c·δr.
    let d = gamma[q] * (dc * r2 + c * dr);
    if (dgamma) d += dgamma[q] * ((c + dc) * r2);
    if (dbeta) d += dbeta[q];
    out[i] = d;
  }
}

/** groupDifference over every group. */
export function normDifference(x: Tensor, dx: Float64Array, g: Groups, eps: number, p: TensorSet, dp: TensorSet | null, out: Float64Array): void {
  const moments = cachedMoments(x, g);
  for (let k = 0; k < g.count; k++) groupDifference(x, dx, g, k, moments, eps, p, dp, out);
}

/** The smallest variance of any group (before ε): where it is near 0, r and so dx blow up. */
export function minVariance(x: Tensor, g: Groups): number {
  let min = Infinity;
  for (const v of cachedMoments(x, g).variance) min = Math.min(min, v);
  return min;
}

// ---- the batch-norm kind ------------------------------------------------------------------------

/** γ, β: one per feature of a flat input, one per channel of an image input. */
function batchnormParams(layer: Layer): ParamSpec[] {
  const n = inShapeOf(layer)[0];
  return [{ name: 'gamma', shape: [n, 1] }, { name: 'beta', shape: [n, 1] }];
}

/**
 * The rows a change in rows [from, to) moves: the whole features or channels they belong to, whose
 * statistics it changes (a channel of an image input is H·W contiguous rows).
 */
function changedGroups(layer: Layer, rows: Rows): [number, number] {
  const plane = planeOf(layer);
  return [Math.floor(rows[0] / plane), Math.floor((rows[1] - 1) / plane) + 1];
}

/** An image input's groups as a code with the wrong axes takes them: per (c, h, w) row, over the samples only. */
function rowGroups(layer: Layer, m: number): Groups {
  const plane = planeOf(layer), rows = layer.inputs;
  return { count: rows, size: m, start: m, step: 1, param: Int32Array.from({ length: rows }, (_, row) => Math.floor(row / plane)), paramStep: 0 };
}

/**
 * A backward that normalises with variance·scale + ε' instead of σ² + ε: the x̂ and 1/σ it uses in
 * dx and in dγ are its own (the code recomputes them from x), from the forward's groups.
 */
function restatedForm(layer: Layer, x: Tensor, scale: (n: number) => number, eps: number): NormBackwardForm {
  const g = channelGroups(layer, x.shape[1]);
  const { mean, variance } = cachedMoments(x, g);
  return { groups: g, mean, r: inverseStd(variance, eps, scale(g.size)), gamma: true, full: true };
}

const mistakes: Record<string, KindMistake> = {
  'batchnorm-simplified': {
    says: 'dx is γ·dy/√(σ² + ε), without the terms for the batch mean and variance',
    fix: 'dx = gamma / np.sqrt(var + eps) / N * (N * dout - np.sum(dout, axis=0) - x_hat * np.sum(dout * x_hat, axis=0)) (axis=(0, 2, 3) for an image input)',
    backward: (layer, x, _y, dy, p, s) => normBackward(x, dy, p, s, { ...rightForm(x, channelGroups(layer, x.shape[1]), epsOf(layer)), full: false }),
  },
  'batchnorm-gamma-missing': {
    says: 'dx is missing the factor γ',
    fix: 'dx_hat = dout * gamma, then dx from dx_hat (not from dout)',
    backward: (layer, x, _y, dy, p, s) => normBackward(x, dy, p, s, { ...rightForm(x, channelGroups(layer, x.shape[1]), epsOf(layer)), gamma: false }),
  },
  'batchnorm-unbiased-variance': {
    says: 'backward normalises with the unbiased variance (N − 1), forward with the biased one (N)',
    fix: 'var = np.var(x, axis=0) in backward as in forward (ddof=0, the batch statistic)',
    appliesTo: (layer, samples) => planeOf(layer) * samples > 1,
    backward: (layer, x, _y, dy, p, s) => normBackward(x, dy, p, s, restatedForm(layer, x, (n) => n / (n - 1), epsOf(layer))),
  },
  'batchnorm-eps-missing': {
    says: 'backward divides by √σ² instead of √(σ² + ε)',
    fix: 'inv_std = 1 / np.sqrt(var + eps) in backward, with the forward’s eps',
    backward: (layer, x, _y, dy, p, s) => normBackward(x, dy, p, s, restatedForm(layer, x, () => 1, 0)),
  },
  'batchnorm-spatial-axes': {
    says: 'backward takes its statistics per (c, h, w) over the samples only, instead of per channel over the samples and H × W',
    fix: 'sum over axis=(0, 2, 3) (the samples and the spatial positions), with N = samples·H·W',
    appliesTo: (layer) => inShapeOf(layer).length === 3 && planeOf(layer) > 1,
    backward: (layer, x, _y, dy, p, s) => normBackward(x, dy, p, s, rightForm(x, rowGroups(layer, x.shape[1]), epsOf(layer))),
  },
};

/**
 * What batch and layer norm share, given how each groups the elements it normalises together (per
 * feature or channel over the samples; per sample over its features): everything but which rows a
 * change reaches, a parameter's own change, kinks and the mistakes.
 */
export function normalisation(groupsOf: (layer: Layer, m: number) => Groups) {
  return {
    outputShape: (_layer: Layer, input: readonly number[]) => input.slice(),

    forward: (layer: Layer, x: Tensor, p: TensorSet) => normForward(x, groupsOf(layer, x.shape[1]), epsOf(layer), p),

    backward: (layer: Layer, x: Tensor, _y: Tensor, dy: Tensor, p: TensorSet, s: number) =>
      normBackward(x, dy, p, s, rightForm(x, groupsOf(layer, x.shape[1]), epsOf(layer))),

    difference(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, p: TensorSet, dp: TensorSet | null, out: Float64Array) {
      normDifference(x, dx, groupsOf(layer, x.shape[1]), epsOf(layer), p, dp, out);
    },

    work: (layer: Layer) => 4 * layer.inputs,

    health(layer: Layer, x: Tensor, _y: Tensor, p: TensorSet, g: TensorSet) {
      return { minVariance: minVariance(x, groupsOf(layer, x.shape[1])), gradientNorm: norm(g.gamma.data), weightScale: std(p.gamma.data) };
    },

    backwardMagnitude: (layer: Layer, x: Tensor, _y: Tensor, dy: Tensor, p: TensorSet) =>
      normBackwardMagnitude(x, dy, p, groupsOf(layer, x.shape[1]), epsOf(layer)),
    paramMagnitudes: (layer: Layer, x: Tensor, _y: Tensor, dy: Tensor, p: TensorSet) =>
      normParamMagnitudes(x, dy, p, groupsOf(layer, x.shape[1]), epsOf(layer)),
  };
}

export const batchnorm = {
  name: 'batchnorm',
  params: batchnormParams,
  ...normalisation(channelGroups),

  differenceRows(layer: Layer, x: Tensor, _y: Tensor, dx: Float64Array, rows: Rows, p: TensorSet, out: Float64Array): Rows {
    if (rows[1] <= rows[0]) return rows;
    const g = channelGroups(layer, x.shape[1]), moments = cachedMoments(x, g), eps = epsOf(layer);
    const [from, to] = changedGroups(layer, rows);
    for (let k = from; k < to; k++) groupDifference(x, dx, g, k, moments, eps, p, null, out);
    const plane = planeOf(layer);
    return [from * plane, to * plane];
  },

  paramChange(layer: Layer, x: Tensor, _y: Tensor, _p: TensorSet, name: string, index: number, h: number, out: Float64Array): Rows {
    // γ_k or β_k moves feature or channel k's rows only, by h·x̂ or h; the statistics stay
    // (groupDifference's unmoved group with δγ_k or δβ_k = h).
    const g = channelGroups(layer, x.shape[1]), { mean, variance } = cachedMoments(x, g);
    const base = index * g.start, mu = mean[index], r = 1 / Math.sqrt(variance[index] + epsOf(layer));
    for (let j = 0; j < g.size; j++) out[base + j] = name === 'gamma' ? h * ((x.data[base + j] - mu) * r) : h;
    const plane = planeOf(layer);
    return [index * plane, (index + 1) * plane];
  },

  kinks(_layer: Layer, _x: Tensor, _dx: Float64Array, _from: number, _to: number, flags: Uint8Array) {
    // Smooth itself wherever σ² + ε > 0, but the batch statistics couple the samples: once one
    // sample's change has crossed a kink upstream, every sample's output carries the two slopes.
    if (flags.includes(1)) flags.fill(1);
  },

  mistakes,
} satisfies LayerKind;
