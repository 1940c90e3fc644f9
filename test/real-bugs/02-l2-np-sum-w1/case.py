"""A learner's L2-regularised backward pass in deeplearning.ai's "Regularization" assignment
(Improving Deep Neural Networks, week 1), posted on the course forum: the penalty's gradient written
as lambd * np.sum(W1) / m, one number added to every element of dW1, where (lambd / m) * W1 belongs.
LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, cross-entropy + lambd/(2m)·Σ‖W‖²."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://community.deeplearning.ai/t/dw-for-l2-regularization/165181"
TITLE = "dW for L2 regularization: dW1 = ... + (lambd * np.sum(W1)) / m"
QUOTE = """
In week 1's assignment - regularization, I tried with:

dW1 = 1/m * np.dot(dZ1, X.T) + (lambd * np.sum(W1)) / m

This fails the tests provided in the notebook.

But with this:

dW1 = 1/m * np.dot(dZ1, X.T) + (lambd * W1) / m

it passes.
"""
BUG = "the L2 term of dW1 is lambd*sum(W1)/m (one constant in every element) instead of lambd*W1/m (layer 1)"
EXPECT = {"codes": ["wrong-l2-gradient", "constant-offset"], "layer": 1}

LAMBD = 0.7
SPEC = {
    "input": 3,
    "layers": [{"units": 6, "activation": "relu"}, {"units": 3, "activation": "relu"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
    "l2": LAMBD,
}


def setup():
    rng = np.random.default_rng(1502)
    m = 16
    X = rng.normal(size=(3, m))
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(float)
    sizes = [3, 6, 3, 1]
    P = {}
    for l in range(1, 4):
        P[f"W{l}"] = rng.normal(size=(sizes[l], sizes[l - 1])) * np.sqrt(2 / sizes[l - 1])
        P[f"b{l}"] = np.abs(rng.normal(size=(sizes[l], 1))) * 0.1
    return X, Y, P


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def backward_propagation_with_regularization(X, Y, P, lambd, fixed):
    m = X.shape[1]
    W1, b1, W2, b2, W3, b3 = P["W1"], P["b1"], P["W2"], P["b2"], P["W3"], P["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)

    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T) + (lambd * W3) / m
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T) + (lambd * W2) / m
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    if fixed:
        dW1 = 1 / m * np.dot(dZ1, X.T) + (lambd * W1) / m
    else:
        dW1 = 1 / m * np.dot(dZ1, X.T) + (lambd * np.sum(W1)) / m
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backward_propagation_with_regularization(X, Y, P, LAMBD, False),
                          backward_propagation_with_regularization(X, Y, P, LAMBD, True))


if __name__ == "__main__":
    write()
