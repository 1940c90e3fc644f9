"""Real bug: the max-pooling backward of the "零基础入门深度学习 (4) 卷积神经网络" tutorial code
(MaxPoolingLayer.backward), which ASSIGNS each window's gradient to its argmax. With windows that
overlap (stride < size) two windows can share a maximum, and `=` keeps only the last one's gradient;
it must be `+=`, as the issue says. Reproduced in NumPy: conv 3x3 (pad 1, tanh) -> 2x2 max-pool,
stride 1 -> flatten -> softmax 3, mean cross-entropy; the tutorial's loop and get_max_index kept."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/ghosert/cmd-editor/issues/2058"
TITLE = "max pooling 反向传播代码疑似bug (max-pooling backward: overlapping windows overwrite)"
QUOTE = """
maxpooling中，pooling的窗口也是滑动，有可能输入x的某个位置的元素被多个窗口获取到。反向的时候应该是sensitivemap多个想加， 下面这段
 self.delta_array[d, 
                        i * self.stride + k, 
                        j * self.stride + l] = \\
                        sensitivity_array[d,i,j]
似乎改成  self.delta_array[d, 
                        i * self.stride + k, 
                        j * self.stride + l] +=   sensitivity_array[d,i,j]
The tutorial's code, hanbt/learn_dl cnn.py, MaxPoolingLayer.backward:
                    k, l = get_max_index(patch_array)
                    self.delta_array[d, 
                        i * self.stride + k, 
                        j * self.stride + l] = \\
                        sensitivity_array[d,i,j]
"""
BUG = "max-pool backward assigns (=) instead of accumulating (+=): where overlapping windows share a maximum only the last window's gradient survives (layer 2, maxpool2d; dW1 and db1 wrong)"
EXPECT = {"codes": ["maxpool-overwrite"], "layer": 2}

M, C, S, F, K, POOL, STRIDE = 8, 1, 6, 2, 3, 2, 1
SPEC = {
    "input": [C, S, S],
    "layers": [
        {"type": "conv2d", "filters": F, "kernel": 3, "padding": 1, "activation": "tanh"},
        {"type": "maxpool2d", "size": POOL, "stride": STRIDE},
        {"type": "flatten"},
        {"units": K, "activation": "softmax"},
    ],
    "loss": "categorical_cross_entropy",
}


def get_max_index(array):
    """The tutorial's: the first maximum in row-major order (strict >)."""
    max_i, max_j = 0, 0
    max_value = array[0, 0]
    for i in range(array.shape[0]):
        for j in range(array.shape[1]):
            if array[i, j] > max_value:
                max_value = array[i, j]
                max_i, max_j = i, j
    return max_i, max_j


def pool_forward(A):
    m, d, n, _ = A.shape
    out = (n - POOL) // STRIDE + 1
    P = np.zeros((m, d, out, out))
    for i in range(out):
        for j in range(out):
            P[:, :, i, j] = A[:, :, i * STRIDE:i * STRIDE + POOL, j * STRIDE:j * STRIDE + POOL].max(axis=(2, 3))
    return P


def pool_backward(A, sensitivity_array, fixed):
    """MaxPoolingLayer.backward, per sample; the fix accumulates."""
    delta = np.zeros_like(A)
    m, d_n, out, _ = sensitivity_array.shape
    for n in range(m):
        for d in range(d_n):
            for i in range(out):
                for j in range(out):
                    patch = A[n, d, i * STRIDE:i * STRIDE + POOL, j * STRIDE:j * STRIDE + POOL]
                    k, l = get_max_index(patch)
                    if fixed:
                        delta[n, d, i * STRIDE + k, j * STRIDE + l] += sensitivity_array[n, d, i, j]
                    else:
                        delta[n, d, i * STRIDE + k, j * STRIDE + l] = sensitivity_array[n, d, i, j]
    return delta


def conv_forward(X, W, b):
    Xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    Z = np.zeros((X.shape[0], W.shape[0], S, S))
    for i in range(S):
        for j in range(S):
            Z[:, :, i, j] = np.tensordot(Xp[:, :, i:i + 3, j:j + 3], W, axes=([1, 2, 3], [1, 2, 3])) + b[:, 0]
    return Z


def conv_backward_w(X, dZ, W):
    Xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dW = np.zeros_like(W)
    for i in range(S):
        for j in range(S):
            dW += np.tensordot(dZ[:, :, i, j], Xp[:, :, i:i + 3, j:j + 3], axes=([0], [0]))
    return dW, dZ.sum(axis=(0, 2, 3))[:, None]


def gradients(X, Y, p, fixed):
    """Samples in columns for the dense layer (Y is (K, m)), images (m, C, H, W)."""
    m = X.shape[0]
    A1 = np.tanh(conv_forward(X, p["W1"], p["b1"]))
    P2 = pool_forward(A1)
    flat = P2.reshape(m, -1).T
    Z4 = p["W4"] @ flat + p["b4"]
    E = np.exp(Z4 - Z4.max(axis=0, keepdims=True))
    A4 = E / E.sum(axis=0, keepdims=True)
    dZ4 = A4 - Y
    dW4 = dZ4 @ flat.T / m
    db4 = dZ4.sum(axis=1, keepdims=True) / m
    dP2 = (p["W4"].T @ dZ4 / m).T.reshape(P2.shape)
    dA1 = pool_backward(A1, dP2, fixed)
    dW1, db1 = conv_backward_w(X, dA1 * (1 - A1 ** 2), p["W1"])
    return {"dW1": dW1, "db1": db1, "dW4": dW4, "db4": db4}


def write(here):
    rng = np.random.default_rng(35)
    X = rng.standard_normal((M, C, S, S))
    Y = np.eye(K)[:, rng.integers(0, K, size=M)]
    out = (S - POOL) // STRIDE + 1
    p = {
        "W1": rng.standard_normal((F, C, 3, 3)) / 3,
        "b1": rng.standard_normal((F, 1)) * 0.1,
        "W4": rng.standard_normal((K, F * out * out)) / np.sqrt(F * out * out),
        "b4": rng.standard_normal((K, 1)) * 0.1,
    }
    common.write_net_case(types.SimpleNamespace(**globals()), here, SPEC, X, Y, p,
                          gradients(X, Y, p, fixed=False), gradients(X, Y, p, fixed=True))


if __name__ == "__main__":
    write(os.path.dirname(os.path.abspath(__file__)))
