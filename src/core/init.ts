// Seeded parameter initialisation, in layer order and each entry's parameter order (entryParams),
// from one generator. The scale conventions are deeplearning.ai's: "xavier" draws W from
// N(0, 1/fan_in) and "he" from N(0, 2/fan_in); "scale" multiplies either. A W's fan-in is its size
// over its first axis: inputs for a dense (units, inputs) W, C·kh·kw for a conv2d (filters, C, kh, kw)
// one (the fan-out, filters·kh·kw, enters none of these schemes). Biases start at zero.
//
// Batch and layer norm's γ and β are drawn too, γ ~ U[0.5, 1.5] and β ~ U[−0.5, 0.5], not PyTorch's
// 1 and 0: at γ = 1 and β = 0 a backward that forgets γ in dx, or confuses dγ with dβ's terms, is
// right by accident, and the check would pass the bug.
import { entryParams } from './layers/index.js';
import { Random } from './random.js';
import type { LayerParams, Model, Params } from './model.js';
import { size, zeros, type Tensor } from './tensor.js';

export function initialise(model: Model, seed = model.init.seed): Params {
  const rng = new Random(seed);
  const { scheme, scale } = model.init;
  const weights = (shape: number[]): Tensor => {
    const w = zeros(shape);
    const fanIn = size(shape) / shape[0];
    const std =
      scheme === 'xavier' ? Math.sqrt(1 / fanIn) * scale
      : scheme === 'he' ? Math.sqrt(2 / fanIn) * scale
      : scale;
    for (let i = 0; i < w.data.length; i++) {
      w.data[i] = scheme === 'uniform' ? (2 * rng.uniform() - 1) * std : rng.normal() * std;
    }
    return w;
  };
  /** U[centre − ½, centre + ½]. */
  const around = (shape: number[], centre: number): Tensor => {
    const t = zeros(shape);
    for (let i = 0; i < t.data.length; i++) t.data[i] = centre - 0.5 + rng.uniform();
    return t;
  };
  return model.layers.map((layer): LayerParams => Object.fromEntries(entryParams(layer).map(({ name, shape }) => {
    switch (name) {
      case 'W': return [name, weights(shape)];
      case 'gamma': return [name, around(shape, 1)];
      case 'beta': return [name, around(shape, 0)];
      default: return [name, zeros(shape)];
    }
  })));
}
