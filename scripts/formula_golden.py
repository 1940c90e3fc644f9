"""Known answers for custom formulas: exact f(x + d) - f(x) and f'(x) from mpmath at 50 digits.

How to run (from the repository root; mpmath is in the system Python):

    /usr/bin/python3 scripts/formula_golden.py

It rewrites fixtures/formula-golden/differences.json deterministically. test/formula-difference.test.ts
then requires src/core/formula/difference.ts (the node-by-node difference) and
src/core/formula/derivative.ts (forward-mode AD) to match these numbers.

Each formula has a hand-written mpmath twin next to its text (nothing is shared with the
TypeScript side). The point x and the step d are float64 values taken exactly (mpf(float)), as are
the formula's decimal constants (mathjs reads them as float64), so the exact answer is the one the
evaluator should approximate: the difference between the formula at the real number x + d (not its
rounding) and at x. Each entry holds
    formula, variable ("z" or "a"), z, a, y, d,
    exact       f(x + d) - f(x), rounded to the nearest float64,
    derivative  f'(x) (mpmath's diff, analytic where the formula is smooth at x), or null,
    plain       f(x + d) - f(x) with both values rounded to float64 first (the naive subtraction),
                for the test to show what it loses.
Points where the formula is not real (log of a negative number, ...) are left out.
"""

import json
import math
import os

import mpmath as mp

mp.mp.dps = 50
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "formula-golden")


def c(x):
    """A decimal constant as mathjs holds it: the nearest float64."""
    return mp.mpf(float(x))


def sig(x):
    return 1 / (1 + mp.exp(-x))


def softplus(x):
    return mp.log(1 + mp.exp(x))


def sign(x):
    return mp.mpf(0) if x == 0 else mp.mpf(1 if x > 0 else -1)


E = c(math.e)
PI = c(math.pi)

# Activations in z: every operator and function of formula.ts's allow-list at least once.
ACTIVATIONS = [
    ("z^2 + 3 * z - 1", lambda z: z ** 2 + 3 * z - 1),
    ("-z^3 / (1 + z^2)", lambda z: -z ** 3 / (1 + z ** 2)),
    ("+z * z - (-z)", lambda z: z * z + z),
    ("exp(z)", mp.exp),
    ("e^z * pi", lambda z: E ** z * PI),
    ("2^z", lambda z: 2 ** z),
    ("log(1 + z^2)", lambda z: mp.log(1 + z ** 2)),
    ("log(z + 5)", lambda z: mp.log(z + 5)),
    ("log1p(z^2)", lambda z: mp.log1p(z ** 2)),
    ("expm1(z)", mp.expm1),
    ("tanh(z)", mp.tanh),
    ("sinh(z)", mp.sinh),
    ("cosh(z)", mp.cosh),
    ("sqrt(1 + z^2)", lambda z: mp.sqrt(1 + z ** 2)),
    ("sqrt(z + 5)", lambda z: mp.sqrt(z + 5)),
    ("abs(z - 0.3)", lambda z: abs(z - c(0.3))),
    ("sign(z - 0.3) * z", lambda z: sign(z - c(0.3)) * z),
    ("max(z, 0.2 * z)", lambda z: max(z, c(0.2) * z)),
    ("min(z, 1 - z)", lambda z: min(z, 1 - z)),
    ("sigmoid(z)", sig),
    ("softplus(z)", softplus),
    ("(z^2)^0.5", lambda z: (z ** 2) ** c(0.5)),
    ("(1 + z^2)^(-1.5)", lambda z: (1 + z ** 2) ** c(-1.5)),
    ("z^(-2)", lambda z: z ** -2),
    ("z^3", lambda z: z ** 3),
    ("(1 + z^2)^z", lambda z: (1 + z ** 2) ** z),
    ("z / (1 + exp(-z))", lambda z: z / (1 + mp.exp(-z))),
    ("sigmoid(z) * softplus(z)", lambda z: sig(z) * softplus(z)),
    ("tanh(3 * z) / (1 + abs(z))", lambda z: mp.tanh(3 * z) / (1 + abs(z))),
]

# Losses in a (y fixed).
LOSSES = [
    ("log(cosh(a - y))", lambda a, y: mp.log(mp.cosh(a - y))),
    ("((a - y)^2)^(3/2)", lambda a, y: ((a - y) ** 2) ** c(1.5)),
    ("abs(a - y) + 0.1 * (a - y)^2", lambda a, y: abs(a - y) + c(0.1) * (a - y) ** 2),
    ("-(y * log(a) + (1 - y) * log(1 - a))", lambda a, y: -(y * mp.log(a) + (1 - y) * mp.log(1 - a))),
]

# 0.295 and -0.004 with steps of 1e-2 cross the kinks at 0.3 and 0 (and 0.5 for min(z, 1 - z) from 0.4999).
ZS = [-3.7, -1.3, -0.41, -0.05, -0.004, 0.0007, 0.29, 0.295, 0.4999, 0.8, 1.9, 4.6]
STEPS = [1e-13, -1e-13, 3e-11, -1e-9, 1e-7, -1e-6, 1e-4, -1e-3, 1e-2]
LOSS_POINTS = [(0.2, 0.0), (0.7, 1.0), (0.45, 0.3), (0.296, 0.3), (-1.1, 0.4), (2.5, 1.0)]


def real(v):
    return isinstance(v, mp.mpf) and mp.isfinite(v)


def entry(formula, variable, f, point, d):
    """point = (z, a, y) as floats; the moved variable is `variable`."""
    z, a, y = point
    x = z if variable == "z" else a
    args = lambda t: (t,) if variable == "z" else (t, mp.mpf(y))
    try:
        f0 = f(*args(mp.mpf(x)))
        f1 = f(*args(mp.mpf(x) + mp.mpf(d)))
    except (ValueError, ZeroDivisionError):
        return None
    if not (real(f0) and real(f1)):
        return None
    exact = f1 - f0
    try:
        fx = f(*args(mp.mpf(float(x) + float(d))))
    except (ValueError, ZeroDivisionError):
        return None
    plain = float(fx) - float(f0) if real(fx) else None
    try:
        der = mp.diff(lambda t: f(*args(t)), mp.mpf(x))
        der = float(der) if real(der) else None
    except (ValueError, ZeroDivisionError):
        der = None
    return {"formula": formula, "variable": variable, "z": z, "a": a, "y": y, "d": d,
            "exact": float(exact), "derivative": der, "plain": plain}


def main():
    cases = []
    for formula, f in ACTIVATIONS:
        for z in ZS:
            for d in STEPS:
                e = entry(formula, "z", f, (z, 0.0, 0.0), d)
                if e:
                    cases.append(e)
    for formula, f in LOSSES:
        for a, y in LOSS_POINTS:
            for d in STEPS:
                e = entry(formula, "a", f, (0.0, a, y), d)
                if e:
                    cases.append(e)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "differences.json"), "w") as fh:
        json.dump({"source": "mpmath {} at 50 digits (scripts/formula_golden.py)".format(mp.__version__),
                   "cases": cases}, fh, indent=0)
        fh.write("\n")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
