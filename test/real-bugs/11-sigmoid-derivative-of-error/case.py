"""A from-scratch network on Data Science Stack Exchange (samples in rows, sigmoid layers): the output
delta is dz2 = dh2*(1-dh2), the sigmoid derivative's formula a(1 - a) evaluated at the error
dh2 = h2 - y instead of at h2, and not multiplied by the error. The question shows the output layer;
the hidden layer continues the same way (dh1 = dz2·θ2ᵀ, times h1(1 - h1)), sums over the samples as
the question's db2 does, and ½‖h2 - y‖² is the loss whose gradient is dh2."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://datascience.stackexchange.com/questions/20139/gradients-for-bias-terms-in-backpropagation"
TITLE = "dz2=dh2*(1-dh2): the sigmoid derivative taken of the error"
QUOTE = """
z1=x.dot(theta1)+b1
h1=1/(1+np.exp(-z1))
z2=h1.dot(theta2)+b2
h2=1/(1+np.exp(-z2))
dh2=h2-y
#back prop
dz2=dh2*(1-dh2)
H1=np.transpose(h1)
dw2=np.dot(H1,dz2)
db2=np.sum(dz2,axis=0,keepdims=True)
"""
BUG = "the output delta is dh2*(1-dh2), a(1-a) evaluated at the error instead of dh2*h2*(1-h2) (layer 2, reaches layer 1)"
EXPECT = {"codes": ["derivative-of-wrong-variable", "wrong-output-gradient"], "layer": 2}

SPEC = {
    "input": 3,
    "layout": "rows",
    "layers": [{"units": 4, "activation": "sigmoid"}, {"units": 2, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
    "reduction": "sum",
}


def setup():
    rng = np.random.default_rng(1511)
    x = rng.normal(size=(8, 3))
    y = (rng.random((8, 2)) > 0.5).astype(float)
    P = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=(4,)) * 0.2,
         "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=(2,)) * 0.2}
    return x, y, P


def backprop(x, y, P, fixed):
    theta1, b1, theta2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    z1 = x.dot(theta1) + b1
    h1 = 1 / (1 + np.exp(-z1))
    z2 = h1.dot(theta2) + b2
    h2 = 1 / (1 + np.exp(-z2))
    dh2 = h2 - y
    dz2 = dh2 * h2 * (1 - h2) if fixed else dh2 * (1 - dh2)
    H1 = np.transpose(h1)
    dw2 = np.dot(H1, dz2)
    db2 = np.sum(dz2, axis=0, keepdims=True)
    dh1 = np.dot(dz2, theta2.T)
    dz1 = dh1 * h1 * (1 - h1)
    dw1 = np.dot(x.T, dz1)
    db1 = np.sum(dz1, axis=0, keepdims=True)
    return {"dW1": dw1, "db1": db1.ravel(), "dW2": dw2, "db2": db2.ravel()}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, backprop(X, Y, P, False), backprop(X, Y, P, True))


if __name__ == "__main__":
    write()
