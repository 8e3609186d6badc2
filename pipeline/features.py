"""Measured colours of the face regions, and the feature vector that is the classifier's input.

`ColorFeatures.to_vector()` is a public contract: the ONNX model's metadata names
`FEATURE_VERSION` and `FEATURE_NAMES`, and the loader refuses a model built for another version.
Change the order or meaning of a feature only together with a new version number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

FEATURE_VERSION = 1

FEATURE_NAMES: tuple[str, ...] = (
    "skin_L",
    "skin_a",
    "skin_b",
    "skin_C",
    "skin_h",
    "skin_ita",
    "eye_L",
    "eye_a",
    "eye_b",
    "eye_C",
    "hair_L",
    "hair_a",
    "hair_b",
    "hair_C",
    "hair_present",
    "contrast_skin_hair_L",
    "contrast_skin_eye_L",
)


class HairSource(StrEnum):
    """Where the hair colour came from, best first; NONE when no hair could be sampled."""

    SEGMENTATION = "segmentation"
    EYEBROWS = "eyebrows"
    NONE = "none"


@dataclass(frozen=True)
class RegionColor:
    """Robust colour statistics of one region, in CIELAB (D65).

    `spread` is the median CIEDE2000 distance of the region's kept pixels from its median colour:
    a small spread means a uniform, trustworthy sample.
    """

    L: float
    a: float
    b: float
    chroma: float
    hue_deg: float
    spread: float
    pixel_count: int
    hex: str

    @property
    def lab(self) -> tuple[float, float, float]:
        return (self.L, self.a, self.b)


@dataclass(frozen=True)
class ColorFeatures:
    """Skin, eye and (optional) hair colour of one face: everything the classifier sees."""

    skin: RegionColor
    skin_ita: float
    eyes: RegionColor
    hair: RegionColor | None
    hair_source: HairSource

    def to_vector(self) -> npt.NDArray[np.float32]:
        """The classifier input, in `FEATURE_NAMES` order.

        Missing hair is encoded as `hair_present = 0` with the hair colour taken from the eyes
        (the closest pigment proxy we measured), so the vector is always complete and a model can
        learn to discount it.
        """
        hair = self.hair if self.hair is not None else self.eyes
        values = (
            self.skin.L,
            self.skin.a,
            self.skin.b,
            self.skin.chroma,
            self.skin.hue_deg,
            self.skin_ita,
            self.eyes.L,
            self.eyes.a,
            self.eyes.b,
            self.eyes.chroma,
            hair.L,
            hair.a,
            hair.b,
            hair.chroma,
            0.0 if self.hair is None else 1.0,
            self.skin.L - hair.L,
            self.skin.L - self.eyes.L,
        )
        return np.asarray(values, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
