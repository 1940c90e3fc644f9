// Diagnosis: from a checked report to findings that name the bug, the layer and the fix.
// Root causes come from the formula analysis of a declared backward block, or from the
// fingerprint search over any gradients under test. Each failing tensor is then classified: it
// fails because of a mistake at its own layer (root), only because an error downstream reaches
// it (propagated), or for a reason nothing in the catalogue reproduces (gradient-mismatch).
// Health and numerics findings follow. Plugged into check() as its Diagnose hook.
import type { CheckContext, CheckInput, Diagnose } from '../check/check.js';
import { relative } from './fit.js';
import { typeOf } from '../layers/index.js';
import { paramLabel, type Grads, type NamedTensor, type ParamRef } from '../model.js';
import type { Tensor } from '../tensor.js';
import type { Finding, Report, TensorCheck } from '../report.js';
import { correctChain, evaluate, netOf, type Net } from './chain.js';
import { categoryOf, type Category, type RegisteredFinding } from '../findings/registry.js';
import { fingerprint, MATCH, type Fingerprint } from './fingerprint.js';
import { analyseDeclared, type DeclaredFormulas } from './formulas.js';
import { layerMistakesAt } from './layer-mistakes.js';
import { healthFindings } from './trainability.js';
import { reconcileConventions } from './conventions.js';
import { fmt, layersText, type Mutation } from './mutations.js';
import { dAPrevLine, dbLine, dWLine, penaltyTerm, type Layout } from './numpy.js';
import { decompose, type Subject } from './decompose.js';

export type { DeclaredFormulas } from './formulas.js';
export type { FindingCode } from '../findings/registry.js';
export { explain, FINDING_CODES, categoryOf, isFindingCode } from '../findings/registry.js';

/**
 * The Diagnose hook for check(); `declared` is the spec's backward block, when it has one, and
 * `layout` how the user's arrays are laid out (the fixes' NumPy is written in it).
 */
export function diagnoser(declared: DeclaredFormulas | null = null, layout: Layout = 'columns'): Diagnose {
  return (input, report, context) => diagnose(input, report, context, declared, layout);
}


/** The tensor at ref, or null when the layer has no such parameter (a layer without bias). */
function tensor(g: Grads, { layer, name }: ParamRef): Tensor | null {
  return g[layer][name] ?? null;
}

function gradsOf(tested: NamedTensor[], layers: number): Grads {
  const g: Record<string, Tensor>[] = Array.from({ length: layers }, () => ({}));
  for (const t of tested) g[t.ref.layer][t.ref.name] = t.value;
  return g;
}

/** A check's parameter, looked up by its label among the tensors under test. */
type RefOf = (c: TensorCheck) => ParamRef;

export function diagnose(input: CheckInput, report: Report, context: CheckContext, declared: DeclaredFormulas | null, layout: Layout = 'columns'): Finding[] {
  const net: Net = { ...netOf(input.model, input.params, context.fwd, input.Y), layout };
  const tested = gradsOf(context.tested, input.model.layers.length);
  const refs = new Map(context.tested.map((t) => [t.label, t.ref]));
  const refOf: RefOf = (c) => refs.get(c.param)!;
  const failing = report.checks.filter((c) => c.status === 'fail');
  const fromFormulas = input.gradients.source === 'declared' && declared !== null;
  let search: Fingerprint | null = null;
  let mutations: Mutation[] = [];
  if (fromFormulas) mutations = analyseDeclared(net, declared!);
  else if (input.gradients.source !== 'correct' && failing.length > 0) {
    search = fingerprint(net, tested);
    mutations = search.mutations;
  }
  // Only a reconstruction that really reproduces the gradients under test is reported as one.
  let reproducedTo: number | undefined;
  if (search) {
    reproducedTo = new Causes(net, mutations, context.correct, report.settings.tolerance).reproduction(tested, search.unexplained);
    if (!(reproducedTo <= MATCH)) {
      search = { mutations: [], unexplained: report.checks.map(refOf), stalledAt: null, exhausted: search.exhausted };
      mutations = [];
      reproducedTo = undefined;
    }
  }
  const explained = new Causes(net, mutations, context.correct, report.settings.tolerance);

  let root: Finding[] = explained.findings(fromFormulas, reproducedTo);
  // A loss convention or a data mismatch may name what the catalogue did not, or say more about it.
  const convention = search && failing.length > 0 ? reconcileConventions(net, root, tested, context.correct) : null;
  if (convention) root = convention.root;
  const propagated = new Map<number, { check: TensorCheck; own: number }[]>();
  const unexplained: TensorCheck[] = [];
  for (const c of convention?.all ? [] : failing) {
    const ref = refOf(c);
    if (search?.unexplained.some((u) => u.layer === ref.layer && u.name === ref.name)) { unexplained.push(c); continue; }
    const verdict = explained.classify(ref);
    if (verdict.kind === 'root') continue;
    if (verdict.kind === 'propagated') {
      const list = propagated.get(verdict.from) ?? [];
      list.push({ check: c, own: verdict.own });
      propagated.set(verdict.from, list);
    } else unexplained.push(c);
  }

  const findings = [
    ...root,
    ...mismatchFindings(net, unexplained, tested, context.correct, search, refOf, report.checks.length),
    ...[...propagated].map(([from, list]) => propagatedFinding(from, list, report.settings.tolerance, fromFormulas)),
    ...healthFindings({ net, report, tested: context.tested, correct: context.correct, numeric: context.numeric }),
    ...kinkFindings(report.checks),
  ];
  return order(findings);
}

/** The mistakes found, and what each one does on its own. */
class Causes {
  private readonly own = new Map<number, Grads>();

  constructor(private readonly net: Net, readonly mutations: Mutation[], private readonly correct: Grads, private readonly tolerance: number) {}

  /** The gradients with only the given mistakes made. */
  private with(ms: Mutation[]): Grads {
    const chain = correctChain(this.net);
    for (const m of ms) m.kind.apply(chain, m);
    return evaluate(this.net, chain).grads;
  }

  /** Largest relative difference between the reconstruction and the tested tensors it explains. */
  reproduction(tested: Grads, unexplained: ParamRef[]): number {
    const g = this.with(this.mutations);
    let worst = 0;
    this.net.model.layers.forEach((_x, layer) => {
      for (const name of Object.keys(this.correct[layer])) {
        const ref = { layer, name };
        const t = tensor(tested, ref), r = tensor(g, ref);
        if (!t || !r || unexplained.some((u) => u.layer === layer && u.name === name)) continue;
        worst = Math.max(worst, relative(t.data, r.data));
      }
    });
    return worst;
  }

  private readonly effects = new Map<Mutation, number>();

  /** How far one mistake alone moves the gradients of the layers it changes first (its own, by default). */
  effectOf(m: Mutation): number {
    let e = this.effects.get(m);
    if (e === undefined) {
      e = this.effect([m], m.kind.effectLayers?.(m) ?? [m.layer]);
      this.effects.set(m, e);
    }
    return e;
  }

  /** How far the layers' tensors move from the right ones under some mistakes. */
  private effect(ms: Mutation[], layers: number[]): number {
    const g = this.with(ms);
    let worst = 0;
    for (const layer of layers) {
      for (const name of Object.keys(this.correct[layer])) {
        const r = tensor(g, { layer, name }), c = tensor(this.correct, { layer, name });
        if (r && c) worst = Math.max(worst, relative(r.data, c.data));
      }
    }
    return worst;
  }

  /**
   * A failing tensor is a root failure when its own layer's mistakes alone make it fail; it is
   * propagated when they do not (or there are none) and a mistake sits at a later layer.
   */
  classify(ref: ParamRef): { kind: 'root' } | { kind: 'propagated'; from: number; own: number } | { kind: 'none' } {
    const here = this.mutations.filter((m) => m.layer === ref.layer);
    let own = this.own.get(ref.layer);
    if (!own) {
      own = this.with(here);
      this.own.set(ref.layer, own);
    }
    const t = tensor(own, ref), c = tensor(this.correct, ref);
    const ownError = t && c ? relative(t.data, c.data) : 0;
    if (here.length > 0 && !(ownError < this.tolerance)) return { kind: 'root' };
    // It comes from the nearest later mistake that changes its own layer's gradients enough to fail.
    const later = this.mutations.filter((m) => m.layer > ref.layer);
    if (later.length === 0) return { kind: 'none' };
    const effective = later.filter((m) => this.effectOf(m) >= this.tolerance);
    return { kind: 'propagated', from: Math.min(...(effective.length > 0 ? effective : later).map((m) => m.layer)), own: ownError };
  }

  /**
   * The tensors of a group's own layers that its mistakes alone make fail ("W1", "b1", "W2"): what
   * JUnit and markdown attach the finding to. A layer kind's mistake changes the layers below too,
   * but those fail through backprop and get their own error-propagated finding. None when the
   * group is about one tensor already named by `param`.
   */
  private explainedBy(group: Mutation[], param: string | undefined): string[] {
    const out: string[] = [];
    for (const layer of [...new Set(group.map((m) => m.layer))]) {
      // As classify() judges a root failure: the group's mistake at this layer alone.
      const g = this.with(group.filter((m) => m.layer === layer));
      for (const name of Object.keys(this.correct[layer])) {
        const r = tensor(g, { layer, name }), c = tensor(this.correct, { layer, name });
        if (r && c && relative(r.data, c.data) >= this.tolerance) out.push(paramLabel({ layer, name }));
      }
    }
    return out.length === 1 && out[0] === param ? [] : out;
  }

  findings(declared: boolean, reproducedTo?: number): Finding[] {
    const groups = new Map<string, Mutation[]>();
    for (const m of this.mutations) {
      const key = m.kind.key(m);
      groups.set(key, [...(groups.get(key) ?? []), m]);
    }
    return [...groups.values()].map((unsorted) => {
      const group = [...unsorted].sort((x, y) => x.layer - y.layer);
      const { kind } = group[0];
      const text = kind.describe(group, { net: this.net, declared, ...(reproducedTo !== undefined ? { reproducedTo } : {}) });
      const effect = Math.max(...group.map((m) => this.effectOf(m)));
      const latent = !(effect >= this.tolerance);
      const layers = group.map((m) => m.layer);
      const param = group.length === 1 ? kind.param?.(group[0]) : undefined;
      const params = this.explainedBy(group, param);
      const note = latent
        ? ` On this data it does not make ${layersText(layers)} fail by itself (largest relative effect ${fmt(effect)}, tolerance ${fmt(this.tolerance)}); it will with other weights or data.`
        : '';
      return {
        code: kind.code,
        severity: latent ? 'warning' : 'error',
        layer: Math.min(...layers) + 1,
        ...(param ? { param } : {}),
        ...(params.length > 0 ? { params } : {}),
        message: text.message + note,
        fix: text.fix,
        evidence: { ...text.evidence, effect, ...(reproducedTo !== undefined ? { reproducedTo } : {}) },
      } satisfies Finding;
    });
  }
}

function propagatedFinding(from: number, list: { check: TensorCheck; own: number }[], tolerance: number, declared: boolean): RegisteredFinding {
  const names = list.map((x) => x.check.param);
  const worst = Math.max(...list.map((x) => x.own));
  const own = declared ? 'their own layers’ formulas as declared' : 'their own layers’ code as reconstructed';
  return {
    code: 'error-propagated',
    severity: 'info',
    layer: Math.max(...list.map((x) => x.check.layer)),
    ...(names.length === 1 ? { param: names[0] } : { params: names }),
    message: `${names.join(', ')} fail${names.length === 1 ? 's' : ''} only because the error at layer ${from + 1} reaches them through backprop (relative errors ${list.map((x) => fmt(x.check.relativeError)).join(', ')}). Recomputed with ${own} and everything downstream right, they match backprop to ${fmt(worst)} (tolerance ${fmt(tolerance)}).`,
    fix: `Fix the findings at layer ${from + 1} and above first; these tensors will then pass.`,
    evidence: { tensors: names.join(', '), from: from + 1, relativeErrors: list.map((x) => x.check.relativeError), ownRelativeError: worst },
  };
}

function mismatchFindings(net: Net, all: TensorCheck[], tested: Grads, correct: Grads, search: Fingerprint | null, refOf: RefOf, checked: number): RegisteredFinding[] {
  if (all.length === 0) return [];
  // The tensors nothing in the catalogue reproduces: their error itself, decomposed (decompose.ts).
  const subject = (c: TensorCheck, under: boolean): Subject => {
    const ref = refOf(c);
    const r = tensor(correct, ref)!;
    return {
      label: c.param, layer: c.layer, shape: r.shape.slice(), full: true,
      G: under ? Float64Array.from(tensor(tested, ref)!.data) : new Float64Array(0), R: Float64Array.from(r.data),
      value: Float64Array.from(net.params[ref.layer][ref.name].data),
    };
  };
  const subjects = all.map((c) => subject(c, true));
  const decomposed = decompose(subjects, subjects.concat(netTensors(net, correct, all)), { c2: net.c2, m: net.m, reduction: net.model.reduction }, checked);
  const closest = (list: TensorCheck[]) => list.flatMap((c) => decomposed.closest.get(c.param)?.text ?? []);
  const list = all.filter((c) => !decomposed.explained.has(c.param));
  if (list.length === 0) return decomposed.findings;
  const L = net.model.layers.length;
  const stats = list.map((c) => {
    const ref = refOf(c);
    const t = tensor(tested, ref)!.data, r = tensor(correct, ref)!.data;
    let tr = 0, rr = 0;
    for (let i = 0; i < t.length; i++) { tr += t[i] * r[i]; rr += r[i] * r[i]; }
    const k = rr > 0 ? tr / rr : NaN;
    const residual = rr > 0 ? relative(t, r.map((v) => k * v)) : NaN;
    return { c, vsBackprop: relative(t, r), k, residual };
  });
  const names = list.map((c) => c.param);
  const equalsBackprop = stats.every((s) => s.vsBackprop <= MATCH);
  let message: string;
  if (equalsBackprop) {
    message = `${names.join(', ')} fail against the finite differences (relative errors ${stats.map((s) => fmt(s.c.relativeError)).join(', ')}), yet they equal correct backprop (to ${fmt(Math.max(...stats.map((s) => s.vsBackprop)))}). So your gradients are not what is wrong here: the finite differences at this step disagree with both by more than the rounding and the step's truncation that backprop-check measured, a limit of backprop-check at these weights.`;
  } else {
    const stalled = search?.stalledAt ?? null;
    const where = stalled === null ? ''
      : stalled === L - 1 ? ` No catalogued output gradient and derivative reproduce layer ${L}'s tensors: the error enters at the output.`
      : ` The search reproduced layer${stalled === L - 2 ? ` ${L}` : `s ${L} to ${stalled + 2}`} and lost the chain at layer ${stalled + 1}: the error enters there or below.`;
    const budget = search?.exhausted ? ' (The search stopped at its work budget: the network is large.)' : '';
    const ks = stats.map((s) => `${s.c.param}: k = ${fmt(s.k)}, residual ${fmt(s.residual)}`).join('; ');
    const nearest = closest(list);
    const closestText = nearest.length > 0 ? ` Closest decomposition of the error on the interpretable directions: ${nearest.join('; ')}.` : '';
    message = `Nothing in the catalogue of backprop mistakes reproduces ${names.join(', ')} (relative errors ${stats.map((s) => fmt(s.c.relativeError)).join(', ')}).${where}${budget} Least-squares factor against correct backprop: ${ks}.${closestText}`;
  }
  const first = list.reduce((a, b) => (b.layer > a.layer ? b : a));
  const nearest = closest(list);
  return [...decomposed.findings, {
    code: 'gradient-mismatch',
    severity: 'error',
    layer: first.layer,
    ...(list.length === 1 ? { param: first.param } : { params: names }),
    message,
    fix: equalsBackprop
      ? 'Run with --taylor, whose verdict needs no step, or with --sweep to see the error at every step; please report this case (net.json, the data and the weights) as a backprop-check bug.'
      : `Compare the code for these tensors line by line with ${rightDense(net, first.layer)} (see backprop-check --explain gradient-mismatch).` + kindsText(net),
    evidence: {
      tensors: names.join(', '), relativeErrors: stats.map((s) => s.c.relativeError),
      vsBackprop: stats.map((s) => s.vsBackprop), k: stats.map((s) => s.k),
      ...(nearest.length > 0 ? { closest: nearest.join('; ') } : {}),
    },
  }];
}

/**
 * Right dense backprop at layer l (1-based) as NumPy in the user's layout: dZ from dA and the
 * derivative, dW and db from dZ (with the L2 term when the cost has one), the dA passed down.
 */
function rightDense(net: Net, l: number): string {
  const penalty = net.model.l2.kind === 'none' ? '' : ` + ${penaltyTerm(net, l).term}`;
  return [`dZ${l} = dA${l} * g_prime(Z${l})`, `${dWLine(net, l)}${penalty}`, dbLine(net, l), ...(l > 1 ? [dAPrevLine(net, l)] : [])].join('; ');
}

/** The reference of every tensor not in `failing`: the directions "another tensor's gradient" draw on. */
function netTensors(net: Net, correct: Grads, failing: TensorCheck[]): Subject[] {
  const out: Subject[] = [];
  correct.forEach((layer, l) => {
    for (const [name, r] of Object.entries(layer)) {
      const label = paramLabel({ layer: l, name });
      if (failing.some((c) => c.param === label)) continue;
      out.push({ label, layer: l + 1, shape: r.shape.slice(), full: true, G: new Float64Array(0), R: Float64Array.from(r.data), value: null });
    }
  });
  return out;
}

/**
 * " The layers of other kinds were tried with their known slips, none of which fits: conv2d
 * (conv-stride-ignored, …)": where else to look, when the net has entries other than dense ones.
 */
function kindsText(net: Net): string {
  const kinds = new Map<string, Set<string>>();
  net.model.layers.forEach((layer, l) => {
    const ids = layerMistakesAt(net, l).map((m) => m.kind.code);
    if (ids.length === 0) return;
    const known = kinds.get(typeOf(layer)) ?? new Set<string>();
    for (const id of ids) known.add(id);
    kinds.set(typeOf(layer), known);
  });
  if (kinds.size === 0) return '';
  const list = [...kinds].map(([type, ids]) => `${type} (${[...ids].join(', ')})`).join('; ');
  return ` For the layers of other kinds the catalogue knows these slips, and none of them reproduces your gradients, alone or with the others: ${list}; backprop-check --explain <code> gives each one's right formula.`;
}

function kinkFindings(checks: TensorCheck[]): RegisteredFinding[] {
  return checks.filter((c) => c.kinks > 0).map((c) => ({
    code: 'kink',
    severity: 'info',
    layer: c.layer,
    param: c.param,
    message: `${c.kinks} of the elements of ${c.param} sit exactly on a kink (where the cost is not differentiable: a ReLU-type pre-activation at 0, or the 0 of an abs, max, min or sign in a custom formula): any value between the one-sided differences is accepted for them.`,
    fix: 'Nothing to fix: a subgradient is a valid answer at a kink.',
    evidence: { kinks: c.kinks, checked: c.checked },
  }));
}

// Notes on the input files (extra-gradients, other-layout) are added by run(), after the diagnosis.
const RANK = { root: 0, propagated: 1, health: 2, numerics: 3, input: 4 } as const satisfies Record<Category, number>;

/** Root causes first (the output side first, as backprop meets them), then propagated, health, numerics. */
function order(findings: Finding[]): Finding[] {
  const top = (f: Finding) => Math.max(f.layer ?? 0, ...(((f.evidence?.layers as number[] | undefined) ?? [])));
  return findings
    .map((f, i) => ({ f, i }))
    .sort((x, y) => {
      const cx = RANK[categoryOf(x.f.code) ?? 'root'], cy = RANK[categoryOf(y.f.code) ?? 'root'];
      if (cx !== cy) return cx - cy;
      if (cx === 0 && (x.f.code === 'gradient-mismatch') !== (y.f.code === 'gradient-mismatch')) return x.f.code === 'gradient-mismatch' ? 1 : -1;
      if (cx === 0) return top(y.f) - top(x.f) || x.i - y.i;
      return x.i - y.i;
    })
    .map((x) => x.f);
}

/** Whether a health finding of severity warning or error is present: what --strict fails on. */
export function healthFails(report: Report): boolean {
  return report.findings.some((f) => categoryOf(f.code) === 'health' && f.severity !== 'info');
}
