// The user's program as the model (`--model`, `--connect`, the library's `model`): what the check
// needs from a program that owns its parameters, its data and its code. The session protocol
// (io/session.ts) and an in-process JavaScript model (session/functions.ts) both offer it; the check
// of a program (check/program-check.ts) asks it for costs and never knows which one it talks to.
//
// Units: a cost is the program's own J, a plain number in the program's precision; a step's delta
// and a direction's scale are absolute, in the units of the parameter.
import type { Tensor } from '../tensor.js';

/** One of the program's parameters, as its hello named and shaped it (any rank). */
export interface ProgramTensor {
  /** The program's own name ("W1", "conv1.weight", "gamma"). */
  name: string;
  value: Tensor;
}

/** The cost after adding `delta` to element `index` (one entry per axis; [] for a 0-d tensor) of `param`. */
export interface ElementStep {
  param: string;
  index: number[];
  delta: number;
}

/** The cost at `param` + scale · direction (direction: the parameter's shape), every other parameter unchanged. */
export interface DirectionStep {
  param: string;
  direction: Tensor;
  scale: number;
}

export type CostRequest = ElementStep | DirectionStep;

export interface CostProgram {
  /** The parameters, in the program's order, at the point every request is evaluated at. */
  readonly params: readonly ProgramTensor[];
  /** Names grouped into layers for the report (the hello's `layers`); absent: one group per tensor. */
  readonly layers?: readonly (readonly string[])[];
  /** The precision the program says it computes in (the hello's `dtype`); absent: not said. */
  readonly dtype?: 'float32' | 'float64';
  /** What the program is called in messages and findings: the command, the socket, "the model function". */
  readonly describe: string;
  /** The program's gradient of its cost for every parameter, validated: the same names and shapes. */
  grads(): Promise<Map<string, Tensor>>;
  /** The cost at the parameters. A non-finite cost is NaN or ±Infinity. */
  cost(): Promise<number>;
  /**
   * The cost for each request on its own, in order (each from the unchanged parameters). The
   * implementation batches and pipelines as it likes; the check hands over as many as it can at once.
   */
  costs(requests: readonly CostRequest[]): Promise<Float64Array>;
  /** Ends the session (bye) and releases the program; safe to call twice. */
  close(): Promise<void>;
}
