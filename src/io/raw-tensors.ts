// What every tensor-file reader (JSON in tensors.ts, .npy/.npz in npz.ts) produces, before the
// names and shapes are checked against the network: a leaf module, so that the readers and the
// assembler do not import each other.
import type { Tensor } from '../core/tensor.js';

/** A tensor as a file stores it, of any rank ([n] for a 1-D array, [rows, cols] for 2-D, …), row-major. */
export type RawTensor = Tensor;

export type RawTensors = Map<string, RawTensor>;

/** What a file holds: weights ("W1", "b1") or gradients ("dW1", "db1"). */
export type TensorRole = 'params' | 'grads';
