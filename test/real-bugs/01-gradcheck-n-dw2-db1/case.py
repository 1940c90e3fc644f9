"""The course's own deliberately buggy backward_propagation_n (deeplearning.ai, Improving Deep Neural
Networks, week 1, "Gradient Checking"), as a learner's notes repository kept it and an issue on that
repository pointed out: dW2 carries a stray `* 2` and db1 a `4./m` where 1./m belongs.
LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, binary cross-entropy averaged over m."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/bighuang624/Andrew-Ng-Deep-Learning-notes/issues/10"
TITLE = "gradient_check_n's backward_propagation_n: dW2 = ... * 2 and db1 = 4./m * ..."
QUOTE = """
dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1./m * np.dot(dZ2, A1.T) * 2 #wrong
    db2 = 1./m * np.sum(dZ2, axis=1, keepdims = True)

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1./m * np.dot(dZ1, X.T)
    db1 = 4./m * np.sum(dZ1, axis=1, keepdims = True) #wrong
"""
BUG = "two stray constant factors: dW2 is 2x the right gradient (layer 2), db1 is 4x (layer 1); nothing propagates"
EXPECT = {"codes": ["constant-factor"], "layer": 2}

SPEC = {
    "input": 4,
    "layers": [{"units": 5, "activation": "relu"}, {"units": 3, "activation": "relu"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1501)
    m = 12
    X = rng.normal(size=(4, m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    sizes = [4, 5, 3, 1]
    P = {}
    for l in range(1, 4):
        P[f"W{l}"] = rng.normal(size=(sizes[l], sizes[l - 1])) * 0.8
        P[f"b{l}"] = rng.normal(size=(sizes[l], 1)) * 0.2
    return X, Y, P


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def backward_propagation_n(X, Y, P, fixed):
    m = X.shape[1]
    W1, b1, W2, b2, W3, b3 = P["W1"], P["b1"], P["W2"], P["b2"], P["W3"], P["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)

    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)

    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T) * (1 if fixed else 2)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = (1. if fixed else 4.) / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backward_propagation_n(X, Y, P, False), backward_propagation_n(X, Y, P, True))


if __name__ == "__main__":
    write()
