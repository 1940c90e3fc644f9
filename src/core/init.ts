// Seeded weight initialisation. The scale conventions are deeplearning.ai's: "xavier" draws
// N(0, 1/fan_in) and "he" N(0, 2/fan_in); "scale" multiplies either. Biases start at zero.
import { Random } from './random.js';
import type { LayerParams, Model, Params } from './model.js';
import { zeros } from './tensor.js';

export function initialise(model: Model, seed = model.init.seed): Params {
  const rng = new Random(seed);
  const { scheme, scale } = model.init;
  return model.layers.map((layer): LayerParams => {
    const w = zeros([layer.units, layer.inputs]);
    const std =
      scheme === 'xavier' ? Math.sqrt(1 / layer.inputs) * scale
      : scheme === 'he' ? Math.sqrt(2 / layer.inputs) * scale
      : scale;
    for (let i = 0; i < w.data.length; i++) {
      w.data[i] = scheme === 'uniform' ? (2 * rng.uniform() - 1) * std : rng.normal() * std;
    }
    return layer.bias ? { W: w, b: zeros([layer.units, 1]) } : { W: w };
  });
}
