"""Per-environment values: `values/base.yaml` with `values/<env>.yaml` merged over it.

Values hold what is a choice of the deployment (sizes, replica bounds, host name, image); facts
about the machines stay in `cluster.yaml`. Lookups go through dotted paths so a missing or
mistyped key fails with the path and the files that were read, not with a bare KeyError.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kuberay.errors import RenderError

VALUES_DIR = Path(__file__).resolve().parent / "values"
ENVIRONMENTS = ("dev", "prod")


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`: mappings merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_values_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RenderError(f"values file not found: {path}") from exc
    if not isinstance(data, dict):
        raise RenderError(f"{path}: expected a mapping")
    return data


@dataclass(frozen=True)
class Values:
    data: dict[str, Any]
    sources: tuple[Path, ...]

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                files = ", ".join(str(p) for p in self.sources)
                raise RenderError(f"value {dotted!r} is missing (read: {files})")
            node = node[part]
        return node

    def text(self, dotted: str) -> str:
        value = self.get(dotted)
        if not isinstance(value, str):
            raise RenderError(f"value {dotted!r} must be a string, got {value!r}")
        return value

    def optional_text(self, dotted: str) -> str | None:
        value = self.get(dotted)
        return None if value is None else self.text(dotted)

    def integer(self, dotted: str) -> int:
        value = self.get(dotted)
        if not isinstance(value, int) or isinstance(value, bool):
            raise RenderError(f"value {dotted!r} must be an integer, got {value!r}")
        return value

    @property
    def environment(self) -> str:
        return self.text("environment")

    @property
    def namespace(self) -> str:
        return self.text("namespace")

    @property
    def app_name(self) -> str:
        return self.text("app_name")


def load_values(environment: str, values_dir: Path = VALUES_DIR) -> Values:
    if environment not in ENVIRONMENTS:
        raise RenderError(f"unknown environment {environment!r}; choose one of {', '.join(ENVIRONMENTS)}")
    base_path = values_dir / "base.yaml"
    env_path = values_dir / f"{environment}.yaml"
    values = Values(
        data=deep_merge(read_values_file(base_path), read_values_file(env_path)),
        sources=(base_path, env_path),
    )
    if values.environment != environment:
        raise RenderError(f"{env_path}: `environment` says {values.environment!r}, expected {environment!r}")
    return values
