"""Golden gradients for the layer kinds beyond dense, from PyTorch autograd in float64.

How to run (from the repository root; this needs PyTorch and NumPy, which the system Python has):

    /usr/bin/python3 scripts/golden_layers.py

It rewrites fixtures/golden/layers/nets/*.json, one file per case, deterministically (every case has
its own seeded NumPy generator; torch is float64 on the CPU). test/golden-layers.test.ts requires
backprop-check's forward cost, correct backprop and finite differences to agree with these files.
It shares golden.py's conventions and imports its activations, losses and target kinds, so that a
formula means the same in both; golden.py writes the dense cases (fixtures/golden/*.json).

Each file holds
    spec    a net.json object as a user writes it (SPEC.md "Beyond dense layers"): "input" a number
            or [C, H, W], layers[].type, "layout" when it is "rows",
    X, Y    the data as `--data data.npz` holds it, in the layout's orientation: columns X (features,
            samples), Y (outputs, samples); rows X (samples, features), Y (samples, outputs); image
            inputs X (samples, C, H, W) in both,
    params  W{l}, b{l}, gamma{l}, beta{l} by the entry's 1-based position, and mask{l} (0/1) for each
            dropout entry, as `--params` holds them: dense W (units, inputs) and b (units, 1) in
            columns, W (inputs, units) and b (units,) in rows; conv2d W (filters, C, kh, kw) in both,
            its b (filters, 1) / (filters,); gamma and beta (n, 1) / (n,); a mask the entry's output
            shape with the samples axis where the layout puts it ((samples, C, H, W) for images),
    loss    the cost J as golden.py defines it (per-unit losses summed over units and samples, "mean"
            divides by m; MSE {"average": "outputs"} is torch's MSELoss(): the mean over samples and
            outputs, no 1/2), plus the L2 penalty on every W (dense and conv2d),
    grads   d{name} for every parameter (no dmask), shaped as params,
    source  where the numbers come from.

The forward pass is torch's own functions on (samples, ...) tensors, as PyTorch code is written:
F.conv2d (cross-correlation), F.max_pool2d, F.avg_pool2d, torch.flatten (C, H, W order),
F.batch_norm(training=True) (the batch's mean and biased variance, per feature or per channel),
F.layer_norm over each sample's features, dropout as x * mask / keep with the given mask.
What the script checks before writing a case:
    * torch.autograd.gradcheck agrees with autograd on the cost;
    * no pre-activation of a kinked activation (relu, leaky_relu, elu, max()) within MARGIN of 0, and
      no max-pool window whose two largest values are within MARGIN of each other (unless the whole
      window is ReLU-dead zeros, where every derivative is 0), so finite differences of size 1e-6
      cannot cross a kink and every golden gradient is a true derivative;
    * every window tiles its padded input exactly (backprop-check refuses sizes that do not);
    * the outputs suit the loss (in (0, 1) for cross-entropy).
"""

import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402  (the dense cases' activations, losses and targets)

torch.set_default_dtype(torch.float64)

ROOT = golden.ROOT
OUT = os.path.join(ROOT, "fixtures", "golden", "layers", "nets")
# Smaller than golden.py's 0.02: a CNN has hundreds of ReLU inputs and pooling windows per draw,
# and 0.02 would reject nearly every draw. A parameter step of 1e-6 moves a value by ~1e-6, so
# 5e-3 still keeps every finite difference three orders of magnitude away from a kink.
MARGIN = 5e-3
SOURCE = ("PyTorch {} float64 autograd (scripts/golden_layers.py); F.conv2d, F.max_pool2d, F.avg_pool2d, "
          "F.batch_norm(training=True), F.layer_norm, dropout x*mask/keep, torch's activations and losses").format(
    torch.__version__)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def out_size(n, k, s, p, what):
    span = n + 2 * p - k
    assert span >= 0 and span % s == 0, f"{what}: the window does not tile ({n} + 2*{p} - {k}) / {s}"
    return span // s + 1


def shapes(input_shape, entries):
    """Each entry's input and output feature shapes, (C, H, W) or (n,), as backprop-check derives them."""
    shape = tuple(input_shape) if isinstance(input_shape, list) else (input_shape,)
    out = []
    for e in entries:
        t = e.get("type", "dense")
        ins = shape
        if t == "dense":
            assert len(shape) == 1, "dense after an image needs a flatten"
            shape = (e["units"],)
        elif t == "conv2d":
            C, H, W = shape
            kh, kw = pair(e["kernel"])
            sh, sw = pair(e.get("stride", 1))
            ph, pw = pair(e.get("padding", 0))
            shape = (e["filters"], out_size(H, kh, sh, ph, "conv2d"), out_size(W, kw, sw, pw, "conv2d"))
        elif t in ("maxpool2d", "avgpool2d"):
            C, H, W = shape
            kh, kw = pair(e["size"])
            sh, sw = pair(e.get("stride", e["size"]))
            shape = (C, out_size(H, kh, sh, 0, t), out_size(W, kw, sw, 0, t))
        elif t == "flatten":
            shape = (int(np.prod(shape)),)
        out.append((ins, shape))
    return out


def param_shapes(entry, ins, outs):
    """The entry's parameters in columns orientation (backprop-check's internal shapes)."""
    t = entry.get("type", "dense")
    bias = entry.get("bias", True)
    if t == "dense":
        return [("W", (outs[0], ins[0]))] + ([("b", (outs[0], 1))] if bias else [])
    if t == "conv2d":
        kh, kw = pair(entry["kernel"])
        return [("W", (entry["filters"], ins[0], kh, kw))] + ([("b", (entry["filters"], 1))] if bias else [])
    if t == "batchnorm":
        n = ins[0]  # features (flat input) or channels (image input)
        return [("gamma", (n, 1)), ("beta", (n, 1))]
    if t == "layernorm":
        n = int(np.prod(ins))  # every feature of a sample, C*H*W for an image
        return [("gamma", (n, 1)), ("beta", (n, 1))]
    return []


def draw_params(rng, entries, shp):
    """Weights N(0, 1/fan_in), biases N(0, 0.3^2), gamma U[0.5, 1.5], beta U[-0.5, 0.5] (gamma = 1
    would let a backward that forgets gamma pass)."""
    params = []
    for e, (ins, outs) in zip(entries, shp):
        p = {}
        for name, s in param_shapes(e, ins, outs):
            if name == "W":
                fan_in = int(np.prod(s[1:]))
                p[name] = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=s)
            elif name == "b":
                p[name] = rng.normal(0.0, 0.3, size=s)
            elif name == "gamma":
                p[name] = rng.uniform(0.5, 1.5, size=s)
            else:
                p[name] = rng.uniform(-0.5, 0.5, size=s)
        params.append(p)
    return params


def activation(spec_name):
    """The entry's activation: its net.json form, its torch function on (samples, features), kinked."""
    if spec_name == "softmax":
        return "softmax", lambda z: torch.softmax(z, dim=1), False
    return golden.ACTIVATIONS[spec_name]


def run(entries, shp, X, params, masks, record=None):
    """The cost's forward pass on (samples, ...) tensors; `record` collects what the guards look at."""
    A = X
    m = X.shape[0]
    for l, (e, (ins, outs)) in enumerate(zip(entries, shp)):
        t = e.get("type", "dense")
        p = params[l]
        if t == "dense":
            A = A @ p["W"].T + (p["b"].reshape(1, -1) if "b" in p else 0)
        elif t == "conv2d":
            A = F.conv2d(A, p["W"], p["b"].reshape(-1) if "b" in p else None,
                         stride=pair(e.get("stride", 1)), padding=pair(e.get("padding", 0)))
        elif t == "maxpool2d":
            k, s = pair(e["size"]), pair(e.get("stride", e["size"]))
            if record is not None:
                record.append(("windows", F.unfold(A, k, stride=s).reshape(m, ins[0], k[0] * k[1], -1)))
            A = F.max_pool2d(A, k, stride=s)
        elif t == "avgpool2d":
            A = F.avg_pool2d(A, pair(e["size"]), stride=pair(e.get("stride", e["size"])))
        elif t == "flatten":
            A = torch.flatten(A, start_dim=1)
        elif t == "batchnorm":
            A = F.batch_norm(A, None, None, p["gamma"].reshape(-1), p["beta"].reshape(-1),
                             training=True, eps=e.get("eps", 1e-5))
        elif t == "layernorm":
            A = F.layer_norm(A, ins, weight=p["gamma"].reshape(ins), bias=p["beta"].reshape(ins),
                             eps=e.get("eps", 1e-5))
        elif t == "dropout":
            A = A * masks[l] / e["keep"]
        if t in ("dense", "conv2d", "activation"):
            _, fn, kinked = activation(e.get("activation_key", e.get("activation", "linear")))
            if kinked and record is not None:
                record.append(("kink", A))
            A = fn(A)  # element-wise, or softmax over the features of a flat output
    return A


def clear_of_kinks(record):
    for what, v in record:
        if what == "kink" and v.abs().min().item() < MARGIN:
            return False
        if what == "windows":
            top2 = v.topk(2, dim=2).values
            live = top2[:, :, 0, :] != 0  # a window of ReLU-dead zeros: every derivative is 0 there
            gap = top2[:, :, 0, :] - top2[:, :, 1, :]
            if (live & (gap < MARGIN)).any():
                return False
    return True


def loss_of(loss_key):
    """The loss's net.json form and its per-unit torch function; "mse-outputs" is MSELoss()."""
    if loss_key == "mse-outputs":
        return {"name": "mean_squared_error", "average": "outputs"}, None
    return golden.LOSSES[loss_key]


def cost(entries, shp, X, Y, params, masks, loss_key, reduction, l2):
    A = run(entries, shp, X, params, masks)
    m = X.shape[0]
    if loss_key == "mse-outputs":
        data = F.mse_loss(A, Y, reduction="mean")  # over samples and outputs, as MSELoss()
    else:
        data = loss_of(loss_key)[1](A, Y).sum()
        if reduction == "mean":
            data = data / m
    return data + golden.penalty(l2, reduction, m, sum((p["W"] ** 2).sum() for p in params if "W" in p))


def oriented(name, value, layout):
    """A parameter as `--params`/`--grads` hold it in the layout (value in columns orientation):
    rows turns a dense W into (inputs, units) and every (n, 1) vector into (n,); conv W is the same
    (filters, C, kh, kw) in both."""
    if layout == "columns":
        return value
    if name == "W" and value.ndim == 2:
        return value.T
    if name in ("b", "gamma", "beta"):
        return value.reshape(-1)
    return value


def make_case(name, seed, input_shape, entries, loss_key, target_kind, m, reduction="mean", l2=0,
              layout="columns"):
    rng = np.random.default_rng(seed)
    shp = shapes(input_shape, entries)
    K = shp[-1][1][0]
    in_feat = shp[0][0]
    for _ in range(20000):
        X = rng.normal(0.0, 1.0, size=(m,) + in_feat)
        params = draw_params(rng, entries, shp)
        masks = {}
        for l, (e, (_, outs)) in enumerate(zip(entries, shp)):
            if e.get("type") == "dropout":
                mask = (rng.uniform(size=(m,) + outs) < e["keep"]).astype(np.float64)
                mask.reshape(m, -1)[:, 0] = 1.0  # every sample keeps something
                masks[l] = mask
        record = []
        tparams = [{k: torch.tensor(v) for k, v in p.items()} for p in params]
        tmasks = {l: torch.tensor(v) for l, v in masks.items()}
        with torch.no_grad():
            run(entries, shp, torch.tensor(X), tparams, tmasks, record)
        if clear_of_kinks(record):
            break
    else:
        raise RuntimeError(f"{name}: no draw keeps the kinks {MARGIN} away")
    Y = golden.targets(rng, target_kind, K, m).T  # (samples, outputs)

    spec = {"input": list(input_shape) if isinstance(input_shape, list) else input_shape,
            "layers": [{k: v for k, v in e.items() if k != "activation_key"} for e in entries]}
    spec["loss"] = loss_of(loss_key)[0]
    spec["reduction"] = reduction
    spec["l2"] = l2
    if layout != "columns":
        spec["layout"] = layout

    tX, tY = torch.tensor(X), torch.tensor(Y)
    leaves = [(l, n, torch.tensor(v, requires_grad=True)) for l, p in enumerate(params) for n, v in p.items()]

    def as_params(tensors):
        out = [{} for _ in entries]
        for (l, n, _), t in zip(leaves, tensors):
            out[l][n] = t
        return out

    J = cost(entries, shp, tX, tY, as_params([t for _, _, t in leaves]), tmasks, loss_key, reduction, l2)
    grads = torch.autograd.grad(J, [t for _, _, t in leaves])
    assert torch.isfinite(J) and all(torch.isfinite(g).all() for g in grads), name
    assert torch.autograd.gradcheck(
        lambda *ts: cost(entries, shp, tX, tY, as_params(ts), tmasks, loss_key, reduction, l2),
        [t for _, _, t in leaves], eps=1e-6, atol=1e-7, rtol=1e-5), name
    with torch.no_grad():
        A = run(entries, shp, tX, as_params([t for _, _, t in leaves]), tmasks)
        if loss_key in ("bce", "bce-expr", "cce"):
            assert (A > 0).all() and (A < 1).all(), name

    image_in = len(in_feat) == 3
    data_X = X if image_in else (X if layout == "rows" else X.T)
    data_Y = Y if layout == "rows" else Y.T
    named_params, named_grads = {}, {}
    for (l, n, t), g in zip(leaves, grads):
        named_params[f"{n}{l + 1}"] = oriented(n, t.detach().numpy(), layout).tolist()
        named_grads[f"d{n}{l + 1}"] = oriented(n, g.numpy(), layout).tolist()
    for l, mask in masks.items():
        image = mask.ndim == 4
        named_params[f"mask{l + 1}"] = (mask if image or layout == "rows" else mask.T).tolist()
    return {
        "name": name,
        "source": SOURCE,
        "spec": spec,
        "X": data_X.tolist(),
        "Y": data_Y.tolist(),
        "params": named_params,
        "loss": J.item(),
        "grads": named_grads,
    }


def dense(units, act="linear", **kw):
    json_act = golden.ACTIVATIONS[act][0] if act != "softmax" else "softmax"
    return {"units": units, "activation": json_act, "activation_key": act, **kw}


def conv(filters, kernel, act="linear", **kw):
    json_act = golden.ACTIVATIONS[act][0]
    return {"type": "conv2d", "filters": filters, "kernel": kernel, **kw, "activation": json_act, "activation_key": act}


def act_entry(act):
    return {"type": "activation", "activation": golden.ACTIVATIONS[act][0], "activation_key": act}


FLAT = {"type": "flatten"}


def cases():
    out = []
    seed = 5000

    def add(name, *args, **kw):
        nonlocal seed
        seed += 1
        out.append(make_case(name, seed, *args, **kw))

    # conv2d: stride 1 and 2, padding 0 and 1, non-square kernels, stacked convolutions, no bias.
    add("conv-s1-p0-tanh-cce", [1, 5, 5], [conv(2, 3, "tanh"), FLAT, dense(3, "softmax")], "cce", "onehot", 4)
    add("conv-s2-p1-relu-mse-sum-l2", [2, 5, 5], [conv(3, 3, "relu", stride=2, padding=1), FLAT, dense(2)],
        "mse", "real", 3, reduction="sum", l2=0.3)
    add("conv-s2-p0-k2x3-sigmoid-nobias", [2, 6, 7], [conv(2, [2, 3], "sigmoid", stride=2, bias=False), FLAT,
                                                      dense(1, "sigmoid")], "bce", "hard", 5)
    add("conv-s1-p1-k3x2-elu-l2c", [1, 4, 5], [conv(2, [3, 2], "elu", padding=1), FLAT, dense(2, "tanh")],
        "logcosh", "real", 3, l2={"coefficient": 0.02})
    add("conv-conv-swish-leaky", [1, 6, 6], [conv(2, 3, "swish", padding=1), conv(3, 2, "leaky_relu(0.1)", stride=2),
                                             FLAT, dense(3, "softmax")], "cce", "onehot", 3, l2=0.5)
    # Pooling: max and average, non-overlapping and overlapping windows, non-square windows.
    add("conv-relu-maxpool2-cce", [1, 6, 6], [conv(2, 3, "relu", padding=1), {"type": "maxpool2d", "size": 2}, FLAT,
                                              dense(3, "softmax")], "cce", "onehot", 3)
    add("maxpool3-stride2-overlap", [2, 5, 5], [conv(2, 1, "tanh"), {"type": "maxpool2d", "size": 3, "stride": 2},
                                                FLAT, dense(2)], "mse", "real", 4)
    add("maxpool2x3-stride1-overlap", [1, 5, 6], [conv(2, 2, "tanh"), {"type": "maxpool2d", "size": [2, 3], "stride": 1},
                                                  FLAT, dense(1, "sigmoid")], "bce", "soft", 3)
    add("avgpool2-tanh", [1, 6, 6], [conv(2, 3, "tanh", padding=1), {"type": "avgpool2d", "size": 2}, FLAT,
                                     dense(2)], "mse", "real", 3, reduction="sum")
    add("avgpool3-stride2-overlap", [2, 7, 7], [conv(2, 3, "softplus", padding=1),
                                                {"type": "avgpool2d", "size": 3, "stride": 2}, FLAT,
                                                dense(3, "softmax")], "cce", "probabilities", 3)
    add("avgpool2x1-stride1", [1, 4, 4], [conv(2, 1, "linear"), {"type": "avgpool2d", "size": [2, 1], "stride": 1},
                                          FLAT, dense(2, "tanh")], "sq", "real", 4)
    add("pool-max-then-avg", [1, 8, 8], [conv(2, 3, "tanh", padding=1), {"type": "maxpool2d", "size": 2},
                                         {"type": "avgpool2d", "size": 2}, FLAT, dense(2)], "mse", "real", 3)
    # Batch norm: per feature after a dense layer, per channel after a conv; its own eps. The layer
    # before a batch norm has no bias: the batch norm subtracts the mean, so that bias's gradient
    # is 0 and torch's and ours would be different rounding noise.
    add("batchnorm-dense-relu-bce", 4, [dense(6, "linear", bias=False), {"type": "batchnorm"}, act_entry("relu"),
                                        dense(1, "sigmoid")], "bce", "hard", 6)
    add("batchnorm-dense-twice-tanh", 3, [dense(5, bias=False), {"type": "batchnorm"}, act_entry("tanh"), dense(4, bias=False),
                                          {"type": "batchnorm", "eps": 1e-3}, act_entry("sigmoid"), dense(2)],
        "mse", "real", 5, l2=0.2)
    add("batchnorm-spatial-conv", [2, 4, 4], [conv(3, 3, "linear", padding=1, bias=False), {"type": "batchnorm"}, act_entry("tanh"),
                                              {"type": "avgpool2d", "size": 2}, FLAT, dense(2)], "mse-outputs", "real", 3)
    add("batchnorm-spatial-relu-maxpool", [1, 4, 4], [conv(2, 3, "linear", padding=1, bias=False), {"type": "batchnorm"},
                                                      act_entry("relu"), {"type": "maxpool2d", "size": 2}, FLAT,
                                                      dense(3, "softmax")], "cce", "onehot", 4)
    # Layer norm: over a sample's features, flat and image.
    add("layernorm-dense-tanh-cce", 4, [dense(5), {"type": "layernorm"}, act_entry("tanh"), dense(3, "softmax")],
        "cce", "onehot", 5)
    add("layernorm-image", [1, 4, 4], [conv(2, 3, "linear", padding=1), {"type": "layernorm", "eps": 1e-4},
                                       act_entry("softplus"), FLAT, dense(2)], "mse", "real", 3)
    # Dropout with a given mask, after a dense layer and after a conv.
    add("dropout-dense-keep0.8", 4, [dense(6, "tanh"), {"type": "dropout", "keep": 0.8}, dense(2)], "mse", "real", 6)
    add("dropout-conv-keep0.5", [1, 4, 4], [conv(2, 3, "tanh", padding=1), {"type": "dropout", "keep": 0.5}, FLAT,
                                            dense(2, "sigmoid")], "bce", "soft", 3)
    add("dropout-keep1", 3, [dense(4, "sigmoid"), {"type": "dropout", "keep": 1}, dense(3, "softmax")], "cce", "onehot", 4)
    # Softmax with every loss, and MSE averaged over the outputs (MSELoss()).
    add("softmax-mse", 3, [dense(5, "tanh"), dense(3, "softmax")], "mse", "onehot", 6)
    add("softmax-bce", 3, [dense(4, "elu(0.5)"), dense(3, "softmax")], "bce", "hard", 5, reduction="sum")
    add("softmax-custom-loss", 3, [dense(4, "sigmoid"), dense(4, "softmax")], "sq", "probabilities", 5, l2=0.4)
    add("softmax-bce-expr", 2, [dense(4, "tanh"), dense(2, "softmax")], "bce-expr", "soft", 4)
    add("softmax-mse-outputs", 4, [dense(5, "softplus"), dense(3, "softmax")], "mse-outputs", "probabilities", 5)
    add("mse-outputs-linear", 3, [dense(4, "tanh"), dense(3)], "mse-outputs", "real", 6, l2=0.1)
    # An activation entry on its own, between linear layers.
    add("activation-entries", 3, [dense(4), act_entry("swish"), dense(3), act_entry("bent"), dense(2)], "mse", "real", 5)
    # The rows layout: X (samples, features), W (inputs, units), b (units,), as PyTorch code stores them.
    add("rows-mlp-cce", 4, [dense(6, "relu"), dense(3, "softmax")], "cce", "onehot", 6, layout="rows")
    add("rows-batchnorm-dropout", 4, [dense(5, "linear", bias=False), {"type": "batchnorm"}, act_entry("tanh"),
                                      {"type": "dropout", "keep": 0.75}, dense(2)], "mse-outputs", "real", 6,
        layout="rows")
    add("rows-cnn", [1, 5, 5], [conv(2, 3, "tanh", padding=1), {"type": "maxpool2d", "size": 3, "stride": 2}, FLAT,
                                dense(4, "tanh"), {"type": "layernorm"}, dense(2, "sigmoid")], "bce", "hard", 3,
        layout="rows", l2=0.2)
    add("rows-conv-batchnorm-dropout", [2, 4, 4], [conv(2, 3, "linear", stride=1, padding=1, bias=False), {"type": "batchnorm"},
                                                   act_entry("elu"), {"type": "dropout", "keep": 0.5},
                                                   {"type": "avgpool2d", "size": 2}, FLAT, dense(3, "softmax")],
        "cce", "onehot", 3, layout="rows")
    return out


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    golden.write_cases(cases(), OUT)


if __name__ == "__main__":
    main()
