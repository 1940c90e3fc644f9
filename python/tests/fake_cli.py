"""A stand-in for the backprop-check CLI (BACKPROP_CHECK_CLI), standard library only: it connects to
--connect, speaks the session protocol, checks central differences per tensor, writes a JSON report
to --json and a table to stdout, and exits 0 (pass) or 1 (fail). FAKE_CLI_LOG names a file where it
records its argv and pid; FAKE_CLI_BEHAVIOUR selects a fault: usage, no-json, hang, flood."""
import json
import os
import socket
import sys
import time


def option(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv else default


def main(argv):
    behaviour = os.environ.get("FAKE_CLI_BEHAVIOUR", "check")
    log = os.environ.get("FAKE_CLI_LOG")
    if log:
        with open(log, "w") as handle:
            json.dump({"argv": argv, "pid": os.getpid()}, handle)
    if behaviour == "usage":
        sys.stderr.write("backprop-check: --mode: expected full, sample or directional, found 'often'.\n")
        return 2
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(option(argv, "--connect"))
    reader = connection.makefile("rb")
    hello = json.loads(reader.readline())
    if behaviour == "hang":
        time.sleep(3600)
    if behaviour == "flood":
        sys.stdout.write("x" * 1000000 + "\n")  # more than a pipe holds: the caller must read while it serves
        sys.stdout.flush()
    ident = [0]

    def ask(request):
        ident[0] += 1
        request["id"] = ident[0]
        connection.sendall((json.dumps(request) + "\n").encode())
        answer = json.loads(reader.readline())
        if "error" in answer:
            sys.stderr.write("backprop-check: the program answered request %d (%s) with an error: %s\n"
                             % (ident[0], request["op"], answer["error"]))
            sys.exit(2)
        return answer

    tolerance = float(option(argv, "--tolerance", "1e-6"))
    h = 1e-6
    grads = ask({"op": "grads"})["grads"]
    loss = ask({"op": "cost"})["cost"]
    checks, ok = [], True
    for name, tensor in hello["params"].items():
        shape, data = (tensor["shape"], tensor["data"]) if isinstance(tensor, dict) else ([], [tensor])
        g = grads[name]
        analytic = g["data"] if isinstance(g, dict) else [g]
        steps = []
        for flat in range(len(data)):
            index, rest = [], flat
            for d in reversed(shape):
                index.insert(0, rest % d)
                rest //= d
            steps += [{"param": name, "index": index, "delta": h}, {"param": name, "index": index, "delta": -h}]
        costs = ask({"op": "costs", "steps": steps})["costs"]
        numeric = [(costs[2 * i] - costs[2 * i + 1]) / (2 * h) for i in range(len(data))]
        # one direction along the first axis-0 unit vector, to exercise direction requests
        direction = [1.0] + [0.0] * (len(data) - 1)
        along = ask({"op": "costs", "directions": [{"param": name, "direction": {"shape": shape, "data": direction}, "scale": h},
                                                   {"param": name, "direction": {"shape": shape, "data": direction}, "scale": -h}]})["costs"]
        numeric[0] = 0.5 * (numeric[0] + (along[0] - along[1]) / (2 * h))
        diff = sum((a - n) ** 2 for a, n in zip(analytic, numeric)) ** 0.5
        norm = sum(a * a for a in analytic) ** 0.5 + sum(n * n for n in numeric) ** 0.5
        error = diff / norm if norm else 0.0
        status = "pass" if error < tolerance else "fail"
        ok = ok and status == "pass"
        checks.append({"param": name, "shape": shape, "relativeError": error, "status": status})
    ask({"op": "bye"})
    findings = [] if ok else [{"code": "gradient-mismatch", "severity": "error", "layer": None,
                               "message": "the gradient of %s disagrees with its finite differences" %
                               ", ".join(c["param"] for c in checks if c["status"] == "fail"), "fix": "check its backward formula"}]
    report = {"ok": ok, "loss": loss, "checks": checks, "findings": findings, "settings": {"tolerance": tolerance}}
    if behaviour != "no-json":
        with open(option(argv, "--json"), "w") as handle:
            json.dump(report, handle)
    for c in checks:
        sys.stdout.write("%-8s %-6s %.3e\n" % (c["param"], c["status"], c["relativeError"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
