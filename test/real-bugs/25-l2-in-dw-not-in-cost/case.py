"""gy910210/neural-network-from-scratch's mlnn.py (a port of Denny Britz's nn-from-scratch in gates:
MultiplyGate, AddGate, Tanh on every layer, the softmax on the last tanh, samples in rows). Its train()
adds the L2 term to every dW, `dW += reg_lambda * self.W[i-1]` (reg_lambda = 0.01 by default), but its
cost, Softmax.loss called by calculate_loss, has no penalty at all: the original's calculate_loss adds
reg_lambda/2 * (Σ W1² + Σ W2²), the port dropped it. The gradients are those of a cost the program
never computes. Softmax.diff is probs - onehot, the gradient of the cross-entropy SUMMED over the
samples, and the cost is declared as that sum (calculate_loss prints 1/N of it: the mean-vs-sum
convention of the original, the corpus's case 36, is left out so this case is the L2 term alone).
The fix is the one line: no L2 term in dW, as the cost has none."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/gy910210/neural-network-from-scratch/blob/6b5ff0e1c060fdb39a7cb4c072753378b630ac69/mlnn.py"
TITLE = "mlnn.py: dW += reg_lambda * W in train(), but calculate_loss (Softmax.loss) has no L2 penalty"
QUOTE = """
    def calculate_loss(self, X, y):
        mulGate = MultiplyGate()
        addGate = AddGate()
        layer = Tanh()
        softmaxOutput = Softmax()

        input = X
        for i in range(len(self.W)):
            mul = mulGate.forward(self.W[i], input)
            add = addGate.forward(mul, self.b[i])
            input = layer.forward(add)

        return softmaxOutput.loss(input, y)
...
                dW, dtanh = mulGate.backward(self.W[i-1], forward[i-1][2], dmul)
                # Add regularization terms (b1 and b2 don't have regularization terms)
                dW += reg_lambda * self.W[i-1]
"""
BUG = "an L2 term reg_lambda·W (0.01·W) in every dW while the cost has no penalty (all layers; named at layer 1)"
EXPECT = {"codes": ["wrong-l2-gradient"], "layer": 1}

SPEC = {
    "input": 2,
    "layout": "rows",
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 3, "activation": "tanh"},
               {"type": "activation", "activation": "softmax"}],
    "loss": "categorical_cross_entropy",
    "reduction": "sum",
}


def setup():
    rng = np.random.default_rng(1525)
    n = 12
    X = rng.normal(size=(n, 2))
    y = rng.integers(0, 3, n)
    dims = [2, 4, 3]
    P = {}
    for i in range(2):
        P[f"W{i + 1}"] = rng.normal(size=(dims[i], dims[i + 1])) / np.sqrt(dims[i])
        P[f"b{i + 1}"] = rng.normal(size=dims[i + 1])
    return X, y, P


def train_step(X, y, P, fixed, reg_lambda=0.01):
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
        output = np.tanh(forward[i][1])
        dadd = (1.0 - np.square(output)) * dtanh
        db = np.dot(np.ones((1, dadd.shape[0])), dadd)
        dW = np.dot(np.transpose(forward[i - 1][2]), dadd)
        dtanh = np.dot(dadd, np.transpose(W[i - 1]))
        if not fixed:
            dW += reg_lambda * W[i - 1]
        grads[f"dW{i}"] = dW
        grads[f"db{i}"] = db.reshape(-1)
    return grads


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, y, P = setup()
    Y = np.eye(3)[y]
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P, train_step(X, y, P, False), train_step(X, y, P, True))


if __name__ == "__main__":
    write()
