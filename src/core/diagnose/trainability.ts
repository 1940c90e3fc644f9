// Health findings: the network is trainable at these weights or not, whatever the gradient code
// does. Vanishing or exploding error signals, saturated or dead units (dead channels after a
// conv), a normalisation dividing by a variance near 0, a chance-level cost, weights far from
// Xavier/He scale, and NaN/Inf anywhere. They never change the exit status (unless --strict);
// every number in them is computed from the network and the data. Entries without parameters
// (pooling, flatten, dropout, activation) have no gradient norm and no weights to judge.
import { outShapeOf, typeOf } from '../layers/index.js';
import { paramLabel, type Grads, type NamedTensor } from '../model.js';
import type { Tensor } from '../tensor.js';
import type { RegisteredFinding } from '../findings/registry.js';
import type { Report } from '../report.js';
import { correctChain, deltas, type Net } from './chain.js';
import { fmt, layersText } from './mutations.js';

/** Below this ratio of the error signal's RMS at the first and the last layer, gradients vanish. */
const VANISHING = 1e-3;
const EXPLODING = 1e3;
/** A weight RMS this many times away from Xavier/He scale is flagged. */
const SCALE_FACTOR = 10;
const SATURATED = 0.3;

const rms = (d: ArrayLike<number>) => {
  let max = 0;
  for (let i = 0; i < d.length; i++) max = Math.max(max, Math.abs(d[i]));
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += (d[i] / max) ** 2;
  return max * Math.sqrt(s / d.length);
};

export interface HealthInput {
  net: Net;
  report: Report;
  tested: NamedTensor[];
  correct: Grads;
  numeric: Map<string, { values: Float64Array; checked: Uint8Array }>;
}

export function healthFindings(h: HealthInput): RegisteredFinding[] {
  const scale = initScale(h);
  return [
    ...nonFinite(h),
    ...gradientFlow(h, scale),
    ...saturation(h),
    ...deadRelu(h),
    ...smallVariance(h),
    ...chanceLevel(h),
    ...(scale.finding ? [scale.finding] : []),
  ];
}

function countNonFinite(d: ArrayLike<number>, mask?: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < d.length; i++) if ((!mask || mask[i]) && !Number.isFinite(d[i])) n++;
  return n;
}

function nonFinite({ net, tested, correct, numeric }: HealthInput): RegisteredFinding[] {
  const places: { what: string; layer: number; count: number; of: number }[] = [];
  const add = (what: string, layer: number, d: ArrayLike<number>, mask?: Uint8Array) => {
    const count = countNonFinite(d, mask);
    if (count > 0) places.push({ what, layer, count, of: d.length });
  };
  // Every weight tensor (W, gamma, beta …) first, then the biases.
  net.params.forEach((p, layer) => { for (const [name, t] of Object.entries(p)) if (name !== 'b') add(paramLabel({ layer, name }), layer, t.data); });
  net.params.forEach(({ b }, layer) => b && add(paramLabel({ layer, name: 'b' }), layer, b.data));
  net.fwd.Z.forEach((Z, l) => add(`Z${l + 1} (pre-activations)`, l, Z.data));
  net.fwd.A.slice(1).forEach((A, l) => add(`A${l + 1} (activations)`, l, A.data));
  if (!Number.isFinite(net.fwd.cost)) places.push({ what: 'the cost', layer: net.model.layers.length - 1, count: 1, of: 1 });
  for (const t of tested) add(`d${t.label} under test`, t.ref.layer, t.value.data);
  correct.forEach((g, layer) => {
    const name = g.W ? 'W' : Object.keys(g)[0];
    if (name !== undefined) add(`the true d${paramLabel({ layer, name })}`, layer, g[name].data);
  });
  for (const t of tested) {
    const n = numeric.get(t.label);
    if (n) add(`the finite differences of ${t.label}`, t.ref.layer, n.values, n.checked);
  }
  if (places.length === 0) return [];
  const list = places.slice(0, 6).map((p) => `${p.what}: ${p.count} of ${p.of}`).join('; ');
  return [{
    code: 'non-finite',
    severity: 'error',
    layer: places[0].layer + 1,
    message: `NaN or Inf in ${list}${places.length > 6 ? `; and ${places.length - 6} more` : ''}.`,
    fix: 'Find the first place it appears: log(0) or division by a = 0 or 1 in the loss (clip a, or use the a − y delta), exp overflow, or bad weights.',
    evidence: { places: places.map((p) => p.what).join(', '), counts: places.map((p) => p.count) },
  }];
}

interface ScaleCheck {
  finding?: RegisteredFinding;
  /** The flagged layers' weight RMS and recommended scale. */
  small: { layer: number; rms: number; recommended: number }[];
}

function initScale({ net, report }: HealthInput): ScaleCheck {
  const rows: { layer: number; rms: number; recommended: number; act: string; fanIn: number; he: boolean }[] = [];
  report.health.layers.forEach((h, l) => {
    const W = net.params[l].W;
    if (!W) return;
    const r = rms(W.data);
    const layer = net.model.layers[l];
    // A conv2d's fan-in is C·kh·kw, not its input size: read it off the scale its kind recommends.
    const fanIn = typeOf(layer) === 'dense' || h.recommendedScale === undefined
      ? layer.inputs
      : Math.round((layer.activation.family === 'relu' ? 2 : 1) / h.recommendedScale ** 2);
    const he = net.model.layers[l].activation.family === 'relu';
    // A program's report (no activations, no recommended scale) has nothing to compare with.
    if (!(r > 0) || !Number.isFinite(r) || h.recommendedScale === undefined || h.activation === undefined) return;
    const ratio = r / h.recommendedScale;
    if (ratio < 1 / SCALE_FACTOR || ratio > SCALE_FACTOR) {
      rows.push({ layer: l, rms: r, recommended: h.recommendedScale, act: h.activation, fanIn, he });
    }
  });
  if (rows.length === 0) return { small: [] };
  const text = rows.map((r) => {
    const formula = r.he ? `He √(2/${r.fanIn})` : `Xavier 1/√${r.fanIn}`;
    const ratio = r.rms / r.recommended;
    return `layer ${r.layer + 1} (${r.act}, fan_in ${r.fanIn}): RMS ${fmt(r.rms)} vs ${formula} = ${fmt(r.recommended)} (${ratio < 1 ? `${fmt(1 / ratio)}× too small` : `${fmt(ratio)}× too large`})`;
  }).join('; ');
  const init = net.model.init;
  const from = init.scheme === 'normal' || init.scheme === 'uniform' ? ` init is "${init.scheme}" with scale ${fmt(init.scale)}, which ignores fan_in.` : '';
  return {
    small: rows.filter((r) => r.rms < r.recommended),
    finding: {
      code: 'init-scale',
      severity: 'warning',
      layer: rows[0].layer + 1,
      message: `The weights are far from the scale their activations need: ${text}.${from}`,
      fix: 'Use init.scheme "xavier" for tanh/sigmoid/linear layers (std 1/√fan_in) and "he" for ReLU layers (std √(2/fan_in)), or the same in your code.',
      evidence: {
        layers: rows.map((r) => r.layer + 1), weightRms: rows.map((r) => r.rms), recommended: rows.map((r) => r.recommended),
      },
    },
  };
}

function gradientFlow({ net, report }: HealthInput, scale: ScaleCheck): RegisteredFinding[] {
  // The error signal is compared between the first and the last entry with weights: an entry
  // without (pooling, flatten, dropout, activation) has no gradient to vanish, and its dZ is
  // its neighbour's, routed or scaled.
  const weighted = net.model.layers.map((_x, l) => l).filter((l) => net.params[l].W !== undefined);
  if (weighted.length < 2) return [];
  const dZ = deltas(net, correctChain(net));
  const delta = weighted.map((l) => rms(dZ[l].data));
  const first = delta[0], last = delta[delta.length - 1];
  const firstLayer = weighted[0] + 1, lastLayer = weighted[weighted.length - 1] + 1;
  if (!(last > 0) || !Number.isFinite(first) || !Number.isFinite(last)) return [];
  const ratio = first / last;
  const vanishing = ratio < VANISHING;
  if (!vanishing && !(ratio > EXPLODING)) return [];
  const all = weighted.length === net.model.layers.length;
  const norms = weighted.map((l) => fmt(report.health.layers[l].gradientNorm)).join(', ');
  const relative = weighted.map((l) => report.health.layers[l].gradientNorm / rms(net.params[l].W.data) / Math.sqrt(net.params[l].W.data.length));
  const which = all ? 'per layer' : `per layer with weights (${weighted.map((l) => l + 1).join(', ')})`;
  const cause = vanishing && scale.small.length > 0
    ? ` The cause: ${layersText(scale.small.map((s) => s.layer))} start with weights of RMS ${scale.small.map((s) => fmt(s.rms)).join(', ')}, far below ${scale.small.map((s) => fmt(s.recommended)).join(', ')} (Xavier/He), so each layer shrinks the signal.`
    : '';
  return [{
    code: vanishing ? 'vanishing-gradients' : 'exploding-gradients',
    severity: 'warning',
    layer: firstLayer,
    message: `Gradients ${vanishing ? 'vanish' : 'explode'} on the way back: the error signal δ = dZ has RMS ${fmt(first)} at layer ${firstLayer} and ${fmt(last)} at layer ${lastLayer} (ratio first/last ${fmt(ratio)}; ${which} ${delta.map(fmt).join(', ')}). ‖dW‖ ${which}: ${norms}; relative to the weights, ‖dW‖/‖W‖ = ${relative.map(fmt).join(', ')}.${cause}`,
    fix: vanishing
      ? 'Initialise with Xavier (tanh/sigmoid, std 1/√fan_in) or He (ReLU, std √(2/fan_in)); avoid deep stacks of sigmoids.'
      : 'Initialise with smaller weights (Xavier/He), or clip gradients.',
    evidence: { ratio, deltaRms: delta, gradientNorms: weighted.map((l) => report.health.layers[l].gradientNorm) },
  }];
}

function saturation({ net, report }: HealthInput): RegisteredFinding[] {
  const L = net.model.layers.length;
  const hot = report.health.layers.filter((h, l) => l < L - 1 && (h.saturation ?? 0) >= SATURATED);
  if (hot.length === 0) return [];
  const text = hot.map((h) => `layer ${h.layer} (${h.activation}): ${fmt(100 * (h.saturation ?? 0))}%${afterNorm(net, h.layer - 1)}`).join('; ');
  return [{
    code: 'saturated-units',
    severity: 'warning',
    layer: hot[0].layer,
    message: `Saturated units pass almost no gradient: ${text} of the (unit, sample) pairs sit where the derivative is below 0.02 (|tanh| > 0.99, sigmoid outside [0.01, 0.99]).`,
    fix: 'Use smaller initial weights (Xavier) and standardised inputs.',
    evidence: { layers: hot.map((h) => h.layer), saturation: hot.map((h) => h.saturation ?? 0) },
  }];
}

/**
 * ", after the batchnorm of layer 2 (its γ up to 4.1)": a tanh/sigmoid fed by a normalisation
 * saturates only through γ and β, which set the scale and offset of what it receives.
 */
function afterNorm(net: Net, l: number): string {
  const at = [l, l - 1].find((k) => k >= 0 && (typeOf(net.model.layers[k]) === 'batchnorm' || typeOf(net.model.layers[k]) === 'layernorm'));
  if (at === undefined) return '';
  const { gamma, beta } = net.params[at];
  const largest = (t: Tensor | undefined) => (t ? Math.max(...Array.from(t.data, Math.abs)) : 0);
  const where = at === l ? 'its own' : `layer ${at + 1}'s`;
  return `, after ${where} ${typeOf(net.model.layers[at])} (|γ| up to ${fmt(largest(gamma))}, |β| up to ${fmt(largest(beta))}, which set the scale and offset the activation receives)`;
}

function deadRelu({ net, report }: HealthInput): RegisteredFinding[] {
  const out: RegisteredFinding[] = [];
  report.health.layers.forEach((h, l) => {
    // Absent in a program's report, which has no activations to count.
    const fraction = h.deadFraction ?? 0;
    if (fraction <= 0) return;
    const layer = net.model.layers[l];
    // An image's deadFraction is of its channels (check/layer-health.ts).
    const shape = outShapeOf(layer);
    const image = shape.length === 3;
    const units = image ? shape[0] : layer.units;
    const dead = Math.round(fraction * units);
    const what = image
      ? `${dead} of the ${units} channels of layer ${h.layer} (${typeOf(layer)}, ReLU) are 0 at every one of their ${shape[1]}×${shape[2]} positions on every one of the ${net.m} samples`
      : `${dead} of the ${units} ReLU units of layer ${h.layer} are 0 on every one of the ${net.m} samples`;
    out.push({
      code: 'dead-relu',
      severity: fraction >= 0.5 ? 'warning' : 'info',
      layer: h.layer,
      message: `${what}, so they get no gradient and cannot recover.`,
      fix: 'He initialisation, a small positive bias, a lower learning rate, or leaky_relu.',
      evidence: { layers: [h.layer], dead, units, fraction },
    });
  });
  return out;
}

/**
 * A normalisation whose smallest variance is below its ε: x̂ = (x − μ)/√(var + ε) is then nearly
 * (x − μ)/√ε, and dx carries γ/√ε, so a constant feature (or a batch of one) turns rounding into
 * large gradients.
 */
function smallVariance({ net, report }: HealthInput): RegisteredFinding[] {
  const out: RegisteredFinding[] = [];
  report.health.layers.forEach((h, l) => {
    const v = h.minVariance;
    const layer = net.model.layers[l];
    const eps = layer.eps ?? 1e-5;
    if (v === undefined || !(v < eps)) return;
    const type = typeOf(layer);
    const over = type === 'layernorm' ? 'over its features, for some sample' : outShapeOf(layer).length === 3 ? `over the ${net.m} samples and every position, for some channel` : `over the ${net.m} samples, for some feature`;
    out.push({
      code: 'norm-variance-near-zero',
      severity: 'warning',
      layer: h.layer,
      message: `Layer ${h.layer} (${type}) divides by a variance of ${fmt(v)} ${over}, below its ε = ${fmt(eps)}: x̂ = (x − μ)/√(var + ε) there is nearly (x − μ)/√ε, and dx carries the factor γ/√(var + ε), up to ${fmt(1 / Math.sqrt(v + eps))}·γ.${net.m === 1 && type === 'batchnorm' ? ' With one sample every batch variance is 0.' : ''}`,
      fix: type === 'batchnorm' ? 'Use a larger batch, drop features that do not vary, or use layernorm.' : 'Drop inputs whose features are all equal, or normalise fewer features together.',
      evidence: { layers: [h.layer], minVariance: v, eps },
    });
  });
  return out;
}

function chanceLevel({ net }: HealthInput): RegisteredFinding[] {
  const L = net.model.layers.length;
  const K = net.model.layers[L - 1].units;
  const level = net.model.loss.chanceCost(K);
  if (!level) return [];
  const { guess, cost: chance, text } = level;
  const A = net.fwd.A[L].data;
  let spread = 0;
  for (const a of A) spread = Math.max(spread, Math.abs(a - guess));
  const perSample = net.model.reduction === 'sum' ? net.fwd.dataCost / net.m : net.fwd.dataCost;
  if (!(spread < 0.01 * Math.max(guess, 0.1)) || !(Math.abs(perSample - chance) <= 0.01 * chance)) return [];
  return [{
    code: 'chance-level-loss',
    severity: 'warning',
    layer: L,
    message: `The cost ${fmt(perSample)}${net.model.reduction === 'sum' ? ' per sample' : ''} ≈ ${text} = ${fmt(chance)}: the net outputs ≈ ${fmt(guess)} for every sample (every output within ${fmt(spread)} of it), the cost of a blind guess. Nothing has been learned yet, and the gradients are those of a constant output.`,
    fix: 'Make sure the gradients pass, initialise with Xavier/He scale, then train.',
    evidence: { cost: perSample, chance, largestDeviation: spread },
  }];
}
