"""Real bug: inverted dropout (deeplearning.ai Course 2 Week 1, "Regularization") whose backward
applies the masks D1, D2 but does not divide by keep_prob again, as a learner argues on the course
forum: the forward already divided A1 and A2 by keep_prob, so "dA1 and dA2 are getting scaled by
(1/keep_prob) twice". Reproduced with the assignment's 3-layer net, samples in columns:
2 -> relu 5 -> dropout -> relu 3 -> dropout -> sigmoid 1, keep_prob 0.86, cross-entropy."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://community.deeplearning.ai/t/backpropagation-with-dropout/310969"
TITLE = "Backpropagation with Dropout (Course 2 Week 1, backward_propagation_with_dropout)"
QUOTE = """
I understand that when using dropout, we divide A1 and A2 by keep_prob. I am wondering why we have to explicitly divide dA1 and dA2 by keep_prob. Aren’t the derivatives automatically scaled by (1/keep_prob) since A1 and A2 were scaled similarly? It seems like dA1 and dA2 are getting scaled by (1/keep_prob) twice.
"""
BUG = "dropout backward applies the mask but not the 1/keep_prob scale: dA = dA * D instead of dA * D / keep_prob (layers 2 and 4, dropout; every tensor below them wrong)"
EXPECT = {"codes": ["dropout-keep-missing"], "layer": 2}  # and 4: both dropout entries

N, H1, H2, M, KEEP = 2, 5, 3, 16, 0.86
SPEC = {
    "input": N,
    "layers": [
        {"units": H1, "activation": "relu"},
        {"type": "dropout", "keep": KEEP},
        {"units": H2, "activation": "relu"},
        {"type": "dropout", "keep": KEEP},
        {"units": 1, "activation": "sigmoid"},
    ],
    "loss": "binary_cross_entropy",
}


def relu(Z):
    return np.maximum(0, Z)


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def forward_propagation_with_dropout(X, p, D1, D2):
    Z1 = p["W1"] @ X + p["b1"]
    A1 = relu(Z1) * D1 / KEEP
    Z2 = p["W3"] @ A1 + p["b3"]
    A2 = relu(Z2) * D2 / KEEP
    Z3 = p["W5"] @ A2 + p["b5"]
    return (Z1, A1, Z2, A2, Z3, sigmoid(Z3))


def backward_propagation_with_dropout(X, Y, cache, p, D1, D2, fixed):
    """The assignment's function; the forum's version leaves out `/ keep_prob` in steps 2."""
    m = X.shape[1]
    Z1, A1, Z2, A2, Z3, A3 = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(p["W5"].T, dZ3)
    dA2 = dA2 * D2
    if fixed:
        dA2 = dA2 / KEEP
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(p["W3"].T, dZ2)
    dA1 = dA1 * D1
    if fixed:
        dA1 = dA1 / KEEP
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    # The assignment's layers 1, 2, 3 are net.json's dense entries 1, 3, 5.
    return {"dW1": dW1, "db1": db1, "dW3": dW2, "db3": db2, "dW5": dW3, "db5": db3}


def write(here):
    rng = np.random.default_rng(37)
    X = rng.standard_normal((N, M))
    Y = (X[0:1] ** 2 + X[1:2] ** 2 > 1.2).astype(float)
    p = {
        "W1": rng.standard_normal((H1, N)) * np.sqrt(2 / N),
        "b1": rng.standard_normal((H1, 1)) * 0.1 + 0.2,
        "W3": rng.standard_normal((H2, H1)) * np.sqrt(2 / H1),
        "b3": rng.standard_normal((H2, 1)) * 0.1 + 0.2,
        "W5": rng.standard_normal((1, H2)) * np.sqrt(2 / H2),
        "b5": rng.standard_normal((1, 1)) * 0.1,
    }
    D1 = (rng.random((H1, M)) < KEEP).astype(float)
    D2 = (rng.random((H2, M)) < KEEP).astype(float)
    cache = forward_propagation_with_dropout(X, p, D1, D2)
    params = dict(p, mask2=D1, mask4=D2)  # the masks the code used, 0/1, (features, samples)
    common.write_net_case(types.SimpleNamespace(**globals()), here, SPEC, X, Y, params,
                          backward_propagation_with_dropout(X, Y, cache, p, D1, D2, fixed=False),
                          backward_propagation_with_dropout(X, Y, cache, p, D1, D2, fixed=True))


if __name__ == "__main__":
    write(os.path.dirname(os.path.abspath(__file__)))
