// The HTML report of the seed fixture, written by the built binary (`--report`) and opened in real
// headless Chromium: every chart is there and has marks, nothing is logged as an error, nothing is
// requested from anywhere but the file itself, and a screenshot lands in test-output/.
//
// Needs Debian's `chromium` (.ci/run installs it). Without it this test fails, on purpose; set
// BACKPROP_CHECK_SKIP_BROWSER=1 to skip it explicitly. BACKPROP_CHECK_UPDATE_SCREENSHOT=1 also
// copies the screenshot to docs/report.png, the one the README shows.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backward, correctPlan } from '../src/core/backprop.js';
import { forward } from '../src/core/forward.js';
import type { Tensor } from '../src/core/tensor.js';
import { root, runCliSync } from './helpers/cli.js';
import { fixtureNetwork } from './helpers/network.js';

const outDir = join(root, 'test-output');
const chromiumPath = process.env.BACKPROP_CHECK_CHROMIUM ?? '/usr/bin/chromium';
const skip = process.env.BACKPROP_CHECK_SKIP_BROWSER === '1';

describe.skipIf(skip)('the HTML report in headless Chromium', () => {
  let context: BrowserContext;
  let profile: string;
  const file = join(outDir, 'report-seed.html');
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`Chromium is not at ${chromiumPath}: install it (apt-get install chromium; .ci/run does), ` +
        'point BACKPROP_CHECK_CHROMIUM at it, or set BACKPROP_CHECK_SKIP_BROWSER=1 to skip this test.');
    }
    mkdirSync(outDir, { recursive: true });
    const r = runCliSync(['fixtures/seed/net.json', 'fixtures/seed/data.csv', '--report', file]);
    expect(r.stderr).toContain('wrote the HTML report');
    expect(r.status).toBe(1);

    profile = mkdtempSync(join(tmpdir(), 'backprop-check-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width: 1120, height: 1400 },
    });
    // Anything but the file itself (or an inline data: URL) is recorded and refused.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    context.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith('file:') && !url.startsWith('data:') && !foreignRequests.includes(url)) foreignRequests.push(url);
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows every chart with marks, logs no error, requests nothing, and is screenshotted', async () => {
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');

    await expect(page.locator('header.verdict.fail h1').textContent()).resolves.toBe('✗ 8 of 8 tensors fail');
    await expect(page.locator('#checks tbody tr').count()).resolves.toBe(8);

    // Each chart, as the browser laid it out: its marks exist and take up space.
    const charts = await page.$$eval('svg.chart', (svgs) => svgs.map((svg) => ({
      kind: svg.getAttribute('data-chart'),
      marks: [...svg.querySelectorAll('.mark')].filter((m) => {
        const b = (m as SVGGraphicsElement).getBBox();
        return b.width > 0 && b.height > 0;
      }).length,
      width: svg.getBoundingClientRect().width,
      height: svg.getBoundingClientRect().height,
    })));
    const kinds = charts.map((c) => c.kind);
    expect(kinds.filter((k) => k === 'gradient-flow')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'relative-error')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'scatter')).toHaveLength(8);
    expect(kinds.filter((k) => k === 'histogram')).toHaveLength(4);
    for (const c of charts) {
      expect(c.width, `${c.kind} width`).toBeGreaterThan(200);
      expect(c.height, `${c.kind} height`).toBeGreaterThan(100);
    }
    const marks = (kind: string) => charts.filter((c) => c.kind === kind).map((c) => c.marks);
    expect(marks('gradient-flow')).toEqual([8]); // 4 layers × (analytic, numeric)
    expect(marks('relative-error')).toEqual([8]); // one per tensor
    expect(marks('scatter')).toEqual([16, 8, 48, 6, 24, 4, 4, 1]); // one per element of W1, b1, … b4
    for (const n of marks('histogram')) expect(n).toBeGreaterThan(0);

    // Text in the charts is laid out in a real font (not zero-width boxes).
    const labelWidth = await page.$eval('svg[data-chart="gradient-flow"] text', (t) => (t as SVGTextElement).getComputedTextLength());
    expect(labelWidth).toBeGreaterThan(10);

    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);

    // The README's screenshot: from the verdict down to the end of the relative-error chart.
    const shot = join(outDir, 'report.png');
    const errors = (await page.locator('#relative-error').boundingBox())!;
    const height = Math.ceil(errors.y + errors.height + 16);
    await page.setViewportSize({ width: 1120, height });
    await page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 1120, height } });
    await page.screenshot({ path: join(outDir, 'report-full.png'), fullPage: true });
    expect(existsSync(shot)).toBe(true);
    if (process.env.BACKPROP_CHECK_UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(root, 'docs/report.png'));
  });

  it('with --sweep --taylor: the sweep chart has its 24 marks, and every tensor a Taylor verdict', async () => {
    const swept = join(outDir, 'report-seed-fixed-sweep.html');
    const r = runCliSync(['fixtures/seed-fixed/net.json', 'fixtures/seed-fixed/data.csv', '--sweep', '--taylor', '--report', swept]);
    expect(r.status).toBe(0);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${swept}`);
    await page.waitForLoadState('load');

    const sweep = await page.$$eval('svg.chart[data-chart="sweep"]', (svgs) => svgs.map((svg) => ({
      marks: [...svg.querySelectorAll('.mark')].filter((m) => {
        const b = (m as SVGGraphicsElement).getBBox();
        return b.width > 0 && b.height > 0;
      }).length,
      width: svg.getBoundingClientRect().width,
    })));
    expect(sweep).toHaveLength(1);
    expect(sweep[0].marks).toBe(24); // 12 steps ε × (backprop-check's differences, plain subtraction)
    expect(sweep[0].width).toBeGreaterThan(200);
    const taylorCells = await page.$$eval('#checks tbody tr td:last-child', (tds) => tds.map((td) => td.textContent));
    expect(taylorCells).toHaveLength(8);
    for (const t of taylorCells) expect(t).toMatch(/^\d\.\d\d \(right\)$/);
    expect(errors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.screenshot({ path: join(outDir, 'report-sweep-full.png'), fullPage: true });
  });

  it.each(['full', 'directional'])('with --taylor in %s mode the checks table fits a 1280-px window', async (mode) => {
    const file = join(outDir, `report-seed-taylor-${mode}.html`);
    const r = runCliSync(['fixtures/seed/net.json', 'fixtures/seed/data.csv', '--taylor', '--mode', mode, '--report', file]);
    expect(r.status).toBe(1);
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');
    const size = await page.$eval('#checks table', (t) => ({ table: t.scrollWidth, box: t.parentElement!.scrollWidth, boxVisible: t.parentElement!.clientWidth, page: document.documentElement.scrollWidth }));
    expect(size.table).toBeLessThanOrEqual(1280);
    expect(size.box).toBeLessThanOrEqual(size.boxVisible); // no horizontal scroll bar on the table
    expect(size.page).toBeLessThanOrEqual(1280);
    // The findings come before the table, the table before the charts.
    const tops = await page.$$eval('section', (ss) => ss.map((x) => [x.id, x.getBoundingClientRect().top] as const));
    expect(tops.map(([id]) => id).slice(0, 3)).toEqual(['findings', 'checks', 'gradient-flow']);
    await page.screenshot({ path: join(outDir, `report-taylor-${mode}-1280.png`), fullPage: true });
  });

  it('draws the residuals of nearly-right tensors: one mark per compared element', async () => {
    // seed-fixed's correct gradients, with W2 off by up to 3e-7 relative and one element of W1 by 5e-7 (below the tolerance: the element rule does not fail it): two warnings.
    const dir = mkdtempSync(join(tmpdir(), 'bpc-residual-'));
    const { model, params, X, Y } = fixtureNetwork('seed-fixed');
    const g = backward(model, params, forward(model, params, X, Y), Y, correctPlan(model));
    const rows = (m: Tensor, f: (v: number, i: number, j: number) => number = (v) => v) =>
      Array.from({ length: m.shape[0] }, (_, i) => Array.from(m.data.slice(i * m.shape[1], (i + 1) * m.shape[1]), (v, j) => f(v, i, j)));
    const P: Record<string, number[][]> = {}, G: Record<string, number[][]> = {};
    params.forEach(({ W, b }, l) => { P[`W${l + 1}`] = rows(W); P[`b${l + 1}`] = rows(b); });
    g.forEach(({ W }, l) => {
      G[`dW${l + 1}`] = rows(W, (v, i, j) => v * (1 + (l === 1 ? 3e-7 * Math.sin(i + 3 * j) : 0) + (l === 0 && i === 2 && j === 1 ? 5e-7 : 0)));
      G[`db${l + 1}`] = rows(g[l].b!);
    });
    writeFileSync(join(dir, 'params.json'), JSON.stringify(P));
    writeFileSync(join(dir, 'grads.json'), JSON.stringify(G));
    const file = join(outDir, 'report-residuals.html');
    const r = runCliSync(['fixtures/seed-fixed/net.json', 'fixtures/seed-fixed/data.csv',
      '--params', join(dir, 'params.json'), '--grads', join(dir, 'grads.json'), '--format', 'json', '--report', file]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(0);
    const warned = JSON.parse(r.stdout).checks.filter((c: { status: string }) => c.status === 'warn').map((c: { param: string }) => c.param);
    expect(warned).toEqual(['W1', 'W2']);
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');
    const marks = await page.$$eval('svg.chart[data-chart="residual"]', (svgs) => svgs.map((svg) => [...svg.querySelectorAll('.mark')].filter((m) => {
      const b = (m as SVGGraphicsElement).getBBox();
      return b.width > 0 && b.height > 0;
    }).length));
    expect(marks).toEqual([16, 48]); // W1 is 8×2, W2 6×8
    await page.locator('#residuals').screenshot({ path: join(outDir, 'report-residuals.png') });
  });
});
