"""Find the one face in a photo and its 478 Face Mesh landmarks, or say why it cannot be used.

MediaPipe Face Mesh (refined: 468 mesh points plus 10 iris points) runs on the lighting-corrected
image, placed on the faces the short-range face detector found: the lighting stage's detections
when the caller passes them (saving a second detection), else its own. That detector misses a face
smaller than about an eighth of the frame; when nothing is meshed, the bundled full-range detector
looks again, and a face it finds is either too small to sample (FACE_TOO_SMALL) or meshed from a
crop around it. Only when both see nothing is the answer NO_FACE_DETECTED, whose message also
covers "too far away".

MediaPipe graphs are not safe to call from several threads at once, so each detector owns a small
pool of graphs and a thread borrows one per call. This module keeps nothing of the image.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from google.protobuf import text_format
from mediapipe.framework import calculator_pb2
from mediapipe.python.solution_base import PacketDataType, SolutionBase
from mediapipe.python.solutions import face_mesh_connections as mesh_connections

from pipeline import graph_call
from pipeline.arrays import FloatArray, Uint8Image
from pipeline.errors import ErrorCode, PipelineError
from pipeline.face_detection import DetectedFace, FaceDetector

LANDMARK_COUNT = 478


def connection_indices(connections: frozenset[tuple[int, int]]) -> tuple[int, ...]:
    """The sorted landmark indices that appear in one of MediaPipe's connection sets."""
    return tuple(sorted({index for pair in connections for index in pair}))


# Iris centres are not part of the iris connection sets (they only list the ring), so the centre is
# taken as the mean of the ring: the same point as landmarks 468/473 to within a fraction of a pixel.
RIGHT_IRIS = connection_indices(mesh_connections.FACEMESH_RIGHT_IRIS)
LEFT_IRIS = connection_indices(mesh_connections.FACEMESH_LEFT_IRIS)
FACE_OVAL = connection_indices(mesh_connections.FACEMESH_FACE_OVAL)

# Mirror-symmetric pairs (the person's right, left): outer face edge at the cheekbones, outer eye
# corners, mouth corners. In MediaPipe's canonical face model each pair has equal depth, so the
# depth difference of a pair measures yaw.
_SYMMETRIC_PAIRS = ((234, 454), (33, 263), (61, 291))
# Top of the forehead and tip of the chin: in the canonical face model they lie at nearly the same
# depth (4.48 vs 4.26 units over a height of 17.7), so their depth difference measures pitch.
_FOREHEAD_TOP, _CHIN = 10, 152


@dataclass(frozen=True)
class LandmarkConfig:
    """Limits for a face that can be sampled.

    `min_interocular_px`: the iris is about 11.7 mm across and the pupils about 63 mm apart in
    adults, so the iris diameter is ~0.19 of the interpupillary distance. At 32 px between the
    pupils the iris is ~6 px across: the smallest size at which a ring between pupil and limbus still
    has pixels that are not blends of their neighbours. (The astronaut test photo has 43 px.)

    `max_yaw_deg` / `max_pitch_deg` are limits on the *estimated* angles. Face Mesh pulls strongly
    turned faces back towards its frontal template: on the astronaut face re-rendered from its own
    mesh turned by 15/30/40/50 degrees the estimate reads about 11/17/21/23-29 degrees. A limit of 20
    therefore refuses heads turned by roughly 40 degrees or more, where the far cheek is foreshortened
    and shaded by the nose; the astronaut herself reads 1 degree. Pitch reads 8-10 degrees on that
    frontal portrait (a camera slightly above the eyes), so its limit is wider.

    `secondary_face_ratio`: a second face narrower than this fraction of the main one is a bystander
    in the background and does not disturb the sampling; a larger one is MULTIPLE_FACES.
    """

    min_interocular_px: float = 32.0
    max_yaw_deg: float = 20.0
    max_pitch_deg: float = 25.0
    min_detection_confidence: float = 0.5
    secondary_face_ratio: float = 0.5
    pool_size: int = 1


@dataclass(frozen=True)
class FaceLandmarks:
    """One face's landmarks in pixel coordinates of the image they were found in.

    `points` is 478x3: x and y in pixels, z the relative depth MediaPipe predicts, scaled like x
    (pixels; smaller is nearer the camera). Angles in degrees: yaw > 0 when the face turns towards
    the image's right edge, pitch > 0 when the chin drops (looking down), roll > 0 when the head
    tilts clockwise in the image.
    """

    points: FloatArray
    image_size: tuple[int, int]
    box: tuple[int, int, int, int]
    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    @property
    def iris_centers(self) -> tuple[FloatArray, FloatArray]:
        """(right, left) iris centres in pixels, person's right first."""
        return (
            self.points[list(RIGHT_IRIS), :2].mean(axis=0),
            self.points[list(LEFT_IRIS), :2].mean(axis=0),
        )

    @property
    def interocular_px(self) -> float:
        right, left = self.iris_centers
        return float(np.linalg.norm(left - right))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (without the points)."""
        return {
            "image_size": list(self.image_size),
            "box": list(self.box),
            "yaw_deg": round(self.yaw_deg, 1),
            "pitch_deg": round(self.pitch_deg, 1),
            "roll_deg": round(self.roll_deg, 1),
            "interocular_px": round(self.interocular_px, 1),
        }


def estimate_pose(points: FloatArray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from the 3-D landmarks, without a camera model.

    Face Mesh's z uses the same scale as x, so the landmarks are a weak-perspective 3-D shape. The
    sum of the left-minus-right vectors of symmetric pairs is the face's horizontal axis and the
    chin-minus-forehead vector its vertical axis; their depth components give yaw and pitch.
    """
    across = sum((points[left] - points[right] for right, left in _SYMMETRIC_PAIRS), np.zeros(3))
    down = points[_CHIN] - points[_FOREHEAD_TOP]
    yaw = math.degrees(math.atan2(-across[2], math.hypot(across[0], across[1])))
    pitch = math.degrees(math.atan2(down[2], math.hypot(down[0], down[1])))
    roll = math.degrees(math.atan2(across[1], across[0]))
    return yaw, pitch, roll


def _as_rgb(rgb: npt.NDArray[Any]) -> Uint8Image:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    return np.ascontiguousarray(rgb)


def _no_face() -> PipelineError:
    return PipelineError(
        ErrorCode.NO_FACE_DETECTED,
        "No face was found. Take the photo facing the camera with your whole face visible and "
        "filling a good part of the frame (hold the phone at arm's length), in even light.",
    )


def _multiple_faces(count: int) -> PipelineError:
    return PipelineError(
        ErrorCode.MULTIPLE_FACES,
        "More than one face is in the photo. Take a selfie with only your own face in the frame.",
        details={"faces": count},
    )


def _too_small(interocular_px: float, minimum: float) -> PipelineError:
    return PipelineError(
        ErrorCode.FACE_TOO_SMALL,
        "Your face is too small in the photo to measure its colours. Move closer to the camera (or "
        "crop the photo) so that your face fills at least a third of the frame.",
        details={"interocular_px": round(interocular_px, 1), "min_interocular_px": minimum},
    )


# Face Mesh's landmark model placed on a face found beforehand: the part of MediaPipe's own
# face_landmark_front_cpu graph after its face detector, built from the subgraphs registered in the
# mediapipe 0.10.21 wheel (tests/pipeline/test_landmark.py checks it against the FaceMesh solution).
_ROI_MESH_GRAPH = text_format.Parse(
    """
    input_stream: "image"
    input_stream: "detection"
    output_stream: "landmarks"
    node {
      calculator: "ImagePropertiesCalculator"
      input_stream: "IMAGE:image"
      output_stream: "SIZE:image_size"
    }
    node {
      calculator: "FaceDetectionFrontDetectionToRoi"
      input_stream: "DETECTION:detection"
      input_stream: "IMAGE_SIZE:image_size"
      output_stream: "ROI:roi"
    }
    node {
      calculator: "FaceLandmarkCpu"
      input_stream: "IMAGE:image"
      input_stream: "ROI:roi"
      output_stream: "LANDMARKS:landmarks"
      input_side_packet: "WITH_ATTENTION:with_attention"
    }
    """,
    calculator_pb2.CalculatorGraphConfig(),
)
# A face-shaped detection in the middle of the frame, to start the mesh graph at load time.
_WARM_UP_FACE = DetectedFace(
    score=1.0,
    box=(0.3, 0.3, 0.4, 0.4),
    keypoints=((0.4, 0.4), (0.6, 0.4), (0.5, 0.5), (0.5, 0.6), (0.3, 0.45), (0.7, 0.45)),
)
# At most this many detections are meshed per photo: the main face and one that may be a second person.
_MAX_MESHED = 2


class _Graphs:
    """Face Mesh (refined: with the iris model) and both face detectors, used by one thread at a time."""

    def __init__(self, config: LandmarkConfig) -> None:
        self.mesh = SolutionBase(
            graph_config=_ROI_MESH_GRAPH,
            side_inputs={"with_attention": True},
            stream_type_hints={
                "image": PacketDataType.IMAGE,
                "detection": PacketDataType.PROTO,
                "landmarks": PacketDataType.PROTO,
            },
        )
        self.short_range = FaceDetector(full_range=False, min_confidence=config.min_detection_confidence)
        self.full_range = FaceDetector(full_range=True, min_confidence=config.min_detection_confidence)
        # A graph starts (and loads its models, ~50 ms) on its first image: start it at load time
        # so that the first request is as fast as the others.
        blank = np.zeros((64, 64, 3), np.uint8)
        graph_call.landmark_arrays(self.mesh, _mesh_inputs(blank, _WARM_UP_FACE), "landmarks")

    def close(self) -> None:
        self.mesh.close()
        self.short_range.close()
        self.full_range.close()


def _mesh_inputs(image: Uint8Image, face: DetectedFace) -> dict[str, Any]:
    return {"image": image, "detection": face.to_proto()}


class FaceMeshDetector:
    """Face Mesh landmarks of the single face in a photo, with the checks that make it usable.

    Build one per process (loading takes ~100 ms) and share it: `detect` is thread-safe. With
    `pool_size` > 1 that many threads run graphs in parallel; by default calls are serialised.
    """

    def __init__(self, config: LandmarkConfig | None = None) -> None:
        self.config = config or LandmarkConfig()
        if self.config.pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._pool: queue.Queue[_Graphs] = queue.Queue()
        for _ in range(self.config.pool_size):
            self._pool.put(_Graphs(self.config))

    @contextmanager
    def _graphs(self) -> Iterator[_Graphs]:
        graphs = self._pool.get()
        try:
            yield graphs
        finally:
            self._pool.put(graphs)

    def close(self) -> None:
        """Release the graphs (tests and short-lived tools; a service keeps one detector for life)."""
        for _ in range(self.config.pool_size):
            self._pool.get().close()

    def detect(self, rgb: npt.NDArray[Any], faces: Sequence[DetectedFace] | None = None) -> FaceLandmarks:
        """Landmarks of the one face in `rgb` (HxWx3 uint8); PipelineError if it cannot be used.

        `faces` are the short-range detector's faces in this picture or any scaled or colour-corrected
        copy of it (the lighting stage's `NormalizedImage.faces`); None detects them here.
        """
        image = _as_rgb(rgb)
        height, width = image.shape[:2]
        with self._graphs() as graphs:
            if faces is None:
                faces = graphs.short_range.detect(image)
            meshes = self._meshed(graphs, image, faces)
            if not meshes:
                meshes = self._search_small_face(graphs, image)
        main, *others = meshes
        main_width = float(np.ptp(main[:, 0]))
        if any(float(np.ptp(pts[:, 0])) >= self.config.secondary_face_ratio * main_width for pts in others):
            raise _multiple_faces(len(meshes))
        return self._checked(main, (width, height))

    def _meshed(self, graphs: _Graphs, image: Uint8Image, faces: Sequence[DetectedFace]) -> list[FloatArray]:
        """Landmarks of the widest face, then of the next face wide enough to be a second person.

        The mesh confirms each detection (a detector's false alarm gives no landmarks); faces narrower
        than `secondary_face_ratio` of the main one are bystanders and are not meshed at all.
        """
        meshes: list[FloatArray] = []
        main_box_width = 0.0
        for face in sorted(faces, key=lambda face: face.box[2], reverse=True)[:_MAX_MESHED]:
            if meshes and face.box[2] < self.config.secondary_face_ratio * main_box_width:
                break
            points = self._mesh(graphs, image, face)
            if points is not None:
                main_box_width = main_box_width or face.box[2]
                meshes.append(points)
        return meshes

    def _mesh(self, graphs: _Graphs, image: Uint8Image, face: DetectedFace) -> FloatArray | None:
        """The landmarks of `face` in pixels, or None when the mesh sees no face there."""
        found = graph_call.landmark_arrays(graphs.mesh, _mesh_inputs(image, face), "landmarks")
        if not found:
            return None
        height, width = image.shape[:2]
        points = found[0]
        points *= (width, height, width)
        return points

    def _search_small_face(self, graphs: _Graphs, image: Uint8Image) -> list[FloatArray]:
        """Second look with the full-range detector, for a face too small for the short-range one."""
        height, width = image.shape[:2]
        faces = sorted(graphs.full_range.detect(image), key=lambda face: face.box[2], reverse=True)
        if not faces:
            raise _no_face()
        main_width = faces[0].box[2]
        if any(face.box[2] >= self.config.secondary_face_ratio * main_width for face in faces[1:]):
            raise _multiple_faces(len(faces))
        # The detector's box spans eyebrows to mouth; the pupils are ~0.42 of its width apart (measured
        # on the astronaut test face). Faces far below the limit are refused without meshing.
        estimated_interocular = 0.42 * main_width * width
        if estimated_interocular < 0.75 * self.config.min_interocular_px:
            raise _too_small(estimated_interocular, self.config.min_interocular_px)
        # The full-range detector's keypoints place the mesh less well (on a head turned by 50
        # degrees it read 10 degrees of yaw instead of 23): look again with the short-range detector
        # in a window three face-widths wide, where the face is a third of the frame, well inside its
        # range, and mesh what it finds there.
        x, y, box_width, box_height = faces[0].pixel_box(width, height)
        side = 3.0 * max(box_width, box_height)
        cx, cy = x + box_width / 2, y + box_height / 2
        x0, y0 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
        x1, y1 = min(width, int(cx + side / 2)), min(height, int(cy + side / 2))
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        meshes = self._meshed(graphs, crop, graphs.short_range.detect(crop))
        if not meshes:
            raise _no_face()
        for points in meshes:
            points[:, 0] += x0
            points[:, 1] += y0
        return meshes

    def _checked(self, points: FloatArray, image_size: tuple[int, int]) -> FaceLandmarks:
        yaw, pitch, roll = estimate_pose(points)
        x0, y0 = np.floor(points[:, :2].min(axis=0)).astype(int)
        x1, y1 = np.ceil(points[:, :2].max(axis=0)).astype(int)
        x0, y0 = max(int(x0), 0), max(int(y0), 0)
        x1, y1 = min(int(x1), image_size[0]), min(int(y1), image_size[1])
        landmarks = FaceLandmarks(
            points=points,
            image_size=image_size,
            box=(x0, y0, x1 - x0, y1 - y0),
            yaw_deg=yaw,
            pitch_deg=pitch,
            roll_deg=roll,
        )
        config = self.config
        if landmarks.interocular_px < config.min_interocular_px:
            raise _too_small(landmarks.interocular_px, config.min_interocular_px)
        if abs(yaw) > config.max_yaw_deg or abs(pitch) > config.max_pitch_deg:
            raise PipelineError(
                ErrorCode.FACE_NOT_FRONTAL,
                "Your head is turned or tilted too far. Look straight into the camera with the phone "
                "at eye level, so that both cheeks and your forehead are visible.",
                details={
                    "yaw_deg": round(yaw, 1),
                    "pitch_deg": round(pitch, 1),
                    "max_yaw_deg": config.max_yaw_deg,
                    "max_pitch_deg": config.max_pitch_deg,
                },
            )
        return landmarks
