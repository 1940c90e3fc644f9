#!/usr/bin/python3
"""Known answers for the activation records' difference f(z + d) − f(z) (src/core/records/activations.ts).

For binary64 z and d the exact f(z + d) − f(z) is computed with mpmath at 1600 bits from the
definition (z + d added exactly; 1600 bits hold any sum of two doubles of this range, and the
subtraction of the two values loses at most ~1130 of them), then rounded to the nearest double (subnormals included) and
written with its residual (exact − rounded) in units of the last place, so the test measures the
error of a computed value against the exact one, not against a rounded one.

The grid (seeded): z over [−800, 800], dense near 0, the places where the arithmetic changes
(±1e−300, ±20, ±355, ±372, ±710, ±745 …) and random z of every magnitude; d = ±1e−3, ±2⁻⁹ (the
series' limit), ±1e−6, ±1e−9, ±1e−13, random magnitudes between 1e−13 and 1e−3, and subnormal.

Run: /usr/bin/python3 scripts/difference_kat.py   (writes fixtures/differences/{tanh,sigmoid}.json)
"""
import json
import os
import random
import sys

import mpmath
from mpmath import mp, mpf

mp.prec = 1600
SEED = 20261202
COMMAND = '/usr/bin/python3 scripts/difference_kat.py'


def round_double(x):
    """x rounded to the nearest binary64 (ties to even), subnormals included, and the residual in ulps."""
    if x == 0:
        return 0.0, 0.0
    e = int(mpmath.floor(mpmath.log(abs(x), 2)))
    # Guard against log's rounding at a power of two.
    while abs(x) >= mpf(2) ** (e + 1):
        e += 1
    while abs(x) < mpf(2) ** e:
        e -= 1
    q = max(e, -1022) - 52  # ulp exponent
    scaled = x / mpf(2) ** q
    n = int(mpmath.nint(scaled))  # mpmath rounds half to even
    r = float(mpf(n) * mpf(2) ** q)
    residual = float((x - mpf(r)) / mpf(2) ** q)
    return r, residual


def tanh_exact(z, d):
    w = mpmath.fadd(z, d, exact=True)
    return mpmath.tanh(w) - mpmath.tanh(mpf(z))


def sigmoid_exact(z, d):
    w = mpmath.fadd(z, d, exact=True)
    s = lambda x: 1 / (1 + mpmath.exp(-x))
    return s(w) - s(mpf(z))


def z_grid(rng):
    zs = [0.0, 5e-324, 1e-300, 1e-200, 1e-20, 1e-10, 1e-5, 1e-3, 0.01, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0,
          5.0, 10.0, 17.5, 18.5, 19.0, 20.0, 25.0, 36.7, 40.0, 100.0, 300.0, 354.0, 355.0, 356.0, 372.0, 373.0,
          500.0, 700.0, 709.0, 710.0, 711.0, 744.0, 745.0, 746.0, 800.0]
    zs += [rng.uniform(-1, 1) for _ in range(30)]
    zs += [rng.uniform(-0.01, 0.01) for _ in range(10)]
    zs += [rng.uniform(-40, 40) for _ in range(30)]
    zs += [rng.uniform(-800, 800) for _ in range(20)]
    zs += [10.0 ** rng.uniform(-300, 2.9) for _ in range(20)]
    out = []
    for z in zs:
        out += [z, -z]
    return sorted(set(out))


def d_grid(rng):
    ds = [1e-3, 2.0 ** -9, 1e-6, 1e-9, 1e-13, 5e-324, 1e-310, 2.2250738585072014e-308]
    ds += [10.0 ** rng.uniform(-13, -3) for _ in range(8)]
    ds += [10.0 ** rng.uniform(-300, -13) for _ in range(2)]
    out = []
    for d in ds:
        out += [d, -d]
    return out


def cases(exact, rng):
    zs, out = z_grid(rng), []
    for z in zs:
        for d in d_grid(rng):
            expected, residual = round_double(exact(z, d))
            out.append([repr(z), repr(d), repr(expected), round(residual, 6)])
    return out


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'differences')
    os.makedirs(root, exist_ok=True)
    for name, exact in (('tanh', tanh_exact), ('sigmoid', sigmoid_exact)):
        rng = random.Random(SEED)
        data = {
            'record': name,
            'what': 'f(z + d) - f(z) exactly (mpmath, %d bits), rounded to the nearest double; residual = (exact - expected) / ulp(expected)' % mp.prec,
            'columns': ['z', 'd', 'expected', 'residual'],
            'command': COMMAND,
            'mpmath': mpmath.__version__,
            'python': sys.version.split()[0],
            'seed': SEED,
            'cases': cases(exact, rng),
        }
        path = os.path.join(root, name + '.json')
        with open(path, 'w') as f:
            json.dump(data, f, separators=(',', ':'))
            f.write('\n')
        print(path, len(data['cases']), 'cases')


if __name__ == '__main__':
    main()
