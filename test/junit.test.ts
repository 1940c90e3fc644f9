// The JUnit renderer on hand-made reports: one testcase per tensor, failures carrying the numbers
// and the findings about that tensor/layer/network, everything escaped, nothing time-dependent.
import { describe, expect, it } from 'vitest';
import type { Finding, Report, TensorCheck } from '../src/core/report.js';
import { attr, renderJunit, text } from '../src/render/junit.js';

function tensor(layer: number, param: string, status: TensorCheck['status'], relativeError: number): TensorCheck {
  return {
    layer, param, shape: [2, 1], relativeError, maxElementError: relativeError,
    worst: { index: [1, 0], analytic: 0.5, numeric: -0.25 }, analyticNorm: 0.5, numericNorm: 0.25,
    checked: 2, kinks: 0, status,
  };
}

const findings: Finding[] = [
  { code: 'wrong-activation-derivative', severity: 'error', layer: 2, message: 'layer 2 uses 1 - z^2 where a <sigmoid> needs a*(1-a) & "more"', fix: 'write dZ = dA * A * (1 - A)' },
  { code: 'sign-of-output-gradient', severity: 'error', message: 'dAL has the wrong sign\ninside the bracket', fix: '' },
  { code: 'tensor-note', severity: 'warning', layer: 1, param: 'b1', message: 'b1 is tiny\u0001', fix: 'none' },
];

const report: Report = {
  ok: false,
  loss: 0.6931,
  source: 'exec',
  checks: [tensor(1, 'W1', 'pass', 1e-12), tensor(1, 'b1', 'warn', 2e-8), tensor(2, 'W2', 'fail', 0.98)],
  findings,
  health: { layers: [] },
  settings: { epsilon: 1e-6, tolerance: 1e-6, mode: 'full', seed: 1 },
};

describe('renderJunit', () => {
  const xml = renderJunit(report);

  it('writes one suite with one testcase per tensor, counts and settings', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="backprop-check" tests="3" failures="1" errors="0">\n')).toBe(true);
    expect(xml).toContain('  <testsuite name="backprop-check" tests="3" failures="1" errors="0" skipped="0">');
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('<testcase classname="layer 1" name="W1"></testcase>');
    expect(xml).toContain('<property name="source" value="exec"/>');
    expect(xml).toContain('<property name="tolerance" value="0.000001"/>');
    expect(xml).not.toMatch(/timestamp|time=|hostname/);
  });

  it('gives a failing tensor its numbers and the findings about it, its layer and the whole network, escaped', () => {
    const failure = /<testcase classname="layer 2" name="W2">\n {6}<failure message="([^"]*)" type="gradient-mismatch">([^<]*)<\/failure>\n {4}<\/testcase>/.exec(xml);
    expect(failure).not.toBeNull();
    expect(failure![1]).toBe(
      'W2: relative error 0.98 (tolerance 1.00e-6); worst element [1,0]: analytic 0.5 vs numeric -0.25. ' +
      'wrong-activation-derivative: layer 2 uses 1 - z^2 where a &lt;sigmoid&gt; needs a*(1-a) &amp; &quot;more&quot; ' +
      'sign-of-output-gradient: dAL has the wrong sign&#10;inside the bracket',
    );
    expect(failure![2]).toBe([
      'W2 (layer 2, shape 2×1): the gradient under test disagrees with finite differences.',
      'relative error 0.98 ≥ tolerance 0.000001; largest element-wise error 0.98',
      'worst element [1,0]: analytic 0.5, numeric -0.25',
      '‖analytic‖ 0.5, ‖numeric‖ 0.25; 2 element(s) checked',
      'error wrong-activation-derivative (layer 2): layer 2 uses 1 - z^2 where a &lt;sigmoid&gt; needs a*(1-a) &amp; "more" Fix: write dZ = dA * A * (1 - A)',
      'error sign-of-output-gradient: dAL has the wrong sign\ninside the bracket',
    ].join('\n'));
    // The layer-2 finding is not attached to layer 1's tensors.
    expect(xml.split('name="W2"')[0]).not.toContain('wrong-activation-derivative (layer 2)');
  });

  it('notes a warning and the tensor’s own finding (only) on a passing testcase, control characters replaced', () => {
    expect(xml).toContain(
      '<testcase classname="layer 1" name="b1">\n      <system-out>relative error 2.00e-8 (tolerance 1.00e-6); worst element [1,0]: analytic 0.5 vs numeric -0.25: passes, but within 100× of the tolerance\n' +
      'warning tensor-note (layer 1 b1): b1 is tiny\uFFFD Fix: none</system-out>\n    </testcase>',
    );
  });

  it('puts the verdict and every finding in the suite’s system-out', () => {
    const out = /<system-out>([^<]*)<\/system-out>\n {2}<\/testsuite>/.exec(xml)![1];
    expect(out.split('\n')[0]).toBe('✗ 1 of 3 tensors fail (W2): the gradients from your --exec program disagree with finite differences (cost 0.693; ε=1.00e-6, tolerance 1.00e-6, full mode).');
    expect(out.match(/^(error|warning) /gm)).toHaveLength(3);
  });

  it('is well-formed: no raw < or & outside tags and entities, and every tag closed', () => {
    expectWellFormed(xml);
    expectWellFormed(renderJunit({ ...report, partial: true, ok: false }));
  });

  it('adds a failing testcase when the run was interrupted', () => {
    const partial = renderJunit({ ...report, checks: report.checks.slice(0, 1), partial: true });
    expect(partial).toContain('tests="2" failures="1"');
    expect(partial).toContain('<testcase classname="backprop-check" name="every tensor checked">\n      <failure message="interrupted after 1 tensor(s)" type="interrupted"/>');
  });

  it('is the same for the same report (deterministic)', () => {
    expect(renderJunit(structuredClone(report))).toBe(xml);
  });
});

describe('escaping', () => {
  it('escapes text and attributes, and drops what XML 1.0 cannot hold', () => {
    expect(text('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(attr(`"it's"\n\tx`)).toBe('&quot;it&apos;s&quot;&#10;&#9;x');
    expect(text('bell\u0007 nul\u0000 lone\uD800 pair\uD83D\uDE00')).toBe('bell\uFFFD nul\uFFFD lone\uFFFD pair\uD83D\uDE00');
  });
});

/** A small well-formedness check for the subset of XML the renderer writes. */
function expectWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml [^?]*\?>\n/, '');
  const stack: string[] = [];
  const token = /<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    const [, close, name, attrs, selfClosing, chars] = m;
    const content = chars ?? attrs ?? '';
    expect(content.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, '')).not.toMatch(/[&<]/);
    if (chars !== undefined) continue;
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
}
