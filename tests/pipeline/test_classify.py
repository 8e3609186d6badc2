"""The shipped ONNX classifier: its contract at load time, its batch API, and how it responds to
real measurements of the astronaut photo moved along each colour axis (metamorphic tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from pipeline.classify import DEFAULT_MODEL_PATH, SeasonClassifier, TypeProbabilities
from pipeline.errors import ErrorCode, PipelineError
from pipeline.features import FEATURE_NAMES, ColorFeatures
from pipeline.seasons import SEASON_TYPE_IDS, season_type
from tests.pipeline.measured_faces import astronaut_features, with_eyes, with_hair, with_lips, with_skin


@pytest.fixture(scope="module")
def classifier() -> SeasonClassifier:
    return SeasonClassifier.from_path()


def probabilities(classifier: SeasonClassifier, variants: list[ColorFeatures]) -> list[TypeProbabilities]:
    return classifier.predict_batch(np.stack([f.to_vector() for f in variants]))


def share(result: TypeProbabilities, predicate) -> float:
    return sum(p for type_id, p in result.as_dict().items() if predicate(season_type(type_id)))


def assert_rising(values: list[float], total_rise: float, tolerance: float = 1e-4) -> None:
    steps = np.diff(values)
    assert (steps > -tolerance).all(), f"not monotonic: {np.round(values, 4)}"
    assert values[-1] - values[0] > total_rise, f"too flat: {np.round(values, 4)}"


def test_batch_returns_sixteen_probabilities_per_row_summing_to_one(classifier):
    x = np.stack([astronaut_features().to_vector()] * 3)
    results = classifier.predict_batch(x)
    assert len(results) == 3
    for result in results:
        assert len(result.probabilities) == len(SEASON_TYPE_IDS)
        assert sum(result.probabilities) == pytest.approx(1.0, abs=1e-4)
        assert result.best[1] >= result.runner_up[1]
        assert result.best[0] != result.runner_up[0]
    assert results[0].probabilities == results[2].probabilities
    assert classifier.predict_batch(np.empty((0, len(FEATURE_NAMES)))) == []


def test_a_season_first_decision_ranks_its_own_tones_next_so_the_runner_up_is_never_more_probable():
    # The first season holds 0.40 spread over four tones; the second 0.35 on one tone. The model
    # decided the first season's first tone (0.16): the 0.35 type must not be its runner-up.
    probabilities = (0.16, 0.12, 0.07, 0.05, 0.35, 0.0, 0.0, 0.0, 0.10, 0.05, 0.05, 0.05) + (0.0,) * 4
    result = TypeProbabilities(probabilities, decided=0)
    ranked = [type_id for type_id, _ in result.ranked()]
    assert ranked[:4] == list(SEASON_TYPE_IDS[:4])
    assert ranked[4] == SEASON_TYPE_IDS[4]  # then the second season (0.35) before the third (0.25)
    assert ranked[5:8] == list(SEASON_TYPE_IDS[5:8])
    assert result.best == (SEASON_TYPE_IDS[0], 0.16) and result.runner_up == (SEASON_TYPE_IDS[1], 0.12)
    # Without a decision the ranking is by probability alone.
    assert TypeProbabilities(probabilities).best == (SEASON_TYPE_IDS[4], 0.35)


def test_batch_and_single_predictions_agree(classifier):
    rng = np.random.default_rng(3)
    x = astronaut_features().to_vector() + rng.normal(0, 3, size=(32, len(FEATURE_NAMES))).astype(np.float32)
    x[:, FEATURE_NAMES.index("hair_present")] = 1.0
    batch = classifier.predict_batch(x)
    singles = [classifier.predict_batch(row[None, :])[0] for row in x]
    for one, many in zip(singles, batch, strict=True):
        np.testing.assert_allclose(one.probabilities, many.probabilities, atol=1e-5)


def test_wrong_vector_shape_is_a_clear_error(classifier):
    with pytest.raises(ValueError, match="feature vectors"):
        classifier.predict_batch(np.zeros((2, len(FEATURE_NAMES) - 1)))
    with pytest.raises(ValueError, match="finite"):
        classifier.predict_batch(np.full((1, len(FEATURE_NAMES)), np.nan))


def skin_decides(features: ColorFeatures) -> ColorFeatures:
    """The astronaut with iris b* and hair and lip a*, b* moved to their population medians.

    Her measured iris and hair are so golden that they alone make her warm; with them neutral, the
    skin decides the undertone and a change of skin b* can show.
    """
    (el, ea, _), (hl, _, _) = features.eyes.lab, features.hair.lab if features.hair else features.eyes.lab
    ll, _, _ = features.lips.lab
    return with_lips(with_hair(with_eyes(features, el, ea, 0.8), hl, 3.3, 1.0), ll, 34.1, 9.1)


def test_warmer_skin_raises_the_warm_seasons(classifier):
    measured = astronaut_features()
    L, a, b = measured.skin.lab
    warm_measured = [
        share(r, lambda t: t.is_warm)
        for r in probabilities(classifier, [with_skin(measured, L, a, b + d) for d in range(-8, 5, 2)])
    ]
    assert_rising(warm_measured, total_rise=-1e-4)  # already warm: it may only rise
    base = skin_decides(measured)
    variants = [with_skin(base, L, a, b + delta) for delta in range(-14, 7, 2)]
    warm = [share(r, lambda t: t.is_warm) for r in probabilities(classifier, variants)]
    # The direction is the guarantee: a yellower skin never lowers the warm share. The amount is
    # the season head's, learned from the labelled photos (models/MODEL_CARD.md): it weighs iris
    # and hair colour beside the skin, so skin b* alone moves the warm share by about 0.23 over
    # this range (the rules-only model, where skin carried the undertone, moved it by over 0.3).
    assert_rising(warm, total_rise=0.2)


def test_confidence_falls_off_across_a_boundary_instead_of_jumping(classifier):
    """Beside the warm/cool boundary the model must be unsure, not flip from 0 to 1."""
    base = skin_decides(astronaut_features())
    L, a, b = base.skin.lab
    variants = [with_skin(base, L, a, b + delta / 2) for delta in range(-30, 21)]
    warm = [share(r, lambda t: t.is_warm) for r in probabilities(classifier, variants)]
    # No jump: half a unit of skin b* moves the warm share by a few points at most. (The
    # rules-only model also had to go from under 10% to over 90% warm on skin alone; the learned
    # season head leans on iris and hair as much as on the skin, so with those at the population
    # medians skin b* from -5 to +20 takes it from about 0.24 to 0.51: rising, never jumping.)
    assert np.abs(np.diff(warm)).max() < 0.05, np.round(warm, 3)
    assert max(warm) - min(warm) > 0.2, np.round(warm, 3)
    assert sum(0.2 < p < 0.8 for p in warm) >= 2, np.round(warm, 3)


def test_lighter_skin_raises_the_light_sub_types(classifier):
    base = astronaut_features()
    L, a, b = base.skin.lab
    # From deep skin up to the light end of the photographed population (skin L* p95 about 90 at
    # the sclera-referenced exposure); the astronaut herself sits in the middle.
    variants = [with_skin(base, L + delta, a, b) for delta in range(-30, 16, 3)]
    results = probabilities(classifier, variants)
    # The tone inside the season is the rules' (value: skin ITA first, issue 4): in the season the
    # model decides, a lighter skin raises the lighter tones (light, bright) monotonically.
    seasons = {season_type(r.best[0]).season for r in results}
    assert len(seasons) == 1, seasons
    (season,) = seasons
    lighter = [
        share(r, lambda t: t.season == season and t.is_lighter_tone) / share(r, lambda t: t.season == season)
        for r in results
    ]
    # (A share inside one season, saturated near 1 here: the MLP's float noise there is about 2e-4.)
    assert_rising(lighter, total_rise=0.3, tolerance=5e-4)
    # Not asserted any more: that the light *seasons* rise too. The season is the learned head's,
    # and with hair and eyes unchanged a lighter skin is also a stronger skin-hair and skin-eye
    # contrast, which the labelled photos tie to the deep seasons (the head's light-vs-deep weights:
    # skin ITA +0.8, skin L* -0.6, both contrasts -0.6 to -0.7; MODEL_CARD.md). Here the light-season
    # share rises from 0.36 to 0.48 up to the astronaut's own skin L* - 12, then falls to 0.20.
    light_season = [share(r, lambda t: t.is_light_season) for r in results]
    assert max(light_season) - light_season[0] > 0.05, np.round(light_season, 3)


def test_higher_chroma_raises_the_bright_sub_types(classifier):
    base = astronaut_features()
    (sl, sa, sb), (el, ea, eb) = base.skin.lab, base.eyes.lab
    factors = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    variants = [with_eyes(with_skin(base, sl, sa * k, sb * k), el, ea * k, eb * k) for k in factors]
    clear = [share(r, lambda t: t.is_clear) for r in probabilities(classifier, variants)]
    assert_rising(clear, total_rise=0.3)


def _rewritten(tmp_path: Path, name: str, **metadata: str | None) -> Path:
    model = onnx.load(str(DEFAULT_MODEL_PATH))
    props = {p.key: p.value for p in model.metadata_props}
    for key, value in metadata.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def assert_refused(path: Path, *fragments: str) -> None:
    with pytest.raises(PipelineError) as caught:
        SeasonClassifier.from_path(path)
    assert caught.value.code is ErrorCode.MODEL_MISMATCH
    for fragment in fragments:
        assert fragment in caught.value.message
    assert caught.value.details["model_path"] == str(path)


def test_model_for_another_feature_version_is_refused(tmp_path):
    assert_refused(_rewritten(tmp_path, "v99.onnx", feature_version="99"), "feature version 99")


def test_model_with_other_classes_is_refused(tmp_path):
    classes = json.dumps([*SEASON_TYPE_IDS[:-1], "winter_cool_dark"])
    assert_refused(_rewritten(tmp_path, "classes.onnx", classes=classes), "classes")


def test_model_with_other_feature_names_is_refused(tmp_path):
    names = json.dumps(list(reversed(FEATURE_NAMES)))
    assert_refused(_rewritten(tmp_path, "names.onnx", feature_names=names), "feature names")


def test_model_without_contract_metadata_is_refused(tmp_path):
    assert_refused(_rewritten(tmp_path, "bare.onnx", classes=None, feature_version=None), "metadata lacks")


def test_corrupt_or_missing_model_is_refused(tmp_path):
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(DEFAULT_MODEL_PATH.read_bytes()[:500])
    assert_refused(truncated, "not a valid ONNX model")
    assert_refused(tmp_path / "absent.onnx", "does not exist")


def test_class_order_of_a_dropped_in_model_is_respected(tmp_path, classifier):
    """A model listing the same classes in another order must give the same answers by id."""
    model = onnx.load(str(DEFAULT_MODEL_PATH))
    # Reverse the class order at the graph's outputs (any model: the shipped one is a composed
    # graph, not one MLP whose last layer could be reversed): probabilities[:, ::-1], 15 - label.
    graph = model.graph
    label, probs = graph.output[0].name, graph.output[1].name
    for node in graph.node:
        node.output[:] = [f"inner_{name}" if name in (label, probs) else name for name in node.output]
        node.input[:] = [f"inner_{name}" if name in (label, probs) else name for name in node.input]
    graph.initializer.extend(
        [
            onnx.numpy_helper.from_array(np.arange(15, -1, -1, dtype=np.int64), "reversed_order"),
            onnx.numpy_helper.from_array(np.array(15, dtype=np.int64), "last_class"),
        ]
    )
    graph.node.extend(
        [
            onnx.helper.make_node("Gather", [f"inner_{probs}", "reversed_order"], [probs], axis=1),
            onnx.helper.make_node("Sub", ["last_class", f"inner_{label}"], [label]),
        ]
    )
    path = _rewritten_model(
        model, tmp_path / "reversed.onnx", classes=json.dumps(list(reversed(SEASON_TYPE_IDS)))
    )
    reordered = SeasonClassifier.from_path(path)
    x = astronaut_features().to_vector()[None, :]
    expected, got = classifier.predict_batch(x)[0], reordered.predict_batch(x)[0]
    for type_id in SEASON_TYPE_IDS:
        assert got.as_dict()[type_id] == pytest.approx(expected.as_dict()[type_id], abs=1e-5)
    assert got.best[0] == expected.best[0]


def _rewritten_model(model: onnx.ModelProto, path: Path, **metadata: str) -> Path:
    for entry in model.metadata_props:
        if entry.key in metadata:
            entry.value = metadata[entry.key]
    onnx.save(model, str(path))
    return path


def test_thread_settings_are_configurable():
    classifier = SeasonClassifier.from_path(intra_op_threads=2, inter_op_threads=1)
    result = classifier.predict_batch(astronaut_features().to_vector()[None, :])[0]
    assert sum(result.probabilities) == pytest.approx(1.0, abs=1e-4)


def test_runtime_never_imports_the_build_dependencies():
    code = (
        "import sys, pipeline.classify, pipeline.diagnosis, pipeline.curation;"
        "build_only = ('sklearn', 'skl2onnx', 'onnx', 'models');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in build_only))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
