"""Real bug: the deeplearning.ai "Convolution model - Step by Step" conv_backward published without
the stride: each window's corners are (h, w), not (h*stride, w*stride), so with stride 2 dW sums the
wrong input patches. Reproduced on a stride-2 conv (tanh) -> flatten -> softmax net, channels first
as backprop-check stores images; the person's loop is kept, only the axes are (C, H, W)."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/enggen/Deep-Learning-Coursera/issues/7"
TITLE = "stride not multiplied in backward pass (conv_backward, Convolution model - Step by Step - v2)"
QUOTE = """
Issue: "During the backward pass, I saw that stride wasn't multiplied with h and w. And it's affecting the output."
Convolutional Neural Networks/Week1/Convolution model - Step by Step - v2.ipynb, conv_backward:
                    vert_start = h
                    vert_end = vert_start + f
                    horiz_start = w
                    horiz_end = horiz_start + f
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:,:,:,c] * dZ[i, h, w, c]
                    dW[:,:,:,c] += a_slice * dZ[i, h, w, c]
                    db[:,:,:,c] += dZ[i, h, w, c]
"""
BUG = "conv backward ignores the stride: window (h, w) sliced at offset (h, w) instead of (h*stride, w*stride), so dW1 sums the wrong patches (layer 1, conv2d)"
EXPECT = {"codes": ["conv-stride-ignored"], "layer": 1}

M, C, S, F, K, KS, STRIDE, PAD = 8, 1, 7, 3, 3, 3, 2, 1
SPEC = {
    "input": [C, S, S],
    "layout": "rows",
    "layers": [
        {"type": "conv2d", "filters": F, "kernel": KS, "stride": STRIDE, "padding": PAD, "activation": "tanh"},
        {"type": "flatten"},
        {"units": K, "activation": "softmax"},
    ],
    "loss": "categorical_cross_entropy",
}


def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_forward(A_prev, W, b, stride, pad):
    m = A_prev.shape[0]
    n_C, _, f, _ = W.shape
    n_H = (A_prev.shape[2] + 2 * pad - f) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_C, n_H, n_H))
    for h in range(n_H):
        for w in range(n_H):
            a_slice = A_pad[:, :, h * stride:h * stride + f, w * stride:w * stride + f]
            Z[:, :, h, w] = np.tensordot(a_slice, W, axes=([1, 2, 3], [1, 2, 3])) + b[:, 0]
    return Z


def conv_backward(dZ, A_prev, W, stride, pad, fixed):
    """The notebook's loop; the bug is the corners without `* stride`."""
    m, n_C, n_H, n_W = dZ.shape
    f = W.shape[2]
    dW = np.zeros_like(W)
    db = np.zeros((n_C, 1))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride if fixed else h
                    vert_end = vert_start + f
                    horiz_start = w * stride if fixed else w
                    horiz_end = horiz_start + f
                    a_slice = a_prev_pad[:, vert_start:vert_end, horiz_start:horiz_end]
                    dW[c] += a_slice * dZ[i, c, h, w]
                    db[c] += dZ[i, c, h, w]
    return dW, db


def gradients(X, Y, p, fixed):
    m = X.shape[0]
    Z1 = conv_forward(X, p["W1"], p["b1"], STRIDE, PAD)
    A1 = np.tanh(Z1)
    flat = A1.reshape(m, -1)
    Z3 = flat @ p["W3"] + p["b3"]
    E = np.exp(Z3 - Z3.max(axis=1, keepdims=True))
    A3 = E / E.sum(axis=1, keepdims=True)
    dZ3 = (A3 - Y) / m
    dW3 = flat.T @ dZ3
    db3 = dZ3.sum(axis=0)
    dA1 = (dZ3 @ p["W3"].T).reshape(A1.shape)
    dZ1 = dA1 * (1 - A1 ** 2)
    dW1, db1 = conv_backward(dZ1, X, p["W1"], STRIDE, PAD, fixed)
    return {"dW1": dW1, "db1": db1, "dW3": dW3, "db3": db3}


def write(here):
    rng = np.random.default_rng(30)
    X = rng.standard_normal((M, C, S, S))
    Y = np.eye(K)[rng.integers(0, K, size=M)]
    n_H = (S + 2 * PAD - KS) // STRIDE + 1
    p = {
        "W1": rng.standard_normal((F, C, KS, KS)) * np.sqrt(1.0 / (C * KS * KS)),
        "b1": rng.standard_normal((F, 1)) * 0.1,
        "W3": rng.standard_normal((F * n_H * n_H, K)) * np.sqrt(1.0 / (F * n_H * n_H)),
        "b3": rng.standard_normal(K) * 0.1,
    }
    common.write_net_case(types.SimpleNamespace(**globals()), here, SPEC, X, Y, p,
                          gradients(X, Y, p, fixed=False), gradients(X, Y, p, fixed=True))


if __name__ == "__main__":
    write(os.path.dirname(os.path.abspath(__file__)))
