// The derivative of a custom formula by forward-mode automatic differentiation: every node carries
// its value v and its derivative v' with respect to one variable (a dual number v + v'·ε), each
// operation applying its own local derivative, as micrograd's ops do. Nothing of mathjs's
// simplifier is involved, so (z^2)^0.5 gets 0.5·(z²)^(−0.5)·2z = sign(z), where mathjs's
// simplified derivative says 1. This is "the correct derivative" of a custom activation or loss.
//
// mathjs's symbolic derivative is still what users read (it is a formula, AD is not), but only
// after it has been checked against this one on a grid of points: verifiedDerivativeText.
//
// Conventions: a child whose derivative is exactly 0 contributes 0, even where its local factor is
// infinite (so sqrt(z^2) at z = 0 gets 0, a subgradient, not 0·∞ = NaN). At a kink (the argument of
// abs/sign, or p − q of max/min, exactly 0 and moving) abs' = sign(0) = 0 and max'/min' take the
// mean of the two branches: the values mathjs's derivative of the same functions gives there.
import { differentiate, type Formula, type Variable } from './formula.js';
import { apply, Op, rootedNodes, sigmoid, type Program } from './program.js';

const VARIABLES: Variable[] = ['z', 'a', 'y'];

/** k·d, taken as 0 when d is 0 (the child does not move), whatever k is. */
const chain = (k: number, d: number) => (d === 0 ? 0 : k * d);

export interface DerivativeEvaluator {
  /** ∂f/∂variable at (z, a, y). */
  derivative(z: number, a: number, y: number): number;
  /** Whether the point of the last derivative() call sits exactly on a kink of the formula. */
  onKink: boolean;
}

export function derivativeEvaluator(program: Program, variable: Variable): DerivativeEvaluator {
  const { op, left, right, constant, length } = program;
  const wrt = VARIABLES.indexOf(variable);
  const rooted = rootedNodes(program);
  const v = new Float64Array(length);
  const dv = new Float64Array(length);
  const self: DerivativeEvaluator = {
    onKink: false,
    derivative(z: number, a: number, y: number): number {
      let onKink = false;
      for (let k = 0; k < length; k++) {
        const o = op[k];
        if (o === Op.Const) { v[k] = constant[k]; dv[k] = 0; continue; }
        if (o === Op.Var) {
          const i = left[k];
          v[k] = i === 0 ? z : i === 1 ? a : y;
          dv[k] = i === wrt ? 1 : 0;
          continue;
        }
        const p = v[left[k]], dp = dv[left[k]];
        const q = right[k] >= 0 ? v[right[k]] : 0, dq = right[k] >= 0 ? dv[right[k]] : 0;
        const value = apply(o, p, q);
        v[k] = value;
        let d: number;
        switch (o) {
          case Op.Add: d = dp + dq; break;
          case Op.Sub: d = dp - dq; break;
          case Op.Neg: d = -dp; break;
          case Op.Pos: d = dp; break;
          case Op.Mul: d = chain(q, dp) + chain(p, dq); break;
          // (p/q)' = (p' − (p/q)·q') / q
          case Op.Div: d = (dp - chain(value, dq)) / q; break;
          case Op.Pow:
            // As formula/difference.ts: an even power's base at 0, or a fractional power's, is a kink.
            if (p === 0 && dp !== 0 && dq === 0 && ((rooted[k] === 1 && q % 2 === 0 && q !== 0) || !Number.isInteger(q))) onKink = true;
            // (p^q)' = q·p^(q−1)·p' + p^q·log(p)·q'; the second term only where q moves.
            d = (q === 0 ? 0 : chain(q * Math.pow(p, q - 1), dp)) + chain(value * Math.log(p), dq);
            break;
          case Op.Exp: d = chain(value, dp); break;
          case Op.Expm1: d = chain(Math.exp(p), dp); break;
          case Op.Log: d = chain(1 / p, dp); break;
          case Op.Log1p: d = chain(1 / (1 + p), dp); break;
          case Op.Tanh: {
            // 1 − tanh² as 1/cosh², which stays positive (not 0) far out until it underflows.
            const c = Math.cosh(p);
            d = chain(1 / (c * c), dp);
            break;
          }
          case Op.Sinh: d = chain(Math.cosh(p), dp); break;
          case Op.Cosh: d = chain(Math.sinh(p), dp); break;
          case Op.Sqrt:
            if (p === 0 && dp !== 0) onKink = true;
            d = chain(1 / (2 * value), dp);
            break;
          case Op.Abs:
            if (p === 0 && dp !== 0) onKink = true;
            d = chain(Math.sign(p), dp);
            break;
          case Op.Sign:
            if (p === 0 && dp !== 0) onKink = true;
            d = 0;
            break;
          case Op.Max: case Op.Min: {
            const u = p - q;
            if (u === 0 && dp !== dq) onKink = true;
            const first = o === Op.Max ? u > 0 : u < 0;
            d = u === 0 ? (dp + dq) / 2 : first ? dp : dq;
            break;
          }
          case Op.Sigmoid: d = chain(sigmoid(p) * sigmoid(-p), dp); break;
          case Op.Softplus: d = chain(sigmoid(p), dp); break;
          default: d = NaN;
        }
        dv[k] = d;
      }
      self.onKink = onKink;
      return length === 0 ? 0 : dv[length - 1];
    },
  };
  return self;
}

/** Points (z, a, y) at which a shown derivative is compared with the AD one. */
export type Point = readonly [number, number, number];

/** Equal to 1e-9 relative (as the diagnosis compares formulas); points where AD is not finite, or on a kink, say nothing. */
function agreesEverywhere(fn: (z: number, a: number, y: number) => number, ad: DerivativeEvaluator, points: readonly Point[]): boolean {
  for (const [z, a, y] of points) {
    const t = ad.derivative(z, a, y);
    if (!Number.isFinite(t) || ad.onKink) continue;
    const u = fn(z, a, y);
    if (!(Math.abs(u - t) <= 1e-9 * Math.max(1, Math.abs(u), Math.abs(t)))) return false;
  }
  return true;
}

/**
 * The derivative of `formula` in `variable` as text users can read: mathjs's simplified symbolic
 * derivative when it equals the AD derivative at every point, else the derivative with only local
 * simplifications, else the unsimplified one, else a sentence saying the derivative is taken by automatic differentiation. Never a
 * formula that disagrees with the truth. Throws FormulaError where differentiate refuses a formula
 * whose symbolic derivative grows too large.
 */
export function verifiedDerivativeText(formula: Formula, variable: Variable, ad: DerivativeEvaluator, points: readonly Point[]): string {
  for (const simplify of [true, 'core', false] as const) {
    const d = differentiate(formula, variable, simplify);
    if (agreesEverywhere(d.fn, ad, points)) return d.source;
  }
  return `d/d${variable} of ${formula.source} (by automatic differentiation; mathjs's symbolic form disagrees with it)`;
}
