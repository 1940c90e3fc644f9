"""Shared by the tests: a scripted protocol client for a served program, and the paths they use."""
import json
import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(TESTS)  # python/, what PYTHONPATH names
MODEL = os.path.join(TESTS, "model_program.py")
FAKE_CLI = os.path.join(TESTS, "fake_cli.py")

# Installed in a child before anything imports NumPy, so `import numpy` fails there as if it were absent.
BLOCK_NUMPY = "import sys; sys.modules['numpy'] = None\n"


def child_env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + TESTS
    env.update(extra)
    return env


class Client:
    """Talks JSON Lines to `python3 <args>` (a program that calls serve) over its stdin and stdout."""

    def __init__(self, args):
        self.process = subprocess.Popen([sys.executable] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=child_env())
        self.lines = []  # every line the program wrote to stdout, raw
        self.hello = self.read()
        self.next_id = 0

    def read(self):
        line = self.process.stdout.readline()
        self.lines.append(line)
        return json.loads(line)

    def send(self, request):
        self.next_id += 1
        request = dict(request, id=self.next_id)
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        answer = self.read()
        assert answer.get("id") == self.next_id, answer
        return answer

    def send_raw(self, text):
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()
        return self.read()

    def finish(self):
        """bye, then (exit status, the rest of stdout, stderr)."""
        self.send({"op": "bye"})
        self.process.stdin.close()
        rest = self.process.stdout.read()
        err = self.process.stderr.read().decode()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.wait(timeout=30), rest, err

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


def flat(tensor):
    return tensor["data"] if isinstance(tensor, dict) else [tensor]
