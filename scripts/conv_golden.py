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

"mistakes" holds, per backprop mistake of these records (and flatten's), the gradients a NumPy
backward with that mistake computes, written as course code writes it (cs231n's conv_backward_naive
loops, deeplearning.ai's pool_backward masks; samples first, (m, C, H, W)), for a mean over the
samples: dx from dout, dW = sum / m, db = sum / m. The same functions without the mistake are first
checked against torch.autograd, so each reference is the right backward but for its one slip.
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


# ---- backward passes as course code writes them, with one mistake switched on ------------------

def conv_backward_numpy(x, w, dout, stride, pad, bug=None):
    """cs231n's conv_backward_naive (samples first), for a loss averaged over the N samples."""
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    _, _, Ho, Wo = dout.shape
    (sh, sw), (ph, pw) = stride, pad
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        dw_n = np.zeros_like(w)
        for f in range(F):
            kernel = w[f, :, ::-1, ::-1] if bug == "conv-kernel-flipped" else w[f]
            for i in range(Ho):
                for j in range(Wo):
                    r, q = (i, j) if bug == "conv-stride-ignored" else (i * sh, j * sw)
                    dw_n[f] += x_pad[n, :, r:r + kh, q:q + kw] * dout[n, f, i, j]
                    dx_pad[n, :, r:r + kh, q:q + kw] += kernel * dout[n, f, i, j]
        if bug == "conv-dw-not-summed":
            dw = dw_n  # dW = ... where the loop needs dW += ...
        else:
            dw += dw_n
    dx = dx_pad[:, :, :H, :W] if bug == "conv-padding-not-stripped" else dx_pad[:, :, ph:ph + H, pw:pw + W]
    db = np.mean(dout, axis=(0, 2, 3)) if bug == "conv-db-not-summed" else np.sum(dout, axis=(0, 2, 3)) / N
    return dx, dw / N, db


def pool_backward_numpy(x, dout, kernel, stride, mode, bug=None):
    """deeplearning.ai's pool_backward (samples first, channels first): a mask per window."""
    N, C, H, W = x.shape
    _, _, Ho, Wo = dout.shape
    (kh, kw), (sh, sw) = kernel, stride
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    r, q = (i, j) if bug == "avgpool-stride-ignored" else (i * sh, j * sw)
                    window = x[n, c, r:r + kh, q:q + kw]
                    if mode == "max":
                        mask = np.zeros_like(window)
                        mask.flat[np.argmax(window)] = 1  # np.argmax: the first maximum, as torch
                        if bug == "maxpool-whole-window":
                            mask = np.ones_like(window)
                        if bug == "maxpool-overwrite-argmax":
                            # hanbt/learn_dl's MaxPoolingLayer.backward: get_max_index, then one element assigned.
                            k, l = np.unravel_index(np.argmax(window), window.shape)
                            dx[n, c, r + k, q + l] = dout[n, c, i, j]
                        elif bug == "maxpool-overwrite":
                            dx[n, c, r:r + kh, q:q + kw] = mask * dout[n, c, i, j]
                        else:
                            dx[n, c, r:r + kh, q:q + kw] += mask * dout[n, c, i, j]
                    else:
                        share = dout[n, c, i, j] if bug == "avgpool-not-averaged" else dout[n, c, i, j] / (kh * kw)
                        dx[n, c, r:r + kh, q:q + kw] += np.ones((kh, kw)) * share
    return dx


def flatten_backward_numpy(dout, shape, bug=None):
    N = dout.shape[0]
    C, H, W = shape
    if bug == "flatten-order":
        return dout.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return dout.reshape(N, C, H, W)


def close(a, b):
    assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b)), "the NumPy reference disagrees with torch"


def conv_mistake(bug, seed, C, H, W, filters, kernel, stride, padding, m):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, C, H, W))
    w = rng.standard_normal((filters, C, *kernel))
    b = rng.standard_normal(filters)
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride=tuple(stride), padding=tuple(padding))
    dout = rng.standard_normal(tuple(y.shape))
    (y * torch.tensor(dout)).sum().backward()
    dx, dw, db = conv_backward_numpy(x, w, dout, stride, padding)
    close(dx, xt.grad.numpy()); close(dw, wt.grad.numpy() / m); close(db, bt.grad.numpy() / m)
    dx, dw, db = conv_backward_numpy(x, w, dout, stride, padding, bug)
    return {
        "id": bug, "type": "conv2d", "inShape": [C, H, W], "outShape": list(y.shape[1:]), "filters": filters,
        "kernel": list(kernel), "stride": list(stride), "padding": list(padding), "bias": True, "m": m,
        "x": block(torch.tensor(x)), "W": w.flatten().tolist(), "b": b.tolist(), "dy": block(torch.tensor(dout)),
        "dx": block(torch.tensor(dx)), "dW": dw.flatten().tolist(), "db": db.tolist(),
    }


def pool_mistake(bug, seed, kind, C, H, W, kernel, stride, m):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, C, H, W))
    xt = torch.tensor(x, requires_grad=True)
    y = (F.max_pool2d if kind == "maxpool2d" else F.avg_pool2d)(xt, tuple(kernel), tuple(stride))
    dout = rng.standard_normal(tuple(y.shape))
    (y * torch.tensor(dout)).sum().backward()
    mode = "max" if kind == "maxpool2d" else "avg"
    close(pool_backward_numpy(x, dout, kernel, stride, mode), xt.grad.numpy())
    dx = pool_backward_numpy(x, dout, kernel, stride, mode, bug)
    return {
        "id": bug, "type": kind, "inShape": [C, H, W], "outShape": list(y.shape[1:]), "kernel": list(kernel),
        "stride": list(stride), "bias": False, "m": m,
        "x": block(torch.tensor(x)), "dy": block(torch.tensor(dout)), "dx": block(torch.tensor(dx)),
    }


def flatten_mistake(seed, shape, m):
    rng = np.random.default_rng(seed)
    dout = rng.standard_normal((m, int(np.prod(shape))))
    assert np.array_equal(flatten_backward_numpy(dout, shape).reshape(m, -1), dout)
    dx = flatten_backward_numpy(dout, shape, "flatten-order")
    return {
        "id": "flatten-order", "type": "flatten", "inShape": list(shape), "m": m,
        "dy": dout.T.flatten().tolist(), "dx": block(torch.tensor(np.ascontiguousarray(dx))),
    }


def mistakes():
    return [
        conv_mistake("conv-stride-ignored", 501, 2, 7, 7, 2, [3, 2], [2, 1], [1, 0], 3),
        conv_mistake("conv-padding-not-stripped", 502, 1, 6, 6, 3, [3, 3], [1, 1], [1, 1], 3),
        conv_mistake("conv-kernel-flipped", 503, 2, 5, 5, 2, [3, 2], [1, 1], [0, 0], 2),
        conv_mistake("conv-dw-not-summed", 504, 2, 5, 5, 2, [3, 3], [1, 1], [1, 1], 3),
        conv_mistake("conv-db-not-summed", 505, 2, 5, 5, 3, [3, 3], [2, 2], [1, 1], 3),
        pool_mistake("maxpool-whole-window", 506, "maxpool2d", 2, 4, 4, [2, 2], [2, 2], 3),
        pool_mistake("maxpool-overwrite", 507, "maxpool2d", 2, 5, 5, [3, 3], [1, 1], 3),
        pool_mistake("maxpool-overwrite-argmax", 511, "maxpool2d", 2, 5, 5, [3, 3], [1, 1], 3),
        pool_mistake("avgpool-not-averaged", 508, "avgpool2d", 2, 5, 5, [3, 3], [2, 2], 3),
        pool_mistake("avgpool-stride-ignored", 509, "avgpool2d", 2, 7, 5, [3, 3], [2, 2], 3),
        flatten_mistake(510, (3, 2, 4), 2),
    ]


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
        "mistakes": mistakes(),
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
