// A worker thread of WorkerPool (threaded-check.ts): rebuilds the model by name, runs the forward pass
// (its own: a thread shares no objects with the main one), builds the propagated source on it, and
// answers each message, a list of row jobs, with their element differences.
import { parentPort, workerData } from 'node:worker_threads';
import { forward } from '../core/forward.js';
import { namedLoss } from '../core/records/losses.js';
import type { Model } from '../core/model.js';
import { propagatedSource } from '../core/differences/propagated.js';
import { elementsOf } from '../core/differences/source.js';
import type { RowJob } from '../core/check/check.js';
import { activationByName, pack, type WorkerInput } from './threaded-check.js';

const input = workerData as WorkerInput;
const model: Model = {
  ...input.model,
  layers: input.model.layers.map((l) => ({ ...l, activation: activationByName(l.activation)! })),
  loss: namedLoss(input.model.loss)!,
};
const at = { model, params: input.params, Y: input.Y };
const source = propagatedSource(at, forward(model, input.params, input.X, input.Y));

parentPort!.on('message', (jobs: RowJob[]) => {
  const packed = jobs.map((j) => pack(elementsOf(source, j, j.indices, j.h)));
  parentPort!.postMessage(packed, packed.flatMap((p) => [p.numeric.buffer, p.spread.buffer, p.kink.buffer, p.refined.buffer] as ArrayBuffer[]));
});
