"""Correct gradients at trained, saturated, symmetric and large-scale weights, from PyTorch float64.

How to run (from the repository root; this needs PyTorch and NumPy, which the system Python has):

    /usr/bin/python3 scripts/golden_trained.py

It rewrites fixtures/trained/*.json deterministically (each case has its own seeded NumPy
generator; torch runs in float64 on the CPU). test/resolution.test.ts then requires that these
correct gradients pass backprop-check (handed in as --grads would hand them in, and backprop-check's
own backprop at the same weights), and that the same gradients with a real bug injected fail.

These are the weights where float64 itself resolves few digits of the gradient: a confident sigmoid
(z about 30, gradients about 1e-13), a saturated tanh layer, a softmax margin of 28, a bias gradient
that is 0 by symmetry, weights of scale 1e3, features of scale 1e4, and weights after many gradient
steps. Each file has the layout of fixtures/golden (scripts/golden.py): spec, X, Y, params, loss,
grads, source, and a note saying what the case is.

The losses are written out, -(y log a + (1-y) log(1-a)) with torch.xlogy, as user code writes them:
torch.nn.BCELoss would clamp a(1-a) at 1e-12 in its backward pass, which at z = 30 is a different
function, not float64 rounding.
"""

import json
import os
import shutil

import numpy as np
import torch

from golden import write  # the same file layout as fixtures/golden

torch.set_default_dtype(torch.float64)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "trained")
SOURCE = "PyTorch {} float64 autograd (scripts/golden_trained.py)".format(torch.__version__)

ACTS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=0),
    "relu": torch.relu,
}

LOSSES = {
    "binary_cross_entropy": lambda a, y: -(torch.xlogy(y, a) + torch.xlogy(1 - y, 1 - a)),
    "mean_squared_error": lambda a, y: 0.5 * (a - y) ** 2,
    "categorical_cross_entropy": lambda a, y: -torch.xlogy(y, a),
}


def forward_cost(Ws, bs, X, Y, acts, loss, reduction):
    A = X
    for W, b, act in zip(Ws, bs, acts):
        A = ACTS[act](W @ A + b)
    data = LOSSES[loss](A, Y).sum()
    return data / X.shape[1] if reduction == "mean" else data, A


def case(name, note, X, Y, Ws, bs, acts, loss, reduction="mean"):
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    Ws = [torch.tensor(W, requires_grad=True) for W in Ws]
    bs = [torch.tensor(b, requires_grad=True) for b in bs]
    J, _ = forward_cost(Ws, bs, X, Y, acts, loss, reduction)
    J.backward()
    spec = {"input": X.shape[0], "layers": [{"units": W.shape[0], "activation": a} for W, a in zip(Ws, acts)],
            "loss": loss, "reduction": reduction}
    params, grads = {}, {}
    for l, (W, b) in enumerate(zip(Ws, bs)):
        params[f"W{l + 1}"] = W.detach().tolist()
        params[f"b{l + 1}"] = b.detach().tolist()
        grads[f"dW{l + 1}"] = W.grad.tolist()
        grads[f"db{l + 1}"] = b.grad.tolist()
    return {"name": name, "note": note, "spec": spec, "X": X.tolist(), "Y": Y.tolist(), "params": params,
            "loss": J.item(), "grads": grads, "source": SOURCE}


def train(X, Y, Ws, bs, acts, loss, steps, lr, reduction="mean"):
    """Plain gradient descent in float64: the weights after `steps` steps."""
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    Ws = [torch.tensor(W, requires_grad=True) for W in Ws]
    bs = [torch.tensor(b, requires_grad=True) for b in bs]
    for _ in range(steps):
        J, _ = forward_cost(Ws, bs, X, Y, acts, loss, reduction)
        for t in Ws + bs:
            t.grad = None
        J.backward()
        with torch.no_grad():
            for t in Ws + bs:
                t -= lr * t.grad
    return [W.detach().numpy() for W in Ws], [b.detach().numpy() for b in bs]


def two_clusters(rng, m, d, spread):
    y = np.array([i % 2 for i in range(m)], dtype=float)
    X = np.outer(np.ones(d), 2 * y - 1) + spread * rng.standard_normal((d, m))
    return X, y[None, :]


def cases():
    out = []

    # A confident sigmoid: every output at z of about +-30 on the right side, so dJ/dz = a - y is
    # about 1e-13 and a holds it to an ulp.
    rng = np.random.default_rng(1)
    X, Y = two_clusters(rng, 16, 4, 0.1)
    W1 = 0.5 * rng.standard_normal((3, 4))
    b1 = np.zeros((3, 1))
    H = np.tanh(W1 @ X)
    w = (H[:, Y[0] == 1].mean(axis=1) - H[:, Y[0] == 0].mean(axis=1))[None, :]
    u = w @ H
    assert np.all((u > 0) == (Y > 0.5))
    W2 = 30 / np.abs(u).mean() * w
    out.append(case("confident-sigmoid", "a confident sigmoid: |z| about 30 at the output, gradients about 1e-13",
                    X, Y, [W1, W2], [b1, np.zeros((1, 1))], ["tanh", "sigmoid"], "binary_cross_entropy"))

    # A saturated tanh layer: hidden pre-activations of size 10 to 40, 1 - a^2 from 1e-9 down to 0.
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3, 20))
    Y = (rng.uniform(size=(1, 20)) < 0.5).astype(float)
    W1 = 12 * rng.standard_normal((5, 3))
    W2 = rng.standard_normal((1, 5))
    out.append(case("saturated-tanh", "a saturated tanh layer: hidden |z| mostly above 10",
                    X, Y, [W1, W2], [rng.standard_normal((5, 1)), np.zeros((1, 1))], ["tanh", "sigmoid"],
                    "binary_cross_entropy", "sum"))

    # A softmax margin of 28: each sample's logit for its class 28 above the others.
    rng = np.random.default_rng(3)
    m, k = 15, 3
    labels = np.arange(m) % k
    X = 2 * np.eye(k)[:, labels] + 0.02 * rng.standard_normal((k, m))
    W1 = rng.standard_normal((4, k))
    H = np.tanh(W1 @ (2 * np.eye(k)))
    W2 = 28 * np.eye(k) @ np.linalg.pinv(H)
    Y = np.eye(k)[:, labels]
    out.append(case("softmax-margin-28", "softmax at a margin of about 28: a - y keeps 4 digits",
                    X, Y, [W1, W2], [np.zeros((4, 1)), np.zeros((k, 1))], ["tanh", "softmax"],
                    "categorical_cross_entropy"))

    # Symmetric: samples in pairs (x, -x) with targets (y, -y), odd activations and zero biases, so
    # every bias gradient is exactly 0 in exact arithmetic.
    rng = np.random.default_rng(4)
    half = rng.standard_normal((3, 6))
    X = np.stack([half, -half], axis=2).reshape(3, 12)
    t = rng.standard_normal((1, 6))
    Y = np.stack([t, -t], axis=2).reshape(1, 12)
    out.append(case("symmetric-bias", "pairs (x, -x) and (y, -y) with odd activations: the bias gradients are 0 by symmetry",
                    X, Y, [rng.standard_normal((4, 3)), rng.standard_normal((1, 4))], [np.zeros((4, 1)), np.zeros((1, 1))],
                    ["tanh", "linear"], "mean_squared_error"))

    # Weights of scale 1e3 on inputs of 1e-3, and an output layer of scale 1e3.
    rng = np.random.default_rng(5)
    X = 1e-3 * rng.standard_normal((3, 12))
    Y = 1e3 * rng.standard_normal((1, 12))
    out.append(case("weights-1e3", "weights of scale 1e3 (inputs of 1e-3, outputs of 1e3)",
                    X, Y, [1e3 * rng.standard_normal((4, 3)), 1e3 * rng.standard_normal((1, 4))],
                    [rng.standard_normal((4, 1)), np.zeros((1, 1))], ["tanh", "linear"], "mean_squared_error"))

    # Features of scale 1e4 (unstandardised), with first-layer weights of 1e-4.
    rng = np.random.default_rng(6)
    X = 1e4 * rng.standard_normal((3, 14))
    Y = (rng.uniform(size=(1, 14)) < 0.5).astype(float)
    out.append(case("features-1e4", "features of scale 1e4 and first-layer weights of 1e-4",
                    X, Y, [1e-4 * rng.standard_normal((4, 3)), rng.standard_normal((1, 4))],
                    [0.1 * rng.standard_normal((4, 1)), np.zeros((1, 1))], ["tanh", "sigmoid"], "binary_cross_entropy"))

    # Trained: separable clusters after 3000 steps of gradient descent, confident and partly saturated.
    rng = np.random.default_rng(7)
    X, Y = two_clusters(rng, 24, 2, 0.4)
    Ws, bs = train(X, Y, [rng.standard_normal((6, 2)), rng.standard_normal((1, 6))], [np.zeros((6, 1)), np.zeros((1, 1))],
                   ["tanh", "sigmoid"], "binary_cross_entropy", 3000, 2.0)
    out.append(case("trained-sigmoid", "after 3000 gradient-descent steps on separable data", X, Y, Ws, bs,
                    ["tanh", "sigmoid"], "binary_cross_entropy"))

    rng = np.random.default_rng(8)
    m, k = 18, 3
    labels = np.arange(m) % k
    X = 3 * np.eye(k)[:, labels] + 0.3 * rng.standard_normal((k, m))
    Y = np.eye(k)[:, labels]
    Ws, bs = train(X, Y, [rng.standard_normal((5, k)), rng.standard_normal((k, 5))], [np.zeros((5, 1)), np.zeros((k, 1))],
                   ["tanh", "softmax"], "categorical_cross_entropy", 3000, 3.0)
    out.append(case("trained-softmax", "after 3000 gradient-descent steps on three clusters", X, Y, Ws, bs,
                    ["tanh", "softmax"], "categorical_cross_entropy"))

    # Trained ReLU net on a regression target: weights after 2000 steps, kinks kept clear.
    rng = np.random.default_rng(9)
    X = rng.standard_normal((2, 20))
    Y = np.sin(X[:1]) + 0.5 * X[1:] ** 2
    Ws, bs = train(X, Y, [rng.standard_normal((6, 2)), rng.standard_normal((1, 6))], [0.1 * np.ones((6, 1)), np.zeros((1, 1))],
                   ["relu", "linear"], "mean_squared_error", 2000, 0.05)
    Z = Ws[0] @ X + bs[0]
    assert np.abs(Z).min() > 1e-3, "a ReLU pre-activation too near its kink"
    out.append(case("trained-relu", "a ReLU regression net after 2000 gradient-descent steps", X, Y, Ws, bs,
                    ["relu", "linear"], "mean_squared_error"))
    return out


def main():
    all_cases = cases()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for c in all_cases:
        with open(os.path.join(OUT, c["name"] + ".json"), "w") as f:
            f.write(write(c))
    print(f"wrote {len(all_cases)} cases to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
