// Gradients of nets with every layer kind against an independent implementation:
// fixtures/golden/layers/nets/*.json are written by scripts/golden_layers.py with PyTorch float64
// autograd (F.conv2d, F.max_pool2d, F.avg_pool2d, F.batch_norm(training=True), F.layer_norm, dropout
// with a given mask, softmax with every loss, both layouts; regenerate: /usr/bin/python3
// scripts/golden_layers.py). Each case is loaded as a user's files are: its net.json, a data.csv of
// its samples, and its params and torch's gradients as --params/--grads JSON in the case's layout
// (dropout masks as mask{l}), through run.ts's `load`. Then, as test/golden.test.ts does for dense
// nets: our forward cost and correct backprop agree with torch to 1e-10, and our finite
// differences, checked against torch's gradients through check(), to 1e-8.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check } from '../src/core/check/check.js';
import { forward } from '../src/core/forward.js';
import { typeOf } from '../src/core/layers/index.js';
import { namedTensors, type Grads } from '../src/core/model.js';
import { size } from '../src/core/tensor.js';
import { gradientSource, load, type Loaded } from '../src/run.js';
import { relativeError, worstElement } from './helpers/golden-compare.js';

const dir = new URL('../fixtures/golden/layers/nets/', import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const work = mkdtempSync(join(tmpdir(), 'bpc-golden-layers-'));

type Nested = number | Nested[];

interface GoldenLayers {
  name: string;
  spec: { input: number | number[]; layers: { type?: string }[]; loss: unknown; layout?: string };
  /** As --data would hold them, in the layout's orientation (images (samples, C, H, W) in both). */
  X: Nested[];
  Y: number[][];
  params: Record<string, Nested>;
  grads: Record<string, Nested>;
  loss: number;
}

const read = (file: string): GoldenLayers => JSON.parse(readFileSync(join(dir, file), 'utf8')) as GoldenLayers;

const flat = (v: Nested): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);

/**
 * data.csv of the case: one line per sample, its features (an image's C·H·W values in C, H, W
 * order) then its targets. String(x) is the shortest text that reads back as the same float64, so
 * the data arrives bit for bit.
 */
function csv(g: GoldenLayers): string {
  const rows = g.spec.layout === 'rows';
  const image = Array.isArray(g.spec.input);
  const m = rows || image ? g.X.length : (g.X[0] as number[]).length;
  const features = (s: number): number[] => (rows || image ? flat(g.X[s]) : (g.X as number[][]).map((r) => r[s]));
  const targets = (s: number): number[] => (rows ? g.Y[s] : g.Y.map((r) => r[s]));
  const k = targets(0).length, n = features(0).length;
  const header = [...Array.from({ length: n }, (_, i) => `x${i + 1}`), ...Array.from({ length: k }, (_, i) => `y${i + 1}`)];
  const lines = Array.from({ length: m }, (_, s) => [...features(s), ...targets(s)].map(String).join(','));
  return [header.join(','), ...lines].join('\n') + '\n';
}

interface Case {
  g: GoldenLayers;
  at: Loaded;
  /** torch's gradients, as the --grads file gave them. */
  torchGrads: Grads;
}

const loaded = new Map<string, Promise<Case>>();
/** Both tests of a file share one load. */
function loadCase(file: string): Promise<Case> {
  if (!loaded.has(file)) loaded.set(file, loadUncached(file));
  return loaded.get(file)!;
}

async function loadUncached(file: string): Promise<Case> {
  const g = read(file);
  const base = join(work, g.name);
  const options = { net: `${base}.net.json`, data: `${base}.data.csv`, params: `${base}.params.json`, grads: `${base}.grads.json` };
  writeFileSync(options.net, JSON.stringify(g.spec));
  writeFileSync(options.data, csv(g));
  writeFileSync(options.params, JSON.stringify(g.params));
  writeFileSync(options.grads, JSON.stringify(g.grads));
  const at = load(options);
  const source = await gradientSource(at, options);
  if (source.source !== 'grads') throw new Error(`${file}: expected the --grads file's gradients, got ${source.source}`);
  return { g, at, torchGrads: source.grads };
}

describe('golden gradients from PyTorch for every layer kind (fixtures/golden/layers/nets)', () => {
  it('the cases cover every layer type, both layouts, softmax with every loss and MSE over the outputs', () => {
    const specs = files.map((f) => read(f).spec);
    const types = new Set(specs.flatMap((s) => s.layers.map((l) => l.type ?? 'dense')));
    expect([...types].sort()).toEqual(['activation', 'avgpool2d', 'batchnorm', 'conv2d', 'dense', 'dropout', 'flatten', 'layernorm', 'maxpool2d']);
    expect(new Set(specs.map((s) => s.layout ?? 'columns'))).toEqual(new Set(['columns', 'rows']));
    const softmaxLosses = new Set(specs.filter((s) => JSON.stringify(s.layers[s.layers.length - 1]).includes('"softmax"')).map((s) => JSON.stringify(s.loss)));
    for (const loss of ['"categorical_cross_entropy"', '"mean_squared_error"', '"binary_cross_entropy"', '{"name":"mean_squared_error","average":"outputs"}']) {
      expect(softmaxLosses, loss).toContain(loss);
    }
    expect([...softmaxLosses].some((l) => l.includes('"expr"')), 'softmax with a custom loss').toBe(true);
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it.each(files)('%s: loss and correct backprop agree with torch to 1e-10', async (file) => {
    const { g, at, torchGrads } = await loadCase(file);
    const { model, params } = at;
    expect(model.layers.map((l) => typeOf(l))).toEqual(g.spec.layers.map((l) => l.type ?? 'dense'));
    const fwd = forward(model, params, at.data.X, at.data.Y);
    expect(Math.abs(fwd.cost - g.loss) / Math.abs(g.loss)).toBeLessThanOrEqual(1e-10);

    const ours = namedTensors(model, backward(model, params, fwd, at.data.Y, correctPlan(model)));
    const theirs = namedTensors(model, torchGrads);
    expect(ours.map((t) => `d${t.label}`).sort()).toEqual(Object.keys(g.grads).sort());
    ours.forEach((t, i) => {
      const expected = theirs[i].value.data;
      expect(t.value.shape, t.label).toEqual(theirs[i].value.shape);
      // Not all zeros, nor rounding noise (as a bias before a batch norm would be: its gradient is 0).
      expect(Math.max(...expected.map(Math.abs)), `${t.label} is a real gradient`).toBeGreaterThan(1e-8);
      expect(relativeError(t.value.data, expected), `${t.label} relative error`).toBeLessThanOrEqual(1e-10);
      expect(worstElement(t.value.data, expected), `${t.label} worst element`).toBeLessThanOrEqual(1e-10);
    });
  });

  it.each(files)('%s: our finite differences agree with torch to 1e-8', async (file) => {
    const { at, torchGrads } = await loadCase(file);
    const { model, params } = at;
    const report = check(
      { model, params, X: at.data.X, Y: at.data.Y, gradients: { source: 'grads', grads: torchGrads } },
      { epsilon: 1e-6, tolerance: 1e-8, mode: 'full', seed: 1, samples: 10 },
    );
    expect(report.checks.map((c) => c.param)).toEqual(namedTensors(model, params).map((t) => t.label));
    for (const c of report.checks) {
      expect(c.checked, c.param).toBe(size(c.shape));
      expect(c.kinks, `${c.param} kinks`).toBe(0);
      expect(c.relativeError, `${c.param} relative error`).toBeLessThanOrEqual(1e-8);
    }
    expect(report.ok).toBe(true);
  });
});
