// The benchmark's networks, written as net.json + data.csv so that the command line, the in-process
// checks and the naive reference all read exactly the same inputs. The torch script builds the
// same networks (its own seeded initialisation; the timing does not depend on the values).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../../src/core/random.js';

/** A network with layers other than dense: net.json's "input" and "layers" as a user writes them. */
export interface LayeredNet {
  input: number | [number, number, number];
  layers: Record<string, unknown>[];
}

export interface BenchCase {
  name: string;
  /** Layer sizes, input first; for a `net`, its flat input features and output units. */
  sizes: number[];
  hidden: string;
  output: string;
  loss: 'binary_cross_entropy' | 'categorical_cross_entropy';
  samples: number;
  /** A bundled fixture instead of generated files. */
  fixture?: string;
  /** Layers of other kinds (conv2d, batchnorm, …) instead of the dense `sizes`; `hidden` picks the init scheme. */
  net?: LayeredNet;
}

/** input 1×12×12, conv 4@3×3 padding 1 ReLU, max-pool 2, flatten, dense 10 softmax (the small CNN). */
const SMALL_CNN: LayeredNet = {
  input: [1, 12, 12],
  layers: [
    { type: 'conv2d', filters: 4, kernel: 3, padding: 1, activation: 'relu' },
    { type: 'maxpool2d', size: 2 },
    { type: 'flatten' },
    { units: 10, activation: 'softmax' },
  ],
};

/**
 * 20-64-BN-ReLU-32-BN-ReLU-1 sigmoid. The dense layers before a batch norm have no bias, as in
 * PyTorch code: the batch norm subtracts the mean, so such a bias's gradient is 0 up to rounding.
 */
const BATCHNORM_MLP: LayeredNet = {
  input: 20,
  layers: [
    { units: 64, activation: 'linear', bias: false },
    { type: 'batchnorm' },
    { type: 'activation', activation: 'relu' },
    { units: 32, activation: 'linear', bias: false },
    { type: 'batchnorm' },
    { type: 'activation', activation: 'relu' },
    { units: 1, activation: 'sigmoid' },
  ],
};

export const CASES: BenchCase[] = [
  { name: 'seed 2-8-6-4-1 × 300', sizes: [2, 8, 6, 4, 1], hidden: 'tanh', output: 'sigmoid', loss: 'binary_cross_entropy', samples: 300, fixture: 'seed' },
  { name: '20-64-32-1 × 128', sizes: [20, 64, 32, 1], hidden: 'tanh', output: 'sigmoid', loss: 'binary_cross_entropy', samples: 128 },
  { name: '64-128-64-10 × 64', sizes: [64, 128, 64, 10], hidden: 'relu', output: 'softmax', loss: 'categorical_cross_entropy', samples: 64 },
  { name: '784-128-64-10 × 64', sizes: [784, 128, 64, 10], hidden: 'relu', output: 'softmax', loss: 'categorical_cross_entropy', samples: 64 },
  { name: 'cnn 1×12×12 conv4-pool-10 × 16', sizes: [144, 10], hidden: 'relu', output: 'softmax', loss: 'categorical_cross_entropy', samples: 16, net: SMALL_CNN },
  { name: 'batchnorm 20-64-BN-32-BN-1 × 64', sizes: [20, 1], hidden: 'relu', output: 'sigmoid', loss: 'binary_cross_entropy', samples: 64, net: BATCHNORM_MLP },
];

/** The folder a case's files are written to, under the bench's temporary folder. */
export function caseFolder(c: BenchCase): string {
  return c.net ? c.name.split(' ')[0] : c.sizes.join('-');
}

/** Writes the case's net.json and data.csv under `dir` (or points at the fixture); returns their paths. */
export function writeCase(c: BenchCase, root: string, dir: string, seed = 1): { net: string; data: string } {
  if (c.fixture) return { net: join(root, 'fixtures', c.fixture, 'net.json'), data: join(root, 'fixtures', c.fixture, 'data.csv') };
  mkdirSync(dir, { recursive: true });
  const [inputs, ...units] = c.sizes;
  const net = {
    input: c.net?.input ?? inputs,
    layers: c.net?.layers ?? units.map((u, l) => ({ units: u, activation: l === units.length - 1 ? c.output : c.hidden })),
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

/** The parameters of a dense case (a `net`'s are counted from its loaded model). */
export function parameterCountOf(c: BenchCase): number {
  let n = 0;
  for (let l = 1; l < c.sizes.length; l++) n += c.sizes[l] * (c.sizes[l - 1] + 1);
  return n;
}
