"""The direct graph calls give what MediaPipe's own `process` gives, for every graph the pipeline uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mediapipe as mp
import numpy as np
import pytest
from mediapipe.framework.formats import landmark_pb2

from pipeline import graph_call
from pipeline.arrays import FloatArray
from tests.support import faces


@pytest.fixture(scope="module")
def face_detection() -> Iterator[Any]:
    solution = mp.solutions.face_detection.FaceDetection(model_selection=0)
    yield solution
    solution.close()


@pytest.fixture(scope="module")
def face_mesh() -> Iterator[Any]:
    solution = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=2)
    yield solution
    solution.close()


@pytest.fixture(scope="module")
def segmentation() -> Iterator[Any]:
    solution = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
    yield solution
    solution.close()


def boxes(detections: list[Any]) -> FloatArray:
    return np.array(
        [
            (d.score[0], b.xmin, b.ymin, b.width, b.height)
            for d in detections
            for b in [d.location_data.relative_bounding_box]
        ]
    )


def points(landmark_lists: list[Any]) -> FloatArray:
    return np.array([[(lm.x, lm.y, lm.z) for lm in face.landmark] for face in landmark_lists])


def test_face_detection_finds_the_same_face_as_process(face_detection: Any) -> None:
    image = faces.astronaut()
    direct = graph_call.proto_list(face_detection, image, "detections")
    assert len(direct) == 1
    np.testing.assert_allclose(boxes(direct), boxes(face_detection.process(image).detections), atol=1e-6)


def test_face_mesh_gives_the_same_landmarks_as_process(face_mesh: Any) -> None:
    image = faces.astronaut()
    direct = graph_call.proto_list(face_mesh, image, "multi_face_landmarks")
    assert len(direct) == 1
    np.testing.assert_allclose(
        points(direct), points(face_mesh.process(image).multi_face_landmarks), atol=1e-6
    )


def test_face_mesh_landmarks_read_as_arrays_are_the_proto_values(face_mesh: Any) -> None:
    image = faces.astronaut()
    (arrays,) = graph_call.landmark_arrays(face_mesh, image, "multi_face_landmarks")
    assert arrays.shape == (478, 3) and arrays.dtype == np.float64
    np.testing.assert_array_equal(arrays, points(face_mesh.process(image).multi_face_landmarks)[0])


def test_landmarks_with_other_fields_set_are_read_attribute_by_attribute() -> None:
    landmarks = landmark_pb2.NormalizedLandmarkList()
    landmarks.landmark.add(x=0.25, y=0.5, z=-0.125, visibility=0.9)
    landmarks.landmark.add(x=0.75, y=0.0, z=0.0)
    expected = [[0.25, 0.5, -0.125], [0.75, 0.0, 0.0]]
    np.testing.assert_array_equal(graph_call.landmark_array(landmarks), expected)


def test_photo_without_a_face_gives_an_empty_list_like_process(face_detection: Any, face_mesh: Any) -> None:
    image = faces.no_face()
    assert graph_call.proto_list(face_detection, image, "detections") == []
    assert face_detection.process(image).detections is None
    assert graph_call.proto_list(face_mesh, image, "multi_face_landmarks") == []
    assert graph_call.landmark_arrays(face_mesh, image, "multi_face_landmarks") == []
    assert face_mesh.process(image).multi_face_landmarks is None


def test_segmentation_mask_is_the_same_as_process_and_outlives_the_next_call(segmentation: Any) -> None:
    head = np.ascontiguousarray(faces.astronaut()[:300, 100:400])
    mask = graph_call.float_image(segmentation, head, "segmentation_mask")
    expected = np.array(segmentation.process(head).segmentation_mask)
    assert mask.shape == head.shape[:2] and mask.dtype == np.float32
    np.testing.assert_allclose(mask, expected, atol=1e-6)
    graph_call.float_image(segmentation, faces.no_face(), "segmentation_mask")
    np.testing.assert_allclose(mask, expected, atol=1e-6)
