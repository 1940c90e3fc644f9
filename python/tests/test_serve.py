"""serve(): the protocol on stdin/stdout, driven by a scripted client (a subprocess per program)."""
import json
import math
import unittest

import numpy as np

from backprop_check._serve import Server
from helpers import MODEL, Client, flat
from model_program import build


def local_cost_at(variant, name, index, delta):
    """The cost the program must answer for an element step, computed here by the same code."""
    params, cost, _ = build(variant)
    params[name][tuple(index)] += delta
    return float(cost(params))


class HelloTest(unittest.TestCase):
    def tearDown(self):
        self.client.kill()

    def test_params_in_order_with_shapes_and_no_dtype_for_float64(self):
        self.client = Client([MODEL, "float64"])
        hello = self.client.hello
        self.assertEqual(hello["protocol"], "backprop-check/1")
        self.assertEqual(list(hello["params"]), ["W", "b", "scale"])
        self.assertEqual(hello["params"]["W"]["shape"], [3, 2])
        self.assertEqual(hello["params"]["b"]["shape"], [2])
        params, _, _ = build("float64")
        self.assertEqual(hello["params"]["W"]["data"], params["W"].ravel().tolist())
        self.assertEqual(hello["params"]["scale"], 1.5)  # a 0-d array is a number
        self.assertNotIn("dtype", hello)
        self.assertNotIn("layers", hello)

    def test_float32_arrays_say_float32_and_keep_their_values(self):
        self.client = Client([MODEL, "float32"])
        hello = self.client.hello
        self.assertEqual(hello["dtype"], "float32")
        params, _, _ = build("float32")
        self.assertEqual(np.asarray(hello["params"]["W"]["data"], dtype=np.float32).tobytes(), params["W"].ravel().tobytes())

    def test_layers(self):
        self.client = Client([MODEL, "float64", "layers"])
        self.assertEqual(self.client.hello["layers"], [["W", "b"], ["scale"]])


class RequestsTest(unittest.TestCase):
    def setUp(self):
        self.client = Client([MODEL, "float64"])

    def tearDown(self):
        self.client.kill()

    def test_grads_and_cost_are_the_programs(self):
        params, cost, grads = build("float64")
        answer = self.client.send({"op": "grads"})
        expected = grads(params)
        for name in ["W", "b", "scale"]:
            self.assertEqual(flat(answer["grads"][name]), np.ravel(expected[name]).tolist())
        self.assertEqual(answer["grads"]["W"]["shape"], [3, 2])
        self.assertEqual(self.client.send({"op": "cost"})["cost"], float(cost(params)))

    def test_element_steps_each_from_the_unchanged_parameters(self):
        steps = [{"param": "W", "index": [2, 1], "delta": 1e-3}, {"param": "W", "index": [2, 1], "delta": -1e-3},
                 {"param": "b", "index": [0], "delta": 0.25}, {"param": "scale", "index": [], "delta": -0.5}]
        costs = self.client.send({"op": "costs", "steps": steps})["costs"]
        self.assertEqual(costs, [local_cost_at("float64", s["param"], s["index"], s["delta"]) for s in steps])
        self.assertNotEqual(costs[0], costs[1])

    def test_direction_steps(self):
        params, cost, _ = build("float64")
        direction = np.arange(6.0).reshape(3, 2) - 2.5
        nested = self.client.send({"op": "costs", "directions": [
            {"param": "W", "direction": direction.tolist(), "scale": 1e-2},
            {"param": "W", "direction": {"shape": [3, 2], "data": direction.ravel().tolist()}, "scale": -1e-2},
            {"param": "scale", "direction": 1.0, "scale": 0.5}]})["costs"]
        moved = dict(params, W=params["W"] + 1e-2 * direction)
        back = dict(params, W=params["W"] - 1e-2 * direction)
        self.assertEqual(nested[:2], [float(cost(moved)), float(cost(back))])
        self.assertEqual(nested[2], float(cost(dict(params, scale=params["scale"] + 0.5))))

    def test_bye_answers_and_exits_zero(self):
        status, rest, _ = self.client.finish()
        self.assertEqual(self.client.lines[-1], b'{"id":1}\n')
        self.assertEqual((status, rest), (0, b""))

    def test_malformed_requests_are_error_replies_and_serving_goes_on(self):
        self.assertIn("not JSON", self.client.send_raw("{nope\n")["error"])
        self.assertIn("unknown op 'weights'", self.client.send({"op": "weights"})["error"])
        self.assertIn("no parameter 'Z'", self.client.send({"op": "costs", "steps": [{"param": "Z", "index": [0], "delta": 1}]})["error"])
        # Python would wrap -1 and a short index would step a whole row: both are refused.
        self.assertIn("outside", self.client.send({"op": "costs", "steps": [{"param": "W", "index": [-1, 0], "delta": 1}]})["error"])
        self.assertIn("needs 2 entries", self.client.send({"op": "costs", "steps": [{"param": "W", "index": [0], "delta": 1}]})["error"])
        self.assertIn("shape", self.client.send({"op": "costs", "directions": [{"param": "b", "direction": [1.0], "scale": 1}]})["error"])
        self.assertIn("either", self.client.send({"op": "costs"})["error"])
        self.assertIn("cost", self.client.send({"op": "cost"}))


class RestoreTest(unittest.TestCase):
    def test_parameters_are_bit_identical_after_a_batch(self):
        # deltas and scales chosen so that (x + d) - d != x: only a restore of the old value gives the hello back.
        client = Client([MODEL, "echo"])
        try:
            before = {name: flat(t) for name, t in client.hello["params"].items()}
            steps = [{"param": "W", "index": [i, j], "delta": 0.1} for i in range(3) for j in range(2)]
            steps += [{"param": "b", "index": [1], "delta": 1 / 3}, {"param": "scale", "index": [], "delta": 0.7}]
            client.send({"op": "costs", "steps": steps})
            client.send({"op": "costs", "directions": [{"param": "W", "direction": {"shape": [3, 2], "data": [0.1] * 6}, "scale": 1 / 3},
                                                        {"param": "scale", "direction": 0.3, "scale": 0.7}]})
            after = {name: flat(t) for name, t in client.send({"op": "grads"})["grads"].items()}
            self.assertEqual(after, before)
            moved = [x + 0.1 - 0.1 for x in before["W"]]
            self.assertNotEqual(moved, before["W"])  # the test can tell a subtract-restore apart
        finally:
            client.kill()

    def test_restored_after_the_cost_raises_mid_batch(self):
        params, cost, grads = build("raising")
        before = {k: np.array(v, copy=True) for k, v in params.items()}
        server = Server(params, cost, grads)
        answer = json.loads(server.answer(json.dumps({"id": 1, "op": "costs", "steps": [
            {"param": "b", "index": [0], "delta": 0.1}, {"param": "W", "index": [0, 0], "delta": 100.0}]})))
        self.assertIn("too large", answer["error"])
        for name in params:
            self.assertEqual(params[name].tobytes(), before[name].tobytes())


class ErrorsTest(unittest.TestCase):
    def test_an_exception_is_an_error_reply_with_type_message_and_place(self):
        client = Client([MODEL, "raising"])
        try:
            answer = client.send({"op": "costs", "steps": [{"param": "W", "index": [0, 0], "delta": 100.0}]})
            self.assertRegex(answer["error"], r"^ValueError: W\[0, 0\] is too large \(.*model_program\.py:\d+\)$")
            self.assertEqual(len(client.send({"op": "costs", "steps": [{"param": "W", "index": [0, 0], "delta": 1e-6}]})["costs"]), 1)
            status, _, err = client.finish()
            self.assertEqual(status, 0)
            self.assertIn("Traceback", err)  # the CLI quotes the program's stderr
        finally:
            client.kill()

    def test_a_stray_print_cannot_corrupt_the_channel(self):
        client = Client([MODEL, "printing"])
        try:
            client.send({"op": "cost"})
            client.send({"op": "costs", "steps": [{"param": "b", "index": [1], "delta": 1e-6}] * 3})
            status, rest, err = client.finish()
            self.assertEqual((status, rest), (0, b""))
            for line in client.lines:
                json.loads(line)
            self.assertEqual(err.count("print from cost"), 4)
            self.assertEqual(err.count("raw write to fd 1"), 4)
        finally:
            client.kill()


class CostValuesTest(unittest.TestCase):
    def serve_once(self, cost, request):
        server = Server({"w": np.zeros(2)}, cost, lambda p: {"w": np.zeros(2)})
        return json.loads(server.answer(json.dumps(dict(request, id=7))))

    def test_non_finite_costs_are_null(self):
        self.assertEqual(self.serve_once(lambda p: float("nan"), {"op": "cost"}), {"id": 7, "cost": None})
        steps = [{"param": "w", "index": [0], "delta": 1.0}] * 2
        self.assertEqual(self.serve_once(lambda p: -math.inf, {"op": "costs", "steps": steps})["costs"], [None, None])

    def test_a_0d_array_is_a_cost_and_a_string_is_not(self):
        self.assertEqual(self.serve_once(lambda p: np.array(2.5), {"op": "cost"})["cost"], 2.5)
        self.assertIn("TypeError: cost(params) returned str", self.serve_once(lambda p: "2.5", {"op": "cost"})["error"])

    def test_grads_must_be_a_dict(self):
        server = Server({"w": np.zeros(2)}, lambda p: 0.0, lambda p: [1.0, 2.0])
        self.assertIn("expected a dict", json.loads(server.answer('{"id":1,"op":"grads"}'))["error"])


class BoundaryTest(unittest.TestCase):
    def test_what_cannot_be_served_is_refused_before_the_hello(self):
        cost, grads = (lambda p: 0.0), (lambda p: {})
        with self.assertRaisesRegex(TypeError, "dict of name"):
            Server([np.zeros(2)], cost, grads)
        with self.assertRaisesRegex(TypeError, "'n'.*int64"):
            Server({"n": np.arange(3)}, cost, grads)
        frozen = np.zeros(2)
        frozen.flags.writeable = False
        with self.assertRaisesRegex(ValueError, "'f' is a read-only array"):
            Server({"f": frozen}, cost, grads)
        with self.assertRaisesRegex(TypeError, "'t' holds tuples"):
            Server({"t": [(1.0, 2.0)]}, cost, grads)
        with self.assertRaisesRegex(ValueError, "not rectangular"):
            Server({"w": [[1.0, 2.0], [3.0]]}, cost, grads)
        with self.assertRaisesRegex(ValueError, "layers: 'V'"):
            Server({"w": np.zeros(2)}, cost, grads, layers=[["w", "V"]])
        with self.assertRaisesRegex(ValueError, "dtype"):
            Server({"w": np.zeros(2)}, cost, grads, dtype="float16")
        with self.assertRaisesRegex(ValueError, "non-finite"):
            Server({"w": np.array([1.0, np.nan])}, cost, grads).hello()

    def test_dtype_given_or_mixed(self):
        cost, grads = (lambda p: 0.0), (lambda p: {})
        mixed = {"a": np.zeros(2, dtype=np.float32), "b": np.zeros(2)}
        self.assertNotIn(b"dtype", Server(mixed, cost, grads).hello())
        self.assertIn(b'"dtype":"float64"', Server(mixed, cost, grads, dtype=np.float64).hello())


try:
    import torch
except ImportError:
    torch = None


@unittest.skipIf(torch is None, "torch is not installed")
class TorchTest(unittest.TestCase):
    def test_tensors_as_params_grads_and_cost(self):
        client = Client([MODEL, "torch"])
        try:
            params, cost, grads = build("torch")
            self.assertEqual(client.hello["params"]["W"]["data"], params["W"].detach().numpy().ravel().tolist())
            self.assertEqual(client.send({"op": "grads"})["grads"]["W"]["data"], grads(params)["W"].numpy().ravel().tolist())
            self.assertEqual(client.send({"op": "cost"})["cost"], float(cost(params)))
            answer = client.send({"op": "costs", "steps": [{"param": "W", "index": [1, 0], "delta": 0.1}],
                                  "id": 0})
            with torch.no_grad():
                params["W"][1, 0] += 0.1
            self.assertEqual(answer["costs"], [float(cost(params))])
        finally:
            client.kill()

    def test_float32_tensors_say_float32_and_are_restored(self):
        W = torch.linspace(-1, 1, 6, dtype=torch.float32).reshape(2, 3).requires_grad_(True)
        before = W.detach().clone()
        server = Server({"W": W}, lambda p: torch.sum(p["W"] ** 3), lambda p: {"W": 3 * p["W"] ** 2})
        self.assertIn(b'"dtype":"float32"', server.hello())
        answer = json.loads(server.answer(json.dumps({"id": 1, "op": "costs", "directions": [
            {"param": "W", "direction": [[1, 0, 0], [0, 0, 1]], "scale": 0.1}], })))
        self.assertAlmostEqual(answer["costs"][0], float(torch.sum(before ** 3)) + (1 - 0.9 ** 3) + (1.1 ** 3 - 1), places=5)
        grads = json.loads(server.answer('{"id":2,"op":"grads"}'))["grads"]["W"]
        self.assertEqual(grads["shape"], [2, 3])
        self.assertTrue(torch.equal(W.detach(), before))


if __name__ == "__main__":
    unittest.main()
