// Custom formulas are checked against an independent reference, through the built CLI: the
// finite differences come from the formula's values and the truth from automatic differentiation,
// never from mathjs's simplified derivative (which says (z^2)^0.5 has derivative 1). Gradients are
// PyTorch float64 autograd (scripts/custom_formulas_golden.py → fixtures/custom-formulas/).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runCli } from './helpers/cli.js';

const dir = join(root, 'fixtures/custom-formulas');

interface Report {
  ok: boolean;
  checks: { param: string; status: string; kinks: number; checked: number }[];
  findings: { code: string; severity: string; layer?: number; message: string; fix?: string }[];
}

async function run(kase: string, net: string, grads: boolean): Promise<{ status: number | null; report: Report }> {
  const args = [join(dir, kase, net), join(dir, kase, 'data.csv'), '--params', join(dir, kase, 'params.json'), '--format', 'json'];
  if (grads) args.push('--grads', join(dir, kase, 'grads.json'));
  const r = await runCli(args);
  expect(r.stderr).toBe('');
  return { status: r.status, report: JSON.parse(r.stdout) as Report };
}

const ROOT_CAUSES = ['wrong-activation-derivative', 'derivative-of-wrong-variable', 'wrong-output-gradient', 'gradient-mismatch'];

describe('activation (z^2)^0.5 = |z|, whose mathjs-simplified derivative is 1', () => {
  it("PyTorch's float64 gradients pass, with no finding", async () => {
    const { status, report } = await run('abs-pow', 'net.json', true);
    expect(status).toBe(0);
    expect(report.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(report.findings.filter((f) => ROOT_CAUSES.includes(f.code))).toEqual([]);
  });

  it.each(['sign', 'zabs'])('a declared derivative %s passes', async (which) => {
    const { status, report } = await run('abs-pow', `net-declared-${which}.json`, false);
    expect(status).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.findings.filter((f) => ROOT_CAUSES.includes(f.code))).toEqual([]);
  });

  it('a declared derivative 1 fails, named as identity\' with the right derivative stated correctly', async () => {
    const { status, report } = await run('abs-pow', 'net-declared-one.json', false);
    expect(status).toBe(1);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.param)).toEqual(['W1', 'b1']);
    const f = report.findings.find((x) => x.code === 'wrong-activation-derivative')!;
    expect(f.layer).toBe(1);
    expect(f.message).toMatch(/^Layer 1 \(expr\(\(z\^2\)\^0\.5\)\) multiplies dA by 1, identity' \(no derivative at all\); the right derivative is z \* \(z \^ 2\) \^ \(-1 \/ 2\)\./);
    expect(f.message).not.toMatch(/the right derivative is 1\b/);
  });
});

describe('loss ((a - y)^2)^(3/2) = |a − y|³, whose mathjs-simplified gradient is 3(a − y)²', () => {
  it("PyTorch's float64 gradients pass", async () => {
    const { status, report } = await run('loss-pow', 'net.json', true);
    expect(status).toBe(0);
    expect(report.findings.filter((f) => ROOT_CAUSES.includes(f.code))).toEqual([]);
  });

  it('a declared right gradient 3 (a − y)|a − y| passes', async () => {
    const { status } = await run('loss-pow', 'net-declared-right.json', false);
    expect(status).toBe(0);
  });

  it("a declared gradient equal to mathjs's 3 (a − y)^2 fails, and the right one is given correctly", async () => {
    const { status, report } = await run('loss-pow', 'net-declared-mathjs.json', false);
    expect(status).toBe(1);
    const f = report.findings.find((x) => x.code === 'wrong-output-gradient')!;
    expect(f.message).toMatch(/^outputGradient "3 \* \(a - y\)\^2" is not ∂L\/∂a of expr\(\(\(a - y\)\^2\)\^\(3\/2\)\)\. The right one is 3 \* \(a - y\) \* \(\(a - y\) \^ 2\) \^ \(1 \/ 2\)\./);
    expect(f.fix).toBe('In net.json\'s backward block (mathjs syntax): set outputGradient to "3 * (a - y) * ((a - y) ^ 2) ^ (1 / 2)".');
  });
});

describe('a custom activation with kinks (max, abs), samples on and next to the kink', () => {
  it.each(['full', 'sample', 'directional'])("PyTorch's gradients pass in %s mode; the kinks are counted in full mode", async (mode) => {
    const dirArgs = [join(dir, 'kink', 'net.json'), join(dir, 'kink', 'data.csv'), '--params', join(dir, 'kink', 'params.json'), '--grads', join(dir, 'kink', 'grads.json'), '--format', 'json', '--mode', mode];
    const r = await runCli(dirArgs);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.findings.filter((f) => ROOT_CAUSES.includes(f.code))).toEqual([]);
    if (mode === 'full') {
      // Sample 0 has x = 0 and b1 = 0: every unit of layer 1 sits on max's kink, seen by db1's steps.
      expect(report.checks.find((c) => c.param === 'b1')!.kinks).toBe(4);
      expect(report.findings.filter((f) => f.code === 'kink').map((f) => f.layer)).toEqual([1]);
    }
  });
});
