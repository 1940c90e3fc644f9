// The report: what every renderer (table, JSON, JUnit, Markdown, HTML) and the library API
// return. Its JSON form is the documented contract (docs/formats.md, "The JSON report").

export type Status = 'pass' | 'warn' | 'fail';
export type Mode = 'full' | 'sample' | 'directional';
export type Severity = 'error' | 'warning' | 'info';

export interface TensorCheck {
  /** 1-based layer number. */
  layer: number;
  /** "W1", "b1", … (paramLabel of the tensor's ParamRef) */
  param: string;
  /** The tensor's shape, of any rank: [units, inputs] for a dense W. */
  shape: number[];
  /** ‖g − ĝ‖₂ / (‖g‖₂ + ‖ĝ‖₂), 0 when both are 0; over the checked, kink-free elements. */
  relativeError: number;
  /** max |gᵢ − ĝᵢ| / max(|gᵢ|, |ĝᵢ|) over the same elements. */
  maxElementError: number;
  /** The element with the largest absolute difference (in directional mode: the direction). */
  worst: { index: number[]; analytic: number; numeric: number } | null;
  /** ‖g‖₂ and ‖ĝ‖₂ over the checked elements (directional mode: over the projections). */
  analyticNorm: number;
  numericNorm: number;
  /** Elements (or directions) compared. */
  checked: number;
  /** Elements at which the cost is not differentiable (a ReLU pre-activation exactly at 0 …): compared
   *  with the nearest value between the one-sided finite differences. */
  kinks: number;
  status: Status;
  /** Gradients handed in as float32 values: judged against float32's resolution (unit roundoff 2⁻²⁴). */
  precision?: 'float32';
  /** The finite-difference step this tensor was checked with (scaled to its inputs, or --epsilon as given). */
  epsilon?: number;
  /** Where the tensor's disagreement was judged against resolution (it would otherwise warn or fail): the
   *  floor, ‖floor‖₂ / (‖g‖₂ + ‖ĝ‖₂), of what float64 (float32 for float32 gradients) can resolve at these
   *  weights, and its largest part: rounding of the forward quantities, of the sums over samples, or the
   *  step's truncation error. */
  floor?: number;
  floorCause?: 'forward' | 'sums' | 'step';
  /** The relative error beyond each element's floor, which the verdict is taken on. */
  resolvedError?: number;
  /** True when the disagreement lies within the floor: the tensor passes ("agrees to float64 resolution"). */
  withinResolution?: boolean;
  /** Failing tensors: the rule that failed it. "norm": the norm-wise relative error beyond resolution is at
   *  or above the tolerance; "element": one element is clearly wrong (its error beyond its floor is at
   *  least the tolerance relative to the element and a hundredth of it relative to the tensor's largest
   *  element) although the norm-wise error is small. */
  failedBy?: 'norm' | 'element';
  /** With --taylor: the order of the first-order model's error along a random direction (≈ 2 the
   *  gradient is right, ≈ 1 it is wrong; null when rounding left too few steps), and that verdict. */
  taylorOrder?: number | null;
  taylorStatus?: 'pass' | 'fail' | 'inconclusive';
  /** A program's check (source "model") only, on a tensor that warns without a verdict. "unresolved": its
   *  disagreement lies within a floor (`floor`) at or above the tolerance, so the differences cannot tell;
   *  "nondeterministic": the program's cost changed between identical calls, so no verdict was taken. */
  resolution?: 'unresolved' | 'nondeterministic';
  /** Only in an interrupted report (`partial`), on a tensor whose check did not finish: the elements
   *  (directions) it was to compare, of which `checked` (+ `kinks` in directional mode) were; a tensor
   *  not reached at all has `checked: 0`. Its `status` judges the compared ones only. */
  planned?: number;
  /** Failing and warning tensors only: the compared values (elements, or directional projections), at most
   *  VALUES_CAP of them evenly spaced, for the HTML report's scatter and residual plots. Left out of `--format json`. */
  values?: { analytic: number[]; numeric: number[] };
}

/** The most per-element values a failing or warning TensorCheck carries. */
export const VALUES_CAP = 5000;

export interface Finding {
  /** A stable code, e.g. "wrong-activation-derivative"; see `backprop-check --explain`. */
  code: string;
  severity: Severity;
  layer?: number;
  param?: string;
  /**
   * Every tensor the finding explains, as the report names them ("W1", "b1", "W2"), when it explains
   * more than `param` alone: JUnit and markdown attach the finding to each of them.
   */
  params?: string[];
  message: string;
  fix: string;
  /** The numbers behind the finding. */
  evidence?: Record<string, number | string | boolean | number[]>;
}

export interface LayerHealth {
  layer: number;
  /** Absent in a program's report (source "model"), which cannot see activations; so are saturation,
   *  deadFraction and recommendedScale. */
  activation?: string;
  /** The entry's net.json type when it is not dense (conv2d, batchnorm, …); a parameterless entry
   *  (pooling, flatten, dropout, activation) has gradientNorm and weightScale 0. */
  type?: string;
  /** Present (true) on an entry without parameters: its gradientNorm and weightScale mean nothing. */
  noParameters?: true;
  /** ‖∂J/∂W_l‖₂ from the finite differences (the truth, whatever the code under test says). */
  gradientNorm: number;
  /** Fraction of (unit, sample) pairs in the flat tails of tanh/sigmoid; 0 for others. */
  saturation?: number;
  /** For ReLU layers: fraction of units that are zero on every sample (an image's: of channels zero at every position too). */
  deadFraction?: number;
  /** batchnorm, layernorm: the smallest variance the layer divides by (before ε). */
  minVariance?: number;
  /** Standard deviation of W_l, and the scale Xavier/He would give for this activation. */
  weightScale: number;
  recommendedScale?: number;
  /** A program's report: the tensors of this layer group, by the program's names. */
  tensors?: string[];
  /** The layer's activations over all (unit, sample) pairs: counts[i] lie in [edges[i], edges[i+1])
   *  (the last bin is closed); `nonFinite` counts NaN/±Inf activations, which are in no bin.
   *  For the HTML report; left out of `--format json`. */
  histogram?: { edges: number[]; counts: number[]; nonFinite?: number };
}

export interface Settings {
  epsilon: number;
  tolerance: number;
  mode: Mode;
  seed: number;
  /** Elements per tensor (sample mode) or directions per tensor (directional mode). */
  samples?: number;
}

export interface Report {
  ok: boolean;
  /** The cost at the checked weights, penalty included (a program's report: the program's cost). */
  loss: number;
  /** What was checked: the spec's correct backprop, its declared `backward`, the user's gradients, or the user's program (--model, --connect, the library's `model`). */
  source: 'correct' | 'declared' | 'grads' | 'exec' | 'model';
  checks: TensorCheck[];
  findings: Finding[];
  health: { layers: LayerHealth[] };
  settings: Settings;
  /** True when the check was interrupted and `checks` holds what was done so far. */
  partial?: boolean;
  /** With --sweep: the relative error against ε, and the ε the check then ran with (core/check/sweep.ts). */
  sweep?: SweepResult;
}

/** --sweep, per tensor: the relative error at each ε (SWEEP_EPSILONS, check/sweep.ts) both ways, and the step chosen. */
export interface SweepTensor {
  param: string;
  /** Elements compared (a seeded sample, the same at every ε). */
  elements: number;
  /** Relative error at each ε of SWEEP_EPSILONS, with backprop-check's differences and with plain subtraction. */
  accurate: number[];
  plain: number[];
  /** The step this tensor is checked with, or null: wrong at every ε, so it keeps its normal step. */
  chosen: number | null;
  /** How it was chosen, in a sentence. */
  reason: string;
}

export interface SweepResult {
  epsilons: number[];
  tensors: SweepTensor[];
  /** The worst tensor's relative error at each ε. */
  worst: { accurate: number[]; plain: number[] };
  /** The base step the check then runs with: chosen on the worst curve of the tensors that some ε resolves. */
  chosen: number;
  /** How it was chosen, in a sentence. */
  reason: string;
  /** The step of each tensor that some ε resolves, by name ("W1", "b1", …); the others keep their normal step. */
  perTensor: Record<string, number>;
  /** A program's sweep (source "model"): its costs give plain differences only (`accurate` repeats `plain`),
   *  and each tensor is checked at its own step (perTensor), not at `chosen`, which only marks the worst curve's best. */
  program?: true;
}
