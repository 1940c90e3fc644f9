// Known answers for tanh's and sigmoid's f(z + d) − f(z), and for log1p of a loss's change: every record's difference, and its steps,
// within 2 ulp of the exact value over the whole range of z and steps |d| ≤ 1e−3.
//
// The answers are mpmath at 1600 bits (scripts/difference_kat.py, which says how to regenerate
// them): fixtures/differences/<record>.json holds z, d, the exact difference rounded to the nearest
// double and the residual (exact − rounded) in ulps, so the error measured here is against the exact
// value. Measured when written (10,908 cases each): tanh at most 0.982 ulp, sigmoid at most 0.998 ulp.
// The closed forms used before for every step were off by up to 9.6e11 ulp (tanh at z = −356, where
// cosh z·cosh(z + d) overflows and gives 0) and 376 ulp (sigmoid at z ≈ 603, where z + d rounds).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { namedActivation, type ElementwiseActivation } from '../src/core/records/activations.js';
import { LOG1P_SERIES_LIMIT, log1pOfStep } from '../src/core/records/losses.js';

interface Kat {
  record: string;
  cases: [string, string, string, number][];
}

function load(name: string): Kat {
  return JSON.parse(readFileSync(new URL(`../fixtures/differences/${name}.json`, import.meta.url), 'utf8')) as Kat;
}

/** The spacing of doubles at x: 2^(exponent − 52), 2⁻¹⁰⁷⁴ among subnormals. */
function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -1022) return 2 ** -1074;
  return 2 ** (Math.floor(Math.log2(a)) - 52) * (2 ** Math.floor(Math.log2(a)) > a ? 0.5 : 1);
}

/** |got − exact| in ulps of the exact value, with exact = expected + residual·ulp(expected). */
function ulps(got: number, expected: number, residual: number): number {
  if (Number.isNaN(got)) return Infinity;
  return Math.abs((got - expected) / ulp(expected) - residual);
}

function record(name: string): ElementwiseActivation {
  const act = namedActivation(name);
  if (!act || !act.diagonal) throw new Error(name);
  return act;
}

describe.each(['tanh', 'sigmoid'])('%s: f(z + d) − f(z) against mpmath', (name) => {
  const act = record(name);
  const kat = load(name);
  const cases = kat.cases.map(([z, d, e, r]) => ({ z: Number(z), d: Number(d), expected: Number(e), residual: r }));

  it(`difference is within 2 ulp on ${cases.length} cases`, () => {
    let worst = 0, at = '';
    for (const { z, d, expected, residual } of cases) {
      const u = ulps(act.difference(z, act.f(z), d), expected, residual);
      if (u > worst) { worst = u; at = `z = ${z}, d = ${d}`; }
    }
    expect(worst, `worst at ${at}`).toBeLessThanOrEqual(2);
  });

  it('steps gives difference\'s bits, from one z for many d', () => {
    const byZ = new Map<number, number[]>();
    for (const { z, d } of cases) byZ.set(z, [...(byZ.get(z) ?? []), d]);
    const prepared = act.prepared!;
    const K = new Float64Array(3 * prepared.size);
    for (const [z, ds] of byZ) {
      const a = act.f(z);
      const d = Float64Array.from([0, -0, 0.01, -0.3, 2, ...ds]);
      const out = new Float64Array(d.length + 2);
      act.steps(z, a, d, out, 1, d.length);
      prepared.prepare(z, a, K, prepared.size);
      const again = new Float64Array(d.length);
      prepared.steps(K, prepared.size, d, again, 0, d.length);
      expect(Object.is(out[0], 0)).toBe(true);
      for (let i = 1; i < d.length; i++) {
        expect(Object.is(out[i], act.difference(z, a, d[i])), `z = ${z}, d = ${d[i]}`).toBe(true);
        expect(Object.is(again[i], out[i])).toBe(true);
      }
    }
  });

  it('scaledColumns gives difference\'s bits for a rank-1 change w ⊗ d through many units', () => {
    const prepared = act.prepared!;
    const zs = Float64Array.from(new Set(cases.map((c) => c.z)));
    const as = zs.map((z) => act.f(z));
    const units = zs.length;
    const K = new Float64Array(units * prepared.size);
    prepared.prepareUnits(zs, as, 0, units, K, 0);
    // w over units, two columns apart (stride 2); d mixes small, large, zero and subnormal steps.
    const w = Float64Array.from({ length: 2 * units }, (_, j) => (j % 2 === 0 ? Math.sin(j) : NaN));
    // A second set of steps all short for most units (|w| ≤ 1): the path without a test per step.
    for (const steps of [[1e-7, -3e-9, 0, 5e-324, 0.002, -0.7, 1e-3], [1e-7, -3e-9, 0, 5e-324, -9e-7, 2e-8]]) {
      const d = Float64Array.from(steps);
      const out = new Float64Array(units * d.length);
      const nonZero = new Uint8Array(units);
      prepared.scaledColumns(K, 0, w, 0, 2, units, d, out, d.length, nonZero);
      for (let u = 0; u < units; u++) {
        let any = false;
        for (let t = 0; t < d.length; t++) {
          const want = act.difference(zs[u], as[u], w[2 * u] * d[t]);
          expect(Object.is(out[u * d.length + t], want), `z = ${zs[u]}, step ${w[2 * u] * d[t]}`).toBe(true);
          if (want !== 0) any = true;
        }
        expect(nonZero[u]).toBe(any ? 1 : 0);
      }
    }
  });

  it('each gives difference\'s bits with every element its own z', () => {
    const prepared = act.prepared!;
    const zs = Float64Array.from(cases.map((c) => c.z));
    const as = zs.map((z) => act.f(z));
    // The cases' own steps, and a large, a zero and a subnormal one among them.
    const d = Float64Array.from(cases, (c, i) => (i % 97 === 0 ? 0.01 : i % 89 === 0 ? -0 : i % 83 === 0 ? 5e-324 : c.d));
    const n = zs.length;
    const K = new Float64Array((n + 1) * prepared.size);
    prepared.prepareUnits(zs, as, 0, n, K, prepared.size);
    const out = new Float64Array(n + 2);
    prepared.each(K, prepared.size, d, out, 0, n);
    for (let i = 0; i < n; i++) expect(Object.is(out[i], act.difference(zs[i], as[i], d[i])), `z = ${zs[i]}, d = ${d[i]}`).toBe(true);
    // A block from the middle, in place (out is d).
    const again = Float64Array.from(d);
    prepared.each(K, (1 + 5) * prepared.size, again, again, 5, 40);
    for (let i = 0; i < n; i++) expect(Object.is(again[i], i >= 5 && i < 40 ? out[i] : d[i])).toBe(true);
  });

  it('a zero step changes nothing, and NaN or ∞ in gives what the closed form gives', () => {
    // +0 or −0 (dense-rows' isZeroClean asks `=== 0`, and skips asking where zeroStepIsZero says so,
    // for every finite z and a).
    expect(act.zeroStepIsZero).toBe(true);
    for (const z of [...cases.map((c) => c.z), 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE]) {
      for (const a of [act.f(z), 0.3, -2]) {
        expect(act.difference(z, a, 0) === 0).toBe(true);
        expect(act.difference(z, a, -0) === 0).toBe(true);
      }
    }
    expect(act.difference(NaN, NaN, 1e-6)).toBeNaN();
    expect(act.difference(0.5, act.f(0.5), NaN)).toBeNaN();
    expect(act.difference(Infinity, act.f(Infinity), 1e-6)).toBe(0);
    expect(act.difference(-Infinity, act.f(-Infinity), 1e-6)).toBe(0);
  });
});

describe('log1p of a loss\'s change (the cross-entropies\' series) against mpmath', () => {
  const kat = JSON.parse(readFileSync(new URL('../fixtures/differences/log1p.json', import.meta.url), 'utf8')) as { cases: [string, string, number][] };
  const cases = kat.cases.map(([t, e, r]) => ({ t: Number(t), expected: Number(e), residual: r }));

  it(`log1pOfStep is within 1 ulp on ${cases.length} cases, the series up to 2⁻¹⁵ and Math.log1p beyond`, () => {
    let worst = 0, at = '';
    for (const { t, expected, residual } of cases) {
      const u = ulps(log1pOfStep(t), expected, residual);
      if (u > worst) { worst = u; at = `t = ${t}`; }
    }
    // Measured when written: 0.5005 ulp (the series is as good as correctly rounded).
    expect(worst, `worst at ${at}`).toBeLessThanOrEqual(1);
    expect(cases.filter((c) => Math.abs(c.t) <= LOG1P_SERIES_LIMIT).length).toBeGreaterThan(3000);
  });

  it('gives ±0 for ±0 and NaN for NaN, as Math.log1p', () => {
    expect(Object.is(log1pOfStep(0), 0)).toBe(true);
    expect(Object.is(log1pOfStep(-0), -0)).toBe(true);
    expect(log1pOfStep(NaN)).toBeNaN();
    expect(log1pOfStep(-1)).toBe(-Infinity);
  });
});
