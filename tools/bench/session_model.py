"""The bench's session programs (tools/bench/session.ts), a NumPy model timed two ways:

    session_model.py <model> bare <N>   the program's own loop of N cost calls at its parameters;
                                         prints {"calls", "seconds"} as JSON
    session_model.py <model> serve      backprop_check.serve(...) with the cost calls counted: on exit
                                         writes {"calls", "first", "last"} (perf_counter seconds of the
                                         first and the last cost call) to $BENCH_STATS

Models: "mlp" - a tanh MLP on a fixed batch whose cost takes ~50 us; "cnn" - fixtures/models/cnn.py
--large --fixed, 10,072 parameters.
"""
import atexit
import importlib.util
import json
import os
import signal
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def mlp(seed=0):
    """x (32) -> 128 tanh -> 1, squared error, mean over 8 samples: 4,353 parameters, ~50 us per
    cost with the reference BLAS (the matrix product dominates; a small batch keeps it there)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 32))
    y = rng.standard_normal((8, 1))
    params = {
        "W1": rng.standard_normal((128, 32)) / np.sqrt(32),
        "b1": 0.1 * rng.standard_normal(128),
        "W2": rng.standard_normal((1, 128)) / np.sqrt(128),
        "b2": 0.1 * rng.standard_normal(1),
    }

    def cost(p):
        r = np.tanh(X @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"] - y
        return float((r * r).mean())

    def grads(p):
        A = np.tanh(X @ p["W1"].T + p["b1"])
        dz2 = 2.0 * (A @ p["W2"].T + p["b2"] - y) / len(X)
        dz1 = (dz2 @ p["W2"]) * (1.0 - A * A)
        return {"W1": dz1.T @ X, "b1": dz1.sum(axis=0), "W2": dz2.T @ A, "b2": dz2.sum(axis=0)}

    return params, cost, grads, None


def cnn():
    spec = importlib.util.spec_from_file_location("cnn", os.path.join(ROOT, "fixtures", "models", "cnn.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model(fixed=True, large=True)


def bare(cost, params, n):
    start = time.perf_counter()
    for _ in range(n):
        cost(params)
    return time.perf_counter() - start


def serve(params, cost, grads, layers):
    stats = {"calls": 0, "first": None, "last": None}

    def counted(p):
        now = time.perf_counter()
        if stats["first"] is None:
            stats["first"] = now
        value = cost(p)
        stats["last"] = time.perf_counter()
        stats["calls"] += 1
        return value

    def write():
        with open(os.environ["BENCH_STATS"], "w") as out:
            json.dump(stats, out)

    atexit.register(write)
    # Killed with its process group after the check: still leave the numbers behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import backprop_check

    backprop_check.serve(params, counted, grads, layers=layers)


if __name__ == "__main__":
    params, cost, grads, layers = {"mlp": mlp, "cnn": cnn}[sys.argv[1]]()
    if sys.argv[2] == "bare":
        n = int(sys.argv[3])
        print(json.dumps({"calls": n, "seconds": bare(cost, params, n)}))
    else:
        serve(params, cost, grads, layers)
