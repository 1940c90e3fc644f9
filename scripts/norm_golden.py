"""Golden values for the batchnorm, layernorm and dropout layer kinds, from independent implementations.

How to run (from the repository root; this needs PyTorch, NumPy and mpmath, which the system Python has):

    /usr/bin/python3 scripts/norm_golden.py

It rewrites fixtures/golden/layers/norm.json deterministically (each case has its own seeded NumPy
generator; torch computes in float64 on the CPU). test/layers-norm.test.ts requires the layer kinds
(src/core/layers/batchnorm.ts, layernorm.ts, dropout.ts) to agree with it.

Every block is laid out as backprop-check's layer kinds hold values: features x samples, row-major,
an image's features in (C, H, W) order (row (c*H + h)*W + w); torch sees the same numbers as
(samples, C, H, W) or (samples, features). Parameters are (n, 1) columns.

"vjp" cases: the layer's forward y and, for an upstream gradient dy, torch.autograd's
vector-Jacobian products dx, dgamma, dbeta (a dropout case has only dx):
    batchnorm   torch.nn.functional.batch_norm(training=True): per feature of a flat input, per
                channel over (samples, H, W) of an image input; biased variance, eps added;
    layernorm   torch.nn.functional.layer_norm over each sample's features (all C*H*W of an image,
                weight and bias shaped (C, H, W));
    dropout     y = x * (mask / keep) for the given 0/1 mask (torch's own dropout draws its own mask,
                so the product is written out; mask / keep first, as torch and cs231n form it).
"difference" cases: dy = f(x + dx; gamma + dgamma, beta + dbeta) - f(x; gamma, beta) for a tiny
change (1e-9 relative), computed with mpmath at 60 significant digits from the exact float64 inputs
and rounded once to float64: the reference for a difference that plain float64 subtraction would
get to about 7 digits.
"""

import json
import os

import mpmath
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
mpmath.mp.dps = 60

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "golden", "layers", "norm.json")
SOURCE = ("PyTorch {} float64 autograd (F.batch_norm training=True, F.layer_norm, x * (mask / keep)); "
          "differences by mpmath {} at 60 digits (scripts/norm_golden.py)").format(torch.__version__, mpmath.__version__)
EPS = 1e-5


def to_torch(block, shape, m):
    """A features x samples block as torch's (samples, *shape) tensor."""
    return torch.tensor(block.T.reshape((m,) + tuple(shape)).copy(), requires_grad=True)


def to_block(t, m):
    return t.detach().numpy().reshape(m, -1).T


def column(v):
    return [[float(a)] for a in v]


def matrix(a):
    return [[float(v) for v in row] for row in a]


def torch_forward(kind, xt, gamma, beta, shape, keep=None, mask_t=None):
    if kind == "batchnorm":
        return F.batch_norm(xt, None, None, weight=gamma, bias=beta, training=True, eps=EPS)
    if kind == "layernorm":
        return F.layer_norm(xt, tuple(shape), weight=gamma.reshape(tuple(shape)), bias=beta.reshape(tuple(shape)), eps=EPS)
    return xt * (mask_t / keep)


def vjp_case(name, kind, shape, m, seed, keep=None):
    rng = np.random.default_rng(seed)
    features = int(np.prod(shape))
    # A mean away from 0 and unequal spreads, so that centring and scaling both matter.
    x = rng.normal(0.7, 1.3, size=(features, m)) * rng.uniform(0.5, 2.0, size=(features, 1))
    dy = rng.normal(size=(features, m))
    xt = to_torch(x, shape, m)
    case = {"name": name, "kind": kind, "inShape": list(shape), "samples": m, "x": matrix(x), "dy": matrix(dy)}
    inputs = [xt]
    gamma = beta = mask_t = None
    if kind in ("batchnorm", "layernorm"):
        n = shape[0] if kind == "batchnorm" else features
        g = rng.uniform(0.5, 1.5, size=n) * rng.choice([-1.0, 1.0], size=n)
        b = rng.normal(0, 0.5, size=n)
        gamma = torch.tensor(g, requires_grad=True)
        beta = torch.tensor(b, requires_grad=True)
        inputs += [gamma, beta]
        case.update({"eps": EPS, "gamma": column(g), "beta": column(b)})
    else:
        mask = (rng.uniform(size=(features, m)) < keep).astype(np.float64)
        mask_t = torch.tensor(mask.T.reshape((m,) + tuple(shape)).copy())
        case.update({"keep": keep, "mask": matrix(mask)})
    y = torch_forward(kind, xt, gamma, beta, shape, keep, mask_t)
    dyt = torch.tensor(dy.T.reshape((m,) + tuple(shape)).copy())
    grads = torch.autograd.grad(y, inputs, dyt)
    case["y"] = matrix(to_block(y, m))
    case["dx"] = matrix(to_block(grads[0], m))
    if gamma is not None:
        case["dgamma"] = column(grads[1].numpy().reshape(-1))
        case["dbeta"] = column(grads[2].numpy().reshape(-1))
    return case


def mp_normalise(kind, x, gamma, beta, shape, m):
    """y as exact as mpmath makes it; x a features x samples list of mpf rows."""
    features = len(x)
    plane = int(np.prod(shape[1:])) if kind == "batchnorm" else 1
    if kind == "batchnorm":
        groups = [[(r, c) for r in range(k * plane, (k + 1) * plane) for c in range(m)] for k in range(shape[0])]
        param = lambda k, r: k
    else:
        groups = [[(r, c) for r in range(features)] for c in range(m)]
        param = lambda k, r: r
    y = [[None] * m for _ in range(features)]
    eps = mpmath.mpf(EPS)
    for k, group in enumerate(groups):
        n = len(group)
        mu = mpmath.fsum(x[r][c] for r, c in group) / n
        var = mpmath.fsum((x[r][c] - mu) ** 2 for r, c in group) / n
        inv = 1 / mpmath.sqrt(var + eps)
        for r, c in group:
            q = param(k, r)
            y[r][c] = gamma[q] * ((x[r][c] - mu) * inv) + beta[q]
    return y


def difference_case(name, kind, shape, m, seed, params_move):
    rng = np.random.default_rng(seed)
    features = int(np.prod(shape))
    x = rng.normal(0.3, 1.0, size=(features, m))
    dx = rng.normal(size=(features, m)) * 1e-9
    n = shape[0] if kind == "batchnorm" else features
    g = rng.uniform(0.5, 1.5, size=n)
    b = rng.normal(0, 0.5, size=n)
    dg = rng.normal(size=n) * 1e-9 if params_move else np.zeros(n)
    db = rng.normal(size=n) * 1e-9 if params_move else np.zeros(n)
    mp = lambda a: [[mpmath.mpf(float(v)) for v in row] for row in a]
    mpv = lambda v: [mpmath.mpf(float(a)) for a in v]
    X, DX = mp(x), mp(dx)
    X2 = [[X[r][c] + DX[r][c] for c in range(m)] for r in range(features)]
    G, B = mpv(g), mpv(b)
    G2 = [G[q] + mpmath.mpf(float(dg[q])) for q in range(n)]
    B2 = [B[q] + mpmath.mpf(float(db[q])) for q in range(n)]
    y0 = mp_normalise(kind, X, G, B, shape, m)
    y1 = mp_normalise(kind, X2, G2, B2, shape, m)
    dy = [[float(y1[r][c] - y0[r][c]) for c in range(m)] for r in range(features)]
    case = {"name": name, "kind": kind, "inShape": list(shape), "samples": m, "eps": EPS,
            "x": matrix(x), "dx": matrix(dx), "gamma": column(g), "beta": column(b), "dy": dy}
    if params_move:
        case.update({"dgamma": column(dg), "dbeta": column(db)})
    return case


def main():
    vjp = [
        vjp_case("batchnorm flat", "batchnorm", [4], 6, 1401),
        vjp_case("batchnorm spatial", "batchnorm", [3, 2, 3], 4, 1402),
        vjp_case("batchnorm spatial, one sample", "batchnorm", [2, 3, 2], 1, 1403),
        vjp_case("layernorm flat", "layernorm", [5], 4, 1404),
        vjp_case("layernorm image", "layernorm", [2, 2, 2], 3, 1405),
        vjp_case("dropout flat", "dropout", [4], 5, 1406, keep=0.6),
        vjp_case("dropout image", "dropout", [2, 2, 3], 3, 1407, keep=0.8),
    ]
    differences = [
        difference_case("batchnorm flat", "batchnorm", [3], 5, 1411, False),
        difference_case("batchnorm spatial, gamma and beta moved", "batchnorm", [2, 2, 2], 3, 1412, True),
        difference_case("layernorm flat", "layernorm", [4], 3, 1413, False),
        difference_case("layernorm image, gamma and beta moved", "layernorm", [2, 1, 3], 2, 1414, True),
    ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"source": SOURCE, "vjp": vjp, "difference": differences}, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
