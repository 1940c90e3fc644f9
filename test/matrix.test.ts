// The detection matrix (tools/matrix.ts, printed by `npm run matrix`): every catalogued
// backprop mistake, injected into every architecture where it can be made, through the gradients
// a user's code computes and (formula mistakes) through a declared backward block, makes the check
// fail and is named with the right code at the right layer, as the only root cause; and so is every
// layer kind's own mistake (conv2d, pooling, flatten, batch/layer norm, dropout, softmax's diagonal),
// injected into networks of those kinds.
import { describe, expect, it } from 'vitest';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { categoryOf, diagnoser } from '../src/core/diagnose/index.js';
import {
  ARCHITECTURES, dataFor, detectionMatrix, ENTRIES, KIND_ARCHITECTURES, KIND_MISTAKES, kindMatrix, kindNet, pairMatrix, PAIR_ACTIVATIONS,
  renderKindMatrix, renderMatrix, userBackprop,
} from '../tools/matrix.js';
import { explanationMatrix, renderExplanations } from '../tools/explanations/index.js';
import { network } from './helpers/network.js';

describe('the detection matrix', () => {
  it('the user-style backprop it injects mistakes into is right when no mistake is switched on', () => {
    ARCHITECTURES.forEach((arch, i) => {
      const { model, params, X, Y } = network({ input: 3, ...arch.spec }, { inputs: 3, file: 'matrix', data: (model) => dataFor(model, arch.samples, 300 + i) });
      const grads = userBackprop(model, params, X, Y, null);
      const report = check({ model, params, X, Y, gradients: { source: 'grads', grads } }, DEFAULT_OPTIONS, diagnoser());
      expect(report.ok, arch.name).toBe(true);
      expect(report.findings.filter((f) => categoryOf(f.code) === 'root'), arch.name).toEqual([]);
    });
  });

  it('covers every entry of the catalogue on at least four architectures, through both channels where they apply', () => {
    const rows = detectionMatrix();
    for (const entry of ENTRIES) {
      const viaGrads = rows.find((r) => r.entry.id === entry.id && r.channel === 'grads')!;
      expect(viaGrads.cells.filter((c) => c !== null).length, entry.id).toBeGreaterThanOrEqual(4);
    }
    const declared = rows.filter((r) => r.channel === 'declared').map((r) => r.entry.id);
    expect(declared).toEqual(expect.arrayContaining(['swap-hidden', 'swap-output', 'wrong-variable', 'output-sign', 'output-term-sign', 'output-missing-term', 'missing-1/m', 'extra-1/m', 'l2-missing']));

    const pairs = pairMatrix();
    expect(pairs.flatMap((p) => p.cells.filter((c) => c.grads !== null))).toHaveLength(PAIR_ACTIVATIONS.length * (PAIR_ACTIVATIONS.length - 1));

    const { text, detected, total } = renderMatrix(rows, pairs);
    const missed = rows.flatMap((r) => r.cells.flatMap((c, i) => (c && !c.detected ? [`${r.entry.id} (${r.channel}) in ${ARCHITECTURES[i].name}: ${c.note}`] : [])));
    for (const p of pairs) for (const c of p.cells) {
      if (c.grads && !c.grads.detected) missed.push(`swap ${p.g} → ${c.h} (grads): ${c.grads.note}`);
      if (c.declared && !c.declared.detected) missed.push(`swap ${p.g} → ${c.h} (declared): ${c.declared.note}`);
    }
    expect(missed).toEqual([]);
    expect(detected).toBe(total);
    expect(total).toBeGreaterThan(200);
    expect(text).toContain(`${total} of ${total} detected (100.0%)`);
  });

  it('the layer-kind networks pass with the user-style backprop when no mistake is switched on', () => {
    KIND_ARCHITECTURES.forEach((arch, i) => {
      const { model, params, X, Y } = kindNet(arch, i);
      const grads = userBackprop(model, params, X, Y, null);
      const report = check({ model, params, X, Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, seed: 1 }, diagnoser());
      expect(report.ok, arch.name).toBe(true);
      expect(report.findings.filter((f) => categoryOf(f.code) === 'root'), arch.name).toEqual([]);
    });
  });

  it('names every layer kind mistake on at least three networks with that kind, at its entry', () => {
    const rows = kindMatrix();
    expect(rows.map((r) => r.id)).toEqual(KIND_MISTAKES);
    for (const r of rows) expect(r.cells.filter((c) => c !== null).length, r.id).toBeGreaterThanOrEqual(3);
    const missed = rows.flatMap((r) => r.cells.flatMap((c, i) => (c && !c.detected ? [`${r.id} in ${KIND_ARCHITECTURES[i].name}: ${c.note}`] : [])));
    expect(missed).toEqual([]);
    const { text, detected, total } = renderKindMatrix(rows);
    expect(detected).toBe(total);
    expect(total).toBeGreaterThanOrEqual(3 * KIND_MISTAKES.length);
    expect(text).toContain(`${total} of ${total} layer-kind cells detected (100.0%)`);
  });
});

describe('the explanations table', () => {
  it('names every explanation (recovered formulas, decomposed errors, loss conventions, data mismatch) on at least four architectures or programs, each the only root cause', async () => {
    const rows = await explanationMatrix();
    const codes = new Set(rows.map((r) => r.entry.code));
    for (const code of ['wrong-local-derivative', 'wrong-backprop-weight', 'bias-penalty', 'l1-gradient', 'constant-offset', 'broadcast-gradient', 'gradient-of-other-tensor', 'wrong-l2-gradient', 'loss-convention', 'data-mismatch'] as const) {
      expect(codes.has(code), code).toBe(true);
    }
    for (const r of rows) expect(Object.values(r.cells).filter((c) => c !== null).length, r.entry.id).toBeGreaterThanOrEqual(4);
    const { text, detected, total } = renderExplanations(rows);
    const missed = rows.flatMap((r) => Object.entries(r.cells).flatMap(([column, c]) => (c && !c.detected ? [`${r.entry.id} in ${column}: ${c.note}`] : [])));
    expect(missed).toEqual([]);
    expect(detected).toBe(total);
    expect(text).toContain(`${total} of ${total} explanation cells detected (100.0%)`);
  }, 300_000);
});
