"""The sampled regions land on the right parts of a real face."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from pipeline.arrays import BoolArray, FloatArray
from pipeline.errors import ErrorCode, PipelineError
from pipeline.landmark import LEFT_IRIS, RIGHT_IRIS, FaceLandmarks, FaceMeshDetector
from pipeline.regions import (
    FACE_OVAL_CYCLE,
    LEFT_CHEEK,
    LEFT_EYE_CYCLE,
    LEFT_EYEBROW,
    LIPS,
    LIPS_INNER_CYCLE,
    LIPS_OUTER_CYCLE,
    NOSE,
    RIGHT_CHEEK,
    RIGHT_EYE_CYCLE,
    RIGHT_EYEBROW,
    FaceRegions,
    HairSource,
    RegionExtractor,
)
from tests.support import faces


@pytest.fixture(scope="session")
def landmarks(detector: FaceMeshDetector) -> FaceLandmarks:
    return detector.detect(faces.astronaut())


@pytest.fixture(scope="session")
def regions(extractor: RegionExtractor, landmarks: FaceLandmarks) -> FaceRegions:
    return extractor.extract(faces.astronaut(), landmarks)


def polygon_mask(points: FloatArray, shape: tuple[int, ...], hull: bool = False) -> BoolArray:
    mask = np.zeros(shape, np.uint8)
    pts = np.round(points[:, :2]).astype(np.int32)
    if hull:
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), (1,))
    else:
        cv2.fillPoly(mask, [pts], (1,))
    return mask.astype(bool)


def test_skin_is_inside_the_face_oval_and_clear_of_eyes_brows_nose_and_lips(
    regions: FaceRegions, landmarks: FaceLandmarks
) -> None:
    pts, shape = landmarks.points, regions.skin.shape
    assert regions.skin.sum() > 500
    assert not (regions.skin & ~polygon_mask(pts[list(FACE_OVAL_CYCLE)], shape)).any()
    for feature in (RIGHT_EYE_CYCLE, LEFT_EYE_CYCLE, RIGHT_EYEBROW, LEFT_EYEBROW, NOSE, LIPS):
        assert not (regions.skin & polygon_mask(pts[list(feature)], shape, hull=True)).any()


def test_skin_covers_both_cheeks_and_the_forehead(regions: FaceRegions, landmarks: FaceLandmarks) -> None:
    pts, shape = landmarks.points, regions.skin.shape
    right = (regions.skin & polygon_mask(pts[list(RIGHT_CHEEK)], shape)).sum()
    left = (regions.skin & polygon_mask(pts[list(LEFT_CHEEK)], shape)).sum()
    brow_top = pts[list(RIGHT_EYEBROW) + list(LEFT_EYEBROW), 1].min()
    forehead = regions.skin[: int(brow_top)].sum()
    assert right > 150 and left > 150 and forehead > 50
    assert 0.5 < right / left < 2.0


def test_eye_masks_are_iris_rings_inside_the_eye_openings(
    regions: FaceRegions, landmarks: FaceLandmarks
) -> None:
    pts, shape = landmarks.points, regions.eyes.shape
    openings = polygon_mask(pts[list(RIGHT_EYE_CYCLE)], shape) | polygon_mask(
        pts[list(LEFT_EYE_CYCLE)], shape
    )
    assert not (regions.eyes & ~openings).any()
    ys, xs = np.nonzero(regions.eyes)
    for iris in (RIGHT_IRIS, LEFT_IRIS):
        ring = pts[list(iris), :2]
        center = ring.mean(axis=0)
        radius = np.linalg.norm(ring - center, axis=1).mean()
        distance = np.hypot(xs - center[0], ys - center[1])
        mine = distance < 1.5 * radius
        assert mine.sum() >= 5, "each eye contributes pixels"
        # No pupil: nothing in the inner 40% of the iris radius; nothing beyond the limbus.
        assert distance[mine].min() >= 0.35 * radius
        assert distance[mine].max() <= radius + 1.0


def test_eye_masks_leave_out_the_catch_light(
    extractor: RegionExtractor, landmarks: FaceLandmarks, regions: FaceRegions
) -> None:
    image = faces.astronaut()
    ys, xs = np.nonzero(regions.eyes)
    spot = (ys[0], xs[0])
    image[spot] = (255, 255, 255)  # a catch-light on a pixel that was sampled
    eyes = extractor.extract(image, landmarks).eyes
    assert not eyes[spot]
    assert eyes.sum() >= regions.eyes.sum() - 2


def test_lips_are_the_ring_between_the_lip_edge_and_the_mouth_opening(
    regions: FaceRegions, landmarks: FaceLandmarks
) -> None:
    pts, shape = landmarks.points, regions.lips.shape
    outer = polygon_mask(pts[list(LIPS_OUTER_CYCLE)], shape)
    opening = polygon_mask(pts[list(LIPS_INNER_CYCLE)], shape)
    assert regions.lips.sum() > 100
    assert not (regions.lips & ~outer).any()
    assert not (regions.lips & opening).any()
    assert not (regions.lips & regions.skin).any()
    # Redder than the skin beside it, as lips are.
    image = faces.astronaut().astype(float)
    lips_red = image[regions.lips][:, 0] / image[regions.lips][:, 1]
    skin_red = image[regions.skin][:, 0] / image[regions.skin][:, 1]
    assert np.median(lips_red) > np.median(skin_red) + 0.1


def test_hair_above_the_astronauts_forehead_comes_from_segmentation(
    regions: FaceRegions, landmarks: FaceLandmarks
) -> None:
    assert regions.hair_source is HairSource.SEGMENTATION
    assert regions.hair is not None
    pts = landmarks.points
    ys, _ = np.nonzero(regions.hair)
    eye_level = pts[list(RIGHT_IRIS) + list(LEFT_IRIS), 1].mean()
    oval_top = pts[list(FACE_OVAL_CYCLE), 1].min()
    assert ys.max() < eye_level
    assert np.median(ys) < oval_top + 10
    assert not (regions.hair & polygon_mask(pts[list(FACE_OVAL_CYCLE)], regions.hair.shape)).any()
    # Her hair is brown: darker than her skin.
    image = faces.astronaut()
    assert image[regions.hair].mean() < image[regions.skin].mean() - 40


def test_bald_head_falls_back_to_the_eyebrows(
    extractor: RegionExtractor, landmarks: FaceLandmarks, regions: FaceRegions
) -> None:
    assert regions.hair is not None
    image = faces.astronaut()
    skin_colour = np.median(image[regions.skin], axis=0)
    image[regions.hair] = skin_colour  # the hair band is now skin-coloured scalp
    bald = extractor.extract(image, landmarks)
    assert bald.hair_source is HairSource.EYEBROWS
    assert bald.hair is not None and bald.hair.sum() > 0
    brows = polygon_mask(landmarks.points[list(RIGHT_EYEBROW)], image.shape[:2], hull=True) | polygon_mask(
        landmarks.points[list(LEFT_EYEBROW)], image.shape[:2], hull=True
    )
    assert not (bald.hair & ~brows).any()


def test_no_hair_and_no_brows_is_a_result_not_an_error(
    extractor: RegionExtractor, landmarks: FaceLandmarks, regions: FaceRegions
) -> None:
    assert regions.hair is not None
    image = faces.astronaut()
    skin_colour = np.median(image[regions.skin], axis=0)
    brows = polygon_mask(landmarks.points[list(RIGHT_EYEBROW)], image.shape[:2], hull=True) | polygon_mask(
        landmarks.points[list(LEFT_EYEBROW)], image.shape[:2], hull=True
    )
    image[regions.hair | cv2.dilate(brows.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)] = (
        skin_colour
    )
    result = extractor.extract(image, landmarks)
    assert result.hair_source is HairSource.NONE
    assert result.hair is None
    assert result.pixel_counts()["hair"] == 0


def test_closed_eyes_are_eyes_not_visible(extractor: RegionExtractor, landmarks: FaceLandmarks) -> None:
    # Close the eyelids in the landmarks: every eye-contour point moves onto its eye's centre line.
    points = landmarks.points.copy()
    for contour in (RIGHT_EYE_CYCLE, LEFT_EYE_CYCLE):
        indices = list(contour)
        points[indices, 1] = points[indices, 1].mean()
    closed = dataclasses.replace(landmarks, points=points)
    with pytest.raises(PipelineError) as caught:
        extractor.extract(faces.astronaut(), closed)
    assert caught.value.code is ErrorCode.EYES_NOT_VISIBLE


def test_regions_follow_the_face_in_a_larger_photo(
    extractor: RegionExtractor, detector: FaceMeshDetector
) -> None:
    canvas = faces.tiny_face(canvas_size=(1024, 1024), face_side=256)
    found = extractor.extract(canvas, detector.detect(canvas))
    x, y, w, h = found.window
    assert x >= 256 and y >= 256 and x + w <= 768 and y + h <= 768
    assert found.skin[y : y + h, x : x + w].sum() == found.skin.sum() > 500
    assert found.hair_source is HairSource.SEGMENTATION


def test_landmarks_of_another_image_size_are_refused(
    extractor: RegionExtractor, landmarks: FaceLandmarks
) -> None:
    with pytest.raises(ValueError, match="another size"):
        extractor.extract(np.zeros((100, 100, 3), np.uint8), landmarks)
