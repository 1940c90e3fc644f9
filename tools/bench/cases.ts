// The benchmark's networks, written as net.json + data.csv so that the command line, the in-process
// checks and the naive reference all read exactly the same inputs. The torch script builds the
// same sizes (its own seeded He initialisation; the timing does not depend on the values).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../../src/core/random.js';

export interface BenchCase {
  name: string;
  /** Layer sizes, input first. */
  sizes: number[];
  hidden: string;
  output: string;
  loss: 'binary_cross_entropy' | 'categorical_cross_entropy';
  samples: number;
  /** A bundled fixture instead of generated files. */
  fixture?: string;
}

export const CASES: BenchCase[] = [
  { name: 'seed 2-8-6-4-1 × 300', sizes: [2, 8, 6, 4, 1], hidden: 'tanh', output: 'sigmoid', loss: 'binary_cross_entropy', samples: 300, fixture: 'seed' },
  { name: '20-64-32-1 × 128', sizes: [20, 64, 32, 1], hidden: 'tanh', output: 'sigmoid', loss: 'binary_cross_entropy', samples: 128 },
  { name: '64-128-64-10 × 64', sizes: [64, 128, 64, 10], hidden: 'relu', output: 'softmax', loss: 'categorical_cross_entropy', samples: 64 },
  { name: '784-128-64-10 × 64', sizes: [784, 128, 64, 10], hidden: 'relu', output: 'softmax', loss: 'categorical_cross_entropy', samples: 64 },
];

/** Writes the case's net.json and data.csv under `dir` (or points at the fixture); returns their paths. */
export function writeCase(c: BenchCase, root: string, dir: string, seed = 1): { net: string; data: string } {
  if (c.fixture) return { net: join(root, 'fixtures', c.fixture, 'net.json'), data: join(root, 'fixtures', c.fixture, 'data.csv') };
  mkdirSync(dir, { recursive: true });
  const [inputs, ...units] = c.sizes;
  const net = {
    input: inputs,
    layers: units.map((u, l) => ({ units: u, activation: l === units.length - 1 ? c.output : c.hidden })),
    loss: c.loss,
    reduction: 'mean',
    init: { scheme: c.hidden === 'relu' ? 'he' : 'xavier', seed },
  };
  const rng = new Random(seed + 1000);
  const outputs = units[units.length - 1];
  const lines: string[] = [];
  for (let s = 0; s < c.samples; s++) {
    const row = Array.from({ length: inputs }, () => String(rng.normal()));
    // One label column: a class index for categorical cross-entropy, 0/1 for binary.
    row.push(String(c.loss === 'categorical_cross_entropy' ? rng.int(outputs) : rng.int(2)));
    lines.push(row.join(','));
  }
  const paths = { net: join(dir, 'net.json'), data: join(dir, 'data.csv') };
  writeFileSync(paths.net, JSON.stringify(net, null, 2) + '\n');
  writeFileSync(paths.data, lines.join('\n') + '\n');
  return paths;
}

export function parameterCountOf(c: BenchCase): number {
  let n = 0;
  for (let l = 1; l < c.sizes.length; l++) n += c.sizes[l] * (c.sizes[l - 1] + 1);
  return n;
}
