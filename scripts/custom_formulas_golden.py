"""Fixtures for custom formulas whose symbolic derivative mathjs simplifies wrongly, and for custom
kinks: networks, data, weights and their PyTorch float64 autograd gradients.

How to run (from the repository root; PyTorch and NumPy are in the system Python):

    /usr/bin/python3 scripts/custom_formulas_golden.py

It rewrites fixtures/custom-formulas/<case>/ deterministically (seeded NumPy generators, float64 torch
on the CPU): net.json, data.csv, params.json (W1, b1, ...), grads.json (dW1, db1, ...: dJ/dparams
from torch.autograd), and net-declared-<name>.json, the same net with a `backward` block declaring
one formula (right or wrong). test/custom-formulas.test.ts runs the built CLI on them.

Cases (each custom formula has a hand-written torch twin next to its text):
    abs-pow   hidden activation (z^2)^0.5 = |z|; mathjs simplifies its derivative to 1, the truth is sign(z).
    loss-pow  loss ((a - y)^2)^(3/2) = |a - y|^3; mathjs says 3 (a - y)^2, the truth is 3 (a - y)|a - y|.
    kink      hidden activation max(z, 0.2 z) + 0.1 |z - 0.5| with zero biases: one sample x = 0 puts
              every pre-activation exactly on the kink at 0, one sample x ~ 1e-9 puts them within a
              step of it. torch.maximum's gradient at a tie is the mean of the two sides (0.6 here),
              a subgradient.
Except for the kink case's two designated samples, no pre-activation (or a - y) lies within
MARGIN of a kink, so torch's gradients are true derivatives.
"""

import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "custom-formulas")
MARGIN = 0.02
SOURCE = "PyTorch {} float64 autograd (scripts/custom_formulas_golden.py)".format(torch.__version__)


def bce(a, y):
    return -(torch.xlogy(y, a) + torch.xlogy(1 - y, 1 - a)).sum(dim=0)


CASES = {
    "abs-pow": {
        "spec": {"input": 3, "layers": [{"units": 5, "activation": {"expr": "(z^2)^0.5"}}, {"units": 1, "activation": "sigmoid"}],
                 "loss": "binary_cross_entropy", "reduction": "mean", "l2": 0},
        "acts": [lambda z: (z ** 2) ** 0.5, torch.sigmoid],
        "loss": bce, "m": 12, "seed": 11, "labels": True,
        "kinks": [lambda z: z],
        "declared": {"sign": {"activationDerivatives": ["sign(z)", None]},
                     "zabs": {"activationDerivatives": ["z / abs(z)", None]},
                     "one": {"activationDerivatives": ["1", None]}},
    },
    "loss-pow": {
        "spec": {"input": 2, "layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "linear"}],
                 "loss": {"expr": "((a - y)^2)^(3/2)"}, "reduction": "mean", "l2": 0},
        "acts": [torch.tanh, lambda z: z],
        "loss": lambda a, y: (((a - y) ** 2) ** 1.5).sum(dim=0), "m": 10, "seed": 12, "labels": False,
        "kinks": [],
        "declared": {"right": {"outputGradient": "3 * (a - y) * abs(a - y)"},
                     "mathjs": {"outputGradient": "3 * (a - y)^2"}},
    },
    "kink": {
        "spec": {"input": 2, "layers": [{"units": 4, "activation": {"expr": "max(z, 0.2 * z) + 0.1 * abs(z - 0.5)"}}, {"units": 1, "activation": "sigmoid"}],
                 "loss": "binary_cross_entropy", "reduction": "mean", "l2": 0},
        "acts": [lambda z: torch.maximum(z, 0.2 * z) + 0.1 * torch.abs(z - 0.5), torch.sigmoid],
        "loss": bce, "m": 10, "seed": 13, "labels": True, "zero_bias": True, "on_kink": True,
        "kinks": [lambda z: z, lambda z: z - 0.5],
        "declared": {},
    },
}


def build(name, case):
    rng = np.random.default_rng(case["seed"])
    spec = case["spec"]
    sizes = [spec["input"]] + [l["units"] for l in spec["layers"]]
    for _attempt in range(200):
        W = [rng.normal(0, 0.9, (sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
        b = [np.zeros((sizes[i + 1], 1)) if case.get("zero_bias") else rng.normal(0, 0.5, (sizes[i + 1], 1)) for i in range(len(sizes) - 1)]
        X = rng.normal(0, 1, (sizes[0], case["m"]))
        if case.get("on_kink"):
            X[:, 0] = 0.0
            X[:, 1] *= 1e-9
        Y = (rng.uniform(size=(sizes[-1], case["m"])) < 0.5).astype(float) if case["labels"] else rng.normal(0, 1, (sizes[-1], case["m"]))
        tW = [torch.tensor(w, requires_grad=True) for w in W]
        tb = [torch.tensor(x, requires_grad=True) for x in b]
        A = torch.tensor(X)
        Z1 = None
        for k in range(len(W)):
            Z = tW[k] @ A + tb[k]
            if k == 0:
                Z1 = Z.detach().numpy()
            A = case["acts"][k](Z)
        skip = 2 if case.get("on_kink") else 0
        near = any(np.abs(kink(Z1[:, skip:])).min() < MARGIN for kink in case["kinks"])
        if not case["kinks"]:
            near = np.abs(A.detach().numpy() - Y).min() < MARGIN
        if not near:
            break
    else:
        raise SystemExit(name + ": no draw keeps the pre-activations away from the kinks")
    per_sample = case["loss"](A, torch.tensor(Y))
    J = per_sample.mean() if spec["reduction"] == "mean" else per_sample.sum()
    J.backward()
    assert torch.isfinite(J)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "net.json"), "w") as fh:
        json.dump(spec, fh, indent=2)
        fh.write("\n")
    for dname, backward in case["declared"].items():
        full = dict(backward)
        full.setdefault("activationDerivatives", [None] * len(W))
        with open(os.path.join(d, "net-declared-{}.json".format(dname)), "w") as fh:
            json.dump({**spec, "backward": full}, fh, indent=2)
            fh.write("\n")
    header = ["x{}".format(i + 1) for i in range(sizes[0])] + ["y{}".format(i + 1) for i in range(sizes[-1])]
    with open(os.path.join(d, "data.csv"), "w") as fh:
        fh.write(",".join(header) + "\n")
        for c in range(case["m"]):
            fh.write(",".join(repr(float(v)) for v in list(X[:, c]) + list(Y[:, c])) + "\n")
    params = {}
    grads = {}
    for k in range(len(W)):
        params["W{}".format(k + 1)] = W[k].tolist()
        params["b{}".format(k + 1)] = b[k].tolist()
        grads["dW{}".format(k + 1)] = tW[k].grad.numpy().tolist()
        grads["db{}".format(k + 1)] = tb[k].grad.numpy().tolist()
    with open(os.path.join(d, "params.json"), "w") as fh:
        json.dump(params, fh)
        fh.write("\n")
    with open(os.path.join(d, "grads.json"), "w") as fh:
        json.dump(grads, fh)
        fh.write("\n")
    with open(os.path.join(d, "SOURCE"), "w") as fh:
        fh.write(SOURCE + "; cost J = {!r}\n".format(float(J)))
    print(name, "J =", float(J))


if __name__ == "__main__":
    for n, c in CASES.items():
        build(n, c)
