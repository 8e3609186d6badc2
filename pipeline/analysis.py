"""The whole analysis of one photo, in-process: bytes -> lighting -> face -> regions -> colours.

`Analyzer` loads every model once and runs the stages in order, timing each; the CLI, the
benchmarks and the tests use it, and the Ray Serve deployments call the same stage classes one by
one. The diagnosis (season type) is an optional last step: pass any object with a `diagnose`
method (the classifier's `Diagnoser`) and `Analysis.diagnosis` is filled; without one it stays
None and everything measured is still returned.

Nothing here keeps or writes the image: `Analysis.corrected_rgb` lives exactly as long as the
caller holds the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pipeline.arrays import Uint8Image
from pipeline.decode import DecodeLimits, decode_image
from pipeline.features import ColorFeatures
from pipeline.landmark import FaceLandmarks, FaceMeshDetector, LandmarkConfig
from pipeline.measure import measure_colors
from pipeline.normalize import LightingConfig, LightingCorrector, LightingReport
from pipeline.regions import FaceRegions, RegionConfig, RegionExtractor

T = TypeVar("T")

STAGES = ("decode", "normalize", "landmarks", "regions", "features", "diagnose")


class DiagnosisResult(Protocol):
    """What the analysis needs from a diagnosis: a JSON-safe, text-only form."""

    def to_dict(self) -> dict[str, Any]: ...


class DiagnosisStep(Protocol):
    """The optional last stage (implemented by the classifier package's `Diagnoser`)."""

    def diagnose(
        self, features: ColorFeatures, lighting: LightingReport, lang: str = ...
    ) -> DiagnosisResult: ...


@dataclass
class Analysis:
    """Everything the pipeline found in one photo.

    `timings_ms` has one entry per stage that ran (see `STAGES`) plus "total".
    """

    lighting: LightingReport
    landmarks: FaceLandmarks
    regions: FaceRegions
    features: ColorFeatures
    corrected_rgb: Uint8Image
    diagnosis: DiagnosisResult | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary: numbers and text only, no pixels and no masks."""
        features = self.features.to_dict()
        features["hair_source"] = self.features.hair_source.value
        return {
            "lighting": {**self.lighting.to_dict(), "advice": list(self.lighting.advice())},
            "face": self.landmarks.to_dict(),
            "regions": {
                "pixels": self.regions.pixel_counts(),
                "hair_source": self.regions.hair_source.value,
            },
            "features": features,
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
            "timings_ms": {name: round(ms, 2) for name, ms in self.timings_ms.items()},
        }


class Analyzer:
    """Runs the stages of one analysis. Build once (loading takes a fraction of a second).

    `analyze` is safe to call from several threads: each stage object is thread-safe.
    """

    def __init__(
        self,
        decode_limits: DecodeLimits | None = None,
        lighting: LightingConfig | None = None,
        landmarks: LandmarkConfig | None = None,
        regions: RegionConfig | None = None,
        diagnoser: DiagnosisStep | None = None,
    ) -> None:
        self.decode_limits = decode_limits or DecodeLimits()
        self.corrector = LightingCorrector(lighting or LightingConfig())
        self.detector = FaceMeshDetector(landmarks)
        self.extractor = RegionExtractor(regions)
        self.diagnoser = diagnoser

    def close(self) -> None:
        self.detector.close()
        self.extractor.close()

    def analyze(self, data: bytes, client_lighting_score: float | None = None, lang: str = "ko") -> Analysis:
        """Analyse an uploaded photo (JPEG, PNG or WebP bytes). Raises PipelineError for bad input."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        rgb = _timed(timings, "decode", lambda: decode_image(data, self.decode_limits))
        return self._analyze(rgb, client_lighting_score, lang, timings, started)

    def analyze_rgb(
        self, rgb: Uint8Image, client_lighting_score: float | None = None, lang: str = "ko"
    ) -> Analysis:
        """Analyse an already decoded sRGB image at working size (benchmarks, callers that decode)."""
        return self._analyze(rgb, client_lighting_score, lang, {}, time.perf_counter())

    def _analyze(
        self,
        rgb: Uint8Image,
        client_lighting_score: float | None,
        lang: str,
        timings: dict[str, float],
        started: float,
    ) -> Analysis:
        normalized = _timed(timings, "normalize", lambda: self.corrector.correct(rgb, client_lighting_score))
        corrected = normalized.rgb
        landmarks = _timed(timings, "landmarks", lambda: self.detector.detect(corrected, normalized.faces))
        regions = _timed(timings, "regions", lambda: self.extractor.extract(corrected, landmarks))
        features = _timed(
            timings,
            "features",
            lambda: measure_colors(normalized, landmarks, regions),
        )
        diagnosis: DiagnosisResult | None = None
        if self.diagnoser is not None:
            diagnoser = self.diagnoser
            diagnosis = _timed(
                timings, "diagnose", lambda: diagnoser.diagnose(features, normalized.report, lang)
            )
        timings["total"] = (time.perf_counter() - started) * 1000.0
        return Analysis(
            lighting=normalized.report,
            landmarks=landmarks,
            regions=regions,
            features=features,
            corrected_rgb=corrected,
            diagnosis=diagnosis,
            timings_ms=timings,
        )


def _timed(timings: dict[str, float], stage: str, run: Callable[[], T]) -> T:
    """Run one stage and record its wall time, also when it raises (useful in benchmarks of errors)."""
    start = time.perf_counter()
    try:
        return run()
    finally:
        timings[stage] = (time.perf_counter() - start) * 1000.0
