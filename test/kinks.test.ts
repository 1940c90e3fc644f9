// Samples sitting exactly on a kink (a ReLU-family pre-activation at exactly 0) are points where the
// cost is not differentiable. A correct backprop, whatever convention it uses for relu'(0), must pass;
// a wrong one must still fail.
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { forward } from '../src/core/forward.js';
import type { Grads } from '../src/core/model.js';
import { drawn, network } from './helpers/network.js';

/** tanh → leaky_relu → sigmoid, zero biases, and one sample at x = 0: every unit of layer 2 sits on its kink. */
function kinkedNet(seed: number, hidden2 = 'leaky_relu') {
  const m = 12;
  const { model, params, X, Y } = network({
    input: 3,
    layers: [{ units: 5, activation: 'tanh' }, { units: 4, activation: hidden2 }, { units: 1, activation: 'sigmoid' }],
    loss: 'binary_cross_entropy',
    init: { scheme: 'xavier', seed },
  }, {
    data: drawn(m, seed + 100, (rng, X, Y) => {
      for (let i = 0; i < X.data.length; i++) X.data[i] = (i % m) === 0 ? 0 : rng.normal();
      for (let i = 0; i < m; i++) Y.data[i] = i % 2;
    }),
  });
  return { model, params, X, Y };
}

/** Correct backprop, but with the given slope of the hidden activation at exactly 0. */
function withConvention(net: ReturnType<typeof kinkedNet>, slopeAtZero: number): Grads {
  const fwd = forward(net.model, net.params, net.X, net.Y);
  const plan = correctPlan(net.model);
  plan.derivatives[1] = (z, a) => (z === 0 ? slopeAtZero : net.model.layers[1].activation.derivative(z, a));
  return backward(net.model, net.params, fwd, net.Y, plan);
}

describe('samples exactly on a kink', () => {
  it.each([1, 2, 3, 4, 5])('correct backprop passes, with either convention for the slope at 0 (seed %i)', (seed) => {
    const net = kinkedNet(seed);
    const fwd = forward(net.model, net.params, net.X, net.Y);
    // The premise: the x = 0 sample puts every unit of layer 2 exactly on the kink.
    for (let i = 0; i < 4; i++) expect(fwd.Z[1].data[i * 12]).toBe(0);
    for (const slope of [0.01, 1]) {
      const report = check({ ...net, gradients: { source: 'grads', grads: withConvention(net, slope) } }, DEFAULT_OPTIONS);
      expect(report.checks.map((c) => [c.param, c.status])).toEqual(report.checks.map((c) => [c.param, 'pass']));
      expect(report.checks.find((c) => c.param === 'b1')!.kinks).toBeGreaterThan(0);
    }
  });

  it('a wrong gradient at the kinked elements still fails', () => {
    const net = kinkedNet(2);
    const grads = withConvention(net, 0.01);
    for (let i = 0; i < grads[0].b!.data.length; i++) grads[0].b!.data[i] *= 1.1;
    const report = check({ ...net, gradients: { source: 'grads', grads } }, DEFAULT_OPTIONS);
    expect(report.checks.find((c) => c.param === 'b1')!.status).toBe('fail');
  });
});
