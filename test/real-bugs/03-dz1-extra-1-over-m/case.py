"""A learner's planar-data backward pass (deeplearning.ai, Neural Networks and Deep Learning, week 3,
exercise 6), described step by step on the course forum: dZ1 is multiplied by 1/m, and dW1 and db1
divide by m again, so layer 1's gradients are 1/m of the right ones while dW2 and db2 match.
One tanh hidden layer, a sigmoid output, cross-entropy averaged over m."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://community.deeplearning.ai/t/course-1-week-3-planar-assignment-4-5-exercise-6-backward-propagation-error-for-dw1-values/63071"
TITLE = "planar backward_propagation: dZ1 multiplied by 1/m, then dW1 and db1 divided by m again"
QUOTE = """
- For dZ1, I compute in 3 steps -
**1)**compute dot product of W2.T, dZ2**2)**compute g[1]′(Z[1]) using`(1 - np.power(A1, 2))`

**3)**Element wise multiply 1) and 2) and then multiply with 1/m - For dW1, I compute a dot product of dZ1 and X.T and then multiply with 1/m
- For db1, I compute np.sum of dZ1 with axis 1, keepdims True and then multiply with 1/m

Out of the expected assertions of the test, I see that dW2, db2 values and shapes are matching, where as dW1 and db1 don’t match with values, but shape is correct.
"""
BUG = "1/m applied twice at layer 1 (once in dZ1, again in dW1 and db1): layer 1's gradients are 1/m times the right ones"
EXPECT = {"codes": ["wrong-reduction", "constant-factor"], "layer": 1}

SPEC = {
    "input": 2,
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
}


def setup():
    rng = np.random.default_rng(1503)
    m = 20
    X = rng.normal(size=(2, m)) * 2
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    P = {"W1": rng.normal(size=(4, 2)) * 0.5, "b1": rng.normal(size=(4, 1)) * 0.1,
         "W2": rng.normal(size=(1, 4)) * 0.5, "b2": rng.normal(size=(1, 1)) * 0.1}
    return X, Y, P


def backward_propagation(P, X, Y, fixed):
    m = X.shape[1]
    W1, W2 = P["W1"], P["W2"]
    A1 = np.tanh(np.dot(W1, X) + P["b1"])
    A2 = 1 / (1 + np.exp(-(np.dot(W2, A1) + P["b2"])))
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    if not fixed:
        dZ1 = dZ1 * (1 / m)
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backward_propagation(P, X, Y, False), backward_propagation(P, X, Y, True))


if __name__ == "__main__":
    write()
