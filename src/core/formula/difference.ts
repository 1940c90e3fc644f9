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
// difference of their arguments) is 0; nor is sqrt(u^2) = (u^2)^0.5 = |u| where u = 0, a kink hidden
// in powers, so the base of an even power (u^2, u^4) that a root is taken of (rootedNodes) counts
// as such an argument, and the base of a sqrt or fractional power sitting at 0 as a point on a kink. A step whose argument changes sign
// there, or starts exactly on 0 and moves, sets `kink` — the rule ReLU's record uses with its kink at 0 — so the finite
// differences refine the step or treat the sample as on a kink. A node whose argument does not
// move (Δ = 0) sets nothing.
import type { Variable } from './formula.js';
import { Op, rootedNodes, sigmoid, softplus, type Program } from './program.js';

const VARIABLES: Variable[] = ['z', 'a', 'y'];

/** Whether x and x' lie on the same side of 0 (0 counts as its own side). */
const side = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

export interface DifferenceEvaluator {
  /** f at (z, a, y) with `variable` moved by d, minus f at (z, a, y). */
  difference(z: number, a: number, y: number, d: number): number;
  /** Whether the last difference() met a kink: an abs/sign/max/min argument crossed or left 0. */
  kink: boolean;
}

/** JavaScript for an operation's value from its arguments' values p and q (as apply() computes it). */
function valueJs(o: Op, p: string, q: string): string {
  switch (o) {
    case Op.Add: return `(${p} + ${q})`;
    case Op.Sub: return `(${p} - ${q})`;
    case Op.Mul: return `(${p} * ${q})`;
    case Op.Div: return `(${p} / ${q})`;
    case Op.Pow: return `Math.pow(${p}, ${q})`;
    case Op.Neg: return `(-${p})`;
    case Op.Pos: return `(+${p})`;
    case Op.Exp: return `Math.exp(${p})`;
    case Op.Log: return `Math.log(${p})`;
    case Op.Log1p: return `Math.log1p(${p})`;
    case Op.Expm1: return `Math.expm1(${p})`;
    case Op.Tanh: return `Math.tanh(${p})`;
    case Op.Sinh: return `Math.sinh(${p})`;
    case Op.Cosh: return `Math.cosh(${p})`;
    case Op.Sqrt: return `Math.sqrt(${p})`;
    case Op.Abs: return `Math.abs(${p})`;
    case Op.Sign: return `Math.sign(${p})`;
    case Op.Max: return `Math.max(${p}, ${q})`;
    case Op.Min: return `Math.min(${p}, ${q})`;
    case Op.Sigmoid: return `F.sigmoid(${p})`;
    case Op.Softplus: return `F.softplus(${p})`;
  }
  throw new Error(`internal: operation ${o} has no value`);
}

/**
 * JavaScript that sets D to Δv from p, dp, q, dq and the node's value v (the table at the top),
 * and `kink` where abs/sign/max/min meet theirs.
 */
function ruleJs(o: Op, rooted: boolean): string {
  switch (o) {
    case Op.Add: return 'D = dp + dq;';
    case Op.Sub: return 'D = dp - dq;';
    case Op.Neg: return 'D = -dp;';
    case Op.Pos: return 'D = dp;';
    case Op.Mul: return 'D = (dp === 0 ? 0 : dp * q) + (dq === 0 ? 0 : (p + dp) * dq);';
    case Op.Div: return 'D = (dp * q - p * dq) / (q * (q + dq));';
    // An even power's base crossing 0 is smooth for u^2 itself, but a kink once a root is taken
    // of it ((u^2)^0.5 = |u|: `rooted`); a fractional power's base at 0 is singular.
    case Op.Pow: return `if (dq === 0 && (${rooted ? 'F.evenPower(q) ? F.side(p) !== F.side(p + dp) || p === 0 : ' : ''}p === 0 && !Number.isInteger(q))) kink = true;
      D = F.powDifference(p, dp, q, dq, v);`;
    case Op.Exp: case Op.Expm1: return 'D = Math.exp(p) * Math.expm1(dp);';
    case Op.Log: return 'D = p > 0 ? Math.log1p(dp / p) : NaN;';
    case Op.Log1p: return 'D = p > -1 ? Math.log1p(dp / (1 + p)) : NaN;';
    case Op.Tanh: return 'D = Math.sinh(dp) / (Math.cosh(p) * Math.cosh(p + dp));';
    case Op.Sinh: return 'D = 2 * Math.cosh(p + dp / 2) * Math.sinh(dp / 2);';
    case Op.Cosh: return 'D = 2 * Math.sinh(p + dp / 2) * Math.sinh(dp / 2);';
    case Op.Sqrt: return `if (p === 0) kink = true;
      const w = p + dp; D = p >= 0 && w >= 0 ? dp / (Math.sqrt(w) + v) : NaN;`;
    case Op.Sigmoid: return 'D = Math.expm1(dp) * v * F.sigmoid(-(p + dp));';
    case Op.Softplus: return 'D = Math.log1p(F.sigmoid(p) * Math.expm1(dp));';
    // |p'| − |p| on each side, and across 0 as ±(2p + Δp), which never subtracts |p'| from |p|.
    case Op.Abs: return `const s = F.side(p), s1 = F.side(p + dp);
      if (s !== s1 || s === 0) kink = true;
      D = s === s1 ? s * dp : s > 0 ? -(2 * p + dp) : s < 0 ? 2 * p + dp : Math.abs(dp);`;
    case Op.Sign: return `const s = F.side(p), s1 = F.side(p + dp);
      if (s !== s1 || s === 0) kink = true;
      D = s1 - s;`;
    // u = p − q decides the branch, Δu = Δp − Δq, u' = u + Δu; before and after: Δp, Δq, or
    // across, (p + Δp) − q = u + Δp and (q + Δq) − p = Δq − u.
    case Op.Max: case Op.Min: {
      const [before, after] = o === Op.Max ? ['u >= 0', 'u1 > 0'] : ['u <= 0', 'u1 < 0'];
      return `const u = p - q, du = dp - dq, u1 = u + du;
      if (du !== 0 && (F.side(u) !== F.side(u1) || u === 0)) kink = true;
      const before = ${before}, after = ${after};
      D = before ? (after ? dp : dq - u) : (after ? u + dp : dq);`;
    }
  }
  throw new Error(`internal: operation ${o} has no difference rule`);
}

/**
 * An evaluator of the difference in `variable` (z for activations, a for losses) for a program:
 * straight-line JavaScript generated from our own fragments (as formula.ts compiles values), one
 * block per node, so that the finite differences' inner loops run at the speed of plain code.
 */
export function differenceEvaluator(program: Program, variable: Variable): DifferenceEvaluator {
  const { op, left, right, constant, length } = program;
  const moved = VARIABLES.indexOf(variable);
  const rooted = rootedNodes(program);
  const lines: string[] = ['let kink = false;'];
  for (let k = 0; k < length; k++) {
    const o = op[k] as Op;
    if (o === Op.Const) {
      lines.push(`const v${k} = (${String(constant[k])}), d${k} = 0;`);
      continue;
    }
    if (o === Op.Var) {
      const i = left[k];
      lines.push(`const v${k} = ${VARIABLES[i]}, d${k} = ${i === moved ? 'd' : '0'};`);
      continue;
    }
    const l = left[k], r = right[k];
    const q = r >= 0 ? `v${r}` : '0', dq = r >= 0 ? `d${r}` : '0';
    lines.push(`const v${k} = ${valueJs(o, `v${l}`, q)};`);
    lines.push(`let d${k} = 0;`);
    lines.push(`if (d${l} !== 0 || ${dq} !== 0) {`);
    lines.push(`  const p = v${l}, dp = d${l}, q = ${q}, dq = ${dq}, v = v${k}; let D;`);
    lines.push(`  { ${ruleJs(o, rooted[k] === 1)} }`);
    // No cancellation-free rule applies here: the plain difference of this node.
    lines.push(`  if (!Number.isFinite(D)) D = ${valueJs(o, '(p + dp)', '(q + dq)')} - v;`);
    lines.push(`  d${k} = D;`);
    lines.push('}');
  }
  lines.push(`S.kink = kink;`, `return ${length === 0 ? '0' : `d${length - 1}`};`);
  const self = { kink: false } as DifferenceEvaluator;
  const helpers = { sigmoid, softplus, side, powDifference, evenPower };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  self.difference = new Function('F', 'S', `"use strict"; return function (z, a, y, d) {\n${lines.join('\n')}\n};`)(helpers, self) as DifferenceEvaluator['difference'];
  return self;
}

/** u^q with q a non-zero even integer: smooth itself, a kink of |u| under a fractional power. */
const evenPower = (q: number) => q !== 0 && q % 2 === 0;

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
