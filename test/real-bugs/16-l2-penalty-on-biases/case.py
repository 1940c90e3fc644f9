"""rasmusbergpalm/DeepLearnToolbox (MATLAB), reported in its issue #32: nnapplygrads adds
weightPenaltyL2 * nn.W{i} to the gradient, and nn.W{i} holds each layer's bias in its first column, so
the biases are decayed too. Reproduced in NumPy with the toolbox's nnsetup defaults: a tanh_opt hidden
layer (1.7159·tanh(2/3·z)), a sigmoid output, ½·Σe²/m; the cost the weight decay belongs to is
λ/2·Σ‖W(:, 2:end)‖², the weights without the bias column. λ = 1e-4 (a user's setting; nnsetup's is 0)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/rasmusbergpalm/DeepLearnToolbox/issues/32"
TITLE = "dW = nn.dW{i} + nn.weightPenaltyL2 * nn.W{i}, the bias column included"
QUOTE = """
It looks like there is L2 regularization on the bias terms in nnapplygrads.m. Is that intentional?

line 7-11: nnapplygrads.m
        if(nn.weightPenaltyL2>0)
            dW = nn.dW{i} + nn.weightPenaltyL2 \\* nn.W{i};
        else
            dW = nn.dW{i};
        end
"""
BUG = "the L2 term λ·W is added to the bias gradients as well (λ·b), though the penalty leaves the biases out (layer 1)"
# bias-penalty is the code for exactly this mistake (an L2 term on the biases), added with the
# error decomposition; the two older codes name it only loosely.
EXPECT = {"codes": ["bias-penalty", "wrong-l2-gradient", "wrong-bias-gradient"], "layer": 1}

LAMBDA = 1e-4
SPEC = {
    "input": 3,
    "layers": [{"units": 5, "activation": {"expr": "1.7159 * tanh(2 / 3 * z)"}}, {"units": 2, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
    "l2": {"coefficient": LAMBDA / 2},
}


def setup():
    rng = np.random.default_rng(1516)
    m = 10
    x = rng.normal(size=(m, 3))
    y = (rng.random((m, 2)) > 0.5).astype(float)
    sizes = [3, 5, 2]
    W = [(rng.random((sizes[i], sizes[i - 1] + 1)) - 0.5) * 2 * 4 * np.sqrt(6 / (sizes[i] + sizes[i - 1])) for i in (1, 2)]
    return x, y, W


def sigm(P):
    return 1 / (1 + np.exp(-P))


def tanh_opt(A):
    return 1.7159 * np.tanh(2 / 3 * A)


def gradients(x, y, W, fixed):
    m = x.shape[0]
    a1 = np.c_[np.ones((m, 1)), x]
    a2 = np.c_[np.ones((m, 1)), tanh_opt(a1 @ W[0].T)]
    a3 = sigm(a2 @ W[1].T)
    e = y - a3
    d3 = -e * (a3 * (1 - a3))
    d_act = 1.7159 * 2 / 3 * (1 - 1 / (1.7159) ** 2 * a2 ** 2)
    d2 = (d3 @ W[1]) * d_act
    dW = [(d2[:, 1:].T @ a1) / m, (d3.T @ a2) / m]
    out = {}
    for i in (0, 1):
        g = dW[i] + LAMBDA * W[i]
        if fixed:
            g[:, 0] = dW[i][:, 0]
        out[f"dW{i + 1}"], out[f"db{i + 1}"] = g[:, 1:], g[:, :1]
    return out


def write(here=os.path.dirname(os.path.abspath(__file__))):
    x, y, W = setup()
    params = {"W1": W[0][:, 1:], "b1": W[0][:, :1], "W2": W[1][:, 1:], "b2": W[1][:, :1]}
    common.write_net_case(sys.modules[__name__], here, SPEC, x.T, y.T, params, gradients(x, y, W, False), gradients(x, y, W, True))


if __name__ == "__main__":
    write()
