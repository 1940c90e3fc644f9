"""The example fixtures of the layer kinds beyond dense: fixtures/cnn, fixtures/batchnorm,
fixtures/dropout and fixtures/rows, each from a NumPy implementation written the way course code is
written (cs231n's naive loops for the CNN and batch norm, deeplearning.ai's dropout), with one real
bug in its backward pass and the fix behind a flag (`fixed=True`).

How to run (from the repository root; NumPy and, for the cross-check, PyTorch, which the system
Python has):

    /usr/bin/python3 scripts/make_layer_fixtures.py            # rewrite the four folders
    /usr/bin/python3 scripts/make_layer_fixtures.py --out DIR  # write them under DIR instead

Each folder gets net.json, the data (data.csv, or data.npz for fixtures/rows), params.npz (with the
dropout mask as mask2) and grads.npz (the buggy backward's gradients) and grads_fixed.npz (the
fixed one's). fixtures/rows also gets columns/, the same network in the columns layout, so a test
can check that both layouts give the same report. Everything is seeded and the .npz files are
written with fixed zip timestamps, so a rerun gives the same bytes.

Before writing, every fixed backward is compared with PyTorch float64 autograd of the same forward
pass (to 1e-10), so the fixed gradients are right and the buggy ones differ only by the bug. The
draws keep every ReLU input and every max-pool window's top two values 1e-3 apart, so the correct
gradients are true derivatives at the fixture's point.

The bugs:
    cnn        conv_backward_naive slices the input window at (i, j) instead of (i*stride, j*stride)
               (the cs231n slip): dW1 is wrong; the conv is the first layer, so no dx is needed.
    batchnorm  batchnorm_backward uses the "simplified" dx = gamma * dout / sqrt(var + eps), without
               the mean and variance terms: dW1, the dense layer below the batch norm, is wrong.
    dropout    backward forgets the dropout step (the two lines dA1 = dA1 * D1, dA1 = dA1 / keep_prob
               are missing, so dx = dy, the form backprop-check's dropout-mask-missing names):
               dW1 and db1 are wrong.
    rows       none: a PyTorch-style MLP (x @ W + b) with correct gradients, checked with --data.
"""
import argparse
import io
import json
import os
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MARGIN = 1e-3


# ---- writing ---------------------------------------------------------------------------------

def write_npz(path, arrays):
    """np.savez with a fixed timestamp per entry (np.savez stamps the current time), so reruns are bit for bit."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(np.asarray(value, dtype=np.float64)))
            z.writestr(zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue())


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def agree(name, ours, torch_grads):
    for key, value in ours.items():
        theirs = torch_grads[key]
        err = np.linalg.norm(value - theirs) / (np.linalg.norm(value) + np.linalg.norm(theirs))
        assert err < 1e-10, f"{name}: the fixed {key} differs from torch by {err:.1e}"


# ---- cs231n-style layers (x: (N, ...), affine w: (D, M), b: (M,)) ------------------------------

def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F_, H_out, W_out))
    for n in range(N):
        for f in range(F_):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache, fixed):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, F_, H_out, W_out = dout.shape
    _, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(N):
        for f in range(F_):
            db[f] += np.sum(dout[n, f])
            for i in range(H_out):
                for j in range(W_out):
                    # THE BUG: the window starts at (i, j), not at (i * stride, j * stride).
                    h0, w0 = (i * stride, j * stride) if fixed else (i, j)
                    window = x_pad[n, :, h0:h0 + HH, w0:w0 + WW]
                    dw[f] += window * dout[n, f, i, j]
    return dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw])
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    k = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + k[0], j * stride + k[1]] += dout[n, c, i, j]
    return dx


def batchnorm_forward(x, gamma, beta, eps):
    mu = x.mean(axis=0)
    var = x.var(axis=0)  # biased, as the training-mode forward pass of every framework
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, gamma, var, eps)


def batchnorm_backward(dout, cache, fixed):
    x_hat, gamma, var, eps = cache
    N = dout.shape[0]
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    if fixed:
        dx = gamma / np.sqrt(var + eps) / N * (N * dout - np.sum(dout, axis=0) - x_hat * np.sum(dout * x_hat, axis=0))
    else:
        # THE BUG: the "simplified" batch-norm gradient, as if mu and var did not depend on x.
        dx = gamma * dout / np.sqrt(var + eps)
    return dx, dgamma, dbeta


# ---- the fixtures --------------------------------------------------------------------------------

def cnn(out):
    """cs231n-style: conv 4@4x4 stride 2 pad 1 - relu - maxpool 2 - flatten - affine 3 - softmax; rows layout."""
    rng = np.random.default_rng(14)
    N, C, H, W = 10, 1, 8, 8
    conv_param, pool_param = {"stride": 2, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    while True:
        x = rng.normal(size=(N, C, H, W))
        y = rng.integers(0, 3, size=N)
        w1 = rng.normal(0, 1 / np.sqrt(C * 16), size=(4, C, 4, 4))
        b1 = rng.normal(0, 0.1, size=4)
        w2 = rng.normal(0, 1 / np.sqrt(16), size=(16, 3))
        b2 = np.zeros(3)
        a1, conv_cache = conv_forward_naive(x, w1, b1, conv_param)
        windows = np.sort(np.maximum(a1, 0).reshape(N, 4, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, 4, 4, 4), axis=3)
        gap = windows[..., -1] - windows[..., -2]
        if np.abs(a1).min() > MARGIN and not ((windows[..., -1] > 0) & (gap < MARGIN)).any():
            break
    r1, relu_cache = relu_forward(a1)
    p1, pool_cache = max_pool_forward_naive(r1, pool_param)
    scores, fc_cache = affine_forward(p1, w2, b2)
    loss, dscores = softmax_loss(scores, y)

    def backward(fixed):
        dp1, dw2, db2 = affine_backward(dscores, fc_cache)
        da1 = relu_backward(max_pool_backward_naive(dp1, pool_cache), relu_cache)
        dw1, db1 = conv_backward_naive(da1, conv_cache, fixed)
        return {"dW1": dw1, "db1": db1, "dW4": dw2, "db4": db2}

    t = {k: torch.tensor(v, requires_grad=True) for k, v in {"W1": w1, "b1": b1, "W4": w2, "b4": b2}.items()}
    z = F.conv2d(torch.tensor(x), t["W1"], t["b1"], stride=2, padding=1)
    s = F.max_pool2d(torch.relu(z), 2).flatten(1) @ t["W4"] + t["b4"]
    J = F.cross_entropy(s, torch.tensor(y))
    J.backward()
    assert abs(J.item() - loss) < 1e-12
    agree("cnn", backward(True), {"d" + k: v.grad.numpy() for k, v in t.items()})

    spec = {
        "input": [1, 8, 8],
        "layout": "rows",
        "layers": [
            {"type": "conv2d", "filters": 4, "kernel": 4, "stride": 2, "padding": 1, "activation": "relu"},
            {"type": "maxpool2d", "size": 2},
            {"type": "flatten"},
            {"units": 3, "activation": "softmax"},
        ],
        "loss": "categorical_cross_entropy",
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "net.json"), spec)
    header = [f"x{h}_{w}" for h in range(H) for w in range(W)] + ["label"]
    write_csv(os.path.join(out, "data.csv"), header, np.hstack([x.reshape(N, -1), y[:, None]]))
    write_npz(os.path.join(out, "params.npz"), {"W1": w1, "b1": b1, "W4": w2, "b4": b2})
    write_npz(os.path.join(out, "grads.npz"), backward(False))
    write_npz(os.path.join(out, "grads_fixed.npz"), backward(True))


def batchnorm(out):
    """cs231n-style: affine 8 (no bias) - batchnorm - relu - affine 3 - softmax; rows layout."""
    rng = np.random.default_rng(15)
    N, D, eps = 16, 6, 1e-5
    while True:
        x = rng.normal(size=(N, D))
        y = rng.integers(0, 3, size=N)
        w1 = rng.normal(0, 1 / np.sqrt(D), size=(D, 8))
        gamma, beta = rng.uniform(0.5, 1.5, size=8), rng.uniform(-0.5, 0.5, size=8)
        w3 = rng.normal(0, 1 / np.sqrt(8), size=(8, 3))
        b3 = rng.normal(0, 0.1, size=3)
        h = x.dot(w1)
        bn, bn_cache = batchnorm_forward(h, gamma, beta, eps)
        if np.abs(bn).min() > MARGIN:
            break
    r, relu_cache = relu_forward(bn)
    scores, fc_cache = affine_forward(r, w3, b3)
    loss, dscores = softmax_loss(scores, y)

    def backward(fixed):
        dr, dw3, db3 = affine_backward(dscores, fc_cache)
        dh, dgamma, dbeta = batchnorm_backward(relu_backward(dr, relu_cache), bn_cache, fixed)
        return {"dW1": x.T.dot(dh), "dgamma2": dgamma, "dbeta2": dbeta, "dW4": dw3, "db4": db3}

    t = {k: torch.tensor(v, requires_grad=True) for k, v in {"W1": w1, "gamma2": gamma, "beta2": beta, "W4": w3, "b4": b3}.items()}
    z = F.batch_norm(torch.tensor(x) @ t["W1"], None, None, t["gamma2"], t["beta2"], training=True, eps=eps)
    J = F.cross_entropy(torch.relu(z) @ t["W4"] + t["b4"], torch.tensor(y))
    J.backward()
    assert abs(J.item() - loss) < 1e-12
    agree("batchnorm", backward(True), {"d" + k: v.grad.numpy() for k, v in t.items()})

    spec = {
        "input": D,
        "layout": "rows",
        "layers": [
            {"units": 8, "activation": "linear", "bias": False},
            {"type": "batchnorm"},
            {"type": "activation", "activation": "relu"},
            {"units": 3, "activation": "softmax"},
        ],
        "loss": "categorical_cross_entropy",
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "net.json"), spec)
    write_csv(os.path.join(out, "data.csv"), [f"x{i}" for i in range(D)] + ["label"], np.hstack([x, y[:, None]]))
    write_npz(os.path.join(out, "params.npz"), {"W1": w1, "gamma2": gamma, "beta2": beta, "W4": w3, "b4": b3})
    write_npz(os.path.join(out, "grads.npz"), backward(False))
    write_npz(os.path.join(out, "grads_fixed.npz"), backward(True))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def dropout(out):
    """deeplearning.ai-style (columns: X (n_x, m), W (n_l, n_{l-1})): LINEAR-RELU-DROPOUT-LINEAR-SIGMOID, BCE."""
    rng = np.random.default_rng(16)
    n_x, n_h, m, keep_prob = 3, 8, 20, 0.8
    while True:
        X = rng.normal(size=(n_x, m))
        Y = rng.integers(0, 2, size=(1, m)).astype(np.float64)
        W1 = rng.normal(0, 1 / np.sqrt(n_x), size=(n_h, n_x))
        b1 = rng.normal(0, 0.1, size=(n_h, 1))
        W3 = rng.normal(0, 1 / np.sqrt(n_h), size=(1, n_h))
        b3 = np.zeros((1, 1))
        D1 = (rng.uniform(size=(n_h, m)) < keep_prob).astype(np.float64)  # np.random.rand(...) < keep_prob
        Z1 = W1 @ X + b1
        if np.abs(Z1).min() > MARGIN:
            break
    A1 = np.maximum(0, Z1)
    A1d = A1 * D1 / keep_prob
    Z3 = W3 @ A1d + b3
    A3 = sigmoid(Z3)
    cost = -np.sum(Y * np.log(A3) + (1 - Y) * np.log(1 - A3)) / m

    def backward(fixed):
        dZ3 = A3 - Y
        dW3 = dZ3 @ A1d.T / m
        db3 = np.sum(dZ3, axis=1, keepdims=True) / m
        dA1 = W3.T @ dZ3
        # THE BUG (without `fixed`): forward dropped units with D1, backward does not.
        if fixed:
            dA1 = dA1 * D1
            dA1 = dA1 / keep_prob
        dZ1 = dA1 * (A1 > 0)
        return {"dW1": dZ1 @ X.T / m, "db1": np.sum(dZ1, axis=1, keepdims=True) / m, "dW3": dW3, "db3": db3}

    t = {k: torch.tensor(v, requires_grad=True) for k, v in {"W1": W1, "b1": b1, "W3": W3, "b3": b3}.items()}
    a = torch.relu(t["W1"] @ torch.tensor(X) + t["b1"]) * torch.tensor(D1) / keep_prob
    J = F.binary_cross_entropy(torch.sigmoid(t["W3"] @ a + t["b3"]), torch.tensor(Y))
    J.backward()
    assert abs(J.item() - cost) < 1e-12
    agree("dropout", backward(True), {"d" + k: v.grad.numpy() for k, v in t.items()})

    spec = {
        "input": n_x,
        "layers": [
            {"units": n_h, "activation": "relu"},
            {"type": "dropout", "keep": keep_prob},
            {"units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_cross_entropy",
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "net.json"), spec)
    write_csv(os.path.join(out, "data.csv"), [f"x{i}" for i in range(n_x)] + ["y"], np.vstack([X, Y]).T)
    write_npz(os.path.join(out, "params.npz"), {"W1": W1, "b1": b1, "mask2": D1, "W3": W3, "b3": b3})
    write_npz(os.path.join(out, "grads.npz"), backward(False))
    write_npz(os.path.join(out, "grads_fixed.npz"), backward(True))


def rows(out):
    """A PyTorch-style MLP, h = x @ W + b (W (inputs, units), b (units,)): 5-16 tanh - 8 relu - 2 linear,
    mean squared error, data as the arrays the code saw (data.npz); correct gradients. columns/ holds
    the same network in the columns layout (transposed W, X, Y; b as (units, 1))."""
    rng = np.random.default_rng(17)
    m, sizes = 24, [5, 16, 8, 2]
    while True:
        X = rng.normal(size=(m, 5)) * 3.0  # values text would round: the point of --data .npz
        Y = rng.normal(size=(m, 2))
        Ws = [rng.normal(0, 1 / np.sqrt(a), size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        bs = [rng.normal(0, 0.1, size=b) for b in sizes[1:]]
        Z2 = np.tanh(X @ Ws[0] + bs[0]) @ Ws[1] + bs[1]
        if np.abs(Z2).min() > MARGIN:
            break
    H1 = np.tanh(X @ Ws[0] + bs[0])
    H2 = np.maximum(0, Z2)
    out_ = H2 @ Ws[2] + bs[2]
    # backprop-check's mean_squared_error: 1/2 ||a - y||^2 per sample, the mean over samples.
    dout = (out_ - Y) / m
    g = {"dW3": H2.T @ dout, "db3": dout.sum(axis=0)}
    dZ2 = (dout @ Ws[2].T) * (Z2 > 0)
    g.update({"dW2": H1.T @ dZ2, "db2": dZ2.sum(axis=0)})
    dZ1 = (dZ2 @ Ws[1].T) * (1 - H1 ** 2)
    g.update({"dW1": X.T @ dZ1, "db1": dZ1.sum(axis=0)})

    t = [torch.tensor(v, requires_grad=True) for v in Ws + bs]
    a = torch.tensor(X)
    for l in range(3):
        a = a @ t[l] + t[3 + l]
        a = torch.tanh(a) if l == 0 else torch.relu(a) if l == 1 else a
    J = 0.5 * ((a - torch.tensor(Y)) ** 2).sum() / m
    J.backward()
    agree("rows", g, {**{f"dW{l + 1}": t[l].grad.numpy() for l in range(3)}, **{f"db{l + 1}": t[3 + l].grad.numpy() for l in range(3)}})

    params = {**{f"W{l + 1}": Ws[l] for l in range(3)}, **{f"b{l + 1}": bs[l] for l in range(3)}}
    layers = [{"units": 16, "activation": "tanh"}, {"units": 8, "activation": "relu"}, {"units": 2, "activation": "linear"}]
    for folder, layout in ((out, "rows"), (os.path.join(out, "columns"), "columns")):
        os.makedirs(folder, exist_ok=True)
        spec = {"input": 5, "layers": layers, "loss": "mean_squared_error"}
        if layout == "rows":
            spec["layout"] = "rows"
            write_npz(os.path.join(folder, "data.npz"), {"X": X, "Y": Y})
            write_npz(os.path.join(folder, "params.npz"), params)
            write_npz(os.path.join(folder, "grads.npz"), g)
        else:
            col = lambda d: {k: (v.T if v.ndim == 2 else v.reshape(-1, 1)) for k, v in d.items()}
            write_npz(os.path.join(folder, "data.npz"), {"X": X.T, "Y": Y.T})
            write_npz(os.path.join(folder, "params.npz"), col(params))
            write_npz(os.path.join(folder, "grads.npz"), col(g))
        write_json(os.path.join(folder, "net.json"), spec)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "fixtures"), help="the folder to write cnn/, batchnorm/, dropout/, rows/ into")
    args = parser.parse_args()
    for name, make in (("cnn", cnn), ("batchnorm", batchnorm), ("dropout", dropout), ("rows", rows)):
        make(os.path.join(args.out, name))
        print(f"wrote {os.path.join(args.out, name)}")


if __name__ == "__main__":
    main()
