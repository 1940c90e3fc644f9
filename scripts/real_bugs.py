"""Regenerates every real-bug case's files (test/real-bugs/<id>/: net.json, data.npz, params.npz,
grads.npz, grads_fixed.npz, case.json) by running each case.py's write() in its own directory.
NumPy, every case seeded, so the same files come out each time. Run with a Python that has NumPy:
    /usr/bin/python3 scripts/real_bugs.py            every case
    /usr/bin/python3 scripts/real_bugs.py 01 07-     the cases whose id starts so"""
import importlib.util
import os
import sys

CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "real-bugs")


def case_dirs(prefixes):
    for name in sorted(os.listdir(CORPUS)):
        here = os.path.join(CORPUS, name)
        if os.path.isfile(os.path.join(here, "case.py")) and (not prefixes or any(name.startswith(p) for p in prefixes)):
            yield name, here


def load(name, here):
    # Each case.py imports common from its parent directory and may be named like another case's module.
    spec = importlib.util.spec_from_file_location(f"real_bug_{name.replace('-', '_')}", os.path.join(here, "case.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(prefixes):
    sys.path.insert(0, CORPUS)
    written = 0
    for name, here in case_dirs(prefixes):
        module = load(name, here)
        if not hasattr(module, "write"):
            raise SystemExit(f"{here}/case.py has no write()")
        module.write(here)
        written += 1
        print(f"wrote {name}")
    if written == 0:
        raise SystemExit(f"no case under {CORPUS} matches {' '.join(prefixes)}")


if __name__ == "__main__":
    main(sys.argv[1:])
