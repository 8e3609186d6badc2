"""MediaPipe's bundled face detectors, and the faces they find as plain numbers.

The lighting stage needs the face before it can judge the light, and Face Mesh needs a face box to
place its landmark model. Face Mesh's own graph runs the short-range detector again on the
corrected full-size image (~1.5 ms on one core at 640x480); handing it the lighting stage's
detections instead skips that. A `DetectedFace` is in coordinates relative to the image (0-1), so a
detection made on the lighting stage's small copy places the mesh on the full-size picture, and it
is a few numbers that cross process boundaries (Ray deployments) without any pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import mediapipe as mp
import numpy as np
from mediapipe.framework.formats import detection_pb2, location_data_pb2

from pipeline import graph_call
from pipeline.arrays import Uint8Image

RelativeBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class DetectedFace:
    """A face found by a MediaPipe face detector, relative to the image's width and height.

    `box` is (x_min, y_min, width, height). `keypoints` are MediaPipe's six, in its order: the
    person's right eye, left eye, nose tip, mouth centre, right and left ear tragion. Face Mesh
    takes the face's roll from the first two.
    """

    score: float
    box: RelativeBox
    keypoints: tuple[tuple[float, float], ...]

    @classmethod
    def from_proto(cls, detection: Any) -> DetectedFace:
        location = detection.location_data
        rel = location.relative_bounding_box
        return cls(
            score=float(detection.score[0]),
            box=(rel.xmin, rel.ymin, rel.width, rel.height),
            keypoints=tuple((point.x, point.y) for point in location.relative_keypoints),
        )

    def to_proto(self) -> detection_pb2.Detection:
        """The detection as the MediaPipe graphs take it (Face Mesh's ROI graph)."""
        detection = detection_pb2.Detection(score=[self.score])
        location = detection.location_data
        location.format = location_data_pb2.LocationData.RELATIVE_BOUNDING_BOX
        x, y, width, height = self.box
        location.relative_bounding_box.xmin = x
        location.relative_bounding_box.ymin = y
        location.relative_bounding_box.width = width
        location.relative_bounding_box.height = height
        for point_x, point_y in self.keypoints:
            location.relative_keypoints.add(x=point_x, y=point_y)
        return detection

    def pixel_box(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The box in pixels of an image of `width` x `height` (unclamped: it may leave the frame)."""
        x, y, box_width, box_height = self.box
        return (x * width, y * height, box_width * width, box_height * height)


class FaceDetector:
    """One MediaPipe face detection graph; `detect` is thread-safe (calls are serialised).

    `full_range=False` is the short-range (selfie-distance) model; the full-range one also finds
    faces a few percent of the frame wide, as in group photos or a phone held far away.
    """

    def __init__(self, full_range: bool, min_confidence: float) -> None:
        self._graph = mp.solutions.face_detection.FaceDetection(
            model_selection=1 if full_range else 0, min_detection_confidence=min_confidence
        )
        self._lock = threading.Lock()
        # A graph starts (and loads its model) on its first image: do that now, not on a request.
        self.detect(np.zeros((64, 64, 3), np.uint8))

    def detect(self, rgb: Uint8Image) -> tuple[DetectedFace, ...]:
        """Every face found in `rgb` (HxWx3 uint8), most confident first."""
        with self._lock:
            detections = graph_call.proto_list(self._graph, rgb, "detections")
        faces = (DetectedFace.from_proto(detection) for detection in detections)
        return tuple(sorted(faces, key=lambda face: face.score, reverse=True))

    def close(self) -> None:
        with self._lock:
            self._graph.close()
