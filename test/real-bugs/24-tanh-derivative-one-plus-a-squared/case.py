"""An issue on gy910210/neural-network-from-scratch (layer.py's Tanh.backward, a port of Denny Britz's
nn-from-scratch in gates): the reporter proposes (1.0 + np.square(output)) * top_diff, tan's derivative
1 + tan², for tanh, whose derivative is 1 - tanh². The proposal is the bug reproduced here, the
repository's line (1.0 - np.square(output)) the fix. The model as mlnn.py builds it: every layer is
MultiplyGate, AddGate and Tanh, the softmax sits on the last tanh, samples in rows; its backward pass
with reg_lambda = 0. Softmax.diff is probs - onehot, the gradient of the cross-entropy SUMMED over
the samples, so the cost is declared as the sum (the repository's calculate_loss prints the mean; that
convention is a separate matter and is left out here, as is the L2 term)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/gy910210/neural-network-from-scratch/issues/2"
TITLE = "Tanh.backward proposed as (1.0 + np.square(output)) * top_diff: tan's 1 + tan² for tanh"
QUOTE = """
i think this is right! 

def backward(self, X, top_diff):
        output = self.forward(X)
        return (1.0 + np.square(output)) * top_diff

beacuse (tanx)'=sec²x=1+tan²x
"""
BUG = "tanh's derivative written 1 + a² (tan's) instead of 1 - a², at every tanh layer (the last one, layer 2, before the softmax; reaches layer 1)"
EXPECT = {"codes": ["wrong-activation-derivative", "wrong-local-derivative"], "layer": 2}

SPEC = {
    "input": 2,
    "layout": "rows",
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 3, "activation": "tanh"},
               {"type": "activation", "activation": "softmax"}],
    "loss": "categorical_cross_entropy",
    "reduction": "sum",
}


def setup():
    rng = np.random.default_rng(1524)
    n = 12
    X = rng.normal(size=(n, 2))
    y = rng.integers(0, 3, n)
    dims = [2, 4, 3]
    P = {}
    for i in range(2):
        P[f"W{i + 1}"] = rng.normal(size=(dims[i], dims[i + 1])) / np.sqrt(dims[i])
        P[f"b{i + 1}"] = rng.normal(size=dims[i + 1])
    return X, y, P


def backprop(X, y, P, fixed):
    def tanh_backward(X_, top_diff):
        output = np.tanh(X_)
        return ((1.0 - np.square(output)) if fixed else (1.0 + np.square(output))) * top_diff
    W = [P["W1"], P["W2"]]
    b = [P["b1"].reshape(1, -1), P["b2"].reshape(1, -1)]
    inp = X
    forward = [(None, None, inp)]
    for i in range(2):
        mul = np.dot(inp, W[i])
        add = mul + b[i]
        inp = np.tanh(add)
        forward.append((mul, add, inp))
    exp_scores = np.exp(forward[-1][2])
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    probs[range(X.shape[0]), y] -= 1
    dtanh = probs
    grads = {}
    for i in range(len(forward) - 1, 0, -1):
        dadd = tanh_backward(forward[i][1], dtanh)
        db = np.dot(np.ones((1, dadd.shape[0])), dadd)
        dmul = dadd
        dW = np.dot(np.transpose(forward[i - 1][2]), dmul)
        dtanh = np.dot(dmul, np.transpose(W[i - 1]))
        grads[f"dW{i}"] = dW
        grads[f"db{i}"] = db.reshape(-1)
    return grads


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, y, P = setup()
    Y = np.eye(3)[y]
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, backprop(X, y, P, False), backprop(X, y, P, True))


if __name__ == "__main__":
    write()
