// The detection matrix: every mistake of the diagnosis catalogue, injected into every architecture
// where it can be made, must make the check fail and be named with the right finding code at the
// right layer. Mistakes reach backprop-check in two ways, and both are exercised:
//   grads     gradients computed by a user's own backprop with the bug in it (as --grads/--exec
//             deliver them): the one backprop walk (core/backprop.ts) with the mistake set in its
//             hooks; the check receives only the gradients, and the diagnosis must find the hook;
//   declared  a `backward` block in net.json with the wrong formula (the formula mistakes only).
// A second table swaps the hidden layer's derivative between every ordered pair of activations; a
// third injects each layer kind's own mistakes into networks of those kinds. `npm run matrix`
// prints all three; test/matrix.test.ts asserts that every cell is detected.
import { pathToFileURL } from 'node:url';
import { correctChain, evaluate, layerValues, netOf, outputValues, type Chain, type Net } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, type GradientSource } from '../src/core/check/check.js';
import { categoryOf, diagnoser, type FindingCode } from '../src/core/diagnose/index.js';
import { compileFormula, type Fn } from '../src/core/formula/formula.js';
import { forward } from '../src/core/forward.js';
import { initialise } from '../src/core/init.js';
import { drawMask } from '../src/core/layers/dropout-mask.js';
import { kindOf, typeOf } from '../src/core/layers/index.js';
import type { Grads, Model, Params } from '../src/core/model.js';
import { zeros, type Tensor } from '../src/core/tensor.js';
import { Random } from '../src/core/random.js';
import type { Finding, Report } from '../src/core/report.js';
import { declaredPlan, parseSpec, withInputs, type DeclaredBackward } from '../src/io/spec.js';
import { dropoutSeed } from '../src/io/spec-layers.js';
import { explanationMatrix, renderExplanations } from './explanations/index.js';
import { CORPUS, REAL_BUG_RATE, realBugTable, renderRealBugs } from './real-bugs.js';
import { pythonWith } from '../test/helpers/python.js';

// ---- a user's backprop, with a switch for each mistake ----------------------------------------

/** What the injected mistake changes. `at` is the 1-based layer whose code has the bug. */
export interface Injection {
  at: number;
  /** Replaces g' at layer `at`. */
  derivative?: Fn;
  /** Replaces dA_L, or dZ_L. */
  outputGradient?: Fn;
  outputDelta?: Fn;
  /** The scale of dW / db at `at` instead of 1/m (mean) or 1 (sum). */
  dWScale?: number;
  dbScale?: number;
  /** A factor on the whole dW at `at`. */
  factor?: number;
  /** The L2 term of dW at `at`. */
  penalty?: 'none' | 'negated' | 'scaled' | 'sum';
  penaltyScale?: number;
  /** dW at `at` from fwd.A[index] or fwd.Z[index] instead of A_{at−1}. */
  input?: { kind: 'A' | 'Z'; index: number };
  transposed?: boolean;
  /** dA_{at−1} from dZ_at: W·dZ, or dZ itself. */
  backprop?: 'plain' | 'skip';
  /** db at `at` = the sum over units and samples, in every element. */
  dbAll?: boolean;
  /** db at a hidden `at` summed from dA, the gradient before g′, instead of dZ. */
  dbFromA?: boolean;
}

/**
 * The chain (core/backprop.ts) of a user's backprop with the injected mistake: the correct chain
 * with the hooks the mistake changes set.
 */
export function injectedChain(net: Net, bug: Injection | null): Chain {
  const chain = correctChain(net);
  if (bug === null) return chain;
  const l = bug.at - 1;
  const steps = chain.layers[l];
  if (bug.outputDelta) chain.output = { kind: 'delta', values: outputValues(net, bug.outputDelta) };
  else if (bug.outputGradient) chain.output = { kind: 'gradient', values: outputValues(net, bug.outputGradient) };
  const derivative = bug.derivative;
  if (derivative) steps.derivative = layerValues(net, l, (z, a) => derivative(z, a, 0));
  if (bug.dWScale !== undefined) steps.dW.s = bug.dWScale;
  if (bug.dbScale !== undefined) steps.db.s = bug.dbScale;
  if (bug.factor !== undefined) steps.dW.k = bug.factor;
  switch (bug.penalty) {
    case 'none': steps.dW.beta = 0; break;
    case 'negated': steps.dW.beta = -net.c2; break;
    case 'scaled': steps.dW.beta = bug.penaltyScale! * net.c2; break;
    case 'sum': steps.dW.penalty = 'sum'; break;
  }
  if (bug.input) steps.dW.input = bug.input;
  if (bug.transposed) steps.dW.transposed = true;
  // dA_{at−1} is made from dZ_at: the hook of the layer below the site.
  if (bug.backprop) chain.layers[l - 1].incoming = bug.backprop;
  if (bug.dbAll) steps.db.all = true;
  if (bug.dbFromA) steps.db.fromA = true;
  return chain;
}

/** Backprop as a user writes it, with one mistake switched on (none: correct backprop). */
export function userBackprop(model: Model, params: Params, X: Tensor, Y: Tensor, bug: Injection | null): Grads {
  const net = netOf(model, params, forward(model, params, X, Y), Y);
  return evaluate(net, injectedChain(net, bug)).grads;
}

// ---- architectures ------------------------------------------------------------------------------

type Output = { outputGradient: string } | { outputDelta: string };

export interface Architecture {
  name: string;
  spec: Record<string, unknown>;
  /** The 1-based layer at which each mistake is injected (absent: it cannot be made here). */
  sites: Partial<Record<EntryId, number>>;
  /** Another activation's derivative for the hidden swap site, and for the output layer. */
  swapHidden: string;
  swapOutput: string;
  /** The site's own derivative at the wrong variable. */
  wrongVariable: string;
  output: { sign: Output; termSign: Output; missingTerm: Output };
  /** For "dW from another layer's activation": which one, at the site. */
  otherInput: { kind: 'A' | 'Z'; index: number };
  samples: number;
}

const BCE_OUTPUT = {
  sign: { outputGradient: 'y / a - (1 - y) / (1 - a)' },
  termSign: { outputGradient: '-(y / a + (1 - y) / (1 - a))' },
  missingTerm: { outputGradient: '-y / a' },
};

export const ARCHITECTURES: Architecture[] = [
  {
    name: 'tanh/sigmoid + BCE',
    spec: { layers: [{ units: 4, activation: 'tanh' }, { units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 11 } },
    sites: {
      'swap-hidden': 2, 'swap-output': 3, 'wrong-variable': 1, 'output-sign': 3, 'output-term-sign': 3, 'output-missing-term': 3,
      'missing-1/m': 2, 'extra-1/m': 3, 'constant-factor': 2, 'input-own': 2, 'input-preact': 2, 'input-other-layer': 3,
      transposed: 2, 'W-not-WT': 2, 'skip-WT': 3, 'db-summed': 2, 'db-all': 2, 'db-from-dA': 1,
    },
    swapHidden: 'a * (1 - a)', swapOutput: '1 - a^2', wrongVariable: '1 - z^2',
    output: BCE_OUTPUT,
    otherInput: { kind: 'A', index: 1 },
    samples: 24,
  },
  {
    name: 'ReLU/softmax + CCE, L2',
    spec: { layers: [{ units: 6, activation: 'relu' }, { units: 6, activation: 'elu' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy', l2: 0.3, init: { scheme: 'he', seed: 12 } },
    sites: {
      'swap-hidden': 1, 'swap-output': 3, 'wrong-variable': 2, 'output-sign': 3, 'output-term-sign': 3, 'output-missing-term': 3,
      'missing-1/m': 1, 'extra-1/m': 2, 'constant-factor': 3, 'l2-missing': 3, 'l2-sign': 2, 'l2-factor': 1, 'l2-form': 3,
      'input-own': 2, 'input-preact': 2, 'input-other-layer': 3, transposed: 2, 'W-not-WT': 2, 'skip-WT': 2, 'db-summed': 3, 'db-all': 1, 'db-from-dA': 2,
    },
    swapHidden: '1 - a^2', swapOutput: 'a * (1 - a)', wrongVariable: 'min(z + 1, 1)',
    output: { sign: { outputGradient: 'y / a' }, termSign: { outputDelta: 'a + y' }, missingTerm: { outputDelta: 'a' } },
    otherInput: { kind: 'A', index: 1 },
    samples: 24,
  },
  {
    name: 'MSE regression, L2',
    spec: { layers: [{ units: 5, activation: 'tanh' }, { units: 5, activation: 'softplus' }, { units: 2, activation: 'linear' }], loss: 'mean_squared_error', l2: 0.2, init: { scheme: 'xavier', seed: 13 } },
    sites: {
      'swap-hidden': 2, 'swap-output': 3, 'wrong-variable': 1, 'output-sign': 3, 'output-term-sign': 3, 'output-missing-term': 3,
      'missing-1/m': 3, 'extra-1/m': 1, 'constant-factor': 1, 'l2-missing': 1, 'l2-sign': 3, 'l2-factor': 2, 'l2-form': 2,
      'input-own': 2, 'input-preact': 2, 'input-other-layer': 3, transposed: 2, 'W-not-WT': 2, 'skip-WT': 2, 'db-summed': 1, 'db-all': 3, 'db-from-dA': 2,
    },
    swapHidden: 'a * (1 - a)', swapOutput: '1 - a^2', wrongVariable: '1 - z^2',
    output: { sign: { outputGradient: 'y - a' }, termSign: { outputGradient: 'a + y' }, missingTerm: { outputGradient: 'a' } },
    otherInput: { kind: 'A', index: 1 },
    samples: 24,
  },
  {
    name: '6-layer deep net, L2',
    spec: {
      layers: [
        { units: 6, activation: 'tanh' }, { units: 6, activation: { name: 'leaky_relu', alpha: 0.1 } }, { units: 6, activation: 'sigmoid' },
        { units: 6, activation: 'elu' }, { units: 6, activation: 'tanh' }, { units: 1, activation: 'sigmoid' },
      ],
      loss: 'binary_cross_entropy', l2: 0.1, init: { scheme: 'xavier', seed: 14 },
    },
    sites: {
      'swap-hidden': 3, 'swap-output': 6, 'wrong-variable': 5, 'output-sign': 6, 'output-term-sign': 6, 'output-missing-term': 6,
      'missing-1/m': 4, 'extra-1/m': 2, 'constant-factor': 1, 'l2-missing': 2, 'l2-sign': 5, 'l2-factor': 3, 'l2-form': 4,
      'input-own': 3, 'input-preact': 5, 'input-other-layer': 4, transposed: 4, 'W-not-WT': 4, 'skip-WT': 3, 'db-summed': 5, 'db-all': 2, 'db-from-dA': 3,
    },
    swapHidden: '1 - a^2', swapOutput: '1 - a^2', wrongVariable: '1 - z^2',
    output: BCE_OUTPUT,
    otherInput: { kind: 'A', index: 1 },
    samples: 24,
  },
  {
    name: 'tanh/sigmoid + BCE, sum, L2 coefficient',
    spec: {
      layers: [{ units: 4, activation: 'tanh' }, { units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', reduction: 'sum', l2: { coefficient: 0.05 }, init: { scheme: 'xavier', seed: 15 },
    },
    sites: {
      'swap-hidden': 1, 'swap-output': 3, 'wrong-variable': 2, 'output-sign': 3, 'output-term-sign': 3, 'output-missing-term': 3,
      'extra-1/m': 2, 'constant-factor': 2, 'l2-missing': 1, 'l2-sign': 2, 'l2-factor': 3, 'l2-form': 1,
      'input-own': 2, 'input-preact': 2, 'input-other-layer': 3, transposed: 2, 'W-not-WT': 2, 'skip-WT': 3, 'db-summed': 1, 'db-all': 2, 'db-from-dA': 2,
    },
    swapHidden: 'a * (1 - a)', swapOutput: '1 - a^2', wrongVariable: '1 - z^2',
    output: BCE_OUTPUT,
    otherInput: { kind: 'A', index: 1 },
    samples: 20,
  },
];

// ---- the catalogue entries ----------------------------------------------------------------------

export type EntryId =
  | 'swap-hidden' | 'swap-output' | 'wrong-variable' | 'output-sign' | 'output-term-sign' | 'output-missing-term'
  | 'missing-1/m' | 'extra-1/m' | 'constant-factor' | 'l2-missing' | 'l2-sign' | 'l2-factor' | 'l2-form'
  | 'input-own' | 'input-preact' | 'input-other-layer' | 'transposed' | 'W-not-WT' | 'skip-WT' | 'db-summed' | 'db-all' | 'db-from-dA';

interface Setup {
  arch: Architecture;
  model: Model;
  /** The 1-based site. */
  at: number;
}

interface EntrySpec {
  id: EntryId;
  name: string;
  code: FindingCode;
  /** The 1-based layer the finding must name (default: the site). */
  reported?: (s: Setup) => number;
  grads: (s: Setup) => Injection;
  /** The same mistake as a declared backward block, for formula mistakes. */
  declared?: (s: Setup) => Record<string, unknown> | null;
}

const fn = (text: string): Fn => compileFormula(text, ['z', 'a', 'y']).fn;
const derivatives = (s: Setup, text: string) => s.model.layers.map((_x, l) => (l === s.at - 1 ? text : null));
const outputInjection = (o: Output): Partial<Injection> =>
  'outputGradient' in o ? { outputGradient: fn(o.outputGradient) } : { outputDelta: fn(o.outputDelta) };
const mean = (s: Setup) => s.model.reduction === 'mean';
const m = (s: Setup) => s.arch.samples;

export const ENTRIES: EntrySpec[] = [
  { id: 'swap-hidden', name: 'activation-derivative swap (hidden layer)', code: 'wrong-activation-derivative',
    grads: (s) => ({ at: s.at, derivative: fn(s.arch.swapHidden) }),
    declared: (s) => ({ activationDerivatives: derivatives(s, s.arch.swapHidden) }) },
  { id: 'swap-output', name: 'activation-derivative swap (output layer)', code: 'wrong-activation-derivative',
    grads: (s) => ({ at: s.at, derivative: fn(s.arch.swapOutput) }),
    declared: (s) => ({ activationDerivatives: derivatives(s, s.arch.swapOutput) }) },
  { id: 'wrong-variable', name: 'derivative of the wrong variable (z vs a)', code: 'derivative-of-wrong-variable',
    grads: (s) => ({ at: s.at, derivative: fn(s.arch.wrongVariable) }),
    declared: (s) => ({ activationDerivatives: derivatives(s, s.arch.wrongVariable) }) },
  { id: 'output-sign', name: 'output gradient: sign flipped', code: 'wrong-output-gradient',
    grads: (s) => ({ at: s.at, ...outputInjection(s.arch.output.sign) }), declared: (s) => s.arch.output.sign },
  { id: 'output-term-sign', name: 'output gradient: a term’s sign flipped', code: 'wrong-output-gradient',
    grads: (s) => ({ at: s.at, ...outputInjection(s.arch.output.termSign) }), declared: (s) => s.arch.output.termSign },
  { id: 'output-missing-term', name: 'output gradient: a term missing', code: 'wrong-output-gradient',
    grads: (s) => ({ at: s.at, ...outputInjection(s.arch.output.missingTerm) }), declared: (s) => s.arch.output.missingTerm },
  { id: 'missing-1/m', name: 'missing 1/m', code: 'wrong-reduction',
    grads: (s) => ({ at: s.at, dWScale: 1, dbScale: 1 }), declared: (s) => (mean(s) ? { reduction: 'sum' } : null) },
  { id: 'extra-1/m', name: 'extra 1/m', code: 'wrong-reduction',
    grads: (s) => ({ at: s.at, dWScale: (mean(s) ? 1 / m(s) : 1) / m(s), dbScale: (mean(s) ? 1 / m(s) : 1) / m(s) }),
    declared: (s) => (mean(s) ? null : { reduction: 'mean' }) },
  { id: 'constant-factor', name: 'constant factor k on one tensor', code: 'constant-factor',
    grads: (s) => ({ at: s.at, factor: -0.37 }) },
  { id: 'l2-missing', name: 'L2 term missing', code: 'missing-l2-gradient',
    grads: (s) => ({ at: s.at, penalty: 'none' }), declared: () => ({ l2: false }) },
  { id: 'l2-sign', name: 'L2 term of the wrong sign', code: 'wrong-l2-gradient',
    grads: (s) => ({ at: s.at, penalty: 'negated' }) },
  { id: 'l2-factor', name: 'L2 term of the wrong factor (λ·W, or λ/2·W with sum)', code: 'wrong-l2-gradient',
    grads: (s) => ({ at: s.at, penalty: 'scaled', penaltyScale: mean(s) ? m(s) : 0.5 }) },
  { id: 'l2-form', name: 'L2 term of the wrong form (λ·ΣW)', code: 'wrong-l2-gradient',
    grads: (s) => ({ at: s.at, penalty: 'sum' }) },
  { id: 'input-own', name: 'dW from the layer’s own output', code: 'wrong-input-activation',
    grads: (s) => ({ at: s.at, input: { kind: 'A', index: s.at } }) },
  { id: 'input-preact', name: 'dW from the previous pre-activation Z', code: 'wrong-input-activation',
    grads: (s) => ({ at: s.at, input: { kind: 'Z', index: s.at - 2 } }) },
  { id: 'input-other-layer', name: 'dW from another layer’s activation', code: 'wrong-input-activation',
    grads: (s) => ({ at: s.at, input: s.arch.otherInput }) },
  { id: 'transposed', name: 'dW transposed (square layer)', code: 'transposed-gradient',
    grads: (s) => ({ at: s.at, transposed: true }) },
  { id: 'W-not-WT', name: 'dA_prev with W instead of Wᵀ (square layer)', code: 'wrong-backprop-weight',
    reported: (s) => s.at - 1, grads: (s) => ({ at: s.at, backprop: 'plain' }) },
  { id: 'skip-WT', name: 'hidden delta skips Wᵀ', code: 'wrong-backprop-weight',
    reported: (s) => s.at - 1, grads: (s) => ({ at: s.at, backprop: 'skip' }) },
  { id: 'db-summed', name: 'db summed where dW is averaged (or the reverse)', code: 'wrong-bias-gradient',
    grads: (s) => ({ at: s.at, dbScale: mean(s) ? 1 : 1 / m(s) }) },
  { id: 'db-all', name: 'db summed over units too (no axis)', code: 'wrong-bias-gradient',
    grads: (s) => ({ at: s.at, dbAll: true }) },
  { id: 'db-from-dA', name: 'hidden db summed from dA (before g′), dW from dZ', code: 'wrong-bias-gradient',
    grads: (s) => ({ at: s.at, dbFromA: true }) },
];

// ---- running it ---------------------------------------------------------------------------------

/** Seeded data for a model: standard normal features and targets that suit the loss. */
export function dataFor(model: Model, m: number, seed: number): { X: Tensor; Y: Tensor } {
  const rng = new Random(seed);
  const X = zeros([model.inputs, m]);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  const K = model.layers[model.layers.length - 1].units;
  const Y = zeros([K, m]);
  for (let c = 0; c < m; c++) {
    const x0 = X.data[c], x1 = X.data[(1 % model.inputs) * m + c];
    if (model.loss.targets === 'one-hot') Y.data[(Math.abs(Math.floor(2 * x0 + x1)) % K) * m + c] = 1;
    else for (let k = 0; k < K; k++) {
      Y.data[k * m + c] = model.loss.targets === 'probability' ? (x0 + 0.5 * x1 * (k + 1) > 0 ? 1 : 0) : Math.sin(x0) + 0.3 * (k + 1) * x1;
    }
  }
  return { X, Y };
}

function build(spec: Record<string, unknown>, inputs: number, backward?: Record<string, unknown>) {
  const loaded = parseSpec({ input: inputs, ...spec, ...(backward ? { backward } : {}) }, 'matrix');
  return { model: withInputs(loaded.model, inputs), declared: loaded.declared };
}

export interface Cell {
  detected: boolean;
  /** Why not, or what was found. */
  note: string;
}

/** Whether a report names `code` at `layer` (1-based) as an error and as its only root cause. */
export function judge(report: Report, code: FindingCode, layer: number): Cell {
  const named = (f: Finding) => f.layer === layer || ((f.evidence?.layers as number[] | undefined) ?? []).includes(layer);
  const rootFindings = report.findings.filter((f) => categoryOf(f.code) === 'root');
  const hit = rootFindings.find((f) => f.code === code && f.severity === 'error' && named(f));
  const roots = rootFindings.map((f) => `${f.code}@${f.layer}`).join(', ');
  if (report.ok) return { detected: false, note: 'the check passed' };
  if (!hit) return { detected: false, note: `expected ${code}@${layer}; found ${roots || 'nothing'}` };
  // The right finding, and no other root cause beside it.
  if (rootFindings.length > 1) return { detected: false, note: `${code}@${layer}, but also ${roots}` };
  return { detected: true, note: roots };
}

export function runCheck(model: Model, params: Params, X: Tensor, Y: Tensor, gradients: GradientSource, declared: DeclaredBackward | null): Report {
  return check({ model, params, X, Y, gradients }, { ...DEFAULT_OPTIONS, seed: 1 }, diagnoser(declared));
}

export interface MatrixRow {
  entry: EntrySpec;
  channel: 'grads' | 'declared';
  /** One cell per architecture; null where the mistake cannot be made. */
  cells: (Cell | null)[];
}

export function detectionMatrix(): MatrixRow[] {
  const rows: MatrixRow[] = [];
  const prepared = ARCHITECTURES.map((arch, i) => {
    const inputs = 3 + (i % 2);
    const { model } = build(arch.spec, inputs);
    const params = initialise(model);
    return { arch, model, params, ...dataFor(model, arch.samples, 100 + i) };
  });
  for (const entry of ENTRIES) {
    for (const channel of ['grads', 'declared'] as const) {
      if (channel === 'declared' && !entry.declared) continue;
      const cells = prepared.map(({ arch, model, params, X, Y }) => {
        const at = arch.sites[entry.id];
        if (at === undefined) return null;
        const setup: Setup = { arch, model, at };
        const layer = entry.reported?.(setup) ?? at;
        if (channel === 'grads') {
          const grads = userBackprop(model, params, X, Y, entry.grads(setup));
          return judge(runCheck(model, params, X, Y, { source: 'grads', grads }, null), entry.code, layer);
        }
        const block = entry.declared!(setup);
        if (!block) return null;
        const { model: m2, declared } = build(arch.spec, model.inputs, block);
        return judge(runCheck(m2, params, X, Y, { source: 'declared', plan: declaredPlan(m2, declared!) }, declared), entry.code, layer);
      });
      if (cells.some((c) => c !== null)) rows.push({ entry, channel, cells });
    }
  }
  return rows;
}

/** Each supported activation's derivative as users write it (mathjs has no comparisons). */
export const NATURAL_DERIVATIVES: Record<string, string> = {
  sigmoid: 'a * (1 - a)',
  tanh: '1 - a^2',
  relu: '(1 + sign(z)) / 2',
  leaky_relu: '(1.01 + 0.99 * sign(z)) / 2',
  linear: '1',
  softplus: 'sigmoid(z)',
  elu: 'min(a + 1, 1)',
};
export const PAIR_ACTIVATIONS = Object.keys(NATURAL_DERIVATIVES);

/** pairs[g][h]: a hidden `g` layer multiplied by h's derivative, through both channels. */
export function pairMatrix(): { g: string; cells: { h: string; grads: Cell | null; declared: Cell | null }[] }[] {
  return PAIR_ACTIVATIONS.map((g, gi) => {
    const spec = {
      layers: [{ units: 5, activation: g }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: /relu/.test(g) ? 'he' : 'xavier', seed: 20 + gi },
    };
    const { model } = build(spec, 3);
    const params = initialise(model);
    const { X, Y } = dataFor(model, 24, 200 + gi);
    return {
      g,
      cells: PAIR_ACTIVATIONS.map((h) => {
        if (h === g) return { h, grads: null, declared: null };
        const text = NATURAL_DERIVATIVES[h];
        const grads = userBackprop(model, params, X, Y, { at: 1, derivative: fn(text) });
        const viaGrads = judge(runCheck(model, params, X, Y, { source: 'grads', grads }, null), 'wrong-activation-derivative', 1);
        const { model: m2, declared } = build(spec, 3, { activationDerivatives: [text, null] });
        const viaDeclared = judge(runCheck(m2, params, X, Y, { source: 'declared', plan: declaredPlan(m2, declared!) }, declared), 'wrong-activation-derivative', 1);
        return { h, grads: viaGrads, declared: viaDeclared };
      }),
    };
  });
}

// ---- the layer kinds' own mistakes --------------------------------------------------------------
//
// Each layer kind lists the backprop mistakes people make in its backward (LayerKind.mistakes,
// core/layers/); softmax's diagonal-only Jacobian is the derivative hook at a softmax output whose
// loss is not categorical cross-entropy. Each is injected into networks of those kinds as the
// chain's `mistake` hook at one entry (the grads channel: the check sees only the gradients) and
// must be named with its code, at that entry, as the only root cause. A mistake that changes only
// the dA an entry passes down is injected where a layer below has parameters to show it.

/**
 * The mistakes of the layer kinds, in the order the table prints them: each id is its finding code,
 * or another form of the mistake whose code its record names (maxpool-overwrite-argmax).
 */
export const KIND_MISTAKES: string[] = [
  'conv-stride-ignored', 'conv-padding-not-stripped', 'conv-kernel-flipped', 'conv-dw-not-summed', 'conv-db-not-summed',
  'maxpool-whole-window', 'maxpool-overwrite', 'maxpool-overwrite-argmax', 'avgpool-not-averaged', 'avgpool-stride-ignored', 'flatten-order',
  'batchnorm-simplified', 'batchnorm-gamma-missing', 'batchnorm-unbiased-variance', 'batchnorm-eps-missing', 'batchnorm-spatial-axes',
  'layernorm-wrong-axis', 'dropout-mask-missing', 'dropout-keep-missing', 'dropout-new-mask', 'softmax-diagonal',
];

export interface KindArchitecture {
  name: string;
  /** The net.json, with its `input`. */
  spec: Record<string, unknown>;
  samples: number;
  /** The 1-based entry at which each mistake is injected (absent: not tried in this network). */
  sites: Partial<Record<string, number>>;
}

const conv = (filters: number, kernel: number, activation: string, more: Record<string, unknown> = {}) => ({ type: 'conv2d', filters, kernel, activation, ...more });
const BN_MISTAKES = ['batchnorm-simplified', 'batchnorm-gamma-missing', 'batchnorm-unbiased-variance', 'batchnorm-eps-missing'] as const;
const DROPOUT_MISTAKES = ['dropout-mask-missing', 'dropout-keep-missing', 'dropout-new-mask'] as const;
const CONV_BACKWARD = ['conv-padding-not-stripped', 'conv-kernel-flipped'] as const;
const at = (ids: readonly string[], layer: number) => Object.fromEntries(ids.map((id) => [id, layer]));

// A conv bias right before a batch norm has a gradient of exactly 0 (the norm removes every
// per-channel shift), so those convs have none, and a conv's db is tested where no norm follows.
// ReLUs right before a max-pool would tie whole windows at 0: the pools there follow tanh or a
// leaky ReLU.
export const KIND_ARCHITECTURES: KindArchitecture[] = [
  {
    name: 'conv-maxpool(overlapping)-conv-flatten-dense softmax + CCE',
    spec: {
      input: [2, 6, 6],
      layers: [conv(3, 3, 'tanh', { padding: 1 }), { type: 'maxpool2d', size: 3, stride: 1 }, conv(4, 3, 'tanh', { padding: 1 }), { type: 'flatten' }, { units: 3, activation: 'softmax' }],
      loss: 'categorical_cross_entropy', init: { scheme: 'xavier', seed: 41 },
    },
    samples: 8,
    sites: { ...at(CONV_BACKWARD, 3), 'conv-dw-not-summed': 1, 'conv-db-not-summed': 3, 'maxpool-whole-window': 2, 'maxpool-overwrite': 2, 'maxpool-overwrite-argmax': 2, 'flatten-order': 4 },
  },
  {
    name: 'conv s2 p1-avgpool-batchnorm(spatial)-conv s2 p1-flatten-dense sigmoid + BCE',
    spec: {
      input: [1, 11, 11],
      layers: [
        conv(2, 3, 'tanh', { stride: 2, padding: 1 }), { type: 'avgpool2d', size: 2 }, { type: 'batchnorm' },
        conv(3, 3, 'tanh', { stride: 2, padding: 1 }), { type: 'flatten' }, { units: 1, activation: 'sigmoid' },
      ],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 42 },
    },
    samples: 6,
    sites: {
      'conv-stride-ignored': 4, ...at(CONV_BACKWARD, 4), 'conv-dw-not-summed': 1, 'conv-db-not-summed': 4,
      'avgpool-not-averaged': 2, 'avgpool-stride-ignored': 2, ...at(BN_MISTAKES, 3), 'batchnorm-spatial-axes': 3, 'flatten-order': 5,
    },
  },
  {
    name: 'conv-batchnorm(spatial)-leaky ReLU-maxpool(overlapping)-flatten-dense, MSE',
    spec: {
      input: [2, 7, 7],
      layers: [
        conv(3, 3, 'linear', { padding: 1, bias: false }), { type: 'batchnorm' }, { type: 'activation', activation: { name: 'leaky_relu', alpha: 0.1 } },
        { type: 'maxpool2d', size: 3, stride: 2 }, { type: 'flatten' }, { units: 2, activation: 'linear' },
      ],
      loss: 'mean_squared_error', init: { scheme: 'he', seed: 43 },
    },
    samples: 6,
    sites: { 'conv-dw-not-summed': 1, ...at(BN_MISTAKES, 2), 'batchnorm-spatial-axes': 2, 'maxpool-whole-window': 4, 'maxpool-overwrite': 4, 'maxpool-overwrite-argmax': 4, 'flatten-order': 5 },
  },
  {
    name: 'dense-batchnorm-relu-dense-batchnorm-tanh-dense, BCE',
    spec: {
      input: 4,
      layers: [
        { units: 6, activation: 'linear', bias: false }, { type: 'batchnorm' }, { type: 'activation', activation: 'relu' },
        { units: 5, activation: 'linear', bias: false }, { type: 'batchnorm' }, { type: 'activation', activation: 'tanh' }, { units: 1, activation: 'sigmoid' },
      ],
      loss: 'binary_cross_entropy', init: { scheme: 'he', seed: 44 },
    },
    samples: 10,
    sites: { 'batchnorm-simplified': 5, 'batchnorm-gamma-missing': 2, 'batchnorm-unbiased-variance': 5, 'batchnorm-eps-missing': 2 },
  },
  {
    name: 'dense-layernorm-tanh-dropout-dense, BCE',
    spec: {
      input: 4,
      layers: [{ units: 6, activation: 'linear' }, { type: 'layernorm' }, { type: 'activation', activation: 'tanh' }, { type: 'dropout', keep: 0.7, seed: 5 }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 45 },
    },
    samples: 10,
    sites: { 'layernorm-wrong-axis': 2, ...at(DROPOUT_MISTAKES, 4) },
  },
  {
    name: 'dense-dropout-dense softmax + MSE',
    spec: {
      input: 3,
      layers: [{ units: 5, activation: 'tanh' }, { type: 'dropout', keep: 0.8, seed: 2 }, { units: 3, activation: 'softmax' }],
      loss: 'mean_squared_error', init: { scheme: 'xavier', seed: 46 },
    },
    samples: 10,
    sites: { ...at(DROPOUT_MISTAKES, 2), 'softmax-diagonal': 3 },
  },
  {
    name: 'conv-maxpool(overlapping)-conv s2 p1-batchnorm(spatial)-flatten-dropout-dense softmax + BCE',
    spec: {
      input: [1, 6, 6],
      layers: [
        conv(2, 3, 'tanh', { padding: 1 }), { type: 'maxpool2d', size: 2, stride: 1 }, conv(3, 3, 'linear', { stride: 2, padding: 1, bias: false }),
        { type: 'batchnorm' }, { type: 'flatten' }, { type: 'dropout', keep: 0.75, seed: 4 }, { units: 3, activation: 'softmax' },
      ],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 47 },
    },
    samples: 8,
    sites: {
      'conv-stride-ignored': 3, ...at(CONV_BACKWARD, 3), 'conv-dw-not-summed': 3, 'conv-db-not-summed': 1, 'maxpool-whole-window': 2, 'maxpool-overwrite': 2, 'maxpool-overwrite-argmax': 2,
      ...at(BN_MISTAKES, 4), 'batchnorm-spatial-axes': 4, 'flatten-order': 5, ...at(DROPOUT_MISTAKES, 6), 'softmax-diagonal': 7,
    },
  },
  {
    name: 'conv-avgpool-conv s2 p1-flatten-layernorm-tanh-dense softmax + a custom loss',
    spec: {
      input: [1, 6, 6],
      layers: [
        conv(3, 3, 'relu', { padding: 1 }), { type: 'avgpool2d', size: 2 }, conv(2, 3, 'tanh', { stride: 2, padding: 1 }), { type: 'flatten' },
        { type: 'layernorm' }, { type: 'activation', activation: 'tanh' }, { units: 3, activation: 'softmax' },
      ],
      loss: { expr: '(a - y)^2 + 0.1 * (a - y)^4' }, init: { scheme: 'he', seed: 48 },
    },
    samples: 8,
    sites: {
      'conv-stride-ignored': 3, ...at(CONV_BACKWARD, 3), 'conv-dw-not-summed': 1, 'conv-db-not-summed': 3, 'avgpool-not-averaged': 2, 'avgpool-stride-ignored': 2,
      'flatten-order': 4, 'layernorm-wrong-axis': 5, 'softmax-diagonal': 7,
    },
  },
  {
    name: 'dense-layernorm-leaky ReLU-dense-batchnorm-sigmoid-dense, MSE',
    spec: {
      input: 4,
      layers: [
        { units: 5, activation: 'linear' }, { type: 'layernorm' }, { type: 'activation', activation: { name: 'leaky_relu', alpha: 0.1 } },
        { units: 4, activation: 'linear', bias: false }, { type: 'batchnorm' }, { type: 'activation', activation: 'sigmoid' }, { units: 2, activation: 'linear' },
      ],
      loss: 'mean_squared_error', init: { scheme: 'xavier', seed: 49 },
    },
    samples: 10,
    sites: { 'layernorm-wrong-axis': 2, ...at(BN_MISTAKES, 5) },
  },
  {
    name: 'conv-avgpool-flatten-dense-dropout-dense sigmoid + BCE',
    spec: {
      input: [2, 6, 6],
      layers: [conv(2, 3, 'tanh'), { type: 'avgpool2d', size: 2 }, { type: 'flatten' }, { units: 4, activation: 'relu' }, { type: 'dropout', keep: 0.6, seed: 9 }, { units: 1, activation: 'sigmoid' }],
      loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 50 },
    },
    samples: 8,
    sites: { 'conv-dw-not-summed': 1, 'conv-db-not-summed': 1, 'avgpool-not-averaged': 2, 'avgpool-stride-ignored': 2, 'flatten-order': 3, ...at(DROPOUT_MISTAKES, 5) },
  },
];

/** The gradients of a user's backprop with the layer-kind mistake `id` at the 1-based entry `site`. */
export function kindBackprop(model: Model, params: Params, X: Tensor, Y: Tensor, id: string, site: number): Grads {
  const net = netOf(model, params, forward(model, params, X, Y), Y);
  const chain = correctChain(net);
  const l = site - 1;
  // Softmax's diagonal is the derivative hook, s(1 − s) per element; every other mistake is the entry's kind's.
  if (id === 'softmax-diagonal') chain.layers[l].derivative = layerValues(net, l, (_z, a) => a * (1 - a));
  else chain.layers[l].mistake = id;
  return evaluate(net, chain).grads;
}

/** Why a site cannot carry the mistake (the wrong kind there, or one on which it changes nothing), or null. */
function siteProblem(model: Model, id: string, site: number, m: number): string | null {
  const layer = model.layers[site - 1];
  if (!layer) return `the network has no layer ${site}`;
  if (id === 'softmax-diagonal') return layer.activation.name === 'softmax' ? null : `layer ${site} is not a softmax`;
  const mistake = kindOf(layer).mistakes?.[id];
  if (!mistake) return `layer ${site} (${typeOf(layer)}) has no mistake ${id}`;
  return !mistake.appliesTo || mistake.appliesTo(layer, m) ? null : `${id} changes nothing at layer ${site} (${typeOf(layer)})`;
}

export interface KindNet { arch: KindArchitecture; model: Model; params: Params; X: Tensor; Y: Tensor }

/**
 * The model with each dropout entry's fixed mask for m samples, as a check draws it: from the
 * entry's "seed", or without one from dropoutSeed(seed 1, l).
 */
export function withMasks(model: Model, seeds: readonly (number | null | undefined)[], m: number): Model {
  return {
    ...model,
    layers: model.layers.map((layer, l) => (typeOf(layer) === 'dropout' ? { ...layer, mask: drawMask(layer.units, m, layer.keep!, seeds[l] ?? dropoutSeed(1, l)) } : layer)),
  };
}

/** A kind architecture's network: its net.json parsed, its masks drawn, its parameters initialised, seeded data. */
export function kindNet(arch: KindArchitecture, index: number): KindNet {
  const loaded = parseSpec(arch.spec, 'matrix');
  const model = withMasks(loaded.model, loaded.dropoutSeeds, arch.samples);
  return { arch, model, params: initialise(model), ...dataFor(model, arch.samples, 400 + index) };
}

export interface KindRow { id: string; cells: (Cell | null)[] }

export function kindMatrix(): KindRow[] {
  const nets = KIND_ARCHITECTURES.map(kindNet);
  return KIND_MISTAKES.map((id) => ({
    id,
    cells: nets.map(({ arch, model, params, X, Y }) => {
      const site = arch.sites[id];
      if (site === undefined) return null;
      const problem = siteProblem(model, id, site, arch.samples);
      if (problem) return { detected: false, note: problem };
      const grads = kindBackprop(model, params, X, Y, id, site);
      // A mistake's other form is named with the code of the mistake it is a form of.
      const code = (kindOf(model.layers[site - 1]).mistakes?.[id]?.code ?? id) as FindingCode;
      return judge(runCheck(model, params, X, Y, { source: 'grads', grads }, null), code, site);
    }),
  }));
}

export function renderKindMatrix(rows: KindRow[]): { text: string; detected: number; total: number } {
  let detected = 0, total = 0;
  const label = (i: number) => `K${i + 1}`;
  const lines = ['', 'Layer kinds: each kind\'s backprop mistakes injected at one entry of networks with that kind (grads), named with', 'their code at that entry, as the only root cause.', ''];
  KIND_ARCHITECTURES.forEach((a, i) => lines.push(`  [${label(i)}] ${a.name}`));
  lines.push('');
  const width = Math.max(...KIND_MISTAKES.map((id) => id.length));
  lines.push(`${'mistake (code)'.padEnd(width)}  ${KIND_ARCHITECTURES.map((_a, i) => label(i).padEnd(3)).join(' ')}`);
  const misses: string[] = [];
  for (const r of rows) {
    r.cells.forEach((c, i) => {
      if (!c) return;
      total++;
      if (c.detected) detected++;
      else misses.push(`  ${r.id} in [${label(i)}]: ${c.note}`);
    });
    lines.push(`${r.id.padEnd(width)}  ${r.cells.map((c) => mark(c).padEnd(3)).join(' ')}`);
  }
  lines.push('', `${detected} of ${total} layer-kind cells detected (${((100 * detected) / Math.max(1, total)).toFixed(1)}%).`);
  if (misses.length > 0) lines.push('Missed:', ...misses);
  return { text: lines.join('\n') + '\n', detected, total };
}

// ---- printing -----------------------------------------------------------------------------------

const mark = (c: Cell | null) => (c === null ? '·' : c.detected ? '✓' : '✗');

export function renderMatrix(rows: MatrixRow[], pairs: ReturnType<typeof pairMatrix>): { text: string; detected: number; total: number } {
  let detected = 0, total = 0;
  const count = (c: Cell | null) => { if (c) { total++; if (c.detected) detected++; } };
  const lines: string[] = [];
  lines.push('Detection matrix: each catalogued mistake injected into each architecture (✓ detected: the check fails and the');
  lines.push('right code is reported at the right layer, as the only root cause; ✗ missed; · cannot be made there).', '');
  ARCHITECTURES.forEach((a, i) => lines.push(`  [${String.fromCharCode(65 + i)}] ${a.name}`));
  lines.push('');
  const width = Math.max(...rows.map((r) => `${r.entry.name} (${r.channel})`.length));
  lines.push(`${'mistake (delivered as)'.padEnd(width)}  code                          ${ARCHITECTURES.map((_a, i) => String.fromCharCode(65 + i)).join(' ')}`);
  for (const r of rows) {
    r.cells.forEach(count);
    lines.push(`${`${r.entry.name} (${r.channel})`.padEnd(width)}  ${r.entry.code.padEnd(28)}  ${r.cells.map(mark).join(' ')}`);
  }
  const misses = rows.flatMap((r) => r.cells.map((c, i) => (c && !c.detected ? `  ${r.entry.id} (${r.channel}) in [${String.fromCharCode(65 + i)}]: ${c.note}` : ''))).filter(Boolean);
  lines.push('', 'Activation-derivative swaps: a hidden layer g multiplied by h\'s derivative (grads/declared).', '');
  lines.push(`${'g \\ h'.padEnd(12)}${PAIR_ACTIVATIONS.map((h) => h.padEnd(12)).join('')}`);
  for (const p of pairs) {
    lines.push(`${p.g.padEnd(12)}${p.cells.map((c) => { count(c.grads); count(c.declared); return (c.grads ? `${mark(c.grads)}/${mark(c.declared)}` : '·').padEnd(12); }).join('')}`);
    for (const c of p.cells) for (const [ch, cell] of [['grads', c.grads], ['declared', c.declared]] as const) {
      if (cell && !cell.detected) misses.push(`  swap ${p.g} → ${c.h} (${ch}): ${cell.note}`);
    }
  }
  lines.push('', `${detected} of ${total} detected (${((100 * detected) / Math.max(1, total)).toFixed(1)}%).`);
  if (misses.length > 0) lines.push('Missed:', ...misses);
  return { text: lines.join('\n') + '\n', detected, total };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--real') {
  // `npm run matrix -- --real [more case directories…]`: the real-bug corpus alone (tools/real-bugs.ts).
  const table = renderRealBugs(realBugTable(pythonWith('numpy', 'The real-bug corpus\'s --model cases'), [CORPUS, ...process.argv.slice(3)]));
  process.stdout.write(table.text);
  process.exitCode = table.named >= REAL_BUG_RATE * table.total && table.clean === table.total ? 0 : 1;
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = renderMatrix(detectionMatrix(), pairMatrix());
  const kinds = renderKindMatrix(kindMatrix());
  const explained = renderExplanations(await explanationMatrix());
  process.stdout.write(result.text + kinds.text + explained.text);
  process.exitCode = [result, kinds, explained].every((t) => t.detected === t.total) ? 0 : 1;
}
