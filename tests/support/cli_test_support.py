"""What the command-line tests share: a fresh output folder, running gatescope, and collecting
failures so that one run reports every problem."""
import shutil
import subprocess
import sys
from pathlib import Path


class CliTest:
    """`out`: a folder made afresh for the test's files (None: the test writes none)."""

    def __init__(self, gatescope, out=None):
        self.gatescope, self.out = gatescope, Path(out) if out is not None else None
        if self.out is not None:
            shutil.rmtree(self.out, ignore_errors=True)
            self.out.mkdir(parents=True)
        self.failures = []

    def check(self, condition, message):
        if not condition:
            self.failures.append(message)

    def run(self, *args, timeout=600):
        return subprocess.run([self.gatescope, *map(str, args)], capture_output=True, text=True, timeout=timeout)

    def finish(self):
        for f in self.failures:
            print("FAIL:", f)
        print(f"{len(self.failures)} failures")
        sys.exit(1 if self.failures else 0)
