#!/usr/bin/env python3
"""Times torch.autograd.gradcheck (full and fast mode, float64) on the benchmark's networks.

Run by `npm run bench` (tools/bench/bench.ts) with the cases as JSON; on its own it runs the same
default cases. Prints one JSON object on stdout:

    {"torch": "1.13.0", "threads": 2, "cases": [{"name": ..., "parameters": ..., "samples": ...,
      "full": {"seconds": ..., "passed": true}, "fast": {"seconds": ..., "passed": true}}]}

Each case is {"name", "sizes": [n0, n1, ..., nL], "hidden", "output", "loss", "samples"}; the
network is W_l (units x inputs, He init N(0, 2/fan_in)) and zero biases, X (inputs x samples)
standard normal, every draw seeded. A case with "input" and "layers" (net.json's, as
tools/bench/cases.ts writes them: conv2d, maxpool2d, flatten, batchnorm, activation, dense) is built
from those entries with torch's functions, as scripts/golden_layers.py builds its golden nets (He
weights, zero biases, gamma 1, beta 0; X (samples, C, H, W) standard normal). The cost is the mean
loss over the samples, as backprop-check's default "reduction": "mean". gradcheck perturbs every
element of every parameter (full mode) or checks one random direction (fast mode).
"""
import json
import sys
import time

import torch

import golden_layers

DEFAULT_CASES = [
    {"name": "seed 2-8-6-4-1 x 300", "sizes": [2, 8, 6, 4, 1], "hidden": "tanh", "output": "sigmoid",
     "loss": "binary_cross_entropy", "samples": 300},
    {"name": "20-64-32-1 x 128", "sizes": [20, 64, 32, 1], "hidden": "tanh", "output": "sigmoid",
     "loss": "binary_cross_entropy", "samples": 128},
    {"name": "64-128-64-10 x 64", "sizes": [64, 128, 64, 10], "hidden": "relu", "output": "softmax",
     "loss": "categorical_cross_entropy", "samples": 64},
    {"name": "784-128-64-10 x 64", "sizes": [784, 128, 64, 10], "hidden": "relu", "output": "softmax",
     "loss": "categorical_cross_entropy", "samples": 64},
]

HIDDEN = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def build(case, seed):
    gen = torch.Generator().manual_seed(seed)
    sizes, m = case["sizes"], case["samples"]
    params = []
    for fan_in, units in zip(sizes[:-1], sizes[1:]):
        w = torch.randn(units, fan_in, generator=gen, dtype=torch.float64) * (2.0 / fan_in) ** 0.5
        b = torch.zeros(units, 1, dtype=torch.float64)
        params += [w.requires_grad_(), b.requires_grad_()]
    x = torch.randn(sizes[0], m, generator=gen, dtype=torch.float64)
    k = sizes[-1]
    if case["loss"] == "categorical_cross_entropy":
        labels = torch.randint(0, k, (m,), generator=gen)
        y = torch.nn.functional.one_hot(labels, k).T.to(torch.float64)
    else:
        y = torch.randint(0, 2, (k, m), generator=gen).to(torch.float64)
    hidden = HIDDEN[case["hidden"]]

    def cost(*ps):
        a = x
        layers = len(ps) // 2
        for l in range(layers):
            z = ps[2 * l] @ a + ps[2 * l + 1]
            if l < layers - 1:
                a = hidden(z)
            elif case["output"] == "softmax":
                a = torch.log_softmax(z, dim=0)  # log-probabilities, for a stable cross-entropy
            else:
                a = torch.sigmoid(z)
        if case["loss"] == "categorical_cross_entropy":
            return -(y * a).sum() / m
        return torch.nn.functional.binary_cross_entropy(a, y, reduction="sum") / m

    return cost, tuple(params)


def build_layered(case, seed):
    """A net.json network of layer kinds (golden_layers.run's forward pass) and its mean cost."""
    gen = torch.Generator().manual_seed(seed)
    entries, m = case["layers"], case["samples"]
    shp = golden_layers.shapes(case["input"], entries)
    params, leaves = [], []
    for entry, (ins, outs) in zip(entries, shp):
        p = {}
        for name, shape in golden_layers.param_shapes(entry, ins, outs):
            if name == "W":
                fan_in = 1
                for n in shape[1:]:
                    fan_in *= n
                p[name] = torch.randn(*shape, generator=gen, dtype=torch.float64) * (2.0 / fan_in) ** 0.5
            else:
                p[name] = (torch.ones if name == "gamma" else torch.zeros)(*shape, dtype=torch.float64)
            leaves.append((len(params), name, p[name].requires_grad_()))
        params.append(p)
    x = torch.randn(m, *shp[0][0], generator=gen, dtype=torch.float64)
    k = shp[-1][1][0]
    if case["loss"] == "categorical_cross_entropy":
        labels = torch.randint(0, k, (m,), generator=gen)
        y = torch.nn.functional.one_hot(labels, k).to(torch.float64)
    else:
        y = torch.randint(0, 2, (m, k), generator=gen).to(torch.float64)

    def cost(*ps):
        current = [{} for _ in entries]
        for (l, name, _), t in zip(leaves, ps):
            current[l][name] = t
        a = golden_layers.run(entries, shp, x, current, {})
        if case["loss"] == "categorical_cross_entropy":
            return -torch.xlogy(y, a).sum() / m
        return torch.nn.functional.binary_cross_entropy(a, y, reduction="sum") / m

    return cost, tuple(t for _, _, t in leaves)


# Fast mode takes milliseconds, which move by a third from one call to the next on a shared
# machine: the median of this many calls (odd), with their range.
FAST_RUNS = 5


def timed_once(cost, params, fast):
    start = time.perf_counter()
    passed = torch.autograd.gradcheck(cost, params, eps=1e-6, atol=1e-5, rtol=1e-3,
                                      fast_mode=fast, raise_exception=False)
    return {"seconds": time.perf_counter() - start, "passed": bool(passed)}


def timed(cost, params, fast):
    if not fast:
        return timed_once(cost, params, False)
    calls = sorted((timed_once(cost, params, True) for _ in range(FAST_RUNS)), key=lambda r: r["seconds"])
    median = calls[FAST_RUNS // 2]
    return {**median, "passed": all(c["passed"] for c in calls), "runs": FAST_RUNS,
            "min": calls[0]["seconds"], "max": calls[-1]["seconds"]}


def main():
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    cases = options.get("cases", DEFAULT_CASES)
    modes = options.get("modes", ["full", "fast"])
    seed = options.get("seed", 1)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cases": []}
    for case in cases:
        cost, params = build_layered(case, seed) if "layers" in case else build(case, seed)
        row = {"name": case["name"], "parameters": sum(p.numel() for p in params), "samples": case["samples"]}
        for mode in modes:
            row[mode] = timed(cost, params, mode == "fast")
        out["cases"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
