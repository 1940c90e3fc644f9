// The terminal table (colour off) on hand-made reports: the rules, the column heads per mode, an
// interrupted check's unfinished tensors, the tolerance in the verdict, findings wrapped at the
// terminal's width; and the wording of two means that agree to 4 digits.
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { meansText } from '../src/core/diagnose/mutations.js';
import type { Report, TensorCheck } from '../src/core/report.js';
import { DEFAULT_WIDTH, renderTable, wrap } from '../src/render/table.js';

function tensor(layer: number, param: string, status: TensorCheck['status'], relativeError: number): TensorCheck {
  return {
    layer, param, shape: [4, 2], relativeError, maxElementError: relativeError,
    worst: { index: [3, 1], analytic: -9.78e-6, numeric: 1.27e-6 }, analyticNorm: 1.24e-5, numericNorm: 2.03e-6,
    checked: 8, kinks: 0, status,
  };
}

const base: Report = {
  ok: true, loss: 0.69314718, source: 'grads',
  checks: [tensor(1, 'W1', 'pass', 1e-12), tensor(1, 'b1', 'pass', 2e-12), tensor(2, 'W2', 'pass', 3e-12)],
  findings: [], health: { layers: [] },
  settings: { epsilon: 1e-6, tolerance: 1e-6, mode: 'full', seed: 1 },
};

const long = 'The gradient under test is off by a factor that grows with the depth of the layer, which points at a reduction applied once per layer instead of once for the whole cost function.';

describe('renderTable', () => {
  it('draws one rule under the header and none between the rows', () => {
    const lines = renderTable(base, false).split('\n');
    expect(lines.filter((l) => l.startsWith('├'))).toHaveLength(1);
    expect(lines[2].startsWith('├')).toBe(true);
    expect(lines.slice(3, 6).map((l) => l.split('│')[2].trim())).toEqual(['W1', 'b1', 'W2']);
    expect(lines[6].startsWith('└')).toBe(true);
  });

  it('heads the columns for what each mode compares', () => {
    const head = (mode: Report['settings']['mode']) => renderTable({ ...base, settings: { ...base.settings, mode } }, false).split('\n')[1].split('│').map((s) => s.trim()).filter(Boolean);
    expect(head('full').slice(3, 7)).toEqual(['‖analytic‖', '‖numeric‖', 'rel. error', 'worst element (analytic vs numeric)']);
    expect(head('sample').slice(3, 7)).toEqual(['‖analytic‖ of sample', '‖numeric‖ of sample', 'rel. error', 'worst sampled element (analytic vs numeric)']);
    expect(head('directional').slice(3, 7)).toEqual(['‖analytic·v‖ over directions', '‖numeric along v‖', 'rel. error', 'worst direction (analytic·v vs numeric)']);
  });

  it('says under the table what a row is over in sample and directional mode', () => {
    const after = (settings: Partial<Report['settings']>) => renderTable({ ...base, settings: { ...base.settings, ...settings } }, false).split('\n')[7];
    expect(after({ mode: 'directional', samples: 10 })).toBe('directional mode: each tensor is compared along 10 random unit directions v (the numbers are over the projections g·v; [i] is direction i, from 0).');
    expect(after({ mode: 'sample', samples: 1 })).toBe('sample mode: each tensor is compared on 1 seeded element (the numbers are over those only).');
    expect(after({ mode: 'full' })).toBe('✓ all 3 tensors pass: the gradients in your --grads file match finite differences (cost 0.693; ε=1.00e-6, tolerance 1.00e-6, full mode).');
  });

  it('shows an interrupted check’s unfinished tensors as partial or not checked, with counts, never as pass', () => {
    const out = renderTable({ ...base, ok: false, partial: true, checks: [
      tensor(1, 'W1', 'pass', 1e-12),
      { ...tensor(1, 'b1', 'pass', 1e-12), checked: 3, planned: 4000 },
      { ...tensor(2, 'W2', 'pass', 0), checked: 0, worst: null, analyticNorm: 0, numericNorm: 0, planned: 12 },
    ] }, false);
    const status = (t: string) => out.split('\n').find((l) => l.split('│')[2]?.trim() === t)!.split('│')[8].trim();
    expect([status('W1'), status('b1'), status('W2')]).toEqual(['pass', 'partial: 3 of 4,000 elements', 'not checked (0 of 12 elements)']);
    expect(out).toContain('Interrupted: 1 of 3 tensors checked in full, b1 partly (3 of 4,000 elements), 1 not checked (W2); none fails so far (cost 0.693; ε=1.00e-6, tolerance 1.00e-6, full mode).');
  });

  it('counts directions in directional mode, and keeps a failure found before the interrupt', () => {
    const out = renderTable({ ...base, ok: false, partial: true, settings: { ...base.settings, mode: 'directional', samples: 10 }, checks: [
      { ...tensor(1, 'W1', 'fail', 0.5), checked: 3, kinks: 1, planned: 10 },
      { ...tensor(1, 'b1', 'pass', 0), checked: 0, worst: null, planned: 10 },
    ] }, false);
    expect(out).toContain('FAIL on 4 of 10 directions');
    expect(out).toContain('Interrupted: 0 of 2 tensors checked in full, W1 partly (4 of 10 directions), 1 not checked (b1); 1 fails so far (W1)');
  });

  it('states the step and the resolution each tensor was judged with', () => {
    const some = renderTable({ ...base, checks: [{ ...tensor(1, 'W1', 'pass', 1e-6), precision: 'float32', epsilon: 1e-10 }, { ...tensor(1, 'b1', 'pass', 1e-6), precision: 'float32' }, tensor(2, 'W2', 'pass', 1e-9)] }, false);
    expect(some).toContain('(cost 0.693; ε=1.00e-6 (1.00e-10 for W1), tolerance 1.00e-6 (W1, b1 against float32 resolution: float32 gradients), full mode).');
    expect(renderTable(base, false)).toContain('(cost 0.693; ε=1.00e-6, tolerance 1.00e-6, full mode).');
  });

  it('wraps finding lines at the width it is given (100 columns by default), indenting the rest', () => {
    const report: Report = { ...base, findings: [{ code: 'wrong-reduction', severity: 'error', layer: 2, message: long, fix: long }] };
    const findingLines = (out: string) => out.split('\n').slice(out.split('\n').indexOf('') + 1).filter(Boolean);
    const at60 = findingLines(renderTable(report, false, 60));
    for (const l of at60) expect(l.length).toBeLessThanOrEqual(60);
    expect(at60[0]).toBe('error wrong-reduction (layer 2): The gradient under test is');
    expect(at60[1].startsWith('  off by')).toBe(true);
    const fix = at60.findIndex((l) => l.startsWith('  fix: '));
    expect(at60.slice(fix + 1).every((l) => l.startsWith('       '))).toBe(true);
    expect(at60.join(' ').replace(/\s+/g, ' ')).toBe(`error wrong-reduction (layer 2): ${long} fix: ${long}`);
    const byDefault = findingLines(renderTable(report, false));
    expect(DEFAULT_WIDTH).toBe(100);
    expect(Math.max(...byDefault.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(byDefault.length).toBeGreaterThan(2);
  });

  it('wraps without counting colour codes, and leaves a word longer than the line whole', () => {
    expect(wrap('\x1b[31merror\x1b[39m aaaa bbbb', 10, '  ')).toEqual(['\x1b[31merror\x1b[39m aaaa', '  bbbb']);
    expect(wrap('see /a/very/long/path/that/cannot/break here', 12, '  ')).toEqual(['see', '  /a/very/long/path/that/cannot/break', '  here']);
    expect(wrap('short', 80, '  ')).toEqual(['short']);
  });
});

describe('the means of a wrong activation derivative', () => {
  it('shows the digits that tell two close means apart, and their difference', () => {
    expect(meansText(0.9999, 0.999912)).toBe('0.99990 where the right one averages 0.99991: 1.20e-5 lower');
    expect(meansText(0.5, 0.25)).toBe('0.5 where the right one averages 0.25: 0.25 higher');
    expect(meansText(1.00001e-7, 1e-7)).toBe('1.00001e-7 where the right one averages 1.00000e-7: 1.00e-12 higher');
    expect(meansText(0.25, 0.25)).toBe('0.25, as the right one does');
    expect(meansText(0.99999989992416, 0.99999989992420)).toBe('1, 4.00e-14 lower than the right one');
  });
});

describe('the command line wraps findings at the terminal’s width', () => {
  async function seedOutput(stream: { isTTY?: boolean; columns?: number }): Promise<string[]> {
    let text = '';
    const out = { ...stream, write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WriteStream;
    const err = { write: () => true } as unknown as NodeJS.WriteStream;
    expect(await main(['fixtures/seed/net.json', 'fixtures/seed/data.csv', '--no-color'], out, err)).toBe(1);
    const lines = text.split('\n');
    return lines.slice(lines.findIndex((l) => l.startsWith('✗')) + 2).filter(Boolean);
  }

  it('at process.stdout.columns on a terminal', async () => {
    const findings = await seedOutput({ isTTY: true, columns: 60 });
    expect(findings.length).toBeGreaterThan(10);
    for (const l of findings) expect(l.length).toBeLessThanOrEqual(60);
  });

  it('at 100 columns when stdout is not a terminal', async () => {
    const findings = await seedOutput({});
    for (const l of findings) expect(l.length).toBeLessThanOrEqual(100);
    expect(Math.max(...findings.map((l) => l.length))).toBeGreaterThan(90);
  });
});
