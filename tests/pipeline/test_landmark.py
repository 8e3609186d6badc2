"""Face Mesh detection on a real face and its variants: what a person is told for each photo."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mediapipe as mp
import numpy as np
import numpy.typing as npt
import pytest

from pipeline import graph_call
from pipeline.arrays import FloatArray
from pipeline.errors import ErrorCode, PipelineError
from pipeline.face_detection import DetectedFace
from pipeline.landmark import LANDMARK_COUNT, FaceLandmarks, FaceMeshDetector, LandmarkConfig
from pipeline.normalize import LightingCorrector
from tests.support import faces
from tests.support.head_pose import turned_head


@pytest.fixture(scope="session")
def astronaut_landmarks(detector: FaceMeshDetector) -> FaceLandmarks:
    return detector.detect(faces.astronaut())


@pytest.fixture(scope="module")
def corrector() -> Iterator[LightingCorrector]:
    instance = LightingCorrector()
    yield instance
    instance.close()


def median_distance_px(points: FloatArray, other: FloatArray) -> float:
    return float(np.median(np.linalg.norm(points[:, :2] - other[:, :2], axis=1)))


def error_of(detector: FaceMeshDetector, image: npt.NDArray[Any]) -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        detector.detect(image)
    return caught.value


def test_astronaut_is_one_frontal_face_with_all_landmarks(astronaut_landmarks: FaceLandmarks) -> None:
    lm = astronaut_landmarks
    assert lm.points.shape == (LANDMARK_COUNT, 3)
    assert lm.image_size == (512, 512)
    x, y, w, h = lm.box
    # Her face sits in the upper middle of the portrait, roughly 90 x 110 px.
    assert 150 < x < 200 and 50 < y < 90 and 80 < w < 110 and 95 < h < 125
    assert abs(lm.yaw_deg) < 5 and abs(lm.pitch_deg) < 15 and abs(lm.roll_deg) < 8
    assert 38 < lm.interocular_px < 48
    right_iris, left_iris = lm.iris_centers
    assert right_iris[0] < left_iris[0]  # her right eye is on the image's left


def test_mesh_placed_by_its_own_detection_gives_mediapipe_face_mesh_landmarks(
    astronaut_landmarks: FaceLandmarks,
) -> None:
    # The ROI graph is the back half of MediaPipe's Face Mesh graph: on the same face it must give
    # the solution's own landmarks.
    face_mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True)
    try:
        (expected,) = graph_call.landmark_arrays(face_mesh, faces.astronaut(), "multi_face_landmarks")
    finally:
        face_mesh.close()
    np.testing.assert_allclose(astronaut_landmarks.points, expected * 512, atol=0.01)


def test_lighting_stage_detections_place_the_mesh_as_its_own_detection_does(
    detector: FaceMeshDetector, corrector: LightingCorrector
) -> None:
    # The lighting stage detects on its 160 px copy; relative coordinates carry that to the full
    # image, where the mesh must land where it lands from a detection of its own.
    normalized = corrector.correct(faces.resized(faces.astronaut(), 1024))
    assert len(normalized.faces) == 1
    handed_over = detector.detect(normalized.rgb, normalized.faces)
    own = detector.detect(normalized.rgb)
    assert median_distance_px(handed_over.points, own.points) < 1.0
    assert handed_over.yaw_deg == pytest.approx(own.yaw_deg, abs=1.0)


def test_face_the_lighting_stage_missed_is_still_found(
    detector: FaceMeshDetector, astronaut_landmarks: FaceLandmarks
) -> None:
    # No detections handed over: the full-range detector looks again and the face is meshed.
    found = detector.detect(faces.astronaut(), faces=())
    assert median_distance_px(found.points, astronaut_landmarks.points) < 1.0


def test_a_false_detection_is_not_a_second_face(
    detector: FaceMeshDetector, corrector: LightingCorrector, astronaut_landmarks: FaceLandmarks
) -> None:
    # A detector's false alarm wider than the face (here on her spacesuit, lower right) gives no
    # mesh: the real face is still the one measured, and the photo is not MULTIPLE_FACES.
    real = corrector.correct(faces.astronaut()).faces
    suit = DetectedFace(
        score=0.6,
        box=(0.65, 0.7, 0.28, 0.28),
        keypoints=((0.73, 0.78), (0.85, 0.78), (0.79, 0.84), (0.79, 0.9), (0.66, 0.8), (0.92, 0.8)),
    )
    found = detector.detect(faces.astronaut(), faces=(suit, *real))
    assert median_distance_px(found.points, astronaut_landmarks.points) < 1.0


def test_detected_faces_cross_process_boundaries_as_numbers() -> None:
    face = DetectedFace(score=0.9, box=(0.1, 0.2, 0.3, 0.3), keypoints=((0.15, 0.25), (0.3, 0.25)))
    assert pickle.loads(pickle.dumps(face)) == face
    again = DetectedFace.from_proto(face.to_proto())
    assert again.score == pytest.approx(face.score)
    np.testing.assert_allclose(again.box, face.box, rtol=1e-6)
    np.testing.assert_allclose(again.keypoints, face.keypoints, rtol=1e-6)


def test_mirrored_photo_mirrors_the_pose(
    detector: FaceMeshDetector, astronaut_landmarks: FaceLandmarks
) -> None:
    mirrored = detector.detect(np.ascontiguousarray(faces.astronaut()[:, ::-1]))
    assert mirrored.roll_deg == pytest.approx(-astronaut_landmarks.roll_deg, abs=1.5)
    assert mirrored.interocular_px == pytest.approx(astronaut_landmarks.interocular_px, abs=1.5)


def test_photo_of_a_cat_is_no_face_detected(detector: FaceMeshDetector) -> None:
    error = error_of(detector, faces.no_face())
    assert error.code is ErrorCode.NO_FACE_DETECTED
    assert "facing the camera" in error.message


def test_two_people_are_multiple_faces(detector: FaceMeshDetector) -> None:
    error = error_of(detector, faces.two_faces())
    assert error.code is ErrorCode.MULTIPLE_FACES
    assert "only your own face" in error.message
    assert error.details == {"faces": 2}


def test_face_beyond_the_detectors_range_is_no_face_with_advice_to_move_closer(
    detector: FaceMeshDetector,
) -> None:
    # A ~20 px face on a 1600x1200 canvas: neither the short- nor the full-range detector finds it,
    # so the person can only be told what a usable photo looks like, including "fill the frame".
    error = error_of(detector, faces.tiny_face())
    assert error.code is ErrorCode.NO_FACE_DETECTED
    assert "filling a good part of the frame" in error.message


def test_small_face_found_only_by_the_full_range_detector_is_too_small(detector: FaceMeshDetector) -> None:
    # The astronaut photo at 320 px on a 1024 px canvas: her face is ~64 px wide, which the mesh's
    # short-range detector misses, and her pupils are ~27 px apart: below the 32 px limit.
    error = error_of(detector, faces.tiny_face(canvas_size=(1024, 1024), face_side=160))
    assert error.code is ErrorCode.FACE_TOO_SMALL
    assert "Move closer" in error.message
    assert error.details["interocular_px"] < error.details["min_interocular_px"]


def test_small_but_usable_face_is_meshed_from_a_crop(
    detector: FaceMeshDetector, astronaut_landmarks: FaceLandmarks
) -> None:
    # The full 512 px photo on a 1024 px canvas: the face is a tenth of the frame, too small for the
    # mesh's own detector, found by the full-range detector and meshed from a crop around it.
    canvas = faces.tiny_face(canvas_size=(1024, 1024), face_side=256)
    found = detector.detect(canvas)
    shifted = astronaut_landmarks.points[:, :2] + 256
    assert found.image_size == (1024, 1024)
    assert np.median(np.linalg.norm(found.points[:, :2] - shifted, axis=1)) < 2.0


def test_strongly_turned_head_is_not_frontal(detector: FaceMeshDetector) -> None:
    large = faces.resized(faces.astronaut(), 1024)
    error = error_of(detector, turned_head(large, 50, detector))
    assert error.code is ErrorCode.FACE_NOT_FRONTAL
    assert "Look straight into the camera" in error.message
    assert error.details["yaw_deg"] > error.details["max_yaw_deg"]


def test_slightly_turned_head_is_accepted_with_its_yaw(detector: FaceMeshDetector) -> None:
    large = faces.resized(faces.astronaut(), 1024)
    towards_right = detector.detect(turned_head(large, 12, detector))
    towards_left = detector.detect(turned_head(large, -12, detector))
    assert 3 < towards_right.yaw_deg < 20
    assert -20 < towards_left.yaw_deg < -3


def test_concurrent_calls_give_the_same_landmarks_as_serial_ones() -> None:
    detector = FaceMeshDetector(LandmarkConfig(pool_size=2))
    try:
        images = [faces.astronaut(), np.ascontiguousarray(faces.astronaut()[:, ::-1])] * 4
        serial = [detector.detect(image).points for image in images]
        with ThreadPoolExecutor(max_workers=4) as pool:
            concurrent = list(pool.map(lambda image: detector.detect(image).points, images))
        for expected, got in zip(serial, concurrent, strict=True):
            np.testing.assert_allclose(got, expected, atol=1e-3)
    finally:
        detector.close()


def test_single_graph_detector_serialises_threads_safely(detector: FaceMeshDetector) -> None:
    image = faces.astronaut()
    expected = detector.detect(image).points
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: detector.detect(image).points, range(8)))
    for got in results:
        np.testing.assert_allclose(got, expected, atol=1e-3)


@pytest.mark.parametrize(
    "bad", [np.zeros((64, 64), np.uint8), np.zeros((64, 64, 4), np.uint8), np.zeros((64, 64, 3), np.float32)]
)
def test_non_rgb_arrays_are_a_programming_error(detector: FaceMeshDetector, bad: npt.NDArray[Any]) -> None:
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        detector.detect(bad)
