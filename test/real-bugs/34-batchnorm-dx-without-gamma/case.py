"""Real bug: Knet.jl's batchnorm4_back on the CPU scaled dy by the scales g only after computing
dyivar = dy .* ivar, and built dx from dyivar: dx lost its factor gamma (dgamma and dbeta were right).
Reported in denizyuret/Knet.jl issue #288, fixed in #289. Reproduced in NumPy, samples in rows:
dense 5 -> 6 (no bias, linear) -> batchnorm -> tanh -> softmax 3, mean cross-entropy."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/denizyuret/Knet.jl/issues/288"
TITLE = "Batchnorm backward on cpu doesn't seem to take care about scales"
QUOTE = """
In batchnorm4_back function derivate(dy) is multiplied with g(scales), but dyivar is used to compute dx derivate.
        dyivar = dy .* ivar
        if g !== nothing
            dg = sum(x_mu .* dyivar, dims)
            db = sum(dy, dims)
            dy = g .* dy
        ...
        dsigma2 .= -T(0.5) .* sum(dyivar .* x_mu .* ivar.^2, dims)
        dmu .= -sum(dyivar, dims) .- 2dsigma2 .* sum(x_mu, dims) ./ m
dx .= dyivar .+ dsigma2 .* 2x_mu ./ m .+ dmu ./ m
"""
BUG = "batch-norm backward drops gamma from dx: dx is built from dy/sigma before dy is scaled by gamma (layer 2, batchnorm; dW1 wrong, dgamma2 and dbeta2 right)"
EXPECT = {"codes": ["batchnorm-gamma-missing"], "layer": 2}

N, H, K, M, EPS = 5, 6, 3, 16, 1e-5
SPEC = {
    "input": N,
    "layout": "rows",
    "layers": [
        {"units": H, "activation": "linear", "bias": False},
        {"type": "batchnorm", "eps": EPS},
        {"type": "activation", "activation": "tanh"},
        {"units": K, "activation": "softmax"},
    ],
    "loss": "categorical_cross_entropy",
}


def batchnorm_back(dy, x, g, fixed):
    """batchnorm4_back's training branch over the samples axis (dims = 1 in Julia's (features, samples)
    is axis 0 here); the fix computes dyivar after dy = g .* dy, as #289 does."""
    m = x.shape[0]
    mu = x.mean(axis=0)
    ivar = 1 / np.sqrt(x.var(axis=0) + EPS)
    x_mu = x - mu
    dyivar = dy * ivar
    dg = np.sum(x_mu * dyivar, axis=0)
    db = np.sum(dy, axis=0)
    dy = g * dy
    if fixed:
        dyivar = dy * ivar
    dsigma2 = -0.5 * np.sum(dyivar * x_mu * ivar ** 2, axis=0)
    dmu = -np.sum(dyivar, axis=0) - 2 * dsigma2 * np.sum(x_mu, axis=0) / m
    dx = dyivar + dsigma2 * 2 * x_mu / m + dmu / m
    return dx, dg, db


def gradients(X, Y, p, fixed):
    m = X.shape[0]
    x = X @ p["W1"]
    g, beta = p["gamma2"], p["beta2"]
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + EPS)
    h = np.tanh(g * xhat + beta)
    z = h @ p["W4"] + p["b4"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    a = e / e.sum(axis=1, keepdims=True)
    dz = (a - Y) / m
    dW4, db4 = h.T @ dz, dz.sum(axis=0)
    dy = (dz @ p["W4"].T) * (1 - h ** 2)
    dx, dg, dbeta = batchnorm_back(dy, x, g, fixed)
    return {"dW1": X.T @ dx, "dgamma2": dg, "dbeta2": dbeta, "dW4": dW4, "db4": db4}


def write(here):
    rng = np.random.default_rng(34)
    X = rng.standard_normal((M, N))
    Y = np.eye(K)[rng.integers(0, K, size=M)]
    p = {
        "W1": rng.standard_normal((N, H)) / np.sqrt(N),
        "gamma2": rng.uniform(0.5, 1.5, H),  # not 1: at gamma = 1 the bug would be right by accident
        "beta2": rng.uniform(-0.5, 0.5, H),
        "W4": rng.standard_normal((H, K)) / np.sqrt(H),
        "b4": rng.standard_normal(K) * 0.1,
    }
    common.write_net_case(types.SimpleNamespace(**globals()), here, SPEC, X, Y, p,
                          gradients(X, Y, p, fixed=False), gradients(X, Y, p, fixed=True))


if __name__ == "__main__":
    write(os.path.dirname(os.path.abspath(__file__)))
