"""The Makefile is the front door: `make help` names the commands the README promises."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_help_lists_run_test_lint_and_messages():
    result = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True)
    targets = re.findall(r"^\s+make (\S+)\s", result.stdout, flags=re.MULTILINE)
    assert {"run", "test", "lint", "messages"} <= set(targets)
