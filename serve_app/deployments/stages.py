"""The pipeline stages as Ray Serve deployments: thin shells over `pipeline/`, chained on the AI node.

Each class loads its models once in `__init__` (replicas are long-lived) and does one stage per call.
The ingress chains the calls without awaiting the middle ones (`landmark.remote(normalize.remote(...))`),
so the decoded photo goes from Normalize to Landmark through the AI node's object store and never back
to the web node: Landmark hands on only the measured numbers (`Measurement`), and Classify returns the
text-only record that is stored. Stage failures are `PipelineError`s, which Ray re-raises in the caller
with code and details intact.

The Ray instance is started with object spilling off (see `serve_app.local`), so a photo never lands on
disk. Nothing here logs image data or puts it into an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from ray import serve

from db.history import HistoryRecord
from pipeline.classify import SeasonClassifier
from pipeline.decode import decode_image
from pipeline.diagnosis import Diagnoser, Diagnosis, LightingSummary
from pipeline.features import ColorFeatures
from pipeline.landmark import FaceMeshDetector
from pipeline.measure import measure_colors
from pipeline.normalize import LightingCorrector, LightingReport, NormalizedImage
from pipeline.regions import RegionExtractor
from serve_app.settings import get_settings


@dataclass(frozen=True)
class Measurement:
    """What Landmark hands to Classify: the measured colours and the lighting report, numbers only."""

    features: ColorFeatures
    lighting: LightingReport


def history_record(diagnosis: Diagnosis, lighting: LightingReport) -> HistoryRecord:
    """Where a diagnosis becomes what is stored: text and numbers only (season, hex colours, advice,
    measured Lab values, the lighting score). Nothing derived from pixels beyond those is kept."""
    return HistoryRecord(
        season=diagnosis.season,
        season_type=diagnosis.season_type,
        confidence=diagnosis.confidence,
        thumbnail_color=diagnosis.thumbnail_color,
        main_colors=list(diagnosis.main_colors),
        worst_colors=list(diagnosis.worst_colors),
        makeup=diagnosis.makeup,
        hair=diagnosis.hair,
        measured=diagnosis.measured,
        explanation=diagnosis.explanation,
        lighting_score=lighting.score,
        model_version=diagnosis.model_version,
        runner_up=diagnosis.runner_up,
    )


@serve.deployment
class Normalize:
    """Decodes the upload and corrects its lighting; refuses photos too poorly lit to judge."""

    def __init__(self) -> None:
        settings = get_settings().pipeline
        self._limits = settings.decode_limits()
        self._corrector = LightingCorrector(settings.lighting_config())

    def __call__(self, data: bytes, client_lighting_score: float | None = None) -> NormalizedImage:
        rgb = decode_image(data, self._limits)
        return self._corrector.correct(rgb, client_score=client_lighting_score)


@serve.deployment
class Landmark:
    """Finds the one face, its skin, eye, lip and hair regions, and measures their colours."""

    def __init__(self) -> None:
        self._detector = FaceMeshDetector()
        self._regions = RegionExtractor()

    def __call__(self, image: NormalizedImage) -> Measurement:
        landmarks = self._detector.detect(image.rgb, image.faces)
        regions = self._regions.extract(image.rgb, landmarks)
        return Measurement(measure_colors(image, landmarks, regions), image.report)


@serve.deployment
class Classify:
    """Turns measured colours into the stored record of a seasonal type, batching concurrent requests
    into one model run."""

    def __init__(self) -> None:
        model_path = get_settings().pipeline.model_path
        # Loading validates the model against the feature contract (MODEL_MISMATCH if it does not fit).
        self._diagnoser = Diagnoser.load(SeasonClassifier.from_path(model_path) if model_path else None)

    # Two batched arguments (one list each); Ray's annotations know only one.
    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)  # type: ignore[arg-type]
    async def __call__(  # type: ignore[misc]
        self, measurements: list[Measurement], langs: list[str]
    ) -> list[HistoryRecord]:
        # One batch may mix languages; the model runs once per language present (usually once).
        records: list[HistoryRecord | None] = [None] * len(measurements)
        for lang in set(langs):
            positions = [i for i, item_lang in enumerate(langs) if item_lang == lang]
            items: list[tuple[ColorFeatures, LightingSummary | None]] = [
                (measurements[i].features, measurements[i].lighting) for i in positions
            ]
            for position, diagnosis in zip(
                positions, self._diagnoser.diagnose_batch(items, lang=lang), strict=True
            ):
                records[position] = history_record(diagnosis, measurements[position].lighting)
        return [record for record in records if record is not None]
