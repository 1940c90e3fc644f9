// Numerical edges that make a check meaningless rather than failed or passed: a NaN or Inf in the
// forward pass or the loss (an output at exactly 0 or 1 under cross-entropy, exp overflow, huge
// weights), and tensors whose gradients are exactly 0 both ways (underflow at tiny weights,
// saturated or dead units, every element on a kink), where a "pass" compares nothing. Each becomes
// a finding that names the layer, the cause and the fix; check() appends them to the report.
import { fmt } from '../format.js';
import { allFinite, maxAbsOf } from '../layers/dense-kernel.js';
import type { ForwardCache } from '../forward.js';
import { typeOf, type Layer } from '../layers/index.js';
import { namedTensors, paramLabel, type Grads, type Model, type NamedTensor, type Params } from '../model.js';
import type { Tensor } from '../tensor.js';
import type { RegisteredFinding } from '../findings/registry.js';
import type { Finding, TensorCheck } from '../report.js';

export interface NumericsInput {
  model: Model;
  params: Params;
  fwd: ForwardCache;
  Y: Tensor;
  correct: Grads;
  checks: TensorCheck[];
  /** The gradients under test, and whether they were handed in (--grads, --exec) or computed here. */
  tested: NamedTensor[];
  handedIn: boolean;
  tolerance: number;
}

export function numericalFindings(input: NumericsInput): RegisteredFinding[] {
  // NaN or Inf in the weights themselves (only the library API can hand them in) is the
  // diagnosis' non-finite finding, which names them.
  const paramsFinite = namedTensors(input.model, input.params).every((t) => countNonFinite(t.value.data).count === 0);
  const nonFinite = paramsFinite ? forwardOverflow(input) ?? lossAtBound(input) ?? derivativeOverflow(input) : null;
  return [...(nonFinite ? [nonFinite] : []), ...zeroGradients(input), ...precision(input), ...resolution(input)];
}

/** Tensors that pass only because their disagreement lies within resolution: one note per precision. */
function resolution({ model, fwd, checks, tested, handedIn }: NumericsInput): RegisteredFinding[] {
  const within = checks.filter((c) => c.withinResolution);
  const out: RegisteredFinding[] = [];
  for (const precision of ['float64', 'float32'] as const) {
    const list = within.filter((c) => {
      const t = tested.find((x) => x.label === c.param);
      return (handedIn && t !== undefined && isFloat32(t.value.data)) === (precision === 'float32');
    });
    if (list.length === 0) continue;
    const names = list.map((c) => c.param);
    const causes = [...new Set(list.map((c) => c.floorCause ?? 'forward'))].map((cause) => causeText(cause, model, fwd, list.filter((c) => (c.floorCause ?? 'forward') === cause)));
    out.push({
      code: 'float64-resolution',
      severity: 'info',
      layer: list[0].layer,
      ...(list.length === 1 ? { param: list[0].param } : {}),
      message: `${names.join(', ')} ${list.length === 1 ? 'agrees' : 'agree'} to ${precision} resolution at these weights: ` +
        `${list.map((c) => `${c.param} relative error ${fmt(c.relativeError)} within a floor of ${fmt(c.floor ?? 0)}`).join(', ')}` +
        ` (what ${precision} can resolve here, for backprop and the finite differences alike). Cause: ${causes.join('; ')}. ${list.length === 1 ? 'It passes' : 'They pass'}; a real bug would stand far above the floor.`,
      fix: 'Nothing to fix. To resolve more digits, check at weights from earlier in training or at a smaller scale, or compute the loss from the logits.',
      evidence: { tensors: names.join(', '), floors: list.map((c) => c.floor ?? 0), relativeErrors: list.map((c) => c.relativeError), precision },
    });
  }
  return out;
}

/** Why the floor is what it is, in words, for the tensors whose floor has this largest part. */
function causeText(cause: NonNullable<TensorCheck['floorCause']>, model: Model, fwd: ForwardCache, list: TensorCheck[]): string {
  if (cause === 'step') return `the truncation error of the finite-difference step (ε = ${list.map((c) => `${fmt(c.epsilon ?? 0)} for ${c.param}`).join(', ')})`;
  if (cause === 'sums') return `cancellation in the sums over samples: ${list.map((c) => c.param).join(', ')} ${list.length === 1 ? 'is' : 'are'} tiny against the terms summed (a gradient that is 0 by symmetry, or nearly)`;
  const saturated: string[] = [];
  model.layers.forEach((layer, l) => {
    const act = layer.activation;
    if (!act.bounds) return;
    const [lo, hi] = act.bounds;
    const A = fwd.A[l + 1].data;
    let near = 0;
    for (const a of A) if (Math.min(a - lo, hi - a) < 1e-6) near++;
    if (near > 0) saturated.push(`layer ${l + 1} (${act.name}) has ${near} of ${A.length} values within 1e-6 of a bound, where ${act.family === 'tanh' ? '1 − a²' : '1 − a and a − y'} keep${act.family === 'tanh' ? 's' : ''} few digits`);
  });
  return `the rounding of the forward quantities${saturated.length > 0 ? `: ${saturated.join('; ')}` : ' (the output and its loss gradient are ill-conditioned at these weights)'}`;
}

/** The tolerance float32 gradients used to be held to; kept for the API. They are now judged against float32's resolution (resolution.ts). */
export const FLOAT32_TOLERANCE = 1e-4;

/**
 * Whether a tensor holds float32 values: every element is exactly a float32 and at least one needs
 * more than 10 bits after the binary point (so that 0, 1, 0.5 … do not count). A value computed in
 * float64 is exactly a float32 with probability 2⁻²⁹.
 */
export function isFloat32(d: ArrayLike<number>): boolean {
  let informative = false;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (Math.fround(v) !== v) return false;
    if (!informative && v !== 0 && !Number.isInteger(v * 1024)) informative = true;
  }
  return informative;
}

/** Notes on float32 inputs: gradients judged at float32's tolerance, weights that are float32 values. */
function precision({ model, params, tested, handedIn, checks }: NumericsInput): RegisteredFinding[] {
  const out: RegisteredFinding[] = [];
  const grads32 = handedIn ? tested.filter((t) => isFloat32(t.value.data)) : [];
  if (grads32.length > 0) {
    const names = grads32.map((t) => `d${t.label}`);
    const saved = checks.filter((c) => grads32.some((t) => t.label === c.param) && c.withinResolution);
    out.push({
      code: 'float32-precision',
      severity: 'info',
      layer: grads32[0].ref.layer + 1,
      message: `${names.join(', ')} hold float32 values (every element is exactly a float32: about 7 significant digits), so ${names.length === 1 ? 'it is' : 'they are'} judged against float32's resolution at these weights (unit roundoff 2^-24, for the rounding of the forward quantities and of the sums) instead of float64's` +
        (saved.length > 0 ? `; ${saved.map((c) => `${c.param} (relative error ${fmt(c.relativeError)})`).join(', ')} ${saved.length === 1 ? 'passes' : 'pass'} only within that resolution.` : '.') +
        ' A bug of any size a float32 computation cannot explain still fails.',
      fix: 'Compute and save the gradients in float64 (np.float64) to check them to float64\'s resolution.',
      evidence: { tensors: names.join(', '), unit: 2 ** -24 },
    });
  }
  const params32 = namedTensors(model, params).filter((t) => isFloat32(t.value.data));
  if (params32.length > 0) {
    out.push({
      code: 'float32-precision',
      severity: 'info',
      layer: params32[0].ref.layer + 1,
      message: `The weights ${params32.map((t) => t.label).join(', ')} are float32 values. The check runs in float64 at exactly these values, so their precision changes nothing about it.`,
      fix: 'Nothing to fix.',
      evidence: { tensors: params32.map((t) => t.label).join(', ') },
    });
  }
  return out;
}

function countNonFinite(d: Float64Array): { count: number; first: number } {
  if (allFinite(d)) return { count: 0, first: -1 };
  let count = 0, first = -1;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) { count++; if (first < 0) first = i; }
  return { count, first };
}

/** What an entry's first record computes, as the overflow message names it. */
function recordText(layer: Layer, l: number): string {
  const type = typeOf(layer);
  if (type === 'dense') return `W${l + 1}·A${l} + b${l + 1}`;
  if (type === 'conv2d') return `the convolution of A${l} with W${l + 1}`;
  return `the ${type} of A${l}`;
}

/** The first layer whose pre-activations or activations are not finite. */
function forwardOverflow({ model, fwd }: NumericsInput): RegisteredFinding | null {
  for (let l = 0; l < model.layers.length; l++) {
    const Z = fwd.Z[l].data, A = fwd.A[l + 1].data;
    const z = countNonFinite(Z);
    const layer = model.layers[l];
    if (z.count > 0) {
      return {
        code: 'non-finite', severity: 'error', layer: l + 1,
        message: `The pre-activations Z${l + 1} of layer ${l + 1} overflow: ${z.count} of ${Z.length} are ±Inf or NaN ` +
          `(${recordText(layer, l)} with inputs up to ${fmt(maxAbsOf(fwd.A[l].data))} in size). Nothing can be checked at these weights.`,
        fix: `Check at weights of a smaller scale (init.scale in net.json, or --params saved earlier in training), and standardise the inputs.`,
        evidence: { cannotCheck: true, layer: l + 1, count: z.count, of: Z.length, where: 'pre-activations' },
      };
    }
    const a = countNonFinite(A);
    if (a.count > 0) {
      const zAt = Z[a.first];
      return {
        code: 'non-finite', severity: 'error', layer: l + 1,
        message: `The activation of layer ${l + 1} (${layer.activation.name}) overflows: ${a.count} of ${A.length} values are ±Inf or NaN, ` +
          `the first at z = ${fmt(zAt)} (exp overflows above z ≈ 709.8). Nothing can be checked at these weights.`,
        fix: 'Check at weights of a smaller scale (init.scale, or --params from earlier in training), or use an activation that does not overflow there.',
        evidence: { cannotCheck: true, layer: l + 1, count: a.count, of: A.length, z: zAt, where: 'activations' },
      };
    }
  }
  return null;
}

/**
 * Outputs at exactly 0 or 1 (a saturated sigmoid or softmax in float64). Under cross-entropy the
 * loss or ∂L/∂a is then ±Inf or NaN (log 0, division by a or 1 − a); with any loss, the output's
 * derivative rounds to 0 there, so backprop gives those samples no gradient while the finite
 * differences still see their true one (about e^−|z|).
 */
function lossAtBound({ model, fwd, Y }: NumericsInput): RegisteredFinding | null {
  const L = model.layers.length;
  const out = model.layers[L - 1];
  const A = fwd.A[L].data, Z = fwd.Z[L - 1].data, y = Y.data;
  const m = fwd.samples;
  const saturating = out.activation.roundsToBound !== null;
  let bad = 0, atBound = 0, zMax = 0, example = -1;
  const badSamples = new Set<number>(), boundSamples = new Set<number>(), boundValues = new Set<number>();
  for (let i = 0; i < A.length; i++) {
    if (saturating && (A[i] === 0 || A[i] === 1)) {
      atBound++;
      boundSamples.add(i % m);
      boundValues.add(A[i]);
      zMax = Math.max(zMax, Math.abs(Z[i]));
    }
    if (Number.isFinite(model.loss.value(A[i], y[i])) && Number.isFinite(model.loss.gradient(A[i], y[i]))) continue;
    bad++;
    badSamples.add(i % m);
    if (example < 0) example = i;
  }
  if (bad === 0 && atBound === 0) {
    if (Number.isFinite(fwd.cost)) return null;
    return {
      code: 'non-finite', severity: 'error', layer: L,
      message: `The cost is ${fmt(fwd.cost)} although every output and its loss are finite: the L2 penalty c·Σ‖W‖² overflows. Nothing can be checked at these weights.`,
      fix: 'Check at weights of a smaller scale (init.scale, or --params from earlier in training).',
      evidence: { cannotCheck: true, layer: L, cost: String(fwd.cost) },
    };
  }
  const values = [...boundValues].sort().join(' and ');
  const bound = `The output of layer ${L} (${out.activation.name}) is exactly ${values} at ${atBound} of ${A.length} output values (${boundSamples.size} of ${m} samples), ` +
    `where ${out.activation.roundsToBound} (|z| up to ${fmt(zMax)} here)`;
  const fix = 'Check at weights of a smaller scale (init.scale in net.json, or --params saved earlier in training), or compute the loss from the logits z: log(1 + e^z) − y·z, whose output delta a − y stays finite.';
  if (bad > 0) {
    const costText = Number.isFinite(fwd.cost) ? 'the cost stays finite' : `the cost is ${fmt(fwd.cost)}`;
    const message = atBound > 0
      ? `${bound}. ${lossName(model)} takes log(0) or divides by 0 there: ${costText}, and the loss or ∂L/∂a is ±Inf or NaN at ${bad} of them.`
      : `The loss ${model.loss.name} or its gradient is ±Inf or NaN at ${bad} of ${A.length} output values (${badSamples.size} of ${m} samples), the first at a = ${fmt(A[example])}, y = ${fmt(y[example])}: ${costText}.`;
    return {
      code: 'non-finite', severity: 'error', layer: L,
      message: `${message} Nothing can be checked at these weights: the failures in the table say nothing about your gradient code.`,
      fix: atBound > 0 ? fix : 'Make the loss finite on the outputs this network produces (check its formula near a = 0 and a = 1), or check at other weights.',
      evidence: { cannotCheck: true, layer: L, count: bad, of: A.length, samples: badSamples.size, atBound, zMax },
    };
  }
  // The loss and its gradient are finite everywhere: a bound reached is not "non-finite". What the
  // samples there contribute (about e^−|z|) is below float64's resolution, and every verdict is
  // judged against that resolution (resolution.ts), so the check stands.
  const every = boundSamples.size === m;
  return {
    code: 'non-finite', severity: 'info', layer: L,
    message: `${bound}. ` + (out.activation.sumsToOne
      ? `There a − y holds the other classes' share (about e^−margin) only to float64's resolution, and an output at exactly 0 gives its sample no gradient for that class. `
      : `There the output's derivative rounds to exactly 0, so backprop gives ${every ? 'every sample' : 'those samples'} no gradient, while the finite differences still see the true one (about e^−|z| = ${fmt(Math.exp(-zMax))}). `) +
      (every
        ? 'The loss and its gradient stay finite, and what these samples contribute is below float64\'s resolution: every tensor is judged against that resolution (see float64-resolution), not as non-finite.'
        : 'Their share of the gradient is below float64\'s resolution, so the check of the other samples stands.'),
    fix: 'Nothing to fix for the check; for training, smaller weights keep the outputs off the bounds.',
    evidence: { cannotCheck: false, layer: L, atBound, of: A.length, samples: boundSamples.size, zMax },
  };
}

/** The loss as the sentence saying it takes log(0) or divides by 0 starts: by title only where it does. */
const lossName = (model: Model) => (model.loss.infiniteAtBounds ? model.loss.title : `The loss ${model.loss.name}`);

/** Forward pass and loss finite, but the true gradient is not: an activation's derivative overflows. */
function derivativeOverflow({ model, fwd, correct }: NumericsInput): RegisteredFinding | null {
  for (let l = model.layers.length - 1; l >= 0; l--) {
    // The entry's first tensor: W (dense, conv2d), gamma (normalisation); none for a parameterless entry.
    const name = Object.keys(correct[l])[0];
    if (name === undefined) continue;
    const g = countNonFinite(correct[l][name].data);
    if (g.count === 0) continue;
    const layer = model.layers[l];
    let worst = -1;
    // An element-wise derivative names the z where it overflows; a Jacobian has no single one.
    if (layer.activation.diagonal) {
      const Z = fwd.Z[l].data, A = fwd.A[l + 1].data;
      for (let i = 0; i < Z.length && worst < 0; i++) if (!Number.isFinite(layer.activation.derivative(Z[i], A[i]))) worst = i;
    }
    return {
      code: 'non-finite', severity: 'error', layer: l + 1,
      message: `The true gradient d${paramLabel({ layer: l, name })} has ${g.count} ±Inf or NaN elements although the forward pass and the loss are finite` +
        (worst >= 0 ? `: the derivative of ${layer.activation.name} is not finite at z = ${fmt(fwd.Z[l].data[worst])}.` : '.') +
        ' Nothing can be checked at these weights.',
      fix: 'Check at weights of a smaller scale (init.scale, or --params from earlier in training), or use an activation whose derivative stays finite there.',
      evidence: { cannotCheck: true, layer: l + 1, count: g.count },
    };
  }
  return null;
}

/**
 * Tensors where nothing was compared: every checked element is exactly 0 both in the gradients
 * under test and in the finite differences, or every element sits on a kink. A pass there is
 * vacuous; when it is so for every tensor, nothing at all was checked.
 */
function zeroGradients({ model, fwd, params, checks }: NumericsInput): RegisteredFinding[] {
  const empty = checks.filter((c) => (c.checked > 0 && c.analyticNorm === 0 && c.numericNorm === 0) || (c.checked === 0 && c.kinks > 0));
  if (empty.length === 0 || checks.some((c) => !Number.isFinite(c.relativeError))) return [];
  const all = empty.length === checks.length;
  const names = empty.map((c) => c.param);
  const kinksOnly = empty.every((c) => c.checked === 0);
  const layers = [...new Set(empty.map((c) => c.layer))].sort((x, y) => x - y);
  const them = names.length === 1 ? 'it' : 'them';
  const what = kinksOnly
    ? `had every element exactly on a kink`
    : 'had every gradient element exactly 0, in the gradients under test and in the finite differences alike';
  return [{
    code: 'zero-gradients',
    severity: all ? 'error' : 'warning',
    layer: layers[0],
    message: `${names.join(', ')}: ${all ? 'every tensor' : names.length === 1 ? 'this tensor' : 'these tensors'} ${what}, so nothing was compared and a pass says nothing about ${them}` +
      `${all ? '. Nothing at all was checked' : ''}${kinksOnly ? '.' : `: ${zeroCauses(model, fwd, params, empty).join('; ')}.`}`,
    fix: `Check at weights where the gradients are not 0: a normal scale (init.scheme "xavier" or "he" with scale 1), or --params from a real training state${model.layers.some((l) => l.activation.family === 'relu') ? ' with no dead ReLU layer' : ''}.`,
    evidence: { cannotCheck: all, tensors: names.join(', '), layers },
  }];
}

/** Why gradients are exactly 0: units that pass nothing, inputs that are 0, weights so small that products underflow. */
function zeroCauses(model: Model, fwd: ForwardCache, params: Params, empty: TensorCheck[]): string[] {
  const causes: string[] = [];
  const first = Math.min(...empty.map((c) => c.layer)) - 1;
  for (let l = first; l < model.layers.length; l++) {
    const act = model.layers[l].activation;
    // A zero diagonal says a unit passes nothing back only when it is the whole Jacobian.
    if (!act.diagonal) continue;
    const Z = fwd.Z[l].data, A = fwd.A[l + 1].data;
    let zero = 0;
    for (let i = 0; i < Z.length; i++) if (act.derivative(Z[i], A[i]) === 0) zero++;
    if (zero === Z.length) {
      causes.push(`layer ${l + 1} (${act.name}) passes no gradient back: its derivative is exactly 0 for every unit and sample (${act.family === 'relu' ? 'every pre-activation ≤ 0' : 'saturated at its bounds'})`);
      break;
    }
  }
  for (const c of empty) {
    if (!c.param.startsWith('W')) continue;
    if (maxAbsOf(fwd.A[c.layer - 1].data) === 0) causes.push(`the inputs of layer ${c.layer} (${c.layer === 1 ? 'X' : `A${c.layer - 1}`}) are all 0, so d${c.param} = dZ·${c.layer === 1 ? 'X' : `A${c.layer - 1}`}ᵀ is 0`);
  }
  const tiny = params.flatMap(({ W }, layer) => (W ? [{ layer, r: rms(W.data) }] : [])).filter((x) => x.r > 0 && x.r < 1e-30);
  if (tiny.length > 0) causes.push(`weights of RMS ${tiny.map((x) => `${fmt(x.r)} (${paramLabel({ layer: x.layer, name: 'W' })})`).join(', ')} are so small that their products underflow float64 to 0`);
  if (causes.length === 0) causes.push('the error signal underflows to 0 on its way back');
  return causes;
}

function rms(d: Float64Array): number {
  const m = maxAbsOf(d);
  if (m === 0 || !Number.isFinite(m)) return m;
  let s = 0;
  for (const v of d) s += (v / m) ** 2;
  return m * Math.sqrt(s / d.length);
}

/**
 * Merges these findings into the diagnosis': a specific non-finite cause replaces the generic
 * non-finite finding, and root causes the diagnosis read from NaN comparisons are dropped (they
 * describe the NaN, not the code). `isRootCause` says which codes those are.
 */
export function mergeNumerics(findings: Finding[], numerics: Finding[], isRootCause: (code: string) => boolean): Finding[] {
  const cause = numerics.find((f) => f.code === 'non-finite' && f.evidence?.cannotCheck === true);
  const kept = cause ? findings.filter((f) => f.code !== 'non-finite' && !isRootCause(f.code)) : findings;
  const errors = numerics.filter((f) => f.severity === 'error');
  const rest = numerics.filter((f) => f.severity !== 'error');
  return [...errors, ...kept, ...rest];
}
