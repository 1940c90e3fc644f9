"""An issue on a widely forked Python 3 port of Nielsen's network2.py (MichalDanielDobrzanski/
DeepLearningPython): it asks for the output delta of network2 to be multiplied by sigmoid_prime, as in
network.py. network2's default cost is the cross-entropy, whose delta is a - y already; multiplying by
sigmoid'(z) applies the output derivative a second time. Sigmoid layers, cross-entropy summed over the
outputs, per-sample deltas summed over the mini-batch and divided by its size (here the columns)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/MichalDanielDobrzanski/DeepLearningPython/issues/17"
TITLE = "network2.py with CrossEntropyCost: delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])"
QUOTE = """
here it should be
delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
the code from the book does that
"""
BUG = "the output delta (a - y)·sigmoid'(z) with the cross-entropy cost, whose delta is a - y: the output derivative applied twice (layer 2, reaches layer 1)"
EXPECT = {"codes": ["wrong-output-gradient"], "layer": 2}

SPEC = {
    "input": 4,
    "layers": [{"units": 5, "activation": "sigmoid"}, {"units": 3, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1508)
    m = 10
    X = rng.random((4, m))
    Y = np.eye(3)[:, rng.integers(0, 3, m)]
    # network2's default_weight_initializer: N(0, 1/sqrt(n_in)) weights, N(0, 1) biases
    P = {"W1": rng.normal(size=(5, 4)) / np.sqrt(4), "b1": rng.normal(size=(5, 1)),
         "W2": rng.normal(size=(3, 5)) / np.sqrt(5), "b2": rng.normal(size=(3, 1))}
    return X, Y, P


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(x, y, weights, biases, fixed):
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    cost_derivative = activations[-1] - y
    delta = cost_derivative if fixed else cost_derivative * sigmoid_prime(zs[-1])
    nabla_b = [None, delta.sum(axis=1, keepdims=True)]
    nabla_w = [None, np.dot(delta, activations[-2].transpose())]
    sp = sigmoid_prime(zs[-2])
    delta = np.dot(weights[-1].transpose(), delta) * sp
    nabla_b[0] = delta.sum(axis=1, keepdims=True)
    nabla_w[0] = np.dot(delta, activations[-3].transpose())
    return nabla_b, nabla_w


def gradients(X, Y, P, fixed):
    m = X.shape[1]
    nb, nw = backprop(X, Y, [P["W1"], P["W2"]], [P["b1"], P["b2"]], fixed)
    return {"dW1": nw[0] / m, "db1": nb[0] / m, "dW2": nw[1] / m, "db2": nb[1] / m}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, gradients(X, Y, P, False), gradients(X, Y, P, True))


if __name__ == "__main__":
    write()
