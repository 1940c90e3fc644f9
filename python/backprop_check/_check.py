"""check() and assert_gradients(): the CLI checks functions that stay in this process.

We listen on a Unix socket in a fresh temporary directory, start the CLI with `--connect <socket>`,
and answer its requests here, so a notebook's state (its arrays, its data, its imports) is the one
that is checked. The CLI never outlives the call: it is killed, with everything it started, on any
exception (KeyboardInterrupt included), and the socket and temporary files are removed.
"""
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ._serve import Server, serve_lines

_HERE = os.path.dirname(os.path.abspath(__file__))


class BackpropCheckError(ValueError):
    """The CLI could not run the check (its exit status 2): the message is the CLI's own paragraph."""


def _flag(name, kind):
    return ("--" + name.replace("_", "-"), kind)


# keyword -> (flag, kind): "switch" flags are given when True; "text" and "number" take a value.
_OPTIONS = {
    "mode": _flag("mode", "text"),
    "samples": _flag("samples", "number"),
    "directions": _flag("directions", "number"),
    "epsilon": _flag("epsilon", "number"),
    "tolerance": _flag("tolerance", "number"),
    "seed": _flag("seed", "number"),
    "taylor": _flag("taylor", "switch"),
    "sweep": _flag("sweep", "switch"),
    "report": _flag("report", "text"),
    "max_evaluations": _flag("max_evaluations", "number"),
    "exec_timeout": _flag("exec_timeout", "number"),
    "strict": _flag("strict", "switch"),
}


def option_flags(function, options):
    """The CLI flags for check()'s keyword options; TypeError naming an unknown or mistyped one."""
    flags = []
    for name, value in options.items():
        if name not in _OPTIONS:
            raise TypeError("%s() got an unexpected keyword argument %r (the options are %s)"
                            % (function, name, ", ".join(sorted(_OPTIONS))))
        flag, kind = _OPTIONS[name]
        if value is None:
            continue
        if kind == "switch":
            if not isinstance(value, bool):
                raise TypeError("%s(): %s is True or False, found %r" % (function, name, value))
            if value:
                flags.append(flag)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError("%s(): %s is a number, found %r" % (function, name, value))
            flags += [flag, repr(value)]  # repr: the exact float (1e-06), which the CLI parses back
        else:
            if not isinstance(value, (str, os.PathLike)):
                raise TypeError("%s(): %s is a string, found %r" % (function, name, value))
            flags += [flag, os.fspath(value)]
    return flags


def cli_command():
    """How to run the CLI: BACKPROP_CHECK_CLI (a command) when set; else the CLI of the npm package this
    helper ships in (python/backprop_check/ -> ../../bin/backprop-check.js, with the node on PATH);
    else `npx backprop-check`. The explicit setting wins, so a checkout can point at another CLI."""
    configured = os.environ.get("BACKPROP_CHECK_CLI", "").strip()
    if configured:
        return shlex.split(configured)
    bundled = os.path.join(os.path.dirname(_HERE), os.pardir, "bin", "backprop-check.js")
    if os.path.isfile(bundled):
        node = shutil.which("node")
        if node is None:
            raise BackpropCheckError("backprop-check needs Node.js 20 or later: no `node` on PATH (the CLI is %s)"
                                     % os.path.normpath(bundled))
        return [node, os.path.normpath(bundled)]
    npx = shutil.which("npx")
    if npx is None:
        raise BackpropCheckError("backprop-check's CLI was not found: install Node.js 20+ and `npm install backprop-check`, "
                                 "or set BACKPROP_CHECK_CLI to the command that runs it")
    return [npx, "backprop-check"]


def _drain(stream, chunks):
    # The CLI's stdout and stderr are read while we serve it, so a full pipe can never block it mid-session.
    for chunk in iter(lambda: stream.read(65536), b""):
        chunks.append(chunk)
    stream.close()


def _kill(process):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # its own process group: the CLI and anything it started
        except ProcessLookupError:
            pass
    process.wait()


def _accept(listener, process):
    """The CLI's connection; None when it exited before connecting (a usage error, say)."""
    listener.settimeout(0.05)
    while True:
        try:
            connection, _ = listener.accept()
            connection.settimeout(None)
            return connection
        except socket.timeout:
            if process.poll() is not None:
                return None


def _serve_connection(server, connection):
    reader = connection.makefile("rb")
    try:
        serve_lines(server, reader.readline, connection.sendall)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the CLI hung up (it had what it needed, or it failed): its exit status says which
    finally:
        reader.close()


def run(function, params, cost, grads, layers, dtype, options):
    """(report dict, table text, exit status) of one CLI run over this process's functions."""
    flags = option_flags(function, options)
    server = Server(params, cost, grads, layers=layers, dtype=dtype)
    command = cli_command()
    workdir = tempfile.mkdtemp(prefix="backprop-check-")
    process = listener = connection = None
    out, err = [], []
    readers = []
    try:
        address = os.path.join(workdir, "socket")
        report_path = os.path.join(workdir, "report.json")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen(1)
        try:
            process = subprocess.Popen(command + ["--connect", address, "--format", "table", "--json", report_path] + flags,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       start_new_session=True)
        except OSError as error:
            raise BackpropCheckError("could not start backprop-check (%s): %s" % (" ".join(command), error)) from None
        readers = [threading.Thread(target=_drain, args=(process.stdout, out), daemon=True),
                   threading.Thread(target=_drain, args=(process.stderr, err), daemon=True)]
        for reader in readers:
            reader.start()
        connection = _accept(listener, process)
        if connection is not None:
            _serve_connection(server, connection)
            connection.close()
            connection = None
        status = process.wait()
        for reader in readers:
            reader.join()
        table = b"".join(out).decode("utf-8", "replace")
        message = b"".join(err).decode("utf-8", "replace").strip()
        if status == 2 or status not in (0, 1):
            text = message or ("backprop-check (%s) ended with exit status %s and said nothing" % (" ".join(command), status))
            raise BackpropCheckError(text) from server.last_error
        try:
            with open(report_path, encoding="utf-8") as handle:
                report = json.load(handle)
        except (OSError, ValueError) as error:
            raise BackpropCheckError("backprop-check (%s) exited with status %d but wrote no JSON report to --json (%s); "
                                     "is it older than the --connect session protocol?" % (" ".join(command), status, error)) from None
        return report, table, status
    finally:
        for closable in (connection, listener):
            if closable is not None:
                closable.close()
        if process is not None:
            _kill(process)
            deadline = time.monotonic() + 5
            for reader in readers:
                reader.join(max(0.0, deadline - time.monotonic()))
        shutil.rmtree(workdir, ignore_errors=True)


def _print_table(table):
    sys.stdout.write(table)
    sys.stdout.flush()


def check(params, cost, grads, *, layers=None, dtype=None, **options):
    """Check grads(params) against finite differences of cost(params), with the functions in this process.

    Prints the table (to sys.stdout, so a notebook shows it) and returns the JSON report as a dict.
    Options are the CLI's flags as keywords: mode="sample", samples=50, tolerance=1e-6, epsilon=1e-6,
    seed=1, taylor=True, sweep=True, report="check.html", max_evaluations=..., exec_timeout=...,
    strict=True, directions=.... Raises BackpropCheckError (a ValueError) when the CLI cannot check
    (exit status 2), with its message.
    """
    report, table, _ = run("check", params, cost, grads, layers, dtype, options)
    _print_table(table)
    return report


def _finding_lines(report):
    lines = []
    for finding in report.get("findings", []):
        where = " (layer %s)" % finding["layer"] if finding.get("layer") is not None else ""
        line = "%s %s%s: %s" % (finding.get("severity", "?"), finding.get("code", "?"), where, finding.get("message", ""))
        if finding.get("fix"):
            line += " Fix: " + finding["fix"]
        lines.append(line)
    return lines


def assert_gradients(params, cost, grads, *, layers=None, dtype=None, **options):
    """As check(), for tests: raises AssertionError (the table and the findings) unless the check passes.

    Returns the report when it passes.
    """
    report, table, status = run("assert_gradients", params, cost, grads, layers, dtype, options)
    _print_table(table)
    if status != 0 or not report.get("ok", False):
        raise AssertionError("backprop-check: the gradients do not pass\n" + table.rstrip("\n") +
                             "".join("\n" + line for line in _finding_lines(report)))
    return report
