// User formulas: parsed by mathjs, checked against an allow-list, then compiled to plain
// JavaScript functions so that nothing of mathjs runs in the numeric loops.
//
// Safety: nothing the user wrote is ever evaluated by mathjs. The parse tree is walked and every
// node must be a finite number, one of the allowed variables or constants, an arithmetic operator,
// parentheses, or a call of an allowed function by name. Only then is JavaScript generated, from
// our own fixed fragments (variable names are never copied from the input).
import { createRequire } from 'node:module';
import type { MathJsInstance, MathNode } from 'mathjs';

// mathjs is loaded on first use, synchronously, since most checks have no formulas at all. By
// default it comes from its single-file UMD build (lib/browser/math.js, an entry its package
// exports): the same code as its CommonJS build, which takes ~1.1 s to require (hundreds of modules
// and an eagerly built default instance) where the single file takes ~0.13 s, plus ~0.2 s on first
// use. The command line instead loads a slim build of the same factories (cli/mathjs-slim.ts,
// through useMathjs), which starts in a fraction of that.
let mathInstance: MathJsInstance | undefined;
let loadMathjs = (): MathJsInstance => {
  const { create, all } = createRequire(import.meta.url)('mathjs/lib/browser/math.js') as typeof import('mathjs');
  return create(all);
};
function mathjs(): MathJsInstance {
  if (!mathInstance) mathInstance = loadMathjs();
  return mathInstance;
}

/**
 * Where mathjs comes from: `load` is called once, at the first formula after this call. (The
 * command line calls it before any formula, so trees of two instances never meet.)
 */
export function useMathjs(load: () => MathJsInstance): void {
  loadMathjs = load;
  mathInstance = undefined;
}

export type Variable = 'z' | 'a' | 'y';
export type Fn = (z: number, a: number, y: number) => number;

/** Functions a user may call, with their arity and their JavaScript implementation. */
const USER_FUNCTIONS: Record<string, { arity: number[]; js: string }> = {
  exp: { arity: [1], js: 'Math.exp' },
  log: { arity: [1], js: 'Math.log' },
  log1p: { arity: [1], js: 'Math.log1p' },
  expm1: { arity: [1], js: 'Math.expm1' },
  tanh: { arity: [1], js: 'Math.tanh' },
  sinh: { arity: [1], js: 'Math.sinh' },
  cosh: { arity: [1], js: 'Math.cosh' },
  sqrt: { arity: [1], js: 'Math.sqrt' },
  abs: { arity: [1], js: 'Math.abs' },
  sign: { arity: [1], js: 'Math.sign' },
  max: { arity: [2], js: 'Math.max' },
  min: { arity: [2], js: 'Math.min' },
  sigmoid: { arity: [1], js: 'F.sigmoid' },
  softplus: { arity: [1], js: 'F.softplus' },
};

/** Functions mathjs's `derivative` may emit that users do not write themselves. */
const DERIVATIVE_FUNCTIONS: Record<string, { arity: number[]; js: string }> = {
  sech: { arity: [1], js: 'F.sech' },
  square: { arity: [1], js: 'F.square' },
  cube: { arity: [1], js: 'F.cube' },
};

const CONSTANTS: Record<string, string> = { e: 'Math.E', pi: 'Math.PI' };

const HELPERS = {
  sigmoid: (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  softplus: (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  sech: (x: number) => 1 / Math.cosh(x),
  square: (x: number) => x * x,
  cube: (x: number) => x * x * x,
};

/** Why a formula was refused: `detail` says what was found, for the caller to place in a file. */
export class FormulaError extends Error {
  constructor(readonly formula: string, readonly detail: string) {
    super(`${detail} in formula "${formula}"`);
    this.name = 'FormulaError';
  }
}

export interface Formula {
  source: string;
  /** The parsed (and validated) tree. */
  node: MathNode;
  /** Variables the formula mentions. */
  uses: Set<Variable>;
  fn: Fn;
}

/**
 * Parses and validates `source`, allowing only the listed variables, and compiles it.
 * Throws FormulaError, never evaluates anything on the way.
 */
export function compileFormula(source: string, allowed: readonly Variable[]): Formula {
  if (typeof source !== 'string' || source.trim() === '') {
    throw new FormulaError(String(source), 'an empty formula');
  }
  if (source.length > 2000) throw new FormulaError(source.slice(0, 40) + '…', 'a formula longer than 2000 characters');
  let node: MathNode;
  try {
    node = mathjs().parse(source);
  } catch (err) {
    if (err instanceof RangeError) throw new FormulaError(source, 'a formula nested too deeply to parse');
    throw new FormulaError(source, `a syntax error (${(err as Error).message})`);
  }
  const uses = new Set<Variable>();
  validate(node, source, allowed, uses, USER_FUNCTIONS);
  return { source, node, uses, fn: toFunction(node, source) };
}

function validate(
  node: MathNode,
  source: string,
  allowed: readonly Variable[],
  uses: Set<Variable>,
  functions: Record<string, { arity: number[]; js: string }>,
): void {
  const n = node as MathNode & Record<string, unknown>;
  switch (node.type) {
    case 'ConstantNode': {
      if (typeof n.value !== 'number' || !Number.isFinite(n.value)) {
        // mathjs reads a formula that is only a comment ("# …") as an undefined constant.
        if (n.value === undefined && /^\s*#/.test(source)) throw new FormulaError(source, 'an empty formula (only a comment)');
        throw new FormulaError(source, `a constant ${typeof n.value === 'number' ? String(n.value) : JSON.stringify(n.value)} that is not a finite number`);
      }
      return;
    }
    case 'SymbolNode': {
      const name = n.name as string;
      if ((allowed as readonly string[]).includes(name)) {
        uses.add(name as Variable);
        return;
      }
      if (Object.hasOwn(CONSTANTS, name)) return;
      const vars = allowed.join(', ');
      throw new FormulaError(source, `an unknown name "${name}" (only the variables ${vars}, the constants e and pi, and the functions ${Object.keys(USER_FUNCTIONS).join(', ')} may be used)`);
    }
    case 'ParenthesisNode':
      validate(n.content as MathNode, source, allowed, uses, functions);
      return;
    case 'OperatorNode': {
      const fn = n.fn as string;
      const args = n.args as MathNode[];
      const binary = ['add', 'subtract', 'multiply', 'divide', 'pow'];
      const unary = ['unaryMinus', 'unaryPlus'];
      if (!(binary.includes(fn) && args.length === 2) && !(unary.includes(fn) && args.length === 1)) {
        throw new FormulaError(source, `the operator "${n.op as string}", which is not allowed (use + - * / ^)`);
      }
      for (const arg of args) validate(arg, source, allowed, uses, functions);
      return;
    }
    case 'FunctionNode': {
      const callee = n.fn as MathNode & { name?: string };
      const args = n.args as MathNode[];
      if (callee.type !== 'SymbolNode' || typeof callee.name !== 'string' || !Object.hasOwn(functions, callee.name)) {
        const name = callee.type === 'SymbolNode' ? `"${callee.name}"` : 'an expression';
        throw new FormulaError(source, `a call of ${name}, which is not an allowed function (allowed: ${Object.keys(USER_FUNCTIONS).join(', ')})`);
      }
      const spec = functions[callee.name];
      if (!spec.arity.includes(args.length)) {
        throw new FormulaError(source, `${callee.name}() with ${args.length} argument(s) (it takes ${spec.arity.join(' or ')})`);
      }
      for (const arg of args) validate(arg, source, allowed, uses, functions);
      return;
    }
    default:
      throw new FormulaError(source, `${describeNode(node)}, which is not allowed in a formula`);
  }
}

function describeNode(node: MathNode): string {
  switch (node.type) {
    case 'AssignmentNode': return 'an assignment';
    case 'FunctionAssignmentNode': return 'a function definition';
    case 'AccessorNode': return 'a property or index access';
    case 'IndexNode': return 'an index';
    case 'ObjectNode': return 'an object';
    case 'ArrayNode': return 'a matrix or list';
    case 'BlockNode': return 'several statements';
    case 'ConditionalNode': return 'a conditional (?:)';
    case 'RangeNode': return 'a range';
    case 'RelationalNode': return 'a comparison';
    default: return `a ${node.type}`;
  }
}

/** Generates JavaScript from a validated tree. Every fragment comes from our own tables. */
function toJs(node: MathNode): string {
  const n = node as MathNode & Record<string, unknown>;
  switch (node.type) {
    case 'ConstantNode':
      return `(${String(Number(n.value))})`;
    case 'SymbolNode': {
      const name = n.name as string;
      if (name === 'z' || name === 'a' || name === 'y') return name;
      return CONSTANTS[name];
    }
    case 'ParenthesisNode':
      return toJs(n.content as MathNode);
    case 'OperatorNode': {
      const args = (n.args as MathNode[]).map(toJs);
      switch (n.fn as string) {
        case 'add': return `(${args[0]} + ${args[1]})`;
        case 'subtract': return `(${args[0]} - ${args[1]})`;
        case 'multiply': return `(${args[0]} * ${args[1]})`;
        case 'divide': return `(${args[0]} / ${args[1]})`;
        case 'pow': return `Math.pow(${args[0]}, ${args[1]})`;
        case 'unaryMinus': return `(-${args[0]})`;
        case 'unaryPlus': return `(+${args[0]})`;
      }
      break;
    }
    case 'FunctionNode': {
      const name = (n.fn as { name: string }).name;
      const spec = USER_FUNCTIONS[name] ?? DERIVATIVE_FUNCTIONS[name];
      return `${spec.js}(${(n.args as MathNode[]).map(toJs).join(', ')})`;
    }
  }
  throw new Error(`internal: cannot compile node ${node.type}`);
}

function toFunction(node: MathNode, source: string): Fn {
  const body = toJs(node);
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('F', `"use strict"; return function (z, a, y) { return ${body}; };`)(HELPERS) as Fn;
  } catch (err) {
    throw new FormulaError(source, `a formula that could not be compiled (${(err as Error).message})`);
  }
}

/** Rewrites functions mathjs cannot differentiate into ones it can. */
function expandForDerivative(node: MathNode): MathNode {
  return node.transform((child) => {
    if (child.type !== 'FunctionNode') return child;
    const fnNode = child as unknown as { fn: { name: string }; args: MathNode[] };
    // Others are returned as they are and transform() walks into them; expanding their arguments
    // here as well would do the work twice per level: exponential in the nesting depth.
    if (!['sigmoid', 'softplus', 'log1p', 'expm1', 'max', 'min'].includes(fnNode.fn.name)) return child;
    const args = fnNode.args.map(expandForDerivative);
    const u = (i: number) => `(${args[i].toString()})`;
    switch (fnNode.fn.name) {
      case 'sigmoid': return mathjs().parse(`1 / (1 + exp(-${u(0)}))`);
      case 'softplus': return mathjs().parse(`log(1 + exp(${u(0)}))`);
      case 'log1p': return mathjs().parse(`log(1 + ${u(0)})`);
      case 'expm1': return mathjs().parse(`exp(${u(0)}) - 1`);
      case 'max': return mathjs().parse(`(${u(0)} + ${u(1)} + abs(${u(0)} - ${u(1)})) / 2`);
      case 'min': return mathjs().parse(`(${u(0)} + ${u(1)} - abs(${u(0)} - ${u(1)})) / 2`);
      default: return child;
    }
  });
}

/** mathjs writes d|u|/du as abs(u)/u, which is NaN at 0; sign(u) is the same elsewhere and 0 there. */
function absOverSelfToSign(node: MathNode): MathNode {
  return node.transform((child) => {
    const c = child as unknown as { type: string; fn: string; args: MathNode[] };
    if (c.type === 'OperatorNode' && c.fn === 'divide') {
      const [num, den] = c.args;
      const numFn = num as unknown as { type: string; fn?: { name: string }; args?: MathNode[] };
      if (numFn.type === 'FunctionNode' && numFn.fn?.name === 'abs' && numFn.args?.[0].toString() === den.toString()) {
        return mathjs().parse(`sign(${den.toString()})`);
      }
    }
    return child;
  });
}

/**
 * mathjs cannot differentiate sign(u), whose derivative is 0 wherever it exists: each sign(…) is
 * swapped for a symbol that mathjs treats as a constant (users cannot write such names), then put back.
 */
function hideSigns(node: MathNode, hidden: MathNode[]): MathNode {
  return node.transform((child) => {
    if (child.type !== 'FunctionNode' || (child as unknown as { fn: { name: string } }).fn.name !== 'sign') return child;
    hidden.push(child);
    return mathjs().parse(`sign__${hidden.length - 1}`);
  });
}

function restoreSigns(node: MathNode, hidden: MathNode[]): MathNode {
  return node.transform((child) => {
    const m = child.type === 'SymbolNode' ? /^sign__(\d+)$/.exec((child as unknown as { name: string }).name) : null;
    return m ? hidden[Number(m[1])].cloneDeep() : child;
  });
}

/**
 * sech(u), square(u), cube(u), which mathjs's derivative emits, as 1 / cosh(u), u^2, u^3: a
 * derivative shown to users is then one they can write back into a backward block.
 */
function toUserFunctions(node: MathNode): MathNode {
  return node.transform((child) => {
    if (child.type !== 'FunctionNode') return child;
    const f = child as unknown as { fn: { name: string }; args: MathNode[] };
    const forms: Record<string, string> = { sech: '(1 / cosh(#))', square: '(#)^2', cube: '(#)^3' };
    if (!Object.hasOwn(forms, f.fn.name)) return child;
    return mathjs().parse(forms[f.fn.name].replace('#', toUserFunctions(f.args[0]).toString()));
  });
}

const SIMPLIFY_MAX_NODES = 120;
/** simplifyConstant slows down steeply too (minutes on the 10,000-node derivative of 40 nested functions). */
const CORE_SIMPLIFY_MAX_NODES = 600;
/** Realistic activations stay far below these: GELU's derivatives have 70, 248 and 1144 nodes. */
const MAX_DERIVATIVE_NODES = 20_000;
const MAX_DIFFERENTIATED_NODES = 2_500;

function tooLarge(source: string, size: number, limit: number): void {
  if (size > limit) {
    throw new FormulaError(source, `a formula whose symbolic derivatives grow too large (${size} nodes, more than ${limit}); write it more simply or use a built-in activation`);
  }
}

function nodeCount(node: MathNode): number {
  let n = 0;
  node.traverse(() => { n++; });
  return n;
}

/**
 * The symbolic derivative of a validated formula with respect to `variable`, compiled.
 * `simplify: false` skips mathjs's simplification, which costs seconds on the second and third
 * derivatives of formulas such as sigmoid(z) * softplus(z); 'core' applies only its local rewrites.
 * mathjs's full simplification can be wrong ((z^2)^0.5 → z): the value of this derivative is never
 * trusted, only shown after formula/derivative.ts's verifiedDerivativeText has checked it.
 */
export function differentiate(formula: Formula, variable: Variable, simplify: boolean | 'core' = true): Formula {
  // mathjs's derivative slows down steeply on large trees (a 4,000-node one: two minutes).
  tooLarge(formula.source, nodeCount(formula.node), MAX_DIFFERENTIATED_NODES);
  let node: MathNode;
  try {
    // Differentiated unsimplified, so that d|u| = abs(u)/u·du keeps the form absOverSelfToSign
    // recognises (simplify rewrites abs(0.8 z)/(0.8 z) as abs(0.8 z)/z, NaN at 0); simplified after.
    const signs: MathNode[] = [];
    const raw = mathjs().derivative(hideSigns(expandForDerivative(formula.node), signs), variable, { simplify: false });
    node = absOverSelfToSign(restoreSigns(raw, signs));
    // Each derivative of a long product or a deep nesting multiplies the tree's size (a product of
    // 20 factors: 955, 13991, 228009 nodes); past this it would take minutes and gigabytes.
    tooLarge(formula.source, nodeCount(node), MAX_DERIVATIVE_NODES);
    // simplify's cost grows steeply with the tree (1 s at 200 nodes, minutes at 300): large
    // derivatives stay unsimplified, which changes only their text, not their value.
    if (simplify === 'core' && nodeCount(node) <= CORE_SIMPLIFY_MAX_NODES) {
      // Only the local rewrites (1·x, x^1, x + 0, constant folding): none of simplify's rules on
      // powers of powers, which turn (z^2)^0.5 into z.
      const m = mathjs();
      node = m.simplifyCore(m.simplifyConstant(m.simplifyCore(node)));
    } else if (simplify === true && nodeCount(node) <= SIMPLIFY_MAX_NODES) {
      node = mathjs().simplify(node);
    }
    node = toUserFunctions(node);
  } catch (err) {
    if (err instanceof FormulaError) throw err;
    throw new FormulaError(formula.source, `a formula whose derivative could not be taken (${(err as Error).message})`);
  }
  const uses = new Set<Variable>();
  validate(node, node.toString(), ['z', 'a', 'y'], uses, { ...USER_FUNCTIONS, ...DERIVATIVE_FUNCTIONS });
  return { source: node.toString(), node, uses, fn: toFunction(node, formula.source) };
}
