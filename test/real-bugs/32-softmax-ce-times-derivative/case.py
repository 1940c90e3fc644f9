"""Real bug: softmax with cross-entropy whose output delta, already dL/dz = a - y, is multiplied once
more by "the derivative of softmax" a(1 - a), as proposed for DeepLearnToolbox's nnbp.m (issue #113:
bundle 'softmax' with 'sigm'). The cost is cross-entropy (nnff: -sum(y .* log(a)) / m), so the
extra factor double-counts the activation. Reproduced in NumPy, samples in columns: 5 -> sigmoid 7 ->
softmax 4."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/rasmusbergpalm/DeepLearnToolbox/issues/113"
TITLE = "softmax derivative in nnbp.m"
QUOTE = """
switch nn.output
    case 'sigm'
        d{n} = - nn.e .* (nn.a{n} .* (1 - nn.a{n}));
    case {'softmax','linear'}
        d{n} = - nn.e;
end
shouldn't the softmax be bundled with 'sigm' rather than 'linear', since the derivative of softmax is identical to 'sigm'  ? (an (1 - an)) ?
"""
BUG = "softmax + cross-entropy output delta (a - y) multiplied again by a(1 - a): the activation's derivative applied on top of a delta that already contains it (layer 2, output)"
EXPECT = {"codes": ["wrong-output-gradient", "wrong-activation-derivative", "wrong-local-derivative"], "layer": 2}

N, H, K, M = 5, 7, 4, 20
SPEC = {
    "input": N,
    "layers": [{"units": H, "activation": "sigmoid"}, {"units": K, "activation": "softmax"}],
    "loss": "categorical_cross_entropy",
}


def sigm(Z):
    return 1 / (1 + np.exp(-Z))


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def gradients(X, Y, p, fixed):
    """nnbp.m's order: e = y - a, d{n} from the output's case, then d{i} = d{i+1} W .* a(1 - a)."""
    m = X.shape[1]
    A1 = sigm(p["W1"] @ X + p["b1"])
    A2 = softmax(p["W2"] @ A1 + p["b2"])
    e = Y - A2
    d2 = -e if fixed else -e * (A2 * (1 - A2))  # the proposal: 'softmax' bundled with 'sigm'
    d1 = (p["W2"].T @ d2) * (A1 * (1 - A1))
    return {
        "dW1": d1 @ X.T / m, "db1": d1.sum(axis=1, keepdims=True) / m,
        "dW2": d2 @ A1.T / m, "db2": d2.sum(axis=1, keepdims=True) / m,
    }


def write(here):
    rng = np.random.default_rng(32)
    X = rng.standard_normal((N, M))
    Y = np.eye(K)[:, rng.integers(0, K, size=M)]
    p = {
        "W1": rng.standard_normal((H, N)) / np.sqrt(N),
        "b1": rng.standard_normal((H, 1)) * 0.1,
        "W2": rng.standard_normal((K, H)) / np.sqrt(H) * 2,
        "b2": rng.standard_normal((K, 1)) * 0.1,
    }
    common.write_net_case(types.SimpleNamespace(**globals()), here, SPEC, X, Y, p,
                          gradients(X, Y, p, fixed=False), gradients(X, Y, p, fixed=True))


if __name__ == "__main__":
    write(os.path.dirname(os.path.abspath(__file__)))
