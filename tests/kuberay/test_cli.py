"""`python -m kuberay render` as a person runs it: files on disk, readable back, and a clear refusal."""

from __future__ import annotations

import stat
import subprocess
import sys

import yaml

from kuberay.render import render_environment
from tests.kuberay.conftest import REPO_ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kuberay", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_render_writes_manifests_argocd_and_a_private_secret(tmp_path, serve_config_text):
    result = run_cli("render", "--env", "prod", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifests = sorted(p.name for p in (tmp_path / "manifests").glob("*.yaml"))
    assert manifests == sorted(render_environment("prod").manifests)
    documents = [
        d for p in (tmp_path / "manifests").glob("*.yaml") for d in yaml.safe_load_all(p.read_text())
    ]
    (rayservice,) = [d for d in documents if d["kind"] == "RayService"]
    assert rayservice["spec"]["serveConfigV2"] == serve_config_text
    written = "".join(p.read_text() for p in (tmp_path / "manifests").glob("*.yaml"))
    assert "&id" not in written and "*id" not in written  # plain YAML, no anchors
    (application,) = yaml.safe_load_all((tmp_path / "argocd" / "application.yaml").read_text())
    assert application["kind"] == "Application"
    secret_file = tmp_path / "secrets" / "credentials.yaml"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert (tmp_path / "secrets" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not any(d["kind"] == "Secret" for d in documents)


def test_each_render_generates_a_new_password(tmp_path):
    passwords = set()
    for name in ("a", "b"):
        assert run_cli("render", "--env", "dev", "--out", str(tmp_path / name)).returncode == 0
        (secret,) = yaml.safe_load_all((tmp_path / name / "secrets" / "credentials.yaml").read_text())
        passwords.add(secret["stringData"]["postgres-password"])
        passwords.add(secret["stringData"]["token-secret"])
    assert len(passwords) == 4


def test_unplaceable_config_exits_2_with_the_reason(tmp_path):
    config = yaml.safe_load((REPO_ROOT / "serve_config.yaml").read_text())
    config["applications"][0]["deployments"][0]["ray_actor_options"]["resources"] = {"tpu_node": 0.01}
    bad = tmp_path / "serve_config.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = run_cli("render", "--env", "dev", "--out", str(tmp_path / "out"), "--serve-config", str(bad))
    assert result.returncode == 2
    assert "tpu_node" in result.stderr and "no Ray worker group provides" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_environment_is_refused():
    result = run_cli("render", "--env", "staging", "--out", "/nonexistent")
    assert result.returncode == 2
    assert "invalid choice: 'staging'" in result.stderr
