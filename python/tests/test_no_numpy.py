"""Without NumPy (its import blocked in a child process): params as nested lists and floats."""
import json
import subprocess
import sys
import unittest

from helpers import BLOCK_NUMPY, FAKE_CLI, Client, child_env
from model_program import build

SERVE = BLOCK_NUMPY + """
import backprop_check, backprop_check._tensors as tensors
assert tensors._np is None, "numpy was imported"
from model_program import build
backprop_check.serve(*build("lists"))
"""

CHECK = BLOCK_NUMPY + """
import json, backprop_check
from model_program import build
params, cost, grads = build("lists")
report = backprop_check.check(params, cost, grads, tolerance=1e-6)
print(json.dumps({"report": report, "params": params}))
"""


def cost_with(change):
    params, cost, _ = build("lists")
    change(params)
    return cost(params)


class NoNumpyTest(unittest.TestCase):
    def test_serve_steps_lists_and_floats_and_restores_them(self):
        client = Client(["-c", SERVE])
        try:
            hello = client.hello
            self.assertEqual(hello["params"], {"w": {"shape": [2, 2], "data": [0.3, -0.7, 1.1, 0.2]}, "s": 0.9})
            costs = client.send({"op": "costs", "steps": [{"param": "w", "index": [1, 0], "delta": 0.1},
                                                          {"param": "s", "index": [], "delta": -0.1}]})["costs"]

            def step_w(p):
                p["w"][1][0] += 0.1

            def step_s(p):
                p["s"] -= 0.1
            self.assertEqual(costs, [cost_with(step_w), cost_with(step_s)])
            moved = client.send({"op": "costs", "directions": [
                {"param": "w", "direction": [[1.0, 0.0], [0.0, -1.0]], "scale": 0.1},
                {"param": "s", "direction": 2.0, "scale": 0.1}]})["costs"]

            def along_w(p):
                p["w"] = [[0.3 + 0.1, -0.7 + 0.0], [1.1 + 0.0, 0.2 - 0.1]]

            def along_s(p):
                p["s"] = 0.9 + 0.1 * 2.0
            self.assertEqual(moved, [cost_with(along_w), cost_with(along_s)])
            params, _, grads = build("lists")
            self.assertEqual(client.send({"op": "grads"})["grads"], {"w": {"shape": [2, 2], "data": [2.5 * v for row in params["w"] for v in row]},
                                                                     "s": grads(params)["s"]})
            status, _, err = client.finish()
            self.assertEqual(status, 0, err)
        finally:
            client.kill()

    def test_check_runs_and_leaves_the_lists_as_they_were(self):
        result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60,
                                env=child_env(BACKPROP_CHECK_CLI="%s %s" % (sys.executable, FAKE_CLI)))
        self.assertEqual(result.returncode, 0, result.stderr)
        out = json.loads(result.stdout.splitlines()[-1])
        self.assertTrue(out["report"]["ok"])
        self.assertEqual([c["param"] for c in out["report"]["checks"]], ["w", "s"])
        self.assertEqual(out["params"], build("lists")[0])


if __name__ == "__main__":
    unittest.main()
