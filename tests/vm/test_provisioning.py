"""vm/: the provisioning scripts pass shellcheck and fail fast, and the Vagrantfile builds exactly the
machines cluster.yaml describes (checked by loading it in Ruby with a stand-in for Vagrant)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
VM_DIR = REPO_ROOT / "vm"
VAGRANTFILE = VM_DIR / "Vagrantfile"
STUB = Path(__file__).with_name("vagrant_stub.rb")


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def shell_scripts() -> list[Path]:
    scripts = [p for p in VM_DIR.rglob("*") if p.is_file() and p.name != "Vagrantfile"]
    return sorted(
        p
        for p in scripts
        if p.suffix == ".sh" or p.read_text(errors="ignore").startswith("#!/usr/bin/env bash")
    )


@pytest.fixture(scope="module")
def shellcheck() -> str:
    found = shutil.which("shellcheck")
    if found is None:
        message = "shellcheck is not installed (scripts/ensure-system-tools.sh installs it as root)"
        if _under_ci():
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def ruby() -> str:
    found = shutil.which("ruby")
    if found is None:
        message = "ruby is not installed: the Vagrantfile checks need it (scripts/ensure-system-tools.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def cluster() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "cluster.yaml").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def vagrant_plan(ruby) -> dict[str, Any]:
    result = subprocess.run([ruby, str(STUB), str(VAGRANTFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    plan: dict[str, Any] = json.loads(result.stdout)
    return plan


def test_there_are_provisioning_scripts():
    assert {p.name for p in shell_scripts()} >= {"common.sh", "control-plane.sh", "worker.sh", "addons.sh"}


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.name)
def test_script_passes_shellcheck(shellcheck, script):
    result = subprocess.run(
        [shellcheck, "--severity=style", "--shell=bash", "--external-sources", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_reports_a_real_defect(shellcheck, tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nset -euo pipefail\nrm -rf $1/*\n")
    result = subprocess.run([shellcheck, str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "SC2086" in result.stdout


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.name)
def test_script_fails_fast_and_is_executable(script):
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    assert os.access(script, os.X_OK)


def test_vagrantfile_syntax(ruby):
    result = subprocess.run([ruby, "-c", str(VAGRANTFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "Syntax OK" in result.stdout, result.stderr


def test_vagrantfile_builds_the_machines_cluster_yaml_describes(vagrant_plan, cluster):
    assert vagrant_plan["box"] == cluster["os"]["box"]
    assert [REPO_ROOT.as_posix(), "/vagrant"] in vagrant_plan["synced_folders"]
    machines = {m["name"]: m for m in vagrant_plan["machines"]}
    assert list(machines) == [n["name"] for n in cluster["nodes"]]
    for node in cluster["nodes"]:
        machine = machines[node["name"]]
        virtualbox = machine["providers"]["virtualbox"]
        assert (virtualbox["cpus"], virtualbox["memory"]) == (node["cpus"], node["memory_mb"])
        networks = machine["networks"]
        assert {"type": "private_network", "ip": node["ip"]} in networks
        bridged = [n for n in networks if n["type"] == "public_network"]
        assert bool(bridged) == bool(node.get("bridged")), node["name"]
        env = machine["provisioners"][0]["env"]
        assert env["NODE_IP"] == node["ip"]
        assert env["K8S_VERSION"] == cluster["kubernetes"]["version"]
        assert env["POD_CIDR"] == cluster["network"]["pod_cidr"]
        expected_taints = ",".join(f"{t['key']}={t['value']}:{t['effect']}" for t in node["taints"])
        assert env["NODE_TAINTS"] == expected_taints
        assert env["NODE_LABELS"] == ",".join(f"{k}={v}" for k, v in node["labels"].items())


def test_only_the_control_plane_runs_kubeadm_init_and_the_addons(vagrant_plan, cluster):
    for machine, node in zip(vagrant_plan["machines"], cluster["nodes"], strict=True):
        steps = [p["name"] for p in machine["provisioners"]]
        if node["role"] == "control-plane":
            assert steps == ["common", "control-plane", "addons"]
            addons_env = machine["provisioners"][2]["env"]
            assert addons_env["INGRESS_NODE"] == cluster["placement"]["ingress"]
            assert addons_env["KUBERAY_VERSION"] == cluster["addons"]["kuberay_operator"]["chart_version"]
        else:
            assert steps == ["common", "join"]
        for provisioner in machine["provisioners"]:
            assert (VM_DIR / provisioner["path"]).is_file()


def test_addons_tolerations_helper_emits_exact_tolerations():
    script = (VM_DIR / "scripts" / "addons.sh").read_text()
    function = script[script.index("tolerations_yaml() {") :]
    function = function[: function.index("\n}\n") + 3]
    program = function + 'tolerations_yaml "workload=web:NoSchedule,workload=ai-inference:NoExecute" 0\n'
    output = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True).stdout
    assert yaml.safe_load(output) == [
        {"key": "workload", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
        {"key": "workload", "operator": "Equal", "value": "ai-inference", "effect": "NoExecute"},
    ]
    empty = subprocess.run(
        ["bash", "-c", function + 'tolerations_yaml "" 4\n'], capture_output=True, text=True, check=True
    )
    assert empty.stdout == ""
