"""Real colour measurements of the astronaut photo, and helpers to move them along one axis.

The features come from the real pipeline (Face Mesh, regions, robust CIELAB medians), measured
once per test process. The shift helpers change one measured colour and recompute everything the
feature vector derives from it (chroma, hue angle, ITA, hex), as the pipeline would.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from pipeline.color import chroma_hue, individual_typology_angle, lab_to_hex
from pipeline.exposure import sclera_exposure
from pipeline.features import ColorFeatures, RegionColor, extract_features
from tests.pipeline.face_models import face_mesh_detector, region_extractor
from tests.support import faces


@cache
def astronaut_features() -> ColorFeatures:
    image = faces.astronaut()
    landmarks = face_mesh_detector().detect(image)
    regions = region_extractor().extract(image, landmarks)
    return extract_features(image, regions, sclera_exposure(image, landmarks))


def recolored(color: RegionColor, lightness: float, a: float, b: float) -> RegionColor:
    lab = (lightness, a, b)
    chroma, hue = chroma_hue(lab)
    return replace(
        color, L=lightness, a=a, b=b, chroma=float(chroma), hue_deg=float(hue), hex=lab_to_hex(lab)
    )


def with_skin(features: ColorFeatures, lightness: float, a: float, b: float) -> ColorFeatures:
    skin = recolored(features.skin, lightness, a, b)
    return replace(features, skin=skin, skin_ita=individual_typology_angle(lightness, b))


def with_eyes(features: ColorFeatures, lightness: float, a: float, b: float) -> ColorFeatures:
    return replace(features, eyes=recolored(features.eyes, lightness, a, b))


def with_lips(features: ColorFeatures, lightness: float, a: float, b: float) -> ColorFeatures:
    return replace(features, lips=recolored(features.lips, lightness, a, b))


def with_hair(features: ColorFeatures, lightness: float, a: float, b: float) -> ColorFeatures:
    assert features.hair is not None
    return replace(features, hair=recolored(features.hair, lightness, a, b))
