"""What a notebook or a pytest file does with the Python helper, against the real command line
(bin/backprop-check.js, found next to python/): check() prints the table and returns the report,
assert_gradients() raises AssertionError with the table and the findings, report= writes HTML, bad
options are BackpropCheckError. Prints one JSON object of what it saw, for test/python-e2e.test.ts."""
import contextlib
import io
import json
import sys

import numpy as np

import backprop_check as bc

rng = np.random.default_rng(3)
X = rng.standard_normal((4, 12))
Y = (rng.random((1, 12)) < 0.5).astype(float)
params = {"W1": rng.standard_normal((5, 4)) * 0.5, "b1": np.zeros((5, 1)),
          "W2": rng.standard_normal((1, 5)) * 0.5, "b2": np.zeros((1, 1))}
calls = {"cost": 0}  # notebook state: the same process's objects are what gets checked


def forward(p):
    A1 = np.tanh(p["W1"] @ X + p["b1"])
    A2 = 1 / (1 + np.exp(-(p["W2"] @ A1 + p["b2"])))
    return A1, A2


def cost(p):
    calls["cost"] += 1
    _, A2 = forward(p)
    return float(-np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)))


def grads(p, buggy):
    A1, A2 = forward(p)
    m = X.shape[1]
    dZ2 = A2 - Y
    dA1 = p["W2"].T @ dZ2
    dZ1 = dA1 * (1 - A1) if buggy else dA1 * (1 - A1 ** 2)  # the bug: tanh' written as 1 - a
    return {"W1": dZ1 @ X.T / m, "b1": dZ1.sum(axis=1, keepdims=True) / m,
            "W2": dZ2 @ A1.T / m, "b2": dZ2.sum(axis=1, keepdims=True) / m}


out = {}
shown = io.StringIO()
with contextlib.redirect_stdout(shown):
    report = bc.check(params, cost, lambda p: grads(p, True), layers=[["W1", "b1"], ["W2", "b2"]], report=sys.argv[1])
out["buggy"] = {"ok": report["ok"], "source": report["source"],
                "failing": [c["param"] for c in report["checks"] if c["status"] == "fail"],
                "layers": [c["layer"] for c in report["checks"]], "table": shown.getvalue()}
out["calls"] = calls["cost"]
before = {k: v.copy() for k, v in params.items()}
try:
    bc.assert_gradients(params, cost, lambda p: grads(p, True), mode="sample", samples=3)
    out["assert_buggy"] = None
except AssertionError as e:
    out["assert_buggy"] = str(e)
out["restored"] = all(np.array_equal(before[k], params[k]) for k in params)
with contextlib.redirect_stdout(io.StringIO()):
    fixed = bc.assert_gradients(params, cost, lambda p: grads(p, False), mode="directional", directions=5, taylor=True)
out["fixed"] = {"ok": fixed["ok"], "mode": fixed["settings"]["mode"], "taylor": [c.get("taylorStatus") for c in fixed["checks"]]}
try:
    bc.check(params, cost, lambda p: grads(p, False), tolerance=5)
    out["bad"] = None
except bc.BackpropCheckError as e:
    out["bad"] = str(e)
print(json.dumps(out))
