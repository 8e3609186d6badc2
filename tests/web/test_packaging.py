"""The web app's files travel with the code: the wheel the Docker image installs carries all of them
(and none of its tests), where `serve_app.api.web_app` finds them by importing `web`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from serve_app.api.web_app import WEB_ROOT

REPO_ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"package.json"}  # Node's marker for web/tests, like web/tests itself
SKIPPED = (".git", ".venv", "build", "*.egg-info", "var", "test-artifacts", "__pycache__", ".*_cache")


def test_the_wheel_carries_every_file_the_app_serves(tmp_path: Path) -> None:
    # Built from a copy: a build in the checkout would leave build/ and an egg-info beside the code.
    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*SKIPPED))
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "--wheel-dir", str(tmp_path), "."]
    subprocess.run(
        [sys.executable, "-m", "pip", *build],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("personal_color-*.whl")
    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("web/")}
    expected = {
        f"web/{path.relative_to(WEB_ROOT).as_posix()}"
        for path in WEB_ROOT.rglob("*")
        if path.is_file()
        and "tests" not in path.relative_to(WEB_ROOT).parts
        and "__pycache__" not in path.parts
        and path.name not in NOT_SHIPPED
    }
    assert "web/index.html" in expected and "web/js/screens/capture.js" in expected
    assert shipped == expected
