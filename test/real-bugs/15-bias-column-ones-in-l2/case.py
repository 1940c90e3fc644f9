"""JWarmenhoven/Coursera-Machine-Learning's Python port of Andrew Ng's ex4 (nnCostFunction): to keep the
bias column out of the regularisation it builds theta_ = [ones, theta[:, 1:]], ones where zeros belong,
so (theta_*reg)/m adds reg/m to every bias gradient; an issue on the repository points it out.
Sigmoid layers, cross-entropy averaged over m plus reg/(2m)·Σθ² without the bias columns. Theta holds
the bias in its first column; here W = theta[:, 1:] and b = theta[:, 0] (samples in columns)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/JWarmenhoven/Coursera-Machine-Learning/issues/3"
TITLE = "theta1_ = np.c_[np.ones(...), theta1[:,1:]]: reg/m added to every bias gradient"
QUOTE = """
theta1_ = np.c_[np.ones((theta1.shape[0],1)),theta1[:,1:]]
theta2_ = np.c_[np.ones((theta2.shape[0],1)),theta2[:,1:]]

theta1_grad = delta1/m + (theta1_*reg)/m
theta2_grad = delta2/m + (theta2_*reg)/m
```

Shouldn't it be
```
theta1_ = np.c_[np.zeros((theta1.shape[0],1)),theta1[:,1:]]
theta2_ = np.c_[np.zeros((theta2.shape[0],1)),theta2[:,1:]]
"""
BUG = "a constant reg/m added to every bias gradient (the bias column of theta_ is ones, not zeros), at both layers (layer 1)"
EXPECT = {"codes": ["constant-offset", "wrong-bias-gradient"], "layer": 1}

REG = 1.0
SPEC = {
    "input": 4,
    "layers": [{"units": 5, "activation": "sigmoid"}, {"units": 3, "activation": "sigmoid"}],
    "loss": "binary_cross_entropy",
    "l2": REG,
}


def setup():
    rng = np.random.default_rng(1515)
    m = 15
    X = rng.normal(size=(m, 4))
    classes = rng.integers(0, 3, m)
    # ex4's randInitializeWeights: U(-0.12, 0.12), here U(-1, 1) so that the gradients are not tiny
    theta1 = rng.uniform(-1, 1, (5, 4 + 1))
    theta2 = rng.uniform(-1, 1, (3, 5 + 1))
    return X, classes, theta1, theta2


def sigmoid(z):
    return (1 / (1 + np.exp(-z)))


def sigmoidGradient(z):
    return (sigmoid(z) * (1 - sigmoid(z)))


def nnCostFunction(theta1, theta2, features, y_matrix, reg, fixed):
    m = features.shape[0]
    a1 = features
    z2 = theta1.dot(a1.T)
    a2 = np.c_[np.ones((features.shape[0], 1)), sigmoid(z2.T)]
    z3 = theta2.dot(a2.T)
    a3 = sigmoid(z3)
    d3 = a3.T - y_matrix
    d2 = theta2[:, 1:].T.dot(d3.T) * sigmoidGradient(z2)
    delta1 = d2.dot(a1)
    delta2 = d3.T.dot(a2)
    fill = np.zeros if fixed else np.ones
    theta1_ = np.c_[fill((theta1.shape[0], 1)), theta1[:, 1:]]
    theta2_ = np.c_[fill((theta2.shape[0], 1)), theta2[:, 1:]]
    theta1_grad = delta1 / m + (theta1_ * reg) / m
    theta2_grad = delta2 / m + (theta2_ * reg) / m
    return {"dW1": theta1_grad[:, 1:], "db1": theta1_grad[:, :1], "dW2": theta2_grad[:, 1:], "db2": theta2_grad[:, :1]}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, classes, theta1, theta2 = setup()
    features = np.c_[np.ones((X.shape[0], 1)), X]
    y_matrix = np.eye(3)[classes]
    params = {"W1": theta1[:, 1:], "b1": theta1[:, :1], "W2": theta2[:, 1:], "b2": theta2[:, :1]}
    common.write_net_case(sys.modules[__name__], here, SPEC, X.T, y_matrix.T, params,
                          nnCostFunction(theta1, theta2, features, y_matrix, REG, False),
                          nnCostFunction(theta1, theta2, features, y_matrix, REG, True))


if __name__ == "__main__":
    write()
