// Per-layer health of the network at the checked weights, from the correct gradients: each layer
// entry's records state their own statistics (layers/*.ts) — the dense one how large its gradient
// is and how its weight scale compares with Xavier's or He's, the activation how saturated its
// units are, how many ReLUs are dead, and how its outputs are distributed; a normalisation the
// smallest variance it divides by. An entry whose output is an image (conv2d, pooling) counts its
// dead ReLUs by channel: a channel is dead when it is 0 at every position on every sample, as a
// filter that never fires is what cannot recover (one position of a live filter may be 0 always).
import type { ForwardCache } from '../forward.js';
import { activation, entryParams, kindOf, outShapeOf, typeOf, type Layer } from '../layers/index.js';
import type { Grads, Model, Params } from '../model.js';
import type { LayerHealth } from '../report.js';
import type { Tensor } from '../tensor.js';

/** The fraction of the C channels of a (C, H, W) block whose pre-activation is ≤ 0 at every position and sample. */
export function deadChannelFraction(layer: Layer, Z: Tensor): number {
  const [C, H, W] = outShapeOf(layer);
  const m = Z.shape[1], block = H * W * m;
  let dead = 0;
  for (let c = 0; c < C; c++) {
    let alive = false;
    for (let i = c * block; i < (c + 1) * block && !alive; i++) alive = Z.data[i] > 0;
    if (!alive) dead++;
  }
  return dead / C;
}

export function layerHealth(model: Model, params: Params, fwd: ForwardCache, correct: Grads): LayerHealth[] {
  return model.layers.map((layer, l) => {
    const d = kindOf(layer).health(layer, fwd.A[l], fwd.Z[l], params[l], correct[l]);
    const a = activation.health(layer, fwd.Z[l], fwd.A[l + 1], {}, {});
    const image = outShapeOf(layer).length === 3;
    return {
      layer: l + 1,
      activation: layer.activation.name,
      ...(typeOf(layer) !== 'dense' ? { type: typeOf(layer) } : {}),
      ...(entryParams(layer).length === 0 ? { noParameters: true as const } : {}),
      gradientNorm: d.gradientNorm ?? 0,
      saturation: a.saturation,
      deadFraction: image && layer.activation.family === 'relu' ? deadChannelFraction(layer, fwd.Z[l]) : a.deadFraction,
      weightScale: d.weightScale ?? 0,
      recommendedScale: d.recommendedScale,
      ...(d.minVariance !== undefined ? { minVariance: d.minVariance } : {}),
      histogram: a.histogram,
    };
  });
}
