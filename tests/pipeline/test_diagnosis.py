"""The diagnosis a person receives, built from real measurements of the astronaut photo."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from models.calibrate import active_rules_path
from models.rules import Rules
from pipeline.diagnosis import Diagnoser, ita_category
from pipeline.regions import HairSource
from pipeline.seasons import SEASON_TYPE_IDS
from tests.pipeline.measured_faces import astronaut_features


class Lighting:
    """A lighting report as the normalize stage hands it over (only `to_dict` is used)."""

    def to_dict(self) -> dict[str, Any]:
        return {"score": 91.5, "problems": (), "illuminant": (0.33, 0.34, 0.33)}


@pytest.fixture(scope="module")
def diagnoser() -> Diagnoser:
    return Diagnoser.load()


def test_diagnosis_holds_everything_the_person_sees(diagnoser):
    diagnosis = diagnoser.diagnose(astronaut_features(), Lighting(), lang="en")
    body = json.loads(json.dumps(diagnosis.to_dict()))
    assert body["season_type"] in SEASON_TYPE_IDS
    assert body["season_type"].startswith(body["season"])
    assert body["type_name"]["en"] and body["type_name"]["ko"]
    assert 0 < body["confidence"] <= 1
    assert body["runner_up"]["season_type"] != body["season_type"]
    assert body["runner_up"]["confidence"] <= body["confidence"]
    assert 8 <= len(body["main_colors"]) <= 12 and 4 <= len(body["worst_colors"]) <= 6
    assert body["thumbnail_color"].startswith("#")
    assert set(body["makeup"]) == {"lip", "blush", "eyeshadow"}
    assert body["hair"]["colors"][0]["hex"].startswith("#")
    assert body["measured"]["skin"]["hex"] == astronaut_features().skin.hex
    assert len(body["measured"]["skin"]["lab"]) == 3
    assert body["lighting"]["score"] == 91.5
    assert body["model_version"] == diagnoser.model_version
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)


def test_explanation_states_the_measured_numbers(diagnoser):
    features = astronaut_features()
    explanation = diagnoser.diagnose(features, lang="en").explanation
    assert explanation["undertone"]["verdict"] in ("warm", "cool")
    assert f"{features.skin.hue_deg:.0f}°" in explanation["undertone"]["text"]
    assert f"ITA {features.skin_ita:.0f}°" in explanation["value"]["text"]
    assert f"{features.skin.chroma:.1f}" in explanation["chroma"]["text"]
    assert explanation["value"]["numbers"]["skin_L"] == pytest.approx(features.skin.L, abs=0.01)


def test_the_explanation_says_what_decided_the_season(diagnoser):
    """With the learned season head the undertone text credits the learned model, not one colour."""
    explanation = diagnoser.diagnose(astronaut_features(), lang="en").explanation["undertone"]
    if diagnoser.classifier.season_decision == "learned":
        assert explanation["decided_by"] == "learned_season_model"
        assert "model learned from labelled portraits" in explanation["text"]
        assert "Together with your hair and eyes" not in explanation["text"]
    else:
        assert explanation["decided_by"] == "rules"
    ko = diagnoser.diagnose(astronaut_features(), lang="ko").explanation["undertone"]["text"]
    assert ("학습한 모델" in ko) == (diagnoser.classifier.season_decision == "learned")


def test_the_undertone_explanation_shows_every_term_the_model_weighs(diagnoser):
    """A person told "cool" should see the colours behind it, lips and hair included: the rules'
    undertone terms (with the learned head, which weighs all 21 features, the main measured cues)."""
    terms = {term.feature for term in Rules.load(active_rules_path()).terms["undertone"]}
    features = astronaut_features()
    numbers = diagnoser.diagnose(features, lang="en").explanation["undertone"]["numbers"]
    assert terms <= set(numbers)
    assert numbers["lips_a"] == pytest.approx(features.lips.a, abs=0.01)


def test_language_switches_every_text_but_not_the_result(diagnoser):
    ko = diagnoser.diagnose(astronaut_features(), lang="ko")
    en = diagnoser.diagnose(astronaut_features(), lang="en")
    assert ko.season_type == en.season_type and ko.main_colors == en.main_colors
    assert ko.summary != en.summary
    assert ko.explanation["undertone"]["text"] != en.explanation["undertone"]["text"]
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko.makeup["lip"]["advice"])
    with pytest.raises(ValueError, match="language"):
        diagnoser.diagnose(astronaut_features(), lang="fr")


def test_missing_hair_is_reported_not_invented(diagnoser):
    features = replace(astronaut_features(), hair=None, hair_source=HairSource.NONE)
    diagnosis = diagnoser.diagnose(features, lang="en")
    assert diagnosis.measured["hair"] is None
    assert diagnosis.explanation["hair"]["verdict"] == "missing"
    assert "hair_L" not in diagnosis.explanation["value"]["numbers"]


def test_batch_matches_single_diagnoses(diagnoser):
    features = astronaut_features()
    no_hair = replace(features, hair=None, hair_source=HairSource.NONE)
    batch = diagnoser.diagnose_batch([(features, None), (no_hair, Lighting())], lang="ko")
    assert [d.to_dict() for d in batch] == [
        diagnoser.diagnose(features, None, "ko").to_dict(),
        diagnoser.diagnose(no_hair, Lighting(), "ko").to_dict(),
    ]
    assert diagnoser.diagnose_batch([], lang="ko") == []


def test_ita_categories_follow_chardon():
    assert [ita_category(v) for v in (60, 50, 30, 20, 0, -40)] == [
        "very_light",
        "light",
        "intermediate",
        "tan",
        "brown",
        "dark",
    ]
