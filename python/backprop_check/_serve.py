"""The program side of the session protocol (SPEC "Your code is the model"): hello, then one answer line per request.

The same Server answers on stdin/stdout (serve) and on a Unix socket (check): it is handed lines and
returns lines, and never knows which channel it talks on.
"""
import json
import os
import sys
import traceback
from collections.abc import Mapping

from ._tensors import _np, Param, as_cost, tensor_json

PROTOCOL = "backprop-check/1"
_DTYPES = ("float32", "float64")
_HERE = os.path.dirname(os.path.abspath(__file__))


def _user_frames(error):
    """The traceback's frames outside this package: where the user's code (and what it called) ran."""
    return [f for f in traceback.extract_tb(error.__traceback__) if os.path.dirname(os.path.abspath(f.filename)) != _HERE]


def _where(error):
    """'file:line' where the user's code raised: the innermost frame outside this package, preferring one
    outside installed libraries (a NumPy shape error is the user's line that called NumPy). None when
    the error is ours (a malformed request)."""
    frames = _user_frames(error)
    if not frames:
        return None
    own = [f for f in frames if "site-packages" not in f.filename and "dist-packages" not in f.filename]
    frame = (own or frames)[-1]
    return "%s:%d" % (frame.filename, frame.lineno)


def _print_traceback(error):
    frames = _user_frames(error)
    text = "".join(traceback.format_exception_only(type(error), error))
    if frames:
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + text
    sys.stderr.write(text)
    sys.stderr.flush()


def describe_error(error):
    """'<Type>: <message> (file:line)', the error reply a Python exception becomes."""
    text = "%s: %s" % (type(error).__name__, error)
    where = _where(error)
    return "%s (%s)" % (text, where) if where else text


def _dtype_option(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str):
        name = dtype
    elif _np is not None and not hasattr(dtype, "is_floating_point"):
        name = _np.dtype(dtype).name  # np.float32, np.dtype("float32")
    else:
        name = str(dtype).replace("torch.", "")  # torch.float32
    if name not in _DTYPES:
        raise ValueError("dtype: expected 'float32' or 'float64', found %r" % (dtype,))
    return name


class Server:
    """Answers protocol requests from the user's params, cost(params) and grads(params).

    `last_error` keeps the most recent exception raised by the user's code, so that check() can
    chain it to the error it raises when the CLI gives up on the error reply.
    """

    def __init__(self, params, cost, grads, layers=None, dtype=None, echo_errors=False):
        if not isinstance(params, Mapping) or not params:
            raise TypeError("params: expected a dict of name -> array (in the order the report should list them), found %s"
                            % type(params).__name__)
        if not callable(cost) or not callable(grads):
            raise TypeError("cost and grads must be functions of params")
        for name in params:
            if not isinstance(name, str):
                raise TypeError("params: names must be strings, found %r" % (name,))
        self.params, self.cost_fn, self.grads_fn = params, cost, grads
        self.slots = {name: Param(params, name) for name in params}
        self.dtype = _dtype_option(dtype)
        if self.dtype is None:
            dtypes = {slot.dtype for slot in self.slots.values()}
            if dtypes == {"float32"}:  # the program computes in float32 (PyTorch's default): say so
                self.dtype = "float32"
        self.layers = None
        if layers is not None:
            self.layers = [list(group) for group in layers]
            for group in self.layers:
                for name in group:
                    if name not in self.slots:
                        raise ValueError("layers: %r is not a parameter (the parameters are %s)" % (name, ", ".join(self.slots)))
        self.echo_errors = echo_errors  # serve: the traceback goes to stderr, which the CLI quotes
        self.last_error = None
        self.done = False

    def hello(self):
        message = {"protocol": PROTOCOL, "params": {name: slot.hello() for name, slot in self.slots.items()}}
        if self.layers is not None:
            message["layers"] = self.layers
        if self.dtype is not None:
            message["dtype"] = self.dtype
        return _line(message)

    def _evaluate(self):
        return as_cost(self.cost_fn(self.params))

    def answer(self, line):
        """The answer line (bytes) to one request line; user exceptions become error replies."""
        try:
            request = json.loads(line)
        except ValueError as error:
            return _line({"id": None, "error": "request is not JSON: %s" % error})
        ident = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict):
                raise ValueError("a request is a JSON object, found %s" % type(request).__name__)
            op = request.get("op")
            if op == "costs":
                return _line({"id": ident, "costs": self._costs(request)})
            if op == "cost":
                return _line({"id": ident, "cost": self._evaluate()})
            if op == "grads":
                return _line({"id": ident, "grads": self._grads()})
            if op == "bye":
                self.done = True
                return _line({"id": ident})
            raise ValueError("unknown op %r (expected grads, cost, costs or bye)" % (op,))
        except Exception as error:  # the user's code (or a malformed request) failed: answer, keep serving
            self.last_error = error
            if self.echo_errors:
                _print_traceback(error)
            return _line({"id": ident, "error": describe_error(error)})

    def _costs(self, request):
        slot, evaluate = self._slot, self._evaluate
        steps, directions = request.get("steps"), request.get("directions")
        if (steps is None) == (directions is None):
            raise ValueError("a costs request carries either \"steps\" or \"directions\"")
        out = []
        if steps is not None:
            for step in steps:
                out.append(slot(step["param"]).element_cost(step["index"], step["delta"], evaluate))
        else:
            for item in directions:
                out.append(slot(item["param"]).direction_cost(item["direction"], item["scale"], evaluate))
        return out

    def _slot(self, name):
        try:
            return self.slots[name]
        except (KeyError, TypeError):
            raise ValueError("no parameter %r (the parameters are %s)" % (name, ", ".join(self.slots))) from None

    def _grads(self):
        result = self.grads_fn(self.params)
        if not isinstance(result, Mapping):
            raise TypeError("grads(params) returned %s; expected a dict of name -> gradient" % type(result).__name__)
        return {str(name): tensor_json(value, "gradient %r" % (name,)) for name, value in result.items()}


def _line(message):
    # A non-finite cost is already None (null); allow_nan stays on so a NaN in a gradient reaches the CLI,
    # which names it, rather than failing here.
    return (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")


def serve_lines(server, read_line, write):
    """Hello, then answer every request until bye or end of input."""
    write(server.hello())
    while not server.done:
        line = read_line()
        if not line:
            return
        if line.strip():
            write(server.answer(line))


def serve(params, cost, grads, *, layers=None, dtype=None):
    """Speak the backprop-check session protocol on stdin/stdout until the CLI says bye.

    params: a dict of name -> NumPy array / torch tensor / nested list of floats / float, in the order
    the report lists them; cost(params) -> float; grads(params) -> dict with the same names.
    layers: optional [["W1", "b1"], ...] grouping for the table; dtype: "float32"/"float64" when
    the arrays alone do not say it. Run it as `npx backprop-check --model "python3 my_net.py"`.

    stdout is the protocol channel: while serving, file descriptor 1 and sys.stdout point at stderr,
    so a stray print (or a C library's output) cannot corrupt it.
    """
    server = Server(params, cost, grads, layers=layers, dtype=dtype, echo_errors=True)
    if sys.stdin.isatty():  # run by hand: the protocol would wait for requests no one types
        sys.stderr.write("backprop_check.serve() waits for backprop-check's requests on stdin; run this program with\n"
                         "  npx backprop-check --model \"%s\"\n" % " ".join([os.path.basename(sys.executable)] + sys.argv))
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(1), "wb")
    saved_fd, saved_stdout = os.dup(1), sys.stdout
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    stdin = sys.stdin.buffer

    def write(data):
        protocol.write(data)
        protocol.flush()  # each answer leaves at once: the CLI is waiting for it

    try:
        serve_lines(server, stdin.readline, write)
    except BrokenPipeError:
        pass  # the CLI went away; there is no one left to answer
    finally:
        sys.stdout = saved_stdout
        sys.stderr.flush()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
        try:
            protocol.close()
        except BrokenPipeError:
            pass
