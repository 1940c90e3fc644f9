// The catalogue is data: a mistake record the search has never seen, handed to it with the others,
// is tried where its record says and reproduces the gradients, with nothing else changed — a fixed
// variant (a derivative slot) and a fitted one (its parameter estimated from the tensors).
import { describe, expect, it } from 'vitest';
import { correctChain, evaluate, layerValues, netOf, type Chain, type Net } from '../src/core/diagnose/chain.js';
import { fingerprint } from '../src/core/diagnose/fingerprint.js';
import { fittedFactor } from '../src/core/diagnose/fit.js';
import { MISTAKE_KINDS, type MistakeKind, type Mutation } from '../src/core/diagnose/mutations.js';
import { forward } from '../src/core/forward.js';
import { initialise } from '../src/core/init.js';
import type { Grads } from '../src/core/model.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { dataFor } from '../tools/matrix.js';

/**
 * σ′ written as a·(1 + a³): a fixed variant of a sigmoid layer's derivative, which neither the
 * catalogue nor the formula recovery (recover.ts: one or two terms of its library) reproduces.
 */
const SIGMOID_PLUS: MistakeKind = {
  id: 'test-sigmoid-plus',
  code: 'wrong-activation-derivative',
  appliesTo: (net, l) => net.model.layers[l].activation.name === 'sigmoid',
  apply: (chain, m) => { chain.layers[m.layer].derivative = m.detail.values!; },
  key: (m) => `test-sigmoid-plus|${m.layer}`,
  tried: { slot: 'derivative', variants: (net, l) => [{ text: 'a * (1 + a^3)', values: layerValues(net, l, (_z, a) => a * (1 + a ** 3)) }] },
  describe: ([m]) => ({ message: `Layer ${m.layer + 1}: dA is multiplied by ${m.detail.text}.`, fix: 'Use a * (1 - a).', evidence: { layers: [m.layer + 1] } }),
};

/** db = k·Σ dZ over every unit and sample, k free: a fitted variant of db. */
const SCALED_TOTAL: MistakeKind = {
  id: 'test-scaled-total',
  code: 'wrong-bias-gradient',
  appliesTo: (net, l) => net.params[l].b !== undefined,
  apply: (chain, m) => {
    chain.layers[m.layer].db.all = true;
    chain.layers[m.layer].db.k = m.detail.k!;
  },
  key: (m) => `test-scaled-total|${m.layer}`,
  tried: {
    slot: 'factor',
    // k = ⟨t, c⟩/⟨c, c⟩ with c the right db's total in every element.
    fit({ tensor, target, candidate }) {
      if (tensor !== 'db') return [];
      let total = 0;
      for (const v of candidate) total += v;
      const k = fittedFactor(target, new Float64Array(candidate.length).fill(total));
      return k === null ? [] : [{ k, all: true }];
    },
  },
  describe: ([m]) => ({ message: `Layer ${m.layer + 1}: db is ${m.detail.k} times the total of dZ.`, fix: 'Sum over the samples only.', evidence: { layers: [m.layer + 1] } }),
};

function network(): Net {
  const spec = { input: 3, layers: [{ units: 4, activation: 'sigmoid' }, { units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 7 } };
  const model = withInputs(parseSpec(spec, 'test').model, spec.input);
  const params = initialise(model);
  const { X, Y } = dataFor(model, 24, 3);
  return netOf(model, params, forward(model, params, X, Y), Y);
}

/** The gradients of the right chain with the mutation applied. */
function mutated(net: Net, m: Mutation): Grads {
  const chain: Chain = correctChain(net);
  m.kind.apply(chain, m);
  return evaluate(net, chain).grads;
}

function worstDifference(a: Grads, b: Grads): number {
  let worst = 0;
  a.forEach((layer, l) => {
    for (const name of ['W', 'b'] as const) layer[name]?.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b[l][name]!.data[i])); });
  });
  return worst;
}

describe('a mistake record added to the catalogue', () => {
  for (const [kind, mutation] of [
    [SIGMOID_PLUS, (net: Net): Mutation => ({ kind: SIGMOID_PLUS, layer: 0, detail: SIGMOID_PLUS.tried!.variants!(net, 0)[0] })],
    [SCALED_TOTAL, (): Mutation => ({ kind: SCALED_TOTAL, layer: 0, detail: { k: 3, all: true } })],
  ] as const) {
    it(`is tried and diagnosed by the search with no other change (${kind.id})`, () => {
      const net = network();
      const tested = mutated(net, mutation(net));
      // Without the record nothing in the catalogue reproduces these gradients.
      const before = fingerprint(net, tested);
      expect(before.mutations.some((m) => m.kind === kind)).toBe(false);
      expect(before.unexplained.length).toBeGreaterThan(0);
      const after = fingerprint(net, tested, undefined, [...MISTAKE_KINDS, kind]);
      expect(after.unexplained).toEqual([]);
      expect(after.mutations.map((m) => [m.kind.id, m.layer])).toEqual([[kind.id, 0]]);
      // The mutation found replays to the gradients under test, and its record words the finding.
      expect(worstDifference(mutated(net, after.mutations[0]), tested)).toBeLessThan(1e-12);
      expect(kind.describe(after.mutations, { net, declared: false }).message).toMatch(/^Layer 1: /);
    });
  }
});
