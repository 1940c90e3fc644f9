"""Smile's (haifengl/smile, Java) MLP rectifier layer in v2.2.2, reported in its issue #528: the ReLU's
backward assigns its derivative (0 or 1) to the gradient instead of multiplying the incoming gradient
by it, so the hidden layer's delta is (z > 0) whatever reaches it. Reproduced in NumPy for a ReLU hidden
layer under a sigmoid output with cross-entropy averaged over the samples (samples in columns)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/haifengl/smile/issues/528"
TITLE = "the rectifier layer's gradient overwritten with 0 or 1 (a `*` missing before `=`)"
QUOTE = """
When using a v2.2.2 rectifier layer, the gradient from the upper layer is always overridden with either 0 or 1. This causes rectifier layers to be unable to minimize the cost function as they should.

I think the problem lies in this line:
https://github.com/haifengl/smile/blob/acf15aa1e5366215aa576a47ec4ce0826db8c335/core/src/main/java/smile/base/mlp/ActivationFunction.java#L95
A `*` is missing before `=`, so that the gradient from the upper layer is also taken into account.
"""
BUG = "the hidden delta is relu'(z) alone, the incoming gradient W2ᵀ·dZ2 dropped (dZ1 = g' instead of dA1 * g') (layer 1)"
EXPECT = {"codes": ["wrong-backprop-weight"], "layer": 1}

SPEC = {
    "input": 4,
    "layers": [{"units": 6, "activation": "relu"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1514)
    m = 16
    X = rng.normal(size=(4, m))
    Y = (X[0:1] - X[2:3] > 0).astype(float)
    P = {"W1": rng.normal(size=(6, 4)) * np.sqrt(2 / 4), "b1": rng.normal(size=(6, 1)) * 0.1,
         "W2": rng.normal(size=(1, 6)) * np.sqrt(1 / 6), "b2": np.zeros((1, 1))}
    return X, Y, P


def gradients(X, Y, P, fixed):
    m = X.shape[1]
    Z1 = P["W1"] @ X + P["b1"]
    A1 = np.maximum(Z1, 0)
    A2 = 1 / (1 + np.exp(-(P["W2"] @ A1 + P["b2"])))
    g = A2 - Y
    dW2, db2 = g @ A1.T / m, g.sum(axis=1, keepdims=True) / m
    g = P["W2"].T @ g
    # ReLU backward: g *= (z > 0) is meant; g = (z > 0) is what the line did
    g = g * (Z1 > 0) if fixed else (Z1 > 0).astype(float)
    return {"dW1": g @ X.T / m, "db1": g.sum(axis=1, keepdims=True) / m, "dW2": dW2, "db2": db2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, gradients(X, Y, P, False), gradients(X, Y, P, True))


if __name__ == "__main__":
    write()
