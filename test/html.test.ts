// The HTML report as text: self-contained (nothing to fetch), every user string escaped, and every
// section and chart there, on a hand-made report and on the seed fixture's real one.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../src/core/report.js';
import { loadSpec } from '../src/io/spec.js';
import { flowPoints, renderHtml } from '../src/render/html.js';
import { run } from '../src/run.js';
import { runCliSync } from './helpers/cli.js';

const hostile = '<script>alert(1)</script>';

const report: Report = {
  ok: false,
  loss: 0.6931,
  source: 'declared',
  checks: [
    { layer: 1, param: 'W1', shape: [2, 2], relativeError: 1e-9, maxElementError: 1e-9, worst: { index: [0, 1], analytic: 1, numeric: 1 },
      analyticNorm: 3, numericNorm: 3, checked: 4, kinks: 0, status: 'pass' },
    { layer: 1, param: 'b1', shape: [2, 1], relativeError: 2e-7, maxElementError: 3e-7, worst: { index: [1, 0], analytic: 4, numeric: 4 },
      analyticNorm: 4, numericNorm: 4, checked: 2, kinks: 1, status: 'warn' },
    { layer: 2, param: 'W2', shape: [1, 2], relativeError: 0.5, maxElementError: 1, worst: { index: [0, 0], analytic: 2, numeric: 0 },
      analyticNorm: 2, numericNorm: 1, checked: 2, kinks: 0, status: 'fail', values: { analytic: [2, 1], numeric: [0, 1] } },
  ],
  findings: [
    { code: 'wrong-activation-derivative', severity: 'error', layer: 2, param: 'W2', message: `the derivative ${hostile} is wrong & "quoted"`, fix: 'use <b>1 - a^2</b>' },
  ],
  health: {
    layers: [
      { layer: 1, activation: 'z / (1 + exp(-z)) <x>', gradientNorm: 3, saturation: 0.25, deadFraction: 0, weightScale: 0.1, recommendedScale: 0.7,
        histogram: { edges: [-1, 0, 1], counts: [5, 3] } },
      { layer: 2, activation: 'sigmoid', gradientNorm: 0, saturation: 0, deadFraction: 0, weightScale: 0.1, recommendedScale: 0.7,
        histogram: { edges: [0, 0.5, 1], counts: [1, 7], nonFinite: 2 } },
    ],
  },
  settings: { epsilon: 1e-6, tolerance: 1e-6, mode: 'full', seed: 1 },
};
const spec = { layers: [{ units: 2, activation: 'tanh' }], backward: { outputGradient: hostile, activationDerivatives: [`1 - z^2 </pre><img src=x onerror=alert(1)>`] } };
const page = renderHtml(report, { spec, net: 'nets/<net>.json', data: 'data&more.csv' });

describe('the HTML report is self-contained', () => {
  it('loads nothing: no scripts, links, external sources, URLs or imports', () => {
    expect(page).not.toMatch(/https?:/i);
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<link/i);
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toMatch(/<[^>]*\ssrc=/i);
    expect(page).not.toMatch(/url\(/i);
    expect(page).not.toMatch(/@import/i);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it('escapes every user string: formulas in the spec, activation names, messages, fixes, file names', () => {
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('z / (1 + exp(-z)) &lt;x&gt;');
    expect(page).toContain('wrong &amp; &quot;quoted&quot;');
    expect(page).toContain('use &lt;b&gt;1 - a^2&lt;/b&gt;');
    expect(page).toContain('nets/&lt;net&gt;.json');
    expect(page).toContain('data&amp;more.csv');
    // The only tags are our own: none of the user's came through as markup.
    const tags = new Set([...page.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1].toLowerCase()));
    expect([...tags].sort()).toEqual([
      'body', 'circle', 'code', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'g', 'h1', 'h2', 'head', 'header', 'html',
      'li', 'line', 'main', 'meta', 'p', 'path', 'pre', 'rect', 'section', 'span', 'strong', 'style', 'svg', 'table', 'tbody', 'td',
      'text', 'th', 'thead', 'title', 'tr', 'ul',
    ]);
  });
});

describe('the HTML report shows', () => {
  it('the verdict, the counts and the settings', () => {
    expect(page).toMatch(/<header class="verdict fail">[\s\S]*<h1>✗ 1 of 3 tensors fail<\/h1>/);
    expect(page).toContain('<dt>fail</dt><dd class="fail">1</dd>');
    expect(page).toContain('<dt>tolerance</dt><dd>1.00e-6 (warn from 1.00e-8)</dd>');
  });

  it('one row per tensor, the layer named once with its activation', () => {
    expect(page.match(/<tr class="(pass|warn|fail)/g)).toEqual(['<tr class="pass', '<tr class="warn', '<tr class="fail']);
    expect(page).toContain('<th scope="rowgroup" rowspan="2">1 <span class="act">z / (1 + exp(-z)) &lt;x&gt;</span></th>');
    expect(page).toContain('(1 at a kink)');
  });

  it('each chart: gradient flow, relative errors, a scatter per failing tensor, a histogram per layer', () => {
    const charts = [...page.matchAll(/data-chart="([a-z-]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(['gradient-flow', 'relative-error', 'scatter', 'histogram', 'histogram']);
    expect(page).toContain('2 NaN/∞ not binned');
  });

  it('the gradient flow per layer as the norm of W and b together', () => {
    expect(flowPoints(report)).toEqual([
      { label: 'layer 1', sublabel: 'z / (1 + exp(-z)) <x>', analytic: 5, numeric: 5 },
      { label: 'layer 2', sublabel: 'sigmoid', analytic: 2, numeric: 1 },
    ]);
  });

  it('the findings with their fixes, and the spec', () => {
    expect(page).toMatch(/<li class="error">.*wrong-activation-derivative.*layer 2 W2/);
    expect(page).toContain('<strong>Fix:</strong>');
    expect(page).toContain('&quot;outputGradient&quot;: &quot;&lt;script&gt;');
  });

  it('says what is missing rather than drawing nothing', () => {
    const bare = renderHtml({ ...report, checks: report.checks.map(({ values: _v, ...c }) => c), findings: [] });
    expect(bare).toContain('The values of this tensor are not in the report.');
    expect(bare).toContain('No findings.');
    expect(bare).toContain('The spec is not in the report.');
    const passing = renderHtml({ ...report, ok: true, checks: report.checks.slice(0, 1) });
    expect(passing).toContain('✓ all 1 tensors pass');
    expect(passing).toContain('No tensor fails, so there is nothing to plot.');
  });
});

describe('the order, the residuals and an interrupted check', () => {
  const sections = (html: string) => [...html.matchAll(/<section id="([a-z-]+)">/g)].map((m) => m[1]);

  it('puts the findings and their fixes first, then the table, then the charts', () => {
    expect(sections(page)).toEqual(['findings', 'checks', 'gradient-flow', 'relative-error', 'scatter', 'residuals', 'activations', 'settings']);
    expect(page.indexOf('<strong>Fix:</strong>')).toBeLessThan(page.indexOf('<table class="checks">'));
  });

  it('plots g − ĝ against ĝ for a nearly-right tensor whose values are in the report, one mark per value', () => {
    const warn = { ...report.checks[1], values: { analytic: [4, 1e-3 + 2e-9, -2], numeric: [4 - 1e-9, 1e-3, -2] } };
    const html = renderHtml({ ...report, checks: [report.checks[0], warn, report.checks[2]] });
    const residual = /<svg[^>]*data-chart="residual"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(residual.match(/class="mark"/g)).toHaveLength(3);
    expect(residual).toContain('<title>numeric 0.001, g − ĝ 2.00e-9</title>');
    expect(html).toContain('<code>b1</code> · layer 1 · warn · rel. error 2.00e-7 · 3 values');
    // W1 passes without values (none are kept for it); W2 fails and has its scatter instead.
    expect(html).toContain('Not plotted: W1, whose values are not in the report');
    expect(chartsOf(html).filter((c) => c === 'residual')).toHaveLength(1);
  });

  it('shows an interrupted check’s unfinished tensors as partial or not checked, with counts, and leaves unreached ones out of the charts', () => {
    const html = renderHtml({ ...report, partial: true, checks: [
      report.checks[0],
      { ...report.checks[1], checked: 1, planned: 2 },
      { ...report.checks[2], status: 'pass', values: undefined, checked: 0, kinks: 0, planned: 2, worst: null, relativeError: 0, analyticNorm: 0, numericNorm: 0 },
    ] });
    expect(html).toContain('<h1>Interrupted: 1 of 3 tensors checked in full</h1>');
    expect(html).toContain('The check was stopped: 1 of 3 tensors checked in full, b1 partly (1 of 2 elements), 1 not checked (W2); none fails so far.');
    expect(html).toContain('<span class="pill warn">partial: 1 of 2 elements</span>');
    expect(html).toContain('<span class="pill warn">not checked (0 of 2 elements)</span>');
    expect(html).toContain('<dt>pass</dt><dd class="pass">1</dd>');
    expect(html).toContain('<dt>partial</dt><dd class="warn">2</dd>');
    const errors = /<svg[^>]*data-chart="relative-error"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(errors.match(/class="mark /g)).toHaveLength(2);
    expect(flowPoints({ ...report, checks: [report.checks[0], { ...report.checks[2], checked: 0, kinks: 0, planned: 2 }] }).map((p) => p.label)).toEqual(['layer 1']);
  });

  it('heads the columns for what directional mode compares, and says which tensors were judged against float32 resolution', () => {
    const html = renderHtml({ ...report, settings: { ...report.settings, mode: 'directional', samples: 4 }, checks: report.checks.map((c) => ({ ...c, precision: 'float32' as const })) });
    expect(html).toContain('<th class="n" style="text-transform: none">‖analytic·v‖ over directions</th><th class="n" style="text-transform: none">‖numeric along v‖</th><th class="n">rel. error</th><th style="text-transform: none">worst direction (analytic·v vs numeric)</th>');
    expect(html).toContain('(tolerance 1.00e-6 (W1, b1, W2 against float32 resolution: float32 gradients)). In directional mode each tensor is compared along random unit directions v');
    expect(html).toContain('<dt>tolerance</dt><dd>1.00e-6 (W1, b1, W2 against float32 resolution: float32 gradients) (warn from 1.00e-8)</dd>');
  });
});

describe('the seed fixture’s report', () => {
  it('has a scatter for each of its 8 failing tensors, with all their values, and a histogram per layer', async () => {
    const net = 'fixtures/seed/net.json';
    const seed = await run({ net, data: 'fixtures/seed/data.csv' });
    const html = renderHtml(seed, { spec: loadSpec(net).raw, net });
    const charts = [...html.matchAll(/data-chart="([a-z-]+)"/g)].map((m) => m[1]);
    expect(charts.filter((c) => c === 'scatter')).toHaveLength(8);
    expect(charts.filter((c) => c === 'histogram')).toHaveLength(4);
    for (const c of seed.checks) expect(c.values?.analytic).toHaveLength(c.checked);
    expect(html).toContain('&quot;activationDerivatives&quot;');
    expect(html).not.toMatch(/https?:|<script|<link|<[^>]*\ssrc=/i);
  });
});

const fixture = (name: string) => ({ net: `fixtures/${name}/net.json`, data: `fixtures/${name}/data.csv` });
const withoutTaylor = (r: Report): Report => ({ ...r, checks: r.checks.map(({ taylorOrder: _o, taylorStatus: _s, ...c }) => c) });
const chartsOf = (html: string) => [...html.matchAll(/data-chart="([a-z-]+)"/g)].map((m) => m[1]);
const tagsOf = (html: string) => [...new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1].toLowerCase()))].sort();

describe('a net with other layer types', () => {
  it('the health table names each entry by its type and shows no norms for an entry without parameters', async () => {
    const cnn = 'fixtures/cnn/';
    const html = renderHtml(await run({ net: `${cnn}net.json`, data: `${cnn}data.csv`, params: `${cnn}params.npz`, grads: `${cnn}grads_fixed.npz` }));
    expect(html).toContain('<th>type, activation</th>');
    expect(html).toMatch(/<tr><th scope="row">1<\/th><td><code>conv2d relu<\/code><\/td><td class="n">[0-9.]+<\/td>/);
    expect(html).toContain('<tr><th scope="row">2</th><td><code>maxpool2d</code></td><td class="n">–</td>');
    expect(html).toContain('<tr><th scope="row">4</th><td><code>softmax</code></td>');
  });
});

describe('with --taylor', () => {
  it('the checks table has a Taylor order column, worded as in the terminal, as a pill', async () => {
    const html = renderHtml(await run({ ...fixture('seed'), taylor: true }));
    expect(html).toContain('<th>status</th><th>Taylor order</th></tr></thead>');
    expect(html.match(/<td><span class="pill fail">FAIL<\/span><\/td><td><span class="pill fail">1\.00 \(WRONG\)<\/span><\/td><\/tr>/g)).toHaveLength(8);
  });

  it('right gradients read 2.00 (right); the column is all that --taylor adds', async () => {
    const taylor = await run({ ...fixture('xor'), taylor: true });
    expect(renderHtml(taylor).match(/<span class="pill pass">2\.00 \(right\)<\/span>/g)).toHaveLength(4);
    const plain = renderHtml(await run(fixture('xor')));
    expect(renderHtml(withoutTaylor(taylor))).toBe(plain);
    expect(plain).not.toContain('Taylor');
  });

  it('an unclear order is a warn pill, with n/a when rounding left too few steps', () => {
    const html = renderHtml({ ...report, checks: [
      { ...report.checks[0], taylorOrder: 1.5, taylorStatus: 'inconclusive' },
      { ...report.checks[1], taylorOrder: null, taylorStatus: 'inconclusive' },
    ] });
    expect(html).toContain('<span class="pill warn">1.50 (unclear)</span>');
    expect(html).toContain('<span class="pill warn">n/a (unclear)</span>');
  });
});

describe('with --sweep', () => {
  it('a Step sweep section after the relative errors: the chart, why ε was chosen, and the numbers', async () => {
    const swept = await run({ ...fixture('seed-fixed'), sweep: true });
    const html = renderHtml(swept, { net: 'fixtures/seed-fixed/net.json' });
    expect(chartsOf(html)).toEqual(['gradient-flow', 'relative-error', 'sweep', 'histogram', 'histogram', 'histogram', 'histogram']);
    expect([...html.matchAll(/<section id="([a-z-]+)">/g)].map((m) => m[1])).toEqual(
      ['findings', 'checks', 'gradient-flow', 'relative-error', 'sweep', 'scatter', 'residuals', 'activations', 'settings']);
    const chart = /<svg[^>]*data-chart="sweep"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(chart.match(/class="mark accurate"/g)).toHaveLength(12);
    expect(chart.match(/class="mark plain"/g)).toHaveLength(12);
    expect(chart).toContain('aria-label="The worst tensor’s relative error against the step ε, log-log: backprop-check’s differences and plain subtraction; chosen ε = 1.00e-5"');
    expect(chart).toContain('>tolerance 1.00e-6</text>');
    expect(html).toContain(`<p><strong>Chosen ε = 1.00e-5</strong>: ${swept.sweep!.reason}. The check above ran with it.</p>`);
    // The table: 12 steps, the truncation arm as in the README, the chosen row marked and its numbers in bold.
    const rows = [...html.matchAll(/<tr><th scope="row">(1e-\d+)( <span class="muted">◀ chosen<\/span>)?<\/th><td class="n">(.*?)<\/td><td class="n">(.*?)<\/td><\/tr>/g)];
    expect(rows.map((m) => m[1])).toEqual(swept.sweep!.epsilons.map((e) => e.toExponential(0)));
    expect(rows.slice(0, 3).map((m) => [m[3], m[4]])).toEqual([['0.00666', '0.00666'], ['6.67e-5', '0.0011'], ['6.67e-7', '0.00842']]);
    expect(rows.filter((m) => m[2]).map((m) => [m[1], m[4]])).toEqual([['1e-5', '<strong>0.413</strong>']]);
    expect(html).toContain('<dt>epsilon</dt><dd>1.00e-5 (chosen by the step sweep)</dd>');
    // Everything else is the report of a check at the chosen ε, to the byte.
    const atChosen = renderHtml(await run({ ...fixture('seed-fixed'), epsilon: 1e-5 }), { net: 'fixtures/seed-fixed/net.json' });
    expect(renderHtml({ ...swept, sweep: undefined }, { net: 'fixtures/seed-fixed/net.json' })).toBe(atChosen);
    expect(atChosen).not.toMatch(/sweep/i);
  });

  it('stays self-contained and escapes the reason; no tag but our own', () => {
    const html = renderHtml({ ...report, checks: report.checks.map((c) => ({ ...c, taylorOrder: 1, taylorStatus: 'fail' as const })), sweep: {
      epsilons: [1e-1, 1e-2], tensors: [{ param: 'W1', elements: 3, accurate: [0.5, 0], plain: [0.5, Infinity] }],
      worst: { accurate: [0.5, 0], plain: [0.5, Infinity] }, chosen: 1e-2, reason: hostile,
    } }, { spec, net: 'nets/<net>.json', data: 'data&more.csv' });
    expect(html).toContain('<strong>Chosen ε = 0.01</strong>: &lt;script&gt;alert(1)&lt;/script&gt;. The check above ran with it.');
    expect(html).not.toMatch(/https?:|<script|<link|<img|<[^>]*\ssrc=|url\(|@import/i);
    expect(tagsOf(html)).toEqual(tagsOf(page));
  });
});

describe('--report on the command line (the built binary)', () => {
  const cli = (args: string[]) => runCliSync(['fixtures/xor/net.json', 'fixtures/xor/data.csv', ...args]);

  it('writes the report in addition to the usual output', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bpc-report-')), 'xor.html');
    const r = cli(['--report', file, '--format', 'json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).ok).toBe(true);
    expect(r.stderr).toBe(`backprop-check: wrote the HTML report to ${file}\n`);
    expect(readFileSync(file, 'utf8')).toMatch(/^<!doctype html>[\s\S]*✓ all 4 tensors pass[\s\S]*<\/html>\n$/);
  });

  it('an unwritable path is exit 2 with one line naming it, and nothing on stdout', () => {
    const r = cli(['--report', '/nonexistent-folder/r.html']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('backprop-check: command line, --report: expected an HTML file that can be written; found "/nonexistent-folder/r.html": its folder does not exist.\n');
    expect(cli(['--report', tmpdir()]).stderr).toContain(`found "${tmpdir()}": it is a folder.`);
  });

  it('an unwritable path is refused before the check runs: an --exec program is never started, no file is made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpc-report-'));
    const marker = join(dir, 'ran');
    const r = cli(['--report', join(dir, 'missing', 'r.html'), '--exec', `node -e "require('fs').writeFileSync(${JSON.stringify(marker)}, '')"`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('its folder does not exist.');
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
