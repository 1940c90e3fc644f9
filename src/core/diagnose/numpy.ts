// The user's language for fixes. backprop-check writes formulas in mathjs syntax (in z, a, y: the
// syntax of net.json's backward block); a fix for code says the line as the user's NumPy has it,
// on the layer's arrays (Z1, A1, Y), in the user's layout: samples in columns by default
// (deeplearning.ai: X (n, m), W (units, inputs)), or in rows with net.json's "layout": "rows"
// (PyTorch: X (m, n), W (inputs, units)). A fix for net.json's backward block stays mathjs and
// says so (declaredFix).
import { compileFormula } from '../formula/formula.js';
import { fmt } from '../format.js';
import type { Net } from './chain.js';

export type Layout = 'columns' | 'rows';

/** The layout of the user's arrays (columns unless the spec says rows). */
export const layoutOf = (net: Net): Layout => net.layout ?? 'columns';

/** "In net.json's backward block (mathjs syntax): set outputGradient to "a - y"." */
export function declaredFix(change: string): string {
  return `In net.json's backward block (mathjs syntax): ${change}`;
}

/** The arrays a formula's variables stand for at one layer (1-based l): Z{l}, A{l}, and Y. */
export function layerArrays(l: number): Record<string, string> {
  return { z: `Z${l}`, a: `A${l}`, y: 'Y' };
}

/** NumPy for the functions a formula may call (formula.ts's USER_FUNCTIONS and what AD emits). */
const FUNCTIONS: Record<string, (args: string[]) => string> = {
  exp: ([x]) => `np.exp(${x})`, log: ([x]) => `np.log(${x})`, log1p: ([x]) => `np.log1p(${x})`, expm1: ([x]) => `np.expm1(${x})`,
  tanh: ([x]) => `np.tanh(${x})`, sinh: ([x]) => `np.sinh(${x})`, cosh: ([x]) => `np.cosh(${x})`, sqrt: ([x]) => `np.sqrt(${x})`,
  abs: ([x]) => `np.abs(${x})`, sign: ([x]) => `np.sign(${x})`,
  max: ([x, y]) => `np.maximum(${x}, ${y})`, min: ([x, y]) => `np.minimum(${x}, ${y})`,
  sigmoid: ([x]) => `1 / (1 + np.exp(-${wrap(x)}))`, softplus: ([x]) => `np.logaddexp(0, ${x})`,
  sech: ([x]) => `1 / np.cosh(${x})`, square: ([x]) => `${wrap(x)} ** 2`, cube: ([x]) => `${wrap(x)} ** 3`,
};

const CONSTANTS: Record<string, string> = { e: 'np.e', pi: 'np.pi' };

/** Parentheses around anything but a name, a number or a call. */
function wrap(x: string): string {
  return /^-?[\w.]+$/.test(x) || /^[\w.]+\([^()]*\)$/.test(x) ? x : `(${x})`;
}

interface Node {
  type: string;
  value?: unknown;
  name?: string;
  op?: string;
  fn?: string | { name: string };
  args?: Node[];
  content?: Node;
  condition?: Node;
  trueExpr?: Node;
  falseExpr?: Node;
}

/**
 * A formula in z, a, y as NumPy on arrays: "1 - a^2" → "1 - A1 ** 2", "z > 0 ? 1 : 0" →
 * "(Z1 > 0).astype(float)", "z > 0 ? 1 : 0.01" → "np.where(Z1 > 0, 1, 0.01)". The formula's own
 * parentheses are kept (mathjs keeps them as nodes), so precedence reads as written; ^ binds like
 * Python's ** and both bind tighter than a unary minus. Text that does not parse as a formula (a
 * description, a Jacobian in words) gets the same operator and names by substitution.
 */
export function numpyOf(formula: string, names: Record<string, string>): string {
  let node: Node;
  try {
    node = compileFormula(formula, ['z', 'a', 'y']).node as unknown as Node;
  } catch {
    // The formula language has no comparisons, so a step (the ReLU family's derivative texts,
    // "z > 0 ? 1 : 0.01") is read here: condition, then each branch as a formula.
    const step = /^([^?]+?)\s*\?\s*([^:]+?)\s*:\s*(.+)$/.exec(formula.trim());
    if (step) {
      const [c, t, f] = step.slice(1).map((part) => numpyOf(part, names));
      return t === '1' && f === '0' ? `(${c}).astype(float)` : `np.where(${c}, ${t}, ${f})`;
    }
    return formula.replace(/\s*\^\s*/g, ' ** ').replace(/\b[azy]\b/g, (v) => names[v] ?? v);
  }
  return print(node, names);
}

function print(n: Node, names: Record<string, string>): string {
  const p = (x: Node) => print(x, names);
  switch (n.type) {
    case 'ConstantNode': return String(n.value);
    case 'SymbolNode': return names[n.name!] ?? CONSTANTS[n.name!] ?? n.name!;
    case 'ParenthesisNode': return `(${p(n.content!)})`;
    case 'FunctionNode': {
      const name = typeof n.fn === 'string' ? n.fn : n.fn!.name;
      const args = n.args!.map(p);
      return FUNCTIONS[name]?.(args) ?? `np.${name}(${args.join(', ')})`;
    }
    case 'ConditionalNode': {
      const [c, t, f] = [p(n.condition!), p(n.trueExpr!), p(n.falseExpr!)];
      // A step: the boolean array as floats, as NumPy code writes it.
      if (t === '1' && f === '0') return `(${c}).astype(float)`;
      return `np.where(${c}, ${t}, ${f})`;
    }
    case 'OperatorNode': {
      const args = n.args!.map(p);
      if (args.length === 1) return n.fn === 'unaryMinus' ? `-${args[0]}` : n.fn === 'unaryPlus' ? args[0] : `${n.op}${args[0]}`;
      const op = n.op === '^' ? '**' : n.op === 'and' ? '&' : n.op === 'or' ? '|' : n.op!;
      return `${args[0]} ${op} ${args[1]}`;
    }
    default: return String((n as { toString(): string }).toString());
  }
}

/** X for the input data, A{i} for a layer's output: the name of layer l's input (1-based l). */
export function inputArray(l: number): string {
  return l === 1 ? 'X' : `A${l - 1}`;
}

/** "/ m" for a mean cost, "" for a sum (1/m is net.s). */
const perSample = (net: Net) => (net.s === 1 ? '' : ' / m');

/** dW_l = dZ_l·A_{l−1}ᵀ/m in the user's layout: np.dot(dZ2, A1.T) / m, or A1.T @ dZ2 / m. */
export function dWLine(net: Net, l: number): string {
  const input = inputArray(l);
  return layoutOf(net) === 'rows' ? `dW${l} = ${input}.T @ dZ${l}${perSample(net)}` : `dW${l} = np.dot(dZ${l}, ${input}.T)${perSample(net)}`;
}

/** db_l = Σ_samples dZ_l / m in the user's layout. */
export function dbLine(net: Net, l: number): string {
  return layoutOf(net) === 'rows' ? `db${l} = np.sum(dZ${l}, axis=0)${perSample(net)}` : `db${l} = np.sum(dZ${l}, axis=1, keepdims=True)${perSample(net)}`;
}

/** dA_{l−1} = W_lᵀ·dZ_l in the user's layout (l is the 1-based layer whose W it is). */
export function dAPrevLine(net: Net, l: number): string {
  return layoutOf(net) === 'rows' ? `dA${l - 1} = dZ${l} @ W${l}.T` : `dA${l - 1} = np.dot(W${l}.T, dZ${l})`;
}

/** The axis over a sample's units: 0 with samples in columns, 1 with samples in rows. */
export const unitAxis = (net: Net) => (layoutOf(net) === 'rows' ? 1 : 0);

/** A softmax layer's backward: dZ = A ⊙ (dA − Σ_units A·dA), summed over each sample's units. */
export function softmaxLine(net: Net, l: number): string {
  return `dZ${l} = A${l} * (dA${l} - np.sum(A${l} * dA${l}, axis=${unitAxis(net)}, keepdims=True))`;
}

/**
 * The L2 penalty's gradient on W_l as the user writes it, with its numbers: (lambd / m) * W1
 * (lambd = 0.7, m = 20), lambd * W1 for a summed cost, 2 * c * W1 for a coefficient.
 */
export function penaltyTerm(net: Net, l: number): { term: string; values: string } {
  const l2 = net.model.l2;
  if (l2.kind === 'lambda') {
    return net.model.reduction === 'mean'
      ? { term: `(lambd / m) * W${l}`, values: `lambd = ${fmt(l2.lambda)}, m = ${net.m}` }
      : { term: `lambd * W${l}`, values: `lambd = ${fmt(l2.lambda)}` };
  }
  return { term: `2 * c * W${l}`, values: `c = ${l2.kind === 'coefficient' ? fmt(l2.coefficient) : 0}` };
}

/** One line per layer, joined: "dZ1 = …; dZ2 = …". */
export function perLayer(layers: number[], line: (l: number) => string): string {
  return layers.map((l) => line(l + 1)).join('; ');
}
