"""What every real-bug case writes: its net.json, data, parameters, the buggy and the fixed
gradients (NumPy .npz) and case.json, which test/real-bugs.test.ts and `npm run matrix -- --real`
read. A case.py holds the person's formulas; this file only writes files."""
import json
import os

import numpy as np

REQUIRED = ("SOURCE", "TITLE", "QUOTE", "BUG", "EXPECT")


def _meta(case, here, args, fixed_args):
    for name in REQUIRED:
        if not hasattr(case, name):
            raise SystemExit(f"{here}/case.py: {name} is missing")
    expect = case.EXPECT
    if not isinstance(expect.get("codes"), list) or not isinstance(expect.get("layer"), int):
        raise SystemExit(f'{here}/case.py: EXPECT must be {{"codes": [...], "layer": n}}, found {expect!r}')
    return {
        "id": os.path.basename(here),
        "source": case.SOURCE,
        "title": case.TITLE,
        "quote": case.QUOTE.strip("\n"),
        "bug": case.BUG,
        "expect": expect,
        "args": args,
        "fixedArgs": fixed_args,
    }


def write_net_case(case, here, spec, X, Y, params, grads, grads_fixed, extra_args=()):
    """A net.json case: `backprop-check net.json --data data.npz --params params.npz --grads grads.npz`,
    run in the case's directory. params and grads are dicts of float64 arrays ("W1", "dW1", …)."""
    with open(os.path.join(here, "net.json"), "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
    np.savez(os.path.join(here, "data.npz"), X=np.asarray(X, dtype=np.float64), Y=np.asarray(Y, dtype=np.float64))
    np.savez(os.path.join(here, "params.npz"), **{k: np.asarray(v, dtype=np.float64) for k, v in params.items()})
    for name, g in (("grads.npz", grads), ("grads_fixed.npz", grads_fixed)):
        np.savez(os.path.join(here, name), **{k: np.asarray(v, dtype=np.float64) for k, v in g.items()})
    common = ["net.json", "--data", "data.npz", "--params", "params.npz", *extra_args]
    meta = _meta(case, here, [*common, "--grads", "grads.npz"], [*common, "--grads", "grads_fixed.npz"])
    _write_meta(here, meta)


def write_model_case(case, here, extra_args=()):
    """A --model case: case.py serves itself (buggy), `case.py --fixed` the fix. "{python}" in the
    arguments stands for a Python that imports NumPy (test/helpers/python.ts)."""
    meta = _meta(case, here, ["--model", "{python} case.py", *extra_args], ["--model", "{python} case.py --fixed", *extra_args])
    _write_meta(here, meta)


def _write_meta(here, meta):
    with open(os.path.join(here, "case.json"), "w") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
