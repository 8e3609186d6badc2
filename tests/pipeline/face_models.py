"""The expensive MediaPipe graphs, loaded once per test process and shared by every test module.

A cached factory rather than a conftest fixture, so that modules owned by different people can use
the same instances without sharing one conftest file.
"""

from __future__ import annotations

from functools import cache

from pipeline.landmark import FaceMeshDetector
from pipeline.regions import RegionExtractor


@cache
def face_mesh_detector() -> FaceMeshDetector:
    return FaceMeshDetector()


@cache
def region_extractor() -> RegionExtractor:
    return RegionExtractor()
