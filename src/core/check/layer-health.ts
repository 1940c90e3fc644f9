// Per-layer health of the network at the checked weights, from the correct gradients: each layer
// entry's records state their own statistics (layers/*.ts) — the dense one how large its gradient
// is and how its weight scale compares with Xavier's or He's, the activation how saturated its
// units are, how many ReLUs are dead, and how its outputs are distributed.
import type { ForwardCache } from '../forward.js';
import { activation, kindOf, typeOf } from '../layers/index.js';
import type { Grads, Model, Params } from '../model.js';
import type { LayerHealth } from '../report.js';

export function layerHealth(model: Model, params: Params, fwd: ForwardCache, correct: Grads): LayerHealth[] {
  return model.layers.map((layer, l) => {
    const d = kindOf(layer).health(layer, fwd.A[l], fwd.Z[l], params[l], correct[l]);
    const a = activation.health(layer, fwd.Z[l], fwd.A[l + 1], {}, {});
    return {
      layer: l + 1,
      activation: layer.activation.name,
      ...(typeOf(layer) !== 'dense' ? { type: typeOf(layer) } : {}),
      gradientNorm: d.gradientNorm ?? 0,
      saturation: a.saturation,
      deadFraction: a.deadFraction,
      weightScale: d.weightScale ?? 0,
      recommendedScale: d.recommendedScale,
      histogram: a.histogram,
    };
  });
}
