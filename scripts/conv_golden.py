"""Golden values for the conv2d, maxpool2d and avgpool2d layer records, from PyTorch in float64.

How to run (from the repository root; this needs PyTorch and NumPy, which the system Python has):

    /usr/bin/python3 scripts/conv_golden.py

It rewrites fixtures/golden/layers/conv.json deterministically (each case has its own seeded NumPy
generator; torch computes in float64 on the CPU). test/layers-conv.test.ts requires the records'
forward and backward to agree with it to 1e-12 relative.

Each case holds the layer's fields as a net.json entry becomes a Layer (type, inShape [C, H, W],
outShape [F, H', W'], kernel, stride, padding, filters, bias), m samples, and, as blocks of
features x samples (row-major, samples last; image rows in (C, H, W) order, as backprop-check keeps
its values), flattened:
    x, dy        a random input and a random gradient of the output,
    y            torch.nn.functional.conv2d / max_pool2d / avg_pool2d of x,
    dx           the vector-Jacobian product dy . dy/dx, from torch.autograd,
and for conv2d W (F, C, kh, kw) and b (F, 1) flattened, with dW and db = dy . dy/dW, dy . dy/db.
The "ties" cases draw small integers, so that windows hold tied maxima and torch's choice (the
first maximum in row-major order) is recorded.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "golden", "layers", "conv.json")


def block(t):
    """(m, C, H, W) -> features x samples, flattened row-major."""
    m = t.shape[0]
    return t.detach().reshape(m, -1).T.contiguous().flatten().tolist()


def conv_case(name, seed, C, H, W, filters, kernel, stride, padding, bias, m):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((m, C, H, W)), requires_grad=True)
    Wt = torch.tensor(rng.standard_normal((filters, C, *kernel)) / np.sqrt(C * kernel[0] * kernel[1]), requires_grad=True)
    b = torch.tensor(rng.standard_normal(filters), requires_grad=True) if bias else None
    y = F.conv2d(x, Wt, b, stride=tuple(stride), padding=tuple(padding))
    dy = torch.tensor(rng.standard_normal(tuple(y.shape)))
    (y * dy).sum().backward()
    case = {
        "name": name, "type": "conv2d", "inShape": [C, H, W], "outShape": list(y.shape[1:]),
        "filters": filters, "kernel": list(kernel), "stride": list(stride), "padding": list(padding),
        "bias": bias, "m": m,
        "x": block(x), "dy": block(dy), "y": block(y), "dx": block(x.grad),
        "W": Wt.detach().flatten().tolist(), "dW": Wt.grad.flatten().tolist(),
    }
    if bias:
        case["b"] = b.detach().tolist()
        case["db"] = b.grad.tolist()
    return case


def pool_case(name, seed, kind, C, H, W, kernel, stride, m, ties=False):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, (m, C, H, W)).astype(np.float64) if ties else rng.standard_normal((m, C, H, W))
    x = torch.tensor(values, requires_grad=True)
    pool = F.max_pool2d if kind == "maxpool2d" else F.avg_pool2d
    y = pool(x, tuple(kernel), tuple(stride))
    dy = torch.tensor(rng.standard_normal(tuple(y.shape)))
    (y * dy).sum().backward()
    return {
        "name": name, "type": kind, "inShape": [C, H, W], "outShape": list(y.shape[1:]),
        "kernel": list(kernel), "stride": list(stride), "bias": False, "m": m,
        "x": block(x), "dy": block(dy), "y": block(y), "dx": block(x.grad),
    }


def cases():
    out = [
        conv_case("conv 3x3", 1, 2, 5, 5, 3, [3, 3], [1, 1], [0, 0], True, 3),
        conv_case("conv 3x2 stride 2x1 padding 1x0", 2, 2, 7, 7, 2, [3, 2], [2, 1], [1, 0], True, 2),
        conv_case("conv 3x3 padding 1 (the small CNN's)", 3, 1, 6, 6, 4, [3, 3], [1, 1], [1, 1], True, 4),
        conv_case("conv 1x1 stride 2 no bias", 4, 3, 5, 5, 2, [1, 1], [2, 2], [0, 0], False, 2),
        conv_case("conv 4x4 stride 2 padding 2", 5, 2, 8, 8, 2, [4, 4], [2, 2], [2, 2], True, 2),
        conv_case("conv 3x4 stride 2x3 padding 0x1", 6, 1, 7, 11, 3, [3, 4], [2, 3], [0, 1], True, 3),
    ]
    seed = 100
    for kind in ("maxpool2d", "avgpool2d"):
        for label, C, H, W, kernel, stride in [
            ("2x2 stride 2", 2, 4, 4, [2, 2], [2, 2]),
            ("3x3 stride 2, overlapping", 2, 5, 5, [3, 3], [2, 2]),
            ("2x3 stride 1, overlapping", 1, 4, 5, [2, 3], [1, 1]),
            ("2x2 stride 3, gaps", 2, 8, 5, [2, 2], [3, 3]),
        ]:
            seed += 1
            out.append(pool_case(f"{kind} {label}", seed, kind, C, H, W, kernel, stride, 3))
    seed += 1
    out.append(pool_case("maxpool2d 3x3 stride 2, ties", seed, "maxpool2d", 2, 5, 5, [3, 3], [2, 2], 4, ties=True))
    seed += 1
    out.append(pool_case("maxpool2d 2x2 stride 1, ties", seed, "maxpool2d", 1, 4, 4, [2, 2], [1, 1], 3, ties=True))
    return out


def main():
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    doc = {
        "source": f"scripts/conv_golden.py: torch {torch.__version__}, float64, CPU; "
                  "F.conv2d / F.max_pool2d / F.avg_pool2d and torch.autograd",
        "cases": cases(),
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
