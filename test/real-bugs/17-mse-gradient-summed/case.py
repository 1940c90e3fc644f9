"""patrickloeber/pytorchTutorial's 05_1_gradientdescent_manually.py (a PyTorch tutorial's NumPy warm-up):
the loss is the mean ((y_pred - y)**2).mean(), the gradient np.dot(2*x, y_pred - y).mean(), whose
.mean() is of a scalar, so dw is the sum over the N samples, N times the mean's gradient; a pull request
points it out. One linear unit without bias, f = w * x, at the tutorial's data and w = 0.0."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/patrickloeber/pytorchTutorial/pull/11"
TITLE = "np.dot(2*x, y_pred - y).mean(): the mean of a scalar, so the gradient of a sum for a mean loss"
QUOTE = """
np.dot() gives a scalar, so np.dot().mean() does not give the correct gradient.
"""
BUG = "the loss averages over the N samples, the gradient sums over them: N times too large (layer 1, the output)"
EXPECT = {"codes": ["wrong-reduction", "loss-convention"], "layer": 1}

SPEC = {
    "input": 1,
    "bias": False,
    "layers": [{"units": 1, "activation": "linear"}],
    "loss": {"expr": "(a - y)^2"},
}


def setup():
    X = np.array([1, 2, 3, 4], dtype=np.float64)
    Y = np.array([2, 4, 6, 8], dtype=np.float64)
    return X, Y, 0.0


def gradient(x, y, y_pred, fixed):
    if fixed:
        return np.mean(2 * x * (y_pred - y))
    return np.dot(2 * x, y_pred - y).mean()


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, w = setup()
    y_pred = w * X
    common.write_net_case(sys.modules[__name__], here, SPEC, X[None, :], Y[None, :], {"W1": np.array([[w]])},
                          {"dW1": np.array([[gradient(X, Y, y_pred, False)]])}, {"dW1": np.array([[gradient(X, Y, y_pred, True)]])})


if __name__ == "__main__":
    write()
