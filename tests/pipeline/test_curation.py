"""The palettes and curation data file: complete, valid, and refused when broken."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from pipeline.color import hex_to_lab
from pipeline.curation import DEFAULT_CURATION_PATH, Curation, CurationDataError, parse_curation
from pipeline.seasons import SEASON_TYPE_IDS, season_type


@pytest.fixture(scope="module")
def raw() -> Any:
    return yaml.safe_load(DEFAULT_CURATION_PATH.read_text(encoding="utf-8"))


def test_shipped_data_covers_all_sixteen_types_in_both_languages():
    curation = Curation.load()
    assert sorted(curation.types) == sorted(SEASON_TYPE_IDS)
    for type_id, entry in curation.types.items():
        assert 8 <= len(entry.main) <= 12
        assert 4 <= len(entry.worst) <= 6
        assert not set(entry.main) & set(entry.worst)
        assert entry.thumbnail in entry.main
        assert entry.summary.ko and entry.summary.en
        assert set(entry.makeup) == {"lip", "blush", "eyeshadow"}, type_id


def test_warm_palettes_lean_yellow_and_cool_palettes_lean_blue():
    """Mean b* of the main colours: warm types above cool types of the same tone."""
    curation = Curation.load()

    def mean_b(type_id: str) -> float:
        return float(
            sum(hex_to_lab(c)[2] for c in curation.for_type(type_id).main)
            / len(curation.for_type(type_id).main)
        )

    for tone in ("light", "bright", "mute", "deep"):
        assert mean_b(f"spring_warm_{tone}") > mean_b(f"summer_cool_{tone}")
        assert mean_b(f"autumn_warm_{tone}") > mean_b(f"winter_cool_{tone}")
    assert season_type("spring_warm_light").is_warm


def refused(data: Any, fragment: str) -> None:
    with pytest.raises(CurationDataError, match=fragment):
        parse_curation(data, "test")


def test_missing_type_is_refused(raw):
    data = copy.deepcopy(raw)
    del data["types"]["winter_cool_deep"]
    refused(data, "winter_cool_deep")


def test_invalid_hex_is_refused(raw):
    data = copy.deepcopy(raw)
    data["types"]["spring_warm_light"]["main"][0] = "#ff00zz"
    refused(data, "spring_warm_light.main")


def test_colour_both_best_and_worst_is_refused(raw):
    data = copy.deepcopy(raw)
    entry = data["types"]["summer_cool_mute"]
    entry["worst"][0] = entry["main"][2]
    refused(data, "both as main and worst")


def test_missing_translation_is_refused(raw):
    data = copy.deepcopy(raw)
    del data["types"]["autumn_warm_deep"]["makeup"]["lip"]["advice"]["en"]
    refused(data, "autumn_warm_deep.makeup.lip.advice")


def test_wrong_palette_size_is_refused(raw):
    data = copy.deepcopy(raw)
    data["types"]["autumn_warm_mute"]["main"] = data["types"]["autumn_warm_mute"]["main"][:5]
    refused(data, "expected 8-12")


def test_missing_explanation_template_is_refused(raw):
    data = copy.deepcopy(raw)
    del data["explanations"]["chroma"]["soft"]
    refused(data, "explanations.chroma.soft")
