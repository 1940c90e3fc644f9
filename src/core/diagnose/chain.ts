// Backprop as a chain of small steps, each of which a mistake can change on its own. The chain and
// the one walk that evaluates it are backprop.ts's (a Chain is its hooks); what is the diagnosis's
// own is which changes are possible at all, here, and which mutations exist (mutations.ts).
import type { Incoming, Net } from '../backprop.js';

// The walk's pieces the diagnosis builds and compares chains with (fingerprint.ts, mutations.ts, index.ts).
export {
  correctChain, deltas, evaluate, incomingGradient, inputMatrix, layerValues, netOf, outputDelta, outputValues,
  penaltyTerm, throughActivation, transposed,
} from '../backprop.js';
export type { Chain, Incoming, InputRef, LayerSteps, Net, PenaltyForm } from '../backprop.js';

/** Whether a way of forming dA_l from dZ_{l+1} is possible at all (the shapes must fit). */
export function incomingApplies(net: Net, l: number, how: Incoming): boolean {
  const next = net.model.layers[l + 1];
  if (!next) return false;
  if (how === 'transpose') return true;
  if (how === 'plain') return next.units === next.inputs;
  // dZ_{l+1} used as dA_l: same number of rows, or one row that NumPy broadcasts over the units.
  return next.units === net.model.layers[l].units || next.units === 1;
}
