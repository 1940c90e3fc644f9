"""Real bug: libnd4j's (DeepLearning4J's) softmax derivative op implemented only the diagonal of the
Jacobian, output * (1 - output), "missing the sum and i != j case" (issue #440). DL4J uses the
activation's derivative whenever softmax is not fused with multi-class cross-entropy; here with a
per-unit (binary) cross-entropy on the softmax outputs. Reproduced samples in columns:
4 -> tanh 6 -> softmax 3, cost (1/m) sum_k -[y log a + (1 - y) log(1 - a)]."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/deeplearning4j/libnd4j/issues/440"
TITLE = "Softmax derivative implementation incorrect"
QUOTE = """
Looks like we only implement one part of this: i.e., output * (1 - output), for the diagonal.
https://github.com/deeplearning4j/libnd4j/blob/4942662b4693746cfce990bf38d2ed00d7786351/include/ops/special_ops.h#L1798
We are missing the sum and i != j case.
"""
BUG = "softmax backward multiplies dA by s(1 - s), the Jacobian's diagonal only, under a per-unit binary cross-entropy (layer 2, softmax)"
EXPECT = {"codes": ["softmax-diagonal"], "layer": 2}

N, H, K, M = 4, 6, 3, 16
SPEC = {
    "input": N,
    "layers": [{"units": H, "activation": "tanh"}, {"units": K, "activation": "softmax"}],
    "loss": "binary_cross_entropy",
}


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_derivative(S, fixed):
    """The op's derivative, output * (1 - output); the fix returns the per-sample Jacobians
    diag(s) - s s^T (what #440 asked for)."""
    if not fixed:
        return S * (1 - S)
    return np.einsum("km,jm->mkj", -S, S) + np.einsum("km,kj->mkj", S, np.eye(S.shape[0]))


def gradients(X, Y, p, fixed):
    m = X.shape[1]
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = softmax(Z2)
    dA2 = -(Y / A2 - (1 - Y) / (1 - A2))  # d(BCE)/da per unit
    d = softmax_derivative(A2, fixed)
    dZ2 = dA2 * d if not fixed else np.einsum("mkj,km->jm", d, dA2)
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (p["W2"].T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def write(here):
    rng = np.random.default_rng(39)
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
