"""A learner's planar-data backward pass (deeplearning.ai, Neural Networks and Deep Learning, week 3,
exercise 6) on the course forum: (1 - np.power(A1, 2)) raised a shape error with np.dot, so the
derivative became 1 - np.dot(A1.T, A1), a samples × samples matrix, and dZ1 a matrix product that
mixes the samples. The test case's shapes: X (2, 3), 4 hidden units."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://community.deeplearning.ai/t/w3-ex-6-assertionerror-wrong-values-for-dw1/402919"
TITLE = "dZ1 = np.dot(np.dot(W2.T, dZ2), (1 - np.dot(A1.T, A1)))"
QUOTE = """
I computed dZ1 this way: dZ1 = np.dot(np.dot(W2.T, dZ2), (1 - np.dot(A1.T, A1)))

Cause using (1 - np.power(A1, 2)) gives an error of shapes: “(4,3) (4,3) not aligned”

Despite I wrote the suggested formula it gives me “AssertionError: Wrong values for dW1”
"""
BUG = ("layer 1's derivative is a matrix product with 1 - A1ᵀA1 (samples × samples) instead of the element-wise "
       "(1 - A1**2): dZ1 mixes the samples (layer 1)")
EXPECT = {"codes": ["wrong-activation-derivative", "wrong-local-derivative"], "layer": 1}

SPEC = {
    "input": 2,
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1504)
    m = 3
    X = rng.normal(size=(2, m))
    Y = np.array([[1.0, 0.0, 1.0]])
    P = {"W1": rng.normal(size=(4, 2)) * 0.8, "b1": rng.normal(size=(4, 1)) * 0.2,
         "W2": rng.normal(size=(1, 4)) * 0.8, "b2": rng.normal(size=(1, 1)) * 0.2}
    return X, Y, P


def backward_propagation(P, X, Y, fixed):
    m = X.shape[1]
    W1, W2 = P["W1"], P["W2"]
    A1 = np.tanh(np.dot(W1, X) + P["b1"])
    A2 = 1 / (1 + np.exp(-(np.dot(W2, A1) + P["b2"])))
    dZ2 = A2 - Y
    dW2 = 1 / m * np.dot(dZ2, A1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    if fixed:
        dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    else:
        dZ1 = np.dot(np.dot(W2.T, dZ2), (1 - np.dot(A1.T, A1)))
    dW1 = 1 / m * np.dot(dZ1, X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backward_propagation(P, X, Y, False), backward_propagation(P, X, Y, True))


if __name__ == "__main__":
    write()
