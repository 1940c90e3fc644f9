// Recovering the formula the code used, where the catalogue runs out. At a dense layer where the
// fingerprint search finds no catalogued way of forming dZ (fingerprint.ts calls this only then),
// the layer's own tensors say what the code computed: dW_l = s·(dA ⊙ r)·A_{l−1}ᵀ (+ the penalty)
// and db_l = s·Σ_samples (dA ⊙ r) are linear in r, so if the code's local derivative is
// r = c₁·t₁ + c₂·t₂ for terms t of a small library (1, z, a, z², a², z·a, a(1 − a), 1 − a², σ(z),
// tanh(z), the step z > 0, and each of them times the true derivative g'), the coefficients follow
// from the user's dW and db by least squares. Every subset of one or two terms is solved (best
// subset; simple coefficients such as 1, −1, 0.5 preferred when they fit as well), and a subset
// counts only when it reproduces dW and db to MATCH; the search then verifies it, and the layers
// below it, on the full tensors as it verifies every catalogued mistake.
//
// The dA the layer multiplies may itself be wrong, in ways the catalogue's fixed variants do not
// cover: the next layer's dA passed down instead of its dZ (σ' missing from the delta that is
// passed on), that dA passed straight down without Wᵀ (the output error broadcast), the incoming
// gradient dropped altogether (dZ = g'(Z) alone), or the weights after this step's update,
// (W − η·dW)ᵀ·dZ with the user's own dW and η by least squares. Each is tried as a source of dA,
// with the library above on top of it.
// The backprop chain has no hook for "another W", so such a dA is carried into the chain as the
// per-element ratio dA_used/dA_right on the derivative step: exact where dA_right ≠ 0 (a source
// that needs it where dA_right = 0 is not tried), and the whole reconstruction is verified anyway.
import { biasGradient, inputGradient } from '../layers/dense.js';
import { typeOf } from '../layers/index.js';
import type { Tensor } from '../tensor.js';
import { incomingApplies, incomingGradient, layerValues, outputValues, type Chain, type Net } from './chain.js';
import { combination, dot, matches } from './fit.js';
import { fmt, layersText } from '../format.js';
// Types only: mutations.ts lists these records in MISTAKE_KINDS, so a value import would be a cycle.
import type { Detail, MistakeKind, Mutation, Text } from './mutations.js';

/** A candidate factor of the library: how it reads in a message (z, a) and in NumPy (Z1, A1). */
interface Term {
  text: string;
  numpy: (Z: string, A: string) => string;
  fn: (z: number, a: number) => number;
  /** Whether the text needs brackets as a factor of a product. */
  sum: boolean;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The library, most plausible first (a term equal to an earlier one on the data is its alias). */
const BASE: Term[] = [
  { text: '1', numpy: () => '1', fn: () => 1, sum: false },
  { text: 'a', numpy: (_Z, A) => A, fn: (_z, a) => a, sum: false },
  { text: 'z', numpy: (Z) => Z, fn: (z) => z, sum: false },
  { text: 'a * (1 - a)', numpy: (_Z, A) => `${A} * (1 - ${A})`, fn: (_z, a) => a * (1 - a), sum: false },
  { text: '1 - a**2', numpy: (_Z, A) => `1 - ${A}**2`, fn: (_z, a) => 1 - a * a, sum: true },
  { text: 'a**2', numpy: (_Z, A) => `${A}**2`, fn: (_z, a) => a * a, sum: false },
  { text: 'z**2', numpy: (Z) => `${Z}**2`, fn: (z) => z * z, sum: false },
  { text: 'z * a', numpy: (Z, A) => `${Z} * ${A}`, fn: (z, a) => z * a, sum: false },
  { text: 'sigmoid(z)', numpy: (Z) => `1 / (1 + np.exp(-${Z}))`, fn: sigmoid, sum: false },
  { text: 'tanh(z)', numpy: (Z) => `np.tanh(${Z})`, fn: Math.tanh, sum: false },
  { text: '(z > 0)', numpy: (Z) => `(${Z} > 0).astype(float)`, fn: (z) => (z > 0 ? 1 : 0), sum: false },
  { text: '1 - z**2', numpy: (Z) => `1 - ${Z}**2`, fn: (z) => 1 - z * z, sum: true },
  // sech(a) for tanh' (its derivative is sech²(z) = 1 − a²), as in dZ = dA * SECH(A) (corpus case 10).
  { text: 'sech(a)', numpy: (_Z, A) => `1 / np.cosh(${A})`, fn: (_z, a) => 1 / Math.cosh(a), sum: false },
  { text: 'sech(z)', numpy: (Z) => `1 / np.cosh(${Z})`, fn: (z) => 1 / Math.cosh(z), sum: false },
];

/** The true derivative of a built-in activation in NumPy, the way the fix should read. */
function rightNumpy(name: string, alpha: number | undefined, Z: string, A: string): string | null {
  if (name === 'sigmoid') return `${A} * (1 - ${A})`;
  if (name === 'tanh') return `1 - ${A}**2`;
  if (name === 'relu') return `(${Z} > 0).astype(float)`;
  if (name.startsWith('leaky_relu')) return `np.where(${Z} > 0, 1, ${alpha})`;
  if (name.startsWith('elu')) return `np.where(${Z} > 0, 1, ${A} + ${alpha})`;
  if (name === 'softplus') return `1 / (1 + np.exp(-${Z}))`;
  if (name === 'linear') return '1';
  return null;
}

/** A dA the layer may have multiplied: the right one, or a recovered wrong one (its mutation). */
export interface Source {
  dA: Tensor;
  hop: Mutation | null;
}

/** What the layer's tensors are compared in (fingerprint.ts: projected for a large layer). */
export interface LayerFit {
  /** dZ·A_{l−1}ᵀ without its scale, as the search compares dW. */
  term(dZ: Tensor): Float64Array;
  /** The tested dW, and the right penalty β·P(W) in the same space (null: none). */
  T: Float64Array;
  penalty: Float64Array | null;
  /** The tested db (null: the layer has none). */
  tb: Float64Array | null;
  /**
   * The 1/m pairs dW and db may use, the right one first, then the catalogue's scale variants (a
   * dW without 1/m): a recovered derivative is fitted with each until one fits, and the search then
   * names the scale as the catalogue's mistake when it explains the layer (fingerprint.ts).
   */
  scales?: { w: number; b: number }[];
}

export interface Recovered {
  dZ: Tensor;
  mutations: Mutation[];
  /** How many fitted parameters it took (coefficients, η). */
  fitted: number;
}

/** Extra facts of a recovered mistake, beyond the catalogue's Detail. */
interface RecoveredDetail extends Detail {
  /** The derivative as recovered, in NumPy, for the fix ("(1 - A1**2) * Z1"). */
  numpy?: string;
  /** Why it is this mistake, in a user's words ("the activation itself"). */
  reading?: string;
  /** For a recovered dA: dA_used/dA_right per element, and how it was made. */
  ratio?: Float64Array;
  how?: 'updated' | 'passed' | 'straight' | 'dropped' | 'deleted';
  /** For a deleted column: which (0-based) of [W | b]. */
  column?: number;
  /** The recovered derivative's coefficients, one per term. */
  coefficients?: number[];
  /** For a derivative formula fed the output error: whether dA multiplies it. */
  atError?: 'times dA' | 'delta';
}

const detailOf = (m: Mutation) => m.detail as RecoveredDetail;

/** Equations per fitted coefficient a fit must have before it can mean anything. */
const OVERDETERMINED = 3;

/**
 * The recovered ways layer l computed its dZ from the sources, best first: each source × each
 * subset of one or two library terms whose least-squares fit reproduces dW and db. The true
 * derivative on the right dA is no mistake, and is left out.
 */
export function recoverAt(net: Net, l: number, sources: Source[], fit: LayerFit): Recovered[] {
  const layer = net.model.layers[l];
  const g = layer.activation;
  if (typeOf(layer) !== 'dense' || !g.diagonal) return [];
  const truth = layerValues(net, l, (z, a) => g.derivative(z, a));
  const output = l === net.model.layers.length - 1;
  const terms = library(net, l, truth);
  // At the output, the terms in the error e = a − y too, with the one source (∂L/∂a) they are relative to.
  if (output && sources.length === 1 && sources[0].hop === null) terms.push(...errorTerms(net, l, truth, sources[0].dA));
  const y = target(fit);
  const out: Recovered[] = [];
  for (const scale of fit.scales ?? [{ w: net.s, b: net.s }]) {
    for (const source of sources) {
      const columns = terms.map((t) => column(net, fit, source.dA, t.values, scale));
      const found = bestSubsets(columns, y, fit);
      for (const f of found) {
        const r = new Float64Array(truth.length);
        f.coefficients.forEach((c, i) => { const v = terms[f.indices[i]].values; for (let e = 0; e < r.length; e++) r[e] += c * v[e]; });
        // A constant multiple of the true derivative is a factor on dZ (constant-factor, or a loss
        // convention), which the catalogue and the error decomposition name: not a formula recovered.
        if (source.hop === null && multipleOf(r, truth)) continue;
        const dZ = times(source.dA, r);
        const mutations: Mutation[] = [];
        // r equal to the true derivative on a recovered dA: the dA is the whole mistake.
        if (!matches(r, truth)) {
          const used = f.indices.map((i) => terms[i]);
          // g's own formula fed the output error e = a − y instead of a: the right derivative at the wrong variable.
          const atError = used.length === 1 && f.coefficients[0] === 1 ? used[0].atError : undefined;
          const detail = derivativeDetail(net, l, used, f.coefficients, r, truth);
          mutations.push(atError ? { kind: RECOVERED_AT_ERROR, layer: l, detail: { ...detail, atError } as RecoveredDetail } : { kind: RECOVERED_DERIVATIVE, layer: l, detail });
        }
        if (source.hop) mutations.push(source.hop);
        out.push({ dZ, mutations, fitted: f.indices.length + (source.hop ? 1 : 0) });
      }
    }
    // The right 1/m first: another scale only where it finds nothing, or only with a coefficient
    // other than ±1 (3·sech(a) with db divided by m = 3 once more is sech(a) with dW lacking its 1/m).
    if (out.some(unit)) break;
  }
  return out.sort((x, y) => x.mutations.length - y.mutations.length || Number(unit(y)) - Number(unit(x)) || x.fitted - y.fitted);
}

/** Whether a recovery reads with coefficients ±1 only (or recovers a dA alone). */
function unit(r: Recovered): boolean {
  return r.mutations.every((m) => (m.detail as RecoveredDetail).coefficients?.every((c) => Math.abs(c) === 1) ?? true);
}

/**
 * The sources of dA at hidden layer l, given the layer above as the search reconstructed it (its
 * dZ, the dA that dZ was made from, and the next entry's mistaken backward): the right Wᵀ·dZ, dZ
 * broadcast without Wᵀ, Wᵀ·dA (the next layer's derivative missing from what is passed down), and
 * (W − η·dW)ᵀ·dZ with the user's dW of the next layer (η fitted on layer l's tensors).
 */
export function sourcesAt(net: Net, l: number, above: { dZ: Tensor; dA?: Tensor; mistake?: string }, skip: Mutation | null, testedNextW: Tensor | null, fit: LayerFit, testedNextB: Tensor | null = null): Source[] {
  const right = incomingGradient(net, l, above.dZ, 'transpose', above.mistake);
  const out: Source[] = [{ dA: right, hop: null }];
  const next = net.model.layers[l + 1];
  if (!next || typeOf(next) !== 'dense' || above.mistake !== undefined) return out;
  // The catalogue's own record of a skipped Wᵀ (BACKPROP_WEIGHT), passed in by the search.
  if (skip && incomingApplies(net, l, 'skip')) out.push({ dA: incomingGradient(net, l, above.dZ, 'skip'), hop: skip });
  if (above.dA && !matches(above.dA.data, above.dZ.data)) {
    const dA = incomingGradient(net, l, above.dA, 'transpose');
    const hop = ratioHop(net, l, dA, right, { how: 'passed', text: `W${l + 2}ᵀ·dA${l + 2}` });
    if (hop) out.push({ dA, hop });
    // The error above passed straight down: dA_{l+1} itself (broadcast from one row), no Wᵀ, no g'.
    if (incomingApplies(net, l, 'skip')) {
      const straight = incomingGradient(net, l, above.dA, 'skip');
      const hop2 = ratioHop(net, l, straight, right, { how: 'straight', text: `dA${l + 2}` });
      if (hop2) out.push({ dA: straight, hop: hop2 });
    }
  }
  // The incoming gradient dropped: dZ = g'(Z) alone (dZ = relu_prime(Z) where dZ = dA * relu_prime(Z) was meant).
  const ones: Tensor = { shape: right.shape, data: new Float64Array(right.data.length).fill(1) };
  const dropped = ratioHop(net, l, ones, right, { how: 'dropped', text: '1' });
  if (dropped) out.push({ dA: ones, hop: dropped });
  if (testedNextW) {
    const eta = updatedStep(net, l, above.dZ, right, testedNextW, fit);
    if (eta !== null) {
      const dA = updatedIncoming(net, l, above.dZ, right, testedNextW, eta);
      const hop = ratioHop(net, l, dA, right, { how: 'updated', k: eta, text: `(W${l + 2} - ${fmt(eta)} * dW${l + 2})ᵀ·dZ${l + 2}` });
      if (hop) out.push({ dA, hop });
    }
    if (testedNextB) out.push(...deletedColumns(net, l, above.dZ, right, testedNextW, testedNextB, fit));
  }
  return out;
}

/**
 * A layer that keeps its bias as the last column of one matrix M = [W | b] and passes dA down
 * through M with a column deleted, the wrong one (np.delete(M, k, 1) with k left over from another
 * layer size, corpus case 07): unit j ≥ k then gets unit j + 1's weights and the last unit the
 * bias. Each k is tried with the forward pass's M and with the updated M − η·[dW | db] (η by least
 * squares), with the layer's true derivative only; a source is kept only where it reproduces.
 */
function deletedColumns(net: Net, l: number, dZ: Tensor, right: Tensor, dW: Tensor, db: Tensor, fit: LayerFit): Source[] {
  const g = net.model.layers[l].activation;
  const { W, b } = net.params[l + 1];
  if (!g.diagonal || !b || b.data.length !== W.shape[0]) return [];
  const [rows, cols] = W.shape;
  const truth = layerValues(net, l, (z, a) => g.derivative(z, a));
  const y = target(fit);
  // M with column k deleted, as a rows × cols matrix.
  const without = (w: Float64Array, bias: Float64Array, k: number): Tensor => {
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = j < k ? w[i * cols + j] : j + 1 < cols ? w[i * cols + j + 1] : bias[i];
    return { shape: [rows, cols], data };
  };
  const out: Source[] = [];
  for (let k = 0; k < cols; k++) {
    const base = inputGradient(without(W.data, b.data, k), dZ);
    const step = inputGradient(without(dW.data, db.data, k), dZ);
    const p = column(net, fit, base, truth), q = column(net, fit, step, truth);
    let eta: number | null = null;
    if (reproduces([p], [0], [1], y, fit)) eta = 0;
    else {
      const qq = dot(q, q);
      const e = qq > 0 ? -dot(combination(y, 1, p, -1), q) / qq : NaN;
      const rounded = Number(e.toPrecision(2));
      if (Number.isFinite(e) && reproduces([p, q], [0, 1], [1, -rounded], y, fit)) eta = rounded;
      else if (Number.isFinite(e) && reproduces([p, q], [0, 1], [1, -e], y, fit)) eta = e;
    }
    if (eta === null) continue;
    const dA = { shape: base.shape, data: combination(base.data, 1, step.data, -eta) };
    const hop = ratioHop(net, l, dA, right, { how: 'deleted', k: eta, column: k, text: `column ${k + 1} deleted` });
    if (hop) out.push({ dA, hop });
  }
  return out;
}

/** "units 5 to 7 get the next unit's weights and " (1-based, from..to), or nothing when no unit is shifted. */
function shifted(from: number, to: number): string {
  if (from > to) return '';
  return from === to ? `hidden unit ${from} gets unit ${from + 1}'s weights and ` : `hidden units ${from} to ${to} get the next unit's weights and `;
}

/** The output layer's one source: the right ∂L/∂a. */
export function outputSource(net: Net): Source {
  const L = net.model.layers.length;
  const values = outputValues(net, (_z, a, y) => net.model.loss.gradient(a, y));
  return { dA: { shape: [net.model.layers[L - 1].units, net.m], data: values }, hop: null };
}

// ---- the regression ---------------------------------------------------------------------------

interface LibraryTerm extends Term {
  values: Float64Array;
  /** g's formula in a, evaluated at the output error e = a − y: times dA, or as dZ itself (delta). */
  atError?: 'times dA' | 'delta';
}

/**
 * The output layer's terms in the error e = a − y, for code that evaluates a formula at the error
 * it already holds: dz2 = dh2 * (1 - dh2) with dh2 = h2 − y (corpus case 11) is dA ⊙ g'(e) for the
 * sigmoid's a(1 − a). The error itself and g's formula in a at e; y is the user's data.
 */
function errorTerms(net: Net, l: number, truth: Float64Array, dA: Tensor): LibraryTerm[] {
  const g = net.model.layers[l].activation;
  const e = outputValues(net, (_z, a, y) => a - y);
  const E = (A: string) => `(${A} - Y)`;
  const out: LibraryTerm[] = [{ text: 'e', numpy: (_Z, A) => E(A), fn: () => NaN, sum: false, values: e }];
  const inA = g.written?.a;
  if (inA) {
    const text = inA.text.replace(/\^/g, '**');
    const at = e.map((v) => inA.fn(v));
    const term = { text: text.replace(/\ba\b/g, 'e'), numpy: (_Z: string, A: string) => text.replace(/\ba\b/g, E(A)), fn: () => NaN, sum: isSum(text) };
    out.push({ ...term, values: at, atError: 'times dA' });
    // dZ = g'(e) itself, the error not multiplied in: r = g'(e) / dA, where dA ≠ 0 everywhere.
    if (dA.data.every((v) => v !== 0)) out.push({ ...term, values: at.map((v, i) => v / dA.data[i]), atError: 'delta' });
  }
  return out.filter((t) => t.values.every(Number.isFinite) && dot(t.values, t.values) > 0 && !matches(t.values, truth));
}

/** The library at layer l: the base terms, then each times g'; duplicates on the data dropped. */
function library(net: Net, l: number, truth: Float64Array): LibraryTerm[] {
  const g = net.model.layers[l].activation;
  const gText = g.derivativeText.replace(/\^/g, '**');
  const gSum = isSum(gText);
  const Zn = `Z${l + 1}`, An = `A${l + 1}`;
  const gNumpy = rightNumpy(g.name, g.alpha, Zn, An) ?? gText;
  const all: LibraryTerm[] = BASE.map((t) => ({ ...t, values: layerValues(net, l, t.fn) }));
  for (const t of BASE) {
    if (t.text === '1') continue;
    const values = layerValues(net, l, t.fn).map((v, i) => v * truth[i]);
    const br = (s: string, sum: boolean) => (sum ? `(${s})` : s);
    all.push({
      text: `${br(gText, gSum)} * ${br(t.text, t.sum)}`,
      numpy: (Z, A) => `${br(gNumpy.replaceAll(Zn, Z).replaceAll(An, A), gSum)} * ${br(t.numpy(Z, A), t.sum)}`,
      fn: (z, a) => t.fn(z, a) * g.derivative(z, a),
      sum: false,
      values,
    });
  }
  const out: LibraryTerm[] = [];
  for (const t of all) {
    if (!t.values.every(Number.isFinite) || !(dot(t.values, t.values) > 0)) continue;
    if (out.some((o) => matches(o.values, t.values))) continue;
    out.push(t);
  }
  return out;
}

/** [dW − the right penalty, db]: what s·(dA ⊙ r)·Aᵀ and s·Σ(dA ⊙ r) must equal. */
function target(fit: LayerFit): Float64Array {
  const w = fit.penalty ? combination(fit.T, 1, fit.penalty, -1) : fit.T;
  return concat(w, fit.tb);
}

function column(net: Net, fit: LayerFit, dA: Tensor, r: Float64Array, scale = { w: net.s, b: net.s }): Float64Array {
  const D = times(dA, r);
  return concat(combination(fit.term(D), scale.w, null, 0), fit.tb ? combination(biasGradient(D, 1).data, scale.b, null, 0) : null);
}

interface Subset { indices: number[]; coefficients: number[] }

/** Simple values a coefficient is read as when they fit as well: ±1, ±2, ±0.5, ±0.25, ±3, ±4. */
const SIMPLE = [1, -1, 2, -2, 0.5, -0.5, 0.25, -0.25, 3, -3, 4, -4];

/** Every subset of one or two columns whose fit reproduces y (dW part and db part), fewest terms first. */
function bestSubsets(columns: Float64Array[], y: Float64Array, fit: LayerFit): Subset[] {
  const n = columns.length;
  const equations = y.length;
  const gram: number[][] = columns.map((a) => columns.map((b) => dot(a, b)));
  const rhs = columns.map((c) => dot(c, y));
  const yy = dot(y, y);
  if (!(yy > 0)) return [];
  const out: Subset[] = [];
  const accept = (indices: number[], coefficients: number[]) => {
    const snapped = coefficients.map(snap);
    for (const cs of [snapped, coefficients]) {
      if (reproduces(columns, indices, cs, y, fit)) { out.push({ indices, coefficients: cs }); return true; }
    }
    return false;
  };
  // The residual ‖y − X·c‖² = yᵀy − cᵀ·Xᵀy screens a subset before the tensors are compared.
  const screened = (res: number) => res <= 1e-10 * yy;
  // One term: overdetermined enough, or read with a simple coefficient (1, −1, 0.5 …), which is no
  // free parameter, so that every equation is a check (a 1-unit layer: dW's inputs and db).
  for (let i = 0; i < n; i++) {
    const c = rhs[i] / gram[i][i];
    if (!screened(yy - c * rhs[i])) continue;
    if (equations >= OVERDETERMINED + 1) accept([i], [c]);
    else if (equations >= OVERDETERMINED && SIMPLE.includes(snap(c)) && reproduces(columns, [i], [snap(c)], y, fit)) out.push({ indices: [i], coefficients: [snap(c)] });
  }
  if (out.length > 0 || equations < 2 * OVERDETERMINED + 1) return out;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = gram[i][i], b = gram[i][j], d = gram[j][j];
      const det = a * d - b * b;
      if (!(det > 1e-10 * a * d)) continue;
      const ci = (d * rhs[i] - b * rhs[j]) / det, cj = (a * rhs[j] - b * rhs[i]) / det;
      if (screened(yy - ci * rhs[i] - cj * rhs[j])) accept([i, j], [ci, cj]);
      if (out.length >= 4) return out;
    }
  }
  return out;
}

function snap(c: number): number {
  const simple = SIMPLE.find((s) => Math.abs(c - s) <= 1e-6 * Math.abs(s));
  return simple ?? c;
}

function reproduces(columns: Float64Array[], indices: number[], cs: number[], y: Float64Array, fit: LayerFit): boolean {
  const x = new Float64Array(y.length);
  indices.forEach((col, k) => { const c = columns[col]; for (let e = 0; e < x.length; e++) x[e] += cs[k] * c[e]; });
  const w = fit.T.length;
  return matches(x.subarray(0, w), y.subarray(0, w)) && (!fit.tb || matches(x.subarray(w), y.subarray(w)));
}

// ---- recovered dA -------------------------------------------------------------------------------

/** (W − η·dW)ᵀ·dZ = Wᵀ·dZ − η·dWᵀ·dZ. */
function updatedIncoming(net: Net, l: number, dZ: Tensor, right: Tensor, dW: Tensor, eta: number): Tensor {
  const q = inputGradient(dW, dZ);
  return { shape: right.shape, data: combination(right.data, 1, q.data, -eta) };
}

/**
 * η of the updated weights, by least squares on layer l's tensors with its true derivative:
 * y − col(Wᵀ·dZ) = −η·col(dWᵀ·dZ). A step of 0 is no mistake; one that does not reproduce is none.
 */
function updatedStep(net: Net, l: number, dZ: Tensor, right: Tensor, dW: Tensor, fit: LayerFit): number | null {
  const g = net.model.layers[l].activation;
  if (!g.diagonal) return null;
  const truth = layerValues(net, l, (z, a) => g.derivative(z, a));
  const y = target(fit);
  const p = column(net, fit, right, truth);
  const q = column(net, fit, inputGradient(dW, dZ), truth);
  const qq = dot(q, q);
  if (!(qq > 0)) return null;
  const residual = combination(y, 1, p, -1);
  let eta = -dot(residual, q) / qq;
  if (!Number.isFinite(eta) || Math.abs(eta) < 1e-9) return null;
  const rounded = Number(eta.toPrecision(2));
  const fits = (e: number) => reproduces([p, q], [0, 1], [1, -e], y, fit);
  if (fits(rounded)) eta = rounded;
  else if (!fits(eta)) return null;
  return eta;
}

/** The mutation that carries a recovered dA into the chain (null where dA_right = 0 and dA_used ≠ 0). */
function ratioHop(net: Net, l: number, used: Tensor, right: Tensor, detail: RecoveredDetail): Mutation | null {
  const g = net.model.layers[l].activation;
  if (!g.diagonal) return null;
  const ratio = new Float64Array(used.data.length);
  for (let i = 0; i < ratio.length; i++) {
    const r = right.data[i];
    if (r === 0) { if (used.data[i] !== 0) return null; continue; }
    ratio[i] = used.data[i] / r;
  }
  const truth = layerValues(net, l, (z, a) => g.derivative(z, a));
  const full: RecoveredDetail = { ...detail, ratio, values: times({ shape: right.shape, data: truth }, ratio).data };
  return { kind: RECOVERED_INCOMING, layer: l, detail: full };
}

/** Whether r = k·truth for some k (by least squares, to MATCH). */
function multipleOf(r: Float64Array, truth: Float64Array): boolean {
  const tt = dot(truth, truth);
  return tt > 0 && matches(r, combination(truth, dot(r, truth) / tt, null, 0));
}

/** Whether a formula is a sum at its top level ("1 - a**2", not "a * (1 - a)"), so a factor needs brackets. */
function isSum(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (i > 0 && depth === 0 && (ch === '+' || ch === '-') && text[i - 1] === ' ') return true;
  }
  return false;
}

function times(dA: Tensor, r: Float64Array): Tensor {
  const data = new Float64Array(dA.data.length);
  for (let i = 0; i < data.length; i++) data[i] = dA.data[i] * r[i];
  return { shape: dA.shape, data };
}

function concat(a: Float64Array, b: Float64Array | null): Float64Array {
  if (!b) return a;
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---- the records --------------------------------------------------------------------------------

/** c·t, written for a message (z, a) or for NumPy. */
function formula(terms: Term[], cs: number[], write: (t: Term) => string): string {
  return terms.map((t, i) => {
    const c = cs[i];
    const body = write(t);
    const factor = isSum(body) && (terms.length > 1 || Math.abs(c) !== 1) ? `(${body})` : body;
    const sign = i === 0 ? (c < 0 ? '-' : '') : c < 0 ? ' - ' : ' + ';
    const mag = Math.abs(c);
    if (body === '1') return `${sign}${fmt(mag)}`;
    return mag === 1 ? `${sign}${factor}` : `${sign}${fmt(mag)} * ${factor}`;
  }).join('');
}

function derivativeDetail(net: Net, l: number, terms: LibraryTerm[], cs: number[], r: Float64Array, truth: Float64Array): RecoveredDetail {
  const g = net.model.layers[l].activation;
  const Zn = `Z${l + 1}`, An = `A${l + 1}`;
  const text = formula(terms, cs, (t) => t.text);
  const numpy = formula(terms, cs, (t) => t.numpy(Zn, An));
  const activation = layerValues(net, l, (z, a) => a);
  const squared = truth.map((v) => v * v);
  let reading: string | undefined;
  if (matches(r, activation)) reading = `the activation itself (${g.name}(z)) in place of its derivative, as in ${g.name}_d(x) = ${g.name}(x)`;
  else if (matches(r, squared)) reading = `the derivative applied twice (${g.name}' squared)`;
  else if (terms.length === 1 && terms[0].text.includes(' * ') && !matches(r, truth)) {
    const extra = BASE.find((b) => terms[0].text.endsWith(b.sum ? `(${b.text})` : b.text));
    if (extra && cs[0] === 1) reading = `the right derivative times an extra factor ${extra.text}`;
  }
  return { text, numpy, values: r, coefficients: cs, ...(reading ? { reading } : {}) };
}

/** The true derivative of layer l for a fix: "dZ1 = dA1 * (1 - A1**2)". */
function rightFix(net: Net, l: number): string {
  const g = net.model.layers[l].activation;
  const right = rightNumpy(g.name, g.alpha, `Z${l + 1}`, `A${l + 1}`) ?? g.derivativeText.replace(/\^/g, '**');
  return right === '1' ? `dZ${l + 1} = dA${l + 1}` : `dZ${l + 1} = dA${l + 1} * ${isSum(right) ? `(${right})` : right}`;
}

export const RECOVERED_DERIVATIVE: MistakeKind = {
  id: 'recovered-derivative',
  code: 'wrong-local-derivative',
  appliesTo: (net, l) => typeOf(net.model.layers[l]) === 'dense' && net.model.layers[l].activation.diagonal,
  apply: (chain: Chain, m) => { chain.layers[m.layer].derivative = m.detail.values!; },
  key: (m) => `recovered-derivative|${m.detail.text}`,
  describe(group, { net }) {
    const layers = group.map((m) => m.layer);
    const d = detailOf(group[0]);
    const acts = [...new Set(layers.map((l) => net.model.layers[l].activation.name))].join('/');
    const right = [...new Set(layers.map((l) => net.model.layers[l].activation.derivativeText.replace(/\^/g, '**')))].join(' / ');
    const why = d.reading ? `: ${d.reading}` : '';
    const per = group.map((m) => {
      const truth = layerValues(net, m.layer, (z, a) => net.model.layers[m.layer].activation.derivative(z, a));
      const v = m.detail.values!;
      let worst = 0, at = 0;
      for (let i = 0; i < v.length; i++) { const e = Math.abs(v[i] - truth[i]); if (e > worst) { worst = e; at = i; } }
      return `in layer ${m.layer + 1} at z = ${fmt(net.fwd.Z[m.layer].data[at])}, a = ${fmt(net.fwd.A[m.layer + 1].data[at])} yours is ${fmt(v[at])} where ${acts}' is ${fmt(truth[at])}`;
    }).join('; ');
    return {
      message: `${layersText(layers, true)} (${acts}) multipl${layers.length === 1 ? 'ies' : 'y'} dA by ${d.text}${why}; ${acts}' is ${right}. Recovered from your dW and db by regression on candidate terms and verified: your gradients equal backprop with this derivative. On your data ${per}.`,
      fix: layers.map((l) => rightFix(net, l)).join('; ') + ` (your code computes dZ${layers[0] + 1} = dA${layers[0] + 1} * ${numpyFactor(group[0])}).`,
      evidence: { layers: layers.map((l) => l + 1), used: d.text ?? '', right, numpy: d.numpy ?? '' },
    };
  },
};

const numpyFactor = (m: Mutation) => {
  const n = detailOf(m).numpy ?? '';
  return isSum(n) || n.startsWith('1 / ') ? `(${n})` : n;
};

/**
 * The output layer's derivative formula evaluated at the error e = a − y instead of at a (dz2 =
 * dh2 * (1 - dh2) with dh2 = h2 − y): the right formula at the wrong variable, recovered as the
 * library's error term with coefficient 1.
 */
export const RECOVERED_AT_ERROR: MistakeKind = {
  id: 'recovered-at-error',
  code: 'derivative-of-wrong-variable',
  appliesTo: (net, l) => l === net.model.layers.length - 1 && typeOf(net.model.layers[l]) === 'dense' && net.model.layers[l].activation.diagonal,
  apply: (chain: Chain, m) => { chain.layers[m.layer].derivative = m.detail.values!; },
  key: (m) => `recovered-at-error|${m.detail.text}`,
  describe([m], { net }) {
    const l = m.layer;
    const g = net.model.layers[l].activation;
    const d = detailOf(m);
    const right = g.derivativeText.replace(/\^/g, '**');
    const truth = layerValues(net, l, (z, a) => g.derivative(z, a));
    const v = m.detail.values!;
    let worst = 0, at = 0;
    for (let i = 0; i < v.length; i++) { const e = Math.abs(v[i] - truth[i]); if (e > worst) { worst = e; at = i; } }
    const a = net.fwd.A[l + 1].data[at], y = net.Y.data[at];
    const L = l + 1;
    const what = d.atError === 'delta'
      ? `makes its delta dZ${L} = ${d.text}, without dA${L}: its derivative's formula ${right} evaluated at the output error e = a - y instead of at a, and the error not multiplied in, as in dz${L} = dh${L} * (1 - dh${L}) with dh${L} = a - y`
      : `multiplies dA by ${d.text}: its derivative's formula ${right} evaluated at the output error e = a - y instead of at a`;
    const yours = d.atError === 'delta' ? `dZ${L} = ${d.numpy}` : `dZ${L} = dA${L} * ${numpyFactor(m)}`;
    return {
      message: `Layer ${L} (${g.name}) ${what}. Recovered from your dW and db by regression on candidate terms and verified: your gradients equal backprop with this delta. On your data at a = ${fmt(a)}, y = ${fmt(y)} (e = ${fmt(a - y)}) your factor on dA is ${fmt(v[at])} where ${g.name}' is ${fmt(truth[at])}.`,
      fix: `${rightFix(net, l)}: the derivative at the activation A${L}, times the error dA${L} (your code computes ${yours}).`,
      evidence: { layers: [L], used: d.text ?? '', right, numpy: d.numpy ?? '', a, y, form: d.atError ?? '' },
    };
  },
};

/** A recovered dA: the next layer's dA passed down instead of its dZ, or the weights after the update. */
export const RECOVERED_INCOMING: MistakeKind = {
  id: 'recovered-incoming',
  code: 'wrong-backprop-weight',
  appliesTo: (net, l) => l < net.model.layers.length - 1 && typeOf(net.model.layers[l + 1]) === 'dense',
  apply: (chain: Chain, m) => {
    const steps = chain.layers[m.layer];
    const { ratio } = detailOf(m);
    steps.derivative = steps.derivative ? steps.derivative.map((v, i) => v * ratio![i]) : m.detail.values!;
  },
  key: (m) => `recovered-incoming|${detailOf(m).how}|${m.detail.k ?? ''}|${detailOf(m).column ?? ''}`,
  describe(group, { net }): Text {
    const layers = group.map((m) => m.layer);
    const d = detailOf(group[0]);
    const derivative = (l: number) => {
      const g = net.model.layers[l].activation;
      const n = rightNumpy(g.name, g.alpha, `Z${l + 1}`, `A${l + 1}`) ?? `g'(Z${l + 1})`;
      return isSum(n) ? `(${n})` : n;
    };
    const list = (f: (l: number) => string) => layers.map(f).join(', ');
    if (d.how === 'updated') {
      const eta = d.k!;
      return {
        message: `Your gradients equal backprop with ${list((l) => `dA${l + 1} = (W${l + 2} - ${fmt(eta)} * dW${l + 2})ᵀ·dZ${l + 2}`)}: the weights after this step's update (learning rate η = ${fmt(eta)}, fitted by least squares, with your own dW${layers.map((l) => l + 2).join(', dW')}), not the ones the forward pass used.`,
        fix: `Compute every dA with the forward pass's weights, ${list((l) => `dA${l + 1} = np.dot(W${l + 2}.T, dZ${l + 2})`)}, and update the weights (W -= lr * dW) only after the whole backward pass.`,
        evidence: { layers: layers.map((l) => l + 1), how: 'updated weights', eta, weightLayers: layers.map((l) => l + 2) },
      };
    }
    if (d.how === 'deleted') {
      const eta = d.k!, k = d.column!, n = (l: number) => l + 2;
      const M = (l: number) => eta === 0 ? `[W${n(l)} | b${n(l)}]` : `[W${n(l)} | b${n(l)}] - ${fmt(eta)} * [dW${n(l)} | db${n(l)}]`;
      const units = net.model.layers[layers[0]].units;
      return {
        message: `Your gradients equal backprop with ${list((l) => `dA${l + 1} = Mᵀ·dZ${n(l)}, M = ${M(l)} with column ${k + 1} deleted instead of the bias column ${units + 1}`)}${eta === 0 ? '' : ` (the weights after this step's update, learning rate η = ${fmt(eta)}, fitted by least squares, with your own dW and db)`}: ${shifted(k + 1, units - 1)}unit ${units} gets the bias.`,
        fix: `${list((l) => `dA${l + 1} = np.dot(W${n(l)}.T, dZ${n(l)})`)}: delete the bias column (np.delete(M, -1, 1)), not column ${k + 1}${eta === 0 ? '' : ', with the forward pass\'s weights, and update them (W -= lr * dW) only after the whole backward pass'}.`,
        evidence: { layers: layers.map((l) => l + 1), how: 'column deleted', column: k + 1, eta, weightLayers: layers.map((l) => l + 2) },
      };
    }
    if (d.how === 'straight') {
      const one = (l: number) => net.model.layers[l + 1].units === 1 && net.model.layers[l].units > 1;
      return {
        message: `Your gradients equal backprop with ${list((l) => `dA${l + 1} = dA${l + 2}${one(l) ? ' (one row, broadcast over the units)' : ''}`)}: the error of layer ${layers.map((l) => l + 2).join(', ')} passed straight down, without W${layers[0] + 2}ᵀ and without layer ${layers[0] + 2}'s derivative, instead of W${layers[0] + 2}ᵀ·dZ${layers[0] + 2}.`,
        fix: `${list((l) => `dZ${l + 2} = dA${l + 2} * ${derivative(l + 1)}; dA${l + 1} = np.dot(W${l + 2}.T, dZ${l + 2})`)}.`,
        evidence: { layers: layers.map((l) => l + 1), how: 'error passed straight down', weightLayers: layers.map((l) => l + 2) },
      };
    }
    if (d.how === 'dropped') {
      return {
        message: `Your gradients equal backprop with ${list((l) => `dZ${l + 1}`)} made without the incoming gradient ${list((l) => `dA${l + 1} = W${l + 2}ᵀ·dZ${l + 2}`)}: the layer's derivative factor alone, as if the gradient from above were overwritten (dZ = g'(Z) where dZ = dA * g'(Z) was meant).`,
        fix: `${list((l) => `dZ${l + 1} = np.dot(W${l + 2}.T, dZ${l + 2}) * ${derivative(l)}`)}: multiply the incoming gradient by the derivative (\`dZ *= g'(Z)\`, not \`dZ = g'(Z)\`).`,
        evidence: { layers: layers.map((l) => l + 1), how: 'dA dropped', weightLayers: layers.map((l) => l + 2) },
      };
    }
    return {
      message: `Your gradients equal backprop with ${list((l) => `dA${l + 1} = W${l + 2}ᵀ·dA${l + 2}`)} instead of W${layers[0] + 2}ᵀ·dZ${layers[0] + 2}: the delta passed down lacks layer ${layers.map((l) => l + 2).join(', ')}'s derivative (dZ = dA ⊙ g'(Z)), although dW${layers[0] + 2} uses it.`,
      fix: `${list((l) => `dA${l + 1} = np.dot(W${l + 2}.T, dZ${l + 2})`)}, with dZ${layers[0] + 2} the delta that already includes the derivative.`,
      evidence: { layers: layers.map((l) => l + 1), how: 'dA passed down', weightLayers: layers.map((l) => l + 2) },
    };
  },
};

/** The records of this file, for the catalogue (MISTAKE_KINDS); the search tries them only through recoverAt. */
export const RECOVERED_KINDS: MistakeKind[] = [RECOVERED_DERIVATIVE, RECOVERED_AT_ERROR, RECOVERED_INCOMING];
