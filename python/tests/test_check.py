"""check() and assert_gradients() against a fake CLI (BACKPROP_CHECK_CLI=fake_cli.py): the session runs
over the Unix socket in this process; flags, exit statuses, errors and cleanup."""
import contextlib
import io
import json
import os
import signal
import sys
import tempfile
import unittest
from unittest import mock

import backprop_check as bc
from backprop_check import _check
from helpers import FAKE_CLI
from model_program import build


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class FakeCliTest(unittest.TestCase):
    def setUp(self):
        handle, self.log = tempfile.mkstemp(suffix=".json")
        os.close(handle)
        os.unlink(self.log)
        patcher = mock.patch.dict(os.environ, {"BACKPROP_CHECK_CLI": "%s %s" % (sys.executable, FAKE_CLI),
                                                "FAKE_CLI_LOG": self.log, "FAKE_CLI_BEHAVIOUR": "check"})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(lambda: os.path.exists(self.log) and os.unlink(self.log))

    def run_check(self, function, variant, **options):
        params, cost, grads = build(variant)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            try:
                return function(params, cost, grads, **options), printed.getvalue()
            finally:
                self.printed = printed.getvalue()

    def started(self):
        with open(self.log) as handle:
            return json.load(handle)

    def assert_cleaned_up(self):
        started = self.started()
        argv = started["argv"]
        socket_path, json_path = argv[argv.index("--connect") + 1], argv[argv.index("--json") + 1]
        self.assertFalse(os.path.exists(socket_path))
        self.assertFalse(os.path.exists(json_path))
        self.assertFalse(os.path.exists(os.path.dirname(socket_path)))
        self.assertFalse(alive(started["pid"]))


class CheckTest(FakeCliTest):
    def test_a_right_gradient_passes_with_the_table_printed(self):
        report, printed = self.run_check(bc.check, "float64")
        self.assertTrue(report["ok"])
        self.assertEqual([c["param"] for c in report["checks"]], ["W", "b", "scale"])
        self.assertLess(max(c["relativeError"] for c in report["checks"]), 1e-6)
        self.assertRegex(printed, r"(?m)^W +pass")
        self.assert_cleaned_up()

    def test_a_wrong_gradient_is_a_failing_report_not_an_exception(self):
        report, printed = self.run_check(bc.check, "buggy")
        self.assertFalse(report["ok"])
        self.assertEqual([c["param"] for c in report["checks"] if c["status"] == "fail"], ["b"])
        self.assertRegex(printed, r"(?m)^b +fail")
        self.assert_cleaned_up()

    def test_the_cli_is_run_with_connect_table_json_and_the_options_as_flags(self):
        self.run_check(bc.check, "float64", mode="sample", samples=50, tolerance=1e-3, epsilon=1e-7, seed=3,
                       taylor=True, sweep=False, report="check.html", max_evaluations=1000, exec_timeout=2.5,
                       strict=True, directions=None)
        argv = self.started()["argv"]
        self.assertEqual(argv[0], "--connect")
        self.assertEqual(argv[2:5], ["--format", "table", "--json"])
        self.assertEqual(argv[6:], ["--mode", "sample", "--samples", "50", "--tolerance", "0.001", "--epsilon", "1e-07",
                                    "--seed", "3", "--taylor", "--report", "check.html", "--max-evaluations", "1000",
                                    "--exec-timeout", "2.5", "--strict"])

    def test_an_unknown_or_mistyped_option_is_a_type_error_before_anything_starts(self):
        with self.assertRaisesRegex(TypeError, "unexpected keyword argument 'sampels'"):
            self.run_check(bc.check, "float64", sampels=5)
        with self.assertRaisesRegex(TypeError, "taylor is True or False"):
            self.run_check(bc.check, "float64", taylor="yes")
        with self.assertRaisesRegex(TypeError, "samples is a number"):
            self.run_check(bc.check, "float64", samples="5")
        self.assertFalse(os.path.exists(self.log))

    def test_exit_2_raises_the_clis_message(self):
        os.environ["FAKE_CLI_BEHAVIOUR"] = "usage"
        with self.assertRaises(bc.BackpropCheckError) as raised:
            self.run_check(bc.check, "float64")
        self.assertIsInstance(raised.exception, ValueError)
        self.assertEqual(str(raised.exception), "backprop-check: --mode: expected full, sample or directional, found 'often'.")
        self.assert_cleaned_up()

    def test_an_exception_in_the_users_code_is_the_cause_of_the_error(self):
        params, cost, grads = build("float64")
        calls = []

        def failing(p):
            calls.append(1)
            if len(calls) > 1:
                raise ZeroDivisionError("the batch was empty")
            return cost(p)
        with self.assertRaises(bc.BackpropCheckError) as raised, contextlib.redirect_stdout(io.StringIO()):
            bc.check(params, failing, grads)
        self.assertRegex(str(raised.exception), r"request 3 \(costs\) with an error: ZeroDivisionError: the batch was empty "
                                                r"\(.*test_check\.py:\d+\)")
        self.assertIsInstance(raised.exception.__cause__, ZeroDivisionError)
        self.assert_cleaned_up()

    def test_no_json_report_is_an_error_that_says_so(self):
        os.environ["FAKE_CLI_BEHAVIOUR"] = "no-json"
        with self.assertRaisesRegex(bc.BackpropCheckError, "wrote no JSON report to --json"):
            self.run_check(bc.check, "float64")
        self.assert_cleaned_up()

    def test_a_cli_that_writes_more_than_a_pipe_holds_mid_session_does_not_block(self):
        os.environ["FAKE_CLI_BEHAVIOUR"] = "flood"
        report, printed = self.run_check(bc.check, "float64")
        self.assertTrue(report["ok"])
        self.assertIn("x" * 1000000, printed)

    def test_keyboard_interrupt_while_waiting_kills_the_cli_and_cleans_up(self):
        os.environ["FAKE_CLI_BEHAVIOUR"] = "hang"

        def interrupt(signum, frame):
            raise KeyboardInterrupt
        previous = signal.signal(signal.SIGALRM, interrupt)
        try:
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            with self.assertRaises(KeyboardInterrupt):
                self.run_check(bc.check, "float64")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        self.assert_cleaned_up()

    def test_keyboard_interrupt_in_the_users_code_kills_the_cli(self):
        params, cost, _ = build("float64")

        def grads(p):
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt), contextlib.redirect_stdout(io.StringIO()):
            bc.check(params, cost, grads)
        self.assert_cleaned_up()


class AssertGradientsTest(FakeCliTest):
    def test_passes_and_returns_the_report(self):
        report, _ = self.run_check(bc.assert_gradients, "float64")
        self.assertTrue(report["ok"])

    def test_fails_with_the_table_and_the_findings(self):
        with self.assertRaises(AssertionError) as raised:
            self.run_check(bc.assert_gradients, "buggy")
        message = str(raised.exception)
        self.assertRegex(message, r"(?m)^b +fail")
        self.assertIn("error gradient-mismatch: the gradient of b disagrees with its finite differences Fix: check its backward formula",
                      message)
        self.assert_cleaned_up()


class FindingTheCliTest(unittest.TestCase):
    def test_the_environment_variable_is_a_command(self):
        with mock.patch.dict(os.environ, {"BACKPROP_CHECK_CLI": "node '/opt/my cli/bin.js' --no-color"}):
            self.assertEqual(_check.cli_command(), ["node", "/opt/my cli/bin.js", "--no-color"])

    def test_the_cli_next_to_the_package_then_npx(self):
        with tempfile.TemporaryDirectory() as root, mock.patch.dict(os.environ, {"BACKPROP_CHECK_CLI": ""}):
            package = os.path.join(root, "python", "backprop_check")
            os.makedirs(package)
            tools = os.path.join(root, "tools")
            os.makedirs(tools)
            for name in ("node", "npx"):
                path = os.path.join(tools, name)
                with open(path, "w") as handle:
                    handle.write("#!/bin/sh\n")
                os.chmod(path, 0o755)
            with mock.patch.object(_check, "_HERE", package), mock.patch.dict(os.environ, {"PATH": tools}):
                self.assertEqual(_check.cli_command(), [os.path.join(tools, "npx"), "backprop-check"])
                os.makedirs(os.path.join(root, "bin"))
                open(os.path.join(root, "bin", "backprop-check.js"), "w").close()
                self.assertEqual(_check.cli_command(), [os.path.join(tools, "node"), os.path.join(root, "bin", "backprop-check.js")])
                os.unlink(os.path.join(tools, "node"))
                with self.assertRaisesRegex(bc.BackpropCheckError, "no `node` on PATH"):
                    _check.cli_command()


if __name__ == "__main__":
    unittest.main()
