// The catalogue of backprop mistakes: one small record per mistake, saying which finding code it
// is, at which layers it can be made, how it changes the backward chain, how the fingerprint
// search tries it (the variants it enumerates, or how its parameter is estimated from the
// tensors), and how to tell the user about it (with the numbers). The search iterates these
// records and knows none by name, so adding a mistake touches this file alone. The search and
// the formula analysis both produce Mutations of these kinds; the findings are written from them.
import { fmt, layersText } from '../format.js';
import { typeOf } from '../layers/index.js';
import { paramLabel } from '../model.js';
import type { Finding } from '../report.js';
import { correctChain, deltas, incomingApplies, incomingGradient, layerValues, outputDelta, outputValues, type Chain, type Incoming, type InputRef, type LayerSteps, type Net, type PenaltyForm } from './chain.js';
import { combination, dot, fittedFactor, matches, MATCH } from './fit.js';
import type { FindingCode } from '../findings/registry.js';
import { deltaText, derivativeForms, derivativeText, outputForms, trueDelta } from './forms.js';
import { dAPrevLine, dbLine, declaredFix, dWLine, layerArrays, numpyOf, penaltyTerm, perLayer, softmaxLine } from './numpy.js';
import { RECOVERED_KINDS } from './recover.js';

/** The facts of one mistake at one layer. */
export interface Detail {
  /** The formula the code uses (as declared, or as reconstructed) and what it is. */
  text?: string;
  label?: string;
  /** For a derivative: the activation whose derivative the formula is. */
  of?: string;
  /** The per-element values the code uses: a derivative factor, or the output gradient/delta. */
  values?: Float64Array;
  outputKind?: 'gradient' | 'delta';
  /** Where in net.json the formula is, for declared mistakes. */
  declaredAt?: string;
  k?: number;
  s?: number;
  beta?: number;
  penalty?: PenaltyForm;
  input?: InputRef;
  incoming?: Incoming;
  /** Which tensors a reduction mistake or a constant factor touches. */
  which?: 'dW' | 'db' | 'both';
  all?: boolean;
  /** db summed from dA, the gradient before the derivative, instead of from dZ. */
  fromA?: boolean;
  /** Other formulas that give the same numbers on this data. */
  aliases?: string[];
  /** A layer kind's mistaken backward (its `mistakes` id, layer-mistakes.ts). */
  mistake?: string;
}

export interface Mutation {
  kind: MistakeKind;
  /** 0-based: the layer whose gradients the mistake changes first. */
  layer: number;
  detail: Detail;
}

export interface DescribeContext {
  net: Net;
  /** True when the mistakes were read from net.json's backward block. */
  declared: boolean;
  /** How closely the reconstruction reproduces the gradients under test, when it was verified. */
  reproducedTo?: number;
}

export type Text = Pick<Finding, 'message' | 'fix' | 'evidence'>;

export interface MistakeKind {
  id: string;
  code: FindingCode;
  /** Whether the mistake can be made at layer l (0-based) of this network at all. */
  appliesTo(net: Net, l: number): boolean;
  /** Makes the chain compute what the mistaken code computes. */
  apply(chain: Chain, m: Mutation): void;
  /**
   * The layers whose gradients the mistake changes first (absent: its own): how large its effect
   * is is measured there. A layer kind's mistaken backward changes its own layer and every one below.
   */
  effectLayers?(m: Mutation): number[];
  /** Mutations with equal keys at several layers are reported as one finding. */
  key(m: Mutation): string;
  /** The tensor a finding of this mistake at one layer is about ("W2", "b1"), when it is about one. */
  param?(m: Mutation): string | undefined;
  describe(group: Mutation[], ctx: DescribeContext): Text;
  /** How the fingerprint search tries the mistake (a kind without it is only declared or replayed). */
  tried?: Trial;
}

/**
 * Where in the chain (chain.ts's LayerSteps) the search tries a kind, and how. The kinds of one slot
 * are tried in the order of the list the search is given (MISTAKE_KINDS), each at the layers it
 * applies to; every slot is explained where fingerprint.ts visits it:
 *   output, derivative, incoming: how dZ is formed (the output gradient or delta, a layer's
 *     derivative factor, the dA a layer receives); every variant is a candidate dZ.
 *   weight-source: the product dZ·Sᵀ of dW (which S, transposed or not); the variants of the
 *     kinds of this slot are combined with one another.
 *   scale: the 1/m of dW and db; bias-form: how db sums dZ. These are chosen for dW and db
 *     separately, then `name` says which mistakes the choices are (one 1/m missing from both is one
 *     mistake).
 *   penalty: the L2 term of dW; factor: a constant factor on the whole of dW or db; delta-factor:
 *     a factor on dZ itself, which the layers below inherit.
 */
export interface Trial {
  slot: Slot;
  /**
   * Fixed variants at layer l, most plausible first. The search applies each to the right steps
   * (MistakeKind.apply) and compares what the steps compute; one costs one mistake.
   */
  variants?(net: Net, l: number): Detail[];
  /**
   * A fitted variant: its parameter estimated from the tensors (k = ⟨t, c⟩/⟨c, c⟩, …). Returns the
   * details that reproduce the evidence; each costs a little more than a fixed mistake (it has a free
   * parameter).
   */
  fit?(e: Evidence): Detail[];
  /** For scale and bias-form: the mistake in the steps found, given the steps earlier kinds named (null: none). */
  name?(found: LayerSteps, named: LayerSteps, net: Net, l: number): Detail | null;
}

export type Slot = 'output' | 'derivative' | 'incoming' | 'weight-source' | 'scale' | 'bias-form' | 'penalty' | 'factor' | 'delta-factor';

/** What a fitted kind is fitted to at layer l. dW-sized arrays are projected alike (fingerprint.ts). */
export interface Evidence {
  net: Net;
  l: number;
  /** The tensor the fit is about: dW (a factor on dZ is estimated on dW, then checked on db) or db. */
  tensor: 'dW' | 'db';
  /** The tested tensor. */
  target: Float64Array;
  /**
   * What the code computes up to the step the kind changes: for a penalty, s·dZ·Sᵀ; for a factor,
   * the whole right formula; for a factor on dZ, s·dZ·Aᵀ.
   */
  candidate: Float64Array;
  /** P(W) of every penalty form. */
  penalty: Record<PenaltyForm, Float64Array>;
  /** Whether an earlier variant of this slot already reproduces the target. */
  explained: boolean;
  /** The tested db and Σ_samples dZ (per unit), when the layer has a bias and the fit must agree with it. */
  bias: { target: Float64Array; sums: Float64Array } | null;
}

// ---- wording helpers ------------------------------------------------------------------------

export { fmt, layersText };


const names = (tensor: string, layers: number[]) => layers.map((l) => `${tensor}${l + 1}`).join(', ');
const weight = (m: Mutation) => paramLabel({ layer: m.layer, name: 'W' });
const bias = (m: Mutation) => paramLabel({ layer: m.layer, name: 'b' });
const layerNumbers = (group: Mutation[]) => group.map((m) => m.layer + 1);
const sameKey = (id: string) => (m: Mutation) => `${id}|${m.detail.text ?? ''}`;

function inputName(ref: InputRef, l: number): string {
  if (ref.kind === 'Z') return `Z${ref.index + 1} (the pre-activation of layer ${ref.index + 1})`;
  if (ref.index === 0) return 'X (the input data)';
  if (ref.index === l + 1) return `A${ref.index} (the layer's own output)`;
  return `A${ref.index} (the output of layer ${ref.index})`;
}

/** How the penalty gradient is written for this spec: λ/m·W, λ·W or 2c·W. */
function penaltyText(net: Net): string {
  const l2 = net.model.l2;
  if (l2.kind === 'lambda') return net.model.reduction === 'mean' ? `λ/m·W (λ = ${fmt(l2.lambda)}, m = ${net.m})` : `λ·W (λ = ${fmt(l2.lambda)})`;
  return `2c·W (c = ${l2.kind === 'coefficient' ? fmt(l2.coefficient) : 0})`;
}

/** Mean of a per-element factor and the element where it is furthest from the truth. */
function compareFactor(used: Float64Array, truth: Float64Array) {
  let meanUsed = 0, meanTrue = 0, worst = 0, at = 0;
  for (let i = 0; i < used.length; i++) {
    meanUsed += used[i];
    meanTrue += truth[i];
    const d = Math.abs(used[i] - truth[i]);
    if (d > worst || Number.isNaN(d)) { worst = d; at = i; }
  }
  return { meanUsed: meanUsed / used.length, meanTrue: meanTrue / used.length, worst, at };
}

function trueDerivativeValues(net: Net, l: number): Float64Array {
  const g = net.model.layers[l].activation;
  // Softmax: the diagonal of its Jacobian stands in for "the" derivative in the numbers.
  return layerValues(net, l, (z, a) => g.derivative(z, a));
}

// ---- the records ----------------------------------------------------------------------------

const always = () => true;

/**
 * The dense entry's steps (its dW from dZ·Sᵀ with the 1/m, the penalty and a factor, its db, the
 * dZ factor) are hooks of the dense record only; other kinds' parameter gradients come from their
 * own backward (and their own mistakes, layer-mistakes.ts).
 */
const isDense = (net: Net, l: number) => typeOf(net.model.layers[l]) === 'dense';

/** An entry that applies an activation of its own (dense, conv2d, activation), whose derivative code can be wrong. */
function hasActivation(net: Net, l: number): boolean {
  const type = typeOf(net.model.layers[l]);
  return type === 'dense' || type === 'conv2d' || type === 'activation';
}

export const OUTPUT_GRADIENT: MistakeKind = {
  id: 'output-gradient',
  code: 'wrong-output-gradient',
  appliesTo: (net, l) => l === net.model.layers.length - 1,
  apply: (chain, m) => { chain.output = { kind: m.detail.outputKind!, values: m.detail.values! }; },
  key: sameKey('output-gradient'),
  tried: {
    slot: 'output',
    variants: (net, l) => outputForms(net.model.layers[l].activation, net.model.loss).filter((form) => form.mistake !== 'correct')
      .map((form) => ({ text: form.text, label: form.label, values: outputValues(net, form.fn), outputKind: form.kind })),
  },
  describe([m], { net, declared }) {
    const { model } = net;
    const L = model.layers.length;
    const act = model.layers[L - 1].activation;
    const delta = m.detail.outputKind === 'delta';
    const right = delta ? deltaText(act, model.loss) : model.loss.gradientText;
    const gradient = outputValues(net, (_z, a, y) => model.loss.gradient(a, y));
    // A coupled output without its canonical loss has no element-wise ∂L/∂z: its Jacobian applied to ∂L/∂a.
    const elementwise = trueDelta(act, model.loss);
    const truth = !delta ? gradient : elementwise ? outputValues(net, elementwise) : outputDelta(net, { kind: 'gradient', values: gradient }, null).data;
    const c = compareFactor(m.detail.values!, truth);
    const what = delta ? '∂L/∂z' : '∂L/∂a';
    const name = delta ? 'outputDelta' : 'outputGradient';
    const A = net.fwd.A[L].data, Y = net.Y.data;
    const why = m.detail.label ? `: ${m.detail.label}` : '';
    const head = declared
      ? `${name} "${m.detail.text}" is not ${what} of ${model.loss.name}${why}.`
      : `Your gradients equal backprop with the output ${delta ? 'delta dZ' : 'gradient dA'}${L} = ${m.detail.text}${why}.`;
    const alias = m.detail.aliases?.length ? ` (Equally: ${m.detail.aliases.join('; ')}.)` : '';
    const message = `${head} The right one is ${right}. At a = ${fmt(A[c.at])}, y = ${fmt(Y[c.at])} (from your data) yours gives ${fmt(m.detail.values![c.at])} where ${what} = ${fmt(truth[c.at])}.${alias}`;
    const shortcut = !delta && right !== 'a - y' && deltaText(act, model.loss) === 'a - y' ? ` (or outputDelta "a - y")` : '';
    return {
      message,
      fix: declared
        ? declaredFix(delta && !elementwise ? `remove outputDelta and set outputGradient to "${model.loss.gradientText}": a ${act.name} output with ${model.loss.title.toLowerCase()} has no element-wise ∂L/∂z.` : `set ${name} to "${right}"${shortcut}.`)
        : codeOutputFix(net, delta, elementwise !== null),
      evidence: { layers: [L], used: m.detail.text ?? '', right, a: A[c.at], y: Y[c.at], yours: m.detail.values![c.at], correct: truth[c.at] },
    };
  },
};

/** The right output line in NumPy: dA_L = ∂L/∂a, or dZ_L = ∂L/∂z (through the Jacobian for a coupled output). */
function codeOutputFix(net: Net, delta: boolean, elementwise: boolean): string {
  const { model } = net;
  const L = model.layers.length;
  const act = model.layers[L - 1].activation;
  const names = layerArrays(L);
  const gradient = `dA${L} = ${numpyOf(model.loss.gradientText, names)}`;
  if (!delta) return `${gradient}.`;
  if (!elementwise) return `${gradient}, then ${softmaxLine(net, L)}.`;
  const right = deltaText(act, model.loss);
  return `dZ${L} = ${numpyOf(right, names)}.`;
}

/**
 * "0.99990 where the right one averages 0.99991: 1.20e-5 lower": both means with as many digits as
 * it takes to tell them apart (4 to 8), then how far apart they are, so that two means that agree
 * to 4 digits do not read as equal; "1, 3.97e-14 lower than the right one" when they agree to 8.
 */
export function meansText(used: number, right: number): string {
  if (used === right) return `${fmt(used)}, as the right one does`;
  if (!Number.isFinite(used) || !Number.isFinite(right)) return `${fmt(used)} where the right one averages ${fmt(right)}`;
  const d = used - right;
  const side = `${fmt(Math.abs(d))} ${d < 0 ? 'lower' : 'higher'}`;
  let digits = 4;
  while (digits <= 8 && used.toPrecision(digits) === right.toPrecision(digits)) digits++;
  // Equal to 8 digits: more would be a wall of digits; the difference says it.
  if (digits > 8) return `${fmt(used)}, ${side} than the right one`;
  const show = (x: number) => (digits === 4 ? fmt(x) : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5 ? x.toPrecision(digits) : x.toExponential(digits - 1));
  return `${show(used)} where the right one averages ${show(right)}: ${side}`;
}

/** A wrong derivative: the layer's own evaluated at the wrong variable (own), or another activation's. */
function derivativeRecord(id: string, code: FindingCode, own: boolean): MistakeKind {
  return {
    id, code,
    appliesTo: hasActivation,
    apply: (chain, m) => { chain.layers[m.layer].derivative = m.detail.values!; },
    tried: {
      slot: 'derivative',
      variants: (net, l) => derivativeForms(net.model.layers[l].activation).filter((form) => form.own === own)
        .map((form) => ({ text: form.text, label: form.label, of: form.of, values: layerValues(net, l, form.fn), aliases: [] })),
    },
    key: (m) => `${id}|${m.detail.text}|${m.detail.label}|${m.detail.declaredAt ? 'declared' : ''}`,
    describe(group, { net, declared }) {
      const layers = group.map((m) => m.layer);
      const acts = [...new Set(layers.map((l) => net.model.layers[l].activation))];
      const actName = acts.map((a) => a.name).join('/');
      const right = [...new Set(acts.map(derivativeText))].join(' / ');
      const d = group[0].detail;
      const per = group.map((m) => {
        const truth = trueDerivativeValues(net, m.layer);
        return { layer: m.layer, ...compareFactor(m.detail.values!, truth), truth };
      });
      const shape = code === 'wrong-activation-derivative' && d.of && d.of !== 'linear' ? `, a ${d.of}-shaped derivative` : '';
      const head = declared
        ? `${layersText(layers, true)} (${actName}) multipl${layers.length === 1 ? 'ies' : 'y'} dA by ${d.text}${d.label ? `, ${d.label}` : ''}${shape}; the right derivative is ${right}.`
        : `Your gradients equal backprop with ${layersText(layers)} (${actName}) multiplying dA by ${d.text}: ${d.label}${shape}; the right derivative is ${right}.`;
      const numbers = per.map((p) => {
        const Z = net.fwd.Z[p.layer].data, A = net.fwd.A[p.layer + 1].data;
        return `in layer ${p.layer + 1} it averages ${meansText(p.meanUsed, p.meanTrue)}, the largest difference being ${fmt(p.worst)} at z = ${fmt(Z[p.at])}, a = ${fmt(A[p.at])}`;
      }).join('; ');
      const alias = d.aliases?.length ? ` On this data it is indistinguishable from ${d.aliases.join(', ')}.` : '';
      const coupled = acts.find((a) => !a.diagonal);
      return {
        message: `${head} On your data ${numbers}.${alias}`,
        fix: derivativeFix(net, layers, declared),
        evidence: {
          layers: layerNumbers(group), used: d.text ?? '', right,
          meanUsed: per.map((p) => p.meanUsed), meanRight: per.map((p) => p.meanTrue), largestDifference: per.map((p) => p.worst),
        },
      };
    },
  };
}

/**
 * The right derivative at each layer: for code, dZ1 = dA1 * (1 - A1 ** 2) (a softmax layer through
 * its Jacobian); for net.json, the mathjs text of backward.activationDerivatives at each index.
 */
function derivativeFix(net: Net, layers: number[], declared: boolean): string {
  const { loss } = net.model;
  const act = (l: number) => net.model.layers[l].activation;
  if (declared) {
    const coupled = layers.map(act).find((a) => !a.diagonal);
    if (coupled) {
      const canonical = loss.canonicalActivation === coupled.name;
      return declaredFix(canonical ? `remove activationDerivatives[${layers[0]}] and set outputDelta to "a - y": with ${loss.title.toLowerCase()} that is the ${coupled.name} output's ∂L/∂z (its Jacobian, ${coupled.jacobianText}, times ∂L/∂a).` : `set activationDerivatives[${layers[0]}] to null: a ${coupled.name} layer needs its whole Jacobian (${coupled.jacobianText}), which an element-wise derivative cannot state, and null is the right one.`);
    }
    const byText = new Map<string, number[]>();
    for (const l of layers) byText.set(derivativeText(act(l)), [...(byText.get(derivativeText(act(l))) ?? []), l]);
    const slots = (at: number[]) => `activationDerivatives${at.map((i) => `[${i}]`).join(', ').replace(/, (\[\d+\])$/, ' and $1')}`;
    return declaredFix(`set ${[...byText].map(([text, at]) => `${slots(at)} to "${text}" (${layersText(at)})`).join(', and ')}.`);
  }
  return `${perLayer(layers, (l) => {
    const g = act(l - 1);
    if (!g.diagonal) return loss.canonicalActivation === g.name && l === net.model.layers.length ? `dZ${l} = A${l} - Y` : softmaxLine(net, l);
    return `dZ${l} = dA${l} * ${wrapProduct(numpyOf(derivativeText(g), layerArrays(l)))}`;
  })}.`;
}

/** A factor of a product in parentheses unless it is a product already (no + or − outside parentheses). */
function wrapProduct(x: string): string {
  let depth = 0, sum = false;
  x.replace(/^-/, '').split('').forEach((ch, i, all) => {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && (ch === '+' || ch === '-') && all[i - 1] === ' ') sum = true;
  });
  if (!sum && !/[<>=]/.test(x)) return x;
  return /^[\w.]+$/.test(x) || /^\([^()]*\)\.astype\(float\)$/.test(x) || /^[\w.]+\([^()]*\)$/.test(x) || /^\(.*\)$/.test(x) && balanced(x.slice(1, -1)) ? x : `(${x})`;
}

function balanced(x: string): boolean {
  let depth = 0;
  for (const ch of x) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

export const ACTIVATION_SWAP = derivativeRecord('activation-swap', 'wrong-activation-derivative', false);
export const WRONG_VARIABLE = derivativeRecord('wrong-variable', 'derivative-of-wrong-variable', true);

export const DELTA_FACTOR: MistakeKind = {
  id: 'delta-factor',
  code: 'constant-factor',
  appliesTo: isDense,
  apply: (chain, m) => { chain.layers[m.layer].deltaScale = m.detail.k!; },
  tried: {
    slot: 'delta-factor',
    // dW and db both k times right: k by least squares on dW's data term (the right penalty taken
    // off, since a factor on dZ does not reach it), then db must agree.
    fit({ net, target, candidate, penalty, bias }) {
      const k = fittedFactor(combination(target, 1, net.c2 !== 0 ? penalty.W : null, -net.c2), candidate);
      if (k === null || (bias && !matches(bias.target, combination(bias.sums, k * net.s, null, 0)))) return [];
      return [{ k }];
    },
  },
  key: (m) => `delta-factor|${m.layer}`,
  describe([m], { net }) {
    const k = m.detail.k!, l = m.layer + 1;
    const L = net.model.layers.length;
    const hint = k === -1 ? ' (a sign error)'
      : Math.abs(k - 2) < 1e-9 && net.model.loss.doubledBy && l === L ? ` (${net.model.loss.doubledBy})` : '';
    return {
      message: `Your gradients equal backprop with dZ${l} multiplied by k = ${fmt(k)}${hint}; dW${l}, db${l} and every earlier layer inherit the factor.`,
      fix: `Remove the factor ${fmt(k)} from dZ${l}${l === L ? ' (the output gradient)' : ''}.`,
      evidence: { layers: [l], k },
    };
  },
};

export const TENSOR_FACTOR: MistakeKind = {
  id: 'tensor-factor',
  code: 'constant-factor',
  appliesTo: isDense,
  apply: (chain, m) => {
    if (m.detail.which === 'dW') chain.layers[m.layer].dW.k = m.detail.k!;
    else chain.layers[m.layer].db.k = m.detail.k!;
  },
  tried: {
    slot: 'factor',
    // k by least squares over the whole tensor (penalty included). A single bias is a multiple of
    // anything, so a factor on it would explain nothing.
    fit({ tensor, target, candidate }) {
      if (tensor === 'db' && target.length < 2) return [];
      const k = fittedFactor(target, candidate);
      return k === null ? [] : [{ k, which: tensor }];
    },
  },
  key: (m) => `tensor-factor|${m.layer}|${m.detail.which}`,
  param: (m) => (m.detail.which === 'db' ? bias(m) : weight(m)),
  describe([m]) {
    const t = `${m.detail.which === 'dW' ? 'dW' : 'db'}${m.layer + 1}`;
    const k = m.detail.k!;
    return {
      message: `${t} is k = ${fmt(k)} times the right gradient (k by least squares over the tensor; the rest of your gradients match backprop)${k < 0 ? ', so its sign is flipped too' : ''}.`,
      fix: `Remove the factor ${fmt(k)} from ${t}.`,
      evidence: { layers: [m.layer + 1], k },
    };
  },
};

export const REDUCTION: MistakeKind = {
  id: 'reduction',
  code: 'wrong-reduction',
  // A conv2d's dW and db take the same 1/m as a dense layer's (its own backward sums over the samples).
  appliesTo: (net, l) => net.m > 1 && (isDense(net, l) || typeOf(net.model.layers[l]) === 'conv2d'),
  apply: (chain, m) => {
    chain.layers[m.layer].dW.s = m.detail.s!;
    if (m.detail.which === 'both') chain.layers[m.layer].db.s = m.detail.s!;
  },
  tried: {
    slot: 'scale',
    // The 1/m left out, or applied twice (or applied to a sum).
    variants: ({ m, s }) => (s === 1 ? [1 / m] : [1, s / m]).map((scale) => ({ s: scale, which: 'both' as const })),
    // dW's scale is wrong; db's too when it is the same wrong one (a layer without bias: both).
    name: (found, named, net, l) => (found.dW.s === named.dW.s ? null
      : { s: found.dW.s, which: net.params[l].b === undefined || found.db.s === found.dW.s ? 'both' : 'dW' }),
  },
  key: (m) => `reduction|${m.detail.s}|${m.detail.which}`,
  param: (m) => (m.detail.which === 'dW' ? weight(m) : undefined),
  describe(group, { net, declared }) {
    const layers = group.map((m) => m.layer);
    const { s, which } = group[0].detail;
    const ratio = s! / net.s;
    const what = ratio > 1 ? `${fmt(ratio)} times too large: the 1/m (m = ${net.m}) is missing` : `${fmt(1 / ratio)} times too small: ${net.s === 1 ? `it is divided by m = ${net.m}, but the cost is a sum` : `it is divided by m = ${net.m} twice`}`;
    const tensors = which === 'both' ? `${names('dW', layers)} and ${names('db', layers)}` : names('dW', layers);
    const all = layers.length === net.model.layers.length;
    const message = declared
      ? `backward.reduction is "${net.model.reduction === 'mean' ? 'sum' : 'mean'}" but the cost is ${net.model.reduction === 'mean' ? 'averaged over' : 'summed over'} the samples: every dW and db is ${what}.`
      : `Your gradients equal backprop with ${tensors} ${what}${all && layers.length > 1 ? ' (at every layer)' : ''}.`;
    return {
      message,
      fix: declared ? declaredFix(`set reduction to "${net.model.reduction}" (or remove it).`)
        : `${net.s === 1 ? 'Do not divide by m (the cost is a sum over the samples)' : 'Divide by m exactly once, where dW and db are formed'}: ${perLayer(layers, (l) => (which === 'both' && net.params[l - 1].b !== undefined ? `${dWLine(net, l)}; ${dbLine(net, l)}` : dWLine(net, l)))}.`,
      evidence: { layers: layerNumbers(group), factor: ratio, m: net.m },
    };
  },
};

export const BIAS: MistakeKind = {
  id: 'bias',
  code: 'wrong-bias-gradient',
  appliesTo: (net, l) => isDense(net, l) && net.params[l].b !== undefined,
  apply: (chain, m) => {
    chain.layers[m.layer].db.s = m.detail.s!;
    chain.layers[m.layer].db.all = m.detail.all ?? false;
    chain.layers[m.layer].db.fromA = m.detail.fromA ?? false;
  },
  tried: {
    slot: 'bias-form',
    // Summed over every unit and sample (with one unit that is the right sum); summed from dA, the
    // gradient before g' (deepcourse's grad_bh = sum(grad_h)): at a hidden layer, where dA exists
    // and differs from dZ (the output's dZ is often written directly, and a linear g' is 1).
    variants: (net, l) => [
      ...(net.model.layers[l].units > 1 ? [{ s: net.s, all: true }] : []),
      ...(l < net.model.layers.length - 1 && net.model.layers[l].activation.name !== 'linear' ? [{ s: net.s, all: false, fromA: true }] : []),
    ],
    // Whatever of db's scale and sum the 1/m mistake did not account for.
    name: (found, named) => (found.db.s === named.db.s && found.db.all === named.db.all && !!found.db.fromA === !!named.db.fromA ? null
      : { s: found.db.s, all: found.db.all, ...(found.db.fromA ? { fromA: true } : {}) }),
  },
  key: (m) => `bias|${m.detail.s}|${m.detail.all}|${m.detail.fromA ?? false}`,
  param: bias,
  describe(group, { net }) {
    const layers = group.map((m) => m.layer);
    const { s, all, fromA } = group[0].detail;
    const ratio = s! / net.s;
    const scale = ratio === 1 ? '' : ratio > 1 ? ` without the 1/m (m = ${net.m}) that dW has` : ` divided by m = ${net.m} once more than dW`;
    const how = all ? `sum dZ over every unit and sample (np.sum without axis=1), so all its elements are equal,${scale}` : `sum dZ over the samples${scale}`;
    // Summed from dA: the sum is over the samples, of the gradient before g'.
    const message = fromA
      ? `Your gradients equal backprop with ${names('db', layers)} summed over the samples from ${names('dA', layers)}, the gradient before the activation's derivative, instead of from ${names('dZ', layers)} = dA ⊙ g'(Z)${scale}: db must sum the same dZ that dW is formed from.`
      : `Your gradients equal backprop with ${names('db', layers)} computed as a ${how.replace(/,$/, '')}.`;
    return {
      message,
      fix: `${perLayer(layers, (l) => dbLine(net, l))}.`,
      evidence: { layers: layerNumbers(group), factor: ratio, allElementsEqual: all ?? false, ...(fromA ? { fromDA: true } : {}) },
    };
  },
};

const hasPenalty = (net: Net) => net.c2 !== 0;
const densePenalty = (net: Net, l: number) => hasPenalty(net) && isDense(net, l);

export const L2_MISSING: MistakeKind = {
  id: 'l2-missing',
  code: 'missing-l2-gradient',
  appliesTo: densePenalty,
  apply: (chain, m) => { chain.layers[m.layer].dW.beta = 0; },
  tried: { slot: 'penalty', variants: () => [{}] },
  key: () => 'l2-missing',
  param: weight,
  describe(group, { net, declared }) {
    const layers = group.map((m) => m.layer);
    return {
      message: declared
        ? `backward.l2 is false, but the cost includes the L2 penalty: every dW lacks ${penaltyText(net)}.`
        : `Your gradients equal backprop with ${names('dW', layers)} lacking the penalty's gradient ${penaltyText(net)}.`,
      fix: declared ? declaredFix('set l2 to true (or remove it).') : `${perLayer(layers, (l) => `dW${l} += ${penaltyTerm(net, l).term}`)} (${penaltyTerm(net, 1).values}).`,
      evidence: { layers: layerNumbers(group), rightFactor: net.c2 },
    };
  },
};

export const L2_WRONG: MistakeKind = {
  id: 'l2-wrong',
  code: 'wrong-l2-gradient',
  appliesTo: densePenalty,
  apply: (chain, m) => {
    chain.layers[m.layer].dW.beta = m.detail.beta!;
    chain.layers[m.layer].dW.penalty = m.detail.penalty!;
  },
  tried: {
    slot: 'penalty',
    // β = ⟨R, P⟩/⟨P, P⟩ for each form P, R = T − s·dZ·Sᵀ being what the code added; a fitted β is
    // worth its free parameter only when no fixed penalty term fits, and a β of 0 or the right
    // one is no wrong L2 term.
    fit({ net: { c2 }, target, candidate, penalty, explained }) {
      if (explained) return [];
      const R = combination(target, 1, candidate, -1);
      const out: Detail[] = [];
      for (const form of ['W', 'sum', 'sign'] as PenaltyForm[]) {
        const F = penalty[form];
        const FF = dot(F, F);
        if (!(FF > 0)) continue;
        const beta = dot(R, F) / FF;
        if (!Number.isFinite(beta) || Math.abs(beta) <= MATCH * Math.abs(c2)) continue;
        if (form === 'W' && Math.abs(beta - c2) <= MATCH * Math.abs(c2)) continue;
        if (matches(target, combination(candidate, 1, F, beta))) out.push({ beta, penalty: form });
      }
      return out;
    },
  },
  key: (m) => `l2-wrong|${m.detail.penalty}|${fmt(m.detail.beta! )}`,
  param: weight,
  describe(group, { net }) {
    const layers = group.map((m) => m.layer);
    const { beta, penalty } = group[0].detail;
    const factor = beta! / net.c2;
    const near = (x: number) => Math.abs(factor - x) <= 1e-6 * Math.abs(x);
    const right = penaltyText(net);
    let what: string;
    if (penalty === 'sum') what = `adds β·ΣW (the sum of all weights, the same in every element) with β = ${fmt(beta!)}, instead of ${right}`;
    else if (penalty === 'sign') what = `adds β·sign(W) (the L1 gradient) with β = ${fmt(beta!)}, instead of ${right}`;
    else if (near(-1)) what = `subtracts the penalty gradient: −${right}`;
    else if (near(net.m) && net.model.reduction === 'mean') what = `adds λ·W: the 1/m is missing from the penalty term (${fmt(factor)}× ${right})`;
    else if (near(0.5)) what = `adds half the penalty gradient (the 2 of d(w²)/dw is missing): 0.5× ${right}`;
    else what = `adds ${fmt(factor)}× ${right}`;
    return {
      message: `Your gradients equal backprop with ${names('dW', layers)} whose L2 term ${what}.`,
      fix: `${perLayer(layers, (l) => `${dWLine(net, l)} + ${penaltyTerm(net, l).term}`)} (${penaltyTerm(net, 1).values}).`,
      evidence: { layers: layerNumbers(group), beta: beta!, rightBeta: net.c2, factor, form: penalty! },
    };
  },
};

export const WRONG_INPUT: MistakeKind = {
  id: 'input',
  code: 'wrong-input-activation',
  appliesTo: (net, l) => isDense(net, l) && inputChoices(net, l).length > 0,
  apply: (chain, m) => { chain.layers[m.layer].dW.input = m.detail.input!; },
  tried: { slot: 'weight-source', variants: (net, l) => inputChoices(net, l).map((input) => ({ input })) },
  key: (m) => `input|${m.layer}`,
  param: weight,
  describe([m], { net }) {
    const l = m.layer;
    const used = inputName(m.detail.input!, l);
    const right = l === 0 ? 'X (the input data, A0)' : `A${l} (the input to layer ${l + 1})`;
    return {
      message: `Your gradients equal backprop with dW${l + 1} built from ${used} instead of ${right}.`,
      fix: `${dWLine(net, l + 1)}${hasPenalty(net) ? ` + ${penaltyTerm(net, l + 1).term} (${penaltyTerm(net, l + 1).values})` : ''}.`,
      evidence: { layers: [l + 1], used: `${m.detail.input!.kind}${m.detail.input!.kind === 'Z' ? m.detail.input!.index + 1 : m.detail.input!.index}`, right: `A${l}` },
    };
  },
};

/** The other forward matrices with as many rows as layer l has inputs (so dZ·Sᵀ has W_l's shape). */
export function inputChoices(net: Net, l: number): InputRef[] {
  const rows = net.model.layers[l].inputs;
  const out: InputRef[] = [];
  net.fwd.A.forEach((A, i) => { if (i !== l && A.shape[0] === rows) out.push({ kind: 'A', index: i }); });
  net.fwd.Z.forEach((Z, i) => { if (Z.shape[0] === rows) out.push({ kind: 'Z', index: i }); });
  return out;
}

const square = (net: Net, l: number) => isDense(net, l) && net.model.layers[l].units === net.model.layers[l].inputs;

export const TRANSPOSED: MistakeKind = {
  id: 'transposed',
  code: 'transposed-gradient',
  appliesTo: square,
  apply: (chain, m) => { chain.layers[m.layer].dW.transposed = true; },
  tried: { slot: 'weight-source', variants: () => [{}] },
  key: (m) => `transposed|${m.layer}`,
  param: weight,
  describe([m], { net }) {
    const l = m.layer + 1;
    const { units, inputs } = net.model.layers[m.layer];
    return {
      message: `Your gradients equal backprop with dW${l} transposed: A${l - 1}·dZ${l}ᵀ instead of dZ${l}·A${l - 1}ᵀ. W${l} is square (${units}×${inputs}), so the shape did not give it away.`,
      fix: `${dWLine(net, l)} (${net.layout === 'rows' ? 'inputs × units, as W is stored' : 'units × inputs, as W is'}).`,
      evidence: { layers: [l], shape: [units, inputs] },
    };
  },
};

export const BACKPROP_WEIGHT: MistakeKind = {
  id: 'backprop-weight',
  code: 'wrong-backprop-weight',
  // dA_l from the next entry's W: a dense next entry's (other kinds' dA is their own backward).
  appliesTo: (net, l) => l < net.model.layers.length - 1 && isDense(net, l + 1),
  apply: (chain, m) => { chain.layers[m.layer].incoming = m.detail.incoming!; },
  key: (m) => `backprop-weight|${m.layer}|${m.detail.incoming}`,
  tried: {
    slot: 'incoming',
    // W_{l+1}·dZ (a square W), or dZ_{l+1} itself (the same rows, or one row NumPy broadcasts).
    variants: (net, l) => (['plain', 'skip'] as const).filter((how) => incomingApplies(net, l, how)).map((incoming) => ({ incoming })),
  },
  describe([m], { net }) {
    const l = m.layer + 1, next = l + 1;
    const message = m.detail.incoming === 'plain'
      ? `Your gradients equal backprop with dA${l} = W${next}·dZ${next} instead of W${next}ᵀ·dZ${next}. W${next} is square, so the shape did not give it away.`
      : `Your gradients equal backprop with the delta of layer ${next} passed to layer ${l} without W${next}ᵀ: dA${l} = dZ${next}${net.model.layers[next - 1].units === 1 ? ' (one row, broadcast over the units)' : ''} instead of W${next}ᵀ·dZ${next}.`;
    return {
      message,
      fix: `${dAPrevLine(net, next)}.`,
      evidence: { layers: [l], how: m.detail.incoming!, weightLayer: next },
    };
  },
};

/**
 * A softmax whose backward multiplies dA by a(1 − a), the diagonal of its Jacobian diag(a) − a·aᵀ,
 * element by element. With categorical cross-entropy the code usually writes dZ = a − y instead,
 * and a(1 − a) there is read as another activation's (sigmoid's) derivative, as it always was;
 * with any other loss the full Jacobian is needed and a(1 − a) is this mistake.
 */
export const SOFTMAX_DIAGONAL: MistakeKind = {
  id: 'softmax-diagonal',
  code: 'softmax-diagonal',
  appliesTo: (net, l) => hasActivation(net, l) && net.model.layers[l].activation.name === 'softmax' && net.model.loss.canonicalActivation !== 'softmax',
  apply: (chain, m) => { chain.layers[m.layer].derivative = m.detail.values!; },
  tried: {
    slot: 'derivative',
    variants: (net, l) => [{ text: 'a * (1 - a)', label: "the diagonal of the softmax Jacobian", values: layerValues(net, l, (_z, a) => a * (1 - a)), aliases: [] }],
  },
  key: (m) => `softmax-diagonal|${m.detail.declaredAt ? 'declared' : ''}`,
  describe(group, { net, declared }) {
    const layers = group.map((m) => m.layer);
    // How far the diagonal-only dZ is from the Jacobian's, with the right dA: ‖dA⊙a(1−a) − Jᵀ·dA‖ / ‖Jᵀ·dA‖.
    const errors = layers.map((l) => {
      const dA = incomingOrOutput(net, l);
      const a = net.fwd.A[l + 1].data;
      const diag = dA.map((v, i) => v * a[i] * (1 - a[i]));
      const full = new Float64Array(dA.length);
      net.model.layers[l].activation.backward(net.fwd.Z[l].data, a, dA, full, net.model.layers[l].units, net.m);
      let num = 0, den = 0;
      for (let i = 0; i < full.length; i++) { num += (diag[i] - full[i]) ** 2; den += full[i] ** 2; }
      return den > 0 ? Math.sqrt(num / den) : 0;
    });
    const where = layersText(layers);
    const head = declared
      ? `${layersText(layers, true)} (softmax) multipl${layers.length === 1 ? 'ies' : 'y'} dA by a * (1 - a), the diagonal of the softmax Jacobian only`
      : `Your gradients equal backprop with ${where} (softmax) multiplying dA by a * (1 - a), the diagonal of the softmax Jacobian only`;
    return {
      message: `${head}: the off-diagonal terms −a_k·a_j are left out. With ${net.model.loss.title.toLowerCase()} the whole Jacobian is needed (${derivativeText(net.model.layers[layers[0]].activation)}); on your data the diagonal-only dZ differs from it by a relative ${errors.map(fmt).join(', ')}.`,
      fix: declared ? declaredFix(`set activationDerivatives ${layers.map((l) => `[${l}]`).join(', ')} to null: a softmax layer needs its whole Jacobian, which an element-wise derivative cannot state, and null is the right one.`) : `${perLayer(layers, (l) => softmaxLine(net, l))}.`,
      evidence: { layers: layerNumbers(group), relativeErrors: errors },
    };
  },
};

/** dA at layer l with every hook right: the loss gradient at the output, else the backprop from above. */
function incomingOrOutput(net: Net, l: number): Float64Array {
  const L = net.model.layers.length;
  if (l === L - 1) return outputValues(net, (_z, a, y) => net.model.loss.gradient(a, y));
  const dZ = deltas(net, correctChain(net));
  return incomingGradient(net, l, dZ[l + 1], 'transpose').data;
}

/**
 * Every kind of mistake in the catalogue. The search tries the kinds of one slot in this order (the
 * softmax diagonal before a derivative of the same values read as sigmoid's; the layer's own
 * derivative at the wrong variable before another activation's).
 */
export const MISTAKE_KINDS: MistakeKind[] = [
  OUTPUT_GRADIENT, SOFTMAX_DIAGONAL, WRONG_VARIABLE, ACTIVATION_SWAP, BACKPROP_WEIGHT, DELTA_FACTOR, TENSOR_FACTOR, REDUCTION, BIAS,
  L2_MISSING, L2_WRONG, WRONG_INPUT, TRANSPOSED, ...RECOVERED_KINDS,
];

/** The kinds of `kinds` the search tries at a slot of layer l, in their order. */
export function kindsAt(slot: Slot, net: Net, l: number, kinds: MistakeKind[] = MISTAKE_KINDS): MistakeKind[] {
  return kinds.filter((kind) => kind.tried?.slot === slot && kind.appliesTo(net, l));
}

/** The fixed variants the search tries at a slot of layer l: every variant of every kind tried there. */
export function variantsAt(slot: Slot, net: Net, l: number, kinds: MistakeKind[] = MISTAKE_KINDS): Mutation[] {
  return kindsAt(slot, net, l, kinds).flatMap((kind) => (kind.tried!.variants?.(net, l) ?? []).map((detail) => ({ kind, layer: l, detail })));
}
