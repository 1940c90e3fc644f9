"""The answer to the same Stack Overflow question as case 05 (seen on a mirror of it): it proposes
delta_hidden = hidden_error * sigmoid(hidden, True), with the question's hidden_error =
np.dot(w_1.T, error). That passes W1ᵀ·error down, the output error before the output sigmoid's
derivative, instead of W1ᵀ·delta: sigmoid' is missing from the delta that is passed down.
A 2-2-1 sigmoid network without biases, ½(y - a)² summed over the question's four inputs."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://example-a.com/answer/46395467"
TITLE = "the accepted fix: delta_hidden = hidden_error * sigmoid(hidden, True), hidden_error = np.dot(w_1.T, error)"
QUOTE = """
     hidden_error = np.dot(w_1.T, error)
     delta_hidden = error * sigmoid(hidden, True)
...
Solution

  • I think, it should be

    delta_hidden = hidden_error * sigmoid(hidden, True)
"""
BUG = "what reaches layer 1 is W1ᵀ·(y - a), the output error without the output sigmoid's derivative, instead of W1ᵀ·delta (layer 1)"
EXPECT = {"codes": ["wrong-backprop-weight"], "layer": 1}

SPEC = {
    "input": 2,
    "layers": [{"units": 2, "activation": "sigmoid"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
    "reduction": "sum",
    "bias": False,
}


def setup():
    rng = np.random.default_rng(1506)
    X = np.array([[0, 1], [0, 1], [1, 0], [1, 0]], dtype=float).T
    Y = np.array([[0, 0, 1, 1]], dtype=float)
    w_0 = 2 * rng.random((2, 2)) - 1
    w_1 = 2 * rng.random((1, 2)) - 1
    return X, Y, {"W1": w_0, "W2": w_1}


def sigmoid(x, deriv=False):
    if deriv:
        return x * (1 - x)
    return 1 / (1 + np.exp(-x))


def network(inputs, label, w_0, w_1, fixed):
    hidden = sigmoid(np.dot(w_0, inputs))
    output = sigmoid(np.dot(w_1, hidden))
    error = label - output
    delta = error * sigmoid(output, True)
    hidden_error = np.dot(w_1.T, delta if fixed else error)
    delta_hidden = hidden_error * sigmoid(hidden, True)
    return {"dW1": -np.dot(delta_hidden, inputs.T), "dW2": -np.dot(delta, hidden.T)}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          network(X, Y, P["W1"], P["W2"], False), network(X, Y, P["W1"], P["W2"], True))


if __name__ == "__main__":
    write()
