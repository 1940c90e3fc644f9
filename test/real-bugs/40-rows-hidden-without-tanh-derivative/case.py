"""Real bug: deepcourse's first published MLP backward (code/backpropagation/mlp.py, March 2021),
samples in rows as in PyTorch (torch.mm(x, w)), where the hidden layer's weight AND bias gradients
both use grad_h, the gradient before tanh: grad_htilde = grad_h * grad_tanh(h) is computed and never
used, so tanh' is missing from the hidden layer. The author fixed grad_wh in September 2021
(commit c746ff0) and a contributor grad_bh in December (PR #9). Reproduced in NumPy in the rows
layout: 6 -> tanh 8 -> softmax 4, mean cross-entropy."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/arthurdouillard/deepcourse/blob/6af3b7f74693f1647833e37393e788f9253c566e/code/backpropagation/mlp.py"
TITLE = "deepcourse backprop lesson, MLP.backward (first version): the hidden layer's gradients without tanh'"
QUOTE = """
        grad_h = torch.mm(grad_logits, self.w_output.T)
        grad_htilde = grad_h * grad_tanh(h)
        grad_wh = torch.mm(inputs.T, grad_h) / batch_size
        grad_bh = torch.sum(grad_h, dim=0) / batch_size
"""
BUG = "hidden layer's dW1 and db1 built from dA1 (grad_h) instead of dZ1 = dA1 * (1 - h^2): tanh' missing from the hidden layer (layer 1; PyTorch rows layout)"
EXPECT = {"codes": ["wrong-activation-derivative", "wrong-local-derivative"], "layer": 1}

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
    grad_wh = inputs.T @ (grad_htilde if fixed else grad_h) / batch_size
    grad_bh = np.sum(grad_htilde if fixed else grad_h, axis=0) / batch_size
    return {"dW1": grad_wh, "db1": grad_bh, "dW2": grad_wo, "db2": grad_bo}


def write(here):
    rng = np.random.default_rng(40)
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
