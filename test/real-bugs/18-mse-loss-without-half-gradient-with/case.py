"""dlib's loss_mean_squared_ (C++), asked about in dlib issue #1169: the loss it returns is the batch
mean of (y - out)², with no ½, while the gradient it hands back, g[i] = -temp2 = -(y - out)/N, is that
of ½·mean(y - out)²; the maintainer answers that the factor does not matter to training and that it is
nicer to log the loss without the ½. Against the loss as returned, every gradient is ½ of the true one.
Reproduced in NumPy for an fc → relu → fc network with one output (samples in columns)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/davisking/dlib/issues/1169"
TITLE = "loss_mean_squared: loss mean((y - out)²), gradient -(y - out)/N, the gradient of half that loss"
QUOTE = """
In line:
https://github.com/davisking/dlib/blob/881ce1744d662fef165ea24b7da6e2cbbfcf9a34/dlib/dnn/loss.h#L2026

It seems it should be, instead:
```
    g[i] = -2.0 * temp2;
```
"""
BUG = "the loss has no ½ but its gradient does: every gradient is 0.5 times the gradient of the loss returned (a loss convention, all layers; named at the output, layer 2)"
EXPECT = {"codes": ["loss-convention", "constant-factor"], "layer": 2}

SPEC = {
    "input": 3,
    "layers": [{"units": 5, "activation": "relu"}, {"units": 1, "activation": "linear"}],
    "loss": {"expr": "(a - y)^2"},
}


def setup():
    rng = np.random.default_rng(1518)
    m = 12
    X = rng.normal(size=(3, m))
    Y = np.sin(X[0:1]) + 0.5 * X[1:2]
    P = {"W1": rng.normal(size=(5, 3)) * np.sqrt(2 / 3), "b1": rng.normal(size=(5, 1)) * 0.1,
         "W2": rng.normal(size=(1, 5)) * np.sqrt(1 / 5), "b2": np.zeros((1, 1))}
    return X, Y, P


def gradients(X, Y, P, fixed):
    N = X.shape[1]
    Z1 = P["W1"] @ X + P["b1"]
    A1 = np.maximum(Z1, 0)
    out = P["W2"] @ A1 + P["b2"]
    # compute_loss_value_and_gradient
    scale = 1.0 / N
    temp1 = Y - out
    temp2 = scale * temp1
    g = -2.0 * temp2 if fixed else -temp2
    # fc and relu backward
    dW2, db2 = g @ A1.T, g.sum(axis=1, keepdims=True)
    g1 = (P["W2"].T @ g) * (Z1 > 0)
    return {"dW1": g1 @ X.T, "db1": g1.sum(axis=1, keepdims=True), "dW2": dW2, "db2": db2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, gradients(X, Y, P, False), gradients(X, Y, P, True))


if __name__ == "__main__":
    write()
