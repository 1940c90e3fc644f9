"""Grokking Deep Learning, chapter 8 (iamtrask/Grokking-Deep-Learning): relu2deriv = lambda x: x>=0 is
applied to layer_1, the ReLU's *output*, which is never negative, so the derivative is 1 everywhere and
the hidden layer backpropagates as if it were linear; a pull request points this out. Samples in rows,
no biases, a linear output, ½‖labels - layer_2‖² (the update adds alpha·layer_1ᵀ·(labels - layer_2)),
summed over the batch of rows, as the per-sample lines compute it for images[i:i+k]."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/iamtrask/Grokking-Deep-Learning/pull/13"
TITLE = "relu2deriv(layer_1) with relu2deriv = lambda x: x>=0: 1 on every unit, dead ones too"
QUOTE = """
In relu() and relu2deriv() functions replace >= sign with >. If we use >= sign it doesn't affect outcome because in forward propagation if value of node is 0 then it will not change weighted sum. But in relu2deriv function, if we use >= sign then during backward propagaion (calcualting layer_1_delta) this fuction will return 1 even if value of node is zero, due to which nodes with 0 value will not be turned off during backpropagation.
    layer_1_delta = layer_2_delta.dot(weights_1_2.T) * relu2deriv(layer_1)
"""
BUG = "the ReLU layer's derivative is (a >= 0), 1 everywhere since a = relu(z) >= 0: the linear derivative on a ReLU layer (layer 1)"
EXPECT = {"codes": ["wrong-activation-derivative", "wrong-local-derivative"], "layer": 1}

SPEC = {
    "input": 6,
    "layout": "rows",
    "bias": False,
    "layers": [{"units": 8, "activation": "relu"}, {"units": 3, "activation": "linear"}],
    "loss": "mean_squared_error",
    "reduction": "sum",
}


def setup():
    rng = np.random.default_rng(1512)
    images = rng.random((8, 6))
    labels = np.eye(3)[rng.integers(0, 3, 8)]
    weights_0_1 = 0.2 * rng.random((6, 8)) - 0.1
    weights_1_2 = 0.2 * rng.random((8, 3)) - 0.1
    return images, labels, {"W1": weights_0_1, "W2": weights_1_2}


def backward(layer_0, labels, weights_0_1, weights_1_2, fixed):
    relu = lambda x: (x >= 0) * x  # noqa: E731
    relu2deriv = (lambda x: x > 0) if fixed else (lambda x: x >= 0)  # noqa: E731
    layer_1 = relu(np.dot(layer_0, weights_0_1))
    layer_2 = np.dot(layer_1, weights_1_2)
    layer_2_delta = (labels - layer_2)
    layer_1_delta = layer_2_delta.dot(weights_1_2.T) * relu2deriv(layer_1)
    # weights += alpha * (these), so the gradients are their negatives
    return {"dW1": -layer_0.T.dot(layer_1_delta), "dW2": -layer_1.T.dot(layer_2_delta)}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backward(X, Y, P["W1"], P["W2"], False), backward(X, Y, P["W1"], P["W2"], True))


if __name__ == "__main__":
    write()
