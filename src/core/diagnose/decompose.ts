// The error itself, decomposed: for a failing tensor, E = G − Ĝ (G under test, Ĝ the reference —
// correct backprop for net.json, the finite-difference gradient for --model) is fitted by least
// squares on a few interpretable directions, one at a time and then in pairs with Ĝ:
//   Ĝ (a factor k), the parameter's own value (an L2 term on W, a penalty on b), sign(W) (L1),
//   a constant, Ĝᵀ (square tensors), another tensor's gradient (db as the row sums of dW, the dW
//   of another layer of the same shape), and broadcast structure (every row or column of G equal).
// A direction that reproduces G to the match threshold (fit.ts's MATCH, or the differences' own
// noise floor for a program) is a finding with its numbers; otherwise the best fit is the "closest"
// evidence of gradient-mismatch. Pure: needs no spec, so it serves net.json and --model alike.
import type { RegisteredFinding } from '../findings/registry.js';
import type { TensorCheck } from '../report.js';
import type { Tensor } from '../tensor.js';
import { MATCH, combination, dot, relative } from './fit.js';
import { fmt } from './mutations.js';

/** One tensor: its values under test and the reference, at the compared elements. */
export interface Subject {
  /** The report's name: "W1", "b2", "conv1.weight". */
  label: string;
  /** 1-based layer. */
  layer: number;
  shape: number[];
  /** The compared elements: the gradient under test and the reference (empty for a reference-only tensor). */
  G: Float64Array;
  R: Float64Array;
  /** The parameter's values at the same elements: the W of an L2 term, the b of a bias penalty. */
  value: Float64Array | null;
  /** Whether G and R hold every element in storage order (the structure directions need all). */
  full: boolean;
  /** The match threshold for this tensor (relative, as fit.ts's MATCH). */
  match?: number;
}

/** What the spec says about the L2 term, when there is a spec. */
export interface Penalty {
  /** The coefficient of W in the right dW: λ/m (mean), λ (sum), 0 with no penalty. */
  c2: number;
  m: number;
  reduction: 'mean' | 'sum';
}

/** One tensor's best fit: G ≈ a·Ĝ + b·D (a fixed to 1 or 0 for the single directions). */
interface Fit {
  subject: Subject;
  code: RegisteredFinding['code'];
  /** The direction's name in formulas ("W1", "sign(W1)", "1", "Ĝᵀ", "dW2", …). */
  direction: string;
  kind: 'factor' | 'value' | 'sign' | 'constant' | 'replace' | 'broadcast';
  a: number;
  b: number;
  residual: number;
  /** Free numbers of the fit: it says something only about a tensor with more elements than these. */
  coefs: number;
  /** A (broadcast) statement about G's structure. */
  structure?: string;
}

export interface Decomposition {
  findings: RegisteredFinding[];
  /** Labels the findings explain. */
  explained: Set<string>;
  /** The closest partial fit of every tensor left unexplained, in words. */
  closest: Map<string, { text: string; residual: number }>;
}

const isBias = (label: string) => /(^|[._])(b|bias|beta)\d*$/i.test(label) || /bias/i.test(label);

/** b minimising ‖t − b·d‖. */
function single(t: ArrayLike<number>, d: ArrayLike<number>): number | null {
  const dd = dot(d, d);
  if (!(dd > 0) || !Number.isFinite(dd)) return null;
  const b = dot(t, d) / dd;
  return Number.isFinite(b) ? b : null;
}

/** (a, b) minimising ‖G − a·R − b·D‖, by the 2×2 normal equations; null when R and D are (nearly) parallel. */
function pair(G: ArrayLike<number>, R: ArrayLike<number>, D: ArrayLike<number>): [number, number] | null {
  const rr = dot(R, R), dd = dot(D, D), rd = dot(R, D), gr = dot(G, R), gd = dot(G, D);
  const det = rr * dd - rd * rd;
  if (!(det > 1e-12 * rr * dd)) return null;
  const a = (gr * dd - gd * rd) / det, b = (gd * rr - gr * rd) / det;
  return Number.isFinite(a) && Number.isFinite(b) ? [a, b] : null;
}

function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}

/** x with each row replaced by its mean (axis 1) or each column by its mean (axis 0), or all by the mean (axis null). */
function broadcastOf(x: Float64Array, rows: number, cols: number, axis: 0 | 1 | null): Float64Array {
  const out = new Float64Array(x.length);
  if (axis === null) { out.fill(x.reduce((s, v) => s + v, 0) / x.length); return out; }
  if (axis === 1) for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[i * cols + j];
    for (let j = 0; j < cols; j++) out[i * cols + j] = s / cols;
  } else for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += x[i * cols + j];
    for (let i = 0; i < rows; i++) out[i * cols + j] = s / rows;
  }
  return out;
}

const ROWS = (s: Subject) => s.shape.length >= 2 ? s.shape[0] : s.G.length;
const COLS = (s: Subject) => s.shape.length >= 2 ? s.G.length / s.shape[0] : 1;

/** The replacements: tensors G may be a multiple of instead of Ĝ (full tensors only). */
function replacements(s: Subject, pool: Subject[]): { name: string; C: Float64Array }[] {
  if (!s.full) return [];
  const out: { name: string; C: Float64Array }[] = [];
  const rows = ROWS(s), cols = COLS(s);
  if (s.shape.length === 2 && rows === cols && rows > 1) out.push({ name: `Ĝᵀ (${s.label} transposed)`, C: transpose(s.R, rows, cols) });
  for (const o of pool) {
    if (o.label === s.label || !o.full) continue;
    if (o.R.length === s.R.length && o.shape.join('×') === s.shape.join('×')) out.push({ name: `the gradient of ${o.label}`, C: o.R });
    // db as the row sums of the same layer's dW (the sum over the wrong axis).
    if (isBias(s.label) && !isBias(o.label) && o.layer === s.layer && o.shape.length === 2 && o.shape[0] === s.R.length) {
      const cols2 = o.R.length / o.shape[0];
      const C = new Float64Array(s.R.length);
      for (let i = 0; i < C.length; i++) for (let j = 0; j < cols2; j++) C[i] += o.R[i * cols2 + j];
      out.push({ name: `the row sums of ${o.label}'s gradient`, C });
    }
  }
  return out;
}

/** Every candidate fit of one tensor, best first within its kind; the exact ones are tried in order of simplicity. */
function fits(s: Subject, pool: Subject[]): Fit[] {
  const { G, R } = s;
  const E = combination(G, 1, R, -1);
  const out: Fit[] = [];
  const additive: { kind: Fit['kind']; direction: string; D: Float64Array; code: Fit['code'] }[] = [];
  if (s.value) {
    const bias = isBias(s.label);
    additive.push({ kind: 'value', direction: s.label, D: s.value, code: bias ? 'bias-penalty' : 'wrong-l2-gradient' });
    if (!bias) additive.push({ kind: 'sign', direction: `sign(${s.label})`, D: s.value.map(Math.sign), code: 'l1-gradient' });
  }
  additive.push({ kind: 'constant', direction: '1', D: new Float64Array(G.length).fill(1), code: 'constant-offset' });
  for (const d of additive) {
    const b = single(E, d.D);
    if (b !== null) out.push({ subject: s, code: d.code, direction: d.direction, kind: d.kind, a: 1, b, coefs: 1, residual: relative(G, combination(R, 1, d.D, b)) });
  }
  const k = single(G, R);
  if (k !== null) out.push({ subject: s, code: 'constant-factor', direction: 'Ĝ', kind: 'factor', a: k, b: 0, coefs: 1, residual: relative(G, combination(R, k, null, 0)) });
  for (const r of replacements(s, pool)) {
    // A replacement proportional to Ĝ itself says nothing beyond the factor (a single element is
    // proportional to anything: it counts only by joining a larger tensor's fit, see decompose).
    const kr = single(R, r.C);
    if (kr === null || (R.length > 1 && relative(R, combination(r.C, kr, null, 0)) < 1e-3)) continue;
    const b = single(G, r.C);
    if (b === null) continue;
    const code = r.name.startsWith('Ĝᵀ') ? 'transposed-gradient' : 'gradient-of-other-tensor';
    out.push({ subject: s, code, direction: r.name, kind: 'replace', a: 0, b, coefs: 1, residual: relative(G, combination(r.C, b, null, 0)) });
  }
  if (s.full && G.length > 1) {
    const rows = ROWS(s), cols = COLS(s);
    const axes: { axis: 0 | 1 | null; text: string }[] = [{ axis: null, text: 'every element of G is the same number' }];
    if (cols > 1 && rows > 1) axes.push({ axis: 1, text: 'every row of G is constant (G = u·1ᵀ)' }, { axis: 0, text: 'every row of G is the same row (G = 1·vᵀ)' });
    for (const { axis, text } of axes) {
      const PR = broadcastOf(R, rows, cols, axis);
      if (relative(R, PR) < 1e-3) continue;
      const PG = broadcastOf(G, rows, cols, axis);
      out.push({ subject: s, code: 'broadcast-gradient', direction: axis === null ? 'a scalar' : axis === 1 ? 'u·1ᵀ' : '1·vᵀ', kind: 'broadcast', a: 0, b: 1, coefs: axis === null ? 1 : axis === 1 ? rows : cols, residual: relative(G, PG), structure: text });
      // One structure is enough: the scalar is the strongest statement.
      if (relative(G, PG) <= (s.match ?? MATCH)) break;
    }
  }
  for (const d of additive) {
    const ab = pair(G, R, d.D);
    if (ab) out.push({ subject: s, code: d.code, direction: d.direction, kind: d.kind, a: ab[0], b: ab[1], coefs: 2, residual: relative(G, combination(R, ab[0], d.D, ab[1])) });
  }
  return out;
}

/** "0.5·Ĝ + 0.005·W1" */
function formula(f: Fit): string {
  if (f.kind === 'broadcast') return f.structure!;
  if (f.kind === 'replace') return `G = ${fmt(f.b)}·${f.direction}`;
  if (f.kind === 'factor') return `G = ${fmt(f.a)}·Ĝ`;
  const lead = Math.abs(f.a - 1) <= MATCH ? 'Ĝ' : `${fmt(f.a)}·Ĝ`;
  const sign = f.b < 0 ? '−' : '+';
  return `G = ${lead} ${sign} ${fmt(Math.abs(f.b))}·${f.direction === '1' ? '1 (every element)' : f.direction}`;
}

export function closestText(f: Fit): string {
  return `${f.subject.label}: ${formula(f)}, residual ${fmt(f.residual)}`;
}

const same = (x: number, y: number, tol = 1e-6) => Math.abs(x - y) <= tol * Math.max(Math.abs(x), Math.abs(y), 1e-300);

/**
 * Decomposes each failing tensor's error. `pool` holds every tensor's reference (the failing ones
 * included), for the replacement directions; `penalty` is the spec's L2 term (null: no spec).
 * `allTensors`: how many tensors were checked, so a factor shared by every one of them is left to
 * the loss conventions.
 */
export function decompose(failing: Subject[], pool: Subject[], penalty: Penalty | null, allTensors: number): Decomposition {
  const exact: Fit[] = [];
  const closest = new Map<string, { text: string; residual: number }>();
  const accept = (f: Fit) => f.residual <= (f.subject.match ?? MATCH) && !(f.kind === 'factor' && Math.abs(f.a - 1) <= MATCH);
  // Numbers fitted against finite differences carry their noise: equal to ten times the match threshold.
  const joins = (f: Fit, g: Fit) => {
    const tol = Math.max(1e-6, 10 * (f.subject.match ?? MATCH), 10 * (g.subject.match ?? MATCH));
    return g.code === f.code && g.kind === f.kind && g.direction.replace(/\d+/g, '') === f.direction.replace(/\d+/g, '')
      && same(g.a, f.a, tol) && same(g.b, f.b, tol);
  };
  const left: { s: Subject; candidates: Fit[] }[] = [];
  // Tensors with more elements than a fit's numbers first: only there does an exact fit say anything.
  // A smaller tensor (a (1, 1) db) is explained only by joining such a fit with the same numbers.
  for (const s of failing) {
    // A tensor that equals its reference has no error to explain (the differences disagree with both).
    if (relative(s.G, s.R) <= (s.match ?? MATCH)) continue;
    const candidates = fits(s, pool);
    // Pairs come last in the list: a single direction that explains the error is the simpler statement.
    const hit = candidates.find((f) => accept(f) && s.G.length > f.coefs);
    if (hit) exact.push(hit);
    else left.push({ s, candidates });
  }
  for (const { s, candidates } of left) {
    const hit = candidates.find((f) => accept(f) && exact.some((g) => joins(f, g)));
    if (hit) { exact.push(hit); continue; }
    const best = candidates.filter((f) => Number.isFinite(f.residual) && s.G.length > f.coefs).sort((x, y) => x.residual - y.residual)[0];
    if (best) closest.set(s.label, { text: closestText(best), residual: best.residual });
  }
  // The same factor on every tensor of the net is a loss convention (conventions.ts), not ours to name.
  const factors = exact.filter((f) => f.kind === 'factor');
  if (factors.length === allTensors && factors.length === exact.length && factors.every((f) => same(f.a, factors[0].a))) {
    for (const f of factors) closest.set(f.subject.label, { text: closestText(f), residual: f.residual });
    return { findings: [], explained: new Set(), closest };
  }
  // One finding per code and coefficients: +0.005·W on every dW is one L2 term, not three.
  const groups = new Map<string, Fit[]>();
  for (const f of exact) {
    const key = [...groups.keys()].find((k) => joins(f, groups.get(k)![0])) ?? `${f.code}|${f.subject.label}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const findings = [...groups.values()].map((group) => findingOf(group, penalty));
  return { findings, explained: new Set(exact.map((f) => f.subject.label)), closest };
}

function findingOf(group: Fit[], penalty: Penalty | null): RegisteredFinding {
  const f = group[0];
  const labels = group.map((g) => g.subject.label);
  const layers = [...new Set(group.map((g) => g.subject.layer))].sort((x, y) => x - y);
  const names = labels.join(', ');
  const residual = Math.max(...group.map((g) => g.residual));
  const fits = group.map((g) => `${g.subject.label}: ${formula(g)}`).join('; ');
  const base = {
    severity: 'error' as const,
    layer: Math.max(...layers),
    ...(labels.length === 1 ? { param: labels[0] } : { params: labels }),
    evidence: { tensors: names, layers, a: f.a, b: f.b, direction: f.direction, residual, reproducedTo: residual },
  };
  const scaled = Math.abs(f.a - 1) <= MATCH ? '' : ` and the rest of it is ${fmt(f.a)} times the right gradient`;
  const d = (l: string) => `d${l}`;
  // A coefficient equal to the spec's λ/m says where the number comes from.
  const isL2 = (b: number) => penalty !== null && penalty.c2 > 0 && same(b, penalty.c2);
  const grads = labels.map(d).join(', ');
  const reference = penalty ? 'correct backprop' : "the finite-difference gradient of your program's cost";
  const tail = ` (fitted by least squares on the error G − Ĝ, G the gradient under test and Ĝ ${reference}; reproduces ${names} to ${fmt(residual)}).`;
  switch (f.code) {
    case 'wrong-l2-gradient': {
      const b = f.b;
      if (penalty && penalty.c2 > 0 && same(b, -penalty.c2) && !scaled) {
        return { ...base, code: 'missing-l2-gradient', message: `${grads} lack the L2 term ${fmt(penalty.c2)}·W of the cost${tail}`, fix: `Add ${penalty.reduction === 'mean' ? 'lambd / m * W' : 'lambd * W'} to ${grads} (dW = np.dot(dZ, A_prev.T) / m + lambd / m * W).` };
      }
      const convention = penalty
        ? penalty.c2 > 0
          ? ` The cost's L2 term gives ${fmt(penalty.c2)}·W; your code adds ${fmt(penalty.c2 + b)}·W in all${penalty.reduction === 'mean' ? ` (λ = ${fmt((penalty.c2 + b) * penalty.m)} in the λ/m convention, m = ${penalty.m}, where net.json's is ${fmt(penalty.c2 * penalty.m)})` : ''}.`
          : ` The cost in net.json has no L2 term, so dW should have none; ${penalty.reduction === 'mean' ? `${fmt(b)}·W is λ/m·W with λ = ${fmt(b * penalty.m)} (m = ${penalty.m})` : `${fmt(b)}·W is λ·W with λ = ${fmt(b)}`}.`
        : ` The cost your program computes has no such term: either the cost lacks the penalty ${fmt(b / 2)}·Σ W² (λ/2·‖W‖² with λ = ${fmt(b)}), or dW has a term it should not.`;
      return {
        ...base, code: 'wrong-l2-gradient',
        message: `${grads} carr${labels.length === 1 ? 'ies' : 'y'} an extra ${fmt(b)}·W${scaled}${tail}${convention}`,
        fix: penalty && penalty.c2 === 0
          ? `Remove the L2 term from ${grads} (dW = np.dot(dZ, A_prev.T) / m), or add "l2": { "lambda": ${fmt(penalty.reduction === 'mean' ? b * penalty.m : b)} } to net.json if the cost is meant to have it.`
          : penalty ? `dW = np.dot(dZ, A_prev.T) / m + lambd / m * W with net.json's λ, once.`
          : `Make the cost and the gradient agree: add ${fmt(b / 2)} * np.sum(W ** 2) to the cost, or remove ${fmt(b)} * W from ${grads}.`,
      };
    }
    case 'bias-penalty':
      return { ...base, code: 'bias-penalty', message: `${grads} carr${labels.length === 1 ? 'ies' : 'y'} an extra ${fmt(f.b)}·b: a penalty on the biases${scaled}, which the cost does not have${tail}${isL2(f.b) ? ` ${fmt(f.b)} is the cost's own L2 coefficient λ/m: the weights' L2 term applied to the biases too.` : ''}`, fix: `Regularise the weights only: db = np.sum(dZ, axis=1, keepdims=True) / m, without ${fmt(f.b)} * b.` };
    case 'l1-gradient':
      return { ...base, code: 'l1-gradient', message: `${grads} carr${labels.length === 1 ? 'ies' : 'y'} an extra ${fmt(f.b)}·sign(W): the gradient of an L1 penalty ${fmt(f.b)}·Σ|W|${scaled}, which the cost does not have${tail}`, fix: penalty && penalty.c2 > 0 ? `The cost's penalty is L2: dW = np.dot(dZ, A_prev.T) / m + lambd / m * W, not lambd * np.sign(W).` : `Remove ${fmt(f.b)} * np.sign(W) from ${grads}, or add ${fmt(f.b)} * np.sum(np.abs(W)) to the cost.` };
    case 'constant-offset':
      return { ...base, code: 'constant-offset', message: `${grads} ${labels.length === 1 ? 'is' : 'are'} off by the same constant ${fmt(f.b)} in every element${scaled}${tail}${isL2(f.b) ? ` ${fmt(f.b)} is the cost's L2 coefficient λ/m: the L2 term applied to a column of ones (a bias folded into W, or a ones row in the penalised parameters).` : ''}`, fix: `Look for a number added to ${grads} (a scalar broadcast over the whole array, e.g. db = np.sum(dZ, axis=1, keepdims=True) / m + ${fmt(f.b)}); remove it.` };
    case 'constant-factor':
      return { ...base, code: 'constant-factor', message: `${grads} ${labels.length === 1 ? 'is' : 'are'} ${fmt(f.a)} times the right gradient${f.a === 0 ? ' (zero: the term is missing)' : ''}${tail}`, fix: `Find the stray factor ${fmt(f.a)} in the line that computes ${grads}.` };
    case 'transposed-gradient':
      return { ...base, code: 'transposed-gradient', message: `${grads} ${labels.length === 1 ? 'is' : 'are'} ${fmt(f.b)} times the transpose of the right gradient${tail}`, fix: 'dW = np.dot(dZ, A_prev.T) / m (units × inputs, the shape of W), not np.dot(A_prev, dZ.T) / m.' };
    case 'gradient-of-other-tensor':
      return { ...base, code: 'gradient-of-other-tensor', message: `${grads} ${labels.length === 1 ? 'is' : 'are'} ${fmt(f.b)} times ${f.direction}: the code returns another tensor's gradient here${tail}`, fix: f.direction.includes('row sums') ? 'db = np.sum(dZ, axis=1, keepdims=True) / m: the sum of dZ over the samples, not of dW over its columns.' : `Return ${grads} from its own layer's dZ and input (a variable reused or overwritten from another layer).` };
    case 'broadcast-gradient':
      return { ...base, code: 'broadcast-gradient', message: `In ${grads}, ${f.structure!.replace(/G/g, 'the gradient')}, where the right gradient's are not: a NumPy broadcast of a smaller array over the whole tensor${tail}`, fix: 'Check the shapes before the broadcast: keep the array each term needs (a (units, m) dZ, np.sum(dZ, axis=1, keepdims=True) for db), and assert dW.shape == W.shape and that no (1, m) or (1, 1) array stands for a larger one.' };
    default:
      throw new Error(`decompose: no finding for ${f.code}`);
  }
}

/** One tensor of a program's check: its verdict, its values, and what was compared at which elements. */
export interface ProgramResult {
  check: TensorCheck;
  value: Tensor;
  /** The flat indices compared, in order; null in directional mode (no element to fit a direction at). */
  flats: number[] | null;
  analytic: Float64Array;
  numeric: Float64Array;
}

/**
 * A program's failing tensors (--model) decomposed against their finite-difference gradients. The
 * program's parameter values are the W and b of the penalty directions; only the compared elements
 * enter (sample mode), and the structure directions only where every element was compared. A fit
 * counts as exact to MATCH or to twice the differences' own floor, whichever is larger.
 */
export function programDecomposition(results: ProgramResult[]): RegisteredFinding[] {
  const subjects = results.flatMap((r): Subject[] => {
    if (!r.flats) return [];
    const full = r.flats.length === r.value.data.length && r.flats.every((f, k) => f === k);
    return [{
      label: r.check.param, layer: r.check.layer, shape: r.value.shape.slice(), full,
      G: r.analytic, R: r.numeric, value: Float64Array.from(r.flats, (f) => r.value.data[f]),
      match: Math.max(MATCH, 2 * (r.check.floor ?? 0)),
    }];
  });
  const failing = subjects.filter((s) => results.find((r) => r.check.param === s.label)!.check.status === 'fail');
  if (failing.length === 0) return [];
  return decompose(failing, subjects, null, results.length).findings;
}
