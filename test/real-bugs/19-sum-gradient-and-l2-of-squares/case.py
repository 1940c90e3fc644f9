"""omar-florez/scratch_mlp (a from-scratch MLP for XOR, samples in rows, sigmoid layers, no biases): the
loss is Σ(y - h2)²/(2N) + reg·(Σw1² + Σw2²)/(2N), but the gradients drop the 1/N of the data term and
write the penalty's gradient as reg_coeff*np.square(w).sum(), one number (the sum of squares) added to
every element instead of reg·w/N; an issue on the repository rewrites the L2 term as reg_coeff*w.
reg_coeff = 1e-6 as in run(), so the missing 1/N is the large error and the L2 term a small one."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/omar-florez/scratch_mlp/issues/4"
TITLE = "dL_dw2 = dz2_dw2.T.dot(dL_dh2*dh2_dz2) + reg_coeff*np.square(w2).sum() for a loss divided by 2N"
QUOTE = """
        L = np.square(y[index]-h2).sum()/(2*N) + reg_coeff*(np.square(w1).sum()+np.square(w2).sum())/(2*N)
        ...
        dL_dw2 = dz2_dw2.T.dot(dL_dh2*dh2_dz2) + reg_coeff*np.square(w2).sum()
        ...
        dL_dw1 = dz1_dw1.T.dot(dL_dh1*dh1_dz1) + reg_coeff*np.square(w1).sum()
"""
BUG = ("the data term of every dW is N times too large (no 1/N for a mean loss) and the L2 term is reg·Σw² in every element "
       "instead of reg·w/N (both layers; named at the output, layer 2)")
EXPECT = {"codes": ["wrong-reduction", "loss-convention", "constant-factor"], "layer": 2}

REG = 1e-6
SPEC = {
    "input": 2,
    "layout": "rows",
    "bias": False,
    "layers": [{"units": 5, "activation": "sigmoid"}, {"units": 2, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
    "l2": REG,
}


def setup():
    rng = np.random.default_rng(1519)
    N = 16
    X = rng.uniform(-1, 1, (N, 2))
    cls = (X[:, 0] * X[:, 1] > 0)
    y = np.stack([cls, ~cls], axis=1).astype(float)
    w1 = (2.0 * rng.random((2, 5)) - 1.0) / np.sqrt(2)
    w2 = (2.0 * rng.random((5, 2)) - 1.0) / np.sqrt(5)
    return X, y, w1, w2


def sigmoid(z, first_derivative=False):
    if first_derivative:
        return z * (1.0 - z)
    return 1.0 / (1.0 + np.exp(-z))


def gradients(X, y, w1, w2, fixed):
    N = X.shape[0]
    h1 = sigmoid(np.matmul(X, w1))
    h2 = sigmoid(np.matmul(h1, w2))
    dL_dh2 = -(y - h2)
    dh2_dz2 = sigmoid(h2, first_derivative=True)
    dz2_dw2 = h1
    dL_dz2 = dL_dh2 * dh2_dz2
    dL_dh1 = dL_dz2.dot(w2.T)
    dh1_dz1 = sigmoid(h1, first_derivative=True)
    dz1_dw1 = X
    if fixed:
        dL_dw2 = dz2_dw2.T.dot(dL_dh2 * dh2_dz2) / N + REG * w2 / N
        dL_dw1 = dz1_dw1.T.dot(dL_dh1 * dh1_dz1) / N + REG * w1 / N
    else:
        dL_dw2 = dz2_dw2.T.dot(dL_dh2 * dh2_dz2) + REG * np.square(w2).sum()
        dL_dw1 = dz1_dw1.T.dot(dL_dh1 * dh1_dz1) + REG * np.square(w1).sum()
    return {"dW1": dL_dw1, "dW2": dL_dw2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, y, w1, w2 = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, y, {"W1": w1, "W2": w2},
                          gradients(X, y, w1, w2, False), gradients(X, y, w1, w2, True))


if __name__ == "__main__":
    write()
