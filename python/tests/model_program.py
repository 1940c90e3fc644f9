"""Small models served by the tests: `python3 model_program.py <variant>` serves one on stdin/stdout,
and build(variant) gives the same params, cost and grads to a test that wants the expected values."""
import math
import os
import sys


def _numpy_model(dtype):
    import numpy as np
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    y = rng.standard_normal((4, 2))
    params = {"W": (0.5 * rng.standard_normal((3, 2))).astype(dtype), "b": (0.1 * rng.standard_normal(2)).astype(dtype),
              "scale": np.array(1.5, dtype=dtype)}

    # J = ½·mean‖scale·tanh(xW + b) − y‖²;  dJ/dz = (scale·a − y)·scale·(1 − a²)/m
    def cost(p):
        a = np.tanh(x @ p["W"] + p["b"])
        return 0.5 * np.mean(np.sum((p["scale"] * a - y) ** 2, axis=1))

    def grads(p):
        a = np.tanh(x @ p["W"] + p["b"])
        r = (p["scale"] * a - y) / x.shape[0]
        dz = r * p["scale"] * (1 - a ** 2)
        return {"W": x.T @ dz, "b": dz.sum(axis=0), "scale": np.sum(r * a)}

    return params, cost, grads


def _list_model():
    # No NumPy: J = Σ w_i² · c + s³ over a nested list and a float.
    params = {"w": [[0.3, -0.7], [1.1, 0.2]], "s": 0.9}

    def cost(p):
        return sum(v * v for row in p["w"] for v in row) * 1.25 + p["s"] ** 3

    def grads(p):
        return {"w": [[2.5 * v for v in row] for row in p["w"]], "s": 3 * p["s"] ** 2}

    return params, cost, grads


def build(variant):
    if variant == "float64":
        return _numpy_model("float64")
    if variant == "float32":
        return _numpy_model("float32")
    if variant == "lists":
        return _list_model()
    if variant == "echo":
        # grads() answers the parameters themselves, so a test can read them back bit for bit.
        params, cost, _ = _numpy_model("float64")
        return params, cost, lambda p: {k: v.copy() for k, v in p.items()}
    if variant == "raising":
        params, cost, grads = _numpy_model("float64")

        def fragile(p):
            if p["W"][0, 0] > 10:
                raise ValueError("W[0, 0] is too large")
            return cost(p)
        return params, fragile, grads
    if variant == "printing":
        params, cost, grads = _numpy_model("float64")

        def chatty(p):
            print("print from cost")
            os.write(1, b"raw write to fd 1\n")
            return cost(p)
        return params, chatty, grads
    if variant == "buggy":
        params, cost, grads = _numpy_model("float64")

        def wrong(p):
            g = grads(p)
            g["b"] = 2 * g["b"]  # a factor of 2 on one tensor
            return g
        return params, cost, wrong
    if variant == "torch":
        import torch
        torch.manual_seed(0)
        x = torch.randn(5, 3, dtype=torch.float64)
        params = {"W": torch.randn(3, 2, dtype=torch.float64, requires_grad=True)}

        def cost(p):
            return torch.sum(torch.sin(x @ p["W"]) ** 2)

        def grads(p):
            W = p["W"].detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(cost({"W": W}), W)
            return {"W": g}
        return params, cost, grads
    raise SystemExit("unknown variant %r" % variant)


if __name__ == "__main__":
    import backprop_check
    params, cost, grads = build(sys.argv[1])
    backprop_check.serve(params, cost, grads, layers=[["W", "b"], ["scale"]] if sys.argv[2:] == ["layers"] else None)
