// No false failures through a user's program: seeded random small networks whose gradients are
// right (tanh, sigmoid, ReLU; float64 and float32 arithmetic; small and large weights; full and
// directional mode) must never fail. They may be "unresolved" (a warning), never wrong.
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../src/core/check/program-check.js';
import { DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { functionProgram, type ModelFunctions, type ModelParams } from '../src/core/session/functions.js';
import { Random } from '../src/core/random.js';

type Activation = 'tanh' | 'sigmoid' | 'relu';
const ACT: Record<Activation, { f: (z: number) => number; d: (z: number, a: number) => number }> = {
  tanh: { f: Math.tanh, d: (_z, a) => 1 - a * a },
  sigmoid: { f: (z) => 1 / (1 + Math.exp(-z)), d: (_z, a) => a * (1 - a) },
  relu: { f: (z) => Math.max(z, 0), d: (z) => (z > 0 ? 1 : 0) },
};

/**
 * d-h-1 network, logistic loss, mean over m samples: J = mean(log(1 + e^{−y·o})), o = W2·act(W1·x + b1) + b2.
 * `round` is applied after every operation of the cost (Math.fround: a float32 program); the
 * gradients are computed in float64 from the same forward values and rounded once.
 */
function randomNet(seed: number, act: Activation, float32: boolean, weightScale: number): ModelFunctions {
  const rng = new Random(seed);
  const d = 3, h = 5, m = 8;
  const r = float32 ? Math.fround : (x: number) => x;
  const normal = () => r(rng.normal());
  const X = Array.from({ length: m }, () => Array.from({ length: d }, normal));
  const Y = Array.from({ length: m }, () => (rng.uniform() < 0.5 ? -1 : 1));
  const params = {
    W1: Array.from({ length: h }, () => Array.from({ length: d }, () => r(weightScale * rng.normal()))),
    b1: Array.from({ length: h }, () => r(0.1 * rng.normal())),
    W2: Array.from({ length: h }, () => r(weightScale * rng.normal())),
    b2: r(0.1 * rng.normal()),
  };
  const { f, d: df } = ACT[act];
  const run = (p: ModelParams) => {
    const { W1, b1, W2, b2 } = p as unknown as typeof params;
    let J = 0;
    const gW1 = W1.map((row) => row.map(() => 0)), gb1 = b1.map(() => 0), gW2 = W2.map(() => 0);
    let gb2 = 0;
    for (let s = 0; s < m; s++) {
      const z = W1.map((row, i) => r(row.reduce((a, w, j) => r(a + r(w * X[s][j])), 0) + b1[i]));
      const a = z.map((zi) => r(f(zi)));
      const o = r(a.reduce((acc, ai, i) => r(acc + r(W2[i] * ai)), 0) + b2);
      J = r(J + r(Math.log1p(Math.exp(-Y[s] * o)) / m));
      const dO = (-Y[s] / (1 + Math.exp(Y[s] * o))) / m;
      gb2 += dO;
      a.forEach((ai, i) => {
        gW2[i] += dO * ai;
        const dz = dO * W2[i] * df(z[i], ai);
        gb1[i] += dz;
        X[s].forEach((x, j) => { gW1[i][j] += dz * x; });
      });
    }
    return { J, grads: { W1: gW1.map((row) => row.map(r)), b1: gb1.map(r), W2: gW2.map(r), b2: r(gb2) } };
  };
  return {
    params: structuredClone(params) as unknown as ModelParams,
    layers: [['W1', 'b1'], ['W2', 'b2']],
    cost: (p) => run(p).J,
    grads: (p) => run(p).grads as unknown as ModelParams,
  };
}

describe('no false failures through a program', () => {
  const cases: { seed: number; act: Activation; float32: boolean; scale: number; mode: 'full' | 'directional' }[] = [];
  let seed = 1;
  for (const act of ['tanh', 'sigmoid', 'relu'] as const) {
    for (const float32 of [false, true]) {
      for (const scale of [0.01, 1]) {
        for (const mode of ['full', 'directional'] as const) cases.push({ seed: seed++, act, float32, scale, mode });
      }
    }
  }
  it.each(cases)('a correct $act net (float32 $float32, weights ×$scale, $mode) never fails', async ({ seed, act, float32, scale, mode }) => {
    const report = await checkProgram(functionProgram(randomNet(seed, act, float32, scale)), { ...DEFAULT_OPTIONS, mode, seed });
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.param} ${c.relativeError.toExponential(2)} at ε ${c.epsilon}`);
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('the same nets with a wrong output-layer gradient fail in float64', async () => {
    for (const act of ['tanh', 'sigmoid', 'relu'] as const) {
      const model = randomNet(100, act, false, 1);
      const grads = model.grads;
      model.grads = (p) => { const g = grads(p) as Record<string, unknown>; return { ...g, W2: (g.W2 as number[]).map((x) => 2 * x) } as ModelParams; };
      const report = await checkProgram(functionProgram(model), { ...DEFAULT_OPTIONS });
      expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.param)).toEqual(['W2']);
    }
  });
});
