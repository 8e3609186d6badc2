"""The season calibration recovers a known decision and keeps the rules' documented signs."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from models.calibrate import calibrate_rules, fit_axis, predict_seasons, rules_from_document
from models.rules import RULES_PATH, Rules
from models.synthetic import FloatArray, sample_population


@pytest.fixture(scope="module")
def population() -> FloatArray:
    return sample_population(3000, np.random.default_rng(7))


def test_calibration_recovers_the_seasons_of_known_rules(population: FloatArray) -> None:
    truth = Rules.load()
    seasons = predict_seasons(truth, population)

    calibrated = rules_from_document(calibrate_rules(population, seasons))

    agreement = np.mean(np.array(predict_seasons(calibrated, population)) == np.array(seasons))
    assert agreement > 0.9


def test_fitted_weights_keep_the_documented_signs(population: FloatArray) -> None:
    spec = yaml.safe_load(RULES_PATH.read_text())["axes"]["undertone"]["terms"]
    # A label that a sign-free fit would explain with a negative hue weight: "warm" = pinker skin.
    hue = population[:, 4]
    fit = fit_axis(population, hue < np.median(hue), spec)

    for name, term in fit.terms.items():
        assert np.sign(term["weight"]) in (0.0, np.sign(spec[name]["weight"])), name
    assert fit.terms["skin_h"]["weight"] >= 0.0


def test_calibrated_document_is_a_valid_rules_file(population: FloatArray) -> None:
    seasons = predict_seasons(Rules.load(), population)
    doc = calibrate_rules(population, seasons)

    rules = rules_from_document(doc)

    assert set(doc["seasons"]) == {"spring", "summer", "autumn", "winter"}
    assert len(rules.label_indices(population[:10])) == 10
