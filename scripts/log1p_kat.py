#!/usr/bin/python3
"""Known answers for log1p(t) of a loss's change (log1pOfStep, src/core/records/losses.ts).

A finite difference changes a cross-entropy term by y·log1p(t) with t = δa/a tiny; for
|t| ≤ 2⁻¹⁵ the record takes the series t + t·(t·(−½ + t·(⅓ − t/4))) instead of Math.log1p. This
writes t over the whole range the series takes (both signs, log-uniform magnitudes from 2⁻¹⁰⁷⁴ to
2⁻¹⁵, the limit itself and its neighbours) and a few beyond it, with log1p(t) from mpmath at
300 bits rounded to the nearest double and the residual (exact − rounded) in ulps, so the test
measures the error against the exact value.

Run: /usr/bin/python3 scripts/log1p_kat.py   (writes fixtures/differences/log1p.json)
"""
import json
import math
import os
import random

import mpmath
from mpmath import mp, mpf

mp.prec = 300
SEED = 20261203
COMMAND = '/usr/bin/python3 scripts/log1p_kat.py'


from difference_kat import round_double  # noqa: E402 (the same rounding, subnormals included)


def grid(rng):
    limit = 2.0 ** -15
    ts = [limit, math.nextafter(limit, 0), math.nextafter(limit, 1), 2.0 ** -16, 1e-7, 1e-9, 2.0 ** -29, 2.0 ** -54, 5e-324, 1e-3, 0.25]
    ts += [2.0 ** rng.uniform(-1074, -15) for _ in range(400)]
    ts += [2.0 ** rng.uniform(-40, -15) for _ in range(1200)]
    out = []
    for t in ts:
        out += [t, -t]
    return out


def main():
    rng = random.Random(SEED)
    cases = []
    for t in grid(rng):
        exact = mpmath.log1p(mpf(t))
        r, residual = round_double(exact)
        cases.append([repr(t), repr(r), residual])
    path = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'differences', 'log1p.json')
    with open(path, 'w') as f:
        json.dump({'function': 'log1p', 'command': COMMAND, 'precision_bits': mp.prec, 'seed': SEED,
                   'fields': ['t', 'log1p(t) rounded', 'residual in ulps'], 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print(f'{len(cases)} cases -> {os.path.relpath(path)}')


if __name__ == '__main__':
    main()
