"""Real bug: a PyTorch-style (samples in rows, x @ W) MLP written by hand in deepcourse's backprop
lesson, whose hidden bias gradient sums grad_h, the gradient before tanh, instead of grad_htilde,
after it (fixed by arthurdouillard/deepcourse PR #9). grad_wh was already right. Reproduced in
NumPy in the rows layout: 6 -> tanh 8 -> softmax 4, mean cross-entropy."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/arthurdouillard/deepcourse/pull/9"
TITLE = "minor fixes in MLP backprop (static/code/backpropagation/mlp.py)"
QUOTE = """
PR: "2. grad_bh depends on grad_htilde, not grad_h, since tanh is performed on XW+b"
static/code/backpropagation/mlp.py before the fix (commit ea14da6):
        grad_h = torch.mm(grad_logits, self.w_output.T)
        grad_htilde = grad_h * grad_tanh(h)
        grad_wh = torch.mm(inputs.T, grad_htilde) / batch_size
        grad_bh = torch.sum(grad_h, dim=0) / batch_size
"""
BUG = "hidden bias gradient taken from dA (before tanh') instead of dZ: db1 = sum(dA1) / m while dW1 uses dZ1 (layer 1, db only; PyTorch rows layout)"
EXPECT = {"codes": ["wrong-bias-gradient"], "layer": 1}

N, H, K, M = 6, 8, 4, 24
SPEC = {
    "input": N,
    "layout": "rows",
    "layers": [{"units": H, "activation": "tanh"}, {"units": K, "activation": "softmax"}],
    "loss": "categorical_cross_entropy",
}


def grad_tanh(tanh_results):
    return 1 - tanh_results ** 2


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def gradients(inputs, onehot, p, fixed):
    """MLP.backward with torch.mm -> @ and torch.sum -> np.sum."""
    batch_size = len(inputs)
    h_tilde = inputs @ p["W1"] + p["b1"]
    h = np.tanh(h_tilde)
    probs = softmax(h @ p["W2"] + p["b2"])
    grad_logits = probs - onehot
    grad_wo = h.T @ grad_logits / batch_size
    grad_bo = np.sum(grad_logits, axis=0) / batch_size
    grad_h = grad_logits @ p["W2"].T
    grad_htilde = grad_h * grad_tanh(h)
    grad_wh = inputs.T @ grad_htilde / batch_size
    grad_bh = np.sum(grad_htilde if fixed else grad_h, axis=0) / batch_size
    return {"dW1": grad_wh, "db1": grad_bh, "dW2": grad_wo, "db2": grad_bo}


def write(here):
    rng = np.random.default_rng(33)
    X = rng.standard_normal((M, N))
    Y = np.eye(K)[rng.integers(0, K, size=M)]
    p = {
        "W1": rng.standard_normal((N, H)) / np.sqrt(N),  # torch.randn(input_size, hidden_size), scaled
        "b1": rng.standard_normal(H) * 0.1,
        "W2": rng.standard_normal((H, K)) / np.sqrt(H),
        "b2": rng.standard_normal(K) * 0.1,
    }
    common.write_net_case(types.SimpleNamespace(**globals()), here, SPEC, X, Y, p,
                          gradients(X, Y, p, fixed=False), gradients(X, Y, p, fixed=True))


if __name__ == "__main__":
    write(os.path.dirname(os.path.abspath(__file__)))
