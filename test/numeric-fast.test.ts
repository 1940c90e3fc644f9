// The fast path of the finite differences gives the naive reference's numbers.
//
// The propagated source's elements run every perturbation of a tensor row as one batch, skip exact
// zeros and decide ReLU rows from their extremes; the naive source (src/core/differences/naive.ts) re-runs
// every layer densely from the first for every perturbation, with the same difference arithmetic.
// They must agree element by element (to 1e-12 relative; in fact bit for bit), kinks and refined
// samples included. Then: the same report whether the rows run in this thread or on worker threads.
import { describe, expect, it } from 'vitest';
import { naiveSource } from '../src/core/differences/naive.js';
import { forward } from '../src/core/forward.js';
import { propagatedSource } from '../src/core/differences/propagated.js';
import { Random } from '../src/core/random.js';
import type { Activation } from '../src/core/records/activations.js';
import type { Direction } from '../src/core/differences/source.js';
import { drawn, network, withKinks, type Network as Net } from './helpers/network.js';

/** A seeded network from a spec-like object, with standard normal inputs and fitting targets. */
function net(spec: Record<string, unknown>, inputs: number, samples: number, seed: number): Net {
  return network({ init: { scheme: 'he', seed }, ...spec }, { inputs, initSeed: seed, data: drawn(samples, seed + 17) });
}

const NETS: [string, () => Net][] = [
  ['tanh/sigmoid, binary cross-entropy', () => net({ layers: [{ units: 7, activation: 'tanh' }, { units: 5, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 4, 11, 1)],
  ['ReLU/softmax, categorical cross-entropy, L2, kinks', () => withKinks(net({ layers: [{ units: 9, activation: 'relu' }, { units: 6, activation: 'relu' }, { units: 4, activation: 'softmax' }], loss: 'categorical_cross_entropy', l2: 0.3 }, 5, 12, 2))],
  ['custom expression activation, mean squared error, sum reduction', () => net({ layers: [{ units: 6, activation: { expr: 'z / (1 + exp(-z))' } }, { units: 3, activation: 'linear' }], loss: 'mean_squared_error', reduction: 'sum' }, 3, 9, 3)],
  ['leaky ReLU, ELU, softplus, no biases, L2 coefficient', () => withKinks(net({ layers: [{ units: 8, activation: { name: 'leaky_relu', alpha: 0.1 } }, { units: 6, activation: 'elu' }, { units: 5, activation: 'softplus' }, { units: 2, activation: 'sigmoid' }], loss: 'binary_cross_entropy', bias: false, l2: { coefficient: 0.01 } }, 4, 10, 4))],
  ['ReLU output, mean squared error (kinks at the output)', () => withKinks(net({ layers: [{ units: 6, activation: 'relu' }, { units: 3, activation: 'relu' }], loss: 'mean_squared_error' }, 3, 10, 5))],
];

describe('FiniteDifferences.elements against the naive reference', () => {
  it.each(NETS)('%s: every element agrees to 1e-12', (_, make) => {
    const { model, params, X, Y } = make();
    const fwd = forward(model, params, X, Y);
    const fast = propagatedSource({ model, params, Y }, fwd);
    const naive = naiveSource({ model, params, Y }, fwd);
    let compared = 0, refined = 0, kinks = 0, exact = 0;
    for (let l = 0; l < model.layers.length; l++) {
      for (const kind of ['W', 'b'] as const) {
        const T = kind === 'W' ? params[l].W : params[l].b;
        if (!T) continue;
        for (let r = 0; r < T.shape[0]; r++) {
          const cols = Array.from({ length: T.shape[1] }, (_, j) => j);
          const got = fast.elements!({ layer: l, name: kind }, cols.map((j) => r * T.shape[1] + j), 1e-6);
          cols.forEach((j) => {
            const want = naive.element({ layer: l, name: kind }, r * T.shape[1] + j, 1e-6);
            const d = got[j];
            expect(Math.abs(d.numeric - want.numeric)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(want.numeric), 1e-300));
            expect(Math.abs(d.spread - want.spread)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(want.spread), 1e-300));
            expect([d.kink, d.refined]).toEqual([want.kink, want.refined]);
            if (d.numeric === want.numeric && d.spread === want.spread) exact++;
            if (d.refined) refined++;
            if (d.kink) kinks++;
            compared++;
          });
        }
      }
    }
    expect(exact).toBe(compared);
    if (make === NETS[1][1]) {
      // The kink cases were reached: samples re-differenced with a smaller step, and exact kinks.
      expect(refined).toBeGreaterThan(0);
      expect(kinks).toBeGreaterThan(0);
    }
  });

  it('a subset of columns, in any row, gives the same numbers as the whole row', () => {
    const { model, params, X, Y } = NETS[1][1]();
    const fd = propagatedSource({ model, params, Y }, forward(model, params, X, Y));
    const W1 = { layer: 0, name: 'W' }, at = (col: number) => 3 * params[0].W.shape[1] + col;
    const whole = fd.elements!(W1, [0, 1, 2, 3, 4].map(at), 1e-6);
    const some = fd.elements!(W1, [1, 4].map(at), 1e-6);
    expect(some).toEqual([whole[1], whole[4]]);
    expect(fd.elements!(W1, [2].map(at), 1e-6)[0]).toEqual(fd.element(W1, at(2), 1e-6));
  });

  it('a network that is not zero-clean (an activation overflowing) takes the element-wise path: element()\'s numbers', () => {
    // Here even the naive reference differs from element(): it differences rows that did not change.
    const n = net({ layers: [{ units: 4, activation: { expr: 'exp(z)' } }, { units: 1, activation: 'linear' }], loss: 'mean_squared_error' }, 2, 5, 6);
    n.X.data[0] = 800; // exp(800·w) overflows for some unit of sample 0
    const fast = propagatedSource(n, forward(n.model, n.params, n.X, n.Y));
    const W2 = { layer: 1, name: 'W' };
    const got = fast.elements!(W2, [0, 1, 2, 3], 1e-6);
    got.forEach((d, j) => expect(Object.is(d.numeric, fast.element(W2, j, 1e-6).numeric)).toBe(true));
  });
});

describe('directions through tanh and sigmoid layers', () => {
  // The propagated source prepares each such layer's per-z constants once and steps every direction
  // from them; a model whose records have no prepared steps takes the records' difference element
  // by element. Both must give the same bits, dense and rank-one directions, small and large steps.
  const plain = (act: Activation): Activation => (act.diagonal ? { ...act, prepared: undefined } : act);
  it.each([
    ['tanh', 'sigmoid'],
    ['sigmoid', 'tanh'],
  ])('hidden %s, output %s', (hidden, output) => {
    const n = net({ layers: [{ units: 7, activation: hidden }, { units: 5, activation: hidden }, { units: 2, activation: output }], loss: output === 'sigmoid' ? 'binary_cross_entropy' : 'mean_squared_error', l2: 0.1 }, 4, 13, 7);
    const fwd = forward(n.model, n.params, n.X, n.Y);
    const fast = propagatedSource(n, fwd);
    const model = { ...n.model, layers: n.model.layers.map((layer) => ({ ...layer, activation: plain(layer.activation) })) };
    const slow = propagatedSource({ model, params: n.params, Y: n.Y }, forward(model, n.params, n.X, n.Y));
    const rng = new Random(5);
    let compared = 0;
    for (let l = 0; l < n.model.layers.length; l++) {
      for (const name of ['W', 'b']) {
        const T = name === 'W' ? n.params[l].W : n.params[l].b!;
        const dense = Float64Array.from(T.data, () => rng.normal());
        const directions: Direction[] = [dense];
        if (name === 'W') directions.push({ u: Float64Array.from({ length: T.shape[0] }, () => rng.normal()), v: Float64Array.from({ length: T.shape[1] }, () => rng.normal()) });
        for (const v of directions) {
          for (const h of [1e-6, 1e-3, 0.05]) {
            const t = { layer: l, name };
            const [a, b] = [fast.direction!(t, v, h), slow.direction!(t, v, h)];
            expect(Object.is(a.numeric, b.numeric), `${name}${l + 1}, h = ${h}`).toBe(true);
            expect(Object.is(fast.change!(t, v, h), slow.change!(t, v, h))).toBe(true);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(3 * (2 + 1) * 3); // per layer: W dense and rank-one, b; three steps
  });
});

describe('worker threads', () => {
  // The pool runs the compiled worker script, so this part uses the build (npm test builds first).
  const dist = new URL('../dist/', import.meta.url).href;

  it.each([
    ['full mode', { mode: 'full' }],
    ['sample mode', { mode: 'sample', samples: 7 }],
  ] as const)('%s: the same report on 1, 2 and 3 threads as check() in this thread', async (_, mode) => {
    const { check, DEFAULT_OPTIONS } = await import(`${dist}core/check/check.js`);
    const { checkAsync } = await import(`${dist}cli/threaded-check.js`);
    const { correctPlan } = await import(`${dist}core/backprop.js`);
    const { parseSpec: parse, withInputs: inputs } = await import(`${dist}io/spec.js`);
    const { initialise: init } = await import(`${dist}core/init.js`);
    // Built from the compiled modules, so that the records are the ones the workers rebuild.
    const model = inputs(parse({ layers: [{ units: 12, activation: 'relu' }, { units: 8, activation: { name: 'leaky_relu', alpha: 0.2 } }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy', l2: 0.1, init: { scheme: 'he', seed: 9 } }, 'net.json').model, 6);
    const { X, Y } = net({ layers: [{ units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy' }, 6, 20, 9);
    const input = { model, params: init(model, 9), X, Y, gradients: { source: 'correct', plan: correctPlan(model) } };
    const options = { ...DEFAULT_OPTIONS, ...mode };
    const serial = JSON.stringify(check(input, options));
    for (const threads of [1, 2, 3]) {
      let progressed = 0;
      const report = await checkAsync(input, { ...options, onProgress: () => { progressed++; } }, undefined, { threads, minWork: 0 });
      expect(JSON.stringify(report)).toBe(serial);
      expect(progressed).toBeGreaterThan(0);
    }
  });

  it('threads: BACKPROP_CHECK_THREADS, else the CPUs the load average leaves idle, at least one', async () => {
    const { threadCount } = await import('../src/cli/threaded-check.js');
    expect([threadCount({}, 2, 0.2), threadCount({}, 2, 1.4), threadCount({}, 2, 2.6), threadCount({}, 8, 3), threadCount({}, 4, 30)]).toEqual([2, 2, 1, 6, 1]);
    expect(threadCount({ BACKPROP_CHECK_THREADS: '3' }, 2, 9)).toBe(3);
    expect(threadCount({ BACKPROP_CHECK_THREADS: 'x' }, 2, 0)).toBe(2);
  });

  it('a stop request leaves a partial report of the rows that were done', async () => {
    const { DEFAULT_OPTIONS } = await import(`${dist}core/check/check.js`);
    const { checkAsync } = await import(`${dist}cli/threaded-check.js`);
    const { correctPlan } = await import(`${dist}core/backprop.js`);
    const { parseSpec: parse, withInputs: inputs } = await import(`${dist}io/spec.js`);
    const { initialise: init } = await import(`${dist}core/init.js`);
    const model = inputs(parse({ layers: [{ units: 16, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 'net.json').model, 8);
    const { X, Y } = net({ layers: [{ units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 8, 10, 3);
    const input = { model, params: init(model, 3), X, Y, gradients: { source: 'correct', plan: correctPlan(model) } };
    let polls = 0;
    const report = await checkAsync(input, { ...DEFAULT_OPTIONS, shouldStop: () => ++polls > 3 }, undefined, { threads: 2, minWork: 0 });
    expect(report.partial).toBe(true);
    expect(report.ok).toBe(false);
    const checked = report.checks.reduce((n: number, c: { checked: number }) => n + c.checked, 0);
    expect(checked).toBeGreaterThan(0);
    expect(checked).toBeLessThan(16 * 8 + 16 + 16 + 1);
  });
});
