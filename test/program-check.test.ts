// The check of a user's program (core/check/program-check.ts) on in-process models
// (core/session/functions.ts): verdicts per tensor, steps, floors, kinks, determinism, float32,
// the modes, Taylor, the sweep, interrupts and the evaluation budget.
import { describe, expect, it } from 'vitest';
import { checkProgram, type ProgramCheckOptions } from '../src/core/check/program-check.js';
import { DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { functionProgram, type ModelFunctions, type ModelParams } from '../src/core/session/functions.js';
import type { CostProgram, CostRequest } from '../src/core/session/program.js';
import { check } from '../src/index.js';
import { UserError } from '../src/io/errors.js';
import { renderTable } from '../src/render/table.js';
import { renderMarkdown } from '../src/render/markdown.js';
import { renderJunit } from '../src/render/junit.js';
import { renderHtml } from '../src/render/html.js';
import { renderSweep } from '../src/render/sweep.js';

const options = (o: Partial<ProgramCheckOptions> = {}): ProgramCheckOptions => ({ ...DEFAULT_OPTIONS, ...o });

// A two-layer tanh network with a mean squared error, and its backprop written out by hand.
const X = [[0.5, -1.2, 0.3, 2.0, -0.4], [1.1, 0.4, -0.7, 0.2, 0.9]];
const Y = [0.3, -0.5, 0.8, 0.1, -0.2];
const LAMBDA = 0.01;

interface Net { W1: number[][]; b1: number[]; W2: number[]; b2: number }
const NET: Net = { W1: [[0.3, -0.2], [0.8, 0.5], [-0.6, 0.1]], b1: [0.1, -0.2, 0.05], W2: [0.7, -0.4, 0.9], b2: 0.2 };

/** J = (1/2m)·Σ (y − Y)² + (λ/2)·‖W1‖², y = W2·tanh(W1·x + b1) + b2; and its gradients. */
function net(p: ModelParams, round: (x: number) => number = (x) => x) {
  const { W1, b1, W2, b2 } = p as unknown as Net;
  const m = Y.length;
  let J = 0, gb2 = 0;
  const gW1 = W1.map((r) => r.map(() => 0)), gb1 = b1.map(() => 0), gW2 = W2.map(() => 0);
  for (let s = 0; s < m; s++) {
    const h = W1.map((r, i) => round(Math.tanh(round(round(round(r[0] * X[0][s]) + round(r[1] * X[1][s])) + b1[i]))));
    const y = round(h.reduce((a, hi, i) => round(a + round(W2[i] * hi)), 0) + b2);
    const e = round(y - Y[s]);
    J = round(J + round((0.5 * e * e) / m));
    gb2 += e / m;
    h.forEach((hi, i) => {
      gW2[i] += (e * hi) / m;
      const dz = (e * W2[i] * (1 - hi * hi)) / m;
      gb1[i] += dz;
      gW1[i][0] += dz * X[0][s];
      gW1[i][1] += dz * X[1][s];
    });
  }
  let l2 = 0;
  W1.forEach((r, i) => r.forEach((w, j) => { l2 = round(l2 + round(w * w)); gW1[i][j] += LAMBDA * w; }));
  J = round(J + round((LAMBDA / 2) * l2));
  return { J, grads: { W1: gW1, b1: gb1, W2: gW2, b2: gb2 } };
}

function netModel(bug: (g: ReturnType<typeof net>['grads'], p: ModelParams) => void = () => {}): ModelFunctions {
  return {
    params: structuredClone(NET) as unknown as ModelParams,
    layers: [['W1', 'b1'], ['W2', 'b2']],
    cost: (p) => net(p).J,
    grads: (p) => { const g = net(p).grads; bug(g, p); return g as unknown as ModelParams; },
  };
}

const byName = (r: Awaited<ReturnType<typeof checkProgram>>) => Object.fromEntries(r.checks.map((c) => [c.param, c]));

describe('checkProgram: verdicts', () => {
  it('passes a correct model, every tensor with its own step, grouped by the program\'s layers', async () => {
    const r = await checkProgram(functionProgram(netModel()), options());
    expect(r.ok).toBe(true);
    expect(r.source).toBe('model');
    expect(r.checks.map((c) => [c.param, c.layer, c.status])).toEqual([['W1', 1, 'pass'], ['b1', 1, 'pass'], ['W2', 2, 'pass'], ['b2', 2, 'pass']]);
    for (const c of r.checks) {
      expect(c.epsilon).toBeGreaterThan(1e-9);
      expect(c.relativeError).toBeLessThan(1e-8);
    }
    expect(r.loss).toBe(net(NET as unknown as ModelParams).J);
    expect(r.health.layers.map((l) => [l.layer, l.tensors])).toEqual([[1, ['W1', 'b1']], [2, ['W2', 'b2']]]);
    // ‖ĝ‖ of a group is the norm of its tensors' differences; the weight scale the std of its values.
    expect(r.health.layers[1].gradientNorm).toBeCloseTo(Math.hypot(r.checks[2].numericNorm, r.checks[3].numericNorm), 12);
    expect(r.findings).toEqual([]);
  });

  it('fails only the tensor with a wrong factor, with the relative error of g = 2ĝ (1/3)', async () => {
    const r = byName(await checkProgram(functionProgram(netModel((g) => { g.W2 = g.W2.map((x) => 2 * x); })), options()));
    expect(r.W2.status).toBe('fail');
    // ‖2ĝ − ĝ‖ / (‖2ĝ‖ + ‖ĝ‖) = 1/3 exactly, whatever ĝ is.
    expect(r.W2.relativeError).toBeCloseTo(1 / 3, 8);
    expect([r.W1.status, r.b1.status, r.b2.status]).toEqual(['pass', 'pass', 'pass']);
  });

  it('fails only the tensor with a flipped sign (relative error 1) or a missing term', async () => {
    const sign = byName(await checkProgram(functionProgram(netModel((g) => { g.b1 = g.b1.map((x) => -x); })), options()));
    expect(sign.b1.status).toBe('fail');
    expect(sign.b1.relativeError).toBeCloseTo(1, 8);
    expect([sign.W1.status, sign.W2.status, sign.b2.status]).toEqual(['pass', 'pass', 'pass']);
    // The L2 term's λ·W1 left out of dW1.
    const missing = await checkProgram(functionProgram(netModel((g, p) => {
      const W1 = (p as unknown as Net).W1;
      g.W1 = g.W1.map((r, i) => r.map((x, j) => x - LAMBDA * W1[i][j]));
    })), options());
    expect(missing.checks.map((c) => c.status)).toEqual(['fail', 'pass', 'pass', 'pass']);
    expect(missing.ok).toBe(false);
  });

  it('takes each step the program really takes: θ + δ exactly representable, and divides by it', async () => {
    const seen: CostRequest[] = [];
    const inner = functionProgram(netModel());
    const program: CostProgram = { ...inner, costs: (rs) => { seen.push(...rs); return inner.costs(rs); } };
    const r = await checkProgram(program, options());
    expect(r.ok).toBe(true);
    const values = new Map(inner.params.map((p) => [p.name, p.value.data]));
    const steps = seen.filter((s): s is Extract<CostRequest, { index: number[] }> => 'index' in s);
    expect(steps.length).toBeGreaterThan(20);
    for (const s of steps) {
      const data = values.get(s.param)!;
      const flat = s.index.length === 2 ? s.index[0] * 2 + s.index[1] : s.index.length === 1 ? s.index[0] : 0;
      expect((data[flat] + s.delta) - data[flat]).toBe(s.delta);
    }
  });

  it('checks every tensor at exactly --epsilon when it is given', async () => {
    const r = await checkProgram(functionProgram(netModel()), options({ epsilon: 1e-5, fixedStep: true }));
    expect(r.checks.map((c) => c.epsilon)).toEqual([1e-5, 1e-5, 1e-5, 1e-5]);
    expect(r.ok).toBe(true);
  });
});

describe('checkProgram: precision and floors', () => {
  const f = Math.fround;
  const net32 = (): ModelFunctions => ({
    params: { W1: NET.W1.map((r) => r.map(f)), b1: NET.b1.map(f), W2: NET.W2.map(f), b2: f(NET.b2) } as unknown as ModelParams,
    // The program sets θ + δ in float32, and computes in float32 throughout.
    cost: (p) => net(roundAll(p), f).J,
    grads: (p) => {
      const g = net(roundAll(p), f).grads;
      return { W1: g.W1.map((r) => r.map(f)), b1: g.b1.map(f), W2: g.W2.map(f), b2: f(g.b2) } as unknown as ModelParams;
    },
  });
  const roundAll = (p: ModelParams): ModelParams => JSON.parse(JSON.stringify(p), (_k, v) => (typeof v === 'number' ? f(v) : v));

  it('recognises a float32 program from its values and passes it with float32 judgement', async () => {
    const r = await checkProgram(functionProgram(net32()), options());
    expect(r.checks.every((c) => c.precision === 'float32')).toBe(true);
    expect(r.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(r.ok).toBe(true);
    expect(r.settings.tolerance).toBe(1e-3);
    expect(r.findings.map((x) => x.code)).toEqual(['float32-program']);
    // float32's differences are far coarser than float64's: a float64 program's error is far smaller.
    expect(Math.max(...r.checks.map((c) => c.relativeError))).toBeGreaterThan(1e-8);
  });

  it('still fails a float32 program\'s wrong tensor', async () => {
    const m = net32();
    const grads = m.grads;
    m.grads = async (p) => { const g = await grads(p) as unknown as Net; g.W2 = g.W2.map((x) => f(1.5 * x)); return g as unknown as ModelParams; };
    const r = byName(await checkProgram(functionProgram(m), options()));
    expect(r.W2.status).toBe('fail');
    expect([r.W1.status, r.b1.status, r.b2.status]).toEqual(['pass', 'pass', 'pass']);
  });

  it('takes the hello\'s dtype as said', async () => {
    const r = await checkProgram(functionProgram({ ...net32(), dtype: 'float32' }), options({ tolerance: 1e-2 }));
    expect(r.settings.tolerance).toBe(1e-2);
    expect(r.checks.every((c) => c.precision === 'float32')).toBe(true);
  });

  // J ≈ 1e6 with gradients of 1e-6·e^θ: the rounding of J alone, u·1e6 ≈ 1e-10, divided by any step
  // that keeps the truncation small, is far above what a relative error of 1e-6 needs.
  const bigJ = (factor = 1): ModelFunctions => ({
    params: { w: [0.1, -0.3, 0.7, 0.2] },
    cost: (p) => 1e6 + (p.w as number[]).reduce((a, x) => a + 1e-6 * Math.exp(x), 0),
    grads: (p) => ({ w: (p.w as number[]).map((x) => factor * 1e-6 * Math.exp(x)) }),
  });

  it('calls a disagreement within the floor of a big-J program unresolved, never a failure', async () => {
    const r = await checkProgram(functionProgram(bigJ()), options());
    const c = r.checks[0];
    expect(c.status).toBe('warn');
    expect(c.resolution).toBe('unresolved');
    expect(c.floor).toBeGreaterThanOrEqual(1e-6);
    expect(c.relativeError).toBeGreaterThan(1e-6);
    expect(r.ok).toBe(true);
    const finding = r.findings.find((x) => x.code === 'unresolved-gradients' || x.code === 'gradients-below-floor')!;
    expect(finding.param).toBe('w');
    expect(finding.fix).toMatch(/Richardson/);
    expect(finding.fix).toMatch(/--taylor/);
    expect(renderTable(r, false)).toMatch(/unresolved \(floor /);
    expect(renderMarkdown(r)).toMatch(/unresolved \(floor /);
    expect(renderHtml(r, {})).toMatch(/unresolved \(floor /);
    expect(renderJunit(r)).toMatch(/unresolved \(floor [^)]+\), not a failure/);
  });

  it('still fails a big-J program whose gradient is twice the truth', async () => {
    const r = await checkProgram(functionProgram(bigJ(2)), options());
    expect(r.checks[0].status).toBe('fail');
    expect(r.checks[0].resolution).toBeUndefined();
    expect(r.ok).toBe(false);
  });

  it('says that gradients far below the floor cannot be checked, and what would resolve them', async () => {
    // float32, J ≈ 0.69, gradients of 1e-7: the seed story.
    const f32 = Math.fround;
    const tiny: ModelFunctions = {
      params: { w: [f32(0.25), f32(-0.5), f32(0.75)] },
      cost: (p) => f32(f32(0.6931472) + f32((p.w as number[]).reduce((a, x) => f32(a + f32(1e-7 * f32(x))), 0))),
      grads: () => ({ w: [f32(1e-7), f32(1e-7), f32(1e-7)] }),
      dtype: 'float32',
    };
    const r = await checkProgram(functionProgram(tiny), options());
    expect(r.checks[0].status).toBe('warn');
    expect(r.checks[0].resolution).toBe('unresolved');
    expect(r.ok).toBe(true);
    const finding = r.findings.find((x) => x.code === 'gradients-below-floor')!;
    expect(finding.fix).toMatch(/float64/);
  });
});

describe('checkProgram: kinks and determinism', () => {
  it('finds |x| and a ReLU at exactly 0 as kinks, and accepts any slope between the one-sided ones', async () => {
    const m: ModelFunctions = {
      // |x₀| + 2·relu(x₀) at x₀ = 0 (slopes −1 and 3: the central difference, 1, is neither); relu(w·a)
      // with w·a exactly 0. The gradients take the left slope at 0 for the relus, 0 for |x|.
      params: { x: [0, 0.5, -1.2], w: [1, -1] },
      cost: (p) => {
        const x = p.x as number[], w = p.w as number[];
        return x.reduce((a, v) => a + Math.abs(v) + 2 * Math.max(0, v) + v * v, 0) + 3 * Math.max(0, w[0] * 0.75 + w[1] * 0.75);
      },
      grads: (p) => ({ x: (p.x as number[]).map((v) => Math.sign(v) + (v > 0 ? 2 : 0) + 2 * v), w: [0, 0] }),
    };
    const r = byName(await checkProgram(functionProgram(m), options()));
    expect(r.x.kinks).toBe(1);
    expect(r.w.kinks).toBe(2);
    expect([r.x.status, r.w.status]).toEqual(['pass', 'pass']);
  });

  it('never fails a right gradient whose kink lies within the step, element-wise or along directions', async () => {
    // relu(x₀) with x₀ = 1e-7, far inside any step the check takes.
    const m: ModelFunctions = {
      params: { x: [1e-7, 0.3, -0.2, 0.5, 1.0, -0.7, 0.05, 2] },
      cost: (p) => (p.x as number[]).reduce((a, v, i) => a + Math.max(0, v) * (i + 1) + v * v * v, 0),
      grads: (p) => ({ x: (p.x as number[]).map((v, i) => (v > 0 ? i + 1 : 0) + 3 * v * v) }),
    };
    for (const mode of ['full', 'sample', 'directional'] as const) {
      const r = await checkProgram(functionProgram(m), options({ mode, samples: 4 }));
      expect(r.checks[0].status, mode).not.toBe('fail');
      expect(r.ok, mode).toBe(true);
    }
  });

  it('fails a gradient outside the interval at a kink', async () => {
    const m: ModelFunctions = {
      params: { x: [0, 0.5] },
      cost: (p) => (p.x as number[]).reduce((a, v) => a + Math.abs(v), 0),
      grads: () => ({ x: [3, 1] }),
    };
    const r = await checkProgram(functionProgram(m), options());
    expect(r.checks[0].kinks).toBe(1);
    expect(r.checks[0].status).toBe('fail');
  });

  it('reports a cost that changes between identical calls, exit 1, and no gradient verdict', async () => {
    // A dropout-like mask drawn per call from a seeded stream.
    let state = 7;
    const noise = () => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648 - 0.5; };
    const m = netModel((g) => { g.W2 = g.W2.map((x) => 2 * x); });
    m.cost = (p) => net(p).J * (1 + 1e-3 * noise());
    const r = await checkProgram(functionProgram(m), options());
    expect(r.ok).toBe(false);
    const finding = r.findings.find((x) => x.code === 'nondeterministic-cost')!;
    expect(finding.severity).toBe('error');
    expect(finding.evidence!.spread).toBeGreaterThan(0);
    expect(finding.fix).toMatch(/dropout/);
    // Not even the wrong W2 is failed on such numbers.
    expect(r.checks.every((c) => c.status === 'warn' && c.resolution === 'nondeterministic')).toBe(true);
    expect(renderTable(r, false)).toMatch(/no verdict/);
    // Noise makes one-sided gaps that do not shrink: they are not reported as kinks, and the
    // differences' norms are not shown as the gradients' health.
    expect(r.checks.map((c) => c.kinks)).toEqual(r.checks.map(() => 0));
    expect(r.findings.map((x) => x.code)).not.toContain('kink');
    expect(r.health.layers).toEqual([]);
    // No format calls it a pass: the Markdown headline and a failing JUnit testcase say "no verdict".
    expect(renderMarkdown(r).split('\n')[0]).toBe('### backprop-check: ❌ no verdict (nondeterministic-cost)');
    expect(renderJunit(r)).toMatch(/<testsuites name="backprop-check" tests="\d+" failures="1"/);
    expect(renderJunit(r)).toContain('<failure message="no verdict: nondeterministic-cost" type="no-verdict">');
  });

  it('lets a spread of a few units of rounding only widen the floor', async () => {
    let calls = 0;
    const m = netModel();
    // Every other call one ulp off: deterministic to a few ulps, not a finding.
    m.cost = (p) => { const J = net(p).J; return calls++ % 2 === 0 ? J : J * (1 + Number.EPSILON); };
    const r = await checkProgram(functionProgram(m), options());
    expect(r.findings.map((x) => x.code)).not.toContain('nondeterministic-cost');
    expect(r.ok).toBe(true);
  });
});

describe('checkProgram: modes, Taylor, sweep, interrupts, limits', () => {
  it('checks a seeded sample per tensor in sample mode, the same for the same seed', async () => {
    const wide: ModelFunctions = {
      params: { w: Array.from({ length: 50 }, (_, i) => Math.sin(i)) },
      cost: (p) => (p.w as number[]).reduce((a, x, i) => a + Math.cos(x) * (i + 1), 0),
      grads: (p) => ({ w: (p.w as number[]).map((x, i) => (i === 17 ? 0 : -Math.sin(x) * (i + 1))) }),
    };
    const a = await checkProgram(functionProgram(wide), options({ mode: 'sample', samples: 5 }));
    const b = await checkProgram(functionProgram(wide), options({ mode: 'sample', samples: 5 }));
    expect(a.checks[0].checked).toBe(5);
    expect(a.checks[0].worst).toEqual(b.checks[0].worst);
    expect(a.settings.samples).toBe(5);
    // All 50 in full mode: element 17 is wrong.
    const full = await checkProgram(functionProgram(wide), options());
    expect(full.checks[0].status).toBe('fail');
    expect(full.checks[0].worst!.index).toEqual([17]);
  });

  it('compares along seeded unit directions in directional mode and still finds the bug', async () => {
    const good = await checkProgram(functionProgram(netModel()), options({ mode: 'directional', samples: 3 }));
    expect(good.checks.every((c) => c.checked === 3 && c.status === 'pass')).toBe(true);
    const bad = byName(await checkProgram(functionProgram(netModel((g) => { g.W1[1][0] *= 3; })), options({ mode: 'directional', samples: 3 })));
    expect(bad.W1.status).toBe('fail');
    expect(bad.W2.status).toBe('pass');
  });

  it('gives the Taylor order ≈ 2 for right gradients and ≈ 1 for wrong ones', async () => {
    const r = byName(await checkProgram(functionProgram(netModel((g) => { g.b2 *= -1; })), options({ taylor: true })));
    expect(r.W1.taylorStatus).toBe('pass');
    expect(r.W1.taylorOrder!).toBeCloseTo(2, 1);
    expect(r.b2.taylorStatus).toBe('fail');
    expect(r.b2.taylorOrder!).toBeCloseTo(1, 1);
  });

  it('sweeps the relative error against ε per tensor: the V of plain subtraction, bottom near the step used', async () => {
    const r = await checkProgram(functionProgram(netModel()), options({ sweep: true }));
    const s = r.sweep!;
    expect(s.tensors.map((t) => t.param)).toEqual(['W1', 'b1', 'W2', 'b2']);
    for (const t of s.tensors) {
      expect(t.plain).toHaveLength(s.epsilons.length);
      expect(t.accurate).toEqual(t.plain);
      expect(t.chosen).toBe(r.checks.find((c) => c.param === t.param)!.epsilon);
    }
    const W1 = s.tensors[0].plain;
    // Right arm: at 1e-12 rounding of J/ε dominates; left arm: truncation at 1e-1; the bottom far below both.
    expect(Math.min(...W1)).toBeLessThan(1e-8);
    expect(W1[W1.length - 1]).toBeGreaterThan(10 * Math.min(...W1));
    expect(W1[0]).toBeGreaterThan(10 * Math.min(...W1));
    expect(s.perTensor.W1).toBe(s.tensors[0].chosen);
    // Rendered as what it is: a marked ε, each tensor at its own step.
    expect(renderSweep(s, false)).toMatch(/Each tensor is checked at its own step:\nW1 [^,]+, b1 /);
    expect(renderHtml(r, {})).not.toMatch(/chosen by the step sweep/);
  });

  it('gives a partial report when told to stop, listing the tensors not reached', async () => {
    let polls = 0;
    const r = await checkProgram(functionProgram(netModel()), options({ shouldStop: () => ++polls >= 2 }));
    expect(r.partial).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.checks.map((c) => c.param)).toEqual(['W1', 'b1', 'W2', 'b2']);
    expect(r.checks.filter((c) => c.checked === 0).map((c) => [c.param, c.planned])).toEqual([['W2', 3], ['b2', 1]]);
  });

  it('reports progress up to the total', async () => {
    const seen: [number, number][] = [];
    await checkProgram(functionProgram(netModel()), options({ onProgress: (d, t) => seen.push([d, t]) }));
    // 6 + 3 + 3 + 1 elements.
    expect(seen[seen.length - 1]).toEqual([13, 13]);
  });

  it('checks a seeded sample within --max-evaluations, and says how to check everything', async () => {
    let calls = 0;
    const n = 3000;
    const big: ModelFunctions = {
      params: { a: Array.from({ length: n }, (_, i) => Math.cos(i)), b: [0.5, 0.25] },
      cost: (p) => { calls++; return (p.a as number[]).reduce((s, x) => s + 0.5 * x * x, 0) + (p.b as number[]).reduce((s, x) => s + x ** 3, 0); },
      grads: (p) => ({ a: (p.a as number[]).slice(), b: (p.b as number[]).map((x) => 3 * x * x) }),
    };
    const r = await checkProgram(functionProgram(big), options({ maxEvaluations: 1000 }));
    expect(calls).toBeLessThanOrEqual(1000);
    const limit = r.findings.find((x) => x.code === 'evaluation-limit')!;
    expect(limit.severity).toBe('info');
    expect(limit.fix).toMatch(/--max-evaluations \d+/);
    expect(r.checks[0].checked).toBeLessThan(n);
    expect(r.checks[0].checked).toBeGreaterThan(100);
    expect(r.checks[1].checked).toBeGreaterThanOrEqual(1);
    expect(r.ok).toBe(true);
    // Under the default limit, everything.
    calls = 0;
    const all = await checkProgram(functionProgram(big), options());
    expect(all.checks[0].checked).toBe(n);
    expect(all.findings.map((x) => x.code)).not.toContain('evaluation-limit');
  });
});

describe('functions.ts and check({ model })', () => {
  it('refuses misshapen, missing and extra gradients and a cost that is not a number', async () => {
    const base = netModel();
    const withGrads = (grads: ModelFunctions['grads']) => functionProgram({ ...base, grads });
    await expect(withGrads(() => ({ ...net(NET as unknown as ModelParams).grads, b1: [1, 2] }) as unknown as ModelParams).grads()).rejects.toThrow(/shape \[3\]/);
    await expect(withGrads(() => ({ W1: [[0, 0], [0, 0], [0, 0]] })).grads()).rejects.toThrow(/none for b1, W2, b2/);
    await expect(withGrads(() => ({ ...net(NET as unknown as ModelParams).grads, c: 1 }) as unknown as ModelParams).grads()).rejects.toThrow(/extra tensor "c"/);
    await expect(functionProgram({ ...base, cost: () => 'x' as unknown as number }).cost()).rejects.toThrow(UserError);
    expect(() => functionProgram({ ...base, params: { w: [[1, 2], [3]] } })).toThrow(/a list of 2/);
    expect(() => functionProgram({ ...base, layers: [['W1', 'nope']] })).toThrow(/"nope"/);
  });

  it('never lets the functions change the checked point', async () => {
    const m = netModel();
    const cost = m.cost;
    m.cost = (p) => { const J = cost(p); (p.W2 as number[])[0] = 99; return J; };
    const r = await checkProgram(functionProgram(m), options());
    expect(r.ok).toBe(true);
  });

  it('runs the library\'s check({ model }) in process, with async functions and { shape, data } tensors', async () => {
    const report = await check({
      model: {
        params: { w: { shape: [2, 2], data: [0.5, -1, 2, 0.25] } },
        cost: async (p) => { const d = (p.w as { data: ArrayLike<number> }).data; let s = 0; for (let i = 0; i < 4; i++) s += Math.sin(d[i]); return s; },
        grads: async (p) => ({ w: { shape: [2, 2], data: Array.from((p.w as { data: ArrayLike<number> }).data, Math.cos) } }),
      },
      taylor: true,
    });
    expect(report.ok).toBe(true);
    expect(report.checks[0].shape).toEqual([2, 2]);
    expect(report.checks[0].taylorStatus).toBe('pass');
    // Chart data is left out, as in --format json.
    expect(report.checks[0]).not.toHaveProperty('values');
  });

  it('checks the library\'s settings for a model as the command line checks its flags', async () => {
    const model = { params: { w: [0.5] }, cost: (p: ModelParams) => (p.w as number[])[0] ** 2, grads: (p: ModelParams) => ({ w: [2 * (p.w as number[])[0]] }) };
    await expect(check({ model, epsilon: 5 })).rejects.toThrow(/epsilon: expected a step/);
    await expect(check({ model, sweep: true, epsilon: 1e-4 })).rejects.toThrow(/either --sweep or --epsilon/);
    await expect(check({ model, params: 'p.npz' } as never)).rejects.toThrow(/no --params with --model/);
  });

  it('renders a program\'s failing report in every format', async () => {
    const r = await checkProgram(functionProgram(netModel((g) => { g.W2 = g.W2.map((x) => 2 * x); })), options());
    expect(renderTable(r, false)).toMatch(/1 of 4 tensors fail \(W2\): your program's gradients/);
    expect(renderTable(r, false)).toMatch(/ε per tensor/);
    expect(renderJunit(r)).toMatch(/<failure/);
    const html = renderHtml(r, {});
    expect(html).toMatch(/std of weights/);
    expect(html).not.toMatch(/undefined/);
  });
});
