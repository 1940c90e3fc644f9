"""An issue on rasmusbergpalm/DeepLearnToolbox (NN/nnbp.m): nnff stores the sigmoid's output in nn.a,
so the hidden derivative nn.a{i} .* (1 - nn.a{i}) is σ'(z). The reporter proposes
sigm(nn.a{i}) .* (1 - sigm(nn.a{i})) instead, which applies the sigmoid a second time: σ'(σ(z)).
The proposal is the bug reproduced here, the toolbox's line is the fix. DeepLearnToolbox's layout:
samples in rows, nn.e = y - a, the loss ½·Σ e² / m, dW{i} = d{i+1}'·a{i} / m (its bias column split
out here as b); the output delta is the toolbox's, untouched."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/rasmusbergpalm/DeepLearnToolbox/issues/165"
TITLE = "nnbp.m hidden derivative proposed as sigm(nn.a{i}) .* (1 - sigm(nn.a{i})), nn.a already being sigm(z)"
QUOTE = """
  case 'sigm'
##                 d_act = nn.a{i} .\\* (1 - nn.a{i});

derivative of sigmoid is 
   sigmoid(x)/dx = sigmoid(x)*(1-sigmoid(x))
## so.. shouldn'T it be like below?

  case 'sigm'
##                 d_act =sigm( nn.a{i}) .\\* (1 - sigm(nn.a{i}));
"""
BUG = "the hidden sigmoid's derivative evaluated at its output: σ(a)(1 - σ(a)) with a = σ(z), the sigmoid applied twice, instead of a(1 - a) (layer 1)"
EXPECT = {"codes": ["derivative-of-wrong-variable"], "layer": 1}

SPEC = {
    "input": 4,
    "layout": "rows",
    "layers": [{"units": 5, "activation": "sigmoid"}, {"units": 2, "activation": "sigmoid"}],
    "loss": "mean_squared_error",
}


def setup():
    rng = np.random.default_rng(1522)
    m = 16
    X = rng.random((m, 4))
    Y = rng.random((m, 2))
    # nnsetup: (rand - 0.5) * 2 * 4 * sqrt(6 / (fan_in + fan_out))
    P = {"W1": (rng.random((4, 5)) - 0.5) * 2 * 4 * np.sqrt(6 / 9), "b1": (rng.random(5) - 0.5) * 0.2,
         "W2": (rng.random((5, 2)) - 0.5) * 2 * 4 * np.sqrt(6 / 7), "b2": (rng.random(2) - 0.5) * 0.2}
    return X, Y, P


def sigm(P):
    return 1.0 / (1 + np.exp(-P))


def nnbp(X, Y, P, fixed):
    m = X.shape[0]
    a1 = sigm(X @ P["W1"] + P["b1"])
    a2 = sigm(a1 @ P["W2"] + P["b2"])
    e = Y - a2
    d2 = -e * (a2 * (1 - a2))
    d_act = a1 * (1 - a1) if fixed else sigm(a1) * (1 - sigm(a1))
    d1 = (d2 @ P["W2"].T) * d_act
    return {"dW1": X.T @ d1 / m, "db1": d1.sum(axis=0) / m, "dW2": a1.T @ d2 / m, "db2": d2.sum(axis=0) / m}


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, nnbp(X, Y, P, False), nnbp(X, Y, P, True))


if __name__ == "__main__":
    write()
