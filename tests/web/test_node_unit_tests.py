"""The web app's JavaScript unit tests (the lighting meter's pixel function, the translations), run by
Node's built-in test runner from pytest, so pytest stays the one test runner CI reads."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"


def test_the_web_apps_unit_tests_pass_in_node() -> None:
    node = shutil.which("node")
    if node is None:
        message = "Node.js (20 or newer) is needed for web/tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    run = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(WEB / "tests")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"node --test web/tests failed:\n{run.stdout}\n{run.stderr}"
    passed = re.search(r"^ℹ pass (\d+)$", run.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0, run.stdout
