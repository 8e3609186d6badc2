"""Fixtures for the MediaPipe graphs, shared by every pipeline test module (loaded once per process)."""

from __future__ import annotations

import pytest

from pipeline.landmark import FaceMeshDetector
from pipeline.regions import RegionExtractor
from tests.pipeline.face_models import face_mesh_detector, region_extractor


@pytest.fixture(scope="session")
def detector() -> FaceMeshDetector:
    return face_mesh_detector()


@pytest.fixture(scope="session")
def extractor() -> RegionExtractor:
    return region_extractor()
