"""An issue on jiexunsee/Neural-Network-with-Python (3layer.py: three sigmoid layers without biases,
3-5-6-1, samples in rows, trained on four samples): the output "delta" del4 is the error
training_set_outputs - output itself, without the output sigmoid's derivative, and it feeds both
adjustment3 and the hidden deltas. The reporter's change multiplies it by __sigmoid_derivative(output);
the author agreed and fixed it. The update is weights += adjustment with error = y - a: minus the
gradient of ½·Σ(y - a)² summed over the samples, so the gradients written are the adjustments negated.
The reproduction is the repository's train() before the fix (commit 3a0661f7), one step."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/jiexunsee/Neural-Network-with-Python/issues/1"
TITLE = "3layer.py: del4 = training_set_outputs - output used as the output delta, without sigmoid'(output)"
QUOTE = """
Change this

```python
	# calculate error
	del4 = training_set_outputs - output

	# find errors in each layer
	del3 = dot(self.synaptic_weights3, del4.T)*(self.__sigmoid_derivative(a3).T)
	del2 = dot(self.synaptic_weights2, del3)*(self.__sigmoid_derivative(a2).T)
```

To this

```python
	# calculate error
	err4 = training_set_outputs - output

	del4 = err4*self.__sigmoid_derivative(output)
"""
BUG = "the output delta is the error y - a without the output sigmoid's derivative a(1 - a) (layer 3, the output; reaches layers 1 and 2)"
# Three codes name it truly: the factor missing from the output delta is the output activation's
# derivative; and a - y is exactly the delta of binary cross-entropy with a sigmoid output, so these
# gradients are the whole net's correct gradients of the summed BCE, not of the squared error the code
# means (loss-convention says so, reproduced to 1e-16).
EXPECT = {"codes": ["wrong-output-gradient", "wrong-activation-derivative", "loss-convention"], "layer": 3}

SPEC = {
    "input": 3,
    "layout": "rows",
    "bias": False,
    "layers": [{"units": 5, "activation": "sigmoid"}, {"units": 6, "activation": "sigmoid"},
               {"units": 1, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
    "reduction": "sum",
}


def setup():
    rng = np.random.default_rng(1527)
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
    Y = np.array([[0, 1, 1, 0]], dtype=float).T
    P = {"W1": 2 * rng.random((3, 5)) - 1, "W2": 2 * rng.random((5, 6)) - 1, "W3": 2 * rng.random((6, 1)) - 1}
    return X, Y, P


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    return x * (1 - x)


def train_step(X, Y, P, fixed):
    a2 = sigmoid(np.dot(X, P["W1"]))
    a3 = sigmoid(np.dot(a2, P["W2"]))
    output = sigmoid(np.dot(a3, P["W3"]))
    if fixed:
        err4 = Y - output
        del4 = err4 * sigmoid_derivative(output)
    else:
        del4 = Y - output
    del3 = np.dot(P["W3"], del4.T) * (sigmoid_derivative(a3).T)
    del2 = np.dot(P["W2"], del3) * (sigmoid_derivative(a2).T)
    adjustment3 = np.dot(a3.T, del4)
    adjustment2 = np.dot(a2.T, del3.T)
    adjustment1 = np.dot(X.T, del2.T)
    # weights += adjustment: the adjustments are minus the gradient
    return {"dW1": -adjustment1, "dW2": -adjustment2, "dW3": -adjustment3}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, train_step(X, Y, P, False), train_step(X, Y, P, True))


if __name__ == "__main__":
    write()
