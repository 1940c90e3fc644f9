"""The user's parameters and gradients, seen through the protocol (SPEC "Your code is the model").

A parameter is held where the user keeps it, and every step changes it in place and puts it back,
so a cost function that closes over its arrays sees the same steps as one that reads ``params``:

- a NumPy array (any rank; float16/32/64): ``a[idx] = x`` and ``a[...] = x``;
- a PyTorch tensor: the same, under ``torch.no_grad()`` (a leaf that requires grad may not be
  written otherwise);
- a nested list of floats: the innermost list's element is set;
- a float (0-d): the dict entry itself is replaced.

NumPy is optional: without it parameters are floats and nested lists of floats.
"""
import math

try:  # NumPy is optional; without it parameters are floats and (nested) lists of floats.
    import numpy as _np
except ImportError:  # pragma: no cover - exercised by the no-NumPy test in a subprocess
    _np = None


def _is_torch(value):
    # Duck-typed so that torch is never imported here: a torch.Tensor has detach() and numpy().
    return hasattr(value, "detach") and hasattr(value, "numpy") and hasattr(value, "dtype")


def _is_array(value):
    return _np is not None and isinstance(value, _np.ndarray)


def _is_number(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return _np is not None and isinstance(value, (_np.floating, _np.integer))


def _dtype_name(value):
    """'float32', 'float64', … for an array or tensor; None for Python numbers and lists."""
    if _is_array(value):
        return value.dtype.name
    if _is_torch(value):
        return str(value.dtype).replace("torch.", "")
    if _np is not None and isinstance(value, _np.floating):
        return _np.dtype(type(value)).name
    return None


def _list_shape(name, value):
    """The shape of a rectangular nested list of numbers; ValueError naming the tensor otherwise."""
    if _is_number(value):
        return ()
    if not isinstance(value, (list, tuple)):
        raise TypeError("parameter %r: expected a NumPy array, a torch tensor, a float or a nested list "
                        "of floats, found %s" % (name, type(value).__name__))
    if len(value) == 0:
        return (0,)
    shapes = [_list_shape(name, item) for item in value]
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError("parameter %r: a nested list whose rows differ in length or depth (not rectangular)" % name)
    return (len(value),) + shapes[0]


def _has_tuple(value):
    return isinstance(value, tuple) or (isinstance(value, list) and any(_has_tuple(item) for item in value))


def _flatten(value, out):
    if isinstance(value, (list, tuple)):
        for item in value:
            _flatten(item, out)
    else:
        out.append(float(value))
    return out


def _nest(flat, shape, start=0):
    """The row-major flat list `flat[start:]` as nested lists of `shape`."""
    if len(shape) == 0:
        return flat[start]
    if len(shape) == 1:
        return flat[start:start + shape[0]]
    stride = 1
    for d in shape[1:]:
        stride *= d
    return [_nest(flat, shape[1:], start + i * stride) for i in range(shape[0])]


def tensor_json(value, what):
    """A value (array, tensor, list, number) as a protocol tensor: a number, or {"shape", "data"}."""
    if _is_torch(value):
        value = value.detach().cpu().numpy()
    if _is_array(value):
        if value.dtype.kind not in "fiu":
            raise TypeError("%s: expected real numbers, found an array of %s" % (what, value.dtype))
        if value.ndim == 0:
            return float(value)
        # tolist() gives Python floats, whose repr (json.dumps) round-trips every float32 and float64 exactly.
        return {"shape": list(value.shape), "data": value.ravel().tolist()}
    if _is_number(value):
        return float(value)
    shape = _list_shape(what, value)
    return {"shape": list(shape), "data": _flatten(value, [])}


def parse_tensor(value, what):
    """A protocol tensor (number, nested list, or {"shape", "data"}) as (shape tuple, flat list of floats)."""
    if isinstance(value, dict):
        shape, data = value.get("shape"), value.get("data")
        if not isinstance(shape, list) or not isinstance(data, list):
            raise ValueError("%s: expected {\"shape\": [...], \"data\": [...]}" % what)
        size = 1
        for d in shape:
            size *= d
        if len(data) != size:
            raise ValueError("%s: shape %s holds %d numbers, data has %d" % (what, shape, size, len(data)))
        return tuple(shape), [float(x) for x in data]
    shape = _list_shape(what, value)
    return shape, _flatten(value, [])


class Param:
    """One parameter as the user holds it, with the two ways the protocol moves it.

    element_cost: old = a[idx]; a[idx] = old + delta; c = evaluate(); a[idx] = old — the element is
    set back to the very value it had (not old + delta - delta, which rounding can change).
    direction_cost: a = orig + scale·direction, c = evaluate(), then orig copied back.
    """

    def __init__(self, params, name):
        value = params[name]
        self.params, self.name, self.value = params, name, value
        if _is_torch(value):
            self.kind = "torch"
            import torch  # only reached when the user already holds torch tensors
            self._no_grad = torch.no_grad
            self.shape = tuple(value.shape)
            if not value.dtype.is_floating_point:
                raise TypeError("parameter %r: a %s tensor cannot be stepped; use a floating-point dtype" % (name, value.dtype))
        elif _is_array(value):
            self.kind = "array"
            self.shape = value.shape
            if value.dtype.kind != "f":
                raise TypeError("parameter %r: an array of %s cannot be stepped by a small delta; use float64 (or float32)"
                                % (name, value.dtype))
            if not value.flags.writeable:
                raise ValueError("parameter %r is a read-only array; the check steps it in place (pass a writeable copy)" % name)
        elif _is_number(value):
            self.kind = "scalar"
            self.shape = ()
        else:
            self.kind = "list"
            self.shape = _list_shape(name, value)
            if _has_tuple(value):
                raise TypeError("parameter %r holds tuples; the check steps it in place, so it must be (nested) lists" % name)
            if self.shape == ():
                self.kind = "scalar"
        self.dtype = _dtype_name(value)
        self.ndim = len(self.shape)

    def hello(self):
        json_value = tensor_json(self.value, "parameter %r" % self.name)
        data = [json_value] if isinstance(json_value, float) else json_value["data"]
        for x in data:
            if not math.isfinite(x):
                raise ValueError("parameter %r holds a non-finite value (%r); the check needs finite parameters" % (self.name, x))
        return json_value

    def _index(self, index):
        # Python would wrap a negative index and a short index would address a whole row: both would
        # step the wrong elements silently, so an index must name exactly one element.
        if not isinstance(index, list) or len(index) != self.ndim:
            raise IndexError("%r has shape %s; index %r needs %d entries" % (self.name, list(self.shape), index, self.ndim))
        for i, d in zip(index, self.shape):
            if type(i) is not int or i < 0 or i >= d:
                raise IndexError("index %r is outside %r's shape %s" % (index, self.name, list(self.shape)))
        return tuple(index)

    def element_cost(self, index, delta, evaluate):
        idx = self._index(index)
        kind = self.kind
        if kind == "array":
            a = self.value
            old = a[idx]
            a[idx] = float(old) + delta  # rounded once to the array's dtype
            try:
                return evaluate()
            finally:
                a[idx] = old
        if kind == "scalar":
            params, name = self.params, self.name
            old = params[name]
            params[name] = old + delta
            try:
                return evaluate()
            finally:
                params[name] = old
        if kind == "list":
            row = self.value
            for i in idx[:-1]:
                row = row[i]
            last = idx[-1]
            old = row[last]
            row[last] = old + delta
            try:
                return evaluate()
            finally:
                row[last] = old
        a = self.value  # torch
        with self._no_grad():
            old = a[idx].item()  # a Python float holds every float32/float64 exactly
            a[idx] = old + delta
        try:
            return evaluate()
        finally:
            with self._no_grad():
                a[idx] = old

    def direction_cost(self, direction, scale, evaluate):
        shape, flat = parse_tensor(direction, "direction for %r" % self.name)
        if shape != tuple(self.shape):
            raise ValueError("direction for %r has shape %s, the parameter %s" % (self.name, list(shape), list(self.shape)))
        kind = self.kind
        if kind == "array" or kind == "torch":
            orig = self.value.detach().cpu().numpy().copy() if kind == "torch" else self.value.copy()
            # Computed in float64, then rounded once to the parameter's dtype by the assignment.
            moved = orig.astype(_np.float64) + scale * _np.asarray(flat, dtype=_np.float64).reshape(shape)
            self._assign(moved)
            try:
                return evaluate()
            finally:
                self._assign(orig)
        if kind == "scalar":
            params, name = self.params, self.name
            old = params[name]
            params[name] = old + scale * flat[0]
            try:
                return evaluate()
            finally:
                params[name] = old
        orig = _flatten(self.value, [])
        self._assign_list([x + scale * d for x, d in zip(orig, flat)])
        try:
            return evaluate()
        finally:
            self._assign_list(orig)

    def _assign(self, array):
        if self.kind == "array":
            self.value[...] = array
        else:
            import torch
            with self._no_grad():
                self.value.copy_(torch.from_numpy(array))

    def _assign_list(self, flat):
        # The user's own (innermost) lists are written element by element, so references they hold stay valid.
        def write(target, nested):
            for i, item in enumerate(nested):
                if isinstance(item, list):
                    write(target[i], item)
                else:
                    target[i] = item
        write(self.value, _nest(flat, self.shape))


def as_cost(value):
    """A cost as a float (floats, NumPy scalars, 0-d arrays and tensors); None when not finite."""
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError
        c = float(value)
    except (TypeError, ValueError):
        raise TypeError("cost(params) returned %s; expected a number (a float, or a 0-d array or tensor)"
                        % type(value).__name__) from None
    return c if math.isfinite(c) else None
