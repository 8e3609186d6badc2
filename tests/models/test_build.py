"""The committed model matches its card and the rules, and a rebuild reproduces its predictions."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from models import build
from models.rules import Rules
from models.synthetic import sample_population
from pipeline.classify import DEFAULT_MODEL_PATH, SeasonClassifier
from pipeline.features import FEATURE_NAMES, FEATURE_VERSION
from pipeline.seasons import SEASON_TYPE_IDS

MODELS_DIR = DEFAULT_MODEL_PATH.parent


@pytest.fixture(scope="module")
def card() -> Any:
    return json.loads((MODELS_DIR / build.CARD_FILE).read_text(encoding="utf-8"))


def fixed_inputs() -> Any:
    return sample_population(2000, np.random.default_rng(7), broad_share=0.5)


def test_committed_model_matches_its_card(card):
    assert hashlib.sha256(DEFAULT_MODEL_PATH.read_bytes()).hexdigest() == card["sha256"]
    assert [c["id"] for c in card["classes"]] == list(SEASON_TYPE_IDS)
    assert card["input"]["feature_version"] == FEATURE_VERSION
    assert card["input"]["feature_names"] == list(FEATURE_NAMES)
    metadata = {p.key: p.value for p in onnx.load(str(DEFAULT_MODEL_PATH)).metadata_props}
    assert metadata == card["metadata_props"]
    assert json.loads(metadata["classes"]) == list(SEASON_TYPE_IDS)
    assert SeasonClassifier.from_path().model_version == card["model_version"]
    assert card["sha256"] in (MODELS_DIR / build.MARKDOWN_FILE).read_text(encoding="utf-8")


def test_committed_model_was_built_from_the_current_rules(card):
    """Editing models/rules.yaml without rebuilding the model fails here."""
    assert (
        card["training"]["rules_sha256"]
        == Rules.load(build.REPO_ROOT / card["training"]["rules_file"]).sha256
    )


def test_card_reports_the_agreement_target(card):
    # The rules MLP's agreement (the whole model when rules-only, the tone part when composed).
    assert card["metrics"]["realistic_heldout"]["type"] >= 0.98
    assert card["metrics"]["realistic_heldout"]["samples"] >= 10_000


def test_committed_model_agrees_with_the_rules_on_unseen_samples(card):
    """The rules decide the type (rules-only) or the tone inside the season (composed with the
    learned season head, whose season is fitted to photos, not to the rules: there the guarantee
    holds where the two seasons agree)."""
    x = sample_population(5000, np.random.default_rng(99))
    predicted = np.array(
        [SEASON_TYPE_IDS.index(r.best[0]) for r in SeasonClassifier.from_path().predict_batch(x)]
    )
    rules = Rules.load(build.REPO_ROOT / card["training"]["rules_file"])
    expected = rules.label_indices(x)
    if card["season_head"] is not None and card["season_head"]["decision"] == "learned":
        same_season = predicted // 4 == expected // 4
        assert same_season.mean() > 0.2
        predicted, expected = predicted[same_season], expected[same_season]
    assert np.mean(predicted == expected) >= 0.97


@pytest.mark.slow
def test_rebuild_reproduces_the_committed_model_within_float_rounding(tmp_path, card):
    """A rebuild from the same rules and seed is the same model up to the CPU's float rounding.

    The build is deterministic on one machine (one BLAS thread, fixed seeds), but OpenBLAS picks its
    kernels by CPU (SkylakeX, Haswell, ...), and a different summation order moves an MLP trained with
    Adam by a little: on another CPU a rebuild agrees with the committed model on ~99% of types and
    its held-out figures move by tenths of a point. A change to the rules, the features, the data or
    the trainer moves them by far more, which is what this test is for.
    """
    if card["season_head"] is not None:
        try:
            labelled = build.load_labelled()
        except SystemExit as missing:
            pytest.skip(f"the committed model's season head needs the labelled measurements: {missing}")
    else:
        labelled = None
    rebuilt_card = build.build(tmp_path, None, 0, build.TRAIN_SAMPLES, build.SEED, labelled=labelled)
    if labelled is not None:
        # The season head is a deterministic logistic fit: its figures are reproduced exactly.
        # (Its agreement with the rules on synthetic rows goes through the MLP, which moves by the
        # CPU's float rounding like the figures below.)
        def exact(head: Any) -> Any:
            return {k: v for k, v in head.items() if k != "synthetic_agreement"}

        assert exact(rebuilt_card["season_head"]) == exact(card["season_head"])
    x = fixed_inputs()
    committed = np.array([r.probabilities for r in SeasonClassifier.from_path().predict_batch(x)])
    rebuilt = np.array(
        [r.probabilities for r in SeasonClassifier.from_path(tmp_path / build.MODEL_FILE).predict_batch(x)]
    )
    assert np.mean(committed.argmax(axis=1) == rebuilt.argmax(axis=1)) >= 0.97
    for split in ("realistic_heldout", "broad_heldout"):
        for figure in ("type", "season", "undertone"):
            assert rebuilt_card["metrics"][split][figure] == pytest.approx(
                card["metrics"][split][figure], abs=0.01
            ), (split, figure)
    assert rebuilt_card["metrics"]["realistic_heldout"]["type"] >= 0.98


def _write_csv(path: Path, x: Any, labels: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FEATURE_NAMES, "season_type", "note"])
        for row, label in zip(x, labels, strict=True):
            writer.writerow([*(f"{v:.3f}" for v in row), label, "ignored"])


def test_from_csv_trains_a_loadable_model_on_labelled_rows(tmp_path):
    rules = Rules.load()
    x = sample_population(4000, np.random.default_rng(5), broad_share=0.5)
    labels = [SEASON_TYPE_IDS[i] for i in rules.label_indices(x)]
    labelled = tmp_path / "labelled.csv"
    _write_csv(labelled, x, labels)
    out = tmp_path / "model"
    assert build.main(["--from-csv", str(labelled), "--out-dir", str(out)]) == 0
    card = json.loads((out / build.CARD_FILE).read_text(encoding="utf-8"))
    assert card["training"]["source"] == "csv"
    assert card["training"]["samples"] == 4000
    assert card["metrics"]["training_rows_fit"]["type"] > 0.8
    result = SeasonClassifier.from_path(out / build.MODEL_FILE).predict_batch(x[:5])
    assert len(result) == 5


def test_from_csv_refuses_rows_missing_types_or_columns(tmp_path):
    x = sample_population(50, np.random.default_rng(5))
    partial = tmp_path / "partial.csv"
    _write_csv(partial, x, ["spring_warm_light"] * len(x))
    with pytest.raises(SystemExit, match="missing"):
        build.main(["--from-csv", str(partial), "--out-dir", str(tmp_path / "out")])
    unknown = tmp_path / "unknown.csv"
    _write_csv(unknown, x, ["spring_warm_pastel"] * len(x))
    with pytest.raises(SystemExit, match="unknown season_type"):
        build.main(["--from-csv", str(unknown), "--out-dir", str(tmp_path / "out")])
    no_label = tmp_path / "no_label.csv"
    no_label.write_text(",".join(FEATURE_NAMES) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="missing columns"):
        build.main(["--from-csv", str(no_label), "--out-dir", str(tmp_path / "out")])
