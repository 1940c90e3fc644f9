// Gradients against an independent implementation: fixtures/golden/*.json are written by
// scripts/golden.py with PyTorch float64 autograd (regenerate: /usr/bin/python3 scripts/golden.py).
// For every case, our forward pass and correct backprop must agree with torch to 1e-10, and our
// finite differences, checked against torch's gradients through check(), to 1e-8.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check } from '../src/core/check/check.js';
import { forward } from '../src/core/forward.js';
import { namedTensors } from '../src/core/model.js';
import { relativeError, worstElement } from './helpers/golden-compare.js';
import { savedNetwork, type SavedJson } from './helpers/network.js';

const dir = new URL('../fixtures/golden/', import.meta.url).pathname;
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];

interface Golden extends SavedJson {
  name: string;
  loss: number;
}

const loaded = new Map<string, ReturnType<typeof loadUncached>>();
/** Both tests of a file share one parse (custom formulas cost mathjs time). */
function load(file: string) {
  if (!loaded.has(file)) loaded.set(file, loadUncached(file));
  return loaded.get(file)!;
}

function loadUncached(file: string) {
  const { json: g, X, Y, model, params, grads: torchGrads } = savedNetwork<Golden>(dir, file);
  return { g, X, Y, model, params, torchGrads };
}

describe('golden gradients from PyTorch (fixtures/golden)', () => {
  it('the golden folder holds the cases', () => {
    // Without this a missing folder would silently run no comparisons at all.
    expect(existsSync(dir)).toBe(true);
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it.each(files)('%s: loss and correct backprop agree with torch to 1e-10', (file) => {
    const { g, X, Y, model, params, torchGrads } = load(file);
    const fwd = forward(model, params, X, Y);
    expect(Math.abs(fwd.cost - g.loss) / Math.abs(g.loss)).toBeLessThanOrEqual(1e-10);

    const ours = namedTensors(model, backward(model, params, fwd, Y, correctPlan(model)));
    const theirs = namedTensors(model, torchGrads);
    expect(ours.map((t) => t.label)).toEqual(theirs.map((t) => t.label));
    expect(ours.length).toBe(Object.keys(g.grads).length);
    ours.forEach((t, i) => {
      const expected = theirs[i].value.data;
      expect(Math.max(...expected.map(Math.abs)), `${t.label} is not all zeros`).toBeGreaterThan(0);
      expect(relativeError(t.value.data, expected), `${t.label} relative error`).toBeLessThanOrEqual(1e-10);
      expect(worstElement(t.value.data, expected), `${t.label} worst element`).toBeLessThanOrEqual(1e-10);
    });
  });

  it.each(files)('%s: our finite differences agree with torch to 1e-8', (file) => {
    const { model, params, X, Y, torchGrads } = load(file);
    const report = check(
      { model, params, X, Y, gradients: { source: 'grads', grads: torchGrads } },
      { epsilon: 1e-6, tolerance: 1e-8, mode: 'full', seed: 1, samples: 10 },
    );
    expect(report.checks.map((c) => c.param)).toEqual(namedTensors(model, params).map((t) => t.label));
    for (const c of report.checks) {
      expect(c.checked, c.param).toBe(c.shape[0] * c.shape[1]);
      expect(c.kinks, `${c.param} kinks`).toBe(0);
      expect(c.relativeError, `${c.param} relative error`).toBeLessThanOrEqual(1e-8);
    }
    expect(report.ok).toBe(true);
  });
});
