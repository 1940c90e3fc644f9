// The fixed mask of a dropout entry that has no mask of the user's: each of its units × samples
// values kept (1) with probability `keep`, drawn from the entry's seed so that the same spec and data
// give the same mask (docs/formats.md). io/ calls it once the data's samples are known.
import { Random } from '../random.js';
import type { Tensor } from '../tensor.js';

export function drawMask(units: number, samples: number, keep: number, seed: number): Tensor {
  const random = new Random(seed);
  const data = new Float64Array(units * samples);
  for (let i = 0; i < data.length; i++) data[i] = random.uniform() < keep ? 1 : 0;
  return { shape: [units, samples], data };
}
