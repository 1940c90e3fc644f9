// Known answers for every activation record: f, f' (against an independent central difference),
// and `difference`, which must equal f(z + d) − f(z) and stay accurate where plain subtraction is not.
import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_NAMES, customActivation, elu, leakyRelu, namedActivation, sigmoid,
  softmaxBackwardColumns, softmaxColumns, softmaxDifferenceColumns, type Activation,
} from '../src/core/records/activations.js';

const named = (name: string): Activation => {
  const a = namedActivation(name);
  if (!a) throw new Error(`no activation ${name}`);
  return a;
};

/** |x − y| / max(|y|, floor): relative error with a floor for values near 0. */
const rel = (x: number, y: number, floor = 1e-300) => Math.abs(x - y) / Math.max(Math.abs(y), floor);

// Every element-wise record, with the spec names and parameters users can write.
const ELEMENTWISE: [string, Activation][] = [
  ['sigmoid', named('sigmoid')],
  ['tanh', named('tanh')],
  ['relu', named('relu')],
  ['leaky_relu', named('leaky_relu')],
  ['leaky_relu(0.1)', leakyRelu(0.1)],
  ['linear', named('linear')],
  ['softplus', named('softplus')],
  ['elu', named('elu')],
  ['elu(0.5)', elu(0.5)],
  ['swish expr', customActivation('z / (1 + exp(-z))')],
  ['sigmoid*softplus expr', customActivation('sigmoid(z) * softplus(z)')],
];

describe('the activation names', () => {
  it('are the ones SPEC.md lists', () => {
    // SPEC.md, "net.json": layers[].activation.
    expect([...ACTIVATION_NAMES].sort()).toEqual(['elu', 'leaky_relu', 'linear', 'relu', 'sigmoid', 'softmax', 'softplus', 'tanh']);
    expect(namedActivation('swish')).toBeUndefined();
    expect(namedActivation('constructor')).toBeUndefined();
  });
});

describe('values', () => {
  // Reference values from mpmath at 50 digits, rounded to double:
  //   from mpmath import mp, mpf, exp, log, tanh; mp.dps = 50
  //   [float(f(mpf(z))) for z in (-1.5, 0.3, 2.0)] with f = 1/(1+exp(-z)), tanh, log(1+exp(z)),
  //   exp(z)-1 (z ≤ 0), 0.5*(exp(z)-1) (z ≤ 0), z/(1+exp(-z)).
  const table: [Activation, number[]][] = [
    [named('sigmoid'), [0.18242552380635635, 0.574442516811659, 0.8807970779778824]],
    [named('tanh'), [-0.9051482536448664, 0.2913126124515909, 0.9640275800758169]],
    [named('softplus'), [0.2014132779827524, 0.8543552444685271, 2.1269280110429727]],
    [named('elu'), [-0.7768698398515702, 0.3, 2.0]],
    [elu(0.5), [-0.3884349199257851, 0.3, 2.0]],
    [customActivation('z / (1 + exp(-z))'), [-0.2736382857095345, 0.17233275504349768, 1.7615941559557649]],
  ];
  it.each(table.map(([a, v]) => [a.name, a, v] as const))('%s at -1.5, 0.3, 2', (_name, act, values) => {
    [-1.5, 0.3, 2].forEach((z, i) => expect(rel(act.f(z), values[i])).toBeLessThanOrEqual(2e-16));
  });

  it('piecewise-linear ones by definition (SPEC.md; leaky_relu alpha 0.01 by default)', () => {
    expect(named('relu').f(-2) === 0).toBe(true); // −0 (0·z) is 0
    expect(named('relu').f(3)).toBe(3);
    expect([named('leaky_relu').f(-2), named('leaky_relu').f(3)]).toEqual([-0.02, 3]);
    expect([leakyRelu(0.1).f(-2), leakyRelu(0.1).f(3)]).toEqual([-0.2, 3]);
    expect([named('linear').f(-2.5), named('linear').f(3)]).toEqual([-2.5, 3]);
    expect(named('relu').f(0) === 0).toBe(true);
  });

  it('sigmoid and softplus do not overflow far out (σ(±800) is 1 and 0; softplus(800) = 800)', () => {
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-800)).toBe(0);
    expect(named('softplus').f(800)).toBe(800);
    expect(named('softplus').f(-800)).toBe(0);
    // σ(−40) = e^−40 / (1 + e^−40) ≈ 4.248354255291589e-18 (mpmath); 1 − σ(40) would round to 0.
    expect(rel(sigmoid(-40), 4.248354255291589e-18)).toBeLessThan(1e-15);
  });

  it('names say the parameters', () => {
    expect(named('leaky_relu').name).toBe('leaky_relu(0.01)');
    expect(leakyRelu(0.1).name).toBe('leaky_relu(0.1)');
    expect(named('elu').name).toBe('elu');
    expect(elu(0.5).name).toBe('elu(0.5)');
    expect(customActivation('z / (1 + exp(-z))').name).toBe('expr(z / (1 + exp(-z)))');
  });
});

describe('derivatives', () => {
  // Points away from the kink at 0, where the central difference is an independent reference:
  // (f(z + h) − f(z − h)) / 2h has truncation error f'''·h²/6 ≈ 1e-10 and rounding ≈ 1e-11 at h = 1e-5.
  const points = [-1.7, -0.4, 0.35, 1.3];
  it.each(ELEMENTWISE)('%s: f\'(z) matches a central difference', (_name, act) => {
    for (const z of points) {
      const h = 1e-5;
      const numeric = (act.f(z + h) - act.f(z - h)) / (2 * h);
      expect(Math.abs(act.derivative(z, act.f(z)) - numeric), `z = ${z}`).toBeLessThan(1e-9);
    }
  });

  it('the piecewise ones take the slope below 0 at 0 (the subgradient backprop code uses)', () => {
    expect(named('relu').derivative(0, 0)).toBe(0);
    expect(named('leaky_relu').derivative(0, 0)).toBe(0.01);
    expect(elu(0.5).derivative(0, 0)).toBe(0.5);
  });

  it('the derivative texts say what a user would write', () => {
    expect(named('sigmoid').derivativeText).toBe('a * (1 - a)');
    expect(named('tanh').derivativeText).toBe('1 - a^2');
    expect(named('softplus').derivativeText).toBe('sigmoid(z)');
    // d/dz z/(1+e^−z) = (1 + e^−z + z·e^−z) / (1 + e^−z)², simplified by mathjs.
    const swish = customActivation('z / (1 + exp(-z))');
    expect(swish.derivativeText).toBe('(exp(-z) * (z + 1) + 1) / (exp(-z) + 1) ^ 2');
  });

  it('kinks: the piecewise ones at 0, the smooth ones none', () => {
    for (const name of ['relu', 'leaky_relu', 'elu']) expect(named(name).kinks).toEqual([0]);
    for (const name of ['sigmoid', 'tanh', 'linear', 'softplus']) expect(named(name).kinks).toEqual([]);
  });
});

describe('difference(z, a, d) = f(z + d) − f(z)', () => {
  it.each(ELEMENTWISE)('%s: equals the plain difference for moderate d', (_name, act) => {
    for (const z of [-1.7, -0.4, 0.35, 1.3]) {
      for (const d of [0.25, -0.3, 1e-3]) {
        const plain = act.f(z + d) - act.f(z);
        expect(rel(act.difference(z, act.f(z), d), plain, 1e-12), `z = ${z}, d = ${d}`).toBeLessThan(1e-11);
      }
    }
  });

  it('the piecewise ones across the kink (−0.1 → 0.2)', () => {
    expect(named('relu').difference(-0.1, 0, 0.3)).toBeCloseTo(0.2, 15);
    expect(named('leaky_relu').difference(-0.1, -0.001, 0.3)).toBeCloseTo(0.201, 15);
    expect(elu(0.5).difference(0.1, 0.1, -0.3)).toBeCloseTo(0.5 * Math.expm1(-0.2) - 0.1, 15);
  });

  // Exact f(z + d) − f(z) for d = 1e-13, from mpmath at 50 digits (z and d taken as the doubles):
  //   float(f(mpf(z) + mpf(1e-13)) - f(mpf(z))) for z in (-1.5, 0.3).
  const tiny: [string, Activation, [number, number]][] = [
    ['sigmoid', named('sigmoid'), [1.491464520703376e-14, 2.4445831169074405e-14]],
    ['tanh', named('tanh'), [1.807066389236649e-14, 9.151369618266026e-14]],
    ['softplus', named('softplus'), [1.824255238063638e-14, 5.744425168116712e-14]],
    ['elu', named('elu'), [2.2313016014844098e-14, 1e-13]],
    ['elu(0.5)', elu(0.5), [1.1156508007422049e-14, 1e-13]],
    ['swish expr', customActivation('z / (1 + exp(-z))'), [-4.129415429913513e-15, 6.477800103189067e-14]],
  ];
  it.each(tiny)('%s: accurate to 1e-12 for d = 1e-13', (_name, act, exact) => {
    [-1.5, 0.3].forEach((z, i) => {
      expect(rel(act.difference(z, act.f(z), 1e-13), exact[i]), `z = ${z}`).toBeLessThan(1e-12);
    });
  });

  it('where plain subtraction is not: tanh at z = 0.3, d = 1e-13', () => {
    const exact = 9.151369618266026e-14; // mpmath, above
    const plain = Math.tanh(0.3 + 1e-13) - Math.tanh(0.3);
    expect(rel(plain, exact)).toBeGreaterThan(1e-5); // three or four digits
    expect(rel(named('tanh').difference(0.3, Math.tanh(0.3), 1e-13), exact)).toBeLessThan(1e-14);
  });

  it('linear, relu and leaky_relu give d (or α·d) exactly', () => {
    expect(named('linear').difference(0.3, 0.3, 1e-13)).toBe(1e-13);
    expect(named('relu').difference(0.3, 0.3, 1e-13)).toBe(1e-13);
    expect(named('relu').difference(-0.3, 0, 1e-13)).toBe(0);
    expect(leakyRelu(0.1).difference(-0.3, -0.03, 1e-13)).toBe(0.1 * 1e-13);
  });
});

describe('softmax', () => {
  const softmax = named('softmax');

  it('is not element-wise: it has block functions and no scalar f or difference', () => {
    expect(softmax.diagonal).toBe(false);
    expect('f' in softmax).toBe(false);
    expect('difference' in softmax).toBe(false);
  });

  it('softmaxColumns: the Wikipedia example, column by column', () => {
    // https://en.wikipedia.org/wiki/Softmax_function, "Example": softmax(1, 2, 3, 4, 1, 2, 3) =
    // (0.02364054, 0.06426166, 0.1746813, 0.474833, 0.02364054, 0.06426166, 0.1746813).
    // Two columns (m = 2) stored row-major: the second column is the first shifted by +100.
    const input = [1, 2, 3, 4, 1, 2, 3];
    const z = new Float64Array(14);
    input.forEach((v, k) => { z[2 * k] = v; z[2 * k + 1] = v + 100; });
    const a = new Float64Array(14);
    softmaxColumns(z, a, 7, 2);
    const expected = [0.02364054, 0.06426166, 0.1746813, 0.474833, 0.02364054, 0.06426166, 0.1746813];
    expected.forEach((e, k) => {
      expect(Math.abs(a[2 * k] - e)).toBeLessThan(5e-9);
      expect(Math.abs(a[2 * k + 1] - a[2 * k])).toBeLessThan(1e-15); // shift-invariant, no overflow
    });
  });

  it('softmaxDifferenceColumns: the plain difference for a moderate step', () => {
    const units = 3, m = 2;
    const z = Float64Array.from([0.2, -1.3, -1.0, 0.4, 0.7, 2.1]);
    const dz = Float64Array.from([0.3, 0, -0.2, 0.1, 0.05, -0.4]);
    const a = new Float64Array(6), b = new Float64Array(6), out = new Float64Array(6);
    softmaxColumns(z, a, units, m);
    softmaxColumns(z.map((v, i) => v + dz[i]), b, units, m);
    softmaxDifferenceColumns(a, dz, out, units, m);
    out.forEach((v, i) => expect(Math.abs(v - (b[i] - a[i]))).toBeLessThan(1e-15));
  });

  it('softmaxDifferenceColumns: accurate for a step of 1e-13', () => {
    // mpmath at 50 digits: softmax(z + dz) − softmax(z) for z = (0.2, −1, 0.7), dz = (1e-13, −2e-13, 0).
    const exact = [2.933007939720071e-14, -2.1796747277293965e-14, -7.533332119906741e-15];
    const a = new Float64Array(3), out = new Float64Array(3);
    softmaxColumns(Float64Array.from([0.2, -1.0, 0.7]), a, 3, 1);
    softmaxDifferenceColumns(a, Float64Array.from([1e-13, -2e-13, 0]), out, 3, 1);
    exact.forEach((e, k) => expect(rel(out[k], e)).toBeLessThan(1e-12));
  });

  it('softmaxBackwardColumns: the Jacobian (diag(a) − a·aᵀ) times da, per column', () => {
    const units = 3, m = 2;
    const a = new Float64Array(6);
    softmaxColumns(Float64Array.from([0.2, -1.3, -1.0, 0.4, 0.7, 2.1]), a, units, m);
    const da = Float64Array.from([0.5, -2, 1.5, 0.25, -0.75, 3]);
    const dz = new Float64Array(6);
    softmaxBackwardColumns(a, da, dz, units, m);
    for (let c = 0; c < m; c++) {
      for (let i = 0; i < units; i++) {
        let expected = 0;
        for (let j = 0; j < units; j++) {
          const jac = (i === j ? a[i * m + c] : 0) - a[i * m + c] * a[j * m + c];
          expected += jac * da[j * m + c];
        }
        expect(Math.abs(dz[i * m + c] - expected)).toBeLessThan(1e-15);
      }
    }
  });
});

describe('the block functions of every record', () => {
  // Two samples of three units, row-major: z[k·m + c].
  const units = 3, m = 2;
  const z = Float64Array.from([0.2, -1.3, -1.0, 0.4, 0.7, 2.1]);
  const da = Float64Array.from([0.5, -2, 1.5, 0.25, -0.75, 3]);
  const dz = Float64Array.from([0.3, 0, -0.2, 1e-13, 0.05, -0.4]);

  it('element-wise records: the scalar functions, element by element, bit for bit', () => {
    for (const [name, act] of ELEMENTWISE) {
      if (!act.diagonal) throw new Error(`${name} is element-wise`);
      const a = new Float64Array(6), dzOut = new Float64Array(6), mag = new Float64Array(6), diff = new Float64Array(6);
      act.forward(z, a, units, m);
      act.backward(z, a, da, dzOut, units, m);
      act.backwardMagnitude(z, a, da.map(Math.abs), mag, units, m);
      act.columnDifference(z, a, dz, diff, units, m);
      for (let i = 0; i < 6; i++) {
        expect(a[i], name).toBe(act.f(z[i]));
        expect(dzOut[i], name).toBe(da[i] * act.derivative(z[i], a[i]));
        expect(mag[i], name).toBe(Math.abs(da[i]) * Math.abs(act.derivative(z[i], a[i])));
        expect(diff[i], name).toBe(act.difference(z[i], a[i], dz[i]));
      }
    }
  });

  it('tanh and sigmoid backward (their derivative written in) equal da·derivative bit for bit on edge values', () => {
    const values = [0, -0, 1, -1, 0.5, -0.5, 0.999999, 1e-300, -1e-310, 5e-324, 3.7, -2.2, 1e308, -1e308, NaN, Infinity, -Infinity];
    const n = values.length;
    // Every (a, da) pair: a is read as given, whether or not a tanh or sigmoid could give it.
    const a = Float64Array.from({ length: n * n }, (_, i) => values[Math.floor(i / n)]);
    const da = Float64Array.from({ length: n * n }, (_, i) => values[i % n]);
    const z = new Float64Array(n * n).fill(NaN);
    for (const name of ['tanh', 'sigmoid']) {
      const act = named(name);
      if (!act.diagonal) throw new Error(`${name} is element-wise`);
      const out = new Float64Array(n * n);
      act.backward(z, a, da, out, n, n);
      for (let i = 0; i < n * n; i++) expect(out[i], `${name} a=${a[i]} da=${da[i]}`).toBe(da[i] * act.derivative(z[i], a[i]));
    }
  });

  it('the properties the callers ask for', () => {
    for (const [name, act] of ELEMENTWISE) {
      expect(act.diagonal, name).toBe(true);
      expect(act.sumsToOne, name).toBe(false);
    }
    expect(named('sigmoid').bounds).toEqual([0, 1]);
    expect(named('tanh').bounds).toEqual([-1, 1]);
    expect(named('softmax').bounds).toEqual([0, 1]);
    for (const name of ['relu', 'leaky_relu', 'linear', 'softplus', 'elu']) expect(named(name).bounds, name).toBeNull();
    expect(customActivation('z / (1 + exp(-z))').bounds).toBeNull();
    // Only the probability outputs say where float64 puts them on 0 or 1.
    expect(named('sigmoid').roundsToBound).toMatch(/36\.7/);
    expect(named('softmax').roundsToBound).toMatch(/745/);
    expect(named('tanh').roundsToBound).toBeNull();
    expect(named('softmax').sumsToOne).toBe(true);
  });
});

describe('the softmax record', () => {
  const softmax = named('softmax');
  const units = 4, m = 3;
  const z = Float64Array.from([0.2, -1.3, 3.0, -1.0, 0.4, 2.9, 0.7, 2.1, -4.0, 1.5, -0.6, 0.1]);
  const at = (zz: Float64Array) => {
    const a = new Float64Array(zz.length);
    softmax.forward(zz, a, units, m);
    return a;
  };
  const a = at(z);

  it('forward: every column is a distribution', () => {
    for (let c = 0; c < m; c++) {
      let sum = 0;
      for (let k = 0; k < units; k++) sum += a[k * m + c];
      expect(Math.abs(sum - 1)).toBeLessThan(1e-15);
    }
  });

  it('backward is Jᵀ·da: (Jᵀ·da)_k = ⟨da, J·e_k⟩, J·e_k by a central difference of forward', () => {
    const da = Float64Array.from([0.5, -2, 1.5, 0.25, -0.75, 3, -1, 0.1, 2, 0.3, 0.6, -0.9]);
    const dz = new Float64Array(z.length);
    softmax.backward(z, a, da, dz, units, m);
    const h = 1e-5;
    for (let k = 0; k < units; k++) {
      const plus = z.slice(), minus = z.slice();
      for (let c = 0; c < m; c++) { plus[k * m + c] += h; minus[k * m + c] -= h; }
      const ap = at(plus), am = at(minus);
      for (let c = 0; c < m; c++) {
        let jvp = 0;
        for (let j = 0; j < units; j++) jvp += da[j * m + c] * (ap[j * m + c] - am[j * m + c]) / (2 * h);
        expect(Math.abs(dz[k * m + c] - jvp), `unit ${k}, sample ${c}`).toBeLessThan(1e-9);
      }
    }
  });

  it('backwardMagnitude: the sum of the magnitudes of the terms a_k·da_k − a_k·Σ_j a_j·da_j', () => {
    const da = Float64Array.from([0.5, 2, 1.5, 0.25, 0.75, 3, 1, 0.1, 2, 0.3, 0.6, 0.9]);
    const signed = new Float64Array(z.length), mag = new Float64Array(z.length);
    softmax.backward(z, a, da.map((v, i) => (i % 2 ? -v : v)), signed, units, m);
    softmax.backwardMagnitude(z, a, da, mag, units, m);
    for (let c = 0; c < m; c++) {
      for (let k = 0; k < units; k++) {
        let terms = Math.abs(a[k * m + c] * da[k * m + c]);
        for (let j = 0; j < units; j++) terms += Math.abs(a[k * m + c] * a[j * m + c] * da[j * m + c]);
        expect(Math.abs(mag[k * m + c] - terms)).toBeLessThan(1e-15 * terms);
        expect(mag[k * m + c]).toBeGreaterThanOrEqual(Math.abs(signed[k * m + c]));
      }
    }
  });

  it('columnDifference: the plain difference for a moderate step', () => {
    const dz = Float64Array.from([0.3, 0, -0.2, 0.1, 0.05, -0.4, 0.2, -0.1, 0, -0.3, 0.15, 0.25]);
    const out = new Float64Array(z.length);
    softmax.columnDifference(z, a, dz, out, units, m);
    const b = at(z.map((v, i) => v + dz[i]));
    out.forEach((v, i) => expect(Math.abs(v - (b[i] - a[i]))).toBeLessThan(1e-15));
  });

  it('columnDifference: accurate for a step of 1e-13, where the plain difference cancels', () => {
    // mpmath at 50 digits: softmax(z + dz) − softmax(z) for z = (0.2, −1, 0.7), dz = (1e-13, −2e-13, 0).
    const exact = [2.933007939720071e-14, -2.1796747277293965e-14, -7.533332119906741e-15];
    const z1 = Float64Array.from([0.2, -1.0, 0.7]), dz = Float64Array.from([1e-13, -2e-13, 0]);
    const a1 = new Float64Array(3), b1 = new Float64Array(3), out = new Float64Array(3);
    softmax.forward(z1, a1, 3, 1);
    softmax.forward(z1.map((v, i) => v + dz[i]), b1, 3, 1);
    softmax.columnDifference(z1, a1, dz, out, 3, 1);
    exact.forEach((e, k) => {
      expect(rel(out[k], e)).toBeLessThan(1e-12);
      // Two values near 0.4 subtracted keep about 3 of the 16 digits.
      expect(rel(b1[k] - a1[k], e)).toBeGreaterThan(1e-4);
    });
  });
});

describe('zeroStepIsZero', () => {
  // dense-rows' isZeroClean skips probing every z of a record that states it: it must hold for
  // every finite z and a (ReLU's and leaky ReLU's branches give ±0 or slope·(±0)).
  it('holds for every record that states it, at finite z and a of every size and sign', () => {
    const zs = [0, -0, 5e-324, -5e-324, 1e-300, -1e-300, 0.5, -0.5, 1, -1, 37, -745, 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE];
    const stating = ELEMENTWISE.filter(([, act]) => act.diagonal && act.zeroStepIsZero);
    expect(stating.map(([name]) => name)).toEqual(expect.arrayContaining(['sigmoid', 'tanh', 'relu', 'leaky_relu']));
    for (const [name, act] of stating) {
      if (!act.diagonal) continue;
      for (const z of zs) {
        for (const a of [act.f(z), 0.3, -2, 0]) {
          for (const d of [0, -0]) expect(act.difference(z, a, d) === 0, `${name}: difference(${z}, ${a}, ${Object.is(d, -0) ? '-0' : '0'})`).toBe(true);
        }
      }
    }
  });
});
