"""The documented rules: every type reachable, each axis moves the way the model card says, and
every threshold comes from the data file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from models.rules import RULES_PATH, Rules
from models.synthetic import feature_matrix, sample_population
from pipeline.features import FEATURE_NAMES
from pipeline.seasons import SEASON_TYPE_IDS, season_type


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load()


@pytest.fixture(scope="module")
def population() -> Any:
    return sample_population(20_000, np.random.default_rng(11))


def column(name: str) -> int:
    return FEATURE_NAMES.index(name)


def test_every_type_is_reachable_in_the_realistic_population(rules, population):
    shares = np.bincount(rules.label_indices(population), minlength=16) / len(population)
    assert (shares > 0.005).all(), dict(zip(SEASON_TYPE_IDS, shares.round(3), strict=True))


def test_pink_versus_golden_skin_decides_undertone():
    rules = Rules.load()
    eyes = np.array([[16.0, 6.0, 0.8]])  # the measured population's median iris, hair and lips
    hair = np.array([[19.0, 4.0, 1.0]])
    lips = np.array([[56.5, 33.0, 9.1]])
    golden = feature_matrix(np.array([[80.0, 5.0, 14.0]]), eyes, hair, np.ones(1), lips)
    pink = feature_matrix(np.array([[80.0, 16.0, 8.0]]), eyes, hair, np.ones(1), lips)
    assert season_type(rules.label(golden)).is_warm
    assert not season_type(rules.label(pink)).is_warm


def test_each_axis_moves_the_way_the_card_says(rules, population):
    base = rules.axis_scores(population)
    warmer = population.copy()
    warmer[:, column("skin_h")] += 5
    lighter = population.copy()
    lighter[:, column("skin_ita")] += 10
    clearer = population.copy()
    clearer[:, column("eye_C")] += 4
    assert (rules.axis_scores(warmer).undertone > base.undertone).all()
    assert (rules.axis_scores(lighter).value > base.value).all()
    assert (rules.axis_scores(clearer).chroma > base.chroma).all()
    warm_before = np.isin(rules.label_indices(population) // 4, [0, 2])
    warm_after = np.isin(rules.label_indices(warmer) // 4, [0, 2])
    assert (warm_after >= warm_before).all()


def test_missing_hair_ignores_the_hair_columns(rules):
    row = sample_population(1, np.random.default_rng(1))
    row[:, column("hair_present")] = 0.0
    other = row.copy()
    for name in ("hair_L", "hair_a", "hair_b", "hair_C", "contrast_skin_hair_L"):
        other[:, column(name)] += 17.0
    for axis in ("undertone", "value", "chroma"):
        assert getattr(rules.axis_scores(row), axis) == pytest.approx(getattr(rules.axis_scores(other), axis))


def _edited_rules(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_thresholds_come_from_the_data_file(tmp_path, population):
    def all_cool(data):
        data["axes"]["undertone"]["threshold"] = 100.0

    labels = Rules.load(_edited_rules(tmp_path, all_cool)).label_indices(population)
    assert set(np.unique(labels // 4)) <= {1, 3}


def test_rules_refuse_an_unknown_feature(tmp_path):
    def unknown(data):
        data["axes"]["value"]["terms"]["forehead_L"] = {"weight": 0.1, "ref": 60, "scale": 5}

    with pytest.raises(ValueError, match="forehead_L"):
        Rules.load(_edited_rules(tmp_path, unknown))
