"""An issue on kvfrans/notes (2-training-neural-networks/backpropagation.ipynb, a JAX notebook that
derives a two-layer MLP's gradient by hand): h2 = W1 x + b1, ReLU, h4 = W2 h3 (no output bias), loss
mean((h4 - y)²) over the samples (columns). d_h4 already carries the 1/m of the mean, and
d_b1 = jnp.mean(d_h2, axis=1) divides by m again: db1 is 1/m of the right gradient. The notebook's
sanity check compares only jax_grad_output[0] (dW1) with the manual one, so it prints "Grads match?
True" with db1 wrong. Reproduced with NumPy in place of jax.numpy (the same formulas); the issue's
jnp.sum is the fix. Smaller than the notebook (16 → 4 inputs, 128 → 8 hidden units, m = 10)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/kvfrans/notes/issues/5"
TITLE = "backpropagation.ipynb: d_b1 = jnp.mean(d_h2, axis=1), the 1/m applied twice to db1 (the check compares dW1 only)"
QUOTE = """
For the gradient calculation of the bias term, I suppose d_b1 = jnp.mean(d_h2, axis=1) should be d_b1 = jnp.sum(d_h2, axis=1) as we are summing up the gradient influence paths across all datapoints in the batch? I also verified in colab that replacing mean with sum yields jnp.allclose(jax_grad_output[1], manual_grad_output[0][1]) == True :)
"""
BUG = "db1 averaged over the batch (mean over axis 1) although d_h2 already carries the mean's 1/m: db1 is 1/m of the right gradient (layer 1, db only)"
EXPECT = {"codes": ["wrong-bias-gradient", "wrong-reduction"], "layer": 1}

SPEC = {
    "input": 4,
    "layers": [{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear", "bias": False}],
    "loss": {"expr": "(a - y)^2"},
}


def setup():
    rng = np.random.default_rng(1528)
    W1 = rng.normal(size=(8, 4)) / np.sqrt(4)
    b1 = rng.normal(size=8) * 0.01
    W2 = rng.normal(size=(1, 8)) / np.sqrt(8)
    x = rng.normal(size=(4, 10))
    y = rng.normal(size=(1, 10))
    return x, y, {"W1": W1, "b1": b1.reshape(-1, 1), "W2": W2}


def manual_grad(params, data_input, data_output, fixed):
    W1, b1, W2 = params["W1"], params["b1"][:, 0], params["W2"]
    h1 = W1 @ data_input
    h2 = h1 + b1[:, None]
    h3 = h2 * (h2 > 0)
    h4 = W2 @ h3
    d_h4 = 2 * (h4 - data_output) / data_output.shape[1]
    d_h3 = W2.T @ d_h4
    d_h2 = d_h3 * (h2 > 0)
    d_h1 = d_h2
    d_W2 = d_h4 @ h3.T
    d_b1 = np.sum(d_h2, axis=1) if fixed else np.mean(d_h2, axis=1)
    d_W1 = d_h1 @ data_input.T
    return {"dW1": d_W1, "db1": d_b1.reshape(-1, 1), "dW2": d_W2}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    x, y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, x, y, P, manual_grad(P, x, y, False), manual_grad(P, x, y, True))


if __name__ == "__main__":
    write()
