"""Golden gradients for backprop-check, from an independent implementation: PyTorch autograd in float64.

How to run (from the repository root; this needs PyTorch and NumPy, which the system Python has):

    /usr/bin/python3 scripts/golden.py

It rewrites fixtures/golden/*.json (its own files only: fixtures/golden/layers/ belongs to
scripts/golden_layers.py and the layer kinds' scripts), one file per case, deterministically (every case has its own
seeded NumPy generator; the torch computations are float64 on the CPU). test/golden.test.ts then
requires backprop-check's forward pass, backprop and finite differences to agree with these files.

Each file holds
    spec    a net.json object exactly as docs/formats.md defines it (with "input"),
    X       features x samples,  Y  outputs x samples,
    params  {"W1": [[...]], "b1": [[...]], ...}  (deeplearning.ai shapes; no bL with "bias": false),
    loss    the cost J, L2 penalty included, per docs/formats.md's definitions:
              per sample  BCE -sum_k [y log a + (1-y) log(1-a)],  MSE 1/2 ||a-y||^2,  CCE -sum_k y log a,
                          a custom {"expr"} summed over the output units;
              reduction   "mean" divides the sum over samples by m, "sum" does not;
              l2          lambda/(2m) sum||W||^2 with "mean", lambda/2 sum||W||^2 with "sum",
                          {"coefficient": c} adds exactly c sum||W||^2; biases are not regularised,
    grads   {"dW1": ..., "db1": ...}: dJ/dparams from torch.autograd,
    source  a note saying where the numbers come from.

Nothing here shares code with backprop-check: the activations and losses are torch's own functions
(torch.sigmoid, F.softplus, F.elu, torch.softmax, torch.xlogy ...), and each custom formula has a
hand-written torch twin next to its text. What the script checks before writing a case:
    * torch.autograd.gradcheck agrees with autograd on the cost (a second, numeric opinion);
    * no pre-activation of a layer with a kink (relu, leaky_relu, elu, a max() formula) lies within
      KINK_MARGIN of 0, so every golden gradient is a true derivative and finite differences of
      size 1e-6 cannot cross a kink;
    * the outputs suit the loss (sigmoid outputs in (0, 1) for cross-entropy, softmax columns sum to 1).
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "golden")
KINK_MARGIN = 0.02
SOURCE = ("PyTorch {} float64 autograd (scripts/golden.py); activations and losses are torch's own "
          "functions, custom formulas have hand-written torch twins").format(torch.__version__)

# Activations: the spec's JSON form, torch's function, and whether it has a kink at 0.
def leaky(alpha):
    return lambda z: F.leaky_relu(z, negative_slope=alpha)


def elu(alpha):
    return lambda z: F.elu(z, alpha=alpha)


ACTIVATIONS = {
    "sigmoid": ("sigmoid", torch.sigmoid, False),
    "tanh": ("tanh", torch.tanh, False),
    "relu": ("relu", torch.relu, True),
    "leaky_relu": ("leaky_relu", leaky(0.01), True),
    "leaky_relu(0.1)": ({"name": "leaky_relu", "alpha": 0.1}, leaky(0.1), True),
    "linear": ("linear", lambda z: z, False),
    "softplus": ("softplus", F.softplus, False),
    "elu": ("elu", elu(1.0), True),
    "elu(0.5)": ({"name": "elu", "alpha": 0.5}, elu(0.5), True),
    "softmax": ("softmax", lambda z: torch.softmax(z, dim=0), False),
    # Custom formulas, each with its torch twin written by hand.
    "swish": ({"expr": "z / (1 + exp(-z))"}, lambda z: z / (1 + torch.exp(-z)), False),
    "sigsoftplus": ({"expr": "sigmoid(z) * softplus(z)"}, lambda z: torch.sigmoid(z) * F.softplus(z), False),
    "max": ({"expr": "max(z, 0.2 * z)"}, lambda z: torch.maximum(z, 0.2 * z), True),
    "bent": ({"expr": "sqrt(1 + z^2) - 1 + 0.5 * z"}, lambda z: torch.sqrt(1 + z ** 2) - 1 + 0.5 * z, False),
    "expr-sigmoid": ({"expr": "1 / (1 + exp(-z))"}, lambda z: 1 / (1 + torch.exp(-z)), False),
}

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "leaky_relu(0.1)", "linear", "softplus", "elu",
          "elu(0.5)", "swish", "sigsoftplus", "max", "bent"]


# Losses per output unit of one sample, summed over units and samples by cost() below.
def bce(a, y):
    return -(torch.xlogy(y, a) + torch.xlogy(1 - y, 1 - a))


LOSSES = {
    "bce": ("binary_cross_entropy", bce),
    "mse": ("mean_squared_error", lambda a, y: 0.5 * (a - y) ** 2),
    "cce": ("categorical_cross_entropy", lambda a, y: -torch.xlogy(y, a)),
    "sq": ({"expr": "0.1 * (a - y)^2"}, lambda a, y: 0.1 * (a - y) ** 2),
    "logcosh": ({"expr": "log(cosh(a - y))"}, lambda a, y: torch.log(torch.cosh(a - y))),
    "bce-expr": ({"expr": "-(y * log(a) + (1 - y) * log(1 - a))"},
                 lambda a, y: -(y * torch.log(a) + (1 - y) * torch.log(1 - a))),
}

# Output activations that suit each loss, and the kind of targets it gets.
OUTPUTS = {
    "bce": ["sigmoid", "expr-sigmoid"],
    "mse": ["linear", "tanh", "softplus", "elu", "leaky_relu(0.1)", "swish"],
    "cce": ["softmax"],
    "sq": ["linear", "tanh", "swish"],
    "logcosh": ["linear", "elu(0.5)", "tanh"],
    "bce-expr": ["sigmoid"],
}

REGULARISATIONS = [("mean", 0), ("mean", 0.7), ("mean", {"coefficient": 0.03}),
                   ("sum", 0), ("sum", 0.7), ("sum", {"coefficient": 0.03})]


def cost(Ws, bs, X, Y, acts, loss_fn, reduction, l2):
    """J as docs/formats.md defines it: per-unit losses summed, reduced over samples, plus the L2 penalty."""
    A = X
    for W, b, act in zip(Ws, bs, acts):
        Z = W @ A + (b if b is not None else 0)
        A = act(Z)
    m = X.shape[1]
    data = loss_fn(A, Y).sum()
    if reduction == "mean":
        data = data / m
    return data + penalty(l2, reduction, m, sum((W ** 2).sum() for W in Ws))


def penalty(l2, reduction, m, sq):
    """The L2 term for sq = sum ||W||^2: c*sq for {"coefficient": c}, lambda/(2m)*sq with "mean", lambda/2*sq with "sum"."""
    if isinstance(l2, dict):
        return l2["coefficient"] * sq
    if reduction == "mean":
        return l2 / (2 * m) * sq
    return l2 / 2 * sq


def targets(rng, kind, K, m):
    if kind == "hard":
        return rng.integers(0, 2, size=(K, m)).astype(np.float64)
    if kind == "soft":
        return rng.uniform(0.05, 0.95, size=(K, m))
    if kind == "onehot":
        Y = np.zeros((K, m))
        Y[rng.integers(0, K, size=m), np.arange(m)] = 1.0
        return Y
    if kind == "probabilities":
        return rng.dirichlet(np.ones(K), size=m).T
    if kind == "real":
        return rng.normal(0.0, 0.8, size=(K, m))
    raise ValueError(kind)


def draw(rng, sizes, biases, m):
    """Features N(0, 1); weights N(0, 1/fan_in); biases N(0, 0.3^2), so bias gradients are not trivial."""
    X = rng.normal(0.0, 1.0, size=(sizes[0], m))
    Ws = [rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(0.0, 0.3, size=(n_out, 1)) if has else None for n_out, has in zip(sizes[1:], biases)]
    return X, Ws, bs


def kink_clear(X, Ws, bs, acts, kinked):
    A = torch.tensor(X)
    for W, b, act, kink in zip(Ws, bs, acts, kinked):
        Z = torch.tensor(W) @ A + (torch.tensor(b) if b is not None else 0)
        if kink and Z.abs().min().item() < KINK_MARGIN:
            return False
        A = act(Z)
    return True


def make_case(name, seed, sizes, layer_acts, loss_key, reduction, l2, target_kind, m,
              bias_top=True, bias_layers=None):
    rng = np.random.default_rng(seed)
    layers = [ACTIVATIONS[a] for a in layer_acts]
    acts = [fn for _, fn, _ in layers]
    kinked = [k for _, _, k in layers]
    biases = [bias_top if bias_layers is None or bias_layers[i] is None else bias_layers[i] for i in range(len(layers))]
    for _ in range(10000):
        X, Ws, bs = draw(rng, sizes, biases, m)
        if kink_clear(X, Ws, bs, acts, kinked):
            break
    else:
        raise RuntimeError(f"{name}: no draw keeps the kinked pre-activations {KINK_MARGIN} away from 0")
    Y = targets(rng, target_kind, sizes[-1], m)

    spec = {"input": sizes[0], "layers": []}
    for i, (units, (json_act, _, _)) in enumerate(zip(sizes[1:], layers)):
        layer = {"units": units, "activation": json_act}
        if bias_layers is not None and bias_layers[i] is not None:
            layer["bias"] = bias_layers[i]
        spec["layers"].append(layer)
    loss_json, loss_fn = LOSSES[loss_key]
    spec["loss"] = loss_json
    spec["reduction"] = reduction
    spec["l2"] = l2
    if not bias_top:
        spec["bias"] = False

    tX, tY = torch.tensor(X), torch.tensor(Y)
    tWs = [torch.tensor(W, requires_grad=True) for W in Ws]
    tbs = [torch.tensor(b, requires_grad=True) if b is not None else None for b in bs]
    J = cost(tWs, tbs, tX, tY, acts, loss_fn, reduction, l2)
    leaves = [t for pair in zip(tWs, tbs) for t in pair if t is not None]
    grads = torch.autograd.grad(J, leaves)
    assert torch.isfinite(J) and all(torch.isfinite(g).all() for g in grads), name

    # A second opinion: torch's own numeric gradient check of the same cost.
    n_w = len(tWs)

    def as_function(*flat):
        it = iter(flat)
        Wf = [next(it) for _ in range(n_w)]
        bf = [next(it) if b is not None else None for b in tbs]
        return cost(Wf, bf, tX, tY, acts, loss_fn, reduction, l2)

    ordered = tWs + [b for b in tbs if b is not None]
    assert torch.autograd.gradcheck(as_function, ordered, eps=1e-6, atol=1e-7, rtol=1e-5), name

    # Outputs suit the loss.
    with torch.no_grad():
        A = tX
        for W, b, act in zip(tWs, tbs, acts):
            A = act(W @ A + (b if b is not None else 0))
        if loss_key in ("bce", "bce-expr", "cce"):
            assert (A > 0).all() and (A < 1).all(), name
        if loss_key == "cce":
            assert torch.allclose(A.sum(dim=0), torch.ones(m)), name

    params, named_grads = {}, {}
    it = iter(grads)
    for l in range(len(layers)):
        params[f"W{l + 1}"] = Ws[l].tolist()
        named_grads[f"dW{l + 1}"] = next(it).tolist()
        if bs[l] is not None:
            params[f"b{l + 1}"] = bs[l].tolist()
            named_grads[f"db{l + 1}"] = next(it).tolist()
    return {
        "name": name,
        "source": SOURCE,
        "spec": spec,
        "X": X.tolist(),
        "Y": Y.tolist(),
        "params": params,
        "loss": J.item(),
        "grads": named_grads,
    }


def cases():
    """Every loss with every reduction and L2 form; hidden and output activations rotate through
    their lists so that each appears several times; then bias-free and deeper nets."""
    out = []
    hidden = 0
    seed = 1000
    for loss_key in ["bce", "mse", "cce", "sq", "logcosh", "bce-expr"]:
        for r, (reduction, l2) in enumerate(REGULARISATIONS):
            outputs = OUTPUTS[loss_key]
            out_act = outputs[r % len(outputs)]
            h1, h2 = HIDDEN[hidden % len(HIDDEN)], HIDDEN[(hidden + 1) % len(HIDDEN)]
            hidden += 2
            K = {"bce": 1 + r % 2, "cce": 3 + r % 2, "bce-expr": 1}.get(loss_key, 2 + r % 2)
            kind = {"bce": "hard" if r % 2 == 0 else "soft",
                    "bce-expr": "soft" if r % 3 == 0 else "hard",
                    "cce": "onehot" if r != 4 else "probabilities"}.get(loss_key, "real")
            m = 5 + (3 * r + len(loss_key)) % 16
            l2_name = "l2-0" if l2 == 0 else ("l2-c" if isinstance(l2, dict) else "l2-lambda")
            name = f"{loss_key}-{reduction}-{l2_name}-{h1}-{h2}-{out_act}"
            seed += 1
            out.append(make_case(name, seed, [3, 5, 4, K], [h1, h2, out_act], loss_key, reduction, l2, kind, m))
    # Every hidden activation once more, in a single-hidden-layer net.
    for i, h in enumerate(HIDDEN):
        seed += 1
        loss_key = ["mse", "bce", "cce"][i % 3]
        out_act = {"mse": "linear", "bce": "sigmoid", "cce": "softmax"}[loss_key]
        K = {"mse": 2, "bce": 1, "cce": 3}[loss_key]
        kind = {"mse": "real", "bce": "hard", "cce": "onehot"}[loss_key]
        out.append(make_case(f"single-{h}-{loss_key}", seed, [4, 6, K], [h, out_act], loss_key, "mean",
                             round(0.1 * i, 2), kind, 8 + i))
    seed += 1
    out.append(make_case("bias-false-top", seed, [3, 5, 4, 2], ["tanh", "relu", "linear"], "mse", "mean", 0.5,
                         "real", 12, bias_top=False))
    seed += 1
    out.append(make_case("bias-false-per-layer", seed, [3, 5, 4, 3], ["elu", "sigmoid", "softmax"], "cce", "sum",
                         {"coefficient": 0.02}, "onehot", 10, bias_layers=[None, False, None]))
    seed += 1
    out.append(make_case("bias-false-top-one-back", seed, [2, 4, 1], ["softplus", "sigmoid"], "bce", "mean", 0,
                         "hard", 9, bias_top=False, bias_layers=[True, None]))
    seed += 1
    out.append(make_case("deep-tanh-relu-softplus", seed, [4, 8, 7, 6, 5, 3], ["tanh", "relu", "softplus", "leaky_relu", "softmax"],
                         "cce", "mean", 0.3, "onehot", 20))
    seed += 1
    out.append(make_case("deep-swish-elu-sigmoid", seed, [3, 6, 6, 6, 2], ["swish", "elu(0.5)", "sigsoftplus", "sigmoid"],
                         "bce", "sum", 0.05, "soft", 15))
    return out


def write(case):
    """Top-level keys one per line, values compact: small files that still diff readably."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in case.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_cases(all_cases, out):
    """Each case as out/<name>.json (names unique, parentheses dropped), and a line saying how much."""
    names = [c["name"] for c in all_cases]
    assert len(set(names)) == len(names), "case names must be unique"
    total = 0
    for case in all_cases:
        case["name"] = case["name"].replace("(", "").replace(")", "")
        text = write(case)
        total += len(text)
        with open(os.path.join(out, case["name"] + ".json"), "w") as f:
            f.write(text)
    print(f"wrote {len(all_cases)} cases ({total / 1024:.0f} KiB) to {os.path.relpath(out, ROOT)}")


def main():
    # Only this script's files: the subfolders hold other scripts' fixtures.
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    write_cases(cases(), OUT)


if __name__ == "__main__":
    main()
