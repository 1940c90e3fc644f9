// f(x + d) − f(x) for a custom formula, computed node by node without cancellation: the
// finite-difference side of a custom activation or loss. It uses only the formula's values (its
// own operations), never a derivative, so it is an independent reference for the derivative
// under test.
//
// For each node v = op(p, q) we carry its value v and its difference Δv = v(x + d) − v(x), made
// from the children's values and differences with an identity that subtracts no two nearly equal
// numbers (p' = p + Δp is the child's value at the moved point):
//   p ± q        Δp ± Δq
//   p·q          Δp·q + p'·Δq                    (= Δp·q + p·Δq + Δp·Δq)
//   p/q          (Δp·q − p·Δq) / (q·q')
//   p^q          p^q · expm1(q·log1p(Δp/p))                   q constant, p and p' of one sign
//                p^q · expm1(Δq·log p' + q·log1p(Δp/p))      p, p' > 0
//                Δp · Σₖ p'^k p^(n−1−k)   (quotient rule for −n)  integer n ≤ 16, p or p' ≤ 0
//   exp, expm1   e^p · expm1(Δp)
//   log          log1p(Δp/p);   log1p: log1p(Δp/(1 + p))
//   sqrt         Δp / (√p' + √p)
//   tanh         sinh(Δp) / (cosh p · cosh p')
//   sinh, cosh   2·cosh(p + Δp/2)·sinh(Δp/2),  2·sinh(p + Δp/2)·sinh(Δp/2)
//   sigmoid      expm1(Δp)·σ(p)·σ(−p')          softplus: log1p(σ(p)·expm1(Δp))
//   abs, sign    ±Δp while p keeps its sign; across 0 (a kink): |p'| − |p| = ±(2p + Δp), sign(p') − sign(p)
//   max, min     Δp or Δq on one branch; across (u = p − q changes sign): u + Δp or Δq − u
// (The whitelist has no sin/cos, so no rules for them.)
//
// Error: every rule is a product or quotient of factors each computed to a few ulps, or a sum of
// such terms, so Δv carries a relative error of a few ulps of the terms it sums, per node: the
// same forward error as evaluating the formula itself, but on the difference (the fixture test
// measures ≤ 1e-12 relative over steps 1e-13 … 1e-2, where subtracting values loses up to 13
// digits). Where a rule cannot apply (a negative base with a non-integer exponent, log of a
// non-positive number, an intermediate overflowing to ±∞ or NaN) the node falls back to the plain
// difference op(p', q') − op(p, q): exact in the cases that matter (one side 0, a sign change), NaN
// where the formula itself is NaN.
//
// Kinks: abs, sign, max and min are not differentiable where their argument (for max/min the
// difference of their arguments) is 0. A step whose argument changes sign there, or starts exactly
// on 0 and moves, sets `kink` — the rule ReLU's record uses with its kink at 0 — so the finite
// differences refine the step or treat the sample as on a kink. A node whose argument does not
// move (Δ = 0) sets nothing.
import type { Variable } from './formula.js';
import { apply, Op, sigmoid, type Program } from './formula-program.js';

const VARIABLES: Variable[] = ['z', 'a', 'y'];

/** Whether x and x' lie on the same side of 0 (0 counts as its own side). */
const side = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

export interface DifferenceEvaluator {
  /** f at (z, a, y) with `variable` moved by d, minus f at (z, a, y). */
  difference(z: number, a: number, y: number, d: number): number;
  /** Whether the last difference() met a kink: an abs/sign/max/min argument crossed or left 0. */
  kink: boolean;
}

/** An evaluator of the difference in `variable` (z for activations, a for losses) for a program. */
export function differenceEvaluator(program: Program, variable: Variable): DifferenceEvaluator {
  const { op, left, right, constant, length } = program;
  const moved = VARIABLES.indexOf(variable);
  const v = new Float64Array(length);
  const dv = new Float64Array(length);
  const self: DifferenceEvaluator = {
    kink: false,
    difference(z: number, a: number, y: number, d: number): number {
      let kink = false;
      for (let k = 0; k < length; k++) {
        const o = op[k];
        if (o === Op.Const) { v[k] = constant[k]; dv[k] = 0; continue; }
        if (o === Op.Var) {
          const i = left[k];
          v[k] = i === 0 ? z : i === 1 ? a : y;
          dv[k] = i === moved ? d : 0;
          continue;
        }
        const p = v[left[k]], dp = dv[left[k]];
        const q = right[k] >= 0 ? v[right[k]] : 0, dq = right[k] >= 0 ? dv[right[k]] : 0;
        const value = apply(o, p, q);
        v[k] = value;
        if (dp === 0 && dq === 0) { dv[k] = 0; continue; }
        let delta: number;
        switch (o) {
          case Op.Add: delta = dp + dq; break;
          case Op.Sub: delta = dp - dq; break;
          case Op.Neg: delta = -dp; break;
          case Op.Pos: delta = dp; break;
          case Op.Mul: delta = (dp === 0 ? 0 : dp * q) + (dq === 0 ? 0 : (p + dp) * dq); break;
          case Op.Div: delta = (dp * q - p * dq) / (q * (q + dq)); break;
          case Op.Pow: delta = powDifference(p, dp, q, dq, value); break;
          case Op.Exp: case Op.Expm1: delta = Math.exp(p) * Math.expm1(dp); break;
          case Op.Log: delta = p > 0 ? Math.log1p(dp / p) : NaN; break;
          case Op.Log1p: delta = p > -1 ? Math.log1p(dp / (1 + p)) : NaN; break;
          case Op.Tanh: delta = Math.sinh(dp) / (Math.cosh(p) * Math.cosh(p + dp)); break;
          case Op.Sinh: delta = 2 * Math.cosh(p + dp / 2) * Math.sinh(dp / 2); break;
          case Op.Cosh: delta = 2 * Math.sinh(p + dp / 2) * Math.sinh(dp / 2); break;
          case Op.Sqrt: {
            const w = p + dp;
            delta = p >= 0 && w >= 0 ? dp / (Math.sqrt(w) + value) : NaN;
            break;
          }
          case Op.Sigmoid: delta = Math.expm1(dp) * value * sigmoid(-(p + dp)); break;
          case Op.Softplus: delta = Math.log1p(sigmoid(p) * Math.expm1(dp)); break;
          case Op.Abs: {
            const s = side(p), s1 = side(p + dp);
            if (s !== s1 || s === 0) kink = true;
            // |p'| − |p| on each side, and across 0 as ±(2p + Δp), which never subtracts |p'| from |p|.
            delta = s === s1 ? s * dp : s > 0 ? -(2 * p + dp) : s < 0 ? 2 * p + dp : Math.abs(dp);
            break;
          }
          case Op.Sign: {
            const s = side(p), s1 = side(p + dp);
            if (s !== s1 || s === 0) kink = true;
            delta = s1 - s;
            break;
          }
          case Op.Max: case Op.Min: {
            // u = p − q decides the branch; its difference Δu = Δp − Δq, and u' = u + Δu.
            const u = p - q, du = dp - dq, u1 = u + du;
            if (du !== 0 && (side(u) !== side(u1) || u === 0)) kink = true;
            const before = o === Op.Max ? u >= 0 : u <= 0, after = o === Op.Max ? u1 > 0 : u1 < 0;
            // The branch taken before and after: Δp, Δq, or across, (p + Δp) − q = u + Δp and (q + Δq) − p = Δq − u.
            delta = before ? (after ? dp : dq - u) : (after ? u + dp : dq);
            break;
          }
          default: delta = NaN;
        }
        // No cancellation-free rule applies here: the plain difference of this node.
        if (!Number.isFinite(delta)) delta = apply(o, p + dp, q + dq) - value;
        dv[k] = delta;
      }
      self.kink = kink;
      return length === 0 ? 0 : dv[length - 1];
    },
  };
  return self;
}

/** Δ(p^q): see the table at the top. NaN where no rule applies (the caller then subtracts). */
function powDifference(p: number, dp: number, q: number, dq: number, value: number): number {
  const w = p + dp;
  if (dq === 0) {
    if (q === 0) return 0;
    // p and p' of one sign: (p'/p)^q − 1 with p'/p = 1 + Δp/p > 0.
    if ((p > 0 && w > 0) || (p < 0 && w < 0)) return value * Math.expm1(q * Math.log1p(dp / p));
    if (Number.isInteger(q) && Math.abs(q) <= 16) {
      const n = Math.abs(q);
      // p'^n − p^n = Δp · Σₖ p'^k · p^(n−1−k): no subtraction of the two powers.
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.pow(w, k) * Math.pow(p, n - 1 - k);
      const dn = dp * sum;
      if (q > 0) return dn;
      // p^−n = 1/P: Δ = −ΔP / (P·(P + ΔP)).
      const P = Math.pow(p, n);
      return -dn / (P * (P + dn));
    }
    return NaN;
  }
  if (p > 0 && w > 0) {
    // p^q = e^(q·log p): Δ(q·log p) = Δq·log p' + q·log1p(Δp/p).
    const dlog = dp === 0 ? 0 : Math.log1p(dp / p);
    return value * Math.expm1(dq * Math.log(w) + (dlog === 0 ? 0 : q * dlog));
  }
  return NaN;
}
