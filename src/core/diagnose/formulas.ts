// Formula analysis of a declared `backward` block: each formula is compared with the true one
// (the activation's own derivative — by automatic differentiation for custom `expr` activations and
// losses, see formula/derivative.ts — and the loss's
// ∂L/∂a or ∂L/∂z) on a grid of points spanning the activation's range and on the layer's actual
// z, a and y values, and a wrong one is named by finding which catalogued formula it equals.
// The grid is what tells 1 − z² from tanh' when the weights are so small that z ≈ a on the data.
import { sigmoid, type Activation } from '../records/activations.js';
import type { Formula } from '../formula/formula.js';
import type { Reduction } from '../model.js';
import { layerValues, outputDelta, outputValues, type Net } from './chain.js';
import { derivativeForms, outputForms, trueDelta, type DerivativeForm, type OutputForm } from './forms.js';
import { ACTIVATION_SWAP, L2_MISSING, OUTPUT_GRADIENT, REDUCTION, SOFTMAX_DIAGONAL, WRONG_VARIABLE, type Mutation } from './mutations.js';

/** The formulas a spec's backward block declares (the shape of io/spec.ts's DeclaredBackward). */
export interface DeclaredFormulas {
  outputGradient?: Formula;
  outputDelta?: Formula;
  /** One per layer; null = the correct derivative. */
  activationDerivatives: (Formula | null)[];
  reduction?: Reduction;
  l2?: boolean;
}

/** Pre-activations spread over where activations bend and saturate (0 itself is avoided: kinks). */
const Z_GRID = [-4.3, -2.9, -1.7, -0.93, -0.41, -0.07, 0.13, 0.52, 1.09, 2.3, 3.7];
/** At most this many of a layer's (unit, sample) values join the grid. */
const DATA_POINTS = 4000;

interface Points {
  z: number[];
  a: number[];
  y: number[];
}

/** Equal to 1e-9 relative; points where the truth is not finite say nothing. */
function agrees(fn: (z: number, a: number, y: number) => number, truth: (z: number, a: number, y: number) => number, p: Points): boolean {
  for (let i = 0; i < p.z.length; i++) {
    const t = truth(p.z[i], p.a[i], p.y[i]);
    if (!Number.isFinite(t)) continue;
    const u = fn(p.z[i], p.a[i], p.y[i]);
    if (!(Math.abs(u - t) <= 1e-9 * Math.max(1, Math.abs(u), Math.abs(t)))) return false;
  }
  return true;
}

/** The output at a single element; for a coupled one (softmax) a stand-in in its range (0, 1). */
function elementwise(g: Activation): (z: number) => number {
  return g.diagonal ? g.f : sigmoid;
}

function layerPoints(net: Net, l: number, ys: readonly number[] = [0]): Points {
  const g = net.model.layers[l].activation;
  const p: Points = { z: [], a: [], y: [] };
  for (const z of Z_GRID) for (const y of ys) { p.z.push(z); p.a.push(elementwise(g)(z)); p.y.push(y); }
  const Z = net.fwd.Z[l].data, A = net.fwd.A[l + 1].data;
  const last = l === net.model.layers.length - 1;
  const step = Math.max(1, Math.floor(Z.length / DATA_POINTS));
  for (let i = 0; i < Z.length; i += step) {
    // Exactly at a kink any subgradient is right, so such a point cannot tell formulas apart.
    if (g.kinks.includes(Z[i]) || g.onKink?.(Z[i])) continue;
    p.z.push(Z[i]); p.a.push(A[i]); p.y.push(last ? net.Y.data[i] : 0);
  }
  return p;
}

/** Targets worth trying for the loss: labels for the cross-entropies, real values otherwise. */
function targetGrid(net: Net): number[] {
  const { targets } = net.model.loss;
  if (targets === 'probability') return [0, 1, 0.3];
  if (targets === 'one-hot') return [0, 1];
  return [-1.2, 0, 0.6, 2.1];
}

/**
 * The catalogued form the declared formula equals on the points; one written exactly as declared
 * first (for |z|, "1" is both identity' and sign(·) fed a = |z|: the user wrote identity').
 */
function identifyDerivative(g: Activation, f: Formula, p: Points): DerivativeForm | undefined {
  const fn = (z: number, a: number) => f.fn(z, a, 0);
  const matching = derivativeForms(g).filter((form) => agrees(fn, form.fn, p));
  return matching.find((form) => form.text === f.source) ?? matching[0];
}

function derivativeMutation(net: Net, l: number, f: Formula, form: DerivativeForm | undefined): Mutation {
  const values = layerValues(net, l, (z, a) => f.fn(z, a, 0));
  // a(1 − a) at a softmax whose loss needs the whole Jacobian is the diagonal-only mistake.
  if (SOFTMAX_DIAGONAL.appliesTo(net, l) && agrees((z, a) => f.fn(z, a, 0), (_z, a) => a * (1 - a), layerPoints(net, l))) {
    return { kind: SOFTMAX_DIAGONAL, layer: l, detail: { text: f.source, label: 'the diagonal of the softmax Jacobian', values, declaredAt: `backward.activationDerivatives[${l}]` } };
  }
  const kind = form?.own ? WRONG_VARIABLE : ACTIVATION_SWAP;
  const label = form ? (form.text === f.source ? form.label : `which is ${form.label}`) : `which is not the derivative of any supported activation`;
  return { kind, layer: l, detail: { text: f.source, label, of: form?.of, values, declaredAt: `backward.activationDerivatives[${l}]` } };
}

function outputMutation(net: Net, f: Formula, kind: OutputForm['kind'], form: OutputForm | undefined): Mutation {
  const values = outputValues(net, f.fn);
  return {
    kind: OUTPUT_GRADIENT,
    layer: net.model.layers.length - 1,
    detail: { text: f.source, label: form?.label, values, outputKind: kind, declaredAt: `backward.${kind === 'delta' ? 'outputDelta' : 'outputGradient'}` },
  };
}

/**
 * Whether gradient × derivative at a softmax output (the one coupled output) gives its ∂L/∂z:
 * with categorical cross-entropy a·Σy − y (a − y for one-hot y), with any other loss the
 * Jacobian applied to the loss's ∂L/∂a. Checked on the data's columns and on a synthetic batch of
 * one-hot columns.
 */
function softmaxProductRight(net: Net, g: Activation, gradient: (z: number, a: number, y: number) => number, derivative: Formula | null): boolean {
  const canonical = net.model.loss.canonicalActivation === g.name;
  const L = net.model.layers.length;
  const K = net.model.layers[L - 1].units;
  const batches: { z: Float64Array; a: Float64Array; y: Float64Array; m: number }[] = [
    { z: net.fwd.Z[L - 1].data, a: net.fwd.A[L].data, y: net.Y.data, m: net.m },
  ];
  const m = Z_GRID.length;
  const z = new Float64Array(K * m), y = new Float64Array(K * m), a = new Float64Array(K * m);
  for (let k = 0; k < K; k++) for (let c = 0; c < m; c++) z[k * m + c] = Z_GRID[(c + 3 * k) % m];
  for (let c = 0; c < m; c++) y[(c % K) * m + c] = 1;
  g.forward(z, a, K, m);
  batches.push({ z, a, y, m });
  for (const b of batches) {
    const dA = new Float64Array(b.a.length), dZ = new Float64Array(b.a.length);
    for (let i = 0; i < dA.length; i++) dA[i] = gradient(b.z[i], b.a[i], b.y[i]);
    if (derivative) for (let i = 0; i < dZ.length; i++) dZ[i] = dA[i] * derivative.fn(b.z[i], b.a[i], 0);
    else g.backward(b.z, b.a, dA, dZ, K, b.m);
    // The truth for a non-canonical loss: Jᵀ·∂L/∂a with the loss's own ∂L/∂a.
    let jacobian: Float64Array | null = null;
    if (!canonical) {
      const truth = new Float64Array(b.a.length);
      for (let i = 0; i < truth.length; i++) truth[i] = net.model.loss.gradient(b.a[i], b.y[i]);
      jacobian = new Float64Array(b.a.length);
      g.backward(b.z, b.a, truth, jacobian, K, b.m);
    }
    for (let c = 0; c < b.m; c++) {
      let sy = 0;
      for (let k = 0; k < K; k++) sy += b.y[k * b.m + c];
      for (let k = 0; k < K; k++) {
        const i = k * b.m + c;
        const t = jacobian ? jacobian[i] : b.a[i] * sy - b.y[i];
        if (!(Math.abs(dZ[i] - t) <= 1e-9 * Math.max(1, Math.abs(t)))) return false;
      }
    }
  }
  return true;
}

/**
 * Whether an element-wise outputDelta equals a coupled output's ∂L/∂z (its Jacobian applied to
 * ∂L/∂a, no element-wise formula) on the data: the only points where it can be compared.
 */
function deltaAgreesOnData(net: Net, f: Formula): boolean {
  const used = outputValues(net, f.fn);
  const right = outputDelta(net, { kind: 'gradient', values: outputValues(net, (_z, a, y) => net.model.loss.gradient(a, y)) }, null).data;
  for (let i = 0; i < used.length; i++) if (!(Math.abs(used[i] - right[i]) <= 1e-9 * Math.max(1, Math.abs(right[i])))) return false;
  return true;
}

/** The mistakes a declared backward block makes, one Mutation per mistake and layer. */
export function analyseDeclared(net: Net, declared: DeclaredFormulas): Mutation[] {
  const { model } = net;
  const L = model.layers.length;
  const out: Mutation[] = [];
  const outLayer = model.layers[L - 1].activation;
  const forms = outputForms(outLayer, model.loss);
  const points = layerPoints(net, L - 1, targetGrid(net));
  const gradientTruth = (_z: number, a: number, y: number) => model.loss.gradient(a, y);

  if (declared.outputDelta) {
    const f = declared.outputDelta;
    const delta = trueDelta(outLayer, model.loss);
    if (delta ? !agrees(f.fn, delta, points) : !deltaAgreesOnData(net, f)) {
      const form = forms.find((x) => x.kind === 'delta' && x.mistake !== 'correct' && agrees(f.fn, x.fn, points));
      out.push(outputMutation(net, f, 'delta', form));
    }
  } else {
    const grad = declared.outputGradient;
    const deriv = declared.activationDerivatives[L - 1];
    const gradFn = grad ? grad.fn : gradientTruth;
    const productRight = !outLayer.diagonal
      ? softmaxProductRight(net, outLayer, gradFn, deriv)
      : agrees((z, a, y) => gradFn(z, a, y) * (deriv ? deriv.fn(z, a, 0) : outLayer.derivative(z, a)), trueDelta(outLayer, model.loss)!, points);
    if (!productRight) {
      if (grad && !agrees(grad.fn, gradientTruth, points)) {
        const form = forms.find((x) => x.kind === 'gradient' && x.mistake !== 'correct' && agrees(grad.fn, x.fn, points));
        out.push(outputMutation(net, grad, 'gradient', form));
      }
      const derivTruth = (z: number, a: number) => outLayer.derivative(z, a);
      if (deriv && (!outLayer.diagonal || !agrees((z, a) => deriv.fn(z, a, 0), derivTruth, points))) {
        out.push(derivativeMutation(net, L - 1, deriv, identifyDerivative(outLayer, deriv, points)));
      }
    }
  }

  for (let l = 0; l < L - 1; l++) {
    const f = declared.activationDerivatives[l];
    if (!f) continue;
    const g = model.layers[l].activation;
    const p = layerPoints(net, l);
    const fn = (z: number, a: number) => f.fn(z, a, 0);
    if (agrees(fn, (z, a) => g.derivative(z, a), p)) continue;
    out.push(derivativeMutation(net, l, f, identifyDerivative(g, f, p)));
  }

  // A declared reduction scales every entry's parameter gradients, the L2 term every W's (dense
  // and conv2d); entries without them (pooling, flatten, dropout, activation) have nothing to scale.
  if (declared.reduction && declared.reduction !== model.reduction && net.m > 1) {
    const s = declared.reduction === 'mean' ? 1 / net.m : 1;
    model.layers.forEach((_x, l) => { if (Object.keys(net.params[l]).length > 0) out.push({ kind: REDUCTION, layer: l, detail: { s, which: 'both' } }); });
  }
  if (declared.l2 === false && net.c2 !== 0) {
    model.layers.forEach((_x, l) => { if (net.params[l].W !== undefined) out.push({ kind: L2_MISSING, layer: l, detail: {} }); });
  }
  return out;
}
