"""Real bug: a softmax output layer given "the derivative of the sigmoid", s(1 - s), and trained with
squared error (jorgenkg/python-neural-network PR #6). s(1 - s) is only the diagonal of softmax's
Jacobian; with squared error the off-diagonal -s_k s_j terms matter. Reproduced deeplearning.ai style
(samples in columns): 4 -> tanh 6 -> softmax 3, cost (1/m) sum 1/2 |a - y|^2."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/jorgenkg/python-neural-network/pull/6"
TITLE = "Added softmax activation function (derivative taken as the sigmoid's, used with squared error)"
QUOTE = """
huntrar: "My mistake, you are definitely correct. After checking it seems the derivate should be equivalent to that of the sigmoid function. I have reflected this change now."
jorgenkg: "The new derivative is only valid if combined with a cross-entropy cost function implemented with a \\"special case\\" derivative."
huntrar: "In the meantime, I have added MSE to cost_functions. Does it seem correct to you?" ... "It seems incorrect actually, the error remained constant while testing."
"""
BUG = "softmax output layer multiplies dA by s(1 - s) (the sigmoid's derivative, the Jacobian's diagonal) under squared error, dropping the -s_k s_j terms (layer 2, softmax)"
EXPECT = {"codes": ["softmax-diagonal"], "layer": 2}

N, H, K, M = 4, 6, 3, 16
SPEC = {
    "input": N,
    "layers": [{"units": H, "activation": "tanh"}, {"units": K, "activation": "softmax"}],
    "loss": "mean_squared_error",
}


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_derivative(S, fixed):
    """The PR's derivative, the sigmoid's s(1 - s), as a function of the output; the fix returns the
    per-sample Jacobians diag(s) - s s^T."""
    if not fixed:
        return S * (1 - S)
    return np.einsum("km,jm->mkj", -S, S) + np.einsum("km,kj->mkj", S, np.eye(S.shape[0]))


def gradients(X, Y, p, fixed):
    m = X.shape[1]
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = softmax(Z2)
    dA2 = A2 - Y  # d(1/2 |a - y|^2)/da
    d = softmax_derivative(A2, fixed)
    dZ2 = dA2 * d if not fixed else np.einsum("mkj,km->jm", d, dA2)
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (p["W2"].T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def write(here):
    rng = np.random.default_rng(31)
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
