// Writes the bundled fixtures (net.json + data.csv) deterministically from fixed seeds.
// Run after `npm run build`: node scripts/make-fixtures.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { Random } from '../dist/core/random.js';

const root = new URL('../fixtures/', import.meta.url).pathname;

function write(name, net, header, rows) {
  mkdirSync(root + name, { recursive: true });
  writeFileSync(`${root}${name}/net.json`, JSON.stringify(net, null, 2) + '\n');
  const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(6));
  writeFileSync(`${root}${name}/data.csv`, [header.join(','), ...rows.map((r) => r.map(fmt).join(','))].join('\n') + '\n');
}

/** Two interleaving half circles with Gaussian noise: the classic two-moons set. */
function twoMoons(n, noise, seed) {
  const rng = new Random(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = Math.PI * rng.uniform();
    const x = label === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const y = label === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    rows.push([x + noise * rng.normal(), y + noise * rng.normal(), label]);
  }
  return rows;
}

const seedLayers = [
  { units: 8, activation: 'tanh' },
  { units: 6, activation: 'tanh' },
  { units: 4, activation: 'tanh' },
  { units: 1, activation: 'sigmoid' },
];
const moons = twoMoons(300, 0.15, 7);
const base = {
  input: 2,
  layers: seedLayers,
  loss: 'binary_cross_entropy',
  reduction: 'mean',
  l2: 0,
  init: { scheme: 'normal', scale: 0.01, seed: 1 },
};
// The story's bugs, exactly as a user wrote them.
write('seed', {
  ...base,
  backward: {
    outputGradient: '-(y / a + (1 - y) / (1 - a))',
    activationDerivatives: ['1 - z^2', '1 - z^2', '1 - z^2', '1 - z^2'],
    reduction: 'mean',
    l2: true,
  },
}, ['x1', 'x2', 'label'], moons);
// The same net with the formulas fixed (the 0.01 initialisation is left: health warns about it).
write('seed-fixed', {
  ...base,
  backward: {
    outputGradient: '-(y / a - (1 - y) / (1 - a))',
    activationDerivatives: ['1 - a^2', '1 - a^2', '1 - a^2', 'a * (1 - a)'],
    reduction: 'mean',
    l2: true,
  },
}, ['x1', 'x2', 'label'], moons);

// XOR with a little noise, 200 points.
{
  const rng = new Random(11);
  const rows = Array.from({ length: 200 }, (_, i) => {
    const a = i % 2, b = (i >> 1) % 2;
    return [a + 0.1 * rng.normal(), b + 0.1 * rng.normal(), a ^ b];
  });
  write('xor', {
    input: 2,
    layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
    loss: 'binary_cross_entropy',
    init: { scheme: 'xavier', seed: 3 },
  }, ['a', 'b', 'xor'], rows);
}

// Three-class spiral, class index in the last column; ReLU hidden layers, softmax output.
{
  const rng = new Random(5);
  const rows = [];
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < 60; i++) {
      const r = i / 60;
      const t = k * 4 + 4 * r + 0.2 * rng.normal();
      rows.push([r * Math.sin(t), r * Math.cos(t), k]);
    }
  }
  write('softmax3', {
    input: 2,
    layers: [{ units: 16, activation: 'relu' }, { units: 8, activation: 'relu' }, { units: 3, activation: 'softmax' }],
    loss: 'categorical_cross_entropy',
    l2: 0.05,
    init: { scheme: 'he', seed: 2 },
  }, ['x', 'y', 'class'], rows);
}

// Regression with two real outputs and mean squared error.
{
  const rng = new Random(13);
  const rows = Array.from({ length: 150 }, () => {
    const x = [rng.normal(), rng.normal(), rng.normal()];
    return [...x, Math.sin(x[0]) + 0.5 * x[1] + 0.05 * rng.normal(), x[1] * x[2] + 0.05 * rng.normal()];
  });
  write('mse2', {
    input: 3,
    layers: [{ units: 8, activation: 'tanh' }, { units: 6, activation: 'softplus' }, { units: 2, activation: 'linear' }],
    loss: 'mean_squared_error',
    init: { scheme: 'xavier', seed: 4 },
  }, ['x1', 'x2', 'x3', 'y1', 'y2'], rows);
}

// A ReLU net with L2 regularisation on a binary problem with four features.
{
  const rng = new Random(17);
  const rows = Array.from({ length: 200 }, () => {
    const x = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    return [...x, x[0] * x[1] + x[2] > 0 ? 1 : 0];
  });
  write('relu-l2', {
    input: 4,
    layers: [{ units: 16, activation: 'relu' }, { units: 8, activation: 'relu' }, { units: 1, activation: 'sigmoid' }],
    loss: 'binary_cross_entropy',
    l2: 0.1,
    init: { scheme: 'he', seed: 6 },
  }, ['x1', 'x2', 'x3', 'x4', 'y'], rows);
}
console.log('fixtures written to', root);
