// The error itself, decomposed (core/diagnose/decompose.ts): each direction on a tensor built to
// have exactly that error, the pairs, the tensors too small to say anything, the factor left to the
// loss conventions; then the calibration net of the issue (4-5-3-1 tanh-tanh-sigmoid, BCE, m = 20)
// with +0.1/m·W in every dW and +0.01 on every db, and a --model program whose dW carries an L2
// term its cost lacks. Correct gradients never get a finding.
import { describe, expect, it } from 'vitest';
import { check, DEFAULT_OPTIONS } from '../src/core/check/check.js';
import { checkProgram } from '../src/core/check/program-check.js';
import { diagnoser } from '../src/core/diagnose/index.js';
import { decompose, type Subject } from '../src/core/diagnose/decompose.js';
import { categoryOf } from '../src/core/findings/registry.js';
import { namedTensors, paramLabel, type Grads, type Params } from '../src/core/model.js';
import { Random } from '../src/core/random.js';
import type { Report } from '../src/core/report.js';
import { functionProgram, type ModelParams } from '../src/core/session/functions.js';
import { zeros, type Tensor } from '../src/core/tensor.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { userBackprop } from '../tools/matrix.js';

const rng = new Random(7);
const draw = (n: number) => Float64Array.from({ length: n }, () => rng.normal());

function subject(label: string, layer: number, shape: number[], R: Float64Array, G: Float64Array, value: Float64Array | null = null): Subject {
  return { label, layer, shape, R, G, value, full: true };
}

describe('decompose: one direction per tensor', () => {
  const R = draw(12), W = draw(12);
  const one = (G: Float64Array, value: Float64Array | null = W, shape = [3, 4], label = 'W2') => decompose([subject(label, 2, shape, R, G, value)], [], null, 4);

  it('an L2 term: G = Ĝ + 0.05·W', () => {
    const d = one(R.map((r, i) => r + 0.05 * W[i]));
    expect(d.findings.map((f) => f.code)).toEqual(['wrong-l2-gradient']);
    expect(d.findings[0].evidence?.b).toBeCloseTo(0.05, 12);
  });

  it('an L1 term, a constant, a penalty on b', () => {
    expect(one(R.map((r, i) => r - 0.02 * Math.sign(W[i]))).findings.map((f) => [f.code, f.evidence?.b])).toEqual([['l1-gradient', expect.closeTo(-0.02, 12)]]);
    expect(one(R.map((r) => r + 0.01)).findings.map((f) => f.code)).toEqual(['constant-offset']);
    expect(one(R.map((r, i) => r + 0.3 * W[i]), W, [12, 1], 'b2').findings.map((f) => f.code)).toEqual(['bias-penalty']);
  });

  it('a factor on one tensor of four is named; the same factor on every tensor is left to the conventions', () => {
    expect(one(R.map((r) => -r)).findings.map((f) => [f.code, f.evidence?.a])).toEqual([['constant-factor', expect.closeTo(-1, 12)]]);
    const S = draw(6);
    const all = decompose([subject('W1', 1, [3, 4], R, R.map((r) => 0.5 * r)), subject('b1', 1, [6, 1], S, S.map((s) => 0.5 * s))], [], null, 2);
    expect(all.findings).toEqual([]);
    expect(all.closest.get('W1')?.text).toBe('W1: G = 0.5·Ĝ, residual 0');
  });

  it('Ĝᵀ on a square tensor, another tensor of the same shape, broadcast structure', () => {
    const Q = draw(9), T = Float64Array.from({ length: 9 }, (_v, k) => Q[(k % 3) * 3 + Math.floor(k / 3)]);
    expect(decompose([subject('W2', 2, [3, 3], Q, T.map((t) => 2 * t))], [], null, 4).findings.map((f) => f.code)).toEqual(['transposed-gradient']);
    const other = subject('W3', 3, [3, 4], W, new Float64Array(0));
    expect(decompose([subject('W2', 2, [3, 4], R, W.slice())], [other], null, 4).findings.map((f) => f.code)).toEqual(['gradient-of-other-tensor']);
    // Every row of G is the same: a (1, n) array broadcast over the units.
    const row = draw(4), G = Float64Array.from({ length: 12 }, (_v, k) => row[k % 4]);
    const d = decompose([subject('W2', 2, [3, 4], R, G)], [], null, 4);
    expect(d.findings.map((f) => f.code)).toEqual(['broadcast-gradient']);
    expect(d.findings[0].message).toContain('every row of the gradient is the same row');
  });

  it('a pair: G = 0.5·Ĝ + 0.05·W is named with both numbers', () => {
    const d = one(R.map((r, i) => 0.5 * r + 0.05 * W[i]));
    expect(d.findings.map((f) => [f.code, f.evidence?.a, f.evidence?.b])).toEqual([['wrong-l2-gradient', expect.closeTo(0.5, 10), expect.closeTo(0.05, 10)]]);
  });

  it('an error on no direction is no finding, only the closest fit with its residual', () => {
    const d = one(R.map((r, i) => r + 0.1 * Math.sin(7 * i) * R[(i * 5) % 12]));
    expect(d.findings).toEqual([]);
    expect(d.closest.get('W2')!.residual).toBeGreaterThan(1e-3);
  });

  it('a (1, 1) tensor is explained only by joining a larger one with the same numbers', () => {
    const S = draw(5), s = draw(1);
    const alone = decompose([subject('b3', 3, [1, 1], s, s.map((x) => x + 0.01), draw(1))], [], null, 6);
    expect(alone.findings).toEqual([]);
    const joined = decompose([subject('b1', 1, [5, 1], S, S.map((x) => x + 0.01), draw(5)), subject('b3', 3, [1, 1], s, s.map((x) => x + 0.01), draw(1))], [], null, 6);
    expect(joined.findings.map((f) => [f.code, f.params])).toEqual([['constant-offset', ['b1', 'b3']]]);
  });

  it('a tensor equal to its reference has nothing to explain', () => {
    expect(one(R.slice()).findings).toEqual([]);
  });
});

// The calibration net: 4-5-3-1, tanh-tanh-sigmoid, binary cross-entropy, m = 20, seeded.
function calibration() {
  const model = withInputs(parseSpec({ input: 4, layers: [{ units: 5, activation: 'tanh' }, { units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 'test').model, 4);
  const r = new Random(3), m = 20;
  const X = zeros([4, m]), Y = zeros([1, m]);
  X.data.forEach((_v, i) => { X.data[i] = r.normal(); });
  Y.data.forEach((_v, i) => { Y.data[i] = r.uniform() > 0.5 ? 1 : 0; });
  const sizes = [4, 5, 3, 1];
  const params: Params = sizes.slice(1).map((u, l) => ({
    W: { shape: [u, sizes[l]], data: Float64Array.from({ length: u * sizes[l] }, () => 0.7 * r.normal()) } as Tensor,
    b: { shape: [u, 1], data: Float64Array.from({ length: u }, () => 0.1 * r.normal()) } as Tensor,
  }));
  return { model, params, X, Y, m };
}

function withChange(grads: Grads, f: (name: string, g: Float64Array, p: Float64Array) => void, params: Params): Grads {
  return grads.map((layer, l) => Object.fromEntries(Object.entries(layer).map(([name, t]) => {
    const g = Float64Array.from(t.data);
    f(name, g, params[l][name].data as Float64Array);
    return [name, { ...t, data: g }];
  })));
}

const roots = (r: Report) => r.findings.filter((f) => categoryOf(f.code) === 'root');

describe('decompose in the diagnosis: the calibration net', () => {
  const { model, params, X, Y, m } = calibration();
  const right = userBackprop(model, params, X, Y, null);
  const run = (grads: Grads) => check({ model, params, X, Y, gradients: { source: 'grads', grads } }, { ...DEFAULT_OPTIONS }, diagnoser(null));

  it('+0.1/m·W in every dW with no L2 in net.json: one wrong-l2-gradient on W1..W3 with λ = 0.1', () => {
    const r = run(withChange(right, (name, g, p) => { if (name === 'W') g.forEach((_v, i) => { g[i] += (0.1 / m) * p[i]; }); }, params));
    expect(r.ok).toBe(false);
    const f = roots(r);
    expect(f.map((x) => [x.code, x.params])).toEqual([['wrong-l2-gradient', ['W1', 'W2', 'W3']]]);
    expect(f[0].message).toContain('0.005·W is λ/m·W with λ = 0.1 (m = 20)');
    expect(f[0].fix).toContain('"l2": { "lambda": 0.1 }');
  });

  it('+0.01 on every db: one constant-offset on b1..b3 with c = 0.01', () => {
    const r = run(withChange(right, (name, g) => { if (name === 'b') g.forEach((_v, i) => { g[i] += 0.01; }); }, params));
    const f = roots(r);
    expect(f.map((x) => [x.code, x.params, x.evidence?.b])).toEqual([['constant-offset', ['b1', 'b2', 'b3'], expect.closeTo(0.01, 12)]]);
  });

  it('½ on every tensor stays gradient-mismatch (a loss convention), with the closest fit as evidence', () => {
    const r = run(withChange(right, (_n, g) => g.forEach((_v, i) => { g[i] *= 0.5; }), params));
    const f = roots(r);
    expect(f.map((x) => x.code)).toEqual(['gradient-mismatch']);
    expect(f[0].evidence?.closest).toContain('W3: G = 0.5·Ĝ');
  });

  it('correct gradients: no finding at all from the decomposition', () => {
    expect(roots(run(right))).toEqual([]);
  });
});

describe('decompose on a --model program', () => {
  const { model, params, X, Y } = calibration();
  const refs = namedTensors(model, params);
  const paramsOf = (p: ModelParams): Params => params.map((layer, l) => Object.fromEntries(Object.entries(layer).map(([name, t]) =>
    [name, { ...t, data: Float64Array.from((p[paramLabel({ layer: l, name })] as { data: ArrayLike<number> }).data) }])));
  // The program's cost has no L2 term; its dW adds λ·W with λ = 0.02 (bug) or nothing.
  const programOf = (lambda: number) => functionProgram({
    params: Object.fromEntries(refs.map((r) => [r.label, r.value])) as unknown as ModelParams,
    layers: [['W1', 'b1'], ['W2', 'b2'], ['W3', 'b3']],
    cost: (p) => check({ model, params: paramsOf(p), X, Y, gradients: { source: 'correct' } }, { ...DEFAULT_OPTIONS }).loss,
    grads: (p) => {
      const at = paramsOf(p);
      const g = withChange(userBackprop(model, at, X, Y, null), (name, x, w) => { if (name === 'W') x.forEach((_v, i) => { x[i] += lambda * w[i]; }); }, at);
      return Object.fromEntries(namedTensors(model, g).map((t) => [t.label, t.value])) as unknown as ModelParams;
    },
  });

  it('an L2 term the cost lacks: wrong-l2-gradient on W1..W3, coefficient 0.02, against the finite differences', async () => {
    const r = await checkProgram(programOf(0.02), { ...DEFAULT_OPTIONS });
    expect(r.ok).toBe(false);
    const f = roots(r);
    expect(f.map((x) => [x.code, x.params])).toEqual([['wrong-l2-gradient', ['W1', 'W2', 'W3']]]);
    expect(f[0].evidence?.b).toBeCloseTo(0.02, 6);
    expect(f[0].message).toContain("the finite-difference gradient of your program's cost");
  });

  it('the fixed program: no finding', async () => {
    const r = await checkProgram(programOf(0), { ...DEFAULT_OPTIONS });
    expect(r.ok).toBe(true);
    expect(roots(r)).toEqual([]);
  });
});
