// The layer kinds' own backprop mistakes as catalogue records. Each kind lists the mistakes people
// make in its backward (layers/*.ts, LayerKind.mistakes: what the code computes, what to tell the
// user); here each becomes a MistakeKind whose mutation sets the chain's `mistake` hook at one
// entry (backprop.ts), so the fingerprint search, the reconstruction and the findings treat it as
// any other catalogued mistake. The finding code is the mistake's id (findings/registry.ts), or the
// code it names when it is another form of a listed mistake (KindMistake.code).
//
// A kind's mistake changes its entry's backward: dA_{l−1}, and the entry's own parameter
// gradients where it has any. So what it changes first is its own layer and every layer below it
// (effectLayers), not its own layer alone: a mistaken max-pool backward has no tensor of its own
// and shows only in the layers before it.
import { compare } from '../check/compare.js';
import { isFindingCode, type FindingCode } from '../findings/registry.js';
import { kindOf, typeOf, type KindMistake } from '../layers/index.js';
import { paramLabel } from '../model.js';
import { correctChain, evaluate, type Net } from './chain.js';
import { fmt, type Mutation, type MistakeKind } from './mutations.js';

const records = new Map<string, MistakeKind>();

/** The kind's mistake `id` at entry l, when the entry's kind has it and it changes anything there. */
function mistakeAt(net: Net, l: number, id: string): KindMistake | null {
  const layer = net.model.layers[l];
  const mistake = kindOf(layer).mistakes?.[id];
  if (!mistake) return null;
  return !mistake.appliesTo || mistake.appliesTo(layer, net.m) ? mistake : null;
}

/** The catalogue record of a layer kind's mistake `id` (one record per id, shared by every kind that lists it). */
export function layerMistakeKind(id: string, named: string = id): MistakeKind {
  const known = records.get(id);
  if (known) return known;
  if (!isFindingCode(named)) throw new Error(`internal: the layer-kind mistake ${id} has no finding code (findings/registry.ts)`);
  const code: FindingCode = named;
  const record: MistakeKind = {
    id,
    code,
    appliesTo: (net, l) => mistakeAt(net, l, id) !== null,
    apply: (chain, m) => { chain.layers[m.layer].mistake = id; },
    key: () => `layer-mistake|${id}`,
    effectLayers: (m) => Array.from({ length: m.layer + 1 }, (_x, i) => i),
    describe: (group, { net, reproducedTo }) => describeLayerMistake(id, group, net, reproducedTo),
  };
  records.set(id, record);
  return record;
}

/** Every layer-kind mistake that applies at entry l, as mutations (the kind's order). */
export function layerMistakesAt(net: Net, l: number): Mutation[] {
  const mistakes = kindOf(net.model.layers[l]).mistakes ?? {};
  return Object.keys(mistakes).filter((id) => mistakeAt(net, l, id) !== null)
    .map((id) => ({ kind: layerMistakeKind(id, mistakes[id].code), layer: l, detail: { mistake: id } }));
}

/**
 * "Your gradients equal backprop with this mistake in layer 3 (maxpool2d): <says>": the kind's own words, then
 * what the mistake alone does to the tensors it changes (their relative error against the right
 * gradients) and how closely the reconstruction reproduces the gradients under test.
 */
function describeLayerMistake(id: string, group: Mutation[], net: Net, reproducedTo: number | undefined) {
  const layers = group.map((m) => m.layer).sort((x, y) => x - y);
  const says = layers.map((l) => `layer ${l + 1} (${typeOf(net.model.layers[l])}): ${mistakeAt(net, l, id)!.says.replace(/\.$/, '')}`);
  const right = evaluate(net, correctChain(net)).grads;
  const chain = correctChain(net);
  for (const l of layers) chain.layers[l].mistake = id;
  const wrong = evaluate(net, chain).grads;
  const changed: { name: string; error: number }[] = [];
  for (let l = net.model.layers.length - 1; l >= 0; l--) {
    for (const name of Object.keys(right[l])) {
      const error = compare(wrong[l][name].data, right[l][name].data).relativeError;
      if (error > 0) changed.push({ name: paramLabel({ layer: l, name }), error });
    }
  }
  const shown = changed.slice(0, 4).map((c) => `d${c.name} by ${fmt(c.error)}`).join(', ');
  const effect = changed.length === 0 ? '' : ` On your data that alone moves ${shown}${changed.length > 4 ? ` and ${changed.length - 4} more tensors` : ''} (relative error against the right gradients).`;
  const reproduced = reproducedTo === undefined ? '' : ` The reconstruction reproduces your gradients ${reproducedTo === 0 ? 'exactly' : `to a relative ${fmt(reproducedTo)}`}.`;
  const fix = [...new Set(layers.map((l) => mistakeAt(net, l, id)!.fix))].join(' ');
  return {
    message: `Your gradients equal backprop with this mistake in ${says.join('; and in ')}.${effect}${reproduced}`,
    fix,
    evidence: { layers: layers.map((l) => l + 1), type: typeOf(net.model.layers[layers[0]]), changed: changed.map((c) => c.name).join(', '), relativeErrors: changed.map((c) => c.error) },
  };
}
