"""The pipeline stages as Ray Serve deployments: thin shells over `pipeline/`.

Each class loads its models once in `__init__` (replicas are long-lived) and does one stage per call.
Stage failures are `PipelineError`s, which Ray re-raises in the caller with code and details intact.

Images move between these deployments only through Ray's in-memory object store; the Ray instance
is started with object spilling off (see `serve_app.local`), so a photo never lands on disk. Nothing
here logs image data or puts it into an exception.
"""

from __future__ import annotations

from ray import serve

from pipeline.classify import SeasonClassifier
from pipeline.decode import decode_image
from pipeline.diagnosis import Diagnoser, Diagnosis, LightingSummary
from pipeline.features import ColorFeatures
from pipeline.landmark import FaceMeshDetector
from pipeline.measure import measure_colors
from pipeline.normalize import LightingCorrector, LightingReport, NormalizedImage
from pipeline.regions import RegionExtractor
from serve_app.settings import get_settings


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
    """Finds the one face, its skin, eye and hair regions, and measures their colours."""

    def __init__(self) -> None:
        self._detector = FaceMeshDetector()
        self._regions = RegionExtractor()

    def __call__(self, image: NormalizedImage) -> ColorFeatures:
        landmarks = self._detector.detect(image.rgb, image.faces)
        regions = self._regions.extract(image.rgb, landmarks)
        return measure_colors(image, landmarks, regions)


@serve.deployment
class Classify:
    """Turns measured colours into a seasonal type, batching concurrent requests into one model run."""

    def __init__(self) -> None:
        model_path = get_settings().pipeline.model_path
        # Loading validates the model against the feature contract (MODEL_MISMATCH if it does not fit).
        self._diagnoser = Diagnoser.load(SeasonClassifier.from_path(model_path) if model_path else None)

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def __call__(self, requests: list[tuple[ColorFeatures, LightingReport, str]]) -> list[Diagnosis]:
        # One batch may mix languages; the model runs once per language present (usually once).
        results: list[Diagnosis | None] = [None] * len(requests)
        for lang in {lang for _, _, lang in requests}:
            positions = [i for i, (_, _, item_lang) in enumerate(requests) if item_lang == lang]
            items: list[tuple[ColorFeatures, LightingSummary | None]] = [
                (requests[i][0], requests[i][1]) for i in positions
            ]
            for position, diagnosis in zip(
                positions, self._diagnoser.diagnose_batch(items, lang=lang), strict=True
            ):
                results[position] = diagnosis
        return [diagnosis for diagnosis in results if diagnosis is not None]
