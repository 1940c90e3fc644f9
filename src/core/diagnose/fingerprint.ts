// Fingerprinting: which backprop, with which catalogued mistakes, computes exactly the gradients
// under test? The search runs layer by layer from the output back, over the steps of the chain
// (chain.ts) and the mistake records of the catalogue (mutations.ts), which say at which step
// each is tried and how (MistakeKind.tried); it knows no mistake by name. At the output it tries
// every output formula × every derivative; at each hidden layer every way of forming dA × every
// derivative (the right one, then the records' variants); and for each candidate dZ it asks
// whether the layer's dW and db follow from it with the right formula or with the records'
// variants of its steps: dW = k·(s·dZ·Sᵀ + β·P(W)), db = k·s·Σ dZ, with the records' fitted
// parameters estimated from the tensors. A mistake at the output changes every earlier layer, so
// each surviving candidate keeps its mutated dZ while the search moves back. Candidates are
// compared with the tested gradients, never with finite differences, so the search costs a few
// matrix products per candidate.
//
// An entry of another kind (conv2d, pooling, normalisation, dropout, flatten, activation) is
// explained by its record: its parameters' gradients from its own backward with the right scale,
// or from one of its kind's mistaken backwards (layer-mistakes.ts). A mistake that leaves the
// entry's own gradients as they are (a pooling entry has none) changes only the dA it passes
// down, so it is tried, like a wrong W_{l+1}ᵀ, as one of the ways the layer below receives its dA.
//
// The cheapest explanation wins: each mutation costs 1, a fitted one slightly more (it has a
// free parameter); a small beam keeps the runners-up, because the cheapest choice at one layer
// can make the layers below it expensive.
import { entryGradients } from '../backprop.js';
import { biasGradient, weightGradient } from '../layers/dense.js';
import { entryWork, typeOf } from '../layers/index.js';
import { Random } from '../random.js';
import type { Grads, ParamRef } from '../model.js';
import type { Tensor } from '../tensor.js';
import {
  correctChain, incomingGradient, inputMatrix, layerValues, outputDelta, outputValues, penaltyTerm,
  throughActivation, transposed, type Chain, type LayerSteps, type Net, type PenaltyForm,
} from './chain.js';
import { combination, dot, MATCH, matches } from './fit.js';
import { rightOutputForms } from './forms.js';
import { layerMistakesAt } from './layer-mistakes.js';
import { outputSource, recoverAt, sourcesAt, type LayerFit } from './recover.js';
import { kindsAt, MISTAKE_KINDS, variantsAt, type Evidence, type MistakeKind, type Mutation, type Slot } from './mutations.js';

export { MATCH } from './fit.js';
const BEAM = 4;
/**
 * An entry without parameters (pooling, flatten, dropout, activation) has nothing to compare, so
 * every hypothesis within the slack explains it alike: the beam carries them all (up to this many)
 * to the next layer that has tensors to tell them apart.
 */
const WIDE_BEAM = 64;
/** How much costlier than the best a kept alternative may be. */
const SLACK = 1.2;
const COST = 1;
/** A fitted factor or penalty weight has a free parameter, so it ranks after a fixed mistake. */
const FITTED = 1.1;
/** Multiply-adds the search may spend before it gives up on the layers left. */
const BUDGET = 3e8;

export interface Fingerprint {
  mutations: Mutation[];
  /** Tensors nothing in the catalogue reproduces. */
  unexplained: ParamRef[];
  /** The layer where the search lost the chain (its dZ could not be reproduced), if it did. */
  stalledAt: number | null;
  /** True when the search ran out of its work budget (a very large network). */
  exhausted: boolean;
}

interface Entry {
  cost: number;
  dZ: Tensor;
  /** The dA this dZ was made from (dZ = dA ⊙ g'), when it was made so: what recover.ts passes down in its stead. */
  dA?: Tensor;
  mutations: Mutation[];
  unexplained: ParamRef[];
  /** The layer kind's mistaken backward this layer was explained with: the dA below is its. */
  record?: Mutation;
  /** The kind's mistakes that change only the dA below (tried as ways the layer below receives it). */
  deferred?: Mutation[];
}

interface Explanation {
  cost: number;
  mutations: Mutation[];
  /** A factor on dZ itself, which the layers below inherit. */
  deltaScale?: number;
  /** dW could not be reproduced (but db could, so the chain goes on). */
  weightUnexplained?: boolean;
  record?: Mutation;
  deferred?: Mutation[];
}

/** A way dW or db follows from dZ: the mutations it takes, and the 1/m (and, for db, the sum) it uses. */
interface Reading {
  cost: number;
  mutations: Mutation[];
  s: number;
}

/** A db reading also says whether db sums dZ over every unit (all) or over the samples, and whether it sums dA instead. */
interface BiasReading extends Reading {
  all: boolean;
  fromA: boolean;
}

/**
 * The mistakes of `kinds` (the catalogue's, by default) that reproduce `tested`, searched from the
 * output back within `budget` multiply-adds.
 */
export function fingerprint(net: Net, tested: Grads, budget = BUDGET, kinds: MistakeKind[] = MISTAKE_KINDS): Fingerprint {
  return new Search(net, tested, budget, kinds).run();
}

class Search {
  private work = 0;
  private exhausted = false;
  private readonly right: Chain;

  constructor(private readonly net: Net, private readonly tested: Grads, private readonly budget: number, private readonly kinds: MistakeKind[]) {
    this.right = correctChain(net);
  }

  private kindsAt(slot: Slot, l: number): MistakeKind[] {
    return kindsAt(slot, this.net, l, this.kinds);
  }

  private variantsAt(slot: Slot, l: number): Mutation[] {
    return variantsAt(slot, this.net, l, this.kinds);
  }

  /** The fixed variants of one kind at layer l. */
  private variantsOf(kind: MistakeKind, l: number): Mutation[] {
    return (kind.tried!.variants?.(this.net, l) ?? []).map((detail) => ({ kind, layer: l, detail }));
  }

  /** The right chain with layer l's steps replaced by a copy of the right ones, and that copy. */
  private copyAt(l: number): { chain: Chain; steps: LayerSteps } {
    const right = this.right.layers[l];
    const steps: LayerSteps = { ...right, dW: { ...right.dW }, db: { ...right.db } };
    const layers = [...this.right.layers];
    layers[l] = steps;
    return { chain: { output: { ...this.right.output }, layers }, steps };
  }

  /** Layer l's right steps with the mutations applied (each a mutation at layer l). */
  private steps(l: number, mutations: Mutation[]): LayerSteps {
    const { chain, steps } = this.copyAt(l);
    for (const m of mutations) m.kind.apply(chain, m);
    return steps;
  }

  /** Mutations of the fitted details a slot's kinds return for the evidence. */
  private fitted(slot: Slot, l: number, evidence: Omit<Evidence, 'net' | 'l'>): Mutation[] {
    return this.kindsAt(slot, l).flatMap((kind) =>
      (kind.tried!.fit?.({ net: this.net, l, ...evidence }) ?? []).map((detail) => ({ kind, layer: l, detail })));
  }

  /** The scales dW and db may use at layer l: the right one first, then the slot's variants. */
  private scales(l: number): LayerSteps[] {
    return [this.right.layers[l], ...this.variantsAt('scale', l).map((m) => this.steps(l, [m]))];
  }

  run(): Fingerprint {
    const L = this.net.model.layers.length;
    const exhausted = () => this.exhausted;
    let beam = this.advance(L - 1, this.outputCandidates());
    // Where the catalogue finds nothing, the formula the code used is recovered from the layer's own tensors.
    if (beam.length === 0) beam = this.advance(L - 1, this.recovered(L - 1, null));
    if (beam.length === 0) return { mutations: [], unexplained: this.allTensors(L - 1), stalledAt: L - 1, exhausted: exhausted() };
    for (let l = L - 2; l >= 0; l--) {
      let next = this.advance(l, this.hiddenCandidates(l, beam));
      if (next.length === 0) next = this.advance(l, this.recovered(l, beam));
      if (next.length === 0) {
        const best = beam[0];
        return { mutations: best.mutations, unexplained: [...best.unexplained, ...this.allTensors(l)], stalledAt: l, exhausted: exhausted() };
      }
      beam = next;
    }
    return { mutations: beam[0].mutations, unexplained: beam[0].unexplained, stalledAt: null, exhausted: exhausted() };
  }

  private allTensors(from: number): ParamRef[] {
    const out: ParamRef[] = [];
    for (let l = from; l >= 0; l--) {
      if (typeOf(this.net.model.layers[l]) !== 'dense') {
        for (const name of Object.keys(this.tested[l])) out.push({ layer: l, name });
        continue;
      }
      out.push({ layer: l, name: 'W' });
      if (this.net.params[l].b) out.push({ layer: l, name: 'b' });
    }
    return out;
  }

  /** The derivative factors worth trying at a layer: the true one (null) first, then distinct wrong ones. */
  private derivatives(l: number): { values: Float64Array | null; mutation: Mutation | null }[] {
    const g = this.net.model.layers[l].activation;
    const out: { values: Float64Array | null; mutation: Mutation | null }[] = [{ values: null, mutation: null }];
    // A per-element factor can equal the true backprop only where the Jacobian is diagonal.
    const truth = g.diagonal ? layerValues(this.net, l, (z, a) => g.derivative(z, a)) : null;
    for (const mutation of this.variantsAt('derivative', l)) {
      const values = mutation.detail.values!;
      if (!values.every(Number.isFinite)) continue;
      // A form that equals the truth on this data is not a mistake here; one that equals an
      // earlier form is the same hypothesis, named as its alias.
      if (truth && matches(values, truth)) continue;
      const twin = out.find((o) => o.values && matches(values, o.values));
      if (twin) {
        const aliases = (twin.mutation!.detail.aliases ??= []);
        if (aliases.length < 3) aliases.push(`${mutation.detail.text} (${mutation.detail.label})`);
        continue;
      }
      out.push({ values, mutation });
    }
    return out;
  }

  private outputCandidates(): Entry[] {
    const net = this.net;
    const L = net.model.layers.length;
    const layer = net.model.layers[L - 1];
    const truth = outputValues(net, (_z, a, y) => net.model.loss.gradient(a, y));
    const derivatives = this.derivatives(L - 1);
    const out: Entry[] = [];
    // The right formulas first, then every catalogued wrong one (candidates are sorted by cost, stably).
    const forms = [
      ...rightOutputForms(layer.activation, net.model.loss).map((form) => ({ kind: form.kind, values: outputValues(net, form.fn), mutation: null })),
      ...this.variantsAt('output', L - 1).map((mutation) => ({ kind: mutation.detail.outputKind!, values: mutation.detail.values!, mutation })),
    ];
    for (const { kind, values, mutation } of forms) {
      if (values.some((v, i) => !Number.isFinite(v) && Number.isFinite(truth[i]))) continue;
      const base = mutation ? COST : 0;
      const mutations = mutation ? [mutation] : [];
      if (kind === 'delta') {
        out.push({ cost: base, dZ: outputDelta(net, { kind: 'delta', values }, null), mutations, unexplained: [] });
        continue;
      }
      const dA = { shape: [layer.units, net.m], data: values };
      for (const d of derivatives) {
        out.push({
          cost: base + (d.mutation ? COST : 0),
          dZ: outputDelta(net, { kind: 'gradient', values }, d.values),
          dA,
          mutations: d.mutation ? [...mutations, d.mutation] : mutations,
          unexplained: [],
        });
      }
    }
    return out;
  }

  private hiddenCandidates(l: number, beam: Entry[]): Entry[] {
    const derivatives = this.derivatives(l);
    // dA = the next entry's backward of dZ_{l+1} (W_{l+1}ᵀ·dZ_{l+1}; no mistake, or the kind's
    // mistake it was explained with), then the catalogued wrong ways of forming it.
    const variants = this.variantsAt('incoming', l);
    const out: Entry[] = [];
    for (const entry of beam) {
      const hops: (Mutation | null)[] = [null, ...variants, ...(entry.deferred ?? [])];
      for (const hop of hops) {
        const mistake = hop ? hop.detail.mistake : entry.record?.detail.mistake;
        const dA = incomingGradient(this.net, l, entry.dZ, hop?.detail.incoming ?? 'transpose', mistake);
        for (const d of derivatives) {
          out.push({
            cost: entry.cost + (hop ? COST : 0) + (d.mutation ? COST : 0),
            dZ: throughActivation(this.net, l, dA, d.values),
            dA,
            mutations: [...entry.mutations, ...(hop ? [hop] : []), ...(d.mutation ? [d.mutation] : [])],
            unexplained: entry.unexplained,
          });
        }
      }
    }
    return out;
  }

  /**
   * The dZ of a dense layer l recovered from its own tensors (recover.ts), for each entry of the
   * beam above (null: l is the output layer, whose dA is ∂L/∂a): the search's last resort at a
   * layer, so it costs nothing where the catalogue explains the layer.
   */
  private recovered(l: number, beam: Entry[] | null): Entry[] {
    const net = this.net;
    if (typeOf(net.model.layers[l]) !== 'dense' || this.exhausted) return [];
    const space = this.space(l);
    const { dW } = this.right.layers[l];
    const fit: LayerFit = {
      term: (dZ) => this.term(l, dZ, net.fwd.A[l], false),
      T: space.T,
      penalty: dW.beta !== 0 ? combination(space.penalty.W, dW.beta, null, 0) : null,
      tb: this.tested[l].b?.data ?? null,
      scales: scalePairs(this.scales(l)),
    };
    const skip = this.variantsAt('incoming', l).find((m) => m.detail.incoming === 'skip') ?? null;
    // The two best hypotheses above are enough: each costs a library's worth of products.
    const from = beam?.slice(0, 2) ?? [{ cost: 0, dZ: outputSource(net).dA, mutations: [], unexplained: [] } as Entry];
    const out: Entry[] = [];
    for (const entry of from) {
      const sources = beam === null ? [outputSource(net)]
        : sourcesAt(net, l, { dZ: entry.dZ, ...(entry.dA ? { dA: entry.dA } : {}), ...(entry.record ? { mistake: entry.record.detail.mistake } : {}) }, skip, this.tested[l + 1]?.W ?? null, fit, this.tested[l + 1]?.b ?? null);
      for (const r of recoverAt(net, l, sources, fit)) {
        out.push({ cost: entry.cost + FITTED * r.mutations.length, dZ: r.dZ, mutations: [...entry.mutations, ...r.mutations], unexplained: entry.unexplained });
      }
    }
    return out;
  }

  /** Explains layer l for each candidate dZ (cheapest first) and keeps the best few. */
  private advance(l: number, candidates: Entry[]): Entry[] {
    candidates.sort((x, y) => x.cost - y.cost);
    const kept: Entry[] = [];
    let best = Infinity;
    const fallback: Entry[] = [];
    const tried = new Seen();
    for (const cand of candidates) {
      if (cand.cost > best + SLACK || this.exhausted) break;
      // The same dZ reached another way, more cheaply, has been explained (or not) already.
      if (tried.has(cand.dZ)) continue;
      tried.add(cand.dZ);
      // A dZ this layer's own mistakes made, which its dW contradicts, is not the code's: only db
      // would back it, and a mistake is named only where it reproduces every tensor of its layer.
      const ownMistake = cand.mutations.some((m) => m.layer === l);
      for (const e of this.explain(l, cand.dZ, cand.dA)) {
        const entry: Entry = {
          cost: cand.cost + e.cost,
          dZ: e.deltaScale !== undefined ? scaled(cand.dZ, e.deltaScale) : cand.dZ,
          ...(cand.dA && e.deltaScale === undefined ? { dA: cand.dA } : {}),
          mutations: [...cand.mutations, ...e.mutations],
          unexplained: e.weightUnexplained ? [...cand.unexplained, { layer: l, name: 'W' }] : cand.unexplained,
          ...(e.record ? { record: e.record } : {}),
          ...(e.deferred ? { deferred: e.deferred } : {}),
        };
        if (e.weightUnexplained) { if (!ownMistake) fallback.push(entry); continue; }
        kept.push(entry);
        best = Math.min(best, entry.cost);
      }
    }
    const pool = kept.length > 0 ? kept : fallback;
    pool.sort((x, y) => x.cost - y.cost);
    const beam: Entry[] = [];
    const width = Object.keys(this.tested[l]).length > 0 ? BEAM : WIDE_BEAM;
    for (const e of pool) {
      if (beam.length >= width || e.cost > pool[0].cost + SLACK) break;
      // The same dZ is the same hypothesis unless the dA below differs (another mistaken backward).
      if (!beam.some((b) => b.record?.detail.mistake === e.record?.detail.mistake && matches(b.dZ.data, e.dZ.data))) beam.push(e);
    }
    return beam;
  }

  /** The ways layer l's dW and db follow from dZ, cheapest first (none: dZ is not the code's). */
  private explain(l: number, dZ: Tensor, dA?: Tensor): Explanation[] {
    if (typeOf(this.net.model.layers[l]) !== 'dense') return this.explainRecord(l, dZ);
    const net = this.net;
    const tb = this.tested[l].b?.data ?? null;
    // Σ_samples dZ, per unit (explainBias sums dA too where a db summed before g' reads it).
    const q = tb ? biasGradient(dZ, 1).data : null;
    const biases = tb ? this.explainBias(l, q!, tb, dA) : [{ cost: 0, mutations: [], s: net.s, all: false, fromA: false }];
    if (biases.length === 0) return [];
    const space = this.space(l);
    const right = this.term(l, dZ, net.fwd.A[l], false);
    const weights = this.explainWeights(l, right, dZ);
    const out: Explanation[] = [];
    for (const w of weights) {
      for (const b of biases) out.push(this.combine(l, w, b));
    }
    const bias = tb ? { target: tb, sums: q! } : null;
    const candidate = combination(right, net.s, null, 0);
    for (const mutation of this.fitted('delta-factor', l, { tensor: 'dW', target: space.T, candidate, penalty: space.penalty, explained: false, bias })) {
      out.push({ cost: FITTED, mutations: [mutation], deltaScale: this.steps(l, [mutation]).deltaScale });
    }
    if (out.length === 0 && tb) out.push({ cost: 3 * COST, mutations: [], weightUnexplained: true });
    return out.sort((x, y) => x.cost - y.cost);
  }

  /**
   * An entry of another kind: its parameters' gradients from its record's backward with the right
   * scales (backprop.ts entryGradients), or from one of its kind's mistaken backwards. A mistake
   * that gives the same gradients here (every one, for an entry without parameters) is deferred to
   * the layer below, where the dA it passes down tells it apart.
   */
  private explainRecord(l: number, dZ: Tensor): Explanation[] {
    const net = this.net;
    const tested = this.tested[l];
    const names = Object.keys(tested);
    const gradients = (mistake?: string) => {
      this.spend(entryWork(net.model.layers[l]) * net.m);
      return entryGradients(net, l, dZ, mistake === undefined ? this.right.layers[l] : { ...this.right.layers[l], mistake });
    };
    const right = names.length > 0 ? gradients() : {};
    const agree = (g: Record<string, Tensor>, with_: Record<string, Tensor>) => names.every((n) => g[n] !== undefined && matches(with_[n].data, g[n].data));
    const out: Explanation[] = [];
    const deferred: Mutation[] = [];
    for (const mutation of layerMistakesAt(net, l)) {
      if (names.length === 0) { deferred.push(mutation); continue; }
      const g = gradients(mutation.detail.mistake);
      if (agree(g, right)) deferred.push(mutation);
      else if (agree(g, tested)) out.push({ cost: COST, mutations: [mutation], record: mutation });
    }
    if (agree(right, tested)) out.unshift({ cost: 0, mutations: [], deferred });
    else {
      // The 1/m of the entry's parameter gradients left out or doubled (the kinds that take it: a conv2d's dW and db).
      for (const mutation of this.variantsAt('scale', l)) {
        const steps = this.steps(l, [mutation]);
        this.spend(entryWork(net.model.layers[l]) * net.m);
        if (agree(entryGradients(net, l, dZ, steps), tested)) out.push({ cost: COST, mutations: [mutation], deferred });
      }
    }
    return out;
  }

  /**
   * One dW reading and one db reading, and the mistakes their 1/m and sum choices are, as the
   * scale and bias-form kinds name them (in order, each seeing what the earlier ones named).
   */
  private combine(l: number, w: Reading, b: BiasReading): Explanation {
    const mutations = [...w.mutations, ...b.mutations];
    let cost = w.cost + b.cost;
    const found = this.steps(l, []);
    found.dW.s = w.s;
    found.db.s = b.s;
    found.db.all = b.all;
    found.db.fromA = b.fromA;
    const { chain, steps: named } = this.copyAt(l);
    for (const kind of this.kinds) {
      const detail = kind.tried?.name && kind.appliesTo(this.net, l) ? kind.tried.name(found, named, this.net, l) : null;
      if (!detail) continue;
      const mutation: Mutation = { kind, layer: l, detail };
      mutations.push(mutation);
      cost += COST;
      kind.apply(chain, mutation);
    }
    return { cost, mutations };
  }

  /** The readings of db = k·s·Σ dZ: each sum form × each scale, then the fitted ones. */
  private explainBias(l: number, q: Float64Array, tb: Float64Array, dA: Tensor | undefined): BiasReading[] {
    const s0 = this.net.s;
    const scales = this.scales(l);
    const out: BiasReading[] = [];
    // Σ_samples dA, only for a bias form that reads it.
    let qA: Float64Array | null | undefined;
    for (const form of [this.right.layers[l], ...this.variantsAt('bias-form', l).map((m) => this.steps(l, [m]))]) {
      const fromA = form.db.fromA ?? false;
      if (fromA && qA === undefined) qA = dA ? biasGradient(dA, 1).data : null;
      const sums = fromA ? qA : q;
      if (!sums) continue;
      let total = 0;
      for (const v of sums) total += v;
      const base = form.db.all ? new Float64Array(sums.length).fill(total) : sums;
      for (const { db: { s } } of scales) if (matches(tb, combination(base, s, null, 0))) out.push({ cost: 0, mutations: [], s, all: form.db.all, fromA });
    }
    // A fitted mutation accounts for the steps it changes: the 1/m and sum left to name are the right ones.
    for (const mutation of this.fitted('factor', l, { tensor: 'db', target: tb, candidate: combination(q, s0, null, 0), penalty: this.space(l).penalty, explained: out.length > 0, bias: null })) {
      out.push({ cost: FITTED, mutations: [mutation], s: s0, all: false, fromA: false });
    }
    return out;
  }

  /**
   * The readings of dW = k·(s·dZ·Sᵀ + β·P(W)): each combination of the weight-source variants ×
   * each scale × each penalty term, stopping at the right formula when it fits; then the fitted factors.
   */
  private explainWeights(l: number, right: Float64Array, dZ: Tensor): Reading[] {
    const net = this.net;
    const { T, penalty } = this.space(l);
    const out: Reading[] = [];
    const sCost = (s: number) => (s === net.s ? 0 : COST);
    const sorted = () => out.sort((x, y) => x.cost + sCost(x.s) - (y.cost + sCost(y.s)));
    // The right source first; every kind's variants combine with the earlier kinds' choices.
    let sources: Mutation[][] = [[]];
    for (const kind of this.kindsAt('weight-source', l)) {
      const variants = this.variantsOf(kind, l);
      sources = sources.flatMap((base) => [base, ...variants.map((m) => [...base, m])]);
    }
    const scales = this.scales(l);
    for (const base of sources) {
      const { dW } = this.steps(l, base);
      const data = base.length === 0 ? right : this.term(l, dZ, inputMatrix(net, dW.input), dW.transposed);
      const baseCost = base.length * COST;
      for (const { dW: { s } } of scales) {
        for (const p of this.penalties(l, combination(data, s, null, 0))) {
          out.push({ cost: baseCost + p.cost, mutations: [...base, ...p.mutations], s });
        }
        if (out.some((o) => o.cost + sCost(o.s) === 0)) return sorted();
      }
    }
    // A constant factor on the whole tensor (penalty included).
    const { dW } = this.right.layers[l];
    const candidate = combination(right, dW.s, dW.beta !== 0 ? penalty[dW.penalty] : null, dW.beta);
    for (const mutation of this.fitted('factor', l, { tensor: 'dW', target: T, candidate, penalty, explained: out.length > 0, bias: null })) {
      out.push({ cost: FITTED, mutations: [mutation], s: net.s });
    }
    return sorted();
  }

  /** The penalty terms that turn the data part into T: the right one, then the penalty kinds' variants and fits. */
  private penalties(l: number, data: Float64Array): { cost: number; mutations: Mutation[] }[] {
    const { T, penalty } = this.space(l);
    const withPenalty = ({ dW }: LayerSteps) => (dW.beta !== 0 ? combination(data, 1, penalty[dW.penalty], dW.beta) : data);
    const out: { cost: number; mutations: Mutation[] }[] = [];
    if (matches(T, withPenalty(this.right.layers[l]))) out.push({ cost: 0, mutations: [] });
    for (const kind of this.kindsAt('penalty', l)) {
      for (const mutation of this.variantsOf(kind, l)) {
        if (matches(T, withPenalty(this.steps(l, [mutation])))) out.push({ cost: COST, mutations: [mutation] });
      }
      for (const detail of kind.tried!.fit?.({ net: this.net, l, tensor: 'dW', target: T, candidate: data, penalty, explained: out.length > 0, bias: null }) ?? []) {
        out.push({ cost: FITTED, mutations: [{ kind, layer: l, detail }] });
      }
    }
    return out;
  }

  // ---- where dW candidates are compared ----
  //
  // For a small layer the whole of dW is compared. For a large one every candidate and the tested
  // dW are multiplied by the same seeded random matrix V (inputs × PROBES) first: dZ·Sᵀ·V costs
  // m·(inputs + units)·PROBES instead of units·inputs·m, and the least-squares fits (k, β) are
  // linear, so they carry over. Agreement of the projections is necessary for agreement of the
  // tensors; the reconstruction as a whole is then verified on the full tensors (diagnose checks
  // reproducedTo), so a projection can never make a wrong claim.

  private readonly spaces = new Map<number, WeightSpace>();

  private space(l: number): WeightSpace {
    let space = this.spaces.get(l);
    if (!space) {
      const W = this.net.params[l].W;
      const big = W.shape[0] * W.shape[1] * this.net.m > PROJECT_ABOVE && W.shape[1] > PROBES;
      const V = big ? probes(W.shape[1], l) : null;
      const project = (M: Float64Array) => (V ? times(M, W.shape[0], W.shape[1], V) : M);
      space = {
        V,
        T: project(this.tested[l].W.data),
        penalty: { W: project(W.data), sum: project(penaltyTerm(W, 'sum')), sign: project(penaltyTerm(W, 'sign')) },
      };
      this.spaces.set(l, space);
    }
    return space;
  }

  /** dZ·Sᵀ (or its transpose, for a square layer), projected when the layer is large. */
  private term(l: number, dZ: Tensor, S: Tensor, flip: boolean): Float64Array {
    const { V } = this.space(l);
    const m = dZ.shape[1], units = dZ.shape[0], inputs = S.shape[0];
    if (!V) {
      this.spend(units * inputs * m);
      const P = weightGradient(dZ, S, 1);
      return flip ? transposed(P).data : P.data;
    }
    this.spend(m * (units + inputs) * PROBES);
    // (dZ·Sᵀ)·V = dZ·(Sᵀ·V); (dZ·Sᵀ)ᵀ·V = S·(dZᵀ·V) (square: units = inputs).
    const [left, right] = flip ? [S, dZ] : [dZ, S];
    const Q = new Float64Array(m * PROBES);
    const n = right.shape[0];
    for (let k = 0; k < n; k++) {
      for (let c = 0; c < m; c++) {
        const r = right.data[k * m + c];
        if (r === 0) continue;
        for (let j = 0; j < PROBES; j++) Q[c * PROBES + j] += r * V[k * PROBES + j];
      }
    }
    return times(left.data, left.shape[0], m, Q);
  }

  private spend(work: number): void {
    this.work += work;
    if (this.work > this.budget) this.exhausted = true;
  }
}

interface WeightSpace {
  /** The probe matrix V (inputs × PROBES), or null when whole tensors are compared. */
  V: Float64Array | null;
  T: Float64Array;
  penalty: Record<PenaltyForm, Float64Array>;
}

/** Layers with more than this many multiply-adds per dZ·Aᵀ are compared through probes. */
const PROJECT_ABOVE = 2e5;
const PROBES = 8;

/** A seeded standard-normal matrix rows × PROBES (the same on every run). */
function probes(rows: number, layer: number): Float64Array {
  const rng = new Random(9001 + layer);
  const V = new Float64Array(rows * PROBES);
  for (let i = 0; i < V.length; i++) V[i] = rng.normal();
  return V;
}

/** M (rows × inner, row-major) times V (inner × PROBES). */
function times(M: Float64Array, rows: number, inner: number, V: Float64Array): Float64Array {
  const out = new Float64Array(rows * PROBES);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < inner; k++) {
      const a = M[i * inner + k];
      if (a === 0) continue;
      for (let j = 0; j < PROBES; j++) out[i * PROBES + j] += a * V[k * PROBES + j];
    }
  }
  return out;
}

/** Every dW scale × every db scale of the layer's readings, the right pair first (explain names each apart). */
function scalePairs(scales: LayerSteps[]): { w: number; b: number }[] {
  const ws = [...new Set(scales.map((st) => st.dW.s))], bs = [...new Set(scales.map((st) => st.db.s))];
  return ws.flatMap((w) => bs.map((b) => ({ w, b })));
}

function scaled(M: Tensor, k: number): Tensor {
  return { shape: M.shape, data: combination(M.data, k, null, 0) };
}

/**
 * Deltas already tried. A fixed random projection rules most pairs out before a full comparison:
 * |⟨x − y, w⟩| ≤ ‖x − y‖·‖w‖, so a match needs |⟨x, w⟩ − ⟨y, w⟩| ≤ MATCH·(‖x‖ + ‖y‖)·‖w‖.
 */
class Seen {
  private readonly items: { sig: number; norm: number; data: Float64Array }[] = [];
  private w: Float64Array | null = null;
  private wNorm = 0;

  private signature(data: Float64Array): { sig: number; norm: number } {
    if (!this.w || this.w.length !== data.length) {
      this.w = new Float64Array(data.length);
      let state = 12345;
      for (let i = 0; i < data.length; i++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        this.w[i] = state / 2147483648 - 1;
      }
      this.wNorm = Math.sqrt(dot(this.w, this.w));
    }
    return { sig: dot(data, this.w), norm: Math.sqrt(dot(data, data)) };
  }

  has(M: Tensor): boolean {
    const { sig, norm } = this.signature(M.data);
    return this.items.some((x) =>
      Math.abs(x.sig - sig) <= MATCH * (x.norm + norm) * this.wNorm * (1 + 1e-9) && matches(x.data, M.data));
  }

  add(M: Tensor): void {
    this.items.push({ ...this.signature(M.data), data: M.data });
  }
}
