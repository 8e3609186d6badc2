"""A picture of what was sampled: the corrected photo with landmarks and the three regions on it.

Returns an array and never writes it: saving is the caller's explicit choice (the CLI's
`--overlay OUT.png`, at the person's own request).
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.arrays import Uint8Image
from pipeline.landmark import FaceLandmarks
from pipeline.regions import FaceRegions

# Region colours (RGB), chosen to stay distinguishable on skin, hair and typical backgrounds.
REGION_COLOURS: dict[str, tuple[int, int, int]] = {
    "skin": (255, 0, 200),
    "eyes": (0, 230, 255),
    "lips": (255, 140, 0),
    "hair": (60, 255, 60),
}
_ALPHA = 0.5
_LANDMARK_COLOUR = (255, 255, 255)
_BOX_COLOUR = (255, 200, 0)


def draw_overlay(corrected_rgb: Uint8Image, landmarks: FaceLandmarks, regions: FaceRegions) -> Uint8Image:
    """A new RGB image: regions blended in at 50%, landmarks as dots, the face box as a rectangle."""
    canvas = corrected_rgb.astype(np.float32)
    masks = {"skin": regions.skin, "eyes": regions.eyes, "lips": regions.lips, "hair": regions.hair}
    for name, mask in masks.items():
        if mask is not None:
            colour = np.array(REGION_COLOURS[name], dtype=np.float32)
            canvas[mask] = (1 - _ALPHA) * canvas[mask] + _ALPHA * colour
    out = np.ascontiguousarray(np.round(canvas).astype(np.uint8))
    # Dots scale with the face: single pixels on small faces so the regions stay visible.
    radius = 0 if landmarks.interocular_px < 80 else 1 if landmarks.interocular_px < 160 else 2
    for x, y in np.round(landmarks.points[:, :2]).astype(int):
        cv2.circle(out, (int(x), int(y)), radius, _LANDMARK_COLOUR, -1)
    x, y, w, h = landmarks.box
    cv2.rectangle(out, (x, y), (x + w, y + h), _BOX_COLOUR, 1)
    return out


def encode_png(rgb: Uint8Image) -> bytes:
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return bytes(buffer.tobytes())
