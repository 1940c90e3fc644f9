// The JUnit renderer on hand-made reports: one testcase per tensor, failures carrying the numbers
// and the findings about that tensor/layer/network, everything escaped, nothing time-dependent.
// Then real reports with --taylor (each testcase's Taylor order; a <failure> only where the exit
// status says so) and --sweep (sweep.* properties, the sweep in the suite's system-out).
import { describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { forward } from '../src/core/forward.js';
import type { Finding, Report, TensorCheck } from '../src/core/report.js';
import { attr, renderJunit, text } from '../src/render/junit.js';
import { run } from '../src/run.js';
import { fixtureNetwork } from './helpers/network.js';

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
    expect(partial).toContain('<testcase classname="backprop-check" name="every tensor checked">\n      <failure message="interrupted: 1 of 1 tensor checked in full" type="interrupted"/>');
  });

  it('skips an interrupted check’s unfinished tensors, with counts, and keeps a failure found before the interrupt', () => {
    const xml = renderJunit({ ...report, partial: true, checks: [
      { ...tensor(1, 'W1', 'fail', 0.5), checked: 1, planned: 2 },
      { ...tensor(1, 'b1', 'pass', 1e-12), checked: 1, planned: 2 },
      { ...tensor(2, 'W2', 'pass', 0), checked: 0, planned: 2, worst: null },
    ] });
    expect(xml).toContain('<testsuite name="backprop-check" tests="4" failures="2" errors="0" skipped="2">');
    expect(xml).toContain('<testcase classname="layer 1" name="b1">\n      <skipped message="partial: 1 of 2 elements were checked before the interrupt (relative error 1.00e-12 (tolerance 1.00e-6); worst element [1,0]: analytic 0.5 vs numeric -0.25 on them)"/>');
    expect(xml).toContain('<testcase classname="layer 2" name="W2">\n      <skipped message="not checked (0 of 2 elements): the check was interrupted before it"/>');
    expect(xml).toMatch(/<testcase classname="layer 1" name="W1">\n {6}<failure message="W1: relative error 0.5 \(tolerance 1.00e-6\); worst element \[1,0\]: analytic 0.5 vs numeric -0.25 \(FAIL on 1 of 2 elements\)/);
    expect(xml).toContain('<failure message="interrupted: 0 of 3 tensors checked in full, W1 partly (1 of 2 elements), b1 partly (1 of 2 elements), 1 not checked (W2)" type="interrupted"/>');
    expectWellFormed(xml);
  });

  it('gives each testcase the tolerance it was judged at', () => {
    const xml = renderJunit({ ...report, checks: [tensor(1, 'W1', 'fail', 0.5)] });
    expect(xml).toContain('W1: relative error 0.5 (tolerance 1.00e-6)');
  });

  it('is the same for the same report (deterministic)', () => {
    expect(renderJunit(structuredClone(report))).toBe(xml);
  });
});

const fixture = (name: string) => ({ net: `fixtures/${name}/net.json`, data: `fixtures/${name}/data.csv` });
const withoutTaylor = (r: Report): Report => ({ ...r, checks: r.checks.map(({ taylorOrder: _o, taylorStatus: _s, ...c }) => c) });
/** The suite's own system-out (after the last testcase). */
const suiteOut = (xml: string) => /<system-out>([^<]*)<\/system-out>\n {2}<\/testsuite>/.exec(xml)![1];

/** mse2 with W1's gradient off by one part in 10⁴ (as in taylor.test.ts), checked at tolerance 1e-4:
 *  W1's relative error 5e-5 passes (a warning), while the Taylor test reads it as order 1, WRONG. */
function subtlyWrong(): Report {
  const { model, params, X, Y } = fixtureNetwork('mse2');
  const right = backward(model, params, forward(model, params, X, Y), Y, correctPlan(model));
  const grads = [{ ...right[0], W: { ...right[0].W, data: right[0].W.data.map((x) => x * 1.0001) } }, ...right.slice(1)];
  return check({ model, params, X, Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS, tolerance: 1e-4, taylor: true });
}

describe('a finding about several tensors', () => {
  const checks = [tensor(1, 'W1', 'fail', 0.5), tensor(1, 'b1', 'fail', 0.4), tensor(2, 'W2', 'fail', 0.3), tensor(2, 'b2', 'pass', 1e-12)];
  const group: Finding = { code: 'derivative-of-wrong-variable', severity: 'error', layer: 1, params: ['W1', 'b1', 'W2'], message: 'layers 1 and 2 multiply dA by 1 - z^2', fix: 'dZ1 = dA1 * (1 - A1 ** 2); dZ2 = dA2 * (1 - A2 ** 2).' };
  const xml = renderJunit({ ...report, checks, findings: [group] });
  const failureOf = (name: string) => new RegExp(`name="${name}">\\n {6}<failure message="([^"]*)"[^>]*>([^<]*)</failure>`).exec(xml);

  it('is in the <failure> of every tensor it names, at every layer, not only the first', () => {
    for (const name of ['W1', 'b1', 'W2']) {
      const failure = failureOf(name);
      expect(failure, name).not.toBeNull();
      expect(failure![1], name).toContain('derivative-of-wrong-variable: layers 1 and 2 multiply dA by 1 - z^2');
      expect(failure![2], name).toContain('error derivative-of-wrong-variable (layer 1: W1, b1, W2): layers 1 and 2 multiply dA by 1 - z^2 Fix: dZ1 = dA1 * (1 - A1 ** 2); dZ2 = dA2 * (1 - A2 ** 2).');
    }
  });

  it('is not attached to a tensor it does not name, even at one of its layers', () => {
    expect(xml).toContain('<testcase classname="layer 2" name="b2"></testcase>');
  });

  it('on a real report: the seed\u2019s error-propagated finding is in each of its tensors\u2019 failures', async () => {
    const real = await run({ net: 'fixtures/seed/net.json', data: 'fixtures/seed/data.csv' });
    const propagated = real.findings.find((f) => f.code === 'error-propagated')!;
    expect(propagated.params!.length).toBeGreaterThan(1);
    const out = renderJunit(real);
    for (const name of propagated.params!) {
      const failure = new RegExp(`name="${name}">\\n {6}<failure message="([^"]*)"`).exec(out);
      expect(failure![1], name).toContain('error-propagated: ');
    }
  });
});

describe('with --taylor', () => {
  it('a failing tensor’s details say its Taylor order (the seed: 1.00, WRONG on every tensor)', async () => {
    const xml = renderJunit(await run({ ...fixture('seed'), taylor: true }));
    const details = [...xml.matchAll(/type="gradient-mismatch">([^<]*)<\/failure>/g)].map((m) => m[1].split('\n'));
    expect(details).toHaveLength(8);
    for (const d of details) expect(d[4]).toBe('Taylor order 1.00 (WRONG)');
    expect(suiteOut(xml).split('\n')[1]).toBe('Taylor test: 0 of 8 tensors right, 8 WRONG (W1, b1, W2, b2, W3, b3, W4, b4), 0 unclear.');
    expectWellFormed(xml);
  });

  it('a passing tensor says it in its system-out; the Taylor lines are all that --taylor adds', async () => {
    const taylor = await run({ ...fixture('xor'), taylor: true });
    const xml = renderJunit(taylor);
    expect(xml).toContain('<testcase classname="layer 1" name="W1">\n      <system-out>Taylor order 2.00 (right)</system-out>\n    </testcase>');
    expect(xml.match(/<system-out>Taylor order 2\.00 \(right\)<\/system-out>/g)).toHaveLength(4);
    expect(suiteOut(xml).split('\n')[1]).toBe('Taylor test: 4 of 4 tensors right, 0 WRONG, 0 unclear.');
    // Without the Taylor fields it is the report of a run without --taylor, to the byte.
    const plain = renderJunit(await run(fixture('xor')));
    expect(renderJunit(withoutTaylor(taylor))).toBe(plain);
    expect(plain).not.toContain('Taylor');
  });

  it('a tensor that passes the ε check but reads WRONG is no <failure>, as the exit status is 0, but says so in its system-out', () => {
    const r = subtlyWrong();
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => [c.param, c.status, c.taylorStatus])).toEqual([
      ['W1', 'warn', 'fail'], ['b1', 'pass', 'pass'], ['W2', 'pass', 'pass'], ['b2', 'pass', 'pass'], ['W3', 'pass', 'pass'], ['b3', 'pass', 'pass'],
    ]);
    const xml = renderJunit(r);
    expect(xml).toContain('tests="6" failures="0"');
    expect(xml).not.toContain('<failure');
    expect(xml).toContain(
      '<testcase classname="layer 1" name="W1">\n      <system-out>relative error 5.00e-5 (tolerance 1.00e-4); worst element ',
    );
    const w1 = /name="W1">\n {6}<system-out>([^<]*)<\/system-out>/.exec(xml)![1].split('\n');
    expect(w1[0]).toMatch(/: passes, but within 100× of the tolerance$/);
    expect(w1[1]).toBe('Taylor order 1.00 (WRONG): the ε-free Taylor test says this gradient is wrong, though it passes the finite-difference check (which alone sets the exit status)');
    expect(suiteOut(xml).split('\n')[1]).toBe('Taylor test: 5 of 6 tensors right, 1 WRONG (W1), 0 unclear.');
  });

  it('an unclear order, with n/a when rounding left too few steps', () => {
    const xml = renderJunit({ ...report, checks: [
      { ...tensor(1, 'W1', 'pass', 1e-12), taylorOrder: 1.5, taylorStatus: 'inconclusive' },
      { ...tensor(1, 'b1', 'pass', 1e-12), taylorOrder: null, taylorStatus: 'inconclusive' },
    ], findings: [] });
    expect(xml).toContain('<testcase classname="layer 1" name="W1">\n      <system-out>Taylor order 1.50 (unclear)</system-out>');
    expect(xml).toContain('<testcase classname="layer 1" name="b1">\n      <system-out>Taylor order n/a (unclear)</system-out>');
    expect(suiteOut(xml).split('\n')[1]).toBe('Taylor test: 0 of 2 tensors right, 0 WRONG, 2 unclear (W1, b1).');
  });
});

describe('with --sweep', () => {
  it('adds sweep.chosenEpsilon and sweep.reason properties and the sweep at the end of the suite’s system-out', async () => {
    const swept = await run({ ...fixture('seed-fixed'), sweep: true });
    const xml = renderJunit(swept);
    expect(xml).toContain(
      '      <property name="seed" value="1"/>\n' +
      '      <property name="sweep.chosenEpsilon" value="0.00001"/>\n' +
      `      <property name="sweep.reason" value="${swept.sweep!.reason}"/>\n` +
      '    </properties>',
    );
    const out = suiteOut(xml).split('\n');
    const at = out.findIndex((line) => line.startsWith('Step sweep: '));
    expect(out.slice(at, at + 5)).toEqual([
      "Step sweep: the worst tensor's relative error against ε (8 seeded elements per tensor), with backprop-check's differences and with plain (J(θ+ε) − J(θ−ε)) / 2ε:",
      '  ε = 1e-1: backprop-check 0.00666, plain 0.00666',
      '  ε = 1e-2: backprop-check 6.67e-5, plain 0.0011',
      '  ε = 1e-3: backprop-check 6.67e-7, plain 0.00842',
      '  ε = 1e-4: backprop-check 6.67e-9, plain 0.0446',
    ]);
    expect(out[at + 5]).toMatch(/^ {2}ε = 1e-5: backprop-check [\d.e-]+, plain 0\.413 {2}◀ chosen$/);
    expect(out.filter((line) => line.includes('◀'))).toHaveLength(1);
    expect(out.slice(at + 13)).toEqual([`Chosen ε = 1.00e-5: ${swept.sweep!.reason}.`]);
    // Everything else is the report of a check at the chosen ε.
    const atChosen = renderJunit(await run({ ...fixture('seed-fixed'), epsilon: 1e-5 }));
    expect(renderJunit({ ...swept, sweep: undefined })).toBe(atChosen);
    expect(atChosen).not.toMatch(/sweep/i);
    expectWellFormed(xml);
  });

  it('escapes the reason in the property and the system-out', () => {
    const xml = renderJunit({ ...report, sweep: {
      epsilons: [1e-1, 1e-2], tensors: [{ param: 'W1', elements: 3, accurate: [0.5, 0], plain: [0.5, Infinity] }],
      worst: { accurate: [0.5, 0], plain: [0.5, Infinity] }, chosen: 1e-2, reason: 'a <b> & "c"',
    } });
    expect(xml).toContain('<property name="sweep.reason" value="a &lt;b&gt; &amp; &quot;c&quot;"/>');
    expect(suiteOut(xml).split('\n').slice(-4)).toEqual([
      "Step sweep: the worst tensor's relative error against ε (3 seeded elements per tensor), with backprop-check's differences and with plain (J(θ+ε) − J(θ−ε)) / 2ε:",
      '  ε = 1e-1: backprop-check 0.5, plain 0.5',
      '  ε = 1e-2: backprop-check 0, plain Inf  ◀ chosen',
      'Chosen ε = 0.01: a &lt;b&gt; &amp; "c".',
    ]);
    expectWellFormed(xml);
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
