"""A learner's planar-data backward pass (deeplearning.ai, Neural Networks and Deep Learning, week 3,
exercise 6) on the course forum: the traceback shows the line dZ1 = np.multiply(1 - np.power(Z1, 2),
np.dot(W2.T, dZ2)), tanh's derivative 1 - a² evaluated at the pre-activation Z1 instead of at
A1 = tanh(Z1). The post is about the test's cache (its Z1 had another shape, which is how the line
surfaced); the learner's own line is the bug reproduced here, with the course's other formulas (which
the traceback shows for db2 and dW1). One tanh hidden layer, a sigmoid output, cross-entropy averaged
over m."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://community.deeplearning.ai/t/c1w3a1-backward-propagation-valueerror-operands-could-not-be-broadcast-together-with-shapes-7-9-9-7/31965"
TITLE = "planar backward_propagation: dZ1 = np.multiply(1 - np.power(Z1, 2), np.dot(W2.T, dZ2)), tanh' at Z1"
QUOTE = """
53 db2 = 1/m * np.sum(dZ2, axis = 1, keepdims = True)
---> 54 dZ1 = np.multiply(1 - np.power(Z1, 2), np.dot(W2.T, dZ2))
55 dW1 = 1/m * np.dot(dZ1, X.T)
"""
BUG = "tanh's derivative 1 - a² evaluated at the pre-activation: 1 - Z1² instead of 1 - A1² (layer 1)"
EXPECT = {"codes": ["derivative-of-wrong-variable"], "layer": 1}

SPEC = {
    "input": 2,
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1526)
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
    db2 = 1/m * np.sum(dZ2, axis = 1, keepdims = True)
    if fixed:
        dZ1 = np.multiply(1 - np.power(A1, 2), np.dot(W2.T, dZ2))
    else:
        dZ1 = np.multiply(1 - np.power(Z1, 2), np.dot(W2.T, dZ2))
    dW1 = 1/m * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backward_propagation(P, X, Y, False), backward_propagation(P, X, Y, True))


if __name__ == "__main__":
    write()
