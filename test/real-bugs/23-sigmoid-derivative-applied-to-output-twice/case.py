"""An issue on kyle8998/Sudo-Productivity (NeuralNetwork/trainNN.py, a two-layer sigmoid net without
biases trained on an XOR-like set): __sigmoid_derivative(x) returns x * (1 - x) and is called with the
layers' outputs, so it is σ'(z). The reporter asks whether x should be __sigmoid(x), which evaluates
the derivative at σ(a): the sigmoid applied twice, at both layers. The proposal is the bug reproduced
here, the repository's line the fix. The update is weights += X.T·delta with error = y - a, i.e. the
negative gradient of ½·Σ(y - a)² summed over the samples; the gradients written are its negation."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/kyle8998/Sudo-Productivity/issues/3"
TITLE = "__sigmoid_derivative(x) = x * (1 - x), called with the outputs: 'Shouldn't `x` be `__sigmoid(x)`?'"
QUOTE = """
https://github.com/kyle8998/Sudo-Productivity/blob/e154a0c78edde760d55a9d17297fbb70fd492982/NeuralNetwork/trainNN.py#L17

Shouldn't `x` be `__sigmoid(x)`? As it is right now, the gradient will be small near 0.
"""
BUG = "the sigmoid's derivative evaluated at the output a = σ(z) through the sigmoid again: σ(a)(1 - σ(a)) instead of a(1 - a), at both layers (output layer 2, reaches layer 1)"
EXPECT = {"codes": ["derivative-of-wrong-variable", "wrong-output-gradient"], "layer": 2}

SPEC = {
    "input": 3,
    "layout": "rows",
    "bias": False,
    "layers": [{"units": 4, "activation": "sigmoid"}, {"units": 1, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
    "reduction": "sum",
}


def setup():
    rng = np.random.default_rng(1523)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0]], dtype=float)
    Y = np.array([[0, 1, 1, 1, 1, 0, 0]], dtype=float).T
    P = {"W1": 2 * rng.random((3, 4)) - 1, "W2": 2 * rng.random((4, 1)) - 1}
    return X, Y, P


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def train_step(X, Y, P, fixed):
    def sigmoid_derivative(x):
        return x * (1 - x) if fixed else sigmoid(x) * (1 - sigmoid(x))
    output_from_layer_1 = sigmoid(np.dot(X, P["W1"]))
    output_from_layer_2 = sigmoid(np.dot(output_from_layer_1, P["W2"]))
    layer2_error = Y - output_from_layer_2
    layer2_delta = layer2_error * sigmoid_derivative(output_from_layer_2)
    layer1_error = layer2_delta.dot(P["W2"].T)
    layer1_delta = layer1_error * sigmoid_derivative(output_from_layer_1)
    layer1_adjustment = X.T.dot(layer1_delta)
    layer2_adjustment = output_from_layer_1.T.dot(layer2_delta)
    # weights += adjustment: the adjustment is minus the gradient
    return {"dW1": -layer1_adjustment, "dW2": -layer2_adjustment}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, train_step(X, Y, P, False), train_step(X, Y, P, True))


if __name__ == "__main__":
    write()
