"""dev and prod differ only where their values files say, and the values files are shaped so that
this is easy to see: both name the same keys, and none of those keys is also in base.yaml."""

from __future__ import annotations

from typing import Any

from kuberay.environment import VALUES_DIR, read_values_file

Leaves = dict[tuple[Any, ...], Any]


def leaves(value: Any, prefix: tuple[Any, ...] = ()) -> Leaves:
    if isinstance(value, dict):
        out: Leaves = {}
        for key, item in value.items():
            out.update(leaves(item, (*prefix, key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(leaves(item, (*prefix, index)))
        return out
    return {prefix: value}


def manifest_leaves(rendered) -> Leaves:
    """Leaves keyed by file, document position and path (names differ between environments)."""
    files = {**rendered.manifests, "argocd": rendered.argocd, "secrets": rendered.secrets}
    return {
        (file, index, *path): value
        for file, documents in files.items()
        for index, doc in enumerate(documents)
        for path, value in leaves(doc).items()
    }


def test_environment_files_name_the_same_keys_and_none_from_base():
    base = set(leaves(read_values_file(VALUES_DIR / "base.yaml")))
    dev = set(leaves(read_values_file(VALUES_DIR / "dev.yaml")))
    prod = set(leaves(read_values_file(VALUES_DIR / "prod.yaml")))
    assert dev == prod
    assert not dev & base, f"keys both in base.yaml and an environment file: {sorted(dev & base)}"


def test_every_rendered_difference_comes_from_an_environment_value(rendered_dev, rendered_prod):
    dev_values = set(leaves(read_values_file(VALUES_DIR / "dev.yaml")).values())
    prod_values = set(leaves(read_values_file(VALUES_DIR / "prod.yaml")).values())
    dev, prod = manifest_leaves(rendered_dev), manifest_leaves(rendered_prod)
    differences = {path for path in dev.keys() | prod.keys() if dev.get(path) != prod.get(path)}
    assert differences, "dev and prod render identically: the environment files have no effect"
    unexplained = [
        (path, dev.get(path), prod.get(path))
        for path in sorted(differences, key=str)
        if dev.get(path) not in dev_values or prod.get(path) not in prod_values
    ]
    assert not unexplained, "differences not set by dev.yaml/prod.yaml:\n" + "\n".join(map(str, unexplained))


def test_every_differing_environment_value_shows_in_the_manifests(rendered_dev, rendered_prod):
    dev_file = leaves(read_values_file(VALUES_DIR / "dev.yaml"))
    prod_file = leaves(read_values_file(VALUES_DIR / "prod.yaml"))
    dev, prod = manifest_leaves(rendered_dev), manifest_leaves(rendered_prod)
    for key, dev_value in dev_file.items():
        if dev_value == prod_file[key]:
            continue
        assert any(
            dev.get(p) == dev_value and prod.get(p) == prod_file[key] for p in dev.keys() | prod.keys()
        ), f"{'.'.join(key)} differs between the files but not in the manifests"
