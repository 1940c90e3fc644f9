// The Markdown renderer (for $GITHUB_STEP_SUMMARY) on hand-made reports: exact output, escaping;
// then on real reports with --taylor (the Taylor order column) and --sweep (the Step sweep section).
import { describe, expect, it } from 'vitest';
import type { Report, TensorCheck } from '../src/core/report.js';
import { escape, renderMarkdown } from '../src/render/markdown.js';
import { run } from '../src/run.js';

function tensor(layer: number, param: string, status: TensorCheck['status'], relativeError: number, kinks = 0): TensorCheck {
  return {
    layer, param, shape: [4, 2], relativeError, maxElementError: relativeError,
    worst: { index: [3, 1], analytic: -9.78e-6, numeric: 1.27e-6 }, analyticNorm: 1.24e-5, numericNorm: 2.03e-6,
    checked: 8, kinks, status,
  };
}

const failing: Report = {
  ok: false,
  loss: 0.69314718,
  source: 'grads',
  checks: [tensor(1, 'W1', 'pass', 3.5e-13, 2), tensor(2, 'W2', 'fail', 0.972)],
  findings: [
    { code: 'wrong-activation-derivative', severity: 'error', layer: 2, param: 'W2', message: 'dZ = dA * (1 - Z**2) uses the pre-activation | not a_2', fix: 'use dA * (1 - A**2) <tanh>' },
    { code: 'vanishing-gradients', severity: 'warning', message: 'gradients shrink 10× per layer', fix: '' },
  ],
  health: { layers: [] },
  settings: { epsilon: 1e-6, tolerance: 1e-6, mode: 'full', seed: 1 },
};

describe('renderMarkdown', () => {
  it('writes a headline, the table, the verdict and the findings', () => {
    expect(renderMarkdown(failing)).toBe([
      '### backprop-check: ❌ 1 of 2 tensors fail',
      '',
      '| layer | tensor | shape | ‖analytic‖ | ‖numeric‖ | rel. error | worst element (analytic vs numeric) | status | findings |',
      '| ---: | --- | --- | ---: | ---: | ---: | --- | --- | --- |',
      '| 1 | W1 | 4×2 | 1.24e-5 | 2.03e-6 | 3.50e-13 | \\[3,1\\] -9.78e-6 vs 1.27e-6 (2 at a kink) | ✅ pass |  |',
      '| 2 | W2 | 4×2 | 1.24e-5 | 2.03e-6 | 0.972 | \\[3,1\\] -9.78e-6 vs 1.27e-6 | ❌ FAIL | wrong-activation-derivative |',
      '',
      '✗ 1 of 2 tensors fail (W2): the gradients in your --grads file disagree with finite differences (cost 0.693; ε=1.00e-6, tolerance 1.00e-6, full mode).',
      '',
      '#### Findings',
      '',
      '- **error** `wrong-activation-derivative` (layer 2 W2): dZ = dA \\* (1 - Z\\*\\*2) uses the pre-activation \\| not a\\_2',
      '  - *fix:* use dA \\* (1 - A\\*\\*2) \\<tanh\\>',
      '- **warning** `vanishing-gradients`: gradients shrink 10× per layer',
      '',
    ].join('\n'));
  });

  it('says so when every tensor passes, with a warning marked and no findings section', () => {
    const md = renderMarkdown({ ...failing, ok: true, findings: [], checks: [tensor(1, 'W1', 'pass', 1e-12), tensor(1, 'b1', 'warn', 2e-8)] });
    expect(md.split('\n')[0]).toBe('### backprop-check: ✅ all 2 tensors pass');
    expect(md).toContain('| 1 | b1 | 4×2 | 1.24e-5 | 2.03e-6 | 2.00e-8 | \\[3,1\\] -9.78e-6 vs 1.27e-6 | ⚠️ warn |');
    expect(md).toContain('✓ all 2 tensors pass: the gradients in your --grads file match finite differences');
    expect(md).not.toContain('Findings');
  });

  it('says when the run was interrupted', () => {
    expect(renderMarkdown({ ...failing, partial: true }).split('\n')[0]).toBe('### backprop-check: ⏸️ interrupted: 2 of 2 tensors checked in full');
  });

  it('shows an interrupted check’s unfinished tensors as partial and not checked, with counts, never as pass', () => {
    const md = renderMarkdown({ ...failing, ok: false, partial: true, checks: [
      tensor(1, 'W1', 'pass', 1e-12),
      { ...tensor(1, 'b1', 'pass', 1e-12), checked: 3, planned: 4000 },
      { ...tensor(2, 'W2', 'pass', 0), checked: 0, worst: null, analyticNorm: 0, numericNorm: 0, planned: 12 },
    ] });
    expect(md.split('\n')[0]).toBe('### backprop-check: ⏸️ interrupted: 1 of 3 tensors checked in full');
    expect(md).toContain('| 1 | b1 | 4×2 | 1.24e-5 | 2.03e-6 | 1.00e-12 | \\[3,1\\] -9.78e-6 vs 1.27e-6 | ⏸️ partial: 3 of 4,000 elements |');
    expect(md).toContain('| 2 | W2 | 4×2 |  |  |  |  | ⏸️ not checked (0 of 12 elements) |');
    expect(md).toContain('Interrupted: 1 of 3 tensors checked in full, b1 partly (3 of 4,000 elements), 1 not checked (W2); none fails so far (cost 0.693;');
    expect(md.match(/✅ pass/g)).toHaveLength(1);
  });

  it('heads the columns for what directional and sample mode compare', () => {
    const head = (mode: Report['settings']['mode']) => renderMarkdown({ ...failing, settings: { ...failing.settings, mode } }).split('\n')[2];
    expect(head('directional')).toBe('| layer | tensor | shape | ‖analytic·v‖ over directions | ‖numeric along v‖ | rel. error | worst direction (analytic·v vs numeric) | status | findings |');
    expect(head('sample')).toBe('| layer | tensor | shape | ‖analytic‖ of sample | ‖numeric‖ of sample | rel. error | worst sampled element (analytic vs numeric) | status | findings |');
  });
});

describe('a finding about several tensors', () => {
  it('shows in the findings column of each tensor it names, and its head names them', () => {
    const md = renderMarkdown({ ...failing, checks: [tensor(1, 'W1', 'fail', 0.5), tensor(1, 'b1', 'fail', 0.4), tensor(2, 'W2', 'fail', 0.3), tensor(2, 'b2', 'pass', 1e-12)], findings: [
      { code: 'derivative-of-wrong-variable', severity: 'error', layer: 1, params: ['W1', 'b1', 'W2'], message: 'layers 1 and 2 multiply dA by 1 - z^2', fix: 'dZ1 = dA1 * (1 - A1 ** 2)' },
      { code: 'vanishing-gradients', severity: 'warning', message: 'gradients shrink 10× per layer', fix: '' },
    ] });
    const rows = md.split('\n').slice(4, 8);
    expect(rows.map((row) => row.split(' | ').at(-1))).toEqual(['derivative-of-wrong-variable |', 'derivative-of-wrong-variable |', 'derivative-of-wrong-variable |', ' |']);
    expect(md).toContain('- **error** `derivative-of-wrong-variable` (layer 1: W1, b1, W2): layers 1 and 2 multiply dA by 1 - z^2');
  });
});

const fixture = (name: string) => ({ net: `fixtures/${name}/net.json`, data: `fixtures/${name}/data.csv` });
const withoutTaylor = (r: Report): Report => ({ ...r, checks: r.checks.map(({ taylorOrder: _o, taylorStatus: _s, ...c }) => c) });

describe('with --taylor', () => {
  it('adds a Taylor order column, worded as in the terminal: the seed’s wrong formulas read 1.00 (WRONG)', async () => {
    const lines = renderMarkdown(await run({ ...fixture('seed'), taylor: true })).split('\n');
    expect(lines[2]).toBe('| layer | tensor | shape | ‖analytic‖ | ‖numeric‖ | rel. error | worst element (analytic vs numeric) | status | Taylor order | findings |');
    expect(lines[3]).toBe('| ---: | --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |');
    const rows = lines.slice(4, 12);
    expect(rows.map((row) => row.split(' | ')[1])).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3', 'W4', 'b4']);
    for (const row of rows) expect(row).toMatch(/ \| ❌ FAIL \| ❌ 1\.00 \(WRONG\) \| [a-z-]+(, [a-z-]+)* \|$/);
  });

  it('right gradients read 2.00 (right); the column is all that --taylor adds', async () => {
    const taylor = await run({ ...fixture('xor'), taylor: true });
    const md = renderMarkdown(taylor);
    expect(md.split('\n').slice(4, 8).map((row) => row.split(' | ').at(-1))).toEqual(Array(4).fill('✅ 2.00 (right) |'));
    // Without the Taylor fields it is the report of a run without --taylor, to the byte.
    expect(renderMarkdown(withoutTaylor(taylor))).toBe(renderMarkdown(await run(fixture('xor'))));
    expect(renderMarkdown(await run(fixture('xor')))).not.toContain('Taylor');
  });

  it('says unclear, with n/a when rounding left too few steps', () => {
    const md = renderMarkdown({ ...failing, checks: [
      { ...tensor(1, 'W1', 'pass', 1e-12), taylorOrder: 1.5, taylorStatus: 'inconclusive' },
      { ...tensor(1, 'b1', 'pass', 1e-12), taylorOrder: null, taylorStatus: 'inconclusive' },
      { ...tensor(2, 'W2', 'warn', 2e-8), taylorOrder: 1.004, taylorStatus: 'fail' },
    ] });
    expect(md).toContain('| 1 | W1 | 4×2 | 1.24e-5 | 2.03e-6 | 1.00e-12 | \\[3,1\\] -9.78e-6 vs 1.27e-6 | ✅ pass | ⚠️ 1.50 (unclear) |');
    expect(md).toContain('| ✅ pass | ⚠️ n/a (unclear) |');
    // Passing the ε check with a Taylor verdict of WRONG: both shown; the headline, like the exit status, follows the ε check.
    expect(md).toContain('| ⚠️ warn | ❌ 1.00 (WRONG) |');
    expect(md.split('\n')[0]).toBe('### backprop-check: ✅ all 3 tensors pass');
  });
});

describe('with --sweep', () => {
  it('adds a Step sweep section after the findings: the worst tensor’s error at each ε both ways, the chosen ε marked, and why', async () => {
    const swept = await run({ ...fixture('seed-fixed'), sweep: true });
    const md = renderMarkdown(swept);
    // Everything before it is the report of a check at the chosen ε, to the byte.
    const atChosen = renderMarkdown(await run({ ...fixture('seed-fixed'), epsilon: 1e-5 }));
    expect(md.startsWith(atChosen)).toBe(true);
    const section = md.slice(atChosen.length).split('\n');
    expect(section.slice(0, 10)).toEqual([
      '',
      '#### Step sweep',
      '',
      "The worst tensor's relative error against the step ε, on 8 seeded elements per tensor.",
      '',
      "| ε | backprop-check's differences | plain (J(θ+ε) − J(θ−ε)) / 2ε |",
      '| ---: | ---: | ---: |',
      // The truncation arm, ∝ ε² (the README's seed-fixed table).
      '| 1e-1 | 0.00666 | 0.00666 |',
      '| 1e-2 | 6.67e-5 | 0.0011 |',
      '| 1e-3 | 6.67e-7 | 0.00842 |',
    ]);
    expect(section[11]).toMatch(/^\| \*\*1e-5\*\* ◀ chosen \| \*\*[\d.e-]+\*\* \| \*\*0\.413\*\* \|$/);
    expect(section.slice(7, 19).filter((row) => row.includes('chosen'))).toHaveLength(1);
    expect(section[18]).toMatch(/^\| 1e-12 \| [\d.e-]+ \| 1 \|$/);
    expect(section.slice(19)).toEqual([
      '',
      `Chosen ε = 1.00e-5: ${swept.sweep!.reason}. The check above ran with it.`,
      '',
    ]);
    expect(swept.sweep!.reason).toMatch(/^the largest step whose worst relative error \([\d.e-]+ at best\) is within 10× of the smallest$/);
    expect(renderMarkdown(await run(fixture('seed-fixed')))).not.toContain('Step sweep');
  });

  it('escapes the reason and marks only the chosen row', () => {
    const md = renderMarkdown({ ...failing, sweep: {
      epsilons: [1e-1, 1e-2], tensors: [{ param: 'W1', elements: 3, accurate: [0.5, 0], plain: [0.5, Infinity] }],
      worst: { accurate: [0.5, 0], plain: [0.5, Infinity] }, chosen: 1e-2, reason: 'a <b> | *c*',
    } });
    expect(md.split('#### Step sweep\n')[1]).toBe([
      '',
      "The worst tensor's relative error against the step ε, on 3 seeded elements per tensor.",
      '',
      "| ε | backprop-check's differences | plain (J(θ+ε) − J(θ−ε)) / 2ε |",
      '| ---: | ---: | ---: |',
      '| 1e-1 | 0.5 | 0.5 |',
      '| **1e-2** ◀ chosen | **0** | **Inf** |',
      '',
      'Chosen ε = 0.01: a \\<b\\> \\| \\*c\\*. The check above ran with it.',
      '',
    ].join('\n'));
  });
});

describe('escape', () => {
  it('backslash-escapes what means something inside a line, and keeps a cell on one line', () => {
    expect(escape('a|b *c* _d_ `e` [f](g) <h> ~i~ $j$ &k; \\l')).toBe('a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) \\<h\\> \\~i\\~ \\$j\\$ \\&k; \\\\l');
    expect(escape('two\nlines\r\nhere')).toBe('two lines here');
  });
});
