"""A learner on the deeplearning.ai forum working a tanh unit followed by a sigmoid by hand (in Excel):
Z1 = W·X + b, A1 = tanh(Z1), A2 = sigmoid(A1), cross-entropy over m = 3 samples. tanh's derivative is
written SECH(A1), sech of the activation instead of 1 - A1², and dW has no 1/m while db divides by 3.
Reproduced in NumPy with those formulas: a dense tanh unit and a sigmoid activation layer."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://community.deeplearning.ai/t/back-propagation-not-working-accurately/629012"
TITLE = "dL/dZ1 = dL/dA1 * SECH(A1) for a tanh layer"
QUOTE = """
dL/A2 = (-y/a2) + ((1-y)/(1-a2))

dL/A1 = dL/A2 * dA2/A1 i.e. dL/A2 * A2 * (1-A2)

dL/dZ1 = dL/dA1 * dA1/dZ1 i.e. dL/dZ1 = dL/dA1 * SECH(A1)

dW = dl/dZ1 * X.T

db = sum(dl/dZ1) /3
"""
BUG = "tanh's derivative written sech(a) instead of 1 - a**2 (= sech²(z)), and dW without the 1/m that db has (layer 1)"
EXPECT = {"codes": ["wrong-activation-derivative", "wrong-local-derivative"], "layer": 1}

SPEC = {
    "input": 2,
    "layers": [{"units": 1, "activation": "tanh"}, {"type": "activation", "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1510)
    X = rng.normal(size=(2, 3))
    Y = np.array([[1.0, 0.0, 1.0]])
    return X, Y, {"W1": rng.normal(size=(1, 2)), "b1": rng.normal(size=(1, 1)) * 0.3}


def backward(X, Y, P, fixed):
    m = X.shape[1]
    A1 = np.tanh(np.dot(P["W1"], X) + P["b1"])
    A2 = 1 / (1 + np.exp(-A1))
    dA2 = (-Y / A2) + ((1 - Y) / (1 - A2))
    dA1 = dA2 * A2 * (1 - A2)
    dZ1 = dA1 * (1 - A1 ** 2) if fixed else dA1 * (1 / np.cosh(A1))
    dW = np.dot(dZ1, X.T) / (m if fixed else 1)
    db = np.sum(dZ1, axis=1, keepdims=True) / 3
    return {"dW1": dW, "db1": db}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, backward(X, Y, P, False), backward(X, Y, P, True))


if __name__ == "__main__":
    write()
