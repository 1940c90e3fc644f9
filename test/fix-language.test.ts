// The fixes speak the user's language: every catalogue mistake of the detection matrix, injected as
// the matrix injects it (tools/matrix.ts), gets a root-cause fix that is NumPy for code (no ^, no
// ?:, no ·/ᵀ maths; np.dot / np.sum / ** where the line has them), written in the user's layout
// (samples in columns by default, rows with net.json's "layout": "rows"), and mathjs that says so
// for a formula in net.json's backward block.
import { describe, expect, it } from 'vitest';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { categoryOf, diagnoser } from '../src/core/diagnose/index.js';
import { numpyOf } from '../src/core/diagnose/numpy.js';
import { initialise } from '../src/core/init.js';
import { withInputs, parseSpec, declaredPlan } from '../src/io/spec.js';
import type { Finding } from '../src/core/report.js';
import { ARCHITECTURES, dataFor, ENTRIES, userBackprop } from '../tools/matrix.js';

type Layout = 'columns' | 'rows';

/** Every root-cause fix of every matrix injection, by channel (grads: code; declared: net.json). */
function fixes(layout: Layout): { cell: string; channel: 'grads' | 'declared'; finding: Finding }[] {
  const out: { cell: string; channel: 'grads' | 'declared'; finding: Finding }[] = [];
  ARCHITECTURES.forEach((arch, i) => {
    const inputs = 3 + (i % 2);
    const build = (backward?: Record<string, unknown>) => {
      const loaded = parseSpec({ input: inputs, ...arch.spec, ...(backward ? { backward } : {}) }, 'matrix');
      return { model: withInputs(loaded.model, inputs), declared: loaded.declared };
    };
    const { model } = build();
    const params = initialise(model);
    const { X, Y } = dataFor(model, arch.samples, 100 + i);
    for (const entry of ENTRIES) {
      const at = arch.sites[entry.id];
      if (at === undefined) continue;
      const setup = { arch, model, at };
      const roots = (findings: Finding[]) => findings.filter((f) => categoryOf(f.code) === 'root');
      const grads = userBackprop(model, params, X, Y, entry.grads(setup));
      const report = check({ model, params, X, Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, seed: 1 }, diagnoser(null, layout));
      for (const finding of roots(report.findings)) out.push({ cell: `${entry.id}@${arch.name}`, channel: 'grads', finding });
      const block = entry.declared?.(setup);
      if (!block) continue;
      const { model: m2, declared } = build(block);
      const viaSpec = check({ model: m2, params, X, Y, gradients: { source: 'declared', plan: declaredPlan(m2, declared!) } }, { ...DEFAULT_OPTIONS, seed: 1 }, diagnoser(declared, layout));
      for (const finding of roots(viaSpec.findings)) out.push({ cell: `${entry.id}@${arch.name}`, channel: 'declared', finding });
    }
  });
  return out;
}

const columns = fixes('columns');
const rows = fixes('rows');
const code = (list: typeof columns, id?: string) => list.filter((x) => x.channel === 'grads' && (id === undefined || x.cell.startsWith(`${id}@`)));

describe('the fixes of the catalogue', () => {
  it('cover every entry of the matrix', () => {
    expect(new Set(columns.map((x) => x.cell.split('@')[0]))).toEqual(new Set(ENTRIES.map((e) => e.id)));
    expect(columns.filter((x) => x.channel === 'declared').length).toBeGreaterThan(10);
  });

  it('for code are NumPy: no ^, no ?:, no maths notation', () => {
    for (const { cell, finding } of [...code(columns), ...code(rows)]) {
      expect(finding.fix, cell).not.toMatch(/\^|\?|·|ᵀ|⊙/);
      expect(finding.fix, cell).not.toMatch(/backward block/);
    }
  });

  it('write the dense lines in the columns layout by default (deeplearning.ai)', () => {
    for (const { cell, finding } of code(columns, 'db-all')) expect(finding.fix, cell).toMatch(/^db\d = np\.sum\(dZ\d, axis=1, keepdims=True\)( \/ m)?\.$/);
    for (const { cell, finding } of code(columns, 'transposed')) expect(finding.fix, cell).toMatch(/^dW\d = np\.dot\(dZ\d, (X|A\d)\.T\)( \/ m)? \(units × inputs, as W is\)\.$/);
    for (const { cell, finding } of code(columns, 'skip-WT')) expect(finding.fix, cell).toMatch(/^dA(\d) = np\.dot\(W\d\.T, dZ\d\)\.$/);
    for (const { cell, finding } of code(columns, 'l2-missing')) expect(finding.fix, cell).toMatch(/dW\d \+= \((lambd \/ m)\) \* W\d|dW\d \+= (lambd|2 \* c) \* W\d/);
    const tanh = code(columns, 'wrong-variable').filter((x) => /tanh/.test(x.finding.message));
    expect(tanh.length).toBeGreaterThan(0);
    for (const { cell, finding } of tanh) expect(finding.fix, cell).toMatch(/dZ\d = dA\d \* \(1 - A\d \*\* 2\)/);
  });

  it('write them in the rows layout for a rows spec (PyTorch: X (m, n), W (in, out))', () => {
    for (const { cell, finding } of code(rows, 'db-all')) expect(finding.fix, cell).toMatch(/^db\d = np\.sum\(dZ\d, axis=0\)( \/ m)?\.$/);
    for (const { cell, finding } of code(rows, 'transposed')) expect(finding.fix, cell).toMatch(/^dW\d = (X|A\d)\.T @ dZ\d( \/ m)? \(inputs × units, as W is stored\)\.$/);
    for (const { cell, finding } of code(rows, 'skip-WT')) expect(finding.fix, cell).toMatch(/^dA\d = dZ\d @ W\d\.T\.$/);
    for (const { cell, finding } of code(rows, 'input-own')) expect(finding.fix, cell).toMatch(/^dW\d = (X|A\d)\.T @ dZ\d/);
    for (const { cell, finding } of code(rows)) expect(finding.fix, cell).not.toMatch(/axis=1, keepdims|np\.dot\(dZ/);
  });

  it('for net.json are mathjs and say so', () => {
    const declared = columns.filter((x) => x.channel === 'declared');
    for (const { cell, finding } of declared) expect(finding.fix, cell).toMatch(/^In net\.json's backward block \(mathjs syntax\): /);
    expect(declared.some((x) => /\^/.test(x.finding.fix))).toBe(true);
  });
});

describe('numpyOf', () => {
  // Known answers: how the activation records' derivative texts read in NumPy.
  it.each([
    ['1 - a^2', '1 - A1 ** 2'],
    ['a * (1 - a)', 'A1 * (1 - A1)'],
    ['z > 0 ? 1 : 0', '(Z1 > 0).astype(float)'],
    ['z > 0 ? 1 : 0.01', 'np.where(Z1 > 0, 1, 0.01)'],
    ['1 - tanh(z)^2', '1 - np.tanh(Z1) ** 2'],
    ['sigmoid(z)', '1 / (1 + np.exp(-Z1))'],
    ['-(y / a - (1 - y) / (1 - a))', '-(Y / A1 - (1 - Y) / (1 - A1))'],
    ['-a^2', '-A1 ** 2'],
  ])('%s → %s', (text, numpy) => {
    expect(numpyOf(text, { z: 'Z1', a: 'A1', y: 'Y' })).toBe(numpy);
  });
});
