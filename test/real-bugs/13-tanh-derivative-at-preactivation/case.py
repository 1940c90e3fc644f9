"""An issue on lazyprogrammer/facial-expression-recognition's ann.py (tanh hidden layer, softmax output,
samples in rows, cross-entropy summed over the samples, reg=0 as its main() runs it): it proposes
replacing tanh's derivative (1 - Z*Z), where Z = tanh(...) is cached, by (1 - np.arctanh(Z)*np.arctanh(Z)),
the same formula fed the pre-activation. The proposal is the bug reproduced here; the repository's line
is the fix."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/lazyprogrammer/facial-expression-recognition/issues/2"
TITLE = "tanh's 1 - a² evaluated at the pre-activation: (1 - np.arctanh(Z)*np.arctanh(Z))"
QUOTE = """
` dZ = pY_T.dot(self.W2.T) * (1 - Z*Z) # tanh`
In the particular case of the _tanh_ I think that (1 - Z*Z) is the derivate, if this is correct so why we use Z. Recall what is stored in Z:
`Z = np.tanh(X.dot(self.W1) + self.b1)`
I think that we should use only _X.dot(self.W1) + self.b1_ to evaluate the the derivative, which is the same that use _np.arctanh(Z)_. So the result should be _(1 - np.arctanh(Z)*np.arctanh(Z))_.
"""
BUG = "tanh's derivative 1 - a² evaluated at the pre-activation z (1 - z²) instead of at a = tanh(z) (layer 1)"
EXPECT = {"codes": ["derivative-of-wrong-variable"], "layer": 1}

SPEC = {
    "input": 5,
    "layout": "rows",
    "layers": [{"units": 6, "activation": "tanh"}, {"units": 3, "activation": "softmax"}],
    "loss": "categorical_cross_entropy",
    "reduction": "sum",
}


def setup():
    rng = np.random.default_rng(1513)
    N, D, M, K = 12, 5, 6, 3
    X = rng.normal(size=(N, D))
    T = np.eye(K)[rng.integers(0, K, N)]
    P = {"W1": rng.normal(size=(D, M)) / np.sqrt(D), "b1": np.zeros(M),
         "W2": rng.normal(size=(M, K)) / np.sqrt(M), "b2": np.zeros(K)}
    return X, T, P


def softmax(a):
    expA = np.exp(a)
    return expA / expA.sum(axis=1, keepdims=True)


def gradients(X, T, P, fixed, reg=0):
    Z = np.tanh(X.dot(P["W1"]) + P["b1"])
    pY = softmax(Z.dot(P["W2"]) + P["b2"])
    pY_T = pY - T
    dW2 = Z.T.dot(pY_T) + reg * P["W2"]
    db2 = pY_T.sum(axis=0) + reg * P["b2"]
    if fixed:
        dZ = pY_T.dot(P["W2"].T) * (1 - Z * Z)
    else:
        dZ = pY_T.dot(P["W2"].T) * (1 - np.arctanh(Z) * np.arctanh(Z))
    dW1 = X.T.dot(dZ) + reg * P["W1"]
    db1 = dZ.sum(axis=0) + reg * P["b1"]
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, T, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, T, P, gradients(X, T, P, False), gradients(X, T, P, True))


if __name__ == "__main__":
    write()
