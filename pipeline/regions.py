"""Turn Face Mesh landmarks into the three pixel masks whose colours are measured: skin, eyes, hair.

- skin: both cheeks and the lower forehead, minus generous margins around eyes, brows, nose
  (nostrils) and lips, inside the face oval; when the head is turned, only the cheek that faces
  the camera (the far one is foreshortened, seen at a grazing angle and shaded);
- eyes: the iris rings between pupil and limbus, inside the open eyelids, without the specular
  highlight;
- hair: what MediaPipe's selfie segmentation calls "person" in a band above and beside the forehead,
  outside the face oval, minus anything coloured like the skin (a bald scalp, a high forehead);
  when that leaves too little, the darker half of the eyebrows; when that fails too, no hair
  (HairSource.NONE), which is a valid result and not an error.

Landmark sets come from MediaPipe's own connection tables; only the cheek and forehead patches
need a few anchor indices (documented below). All work happens in a window around the head, so the
cost does not grow with the photo size. Nothing of the image is kept.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import cv2
import mediapipe as mp
import numpy as np
import numpy.typing as npt
from mediapipe.python.solutions import face_mesh_connections as mesh_connections

from pipeline import graph_call
from pipeline.arrays import BoolArray, FloatArray, Uint8Image
from pipeline.errors import ErrorCode, PipelineError
from pipeline.landmark import LEFT_IRIS, RIGHT_IRIS, FaceLandmarks, connection_indices
from pipeline.stats import median


def _cycle(connections: frozenset[tuple[int, int]]) -> tuple[int, ...]:
    """Walk a closed contour given as an edge set (face oval, eye outline) into polygon order."""
    neighbours: dict[int, list[int]] = {}
    for a, b in connections:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    start = min(neighbours)
    order, previous, current = [start], -1, start
    while True:
        following = next(n for n in neighbours[current] if n != previous)
        if following == start:
            return tuple(order)
        order.append(following)
        previous, current = current, following


FACE_OVAL_CYCLE = _cycle(mesh_connections.FACEMESH_FACE_OVAL)
RIGHT_EYE_CYCLE = _cycle(mesh_connections.FACEMESH_RIGHT_EYE)
LEFT_EYE_CYCLE = _cycle(mesh_connections.FACEMESH_LEFT_EYE)
LIPS = connection_indices(mesh_connections.FACEMESH_LIPS)
NOSE = connection_indices(mesh_connections.FACEMESH_NOSE)
RIGHT_EYEBROW = connection_indices(mesh_connections.FACEMESH_RIGHT_EYEBROW)
LEFT_EYEBROW = connection_indices(mesh_connections.FACEMESH_LEFT_EYEBROW)

# Anchor patches (person's right cheek, its mirror image, lower forehead). MediaPipe has no named
# sets for these. Cheek: below the eye (117, 118), beside the nose (101, 36), above the mouth corner
# (205), out to the cheekbone (187, 123, 116). Forehead: between the brows' upper edge (66, 107, 9,
# 336, 296) and the row above it (69, 108, 151, 337, 299), i.e. the part of the forehead that fringes
# cover least.
RIGHT_CHEEK = (117, 118, 101, 36, 205, 187, 123, 116)
LEFT_CHEEK = (346, 347, 330, 266, 425, 411, 352, 345)
FOREHEAD = (69, 108, 151, 337, 299, 296, 336, 9, 107, 66)
# The lips' outer edge and the mouth opening, each in polygon order (MediaPipe's FACEMESH_LIPS holds
# both rings as one edge set): the lips are the ring between them.
LIPS_OUTER_CYCLE = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER_CYCLE = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
# Outlines are drawn at 1/16 pixel (OpenCV's fixed-point `shift`). Rounded to whole pixels, a
# landmark that Face Mesh moves by a fraction of a pixel (as it does on the same face under another
# light: median 0.2-0.5 px on the labelled portraits) moves a region's edge by a whole row of pixels.
SUBPIXEL_BITS = 4


@dataclass(frozen=True)
class RegionConfig:
    """Geometry of the sampled regions, in units of the interocular distance (IOD) where relevant.

    Margins keep blended edge pixels out: at the smallest accepted face (32 px IOD) 0.06 IOD is
    about 2 px. The iris ring keeps 45-90% of the iris radius: pupils span 20-40% of the iris in
    normal indoor light, and the outer 10% blends into the sclera.
    """

    eye_margin_iod: float = 0.10
    brow_margin_iod: float = 0.08
    nose_margin_iod: float = 0.06
    lips_margin_iod: float = 0.08
    iris_inner: float = 0.45
    iris_outer: float = 0.90
    hair_band_above: float = 0.55  # band height above the oval top, in face heights
    hair_band_side: float = 0.30  # band reach beside the oval, in face widths
    hair_skin_delta_e: float = 10.0  # hair candidates this close (CIE76) to the skin median are skin
    min_hair_pixels_iod2: float = 0.30  # segmentation hair needs at least 0.3 IOD^2 pixels
    min_brow_pixels_iod2: float = 0.03
    person_threshold: float = 0.5
    min_eye_pixels: int = 6  # both iris rings together; closed eyes leave none
    # A cheek drawn smaller than this share of the other is turned away from the camera and left
    # out. A cheek faces about 40 degrees sideways, so the ratio is cos(40+yaw)/cos(40-yaw): about
    # 0.75 at 10 degrees of true yaw, 0.6 at 16 and 0.5 at 21 (`python -m bench.pose`).
    far_cheek_max_ratio: float = 0.6


class HairSource(StrEnum):
    """Where the hair colour came from, best first; NONE when no hair could be sampled."""

    SEGMENTATION = "segmentation"
    EYEBROWS = "eyebrows"
    NONE = "none"


@dataclass(frozen=True)
class FaceRegions:
    """Full-frame boolean masks of the sampled pixels, and where the hair came from.

    `window` (x, y, w, h) bounds every mask; readers may crop to it for speed.
    """

    skin: BoolArray
    eyes: BoolArray
    lips: BoolArray
    hair: BoolArray | None
    hair_source: HairSource
    window: tuple[int, int, int, int]

    def pixel_counts(self) -> dict[str, int]:
        return {
            "skin": int(self.skin.sum()),
            "eyes": int(self.eyes.sum()),
            "lips": int(self.lips.sum()),
            "hair": 0 if self.hair is None else int(self.hair.sum()),
        }


class _Window:
    """A crop of the image around the head; polygons are drawn in its coordinates.

    `points` are the landmarks' pixel positions in the window; `fixed` the same in OpenCV's fixed
    point (SUBPIXEL_BITS), converted once for every polygon.
    """

    def __init__(
        self, image_size: tuple[int, int], box: tuple[int, int, int, int], points: FloatArray
    ) -> None:
        width, height = image_size
        x0, y0, x1, y1 = box
        self.x0, self.y0 = max(0, x0), max(0, y0)
        self.x1, self.y1 = min(width, x1), min(height, y1)
        self.shape = (self.y1 - self.y0, self.x1 - self.x0)
        self.points = np.asarray(points[:, :2] - (self.x0, self.y0), dtype=np.float64)
        self.fixed = fixed_point(self.points)

    def polygon(
        self,
        indices: tuple[int, ...],
        convex_hull: bool = False,
        grow: float = 0.0,
        into: Uint8Image | None = None,
    ) -> Uint8Image:
        """Fill the polygon through these landmarks (or its convex hull), grown by `grow` pixels,
        into a new or given mask.

        Growing draws the outline with a pen of width 2*grow+1: the same as a dilation with a disc,
        at a fraction of the cost.
        """
        mask = np.zeros(self.shape, np.uint8) if into is None else into
        local = self.fixed[list(indices)]
        outline = cv2.convexHull(local) if convex_hull else local.reshape(-1, 1, 2)
        cv2.fillPoly(mask, [outline], (1,), shift=SUBPIXEL_BITS)
        if grow >= 0.5:
            cv2.polylines(mask, [outline], True, (1,), thickness=2 * round(grow) + 1, shift=SUBPIXEL_BITS)
        return mask

    def to_full(self, mask: Uint8Image | BoolArray, image_size: tuple[int, int]) -> BoolArray:
        full = np.zeros((image_size[1], image_size[0]), dtype=bool)
        full[self.y0 : self.y1, self.x0 : self.x1] = mask.astype(bool)
        return full


def fixed_point(values: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Pixel coordinates (or lengths) as OpenCV's fixed-point numbers with SUBPIXEL_BITS fraction bits."""
    return np.asarray(np.round(np.asarray(values, dtype=np.float64) * (1 << SUBPIXEL_BITS)), dtype=np.int32)


def _erode(mask: Uint8Image, radius: int) -> Uint8Image:
    return _u8(cv2.erode(mask, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)))


def _lab8_median(pixels: Uint8Image) -> FloatArray:
    """Per-axis median CIELAB (D65) of sRGB uint8 pixels (N x 3) via OpenCV's 8-bit conversion.

    The result is in L* a* b* units and equals np.median of the converted values, axis 0. Scaling
    to those units is monotonic, so the middle pixels are found among the 8-bit codes (a partial
    sort of bytes) and only they are scaled, then averaged as np.median does for an even count.
    """
    codes = np.ascontiguousarray(cv2.cvtColor(pixels.reshape(1, -1, 3), cv2.COLOR_RGB2Lab).reshape(-1, 3).T)
    middle = codes.shape[1] // 2
    ranks = [middle] if codes.shape[1] % 2 else [middle - 1, middle]
    lab = np.partition(codes, ranks, axis=1)[:, ranks].astype(np.float64)
    lab[0] *= 100.0 / 255.0
    lab[1:] -= 128.0
    return np.asarray(lab.sum(axis=1) / len(ranks), dtype=np.float64)


def _u8(array: object) -> Uint8Image:
    """OpenCV's stubs type results loosely; masks stay uint8 0/1 throughout this module."""
    return np.asarray(array, dtype=np.uint8)


class RegionExtractor:
    """Skin, eye and hair masks for one face. Build once per process; `extract` is thread-safe."""

    def __init__(self, config: RegionConfig | None = None, pool_size: int = 1) -> None:
        self.config = config or RegionConfig()
        # Selfie segmentation's landscape model (144x256 input) is the faster of the two bundled
        # models and, on a head-and-shoulders window, as accurate around the hair as the square one.
        self._pool: queue.Queue[mp.solutions.selfie_segmentation.SelfieSegmentation] = queue.Queue()
        for _ in range(pool_size):
            segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
            # The first run of a graph initialises its interpreter (~200 ms); do it at load time so
            # that the first person's request is not the slow one.
            segmenter.process(np.zeros((64, 64, 3), np.uint8))
            self._pool.put(segmenter)
        self._pool_size = pool_size

    def close(self) -> None:
        for _ in range(self._pool_size):
            self._pool.get().close()

    @contextmanager
    def _segmenter(self) -> Iterator[mp.solutions.selfie_segmentation.SelfieSegmentation]:
        segmenter = self._pool.get()
        try:
            yield segmenter
        finally:
            self._pool.put(segmenter)

    def extract(self, rgb: Uint8Image, landmarks: FaceLandmarks) -> FaceRegions:
        """The three regions of the face described by `landmarks` in `rgb` (the same image)."""
        height, width = rgb.shape[:2]
        if (width, height) != landmarks.image_size:
            raise ValueError("landmarks belong to an image of another size")
        cfg = self.config
        pts = landmarks.points
        iod = landmarks.interocular_px
        oval = pts[list(FACE_OVAL_CYCLE)]
        ox0, oy0 = oval[:, :2].min(axis=0)
        ox1, oy1 = oval[:, :2].max(axis=0)
        face_w, face_h = ox1 - ox0, oy1 - oy0
        window = _Window(
            (width, height),
            (
                int(ox0 - cfg.hair_band_side * face_w) - 2,
                int(oy0 - cfg.hair_band_above * face_h) - 2,
                int(ox1 + cfg.hair_band_side * face_w) + 3,
                int(oy1) + 3,
            ),
            pts,
        )
        crop = np.ascontiguousarray(rgb[window.y0 : window.y1, window.x0 : window.x1])

        oval_mask = window.polygon(FACE_OVAL_CYCLE)
        skin = self._skin(window, oval_mask, iod)
        luma = _u8(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY))
        eyes = self._eyes(window, luma)
        if int(eyes.sum()) < cfg.min_eye_pixels:
            raise PipelineError(
                ErrorCode.EYES_NOT_VISIBLE,
                "Your eyes could not be seen clearly. Keep your eyes open and look into the camera, "
                "without sunglasses or hair across your eyes.",
            )
        # The skin/hair gate only needs colour distances of about 10 units, so OpenCV's 8-bit CIELAB
        # (same D65 and sRGB curve, quantised to ~0.4 units) is precise enough and 20x faster.
        skin_pixels = crop[skin.astype(bool)]
        skin_median = _lab8_median(skin_pixels) if len(skin_pixels) else None

        hair, source = self._hair_from_segmentation(window, crop, pts, iod, skin_median)
        if hair is None:
            hair, source = self._hair_from_brows(window, crop, luma, iod, skin_median)
        size = (width, height)
        return FaceRegions(
            skin=window.to_full(skin, size),
            eyes=window.to_full(eyes, size),
            lips=window.to_full(self._lips(window), size),
            hair=None if hair is None else window.to_full(hair, size),
            hair_source=source,
            window=(window.x0, window.y0, window.shape[1], window.shape[0]),
        )

    def _skin(self, window: _Window, oval_mask: Uint8Image, iod: float) -> Uint8Image:
        cfg = self.config
        patches = self._facing_cheeks(window) | window.polygon(FOREHEAD)
        excluded = np.zeros(window.shape, np.uint8)
        for feature, margin in (
            (RIGHT_EYE_CYCLE, cfg.eye_margin_iod),
            (LEFT_EYE_CYCLE, cfg.eye_margin_iod),
            (RIGHT_EYEBROW, cfg.brow_margin_iod),
            (LEFT_EYEBROW, cfg.brow_margin_iod),
            (NOSE, cfg.nose_margin_iod),
            (LIPS, cfg.lips_margin_iod),
        ):
            window.polygon(feature, convex_hull=True, grow=margin * iod, into=excluded)
        return _u8(patches & oval_mask & (1 - excluded))

    def _facing_cheeks(self, window: _Window) -> Uint8Image:
        """Both cheeks, or only the nearer one when the other is drawn much smaller (turned away)."""
        right, left = window.polygon(RIGHT_CHEEK), window.polygon(LEFT_CHEEK)
        right_area, left_area = int(right.sum()), int(left.sum())
        if min(right_area, left_area) < self.config.far_cheek_max_ratio * max(right_area, left_area):
            return right if right_area > left_area else left
        return right | left

    @staticmethod
    def _lips(window: _Window) -> Uint8Image:
        """The ring between the lips' outer edge and the mouth opening, one pixel in from the outer
        edge (it blends into the skin). The opening's edge (teeth, the dark mouth, or on a closed
        mouth the crease where the lips meet) is left to the L* trim (`pipeline.features.LIPS_TRIM`):
        keeping a pixel off it too left the astronaut's thin, smiling lips a fifth of their pixels."""
        outer = _erode(window.polygon(LIPS_OUTER_CYCLE), 1)
        return _u8(outer & (1 - window.polygon(LIPS_INNER_CYCLE)))

    def _eyes(self, window: _Window, luma: Uint8Image) -> Uint8Image:
        cfg = self.config
        eyes = np.zeros(window.shape, np.uint8)
        height, width = window.shape
        for iris, contour in ((RIGHT_IRIS, RIGHT_EYE_CYCLE), (LEFT_IRIS, LEFT_EYE_CYCLE)):
            ring_pts = window.points[list(iris)]
            center = ring_pts.mean(axis=0)
            radius = float(np.linalg.norm(ring_pts - center, axis=1).mean())
            cx, cy = round(center[0]), round(center[1])
            outer = max(1, round(cfg.iris_outer * radius))
            outline = np.round(window.points[list(contour)]).astype(np.int32)
            # Everything is drawn in a box around the eye opening and the ring's outer circle, a few
            # percent of the window. Two more pixels keep the opening's 3x3 erosion the same as on
            # the whole window. cv2 fills the same pixels after an integer shift, but not when a
            # polygon is clipped, so an eye at the window's edge is drawn on the whole window.
            (x0, y0), (x1, y1) = outline.min(axis=0) - 2, outline.max(axis=0) + 3
            x0, y0 = min(int(x0), cx - outer - 2), min(int(y0), cy - outer - 2)
            x1, y1 = max(int(x1), cx + outer + 3), max(int(y1), cy + outer + 3)
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                x0, y0, x1, y1 = 0, 0, width, height
            ring = np.zeros((y1 - y0, x1 - x0), np.uint8)
            box_center = tuple(int(v) for v in fixed_point(center - (x0, y0)))
            cv2.circle(
                ring, box_center, int(fixed_point(cfg.iris_outer * radius)), (1,), -1, shift=SUBPIXEL_BITS
            )
            inner = int(fixed_point(cfg.iris_inner * radius))
            cv2.circle(ring, box_center, inner, (0,), -1, shift=SUBPIXEL_BITS)
            # Keep off the eyelid line: erode the eye opening by one pixel.
            opening = np.zeros_like(ring)
            box_outline = window.fixed[list(contour)] - fixed_point((x0, y0))
            cv2.fillPoly(opening, [box_outline.reshape(-1, 1, 2)], (1,), shift=SUBPIXEL_BITS)
            ring &= _erode(opening, 1)
            box = (slice(y0, y1), slice(x0, x1))
            eyes[box] |= ring & self._not_specular(luma[box], ring)
        return eyes

    @staticmethod
    def _not_specular(luma: Uint8Image, ring: Uint8Image) -> Uint8Image:
        """Drop the catch-light: pixels far brighter than the rest of the ring (median + 3 MAD)."""
        selected = ring.astype(bool)
        if selected.sum() < 3:
            return ring
        values = luma[selected].astype(np.float64)
        middle = median(values)
        mad = median(np.abs(values - middle)) or 1.0
        return (luma <= middle + 3.0 * mad).astype(np.uint8)

    def _hair_from_segmentation(
        self,
        window: _Window,
        crop: Uint8Image,
        pts: FloatArray,
        iod: float,
        skin_median: FloatArray | None,
    ) -> tuple[Uint8Image | None, HairSource]:
        cfg = self.config
        with self._segmenter() as segmenter:
            person = graph_call.float_image(segmenter, crop, "segmentation_mask")
        person_mask = (person > cfg.person_threshold).astype(np.uint8)
        # Erode so that the blended hair/background edge is not sampled.
        margin = max(1, round(0.05 * iod))
        person_mask = _erode(person_mask, margin)
        # The band stops at eye level: below it, "beside the face" is ears, neck and collar.
        eye_level = round(float(pts[list(RIGHT_IRIS) + list(LEFT_IRIS), 1].mean()) - window.y0)
        band = np.zeros(window.shape, np.uint8)
        band[: max(0, eye_level), :] = 1
        hair = _u8(person_mask & band & (1 - window.polygon(FACE_OVAL_CYCLE, grow=margin)))
        hair = self._without_skin(crop, hair, skin_median)
        if hair.sum() < cfg.min_hair_pixels_iod2 * iod * iod:
            return None, HairSource.NONE
        return hair, HairSource.SEGMENTATION

    def _hair_from_brows(
        self,
        window: _Window,
        crop: Uint8Image,
        luma: Uint8Image,
        iod: float,
        skin_median: FloatArray | None,
    ) -> tuple[Uint8Image | None, HairSource]:
        """The darker half of each eyebrow hull: the hull also holds skin between the hairs."""
        brows = window.polygon(RIGHT_EYEBROW, convex_hull=True) | window.polygon(
            LEFT_EYEBROW, convex_hull=True
        )
        selected = brows.astype(bool)
        if not selected.any():
            return None, HairSource.NONE
        darker = (luma <= np.median(luma[selected])).astype(np.uint8) & brows
        darker = self._without_skin(crop, darker, skin_median)
        if darker.sum() < self.config.min_brow_pixels_iod2 * iod * iod:
            return None, HairSource.NONE
        return darker, HairSource.EYEBROWS

    def _without_skin(self, crop: Uint8Image, mask: Uint8Image, skin_median: FloatArray | None) -> Uint8Image:
        rows = np.flatnonzero(mask.any(axis=1))
        if skin_median is None or len(rows) == 0:
            return mask
        top, bottom = int(rows[0]), int(rows[-1]) + 1
        # Whole rows through OpenCV's 8-bit conversion: cheaper than gathering the pixels first.
        lab = cv2.cvtColor(crop[top:bottom], cv2.COLOR_RGB2Lab)
        # Each 8-bit level's squared distance to the skin median along its own axis comes from a
        # 256-entry table (the same float32 arithmetic per level as per pixel, so the same sums):
        # a lookup is far cheaper than scaling, offsetting and squaring N x 3 floats.
        levels = np.arange(256, dtype=np.float32)[:, None] * np.array([100.0 / 255.0, 1.0, 1.0], np.float32)
        offsets = levels - (np.array([0.0, 128.0, 128.0], np.float32) + skin_median.astype(np.float32))
        table = np.asarray(offsets * offsets, dtype=np.float32).reshape(1, 256, 3)
        parts = np.asarray(cv2.LUT(lab, table), dtype=np.float32)
        squared = parts[..., 0] + parts[..., 1] + parts[..., 2]
        out = mask.copy()
        out[top:bottom] &= squared >= np.float32(self.config.hair_skin_delta_e**2)
        return out
