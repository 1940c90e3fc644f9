// A validated formula's parse tree flattened into a list of operations, children before parents,
// for the two evaluators that walk it node by node: the cancellation-free difference
// (formula/difference.ts) and forward-mode automatic differentiation (formula/derivative.ts).
// Both use only the formula's own operations, never mathjs's symbolic derivative.
import type { MathNode } from 'mathjs';
import type { Variable } from './formula.js';

/** One operation per node kind that compileFormula admits (formula.ts's allow-list). */
export enum Op {
  Const, Var,
  Add, Sub, Mul, Div, Pow, Neg, Pos,
  Exp, Log, Log1p, Expm1, Tanh, Sinh, Cosh, Sqrt, Abs, Sign, Max, Min, Sigmoid, Softplus,
}

const FUNCTION_OPS: Record<string, Op> = {
  exp: Op.Exp, log: Op.Log, log1p: Op.Log1p, expm1: Op.Expm1, tanh: Op.Tanh, sinh: Op.Sinh, cosh: Op.Cosh,
  sqrt: Op.Sqrt, abs: Op.Abs, sign: Op.Sign, max: Op.Max, min: Op.Min, sigmoid: Op.Sigmoid, softplus: Op.Softplus,
};

const OPERATOR_OPS: Record<string, Op> = {
  add: Op.Add, subtract: Op.Sub, multiply: Op.Mul, divide: Op.Div, pow: Op.Pow, unaryMinus: Op.Neg, unaryPlus: Op.Pos,
};

const VARIABLE_INDEX: Record<Variable, number> = { z: 0, a: 1, y: 2 };

/**
 * Operation k reads slots left[k] and right[k] (earlier operations; −1 when unused) and writes
 * slot k. Const holds its number in constant[k]; Var holds the variable's index (z 0, a 1, y 2)
 * in left[k]. The last operation is the formula's value.
 */
export interface Program {
  op: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  constant: Float64Array;
  length: number;
}

/** Flattens a tree that compileFormula has validated; any other node is an internal error. */
export function toProgram(root: MathNode): Program {
  const ops: number[] = [], left: number[] = [], right: number[] = [], constant: number[] = [];
  const emit = (op: Op, l = -1, r = -1, c = 0): number => {
    ops.push(op); left.push(l); right.push(r); constant.push(c);
    return ops.length - 1;
  };
  const walk = (node: MathNode): number => {
    const n = node as MathNode & Record<string, unknown>;
    switch (node.type) {
      case 'ConstantNode': return emit(Op.Const, -1, -1, Number(n.value));
      case 'SymbolNode': {
        const name = n.name as string;
        if (name === 'z' || name === 'a' || name === 'y') return emit(Op.Var, VARIABLE_INDEX[name]);
        if (name === 'e') return emit(Op.Const, -1, -1, Math.E);
        if (name === 'pi') return emit(Op.Const, -1, -1, Math.PI);
        break;
      }
      case 'ParenthesisNode': return walk(n.content as MathNode);
      case 'OperatorNode': {
        const op = OPERATOR_OPS[n.fn as string];
        const args = (n.args as MathNode[]).map(walk);
        if (op !== undefined) return emit(op, args[0], args.length > 1 ? args[1] : -1);
        break;
      }
      case 'FunctionNode': {
        const op = FUNCTION_OPS[(n.fn as { name: string }).name];
        const args = (n.args as MathNode[]).map(walk);
        if (op !== undefined) return emit(op, args[0], args.length > 1 ? args[1] : -1);
        break;
      }
    }
    throw new Error(`internal: no operation for formula node ${node.type} ${node.toString()}`);
  };
  walk(root);
  return {
    op: Uint8Array.from(ops), left: Int32Array.from(left), right: Int32Array.from(right),
    constant: Float64Array.from(constant), length: ops.length,
  };
}

export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
export const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** The value of one operation from its arguments' values: the same functions compileFormula's JavaScript calls. */
export function apply(op: Op, x: number, y: number): number {
  switch (op) {
    case Op.Add: return x + y;
    case Op.Sub: return x - y;
    case Op.Mul: return x * y;
    case Op.Div: return x / y;
    case Op.Pow: return Math.pow(x, y);
    case Op.Neg: return -x;
    case Op.Pos: return +x;
    case Op.Exp: return Math.exp(x);
    case Op.Log: return Math.log(x);
    case Op.Log1p: return Math.log1p(x);
    case Op.Expm1: return Math.expm1(x);
    case Op.Tanh: return Math.tanh(x);
    case Op.Sinh: return Math.sinh(x);
    case Op.Cosh: return Math.cosh(x);
    case Op.Sqrt: return Math.sqrt(x);
    case Op.Abs: return Math.abs(x);
    case Op.Sign: return Math.sign(x);
    case Op.Max: return Math.max(x, y);
    case Op.Min: return Math.min(x, y);
    case Op.Sigmoid: return sigmoid(x);
    case Op.Softplus: return softplus(x);
  }
  throw new Error(`internal: operation ${op} has no value`);
}

/** Whether the formula has abs, sign, max, min, or powers and sqrt (|u| = (u^2)^0.5): kinks that depend on the point. */
export function hasKinks(program: Program): boolean {
  return program.op.some((o) => o === Op.Abs || o === Op.Sign || o === Op.Max || o === Op.Min || o === Op.Pow || o === Op.Sqrt);
}

/**
 * Nodes that are, up to sign and constant factors, the argument of a sqrt or the base of a power
 * with a constant exponent: where an even power u^2 among them is taken a root of, (u^2)^0.5 = |u|
 * has a kink at u = 0 that no abs shows. (sqrt(1 + u^2) is smooth, and its u^2 is not marked.)
 */
export function rootedNodes(program: Program): Uint8Array {
  const { op, left, right, length } = program;
  const variable = new Uint8Array(length);
  for (let k = 0; k < length; k++) {
    variable[k] = op[k] === Op.Var || (left[k] >= 0 && op[k] !== Op.Const && variable[left[k]] === 1) || (right[k] >= 0 && variable[right[k]] === 1) ? 1 : 0;
  }
  const rooted = new Uint8Array(length);
  for (let k = length - 1; k >= 0; k--) {
    const o = op[k];
    if (o === Op.Sqrt || (o === Op.Pow && variable[right[k]] === 0)) rooted[left[k]] = 1;
    if (!rooted[k]) continue;
    if (o === Op.Neg || o === Op.Pos) rooted[left[k]] = 1;
    if (o === Op.Mul || o === Op.Div) {
      if (variable[right[k]] === 0) rooted[left[k]] = 1;
      else if (o === Op.Mul && variable[left[k]] === 0) rooted[right[k]] = 1;
    }
  }
  return rooted;
}
