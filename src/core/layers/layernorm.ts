// The layer-norm layer kind (torch.nn.functional.layer_norm over each sample's features): every
// sample (column) is normalised with the mean and biased variance of its own D features — all
// C·H·W of them for an image input — then each feature is scaled and shifted by its own γ_f, β_f
// (D of each, (D, 1), as PyTorch's LayerNorm((C, H, W)) has C·H·W of each).
//
//   forward      x̂ = (x − μ)·r,  r = 1/√(σ² + ε),  y = γ_f·x̂ + β_f     (μ, σ² per sample, over D)
//   backward     dx = r·(d − mean(d) − x̂·mean(d·x̂)),  d = γ_f·dy        (means over the sample's features)
//                dγ_f = s·Σ_samples dy·x̂,  dβ_f = s·Σ_samples dy
//   difference   batch norm's (batchnorm.ts), per sample: δc, δσ², δr without cancellation
//   kinks        none;  work  4 per unit;  health  the smallest σ², ‖dγ‖₂, the spread of γ
//
// The arithmetic is batch norm's group arithmetic (batchnorm.ts) with a sample's features as the group.
import { zeros, type Tensor } from '../tensor.js';
import { cachedMoments, epsOf, normalisation, normBackward, rightForm, type Groups } from './batchnorm.js';
import type { Backward, KindMistake, Layer, LayerKind, ParamSpec, Rows, TensorSet } from './kind.js';

/** The last groups made per entry, as batchnorm.ts's channelGroups keeps them (its moments are cached by them). */
const groupsCache = new WeakMap<Layer, Groups>();

/** One group per sample: column c's D features, m apart in the row-major block; γ, β by feature. */
function sampleGroups(layer: Layer, m: number): Groups {
  const cached = groupsCache.get(layer);
  if (cached && cached.count === m && cached.size === layer.inputs) return cached;
  const groups: Groups = { count: m, size: layer.inputs, start: 1, step: m, param: new Int32Array(m), paramStep: 1 };
  groupsCache.set(layer, groups);
  return groups;
}

function layernormParams(layer: Layer): ParamSpec[] {
  return [{ name: 'gamma', shape: [layer.inputs, 1] }, { name: 'beta', shape: [layer.inputs, 1] }];
}

/**
 * layernorm-wrong-axis: the sample's x̂ and 1/σ as forward computed them, but the two means of dx
 * taken over the samples (per feature, as batch norm's are) instead of over the sample's features:
 * dx[f][c] = r_c·(d[f][c] − mean_c' d[f][c'] − x̂[f][c]·mean_c' d[f][c']·x̂[f][c']), d = γ_f·dy.
 */
function wrongAxisBackward(layer: Layer, x: Tensor, _y: Tensor, dy: Tensor, p: TensorSet, s: number): Backward {
  const form = rightForm(x, sampleGroups(layer, x.shape[1]), epsOf(layer));
  const dx = () => {
    const m = x.shape[1], D = layer.inputs, { mean, r } = form;
    const X = x.data, G = dy.data, gamma = p.gamma.data;
    const out = zeros(x.shape);
    for (let f = 0; f < D; f++) {
      let s1 = 0, s2 = 0;
      for (let c = 0; c < m; c++) {
        const i = f * m + c, d = gamma[f] * G[i];
        s1 += d;
        s2 += d * ((X[i] - mean[c]) * r[c]);
      }
      const m1 = s1 / m, m2 = s2 / m;
      for (let c = 0; c < m; c++) {
        const i = f * m + c;
        out.data[i] = r[c] * (gamma[f] * G[i] - m1 - (X[i] - mean[c]) * r[c] * m2);
      }
    }
    return out;
  };
  return { dx, dparams: normBackward(x, dy, p, s, form).dparams };
}

const mistakes: Record<string, KindMistake> = {
  'layernorm-wrong-axis': {
    says: 'backward takes the means of dx over the samples instead of over each sample’s features',
    fix: 'np.mean(dx_hat, axis=1, keepdims=True) and np.mean(dx_hat * x_hat, axis=1, keepdims=True): over the features of each sample',
    backward: wrongAxisBackward,
  },
};

export const layernorm = {
  name: 'layernorm',
  params: layernormParams,
  ...normalisation(sampleGroups),

  differenceRows(layer: Layer, x: Tensor, y: Tensor, dx: Float64Array, _rows: Rows, p: TensorSet, out: Float64Array): Rows {
    // A change in any row moves its sample's statistics, and so every feature of that sample.
    layernorm.difference(layer, x, y, dx, p, null, out);
    return [0, layer.inputs];
  },

  paramChange(layer: Layer, x: Tensor, _y: Tensor, _p: TensorSet, name: string, index: number, h: number, out: Float64Array): Rows {
    // γ_f or β_f moves feature f's row only, by h·x̂ or h; no sample's statistics change.
    const m = x.shape[1], { mean, variance } = cachedMoments(x, sampleGroups(layer, m)), eps = epsOf(layer);
    for (let c = 0; c < m; c++) {
      const i = index * m + c;
      out[i] = name === 'gamma' ? h * ((x.data[i] - mean[c]) * (1 / Math.sqrt(variance[c] + eps))) : h;
    }
    return [index, index + 1];
  },

  kinks(_layer: Layer, _x: Tensor, _dx: Float64Array, _from: number, _to: number, _flags: Uint8Array) {
    // Smooth in x and in γ, β wherever σ² + ε > 0.
  },

  mistakes,
} satisfies LayerKind;
