// The seeded generator: the same seed gives the same draws, and the draws have the distribution
// they claim (moments of a million normals; unit vectors of norm 1).
import { describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';

describe('Random', () => {
  it('repeats its stream for a seed, and differs between seeds', () => {
    const a = new Random(7).fillNormal(new Float64Array(5));
    expect(new Random(7).fillNormal(new Float64Array(5))).toEqual(a);
    expect(new Random(8).fillNormal(new Float64Array(5))).not.toEqual(a);
  });

  it('fillNormal draws standard normals (mean, variance, tails and skew of 10⁶ draws)', () => {
    const v = new Random(1).fillNormal(new Float64Array(1_000_001)); // odd: the last pair is cut
    let s1 = 0, s2 = 0, s3 = 0, beyond2 = 0;
    for (const x of v) { s1 += x; s2 += x * x; s3 += x * x * x; if (Math.abs(x) > 2) beyond2++; }
    const n = v.length;
    expect(Math.abs(s1 / n)).toBeLessThan(5 / Math.sqrt(n)); // five standard errors
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(s3 / n)).toBeLessThan(5 * Math.sqrt(15 / n));
    expect(beyond2 / n).toBeCloseTo(0.0455, 3); // P(|x| > 2)
    expect(v.every(Number.isFinite)).toBe(true);
  });

  it('unitVector has norm 1 and no preferred axis', () => {
    const rng = new Random(2);
    const sums = new Float64Array(3);
    for (let k = 0; k < 3000; k++) {
      const v = rng.unitVector(3);
      expect(Math.hypot(...v)).toBeCloseTo(1, 14);
      for (let i = 0; i < 3; i++) sums[i] += v[i] * v[i];
    }
    for (const s of sums) expect(s / 3000).toBeCloseTo(1 / 3, 1);
    expect(Math.abs(rng.unitVector(1)[0])).toBeCloseTo(1, 15);
  });
});
