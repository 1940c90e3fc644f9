"""Real bug (--model): qixianbiao/RNN's rnn.py, a NumPy RNN h_t = tanh(Wxh x_t + Bxh + Whh h_(t-1)),
o_t = softmax(Wyh h_t + Byh) (its `sigmoid`), cost sum_t -y_t . log o_t, whose `backword` never
carries the hidden state's gradient back through Whh and tanh: dL_ht only accumulates Wyh^T dQ of
the later steps (issue #2: "后一层 h 的梯度没有向前面一层传递", the later step's h gradient is not passed
to the step before). Its loop also starts at T-2, leaving the last step out of every sum, and uses
h[t-1] = h[-1] (the LAST state) at t = 0. The fix is the issue's backward (the loop from T-1,
dL_ht = Wyh^T dQ + Whh^T dt) with h_(-1) = self.h at t = 0 as the forward has it.
Bhh is left out: the forward never adds it (the code still reports a gradient for it).

    npx backprop-check --model "python3 case.py"          # the published backward
    npx backprop-check --model "python3 case.py --fixed"  # the issue's fix
    python3 case.py --write                                # writes case.json (scripts/real_bugs.py calls write())
"""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/qixianbiao/RNN/issues/2"
TITLE = "backward似乎不正确 (the RNN's backward seems wrong: the hidden gradient is not passed back)"
QUOTE = """
Issue: 代码中的backward似乎不正确，主要问题是后一层 “h” 的梯度没有向前面一层传递
rnn.py, backword:
        dL_T = np.dot( np.transpose(self.Wyh), output[-1]-y[:, -1])
        dL_ht = dL_T
        for t in range(T-2, -1, -1):
            dQ = (output[t] - y[:, t])
            dy = (1 - h[t]*h[t])
            dL_ht += np.dot(np.transpose(self.Wyh), dQ)
            D_Wyh += np.outer(dQ, h[t])
            D_Byh += dQ
            D_Wxh += np.outer(dy*dL_ht, x[:, t])
            D_Bxh += dy*dL_ht
            D_Whh += np.outer(dy*dL_ht, h[t-1])
            D_Bhh += dy*dL_ht
"""
BUG = "BPTT without the recurrence: the hidden gradient is not multiplied back through Whh and tanh' to the earlier steps, the last step is left out of every sum, and h[t-1] wraps to the last state at t = 0 (every tensor of both layers wrong)"
EXPECT = {"codes": [], "layer": 1}  # no code names a dropped recurrence; see NOTES-corpus-b.md

INPUT_DIM, HIDDEN, OUTPUT_DIM, T = 4, 5, 4, 6


def sigmoid(x):
    """rnn.py's `sigmoid`: a softmax over the vector, with 1e-11 added to every exp."""
    x = (np.exp(x) + 0.00000000001) / np.sum(np.exp(x) + 0.00000000001)
    return x


def model(fixed=False, seed=38):
    rng = np.random.default_rng(seed)
    x = np.eye(INPUT_DIM)[:, rng.integers(0, INPUT_DIM, size=T)]  # one-hot columns, as getrandomdata
    y = np.eye(OUTPUT_DIM)[:, rng.integers(0, OUTPUT_DIM, size=T)]
    # rnn.py draws np.random.random(...) * 0.01; centred and larger here, so that tanh is not linear.
    params = {
        "Wxh": rng.random((HIDDEN, INPUT_DIM)) - 0.5,
        "Bxh": (rng.random(HIDDEN) - 0.5) * 0.2,
        "Whh": rng.random((HIDDEN, HIDDEN)) - 0.5,
        "Wyh": rng.random((OUTPUT_DIM, HIDDEN)) - 0.5,
        "Byh": (rng.random(OUTPUT_DIM) - 0.5) * 0.2,
    }
    h0 = (rng.random(HIDDEN) - 0.5) * 0.2  # self.h, the initial state: fixed here, not checked

    def forward(p):
        states, output = [], []
        for i in range(T):
            prev = h0 if i == 0 else states[i - 1]
            ht = np.tanh(np.dot(p["Wxh"], x[:, i]) + p["Bxh"] + np.dot(p["Whh"], prev))
            states.append(ht)
            output.append(sigmoid(np.dot(p["Wyh"], ht) + p["Byh"]))
        return states, output

    def cost(p):
        output = forward(p)[1]
        return float(sum(np.sum(-y[:, t] * np.log(output[t])) for t in range(T)))

    def grads(p):
        h, output = forward(p)
        D = {name: np.zeros_like(value) for name, value in p.items()}
        if not fixed:
            dL_ht = np.dot(np.transpose(p["Wyh"]), output[-1] - y[:, -1])
            for t in range(T - 2, -1, -1):
                dQ = output[t] - y[:, t]
                dy = 1 - h[t] * h[t]
                dL_ht += np.dot(np.transpose(p["Wyh"]), dQ)
                D["Wyh"] += np.outer(dQ, h[t])
                D["Byh"] += dQ
                D["Wxh"] += np.outer(dy * dL_ht, x[:, t])
                D["Bxh"] += dy * dL_ht
                D["Whh"] += np.outer(dy * dL_ht, h[t - 1])
            return D
        for t in range(T - 1, -1, -1):  # the backward
            dQ = output[t] - y[:, t]
            if t == T - 1:
                dL_ht = np.dot(np.transpose(p["Wyh"]), dQ)
            else:
                dL_ht += np.dot(np.transpose(p["Wyh"]), dQ)
            D["Wyh"] += np.outer(dQ, h[t])
            D["Byh"] += dQ
            dh = 1 - h[t] * h[t]
            dt = dh * dL_ht
            D["Wxh"] += np.outer(dt, x[:, t])
            D["Bxh"] += dt
            D["Whh"] += np.outer(dt, h[t - 1] if t > 0 else h0)
            dL_ht = np.dot(np.transpose(p["Whh"]), dt)
        return D

    return params, cost, grads, [["Wxh", "Bxh", "Whh"], ["Wyh", "Byh"]]


def write(here):
    common.write_model_case(types.SimpleNamespace(**globals()), here)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    if "--write" in sys.argv:  # case.json only; serving never rewrites it (the test reads it meanwhile)
        write(here)
        sys.exit(0)
    # The repository's python/ folder, so that this runs from a checkout without `pip install`.
    sys.path.insert(0, os.path.join(here, "..", "..", "..", "python"))
    import backprop_check

    params, cost, grads, layers = model(fixed="--fixed" in sys.argv)
    backprop_check.serve(params, cost, grads, layers=layers)
