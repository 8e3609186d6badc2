"""The composed model: the learned season head decides the season, the rules MLP the tone in it.

Everything runs through ONNX Runtime on real inputs: the committed model on the astronaut's
measured features (and variants of them), and `compose` on a head and an MLP trained here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import pytest

from models import build, season_head
from models.figures import CastFigures, Figures
from models.fitters import logistic
from models.rules import Rules
from models.synthetic import sample_population
from pipeline.classify import DEFAULT_MODEL_PATH, SeasonClassifier
from pipeline.features import FEATURE_NAMES
from pipeline.regions import HairSource
from pipeline.seasons import SEASON_TYPE_IDS
from tests.pipeline.measured_faces import astronaut_features, with_eyes, with_hair, with_skin


def with_inner_outputs(model: onnx.ModelProto, *names: str) -> ort.InferenceSession:
    """A session that also returns the named intermediate tensors of `model`."""
    extended = onnx.ModelProto()
    extended.CopyFrom(model)
    for name in names:
        extended.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return ort.InferenceSession(extended.SerializeToString(), providers=["CPUExecutionProvider"])


def measured_variants() -> npt.NDArray[np.float32]:
    """The astronaut's measured features, without hair, and moved along skin, iris and hair colour."""
    f = astronaut_features()
    (sl, sa, sb), (el, ea, eb) = f.skin.lab, f.eyes.lab
    hl, ha, hb = f.hair.lab if f.hair is not None else f.eyes.lab
    variants = [f, replace(f, hair=None, hair_source=HairSource.NONE)]
    variants += [with_skin(f, sl + d, sa, sb - d / 3) for d in (-20, -10, 10)]
    variants += [with_eyes(f, el, ea, eb + d) for d in (-6, 6)]
    variants += [with_hair(f, hl + d, ha - d / 4, hb - d / 2) for d in (-10, 15, 30)]
    return np.stack([v.to_vector() for v in variants])


def check_composition(
    session: ort.InferenceSession, x: npt.NDArray[np.floating[Any]], logits: str
) -> npt.NDArray[np.float32]:
    """The contract and the composition rule on rows `x`; returns the head's probabilities."""
    label, probabilities, head, mlp_logits = session.run(
        ["label", "probabilities", "head_season_probabilities", logits], {"features": x.astype(np.float32)}
    )
    assert label.dtype == np.int64 and label.shape == (len(x),)
    assert probabilities.dtype == np.float32 and probabilities.shape == (len(x), 16)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    by_season = probabilities.reshape(-1, 4, 4)
    # The season marginal is the head's, and its argmax is the diagnosed season.
    np.testing.assert_allclose(by_season.sum(axis=2), head, atol=1e-6)
    assert (label // 4 == head.argmax(axis=1)).all()
    # Inside each season the split is the MLP's: P_mlp(s, k) / sum_k' P_mlp(s, k'), the softmax of
    # the season's own four logits.
    by_logits = np.asarray(mlp_logits, dtype=np.float64).reshape(-1, 4, 4)
    tone_given_season = np.exp(by_logits - by_logits.max(axis=2, keepdims=True))
    tone_given_season /= tone_given_season.sum(axis=2, keepdims=True)
    np.testing.assert_allclose(by_season, head[:, :, None] * tone_given_season, atol=1e-6)
    tones = tone_given_season[np.arange(len(x)), label // 4].argmax(axis=1)
    assert (label % 4 == tones).all()
    return np.asarray(head)


@pytest.fixture(scope="module")
def card() -> Any:
    return json.loads((DEFAULT_MODEL_PATH.parent / build.CARD_FILE).read_text(encoding="utf-8"))


def test_the_class_order_is_season_major_with_four_tones() -> None:
    season_head.check_class_order()
    assert SEASON_TYPE_IDS[:4] == tuple(f"spring_warm_{t}" for t in ("light", "bright", "mute", "deep"))
    assert [t.split("_")[0] for t in SEASON_TYPE_IDS[::4]] == list(season_head.SEASON_ORDER)


def test_committed_model_lets_the_head_decide_the_season_and_the_mlp_the_tone(card) -> None:
    assert card["season_head"]["decision"] == "learned"
    classifier = SeasonClassifier.from_path()
    assert classifier.season_decision == "learned"
    x = measured_variants()
    model = onnx.load(str(DEFAULT_MODEL_PATH))
    logits = next(n.input[0] for n in model.graph.node if n.output[0] == "compose_logits_by_season")
    session = with_inner_outputs(model, "head_season_probabilities", logits)
    head = check_composition(session, x, logits)
    # The service's answer (SeasonClassifier, as the diagnosis reads it) is the same decision.
    results = classifier.predict_batch(x)
    for result, row in zip(results, head, strict=True):
        assert sum(result.probabilities) == pytest.approx(1.0, abs=1e-5)
        assert result.best[0].split("_")[0] == season_head.SEASON_ORDER[int(row.argmax())]


def test_compose_on_a_head_and_an_mlp_trained_here() -> None:
    """`compose` itself, on models fitted in the test (no labelled photo needed)."""
    rules = Rules.load()
    x = sample_population(6000, np.random.default_rng(11), broad_share=0.5)
    labels = rules.label_indices(x)
    mlp = build.train(build.TrainingData(x, labels, {"source": "test"}), seed=3)
    seasons = np.array(season_head.SEASON_ORDER)[labels // 4]
    head = logistic()
    head.fit(x, seasons)
    composed = season_head.compose(
        season_head.export_head(head, build.INPUT_NAME, build.TARGET_OPSET),
        build.mlp_to_onnx(mlp),
        build.INPUT_NAME,
    )
    logits = next(n.input[0] for n in composed.graph.node if n.output[0] == "compose_logits_by_season")
    session = with_inner_outputs(composed, "head_season_probabilities", logits)
    probe = sample_population(500, np.random.default_rng(12), broad_share=1.0)
    head_onnx = check_composition(session, probe, logits)
    expected = head.predict_proba(probe)[:, [list(head.classes_).index(s) for s in season_head.SEASON_ORDER]]
    np.testing.assert_allclose(head_onnx, expected, atol=1e-4)
    # The MLP's own logits are the ones sklearn computes (the graph read the right tensor).
    mlp_logits = session.run([logits], {"features": probe.astype(np.float32)})[0]
    np.testing.assert_allclose(mlp_logits, build._logits(mlp, probe), rtol=1e-3, atol=1e-3)


def test_card_records_the_selection_and_its_figures(card) -> None:
    head = card["season_head"]
    sets = head["data"]["sets"]
    assert sets["armocromia-train"]["photos"] == 1940 and sets["seasons-train"]["photos"] == 206
    assert set(head["cross_source"]) == {
        "armocromia-train -> seasons-train",
        "seasons-train -> armocromia-train",
    }
    names = [c["name"] for c in head["selection"]["candidates"]]
    assert names == [c.name for c in season_head.HEAD_CANDIDATES]
    # The recorded choice is what the pre-registered rule picks from the recorded figures.
    evaluated = [
        season_head.Evaluated(
            candidate,
            Figures(
                photos=c["photos"],
                season_all=c["season_all"],
                season_diagnosed=c["season_diagnosed"],
                warm_cool_all=c["warm_cool_all"],
                warm_cool_diagnosed=c["warm_cool_diagnosed"],
                refused=c["refused"],
                refused_by_code=c["refused_by_code"],
                casts={n: CastFigures(v["kept"], v["refused"]) for n, v in c["casts"].items()},
            ),
        )
        for candidate, c in zip(season_head.HEAD_CANDIDATES, head["selection"]["candidates"], strict=True)
    ]
    assert season_head.choose(evaluated).candidate.name == head["method"] == head["selection"]["chosen"]
    chosen = next(c for c in head["selection"]["candidates"] if c["name"] == head["method"])
    assert head["person_grouped_cv"]["season_all"] == chosen["season_all"]
    assert head["selection"]["constraint_met"] == chosen["keeps_constraint"]
    text = (DEFAULT_MODEL_PATH.parent / build.MARKDOWN_FILE).read_text(encoding="utf-8")
    assert head["method"] in text and "Cross-source" in text


def test_choose_prefers_accuracy_among_stable_candidates_else_the_closest() -> None:
    def evaluated(name: str, accuracy: float, kept: float) -> season_head.Evaluated:
        casts = {c: CastFigures(kept, 0.0) for c in season_head.STABILITY_CASTS}
        candidate = season_head.HeadCandidate(name, season_head.HEAD_CANDIDATES[0].fitter, None)
        return season_head.Evaluated(candidate, Figures(100, accuracy, accuracy, 0.5, 0.5, 0.0, {}, casts))

    steady, better_unsteady = evaluated("steady", 0.40, 0.96), evaluated("unsteady", 0.50, 0.94)
    assert season_head.choose([better_unsteady, steady]).candidate.name == "steady"
    closer = evaluated("closer", 0.30, 0.945)
    assert season_head.choose([better_unsteady, closer]).candidate.name == "closer"


def test_build_needs_the_labelled_measurements_or_says_so(tmp_path) -> None:
    with pytest.raises(SystemExit, match="--rules-only"):
        build.load_labelled(tmp_path / "absent.jsonl")


def test_the_features_never_carry_nan_so_the_head_imputer_never_fires() -> None:
    """Missing hair is encoded (hair_present 0, eye colour in the hair columns), never NaN: the
    head's median imputer only mirrors the benchmark's pipeline."""
    vector = replace(astronaut_features(), hair=None, hair_source=HairSource.NONE).to_vector()
    assert np.isfinite(vector).all() and vector[FEATURE_NAMES.index("hair_present")] == 0.0
