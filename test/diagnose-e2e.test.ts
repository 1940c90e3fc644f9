// End-to-end: the built binary (npm test builds first) names the seed story's four faults, passes
// the fixed net with its initialisation warnings, fails it under --strict, and explains the codes.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun as Run } from './helpers/cli.js';
import type { Finding, Report } from '../src/core/report.js';
import { renderTable } from '../src/render/table.js';


const cli = (args: string[]) => runCli(args);

const fixture = (name: string) => [`fixtures/${name}/net.json`, `fixtures/${name}/data.csv`];

// The runs are started together (they are independent) and awaited once.
const ARGS = {
  seedJson: [...fixture('seed'), '--format', 'json'],
  fixedJson: [...fixture('seed-fixed'), '--format', 'json'],
  fixedStrict: [...fixture('seed-fixed'), '--strict', '--format', 'json'],
  xorStrict: [...fixture('xor'), '--strict'],
  explain: ['--explain', 'derivative-of-wrong-variable'],
  explainEquals: ['--explain=vanishing-gradients'],
  explainUnknown: ['--explain', 'no-such-code'],
};
const runs = {} as Record<keyof typeof ARGS, Run>;
beforeAll(async () => {
  const keys = Object.keys(ARGS) as (keyof typeof ARGS)[];
  const results = await Promise.all(keys.map((k) => cli(ARGS[k])));
  keys.forEach((k, i) => { runs[k] = results[i]; });
});
const byCode = (report: Report, code: string) => report.findings.filter((f) => f.code === code);
const layersOf = (f: Finding) => (f.evidence?.layers as number[] | undefined) ?? [f.layer];

describe('the seed story', () => {
  let run: Run, report: Report;
  beforeAll(() => {
    run = runs.seedJson;
    report = JSON.parse(run.stdout) as Report;
  });

  it('fails with exit status 1', () => {
    expect(run.status).toBe(1);
    expect(report.ok).toBe(false);
  });

  it('names the output layer’s tanh-shaped derivative; sigmoid′ = a(1 − a)', () => {
    const [f] = byCode(report, 'wrong-activation-derivative');
    expect(f).toMatchObject({ severity: 'error', layer: 4 });
    expect(f.evidence).toMatchObject({ used: '1 - z^2', right: 'a * (1 - a)' });
    expect(f.message).toContain('tanh-shaped');
    expect(f.fix).toContain('a * (1 - a)');
    // On the seed, z ≈ 0 at the output, so the declared factor is ≈ 1 against sigmoid′ ≈ 0.25.
    expect((f.evidence!.meanUsed as number[])[0]).toBeCloseTo(1, 6);
    expect((f.evidence!.meanRight as number[])[0]).toBeCloseTo(0.25, 6);
  });

  it('names the hidden layers’ 1 - z^2: tanh′ written for a, evaluated at z; use 1 - a^2', () => {
    const [f] = byCode(report, 'derivative-of-wrong-variable');
    expect(layersOf(f)).toEqual([1, 2, 3]);
    expect(f.message).toContain("tanh' written for a (1 - a^2) but evaluated at z");
    expect(f.fix).toContain('1 - a^2');
  });

  it('names the output gradient with the second term’s sign flipped, and gives the right one', () => {
    const [f] = byCode(report, 'wrong-output-gradient');
    expect(f).toMatchObject({ severity: 'error', layer: 4 });
    expect(f.message).toContain("the second term's sign is flipped");
    expect(f.fix).toContain('-(y / a - (1 - y) / (1 - a))');
    // At a ≈ 0.5 the flipped formula gives −y/a − (1 − y)/(1 − a) = −2 whatever y is.
    expect(f.evidence!.yours).toBeCloseTo(-2, 5);
    expect(f.evidence!.correct as number).toBeCloseTo(f.evidence!.y === 1 ? -2 : 2, 5);
  });

  it('says the gradients vanish because of the 0.01 weights, with Xavier 1/√fan_in per layer, and that the cost is ln 2', () => {
    const [vanishing] = byCode(report, 'vanishing-gradients');
    expect(vanishing.severity).toBe('warning');
    expect(vanishing.evidence!.gradientNorms).toEqual(report.health.layers.map((h) => h.gradientNorm));
    expect(vanishing.evidence!.ratio as number).toBeLessThan(1e-3);
    expect(vanishing.message).toMatch(/ratio first\/last [0-9.e-]+/);

    const [scale] = byCode(report, 'init-scale');
    // fan_in of the 2-8-6-4-1 net: 2, 8, 6, 4.
    (scale.evidence!.recommended as number[]).forEach((r, i) => expect(r).toBeCloseTo(1 / Math.sqrt([2, 8, 6, 4][i]), 12));
    expect(scale.message).toContain('Xavier 1/√2 = 0.7071');
    expect(scale.message).toContain('scale 0.01');

    const [chance] = byCode(report, 'chance-level-loss');
    expect(report.loss).toBeCloseTo(Math.LN2, 6);
    expect(chance.message).toContain('ln 2 = 0.6931');
    expect(chance.message).toContain('≈ 0.5 for every sample');
  });

  it('puts root causes first, then the tensors that only inherit the error, then health', () => {
    const rank = (f: Finding) => (['error-propagated'].includes(f.code) ? 1 : ['vanishing-gradients', 'init-scale', 'chance-level-loss'].includes(f.code) ? 2 : 0);
    const ranks = report.findings.map(rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks[0]).toBe(0);
    // Every failing tensor is accounted for: a root cause at its layer, or a propagated finding.
    const propagated = byCode(report, 'error-propagated').flatMap((f) => String(f.evidence!.tensors).split(', '));
    for (const c of report.checks.filter((x) => x.status === 'fail')) {
      const rootHere = report.findings.some((f) => rank(f) === 0 && f.severity === 'error' && layersOf(f).includes(c.layer));
      expect(rootHere || propagated.includes(c.param), c.param).toBe(true);
    }
  });

  it('prints the findings under the table', () => {
    const table = renderTable(report, false);
    const after = table.slice(table.indexOf('✗ 8 of 8 tensors fail'));
    expect(after).toMatch(/error wrong-output-gradient \(layer 4\): /);
    expect(after).toMatch(/error derivative-of-wrong-variable \(layer 1\): Layers 1, 2 and 3 \(tanh\)/);
    expect(after).toContain('  fix: ');
  });
});

describe('the fixed seed', () => {
  it('passes (exit 0) and still warns about the initialisation', () => {
    const run = runs.fixedJson;
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const codes = report.findings.map((f) => `${f.code}:${f.severity}`);
    expect(codes).toEqual(expect.arrayContaining(['init-scale:warning', 'vanishing-gradients:warning']));
    expect(report.findings.every((f) => f.severity !== 'error')).toBe(true);
  });

  it('fails under --strict, on the health warnings alone', () => {
    const run = runs.fixedStrict;
    expect(run.status).toBe(1);
    expect((JSON.parse(run.stdout) as Report).ok).toBe(true);
  });

  it('a healthy net passes --strict', () => {
    expect(runs.xorStrict.status).toBe(0);
  });
});

describe('--explain', () => {
  it('prints the explanation of a code with exit status 0', () => {
    const run = runs.explain;
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^derivative-of-wrong-variable: /);
    expect(run.stdout).toContain('1 − z²');
  });

  it('accepts --explain=code', () => {
    const run = runs.explainEquals;
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('1/√fan_in');
  });

  it('refuses an unknown code with exit status 2 and lists the codes', () => {
    const run = runs.explainUnknown;
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('command line, --explain: expected one of the finding codes wrong-activation-derivative, ');
    expect(run.stderr).toContain('found "no-such-code".');
  });
});
