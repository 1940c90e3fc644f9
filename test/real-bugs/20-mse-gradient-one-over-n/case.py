"""Deep-ML's problem 25, "Single Neuron with Backpropagation" (Open-Deep-ML/DML-OpenProblem): the cost
is the MSE, mean((p - y)²), whose gradient carries 2/n; issue #54 reports that the problem's Learn
section has the 2/n but its solution 1/n, and the maintainer agrees. The solution's lines were not
quoted in the issue: the gradients below are the standard single-neuron ones with the 1/n it reports,
at the problem's example (features [[1, 2], [2, 1], [-1, -2]], labels [1, 0, 0], w = [0.1, -0.2], b = 0)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/Open-Deep-ML/DML-OpenProblem/issues/54"
TITLE = "single sigmoid neuron, MSE cost, gradients with 1/n where the mean of squares needs 2/n"
QUOTE = """
There is 2 / n multiplier for gradients in the Learn section, but 1/n in the solution
"""
BUG = "the gradient of mean((p - y)²) written with 1/n instead of 2/n: every gradient is half the true one (a loss convention, layer 1)"
EXPECT = {"codes": ["loss-convention", "constant-factor"], "layer": 1}

SPEC = {
    "input": 2,
    "layout": "rows",
    "layers": [{"units": 1, "activation": "sigmoid"}],
    "loss": {"expr": "(a - y)^2"},
}


def setup():
    features = np.array([[1.0, 2.0], [2.0, 1.0], [-1.0, -2.0]])
    labels = np.array([1.0, 0.0, 0.0])
    return features, labels, np.array([0.1, -0.2]), 0.0


def gradients(features, labels, weights, bias, fixed):
    n = len(labels)
    predictions = 1 / (1 + np.exp(-(features @ weights + bias)))
    delta = (predictions - labels) * predictions * (1 - predictions)
    c = 2 / n if fixed else 1 / n
    return {"dW1": (c * features.T @ delta)[:, None], "db1": np.array([c * np.sum(delta)])}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, y, w, b = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, y[:, None], {"W1": w[:, None], "b1": np.array([b])},
                          gradients(X, y, w, b, False), gradients(X, y, w, b, True))


if __name__ == "__main__":
    write()
