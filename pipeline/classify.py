"""Run the personal-color ONNX model: feature vectors in, 16 type probabilities out.

One `onnxruntime.InferenceSession` per classifier, created once per process with explicit thread
counts (one intra-op and one inter-op thread by default: the service scales by replicas and
batches, not by threads fighting over two cores). The model's contract (feature version, feature
names, class list, output shape) is checked when the classifier is built, so a mismatched or
corrupt model stops the service at start-up with MODEL_MISMATCH instead of failing the first
request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from pipeline.errors import ErrorCode, PipelineError
from pipeline.features import FEATURE_NAMES, FEATURE_VERSION
from pipeline.seasons import SEASON_TYPE_IDS, Season

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "personal_color.onnx"
REQUIRED_METADATA = ("model_version", "feature_version", "feature_names", "classes")


@dataclass(frozen=True)
class ClassifierConfig:
    model_path: Path = DEFAULT_MODEL_PATH
    intra_op_threads: int = 1
    inter_op_threads: int = 1


@dataclass(frozen=True)
class TypeProbabilities:
    """The model's answer for one face, classes in `SEASON_TYPE_IDS` order.

    `decided` is the class the model's `label` output names (an index into `SEASON_TYPE_IDS`;
    None: the most probable one). A model that decides the season first and the tone inside it
    (the shipped one, `models/MODEL_CARD.md`) can name a type that is not the most probable of the
    16: its season is the most probable season, and the 16 probabilities spread a season over
    four tones.
    """

    probabilities: tuple[float, ...]
    decided: int | None = None

    def ranked(self) -> list[tuple[str, float]]:
        """The types from the most probable down, or, when the model decided the season first, in
        the order of that decision: the decided type, the other tones of its season, then the other
        seasons from the most probable down, each by its tones. So the runner-up is never more
        probable than the diagnosed type (a spread-out season can hold a type less probable than one
        of a narrower season)."""
        n = len(self.probabilities)
        if self.decided is None:
            order = sorted(range(n), key=lambda i: -self.probabilities[i])
        else:
            tones = n // len(Season)  # SEASON_TYPE_IDS is season-major, tones inside
            mass = [sum(self.probabilities[s * tones : (s + 1) * tones]) for s in range(len(Season))]
            decided_season = self.decided // tones
            order = sorted(
                range(n),
                key=lambda i: (
                    i != self.decided,
                    i // tones != decided_season,
                    -mass[i // tones],
                    -self.probabilities[i],
                ),
            )
        return [(SEASON_TYPE_IDS[i], self.probabilities[i]) for i in order]

    @property
    def best(self) -> tuple[str, float]:
        return self.ranked()[0]

    @property
    def runner_up(self) -> tuple[str, float]:
        return self.ranked()[1]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(SEASON_TYPE_IDS, self.probabilities, strict=True))


def _mismatch(path: Path, problem: str) -> PipelineError:
    return PipelineError(
        ErrorCode.MODEL_MISMATCH,
        f"The personal-color model {path} cannot be used: {problem}",
        details={"model_path": str(path), "problem": problem},
    )


class SeasonClassifier:
    """A loaded, validated model. Thread-safe: `InferenceSession.run` may be called concurrently."""

    def __init__(
        self,
        session: ort.InferenceSession,
        path: Path,
        model_version: str,
        class_order: list[int],
        season_decision: str = "rules",
    ) -> None:
        self._session = session
        self._input_name = session.get_inputs()[0].name
        self._label_output = session.get_outputs()[0].name
        self._probability_output = session.get_outputs()[1].name
        self._class_order = class_order  # model column of each canonical class
        self._canonical = np.argsort(class_order)  # canonical class of each model column
        self.path = path
        self.model_version = model_version
        # What decides the season: "learned" (a head fitted on labelled photos, metadata
        # `season_decision`) or "rules" (the documented rules, the default of older models).
        self.season_decision = season_decision

    @classmethod
    def from_config(cls, config: ClassifierConfig) -> SeasonClassifier:
        return cls.from_path(config.model_path, config.intra_op_threads, config.inter_op_threads)

    @classmethod
    def from_path(
        cls, path: Path | str = DEFAULT_MODEL_PATH, intra_op_threads: int = 1, inter_op_threads: int = 1
    ) -> SeasonClassifier:
        model_path = Path(path)
        if not model_path.is_file():
            raise _mismatch(model_path, "the file does not exist (build it with `python -m models.build`)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = inter_op_threads
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several unrelated types for an unreadable model
            raise _mismatch(model_path, f"it is not a valid ONNX model ({type(exc).__name__})") from exc
        metadata = session.get_modelmeta().custom_metadata_map
        missing = [key for key in REQUIRED_METADATA if key not in metadata]
        if missing:
            raise _mismatch(
                model_path, f"its metadata lacks {missing} (see models/MODEL_CARD.md, 'ONNX contract')"
            )
        if metadata["feature_version"] != str(FEATURE_VERSION):
            raise _mismatch(
                model_path,
                f"it was built for feature version {metadata['feature_version']}, "
                f"the pipeline produces version {FEATURE_VERSION}",
            )
        try:
            names = json.loads(metadata["feature_names"])
            classes = json.loads(metadata["classes"])
        except json.JSONDecodeError as exc:
            raise _mismatch(model_path, f"its metadata is not valid JSON ({exc})") from exc
        if tuple(names) != FEATURE_NAMES:
            raise _mismatch(model_path, "its feature names differ from the pipeline's FEATURE_NAMES")
        if sorted(classes) != sorted(SEASON_TYPE_IDS) or len(classes) != len(SEASON_TYPE_IDS):
            raise _mismatch(model_path, f"its classes {classes} are not the 16 season types")
        if len(session.get_inputs()) != 1 or len(session.get_outputs()) < 2:
            raise _mismatch(model_path, "it must have one input and (label, probabilities) outputs")
        classifier = cls(
            session,
            model_path,
            model_version=metadata["model_version"],
            class_order=[classes.index(type_id) for type_id in SEASON_TYPE_IDS],
            season_decision=metadata.get("season_decision", "rules"),
        )
        classifier._check_output_shape()
        return classifier

    def _check_output_shape(self) -> None:
        probe = np.zeros((2, len(FEATURE_NAMES)), dtype=np.float32)
        try:
            label, raw = self._session.run(
                [self._label_output, self._probability_output], {self._input_name: probe}
            )
        except Exception as exc:
            raise _mismatch(self.path, f"it fails on a feature vector ({type(exc).__name__}: {exc})") from exc
        if np.shape(raw) != (2, len(SEASON_TYPE_IDS)):
            raise _mismatch(self.path, f"its probabilities have shape {np.shape(raw)}, expected (N, 16)")
        labels = np.asarray(label)
        if labels.shape != (2,) or labels.dtype.kind not in "iu" or not ((labels >= 0) & (labels < 16)).all():
            raise _mismatch(self.path, "its label output is not one class index (int64 [N]) per row")

    def predict_batch(self, vectors: npt.ArrayLike) -> list[TypeProbabilities]:
        """Probabilities for each row of an N x len(FEATURE_NAMES) array (N may be 0)."""
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"expected an N x {len(FEATURE_NAMES)} array of feature vectors, got {x.shape}")
        if len(x) == 0:
            return []
        if not np.isfinite(x).all():
            raise ValueError("feature vectors must be finite")
        label, raw = self._session.run([self._label_output, self._probability_output], {self._input_name: x})
        ordered = np.asarray(raw, dtype=np.float64)[:, self._class_order]
        decided = self._canonical[np.asarray(label, dtype=np.int64)]
        return [
            TypeProbabilities(tuple(float(p) for p in row), int(k))
            for row, k in zip(ordered, decided, strict=True)
        ]
