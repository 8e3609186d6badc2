"""The season calibration recovers a known decision and keeps the rules' documented signs."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from models.calibrate import (
    LIP_TERMS,
    MAX_SHARE,
    AxisFit,
    calibrate_rules,
    fit_axis,
    predict_seasons,
    rules_from_document,
)
from models.rules import RULES_PATH, Rules
from models.synthetic import sample_population
from pipeline.arrays import FloatArray
from pipeline.features import FEATURE_NAMES


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


def test_the_stability_penalty_moves_weight_to_the_term_the_light_does_not_move(
    population: FloatArray,
) -> None:
    """Two terms say equally much about warmth, but one (hair b*) changes from one lighting of the
    same photo to the next while the other (skin b*) stays put: penalising the spread of a photo's
    scores shifts the weight to the steady term, and the photo's scores spread less."""
    spec = yaml.safe_load(RULES_PATH.read_text())["axes"]["undertone"]["terms"]
    names = list(FEATURE_NAMES)
    rng = np.random.default_rng(11)
    photos_n, lightings = 300, 4
    warmth = rng.normal(0.0, 1.0, photos_n)
    rows = np.repeat(population[:photos_n], lightings, axis=0)
    photos = np.repeat(np.arange(photos_n), lightings)
    steady = warmth + rng.normal(0.0, 0.8, photos_n)  # one error per photo, the same in every light
    rows[:, names.index("skin_b")] = np.repeat(steady, lightings)
    rows[:, names.index("hair_b")] = warmth[photos] + rng.normal(0.0, 0.8, len(rows))  # new in each light
    rows[:, names.index("hair_present")] = 1.0
    warm = np.repeat(warmth > 0.0, lightings)

    plain = fit_axis(rows, warm, spec, photos, stability_penalty=0.0)
    penalised = fit_axis(rows, warm, spec, photos, stability_penalty=4.0)

    def share(fit: AxisFit) -> float:
        skin, hair = float(fit.terms["skin_b"]["weight"]), float(fit.terms["hair_b"]["weight"])
        return skin / (skin + hair)

    def spread(fit: AxisFit) -> float:
        z = {n: (rows[:, names.index(n)] - t["ref"]) / t["scale"] for n, t in fit.terms.items()}
        score = sum(t["weight"] * z[n] for n, t in fit.terms.items())
        return float(np.mean(np.var(np.asarray(score).reshape(photos_n, lightings), axis=1)))

    assert 0.35 < share(plain) < 0.65
    assert share(penalised) > share(plain) + 0.15
    assert spread(penalised) < 0.5 * spread(plain)


def test_lip_colour_never_carries_more_than_its_cap_of_the_undertone(
    population: FloatArray,
) -> None:
    """Even when lip colour alone explains the labels (as lipstick chosen for a season can on
    styled portraits), the lip terms keep to their share and the other terms carry the rest."""
    spec = yaml.safe_load(RULES_PATH.read_text())["axes"]["undertone"]["terms"]
    lips = LIP_TERMS
    lip_hue = population[:, FEATURE_NAMES.index("lips_b")] - population[:, FEATURE_NAMES.index("lips_a")]
    warm = lip_hue > np.median(lip_hue)

    def lip_share(fit: AxisFit) -> float:
        weights = {name: abs(float(term["weight"])) for name, term in fit.terms.items()}
        return sum(weights[name] for name in lips) / sum(weights.values())

    unbounded = lip_share(fit_axis(population, warm, spec, max_share={}))
    capped = lip_share(fit_axis(population, warm, spec))

    assert MAX_SHARE[lips] == pytest.approx(1 / 3)
    assert unbounded > 0.6
    assert capped == pytest.approx(MAX_SHARE[lips], abs=1e-3)
