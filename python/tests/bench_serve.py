"""serve()'s per-step overhead, measured side by side in one process (not a test; run by hand):

    PYTHONPATH=python /usr/bin/python3 python/tests/bench_serve.py

A NumPy cost of ~50 µs is served in a child process; each round sends one batch of N element steps
over the pipe, then asks the child (through grads) to time its own bare loop of N cost calls. The
minimum over the rounds of each is compared: overhead per step and bare/session (the issue asks ≥ 0.7).
The protocol's own cost per step (parse, step, restore, answer) is also timed alone, with a free cost.
"""
import json
import subprocess
import sys

N, ROUNDS = 2000, 15
PROGRAM = """
import sys, time
import numpy as np, backprop_check
rng = np.random.default_rng(0)
x = rng.standard_normal((128, 48)); y = rng.standard_normal((128, 16))
params = {"W": rng.standard_normal((48, 16)) * 0.1, "b": np.zeros(16)}
def cost(p):
    a = np.tanh(x @ p["W"] + p["b"])
    return 0.5 * np.mean(np.sum((a - y) ** 2, axis=1))
def bare_loop(p):
    t = time.perf_counter()
    for i in range(%d):
        cost(params)
    return {"seconds": (time.perf_counter() - t) / %d}
backprop_check.serve(params, cost, bare_loop)
""" % (N, N)


def main():
    import time
    steps = [{"param": "W", "index": [i % 48, (i // 48) % 16], "delta": 1e-6 if i % 2 else -1e-6} for i in range(N)]
    batch = (json.dumps({"id": 1, "op": "costs", "steps": steps}) + "\n").encode()
    child = subprocess.Popen([sys.executable, "-c", PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    child.stdout.readline()
    session, bare = [], []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        child.stdin.write(batch)
        child.stdin.flush()
        child.stdout.readline()
        session.append((time.perf_counter() - t) / N)
        child.stdin.write(b'{"id":2,"op":"grads"}\n')
        child.stdin.flush()
        bare.append(json.loads(child.stdout.readline())["grads"]["seconds"])
    child.stdin.write(b'{"id":3,"op":"bye"}\n')
    child.stdin.flush()
    child.wait()
    from backprop_check._serve import Server
    import numpy as np
    free = Server({"W": np.zeros((48, 16)), "b": np.zeros(16)}, lambda p: 0.5, lambda p: {})
    alone = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        free.answer(batch)
        alone.append((time.perf_counter() - t) / N)
    print("the protocol alone (a free cost, in process): %.2f µs/step" % (min(alone) * 1e6))
    b, s = min(bare), min(session)
    print("%d steps per batch, %d rounds: bare loop %.1f µs/cost, through serve() %.1f µs/step, "
          "overhead %.2f µs/step, bare/session %.3f" % (N, ROUNDS, b * 1e6, s * 1e6, (s - b) * 1e6, b / s))


if __name__ == "__main__":
    main()
