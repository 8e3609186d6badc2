"""The whole in-process analysis: bytes in, every stage's result and timing out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pipeline.analysis import Analysis, Analyzer
from pipeline.errors import ErrorCode, PipelineError
from pipeline.regions import HairSource
from tests.support import faces


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Analyzer]:
    built = Analyzer()
    yield built
    built.close()


@pytest.fixture(scope="module")
def astronaut(analyzer: Analyzer) -> Analysis:
    return analyzer.analyze(faces.encode_png(faces.astronaut()))


def test_every_stage_runs_and_is_timed(astronaut: Analysis) -> None:
    assert set(astronaut.timings_ms) == {"decode", "normalize", "landmarks", "regions", "features", "total"}
    assert all(ms > 0 for ms in astronaut.timings_ms.values())
    stages = sum(ms for stage, ms in astronaut.timings_ms.items() if stage != "total")
    assert stages <= astronaut.timings_ms["total"]
    assert astronaut.diagnosis is None


def test_stages_work_on_the_corrected_image(astronaut: Analysis) -> None:
    height, width = astronaut.corrected_rgb.shape[:2]
    assert astronaut.landmarks.image_size == (width, height)
    assert astronaut.regions.skin.shape == (height, width)
    assert astronaut.regions.hair_source is HairSource.SEGMENTATION
    assert astronaut.features.skin.pixel_count > 300


def test_summary_is_json_without_pixels(astronaut: Analysis) -> None:
    text = json.dumps(astronaut.to_dict())
    body = json.loads(text)
    assert set(body) == {"lighting", "face", "regions", "features", "diagnosis", "timings_ms"}
    assert body["features"]["hair_source"] == "segmentation"
    assert isinstance(body["lighting"]["advice"], list)
    assert len(text) < 5000  # numbers and text only: no masks, no image


def test_decoded_and_raw_inputs_give_the_same_colours(analyzer: Analyzer, astronaut: Analysis) -> None:
    from_array = analyzer.analyze_rgb(faces.astronaut())
    assert from_array.features == astronaut.features
    assert "decode" not in from_array.timings_ms


def test_unusable_photo_raises_its_code(analyzer: Analyzer) -> None:
    with pytest.raises(PipelineError) as caught:
        analyzer.analyze(faces.encode_jpeg(faces.no_face()))
    assert caught.value.code is ErrorCode.NO_FACE_DETECTED


def test_concurrent_analyses_agree(analyzer: Analyzer, astronaut: Analysis) -> None:
    data = faces.encode_png(faces.astronaut())
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: analyzer.analyze(data), range(6)))
    for result in results:
        assert result.features == astronaut.features
        np.testing.assert_array_equal(result.regions.skin, astronaut.regions.skin)
