"""A 2-2-1 sigmoid network without biases from a Stack Overflow question ("Backpropagation: Why doesn't
error approach zero when it is multiplied by deriv of sigmoid?"), seen on a mirror of it: the hidden
delta is built from the output error itself, error * sigmoid'(hidden), with neither W1ᵀ nor the output
delta; one output unit, so NumPy broadcasts the (1, m) error over both hidden units. The update
w += lr * delta·hᵀ with error = label - output is gradient descent on ½(y - a)², so the gradient the
code uses is -delta·hᵀ. Its columns are the question's four inputs: the formulas are unchanged for a
batch of columns, which they sum over."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://example-a.com/answer/46395467"
TITLE = "delta_hidden = error * sigmoid(hidden, True): the hidden delta without W1.T"
QUOTE = """
     # Calculate error and delta
     error = label - output
     delta = error * sigmoid(output, True)

     hidden_error = np.dot(w_1.T, error)
     delta_hidden = error * sigmoid(hidden, True)

     # Update weight
     w_1 += np.dot(delta, hidden.T) * lr
     w_0 += np.dot(delta_hidden, record.T) * lr
"""
BUG = ("the hidden delta is the output error broadcast over the hidden units times sigmoid'(hidden): "
       "no W1ᵀ and no output derivative in what reaches layer 1 (layer 1)")
EXPECT = {"codes": ["wrong-backprop-weight", "broadcast-gradient"], "layer": 1}

SPEC = {
    "input": 2,
    "layers": [{"units": 2, "activation": "sigmoid"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
    "reduction": "sum",
    "bias": False,
}


def setup():
    rng = np.random.default_rng(1505)
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
    if fixed:
        delta_hidden = np.dot(w_1.T, delta) * sigmoid(hidden, True)
    else:
        delta_hidden = error * sigmoid(hidden, True)
    # the steps the code takes are -lr times these gradients
    return {"dW1": -np.dot(delta_hidden, inputs.T), "dW2": -np.dot(delta, hidden.T)}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          network(X, Y, P["W1"], P["W2"], False), network(X, Y, P["W1"], P["W2"], True))


if __name__ == "__main__":
    write()
