// Loss conventions and data mismatch: gradients that nothing in the catalogue reproduces, yet that
// are exactly correct backprop of a slightly different problem. Either the cost is written by
// another convention (½ or not, a mean over the outputs, a sum over the samples, the a − y delta of
// another loss), or the data or weights the code used differ from the files read by less than the
// digits those files keep. Each is named only when correct backprop of that other problem,
// recomputed here, reproduces every tensor under test to MATCH; otherwise nothing is said and the
// gradient-mismatch finding stands. Called by index.ts for the tensors the fingerprint left unexplained.
import { forward } from '../forward.js';
import type { Model, Grads, Params } from '../model.js';
import { namedLoss, type Loss } from '../records/losses.js';
import type { Tensor } from '../tensor.js';
import type { RegisteredFinding } from '../findings/registry.js';
import type { Finding } from '../report.js';
import { correctChain, evaluate, netOf, type Net } from './chain.js';
import { MATCH, relative } from './fit.js';
import { fmt } from './mutations.js';


/** The tensors under test, each with its label ("W1") and correct backprop's tensor. */
interface Pair { label: string; tested: Float64Array; correct: Float64Array }

function pairsOf(net: Net, tested: Grads, correct: Grads): Pair[] {
  const pairs: Pair[] = [];
  net.model.layers.forEach((_layer, l) => {
    for (const name of Object.keys(correct[l])) {
      const t = tested[l]?.[name];
      if (t) pairs.push({ label: `${name}${l + 1}`, tested: t.data, correct: correct[l][name].data });
    }
  });
  return pairs;
}

/** Correct backprop of another model (a changed loss or reduction) at the same weights and data. */
function backpropOf(net: Net, model: Model, params: Params = net.params, X: Tensor = net.fwd.A[0]): Grads {
  const alt = netOf(model, params, forward(model, params, X, net.Y), net.Y);
  return evaluate(alt, correctChain(alt)).grads;
}

/** The largest relative difference between the tensors under test and a set of gradients. */
function worstAgainst(net: Net, tested: Grads, g: Grads): number {
  let worst = 0;
  for (const p of pairsOf(net, tested, g)) worst = Math.max(worst, relative(p.tested, p.correct));
  return worst;
}

// ---- loss conventions ---------------------------------------------------------------------------

/** The per-unit loss as net.json's { "expr": … } writes it (mathjs), for the built-in losses. */
const EXPR: Record<string, string> = {
  binary_cross_entropy: '-(y * log(a) + (1 - y) * log(1 - a))',
  mean_squared_error: '0.5 * (a - y)^2',
  categorical_cross_entropy: '-y * log(a)',
};

function lossExpr(loss: Loss): string | null {
  if (EXPR[loss.name]) return EXPR[loss.name];
  const custom = /^expr\((.*)\)$/.exec(loss.name);
  return custom ? custom[1] : null;
}

/** f·L. Not canonical with any activation, so a coupled output (softmax) takes its Jacobian. */
function scaledLoss(loss: Loss, f: number): Loss {
  return {
    ...loss,
    name: `${fmt(f)}·${loss.name}`,
    value: (a, y) => f * loss.value(a, y),
    gradient: (a, y) => f * loss.gradient(a, y),
    difference: (a, y, da) => f * loss.difference(a, y, da),
    // Its difference is no longer the one the row batches' kernel writes out.
    kernelForm: undefined,
    canonicalActivation: f === 1 ? loss.canonicalActivation : null,
    gradientTerms: null,
  };
}

/** A mathjs formula in a and y as NumPy on the output layer's arrays: a → A3, y → Y, ^ → **. */
function toNumpy(text: string, A: string): string {
  return text.replace(/\ba\b/g, A).replace(/\by\b/g, 'Y').replace(/\^/g, ' ** ');
}

/** How a sentence names a loss: "binary cross-entropy", or "the loss (a - y)^2" for a custom one. */
function lossWords(loss: Loss): string {
  const custom = /^expr\((.*)\)$/.exec(loss.name);
  return custom ? `the loss ${custom[1]}` : loss.title.toLowerCase();
}

/** The output delta in NumPy for an output activation with a loss: what the code should compute. */
function numpyDelta(loss: Loss, act: string, L: number): string {
  const A = `A${L}`, dA = `dA${L}`, dZ = `dZ${L}`;
  if (loss.canonicalActivation === act) return `${dZ} = ${A} - Y`;
  const grad: Record<string, string> = {
    binary_cross_entropy: `-(Y / ${A} - (1 - Y) / (1 - ${A}))`,
    mean_squared_error: `${A} - Y`,
    categorical_cross_entropy: `-Y / ${A}`,
  };
  const derivative: Record<string, string> = {
    sigmoid: `${dA} * ${A} * (1 - ${A})`,
    tanh: `${dA} * (1 - ${A} ** 2)`,
    linear: dA,
    relu: `${dA} * (Z${L} > 0).astype(float)`,
    softmax: `${A} * (${dA} - np.sum(${A} * ${dA}, axis=0, keepdims=True))`,
  };
  const g = grad[loss.name] ?? toNumpy(loss.gradientText, A), d = derivative[act];
  return g && d ? `${dA} = ${g}; ${dZ} = ${d}` : `${dZ} = ∂L/∂Z${L} of ${loss.name}`;
}

/** One convention the gradients may have been written in: the model it is, and how to say it. */
interface Convention {
  model: Model;
  /** "the squared error without its ½", as a sentence continues "your gradients are those of …". */
  what: string;
  /** The net.json line(s) that declare it. */
  spec: string;
  /** The NumPy change that makes the code follow net.json instead. */
  code: string;
  /** The factor on every tensor, when it is one. */
  k: number | null;
}

function lossLine(loss: Loss, f: number, K: number): string | null {
  if (loss.name === 'mean_squared_error' && Math.abs(f - 2 / K) < 1e-12 && K > 1) return '"loss": { "name": "mean_squared_error", "average": "outputs" }';
  if (loss.name === 'mean_squared_error' && f === 2) return '"loss": { "expr": "(a - y)^2" }';
  const e = lossExpr(loss);
  return e ? `"loss": { "expr": "${fmt(f)} * (${e})" }` : null;
}

function factorWords(loss: Loss, f: number, K: number): string {
  if (loss.name === 'mean_squared_error') {
    if (f === 2) return 'squared error without its ½, (a − y)², whose gradient is 2(a − y)';
    if (K > 1 && Math.abs(f - 2 / K) < 1e-12) return `squared error averaged over the ${K} outputs with no ½, PyTorch's MSELoss(): 2(a − y)/${K}`;
    if (K > 1 && Math.abs(f - 1 / K) < 1e-12) return `squared error ½‖a − y‖² averaged over the ${K} outputs: (a − y)/${K}`;
    if (f === 0.5) return 'squared error with ½ taken twice, ¼‖a − y‖²';
  }
  return f === 1 ? lossWords(loss) : `${fmt(f)} × ${lossWords(loss)}`;
}

/** The conventions worth trying: loss factors, the other reduction, the losses whose a − y delta the output has. */
function conventions(net: Net): Convention[] {
  const { model } = net;
  const L = model.layers.length;
  const out = model.layers[L - 1];
  const K = out.units;
  const act = out.activation?.name ?? '';
  const m = net.m;
  const factors = [...new Set([2, 0.5, ...(K > 1 ? [1 / K, 2 / K] : [])])];
  const other = model.reduction === 'mean' ? 'sum' : 'mean';
  const reductionCode = other === 'sum'
    ? `divide by m as net.json's "reduction": "mean" does: dW${L} = dZ${L} @ A${L - 1}.T / m and db${L} = np.sum(dZ${L}, axis=1, keepdims=True) / m (at every layer)`
    : `drop the / m, as net.json's "reduction": "sum" has it: dW${L} = dZ${L} @ A${L - 1}.T and db${L} = np.sum(dZ${L}, axis=1, keepdims=True) (at every layer)`;
  const reductionWords = other === 'sum' ? `the cost summed over the ${m} samples instead of averaged` : `the cost averaged over the ${m} samples instead of summed`;
  const reductionK = other === 'sum' ? m : 1 / m;
  const list: Convention[] = [];
  const add = (loss: Loss, f: number, reduction: 'mean' | 'sum', what: string, spec: string | null, code: string, k: number | null) => {
    if (spec === null) return;
    list.push({ model: { ...model, loss: f === 1 ? loss : scaledLoss(loss, f), reduction }, what, spec, code, k });
  };
  const deltaCode = (f: number) => `compute the output delta of ${lossWords(model.loss)}, without the factor ${fmt(f)}: ${numpyDelta(model.loss, act, L)}`;
  for (const f of factors) {
    const line = lossLine(model.loss, f, K);
    add(model.loss, f, model.reduction, factorWords(model.loss, f, K), line, deltaCode(f), f);
    add(model.loss, f, other, `${factorWords(model.loss, f, K)}, with ${reductionWords}`, line && `${line}, "reduction": "${other}"`, `${deltaCode(f)}, and ${reductionCode}`, f * reductionK);
  }
  add(model.loss, 1, other, reductionWords, `"reduction": "${other}"`, reductionCode, reductionK);
  // The a − y delta belongs to one loss per output activation; a net with another loss may have been
  // given it. Whether that loss takes these targets does not matter: backprop under it must reproduce.
  for (const name of Object.keys(EXPR)) {
    const loss = namedLoss(name)!;
    if (name === model.loss.name || loss.canonicalActivation !== act || model.loss.canonicalActivation === act) continue;
    const what = `${loss.title.toLowerCase()}, whose delta with a ${act} output is dZ${L} = A${L} - Y`;
    const code = `with ${lossWords(model.loss)} and a ${act} output the delta is not A${L} - Y: ${numpyDelta(model.loss, act, L)}`;
    add(loss, 1, model.reduction, what, `"loss": "${name}"`, code, null);
    add(loss, 1, other, `${what}, with ${reductionWords}`, `"loss": "${name}", "reduction": "${other}"`, `${code}, and ${reductionCode}`, null);
  }
  return list;
}

/** The least-squares factor k of tested against correct over every tensor at once. */
function jointFactor(pairs: Pair[]): number {
  let tr = 0, rr = 0;
  for (const p of pairs) for (let i = 0; i < p.tested.length; i++) { tr += p.tested[i] * p.correct[i]; rr += p.correct[i] * p.correct[i]; }
  return rr > 0 ? tr / rr : NaN;
}

/** What a factor k on every tensor can mean, in words, for a net of K outputs and m samples. */
function meaningsOf(k: number, K: number, m: number): string[] {
  const near = (x: number) => Math.abs(k - x) <= 1e-9 * Math.abs(x);
  const words: string[] = [];
  for (const [f, fw] of [[1, ''], [2, '(a − y)² without the ½'], [0.5, 'a ½ too many'], [2 / K, `PyTorch's MSELoss() mean over the ${K} outputs`], [1 / K, `a mean over the ${K} outputs`]] as const) {
    for (const [r, rw] of [[1, ''], [m, `a sum over the ${m} samples where the cost averages`], [1 / m, `a mean over the ${m} samples where the cost sums`]] as const) {
      if ((f === 1 && r === 1) || (K === 1 && f !== 1 && f !== 2 && f !== 0.5) || !near(f * r)) continue;
      words.push([fw, rw].filter(Boolean).join(' and '));
    }
  }
  return [...new Set(words)];
}

/**
 * loss-convention, when correct backprop under another convention of the cost reproduces every
 * tensor under test to MATCH; or when every tensor is the same factor k times correct backprop.
 */
export function lossConventionFindings(net: Net, tested: Grads, correct: Grads): RegisteredFinding[] {
  const pairs = pairsOf(net, tested, correct);
  // Gradients that equal correct backprop are not in another convention (m = 1 makes sum and mean one).
  if (pairs.length === 0 || worstAgainst(net, tested, correct) <= MATCH) return [];
  const L = net.model.layers.length;
  const labels = pairs.map((p) => p.label);
  const k = jointFactor(pairs);
  for (const c of conventions(net)) {
    const alt = backpropOf(net, c.model);
    const reproducedTo = worstAgainst(net, tested, alt);
    if (!(reproducedTo <= MATCH) || worstAgainst(net, correct, alt) <= MATCH) continue;
    const factor = c.k !== null ? ` Every tensor is ${fmt(c.k)} times the right one.` : '';
    return [{
      code: 'loss-convention',
      severity: 'error',
      layer: L,
      params: labels,
      message: `Your gradients are exactly correct backprop (to ${fmt(reproducedTo)}) of ${c.what}, not of net.json's cost, ${lossWords(net.model.loss)} (reduction "${net.model.reduction}").${factor}`,
      fix: `Either say in net.json the cost your code differentiates: ${c.spec}; or make the code differentiate net.json's cost: ${c.code}.`,
      evidence: { tensors: labels.join(', '), convention: c.what, spec: c.spec, ...(c.k !== null ? { k: c.k } : {}), reproducedTo },
    }];
  }
  // A factor no named convention gives: still one factor on everything, so the cost is scaled.
  const worst = Math.max(...pairs.map((p) => relative(p.tested, p.correct.map((v) => k * v))));
  if (!(worst <= MATCH) || !Number.isFinite(k) || Math.abs(k - 1) <= 1e-6) return [];
  const meanings = meaningsOf(k, net.model.layers[L - 1].units, net.m);
  const expr = lossExpr(net.model.loss);
  const spec = expr ? `"loss": { "expr": "${fmt(k)} * (${expr})" }` : `a loss ${fmt(k)} times yours`;
  return [{
    code: 'loss-convention',
    severity: 'error',
    layer: L,
    params: labels,
    message: `Every tensor is the same factor k = ${fmt(k)} times correct backprop (to ${fmt(worst)}): your code differentiates ${fmt(k)} × the cost net.json states${meanings.length ? ` (${meanings.join('; or ')})` : ''}. A factor on every tensor comes from the output delta or the loss's scale, not from a layer.`,
    fix: `Either say in net.json the cost your code differentiates: ${spec}; or remove the factor ${fmt(k)} from the output delta: ${numpyDelta(net.model.loss, net.model.layers[L - 1].activation?.name ?? '', L)}.`,
    evidence: { tensors: labels.join(', '), k, spec, reproducedTo: worst },
  }];
}

// ---- data mismatch ------------------------------------------------------------------------------

/** The fewest decimals d (1 to 9) every value has, so that the file may have rounded them to ±½·10^−d; null if none. */
export function decimalsOf(values: ArrayLike<number>): number | null {
  let integers = true;
  for (let i = 0; i < values.length; i++) if (values[i] !== Math.round(values[i])) { integers = false; break; }
  // Integer data (counts, labels) is exact as a rule: no rounding to speak of.
  if (integers || values.length === 0) return null;
  for (let d = 1; d <= 9; d++) {
    const scale = 10 ** d;
    let on = true;
    for (let i = 0; i < values.length && on; i++) {
      const v = values[i] * scale;
      on = Math.abs(v - Math.round(v)) <= 1e-6 * Math.max(1, Math.abs(v)) * 1e-3;
    }
    if (on) return d;
  }
  return null;
}

/** One value the rounding of a file may have changed: where it sits and the half-step u = ½·10^−d. */
interface Unknown { array: Float64Array; index: number; base: number; u: number }

/** Work limits: the unknowns, the residuals, and the multiply-adds of all the backprops of one solve. */
const MAX_UNKNOWNS = 3000, MAX_RESIDUALS = 1500, MAX_WORK = 2e8, STEPS = 4;

/** Solves S·x = r for a symmetric positive (semi)definite S by Cholesky, with a small ridge. */
function solveSymmetric(S: Float64Array, r: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += S[i * n + i];
  const ridge = 1e-13 * (trace / n || 1);
  const Lm = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = S[i * n + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) sum -= Lm[i * n + k] * Lm[j * n + k];
      Lm[i * n + j] = i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / Lm[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) { let sum = r[i]; for (let k = 0; k < i; k++) sum -= Lm[i * n + k] * y[k]; y[i] = sum / Lm[i * n + i]; }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) { let sum = y[i]; for (let k = i + 1; k < n; k++) sum -= Lm[k * n + i] * x[k]; x[i] = sum / Lm[i * n + i]; }
  return x;
}

/**
 * The smallest change ε (in half-steps of the files' rounding) of the rounded values at which
 * correct backprop reproduces the tensors under test, by Gauss–Newton on the linearised backprop:
 * each step the least-norm ε that zeroes the linearised residual (relative per tensor). Returns the
 * largest |ε| and the reproduction reached, or null where the problem is too big to solve here.
 */
function roundingFit(net: Net, tested: Grads, unknowns: Unknown[], X: Float64Array, params: Params): { largest: number; rms: number; reproducedTo: number } | null {
  const refs: { l: number; name: string; t: Float64Array; w: number }[] = [];
  net.model.layers.forEach((_layer, l) => {
    for (const name of Object.keys(params[l])) {
      const t = tested[l]?.[name];
      if (!t) continue;
      let n2 = 0;
      for (const v of t.data) n2 += v * v;
      refs.push({ l, name, t: t.data, w: n2 > 0 ? 1 / (2 * Math.sqrt(n2)) : 1 });
    }
  });
  const nres = refs.reduce((s, r) => s + r.t.length, 0);
  const n = unknowns.length;
  const flops = net.model.layers.reduce((s, layer) => s + layer.units * Math.max(1, layer.inputs ?? 1), 0) * net.m * 4;
  if (n === 0 || n > MAX_UNKNOWNS || nres > MAX_RESIDUALS || 2 * n * flops * STEPS > MAX_WORK) return null;
  const Xt: Tensor = { ...net.fwd.A[0], data: X };
  const grads = (): Grads => backpropOf(net, net.model, params, Xt);
  const residual = (): Float64Array => {
    const g = grads(), r = new Float64Array(nres);
    let o = 0;
    for (const ref of refs) { const a = g[ref.l][ref.name].data; for (let i = 0; i < a.length; i++) r[o++] = (a[i] - ref.t[i]) * ref.w; }
    return r;
  };
  const eps = new Float64Array(n);
  const set = (j: number, e: number) => { const k = unknowns[j]; k.array[k.index] = k.base + k.u * e; };
  const h = 1e-3;
  for (let step = 0; step < STEPS; step++) {
    const r = residual();
    // J (nres × n) by central differences in ε, column by column.
    const J = new Float64Array(nres * n);
    for (let j = 0; j < n; j++) {
      set(j, eps[j] + h); const up = residual();
      set(j, eps[j] - h); const down = residual();
      set(j, eps[j]);
      for (let i = 0; i < nres; i++) J[i * n + j] = (up[i] - down[i]) / (2 * h);
    }
    let delta: Float64Array;
    if (nres <= n) {
      // Least norm: Δ = −Jᵀ(JJᵀ)⁻¹r.
      const S = new Float64Array(nres * nres);
      for (let a = 0; a < nres; a++) for (let b = 0; b <= a; b++) {
        let sum = 0;
        for (let j = 0; j < n; j++) sum += J[a * n + j] * J[b * n + j];
        S[a * nres + b] = S[b * nres + a] = sum;
      }
      const y = solveSymmetric(S, r, nres);
      delta = new Float64Array(n);
      for (let j = 0; j < n; j++) { let sum = 0; for (let a = 0; a < nres; a++) sum += J[a * n + j] * y[a]; delta[j] = -sum; }
    } else {
      // Least squares: Δ = −(JᵀJ)⁻¹Jᵀr.
      const S = new Float64Array(n * n), b = new Float64Array(n);
      for (let a = 0; a < n; a++) {
        for (let c = 0; c <= a; c++) { let sum = 0; for (let i = 0; i < nres; i++) sum += J[i * n + a] * J[i * n + c]; S[a * n + c] = S[c * n + a] = sum; }
        let sum = 0; for (let i = 0; i < nres; i++) sum += J[i * n + a] * r[i]; b[a] = sum;
      }
      delta = solveSymmetric(S, b, n).map((v) => -v);
    }
    for (let j = 0; j < n; j++) { eps[j] += delta[j]; set(j, eps[j]); }
  }
  const reproducedTo = worstAgainst(net, tested, grads());
  let largest = 0, squares = 0;
  for (const e of eps) { largest = Math.max(largest, Math.abs(e)); squares += e * e; }
  return { largest, rms: Math.sqrt(squares / n), reproducedTo };
}

/** A failing tensor of data-mismatch's kind: off by little, k near 1. */
const SMALL = 0.2;

/**
 * data-mismatch, when the data (X) or the weights the tool read lie on a decimal grid and correct
 * backprop at values within that grid's rounding reproduces every tensor under test to MATCH.
 */
export function dataMismatchFindings(net: Net, tested: Grads, correct: Grads): RegisteredFinding[] {
  const pairs = pairsOf(net, tested, correct);
  if (pairs.length === 0 || !pairs.every((p) => relative(p.tested, p.correct) < SMALL) || worstAgainst(net, tested, correct) <= MATCH) return [];
  const X = Float64Array.from(net.fwd.A[0].data);
  const params: Params = net.params.map((set) => Object.fromEntries(Object.entries(set).map(([name, t]) => [name, { ...t, data: Float64Array.from(t.data) }])));
  const unknowns: Unknown[] = [];
  const sources: string[] = [];
  const dX = decimalsOf(X);
  if (dX !== null) {
    for (let i = 0; i < X.length; i++) unknowns.push({ array: X, index: i, base: X[i], u: 0.5 * 10 ** -dX });
    sources.push(`the data X (every value read has at most ${dX} decimal${dX === 1 ? "" : "s"})`);
  }
  let dP: number | null = null;
  const all = params.flatMap((set) => Object.values(set).map((t) => t.data));
  const flat = Float64Array.from(all.flatMap((a) => [...a]));
  dP = decimalsOf(flat);
  if (dP !== null) {
    for (const a of all) for (let i = 0; i < a.length; i++) unknowns.push({ array: a as Float64Array, index: i, base: a[i], u: 0.5 * 10 ** -dP });
    sources.push(`the weights (every value read has at most ${dP} decimal${dP === 1 ? "" : "s"})`);
  }
  if (unknowns.length === 0) return [];
  const fit = roundingFit(net, tested, unknowns, X, params);
  // The change the files' rounding made has |ε| ≤ 1 everywhere, so its root mean square is ≤ 1; the
  // least-norm change found is no larger (in the linearised problem), so rms ≤ 1 is what rounding
  // allows. A bug's error needs, in general, a larger change of the data to be mimicked.
  if (!fit || !(fit.reproducedTo <= MATCH) || !(fit.rms <= 1)) return [];
  const labels = pairs.map((p) => p.label);
  const k = pairs.map((p) => jointFactor([p]));
  const what = sources.join(' and ');
  const steps = [dX, dP].filter((d): d is number => d !== null).map((d) => `±${fmt(0.5 * 10 ** -d)}`).join(' and ');
  return [{
    code: 'data-mismatch',
    severity: 'error',
    layer: net.model.layers.length,
    params: labels,
    message: `${labels.join(', ')} are off by small amounts (relative errors ${pairs.map((p) => fmt(relative(p.tested, p.correct))).join(', ')}; least-squares factors k = ${k.map(fmt).join(', ')}), which nothing in the catalogue reproduces; but correct backprop at ${what} changed within the rounding their digits allow (${steps}; the change needed is ${fmt(fit.rms)} of it in root mean square, at most ${fmt(fit.largest)}) reproduces every tensor to ${fmt(fit.reproducedTo)}. So your code most likely computed its gradients from the full-precision arrays, and backprop-check checked them at the rounded ones the files hold: the files differ from what your code used, not your backprop. (A bug whose effect is as small as that rounding cannot be told from it: check again with the exact arrays.)`,
    fix: `Give backprop-check the arrays your code used, bit for bit: np.savez("data.npz", X=X, Y=Y) and --data data.npz, or np.savetxt("data.csv", np.vstack([X, Y]).T, delimiter=",", fmt="%.17g"); save the weights with np.savez("params.npz", W1=W1, b1=b1, ...) and pass --params params.npz.`,
    evidence: { tensors: labels.join(', '), k, largestChange: fit.largest, rmsChange: fit.rms, reproducedTo: fit.reproducedTo, ...(dX !== null ? { dataDecimals: dX } : {}), ...(dP !== null ? { weightDecimals: dP } : {}) },
  }];
}

/** The codes the catalogue gives a mistake at the output that a loss convention can also be. */
const OUTPUT_CODES = new Set(['constant-factor', 'wrong-activation-derivative', 'wrong-output-gradient']);

/**
 * The catalogue's root findings, reconciled with the conventions (gradients from --grads or --exec):
 * - nothing named: a loss convention, else a data mismatch, stands for the gradient-mismatch
 *   finding and explains every tensor (`all`);
 * - only output-layer findings, and the gradients are another loss's correct backprop (the a − y
 *   delta with a loss it does not belong to): the loss-convention finding replaces them;
 * - only output-layer findings that a factor convention also reproduces (the catalogue's factor
 *   on the output delta): they stay, and say the convention and its net.json line.
 * null: nothing to change.
 */
export function reconcileConventions(net: Net, root: Finding[], tested: Grads, correct: Grads): { root: Finding[]; all: boolean } | null {
  if (root.length === 0) {
    const named = lossConventionFindings(net, tested, correct);
    if (named.length > 0) return { root: named, all: true };
    const data = dataMismatchFindings(net, tested, correct);
    return data.length > 0 ? { root: data, all: true } : null;
  }
  // Several catalogued mistakes that together amount to one convention on every tensor (each
  // tensor × m where the cost averages: "dW2 × 20", "db1 summed", …) are that one convention: the
  // simpler explanation, and it says why they all agree. One catalogued mistake stays as it is.
  if (root.length > 1) {
    const [one] = lossConventionFindings(net, tested, correct);
    if (one) return { root: [one], all: true };
  }
  const L = net.model.layers.length;
  if (!root.every((f) => f.layer === L && OUTPUT_CODES.has(f.code))) return null;
  const [named] = lossConventionFindings(net, tested, correct);
  if (!named) return null;
  if (named.evidence?.k === undefined && !root.some((f) => f.code === 'constant-factor')) return { root: [named], all: true };
  const also = ` This is also a loss convention: your gradients are exactly correct backprop of ${String(named.evidence?.convention ?? `${fmt(Number(named.evidence?.k))} × net.json's cost`)}; to keep the code, say so in net.json: ${String(named.evidence?.spec)}.`;
  return { root: root.map((f) => ({ ...f, message: f.message + also, evidence: { ...f.evidence, convention: String(named.evidence?.convention ?? ''), spec: String(named.evidence?.spec ?? '') } })), all: false };
}

// ---- --model: a factor against the finite differences --------------------------------------------

/** One tensor of a --model check: its label, the gradients under test and the differences at the probed elements. */
export interface ProbedTensor { label: string; analytic: ArrayLike<number>; numeric: ArrayLike<number> }

/** What a factor k on every tensor can mean with no spec to recompute: the conventions it fits. */
function programMeanings(k: number): string[] {
  const words: string[] = [];
  const near = (x: number) => Math.abs(k - x) <= 1e-3 * Math.abs(x);
  if (near(2)) words.push('the derivative of (a − y)² where the cost is ½(a − y)², or a sum over 2 outputs or samples where the cost averages');
  if (near(0.5)) words.push('½·(a − y) where the cost is (a − y)² (no ½), or PyTorch\'s MSELoss over 4 outputs against ½(a − y)²');
  const n = Math.round(k), r = Math.round(1 / k), h = Math.round(2 / k);
  if (n >= 3 && near(n)) words.push(`a sum over ${n} samples (or outputs) where the cost averages`);
  if (r >= 3 && near(1 / r)) words.push(`a mean over ${r} samples (or outputs) where the cost sums`);
  if (h >= 3 && h !== 2 * r && near(2 / h)) words.push(`PyTorch's MSELoss() over ${h} outputs (2/${h}, no ½) where the cost is ½‖a − y‖²`);
  return words;
}

/**
 * loss-convention for --model: every tensor fails, and one factor k times the finite differences
 * passes every tensor at the check's tolerance. With no spec to recompute, the finding says what k
 * can mean; the finite differences, not backprop, are the reference here.
 */
export function programConventionFindings(tensors: ProbedTensor[], failing: string[], tolerance: number): RegisteredFinding[] {
  if (tensors.length === 0 || failing.length !== tensors.length) return [];
  let tr = 0, rr = 0;
  for (const t of tensors) for (let i = 0; i < t.analytic.length; i++) { tr += t.analytic[i] * t.numeric[i]; rr += t.numeric[i] * t.numeric[i]; }
  const k = rr > 0 ? tr / rr : NaN;
  if (!Number.isFinite(k) || Math.abs(k - 1) <= 1e-3 || k === 0) return [];
  const residuals = tensors.map((t) => relative(t.analytic, Array.from(t.numeric, (v) => k * v)));
  if (!residuals.every((r) => r < tolerance)) return [];
  const meanings = programMeanings(k);
  const labels = tensors.map((t) => t.label);
  return [{
    code: 'loss-convention',
    severity: 'error',
    params: labels,
    message: `Every tensor is the same factor k = ${fmt(k)} times the finite differences of your cost (each matches k × them to ${fmt(Math.max(...residuals))}, below the tolerance ${fmt(tolerance)}): your gradients are those of ${fmt(k)} × the cost your program returns, a convention of the loss, not a layer's mistake${meanings.length ? `. k = ${fmt(k)} fits: ${meanings.join('; ')}` : ''}.`,
    fix: `Make the cost and its gradients agree on one convention: scale the returned cost by ${fmt(k)}, or remove the factor ${fmt(k)} from the gradient of the loss (the output delta, or its 1/m).`,
    evidence: { tensors: labels.join(', '), k, residuals },
  }];
}
