// Bugs that used to pass (issue 11, item 4): a db 2× too large in directional mode where a sample
// sits on a ReLU kink (zero biases), a "divide by m − 1" in gradients that happen to be float32
// values, one element off by 1e-5 in a large tensor, and a weak unit's row with the wrong sign.
// Each fails now, and says which rule failed it; the right gradients beside them still pass.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS, type CheckOptions } from '../src/core/check/check.js';
import { diagnoser } from '../src/core/diagnose/index.js';
import { forward } from '../src/core/forward.js';
import { mapTensors, type Grads } from '../src/core/model.js';
import type { Tensor } from '../src/core/tensor.js';
import { isFloat32 } from '../src/core/check/edges.js';
import { Random } from '../src/core/random.js';
import type { Report } from '../src/core/report.js';
import { drawn, network, type Network } from './helpers/network.js';

type Net = Pick<Network, 'model' | 'params' | 'X' | 'Y'>;

function net(spec: Record<string, unknown>, inputs: number, m: number, seed: number, fill: (rng: Random, X: Tensor, Y: Tensor) => void): Net {
  return network(spec, { inputs, initSeed: seed, data: drawn(m, seed + 5, fill) });
}

const correctOf = (n: Net): Grads => backward(n.model, n.params, forward(n.model, n.params, n.X, n.Y), n.Y, correctPlan(n.model));
const run = (n: Net, grads: Grads, options: Partial<CheckOptions> = {}): Report =>
  check({ ...n, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, ...options }, diagnoser(null));
const status = (r: Report, p: string) => r.checks.find((c) => c.param === p)!;

describe('directional mode: a sample on a kink no longer discards the direction', () => {
  // ReLU with zero biases (init "he" leaves b = 0) and one all-zero sample: Z1 = 0 exactly there,
  // on the kink, for every unit, so every direction over b1 meets it.
  const n = net({ layers: [{ units: 5, activation: 'relu' }, { units: 1, activation: 'linear' }], loss: 'mean_squared_error', init: { scheme: 'he', seed: 3 } }, 3, 12, 3,
    (rng, X, Y) => { for (let i = 0; i < X.data.length; i++) X.data[i] = i % 12 === 0 ? 0 : rng.normal(); for (let i = 0; i < Y.data.length; i++) Y.data[i] = rng.normal(); });

  it('the net really has a sample on the kink and zero biases', () => {
    expect(Array.from(n.params[0].b!.data)).toEqual([0, 0, 0, 0, 0]);
    const Z = forward(n.model, n.params, n.X, n.Y).Z[0];
    for (let u = 0; u < 5; u++) expect(Z.data[u * 12]).toBe(0);
  });

  it('db1 2× too large fails (it passed with exit 0 before: every direction was discarded)', () => {
    const g = correctOf(n);
    const bad = g.map((t, l) => (l === 0 ? { ...t, b: { ...t.b, data: t.b.data.map((v) => 2 * v) } } : t));
    const r = run(n, bad, { mode: 'directional', samples: 5 });
    expect(status(r, 'b1')).toMatchObject({ status: 'fail', checked: 5, kinks: 5 });
    expect(r.ok).toBe(false);
  });

  it('the right gradients pass there, with the kinks counted, in directional and full mode', () => {
    for (const mode of ['directional', 'full'] as const) {
      const r = run(n, correctOf(n), { mode, samples: 5 });
      expect(r.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
      expect(status(r, 'b1').kinks).toBeGreaterThan(0);
    }
  });

  it('a W1 bug on the same net still fails in directional mode', () => {
    const g = correctOf(n);
    const bad = g.map((t, l) => (l === 0 ? { ...t, W: { ...t.W, data: t.W.data.map((v) => -v) } } : t));
    expect(status(run(n, bad, { mode: 'directional', samples: 5 }), 'W1').status).toBe('fail');
  });
});

/** float32 arithmetic, as numpy.float32 code computes a tanh → sigmoid net: every operation rounded, sums pairwise. */
function float32Backprop(n: Net, m1: number): Grads {
  const f = Math.fround;
  const m = n.X.shape[1];
  const sum = (xs: number[]): number => (xs.length <= 8 ? xs.reduce((a, b) => f(a + b), 0) : f(sum(xs.slice(0, xs.length >> 1)) + sum(xs.slice(xs.length >> 1))));
  const W1 = n.params[0].W, b1 = n.params[0].b!, W2 = n.params[1].W, b2 = n.params[1].b!;
  const H = W1.shape[0], D = W1.shape[1];
  const A1 = new Float64Array(H * m), dZ2 = new Float64Array(m);
  for (let c = 0; c < m; c++) {
    for (let h = 0; h < H; h++) {
      let z = f(b1.data[h]);
      for (let d = 0; d < D; d++) z = f(z + f(f(W1.data[h * D + d]) * f(n.X.data[d * m + c])));
      A1[h * m + c] = f(Math.tanh(z));
    }
    let z2 = f(b2.data[0]);
    for (let h = 0; h < H; h++) z2 = f(z2 + f(f(W2.data[h]) * A1[h * m + c]));
    const a = f(1 / f(1 + f(Math.exp(-z2))));
    dZ2[c] = f(a - n.Y.data[c]);
  }
  const dW2 = Array.from({ length: H }, (_, h) => f(sum(Array.from({ length: m }, (_x, c) => f(dZ2[c] * A1[h * m + c]))) / m1));
  const db2 = f(sum(Array.from(dZ2)) / m1);
  const dZ1 = new Float64Array(H * m);
  for (let h = 0; h < H; h++) for (let c = 0; c < m; c++) dZ1[h * m + c] = f(f(f(W2.data[h]) * dZ2[c]) * f(1 - f(A1[h * m + c] * A1[h * m + c])));
  const dW1 = Array.from({ length: H * D }, (_, i) => f(sum(Array.from({ length: m }, (_x, c) => f(dZ1[Math.floor(i / D) * m + c] * f(n.X.data[(i % D) * m + c])))) / m1));
  const db1 = Array.from({ length: H }, (_, h) => f(sum(Array.from(dZ1.slice(h * m, (h + 1) * m))) / m1));
  const mat = (rows: number, cols: number, d: number[]): Tensor => ({ shape: [rows, cols], data: Float64Array.from(d) });
  return [{ W: mat(H, D, dW1), b: mat(H, 1, db1) }, { W: mat(1, H, dW2), b: mat(1, 1, [db2]) }];
}

describe('float32 gradients are judged by float32 resolution, not a blanket 1e-4', () => {
  // 12,000 samples: a "divide by m − 1" is a relative error of 8.3e-5, below the old 1e-4.
  const m = 12000;
  const n = net({ layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy', init: { scheme: 'xavier', seed: 4 } }, 2, m, 4,
    (rng, X, Y) => { for (let c = 0; c < m; c++) { const x0 = rng.normal(); X.data[c] = x0; X.data[m + c] = rng.normal(); Y.data[c] = x0 + 0.3 * rng.normal() > 0 ? 1 : 0; } });
  // The weights as float32 code holds them.
  n.params = mapTensors(n.params, (t) => ({ ...t, data: t.data.map(Math.fround) }));

  it('gradients computed in float32 arithmetic pass, judged against float32 resolution', () => {
    const g = float32Backprop(n, m);
    for (const t of g.flatMap(Object.values)) expect(isFloat32(t!.data)).toBe(true);
    const r = run(n, g);
    // float32's rounding shows (the warn band at 1e-6 before), and stays within float32's resolution.
    expect(r.checks.some((c) => c.relativeError > 1e-8)).toBe(true);
    for (const c of r.checks) expect(c.status).toBe('pass');
    expect(r.ok).toBe(true);
    const note = r.findings.find((f) => f.code === 'float32-precision' && f.message.startsWith('dW1'))!;
    expect(note.message).toContain("judged against float32's resolution at these weights");
  });

  it('"divide by m − 1" in float32 gradients fails (it passed at the old 1e-4)', () => {
    const g = float32Backprop(n, m - 1);
    const r = run(n, g);
    expect(r.ok).toBe(false);
    const failed = r.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.param)).toEqual(expect.arrayContaining(['W1', 'W2']));
    for (const c of failed) expect(c.relativeError).toBeLessThan(1e-4);
  });
});

describe('one clearly wrong element fails the tensor, however large the tensor', () => {
  // A 60 × 80 W1 under a sum-reduced MSE, gradients of order 1: one element off by 1e-5 moves the
  // norm-wise error to about 1e-7, a "warn" before.
  const n = net({ layers: [{ units: 60, activation: 'tanh' }, { units: 2, activation: 'linear' }], loss: 'mean_squared_error', reduction: 'sum', init: { scheme: 'xavier', seed: 5 } }, 80, 30, 5,
    (rng, X, Y) => { for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal(); for (let i = 0; i < Y.data.length; i++) Y.data[i] = 5 * rng.normal(); });

  it('one element off by 1e-5 fails with failedBy "element"', () => {
    const g = correctOf(n);
    const data = Float64Array.from(g[0].W.data);
    data[1234] += 1e-5;
    const r = run(n, [{ ...g[0], W: { ...g[0].W, data } }, g[1]]);
    const w1 = status(r, 'W1');
    expect(w1.relativeError).toBeLessThan(1e-6);
    expect(w1).toMatchObject({ status: 'fail', failedBy: 'element' });
    expect(w1.worst!.index).toEqual([Math.floor(1234 / 80), 1234 % 80]);
    expect(r.ok).toBe(false);
  });

  it('a weak unit\'s row with the wrong sign fails with failedBy "element"', () => {
    // Row 7 made weak (its outgoing weights 1e-6 of the others'), then its dW1 row negated.
    const W2 = { ...n.params[1].W, data: Float64Array.from(n.params[1].W.data) };
    for (let k = 0; k < W2.shape[0]; k++) W2.data[k * W2.shape[1] + 7] *= 1e-6;
    const weak = { ...n, params: [n.params[0], { ...n.params[1], W: W2 }] };
    const right = correctOf(weak);
    const data = Float64Array.from(right[0].W.data);
    for (let j = 0; j < 80; j++) data[7 * 80 + j] = -data[7 * 80 + j];
    const r = run(weak, [{ ...right[0], W: { ...right[0].W, data } }, right[1]]);
    const w1 = status(r, 'W1');
    expect(w1.relativeError).toBeLessThan(1e-6);
    expect(w1).toMatchObject({ status: 'fail', failedBy: 'element' });
    expect(w1.worst!.index[0]).toBe(7);
    // The right gradients of the same net pass.
    expect(run(weak, right).ok).toBe(true);

  });

  it('a norm-wise failure says failedBy "norm"', () => {
    const g = correctOf(n);
    const r = run(n, [{ ...g[0], W: { ...g[0].W, data: g[0].W.data.map((v) => 2 * v) } }, g[1]]);
    expect(status(r, 'W1')).toMatchObject({ status: 'fail', failedBy: 'norm' });
  });
});

describe('on the command line', () => {
  it('directional mode, zero biases, a sample on the kink: db1 2× too large exits 1 (it exited 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpc-bugs-'));
    const spec = { input: 2, layers: [{ units: 4, activation: 'relu' }, { units: 1, activation: 'linear' }], loss: 'mean_squared_error', init: { scheme: 'he', seed: 2 } };
    const X: Tensor = { shape: [2, 6], data: Float64Array.from([0, 1, -0.5, 0.3, 2, -1, 0, -1, 0.7, 0.2, -0.4, 1.5]) };
    const Y: Tensor = { shape: [1, 6], data: Float64Array.from([0.1, 0.5, -0.2, 0.9, 0.3, -0.7]) };
    const { model, params } = network(spec, { initSeed: 2, data: { X, Y } });
    const g = correctOf({ model, params, X, Y });
    const rows = (m: Tensor) => Array.from({ length: m.shape[0] }, (_r, i) => Array.from(m.data.slice(i * m.shape[1], (i + 1) * m.shape[1])));
    writeFileSync(join(dir, 'net.json'), JSON.stringify(spec));
    writeFileSync(join(dir, 'data.csv'), ['a,b,y', ...Array.from({ length: 6 }, (_c, c) => `${X.data[c]},${X.data[6 + c]},${Y.data[c]}`)].join('\n') + '\n');
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ W1: rows(params[0].W), b1: rows(params[0].b!), W2: rows(params[1].W), b2: rows(params[1].b!) }));
    const grads = (db1: number) => JSON.stringify({ dW1: rows(g[0].W), db1: rows({ ...g[0].b!, data: g[0].b!.data.map((v) => db1 * v) }), dW2: rows(g[1].W), db2: rows(g[1].b!) });
    writeFileSync(join(dir, 'right.json'), grads(1));
    writeFileSync(join(dir, 'bad.json'), grads(2));
    const args = (file: string) => ['net.json', 'data.csv', '--params', 'params.json', '--grads', file, '--directions', '4', '--format', 'json'];
    const right = await runCli(args('right.json'), { cwd: dir });
    expect(right.stderr).toBe('');
    expect(right.status).toBe(0);
    const bad = await runCli(args('bad.json'), { cwd: dir });
    expect(bad.status).toBe(1);
    const b1 = JSON.parse(bad.stdout).checks.find((c: { param: string }) => c.param === 'b1');
    expect(b1).toMatchObject({ status: 'fail', checked: 4, kinks: 4 });
  });
});
