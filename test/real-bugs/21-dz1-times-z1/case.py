"""A learner's planar-data backward pass (deeplearning.ai, Neural Networks and Deep Learning, week 3,
exercise 6) on the course forum: dW2 and db2 are right, dW1 is wrong. The mentor's answer names the
slip: the learner read g[1]'(Z[1]) in dZ1 = W2ᵀ·dZ2 * g[1]'(Z[1]) as a product with Z1 and multiplied
by Z1 on top of (1 - A1²). The learner's code was removed by the moderator; the reproduction is the
course's backward_propagation with that one extra factor. One tanh hidden layer, a sigmoid output,
cross-entropy averaged over m."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://community.deeplearning.ai/t/wrong-values-for-dw1/85937"
TITLE = "planar backward_propagation: dZ1 = W2ᵀ·dZ2 * (1 - A1²) multiplied by Z1 as well"
QUOTE = """
dZ[2], dW[2], db[2] are correct.
dW[1] is wrong.

You are misinterpeting the dZ1 formula. You don’t need to multiply by Z1, right? You are invoking the function g'(Z1). It just turns out that for tanh that happens to be:

g'(Z1) = 1 - tanh^2(Z1)
"""
BUG = "an extra factor Z1 in the hidden delta: dZ1 = W2ᵀ·dZ2 * (1 - A1²) * Z1 instead of W2ᵀ·dZ2 * (1 - A1²) (layer 1)"
EXPECT = {"codes": ["wrong-activation-derivative", "wrong-local-derivative"], "layer": 1}

SPEC = {
    "input": 2,
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1521)
    m = 20
    X = rng.normal(size=(2, m)) * 2
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    P = {"W1": rng.normal(size=(4, 2)) * 0.5, "b1": rng.normal(size=(4, 1)) * 0.1,
         "W2": rng.normal(size=(1, 4)) * 0.5, "b2": rng.normal(size=(1, 1)) * 0.1}
    return X, Y, P


def backward_propagation(P, X, Y, fixed):
    m = X.shape[1]
    W1, W2 = P["W1"], P["W2"]
    Z1 = np.dot(W1, X) + P["b1"]
    A1 = np.tanh(Z1)
    A2 = 1 / (1 + np.exp(-(np.dot(W2, A1) + P["b2"])))
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    if fixed:
        dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    else:
        dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2)) * Z1
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backward_propagation(P, X, Y, False), backward_propagation(P, X, Y, True))


if __name__ == "__main__":
    write()
