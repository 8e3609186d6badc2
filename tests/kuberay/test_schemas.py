"""The rendered manifests are valid Kubernetes: the RayService against KubeRay's CRD schema, the core
kinds against the schemas of the Kubernetes version pinned in cluster.yaml (offline)."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

from tests.kuberay.conftest import REPO_ROOT, the

# The shared folder sits beside the repository's clone (locally and under CI).
SCHEMA_PATH = REPO_ROOT.parent / "shared" / "schemas" / "ray.io_rayservices.yaml"
NOT_CORE = {"RayService", "Application"}


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def rayservice_validator() -> jsonschema.protocols.Validator:
    if not SCHEMA_PATH.exists():
        message = f"KubeRay RayService CRD not found at {SCHEMA_PATH}"
        if _under_ci():
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    crd = yaml.safe_load(Path(SCHEMA_PATH).read_text(encoding="utf-8"))
    (v1,) = [version for version in crd["spec"]["versions"] if version["name"] == "v1"]
    schema = v1["schema"]["openAPIV3Schema"]
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator_class.check_schema(schema)
    return validator_class(schema)


def test_rayservice_matches_the_kuberay_v1_crd_schema(rendered, rayservice_validator):
    rayservice = the(rendered, "RayService")
    errors = sorted(rayservice_validator.iter_errors(rayservice), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_crd_schema_rejects_a_malformed_rayservice(rendered, rayservice_validator):
    broken = copy.deepcopy(the(rendered, "RayService"))
    group = broken["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
    group["maxReplicas"] = "three"
    del group["groupName"]
    messages = [e.message for e in rayservice_validator.iter_errors(broken)]
    assert any("'three' is not of type 'integer'" in m for m in messages)
    assert any("'groupName' is a required property" in m for m in messages)


def test_pinned_kubernetes_version_is_known_to_kubernetes_validate(topology):
    pinned = ".".join(topology.kubernetes_version.split(".")[:2])
    known = {".".join(v.split(".")[:2]) for v in all_versions()}
    assert pinned in known, f"kubernetes-validate knows {sorted(known)}, not {pinned}"


def test_core_kinds_validate_for_the_pinned_kubernetes_version(rendered, topology):
    documents = [*rendered.all_synced(), *rendered.secrets]
    core = [doc for doc in documents if doc["kind"] not in NOT_CORE]
    assert {doc["kind"] for doc in core} >= {
        "Namespace",
        "Service",
        "StatefulSet",
        "Ingress",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Secret",
    }
    for doc in core:
        kubernetes_validate.validate(doc, topology.kubernetes_version, strict=True)


def test_core_validation_rejects_a_malformed_statefulset(rendered, topology):
    broken = copy.deepcopy(the(rendered, "StatefulSet"))
    broken["spec"]["replicas"] = "one"
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy_typo"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, topology.kubernetes_version, strict=True)


def test_argocd_application_points_at_the_rendered_manifests(rendered, topology):
    application = the(rendered, "Application")
    namespace = the(rendered, "Namespace")["metadata"]["name"]
    assert application["apiVersion"] == "argoproj.io/v1alpha1"
    assert application["metadata"]["namespace"] == topology.addon_namespace("argocd")
    assert application["spec"]["destination"] == {
        "server": "https://kubernetes.default.svc",
        "namespace": namespace,
    }
    assert application["spec"]["source"]["path"].endswith("/manifests")
    assert application["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
