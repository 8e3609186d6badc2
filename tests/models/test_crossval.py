"""Person-grouped folds, the service's gates in the figures, and the measurement cache's input check."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from models.crossval import LabelledData, Outcome, person_folds
from models.figures import figures
from models.labelled import MODERATE, NEUTRAL, Lighting, Measurement, Photo, face_gate, load_photos
from models.measurements import measure_cached
from pipeline.features import FEATURE_NAMES
from pipeline.landmark import LandmarkConfig
from pipeline.seasons import Season
from tests.support import faces


def photo(i: int, season: str, person: str, subtype: str | None = "deep") -> Photo:
    return Photo(Path(f"/nowhere/{i}.jpg"), season, "set", person, subtype, "named")


def test_folds_never_split_a_person_and_are_reproducible() -> None:
    rng = np.random.default_rng(3)
    seasons = [s.value for s in Season]
    photos = [photo(i, seasons[i % 4], f"p{rng.integers(0, 60)}") for i in range(300)]

    folds = person_folds(photos)

    assert len(folds) == 5
    for train, test in folds:
        assert not {photos[i].person for i in train} & {photos[i].person for i in test}
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(300))
    again = person_folds(photos)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


def measurement(status: str, yaw: float = 0.0) -> Measurement:
    ok = status == "ok"
    return Measurement(
        status=status,
        features=np.zeros(len(FEATURE_NAMES)) if ok else None,
        uncorrected=None,
        whole_lab=np.zeros(3),
        lighting_score=None,
        problems=(),
        pose=(yaw, 5.0, 0.0) if ok else None,
    )


def test_the_service_pose_limits_are_applied_to_the_recorded_pose() -> None:
    config = LandmarkConfig(max_yaw_deg=20.0)

    assert face_gate(measurement("ok", yaw=19.0), config) == "ok"
    assert face_gate(measurement("ok", yaw=-21.0), config) == "FACE_NOT_FRONTAL"
    assert face_gate(measurement("rejected"), config) == "POOR_LIGHTING_CONDITION"
    assert face_gate(measurement("EYES_NOT_VISIBLE"), config) == "EYES_NOT_VISIBLE"


def test_a_refusal_counts_as_wrong_over_all_photos_and_is_left_out_over_diagnosed() -> None:
    photos = [photo(i, s, f"p{i}") for i, s in enumerate(["spring", "summer", "autumn", "winter"])]
    answers = {
        NEUTRAL.name: ["spring", "summer", "winter", "refused:FACE_NOT_FRONTAL"],
        MODERATE[0].name: ["spring", "winter", "refused:POOR_LIGHTING_CONDITION", "refused:x"],
    }
    outcome = Outcome(answers=answers, probabilities=np.full((4, 4), np.nan), tones=[-1] * 4)

    f = figures(photos, outcome)

    assert f.season_all == pytest.approx(2 / 4)
    assert f.season_diagnosed == pytest.approx(2 / 3)
    assert f.warm_cool_all == pytest.approx(2 / 4)  # autumn -> winter is the wrong undertone
    assert f.refused_by_code == {"FACE_NOT_FRONTAL": 0.25}
    cast = f.casts[MODERATE[0].name]
    assert cast.refused == pytest.approx(1 / 3)  # of the three diagnosed under neutral light
    assert cast.kept == pytest.approx(1 / 2)  # of the two diagnosed under both


def features(by_lighting: dict[str, list[Measurement]], index: int) -> np.ndarray:  # type: ignore[type-arg]
    measured = by_lighting[NEUTRAL.name][index].features
    assert measured is not None
    return measured


def test_the_cache_measures_real_photos_once_and_again_when_a_file_changes(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    (folder / "spring").mkdir(parents=True)
    (folder / "spring" / "a.png").write_bytes(faces.encode_png(faces.astronaut()))
    (folder / "spring" / "b.png").write_bytes(faces.encode_png(faces.warm_cast(4000.0)))
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "season"])
        writer.writerows([["spring/a.png", "spring"], ["spring/b.png", "spring"]])
    photos = load_photos(folder)
    cache = tmp_path / "cache.jsonl"
    lightings = (NEUTRAL, Lighting("-1EV", ev=-1.0))

    first = measure_cached(photos, cache, lightings)
    assert first[NEUTRAL.name][0].status == "ok"
    assert first[NEUTRAL.name][0].pose is not None
    assert len(cache.read_text().splitlines()) == 3  # header + one line per photo

    again = measure_cached(photos, cache, lightings)
    assert len(cache.read_text().splitlines()) == 3  # nothing measured again
    np.testing.assert_allclose(features(again, 0), features(first, 0))

    (folder / "spring" / "b.png").write_bytes(faces.encode_png(faces.astronaut()))
    changed = measure_cached(photos, cache, lightings)
    assert len(cache.read_text().splitlines()) == 4  # the changed photo, measured again
    np.testing.assert_allclose(features(changed, 1), features(first, 0))

    header = json.loads(cache.read_text().splitlines()[0])["header"]
    assert header["feature_version"] and header["settings"]["landmarks"]
    data = LabelledData(photos, changed)
    assert [data.status(NEUTRAL.name, i) for i in range(2)] == ["ok", "ok"]
