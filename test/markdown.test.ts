// The Markdown renderer (for $GITHUB_STEP_SUMMARY) on hand-made reports: exact output, escaping.
import { describe, expect, it } from 'vitest';
import type { Report, TensorCheck } from '../src/core/report.js';
import { escape, renderMarkdown } from '../src/render/markdown.js';

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
      '| layer | tensor | shape | ‖analytic‖ | ‖numeric‖ | rel. error | worst element (analytic vs numeric) | status |',
      '| ---: | --- | --- | ---: | ---: | ---: | --- | --- |',
      '| 1 | W1 | 4×2 | 1.24e-5 | 2.03e-6 | 3.50e-13 | \\[3,1\\] -9.78e-6 vs 1.27e-6 (2 at a kink) | ✅ pass |',
      '| 2 | W2 | 4×2 | 1.24e-5 | 2.03e-6 | 0.972 | \\[3,1\\] -9.78e-6 vs 1.27e-6 | ❌ FAIL |',
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
    expect(renderMarkdown({ ...failing, partial: true }).split('\n')[0]).toBe('### backprop-check: interrupted after 2 tensor(s)');
  });
});

describe('escape', () => {
  it('backslash-escapes what means something inside a line, and keeps a cell on one line', () => {
    expect(escape('a|b *c* _d_ `e` [f](g) <h> ~i~ $j$ &k; \\l')).toBe('a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) \\<h\\> \\~i\\~ \\$j\\$ \\&k; \\\\l');
    expect(escape('two\nlines\r\nhere')).toBe('two lines here');
  });
});
