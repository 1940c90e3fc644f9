// Seeded initialisation (README, "init"): the same spec gives the same weights; the schemes draw
// N(0,1)·scale, U(−scale, scale), N(0, 1/fan_in)·scale and N(0, 2/fan_in)·scale; biases start at 0.
// The statistical checks use 30,000 weights, so a sample standard deviation is within ~0.4% of the
// true one (its relative standard error is 1/√(2n)); the tolerances are about 5 of those errors.
import { describe, expect, it } from 'vitest';
import { initialise } from '../src/core/init.js';
import type { Model } from '../src/core/model.js';
import { Random } from '../src/core/random.js';
import { modelOf } from './helpers/network.js';

function model(init: Record<string, unknown> | undefined, inputs = 300, units = 100): Model {
  const raw = { layers: [{ units, activation: 'tanh' }, { units: 2, activation: 'linear' }], loss: 'mean_squared_error', ...(init ? { init } : {}) };
  return modelOf(raw, inputs);
}

function stats(values: Float64Array) {
  let sum = 0, sq = 0, max = 0;
  for (const v of values) { sum += v; sq += v * v; max = Math.max(max, Math.abs(v)); }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean), max };
}

describe('seeded reproducibility', () => {
  it('the same spec gives the same weights; another seed gives others', () => {
    const m = model({ scheme: 'normal', scale: 0.1, seed: 5 }, 4, 3);
    const a = initialise(m), b = initialise(m);
    expect(Array.from(a[0].W.data)).toEqual(Array.from(b[0].W.data));
    expect(Array.from(a[1].W.data)).toEqual(Array.from(b[1].W.data));
    const c = initialise(model({ scheme: 'normal', scale: 0.1, seed: 6 }, 4, 3));
    expect(Array.from(c[0].W.data)).not.toEqual(Array.from(a[0].W.data));
  });

  it('an explicit seed (--seed) overrides init.seed', () => {
    const m5 = model({ scheme: 'he', seed: 5 }, 4, 3), m9 = model({ scheme: 'he', seed: 9 }, 4, 3);
    expect(Array.from(initialise(m5, 9)[0].W.data)).toEqual(Array.from(initialise(m9)[0].W.data));
  });

  it('shapes follow the layers, and biases are zero', () => {
    const p = initialise(model({ scheme: 'xavier' }, 4, 3));
    expect(p.map(({ W: w }) => [w.shape[0], w.shape[1]])).toEqual([[3, 4], [2, 3]]);
    expect(p.map(({ b }) => Array.from(b!.data))).toEqual([[0, 0, 0], [0, 0]]);
  });

  it('no init at all is xavier with scale 1, seed 1', () => {
    const m = model(undefined, 4, 3);
    expect(m.init).toEqual({ scheme: 'xavier', scale: 1, seed: 1 });
    expect(Array.from(initialise(m)[0].W.data)).toEqual(Array.from(initialise(model({ scheme: 'xavier', scale: 1, seed: 1 }, 4, 3))[0].W.data));
  });

  it('a layer without bias gets null', () => {
    const raw = { layers: [{ units: 3, activation: 'tanh', bias: false }, { units: 1, activation: 'linear' }], loss: 'mean_squared_error' };
    expect(initialise(modelOf(raw, 2)).map(({ b }) => b === undefined)).toEqual([true, false]);
  });
});

describe('scheme scales (statistically, 30,000 weights)', () => {
  const fanIn = 300;
  it.each([
    ['normal, scale 0.01', { scheme: 'normal' }, 0.01],
    ['normal, scale 0.5', { scheme: 'normal', scale: 0.5 }, 0.5],
    ['xavier: √(1/fan_in)', { scheme: 'xavier' }, Math.sqrt(1 / fanIn)],
    ['xavier × 2', { scheme: 'xavier', scale: 2 }, 2 * Math.sqrt(1 / fanIn)],
    ['he: √(2/fan_in)', { scheme: 'he' }, Math.sqrt(2 / fanIn)],
  ])('%s', (_name, init, std) => {
    const w = initialise(model({ ...init, seed: 3 }, fanIn))[0].W.data;
    const s = stats(w);
    expect(Math.abs(s.std / std - 1)).toBeLessThan(0.02);
    expect(Math.abs(s.mean)).toBeLessThan((5 * std) / Math.sqrt(w.length));
  });

  it('uniform: U(−scale, scale), standard deviation scale/√3', () => {
    const w = initialise(model({ scheme: 'uniform', scale: 0.3, seed: 3 }, fanIn))[0].W.data;
    const s = stats(w);
    expect(s.max).toBeLessThanOrEqual(0.3);
    expect(s.max).toBeGreaterThan(0.299);
    expect(Math.abs(s.std / (0.3 / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
  });

  it('normal draws are normal: 68.27% within 1σ, 95.45% within 2σ (standard normal table)', () => {
    const w = initialise(model({ scheme: 'normal', scale: 1, seed: 11 }, fanIn))[0].W.data;
    const within = (k: number) => w.filter((v) => Math.abs(v) < k).length / w.length;
    // Binomial standard errors at n = 30,000: 0.0027 and 0.0012.
    expect(Math.abs(within(1) - 0.6827)).toBeLessThan(0.012);
    expect(Math.abs(within(2) - 0.9545)).toBeLessThan(0.006);
  });
});

describe('Random', () => {
  it('is reproducible per seed, and seeds 0, 1, 2 give different streams', () => {
    const draw = (seed: number) => { const r = new Random(seed); return [r.uniform(), r.uniform(), r.uniform()]; };
    expect(draw(7)).toEqual(draw(7));
    expect(new Set([draw(0)[0], draw(1)[0], draw(2)[0]]).size).toBe(3);
  });

  it('uniform() is in [0, 1) with mean ½ and variance 1/12', () => {
    const r = new Random(4);
    const n = 50_000;
    let sum = 0, sq = 0, min = 1, max = 0;
    for (let i = 0; i < n; i++) { const u = r.uniform(); sum += u; sq += u * u; min = Math.min(min, u); max = Math.max(max, u); }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - (sum / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
  });

  it('sample(n, k) gives k distinct sorted indices of [0, n), all of them when k ≥ n', () => {
    const r = new Random(2);
    const s = r.sample(50, 10);
    expect(s).toHaveLength(10);
    expect(new Set(s).size).toBe(10);
    expect(s).toEqual([...s].sort((a, b) => a - b));
    expect(s.every((i) => Number.isInteger(i) && i >= 0 && i < 50)).toBe(true);
    expect(r.sample(5, 9)).toEqual([0, 1, 2, 3, 4]);
  });

  it('int(n) covers 0..n−1 evenly', () => {
    const r = new Random(8);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 8000; i++) counts[r.int(4)]++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200); // ~5 binomial standard errors (38.7)
  });
});
