// The difference source a check of a net.json model uses: the dense fast path (propagated.ts, with
// its row batches) when every entry is dense, the layered one (layered.ts: each record's own
// cancellation-free difference, over the rows a perturbation changes) when any entry is of another type.
import type { ForwardCache } from '../forward.js';
import { allDense } from '../layers/index.js';
import type { Model, Params } from '../model.js';
import type { Tensor } from '../tensor.js';
import { layeredSource } from './layered.js';
import { propagatedSource } from './propagated.js';
import type { DifferenceSource } from './source.js';

export function productSource(at: { model: Model; params: Params; Y: Tensor }, fwd: ForwardCache): DifferenceSource {
  return allDense(at.model.layers) ? propagatedSource(at, fwd) : layeredSource(at, fwd);
}
