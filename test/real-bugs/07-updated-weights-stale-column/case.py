"""louisjc/mnist-neural-network's backpropagate (first commit), reported in its issue #1 and fixed in
commit b8d2c31 ("Fixes #1"): the output layer's weights are updated *before* the hidden deltas are
computed from them, and np.delete(self.layers[-1], 200, 1) drops weight column 200 (a leftover from a
200-unit hidden layer; the network has 300) instead of the bias column 300. Per sample (m = 1),
sigmoid layers, ½‖a - y‖²; each layer's matrix holds its bias in its last column. Here: 6 hidden units
and the column left from a 4-unit layer; the learning coefficient c = 1/(iteration + 10) at iteration 0.
QUOTE is neural_net.py's backpropagate at the first commit (5551059), before the fix."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/louisjc/mnist-neural-network/issues/1"
TITLE = "hidden deltas from the already-updated output weights, with a weight column deleted instead of the bias"
QUOTE = """
        output_deltas = outputs * (1 - outputs) * (outputs - target)
        self.layers[-1] -= c*np.outer(output_deltas, np.append(hidden_outputs, 1))

        # Calculation of partial derivatives for the hidden layer and subtraction
        hidden_deltas = hidden_outputs * (1 - hidden_outputs) * \\
            np.dot(np.delete(self.layers[-1], 200, 1).T, output_deltas)
        self.layers[0] -= c*np.outer(hidden_deltas, np.append(input_vector, 1))
"""
BUG = ("dA of the hidden layer is W2ᵀ·delta with W2 already updated by the step, and with a weight column "
       "deleted instead of the bias column, so hidden unit j >= 4 uses unit j+1's weight and the last one the bias (layer 1)")
EXPECT = {"codes": ["wrong-backprop-weight"], "layer": 1}

HIDDEN, STALE = 6, 4
SPEC = {
    "input": 5,
    "layers": [{"units": HIDDEN, "activation": "sigmoid"}, {"units": 3, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
}


def setup():
    rng = np.random.default_rng(1507)
    x = rng.random((5, 1))
    target = np.array([[0.0], [1.0], [0.0]])
    hidden_layer = rng.random((HIDDEN, 5 + 1)) / HIDDEN
    output_layer = rng.random((3, HIDDEN + 1)) / 3
    return x, target, [hidden_layer, output_layer]


def expit(v):
    return 1 / (1 + np.exp(-v))


def backpropagate(layers, input_vector, target, fixed):
    """Returns the gradients the code steps along (its updates are -c times them)."""
    layers = [layer.copy() for layer in layers]
    c = 1. / (0 + 10)
    hidden_outputs = expit(np.inner(layers[0], np.append(input_vector, 1)))
    outputs = expit(np.inner(layers[1], np.append(hidden_outputs, 1)))
    output_deltas = outputs * (1 - outputs) * (outputs - target.ravel())
    grad_out = np.outer(output_deltas, np.append(hidden_outputs, 1))
    if fixed:
        hidden_deltas = hidden_outputs * (1 - hidden_outputs) * \
            np.dot(np.delete(layers[-1], HIDDEN, 1).T, output_deltas)
        layers[-1] -= c * grad_out
    else:
        layers[-1] -= c * grad_out
        hidden_deltas = hidden_outputs * (1 - hidden_outputs) * \
            np.dot(np.delete(layers[-1], STALE, 1).T, output_deltas)
    grad_hidden = np.outer(hidden_deltas, np.append(input_vector, 1))
    return {"dW1": grad_hidden[:, :-1], "db1": grad_hidden[:, -1:], "dW2": grad_out[:, :-1], "db2": grad_out[:, -1:]}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    x, target, layers = setup()
    params = {"W1": layers[0][:, :-1], "b1": layers[0][:, -1:], "W2": layers[1][:, :-1], "b2": layers[1][:, -1:]}
    common.write_net_case(sys.modules[__name__], here, SPEC, x, target, params,
                          backpropagate(layers, x.ravel(), target, False), backpropagate(layers, x.ravel(), target, True))


if __name__ == "__main__":
    write()
