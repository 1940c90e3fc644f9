// The formulas people write for an activation's derivative and for the output gradient, right
// and wrong, as plain functions. Both the formula analysis (what *is* the declared formula?) and
// the fingerprint search (which formula reproduces these gradients?) draw from these lists.
//
// A derivative can be written in z (tanh'(z) = 1 − tanh(z)²) or in the activation's output a
// (tanh' = 1 − a²). The classic mistakes are another activation's derivative, and the right one
// evaluated at the wrong variable (1 − z² for tanh).
import { ACTIVATION_NAMES, namedActivation, type Activation, type ElementwiseActivation } from '../records/activations.js';
import { compileFormula, type Formula } from '../formula/formula.js';
import { customGradient, type Loss } from '../records/losses.js';

/** How a derivative is evaluated: in z at z, in a at a, or at the other variable. */
export type Evaluated = 'z' | 'a' | 'a-at-z' | 'z-at-a';

export interface DerivativeForm {
  /** The activation whose derivative this is: "tanh", "leaky_relu(0.1)", or the layer's own. */
  of: string;
  /** The layer's own activation (then a wrong `how` is "derivative of the wrong variable"). */
  own: boolean;
  how: Evaluated;
  /** As a user would write it, e.g. "1 - z^2". */
  text: string;
  /** What it is, e.g. "tanh' written in a (1 - a^2), evaluated at z". */
  label: string;
  fn: (z: number, a: number) => number;
}

/** A derivative written both ways: in z, and (when there is such a form) in the output a. */
interface Written {
  name: string;
  inZ: { text: string; fn: (z: number) => number };
  inA?: { text: string; fn: (a: number) => number };
}

/** The derivative of f at z from its record: f'(z) given z and a = f(z). */
const inZ = (f: ElementwiseActivation) => (z: number) => f.derivative(z, f.f(z));

/**
 * Every built-in element-wise activation's derivative, written in z and in a, as its record writes
 * it. A leaky ReLU or ELU takes the layer's own α when the layer is one (so that "the right
 * formula" is recognised), else its default.
 */
function catalogue(layer: Activation): Written[] {
  return ACTIVATION_NAMES.flatMap((name) => {
    const named = namedActivation(name)!;
    const f = named.withAlpha && named.withAlpha === layer.withAlpha ? named.withAlpha(layer.alpha!) : named;
    return f.written && f.diagonal ? [{ name: f.name, inZ: { text: f.written.z, fn: inZ(f) }, inA: f.written.a }] : [];
  });
}

/** "1 - a^2" → "1 - z^2": swaps the variables z and a where they stand alone. */
function swapVariables(text: string): string {
  return text.replace(/\b[az]\b/g, (v) => (v === 'a' ? 'z' : 'a'));
}

/** "tanh'", or for the identity "identity' (no derivative at all)". */
const prime = (name: string) => (name === 'linear' ? "identity' (no derivative at all)" : `${name}'`);

/**
 * The derivative forms worth trying at a layer, in the order a diagnosis should prefer them:
 * the layer's own derivative at the wrong variable first, then every other activation's.
 * The layer's true derivative is not in the list.
 */
export function derivativeForms(layer: Activation): DerivativeForm[] {
  const out: DerivativeForm[] = [];
  const own = layer.name;
  if (own.startsWith('expr(')) {
    const d = (z: number) => layer.derivative(z, 0);
    const text = swapVariables(layer.derivativeText);
    out.push({ of: own, own: true, how: 'z-at-a', text, label: `the derivative of ${own} (${layer.derivativeText}) evaluated at a instead of z`, fn: (_z, a) => d(a) });
  }
  const all = catalogue(layer);
  const mine = all.find((w) => w.name === own);
  if (mine) out.push(...wrongVariable(mine, true));
  for (const w of all) {
    if (w === mine) continue;
    if (w.inA) out.push({ of: w.name, own: false, how: 'a', text: w.inA.text, label: `${prime(w.name)} written in a`, fn: (_z, a) => w.inA!.fn(a) });
    out.push({ of: w.name, own: false, how: 'z', text: w.inZ.text, label: w.name === 'linear' ? prime('linear') : `${w.name}'(z)`, fn: (z) => w.inZ.fn(z) });
  }
  for (const w of all) if (w !== mine) out.push(...wrongVariable(w, false));
  return out;
}

function wrongVariable(w: Written, own: boolean): DerivativeForm[] {
  const out: DerivativeForm[] = [];
  if (w.inA) {
    const text = swapVariables(w.inA.text);
    out.push({ of: w.name, own, how: 'a-at-z', text, label: `${w.name}' written for a (${w.inA.text}) but evaluated at z`, fn: (z) => w.inA!.fn(z) });
  }
  if (w.name !== 'linear') {
    const text = swapVariables(w.inZ.text);
    out.push({ of: w.name, own, how: 'z-at-a', text, label: `${w.name}' written for z (${w.inZ.text}) but evaluated at a`, fn: (_z, a) => w.inZ.fn(a) });
  }
  return out;
}

/** The right derivative of a layer as users write it, in a where it can be (softmax: its Jacobian). */
export function derivativeText(layer: Activation): string {
  if (!layer.diagonal) return `the ${layer.name} Jacobian: ${layer.jacobianText}`;
  return layer.written?.a?.text ?? layer.written?.z ?? layer.derivativeText;
}

// ---- output gradients -------------------------------------------------------------------------

/** One additive term of a formula, with its sign. */
interface Term {
  sign: 1 | -1;
  text: string;
  fn: (z: number, a: number, y: number) => number;
}

/** ∂L/∂z = a − y written as two terms, for the pairs whose product simplifies so (loss.canonicalActivation). */
const A_MINUS_Y: Term[] = [
  { sign: 1, text: 'a', fn: (_z, a) => a },
  { sign: -1, text: 'y', fn: (_z, _a, y) => y },
];

/** Whether ∂L/∂z is a − y for this output: sigmoid with binary cross-entropy, softmax with categorical, linear with squared error. */
function hasAMinusYDelta(activation: Activation, loss: Loss): boolean {
  return loss.canonicalActivation === activation.name;
}

/** The terms of ∂L/∂a: the loss record's own, or those of a custom loss's formula. */
function gradientTerms(loss: Loss): Term[] {
  if (!loss.gradientTerms) return customTerms(loss);
  return loss.gradientTerms.map((t) => ({ sign: t.sign, text: t.text, fn: (_z: number, a: number, y: number) => t.fn(a, y) }));
}

/** Splits a parsed formula into signed additive terms (through parentheses and unary minus). */
function splitTerms(node: Formula['node'], sign: 1 | -1, out: { sign: 1 | -1; node: Formula['node'] }[]): void {
  const n = node as Formula['node'] & { fn?: string; args?: Formula['node'][]; content?: Formula['node'] };
  if (node.type === 'ParenthesisNode') return splitTerms(n.content!, sign, out);
  if (node.type === 'OperatorNode' && n.fn === 'unaryMinus') return splitTerms(n.args![0], (-sign) as 1 | -1, out);
  if (node.type === 'OperatorNode' && n.fn === 'add') {
    splitTerms(n.args![0], sign, out);
    return splitTerms(n.args![1], sign, out);
  }
  if (node.type === 'OperatorNode' && n.fn === 'subtract') {
    splitTerms(n.args![0], sign, out);
    return splitTerms(n.args![1], (-sign) as 1 | -1, out);
  }
  out.push({ sign, node });
}

/**
 * The terms of a custom loss's ∂L/∂a: the loss expression split into additive terms, each
 * differentiated on its own (so "the derivative of the second term is missing" can be said).
 * None when the expression cannot be split or compiled.
 */
function customTerms(loss: Loss): Term[] {
  const source = /^expr\((.*)\)$/s.exec(loss.name)?.[1];
  if (source === undefined) return [];
  try {
    const parts: { sign: 1 | -1; node: Formula['node'] }[] = [];
    splitTerms(compileFormula(source, ['a', 'y']).node, 1, parts);
    return parts.flatMap((p) => {
      // Each term's derivative by AD, its text verified against it (mathjs's simplifier can be wrong).
      const d = customGradient(compileFormula(p.node.toString(), ['a', 'y']));
      if (d.text === '0') return [];
      return [{ sign: p.sign, text: d.text, fn: (_z: number, a: number, y: number) => d.gradient(a, y) }];
    });
  } catch {
    return [];
  }
}

function termsText(terms: Term[]): string {
  if (terms.length === 0) return '0';
  return terms.map((t, i) => {
    const wrap = /[+-]/.test(t.text.replace(/^-/, '')) && !/^\(.*\)$/.test(t.text) ? `(${t.text})` : t.text;
    if (i === 0) return t.sign < 0 ? `-${wrap}` : t.text;
    return `${t.sign < 0 ? ' - ' : ' + '}${wrap}`;
  }).join('');
}

function sumOf(terms: Term[]): (z: number, a: number, y: number) => number {
  return (z, a, y) => {
    let s = 0;
    for (const t of terms) s += t.sign * t.fn(z, a, y);
    return s;
  };
}

const ORDINAL = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'];

/** What is wrong with an output formula. */
export type OutputMistake =
  | 'correct' | 'sign' | 'term-sign' | 'term-missing'
  /** ∂L/∂z (a − y) used where ∂L/∂a is wanted: the output derivative is applied twice. */
  | 'delta-as-gradient'
  /** ∂L/∂a used where ∂L/∂z is wanted: the output derivative is left out. */
  | 'gradient-as-delta';

export interface OutputForm {
  /** dA_L (then times the output derivative) or dZ_L directly. */
  kind: 'gradient' | 'delta';
  mistake: OutputMistake;
  /** What is wrong, e.g. "the second term's sign is flipped". */
  label: string;
  text: string;
  fn: (z: number, a: number, y: number) => number;
}

/**
 * ∂L/∂z at one output element: for an element-wise output activation ∂L/∂a·g'(z), for a coupled
 * one (softmax) with its canonical loss a − y. null for a coupled one with any other loss, whose
 * ∂L/∂z at one element depends on the whole sample (the Jacobian applied to ∂L/∂a).
 */
export function trueDelta(activation: Activation, loss: Loss): ((z: number, a: number, y: number) => number) | null {
  if (!activation.diagonal) return hasAMinusYDelta(activation, loss) ? (_z, a, y) => a - y : null;
  return (z, a, y) => loss.gradient(a, y) * activation.derivative(z, a);
}

/** The text of the right ∂L/∂z. */
export function deltaText(activation: Activation, loss: Loss): string {
  if (hasAMinusYDelta(activation, loss)) return 'a - y';
  if (!activation.diagonal) return `${derivativeText(activation)}, with dA = ${loss.gradientText}`;
  return `(${loss.gradientText}) * (${derivativeText(activation)})`;
}

/** Term-wise variants of a sum: each term's sign flipped, each term left out. */
function termVariants(terms: Term[], kind: OutputForm['kind']): OutputForm[] {
  if (terms.length < 2) return [];
  const out: OutputForm[] = [];
  terms.forEach((_t, i) => {
    const flipped = terms.map((t, j) => (j === i ? { ...t, sign: (-t.sign) as 1 | -1 } : t));
    out.push({ kind, mistake: 'term-sign', label: `the ${ORDINAL[i] ?? `${i + 1}th`} term's sign is flipped`, text: termsText(flipped), fn: sumOf(flipped) });
  });
  terms.forEach((t, i) => {
    const rest = terms.filter((_x, j) => j !== i);
    out.push({ kind, mistake: 'term-missing', label: `the ${ORDINAL[i] ?? `${i + 1}th`} term (${t.sign < 0 ? '-' : ''}${t.text}) is missing`, text: termsText(rest), fn: sumOf(rest) });
  });
  return out;
}

/** The right output formulas: ∂L/∂a, and ∂L/∂z = a − y written directly where the pair has that closed form. */
export function rightOutputForms(activation: Activation, loss: Loss): OutputForm[] {
  const forms: OutputForm[] = [{ kind: 'gradient', mistake: 'correct', label: '∂L/∂a', text: loss.gradientText, fn: (_z, a, y) => loss.gradient(a, y) }];
  if (hasAMinusYDelta(activation, loss)) forms.push({ kind: 'delta', mistake: 'correct', label: '∂L/∂z', text: 'a - y', fn: trueDelta(activation, loss)! });
  return forms;
}

/**
 * The output formulas worth trying, the right ones first: ∂L/∂a and its common corruptions, then,
 * where the pair has the closed form a − y, ∂L/∂z written directly and its corruptions. A coupled
 * output without its canonical loss has no element-wise ∂L/∂z, so no form is written in it; ∂L/∂a
 * used as ∂L/∂z (the Jacobian left out) stays a candidate.
 */
export function outputForms(activation: Activation, loss: Loss): OutputForm[] {
  const terms = gradientTerms(loss);
  const gradient = (_z: number, a: number, y: number) => loss.gradient(a, y);
  const delta = trueDelta(activation, loss);
  const [rightGradient, rightDelta] = rightOutputForms(activation, loss);
  const forms: OutputForm[] = [
    rightGradient,
    { kind: 'gradient', mistake: 'sign', label: 'its sign is flipped (gradient ascent)', text: `-(${loss.gradientText})`, fn: (z, a, y) => -gradient(z, a, y) },
    ...termVariants(terms, 'gradient'),
  ];
  if (delta) forms.push({ kind: 'gradient', mistake: 'delta-as-gradient', label: `it is ∂L/∂z (${deltaText(activation, loss)}), so the output derivative is applied twice`, text: deltaText(activation, loss), fn: delta });
  if (rightDelta) {
    forms.push(
      rightDelta,
      { kind: 'delta', mistake: 'sign', label: 'its sign is flipped (gradient ascent)', text: 'y - a', fn: (z, a, y) => -rightDelta.fn(z, a, y) },
      ...termVariants(A_MINUS_Y, 'delta'),
    );
  } else if (delta) {
    forms.push({ kind: 'delta', mistake: 'sign', label: 'its sign is flipped (gradient ascent)', text: `-(${deltaText(activation, loss)})`, fn: (z, a, y) => -delta(z, a, y) });
  }
  const leftOut = activation.diagonal ? "the output activation's derivative is left out" : `the ${activation.name} Jacobian is left out`;
  forms.push({ kind: 'delta', mistake: 'gradient-as-delta', label: `it is ∂L/∂a (${loss.gradientText}): ${leftOut}`, text: loss.gradientText, fn: gradient });
  return forms;
}
