"""Untrusted bytes in, an upright sRGB uint8 array at working size out, or a clear PipelineError.

The first stage sees whatever a person uploads, so it checks cheap things before expensive ones:
the byte count, then the format's magic bytes, then the dimensions from the header (a 50 kB file
can claim 60 000 x 60 000 pixels; that is refused before a single pixel is decoded), and only then
decodes. JPEGs are decoded with libjpeg's DCT scaling straight to about the working size, which is
both the fastest path and the most memory-frugal one for large phone photos. Photos tagged with
another colour space (phones write Display P3) are converted to sRGB, which every later stage
assumes; this costs about 6 ms per 0.4 megapixels at working size, and only for such photos.

Working size: the long side is scaled down to 1024 px (INTER_AREA, a box average, so a downscale
is an average of the original pixels and colour statistics do not depend on the original
resolution beyond noise; bilinear for reductions under 2x, where every source pixel still
counts). 1024 keeps a selfie's iris about 25-35 px wide, enough to sample an iris ring without its
pupil and highlight, while keeping the per-pixel work of later stages in the low milliseconds.
Smaller images are never upscaled.

This module never writes image data anywhere, and leaves Pillow's global settings alone.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from pipeline.arrays import Uint8Image
from pipeline.color import srgb_uint8_to_lab
from pipeline.errors import ErrorCode, PipelineError

_PILLOW_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_GRAYSCALE_MODES: Final = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_EXIF_ORIENTATION_TAG: Final = 0x0112
_SRGB_PROFILE: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_CMS_LOCK: Final = threading.Lock()
# Enough pixels to measure a 3% colourful fraction to within a few tenths of a percent, at ~0.3 ms.
_CHROMA_SAMPLE_PIXELS: Final = 4_096
# The sample is measured in this many interleaved parts, stopping once the verdict is certain.
_CHROMA_SAMPLE_PARTS: Final = 8


@dataclass(frozen=True)
class DecodeLimits:
    """What the decoder accepts. The service builds this from its settings.

    `min_chroma`: an image counts as colour when at least `colorful_fraction` of its pixels have a
    CIELAB chroma C* of at least this much. Skin alone has C* 15-30 even under dim light, and a
    grayscale picture stored as RGB (or as a JPEG) stays below 2 everywhere, so any selfie in which
    skin covers a few percent of the frame passes, while black-and-white and nearly desaturated
    pictures do not. (A toned monochrome print, e.g. sepia, has chroma and passes here.)
    """

    max_bytes: int = 10_000_000
    max_pixels: int = 40_000_000
    working_max_side: int = 1024
    min_side: int = 32
    # A portrait is at most about 1:2.2 (a 19.5:9 phone screen); beyond 1:8 the short side would
    # shrink under the later stages' working sizes (1024 px here, 160 px for the lighting
    # statistics) to too few pixels to measure.
    max_aspect_ratio: float = 8.0
    min_chroma: float = 6.0
    colorful_fraction: float = 0.03

    def __post_init__(self) -> None:
        if min(self.max_bytes, self.max_pixels, self.working_max_side, self.min_side) <= 0:
            raise ValueError("decode limits must be positive")
        if self.max_aspect_ratio < 1.0:
            raise ValueError("max_aspect_ratio must be at least 1")


def sniff_image_type(head: bytes) -> str | None:
    """'jpeg', 'png' or 'webp' from the first bytes of a file (12 suffice), else None.

    The API calls this on the first chunk of an upload to answer 415 before queueing any work.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def decode_image(data: bytes, limits: DecodeLimits = DecodeLimits()) -> Uint8Image:
    """Decode an uploaded JPEG, PNG or WebP into an upright HxWx3 sRGB uint8 array.

    Raises PipelineError: INVALID_IMAGE (empty, not an image, unsupported or broken file),
    IMAGE_TOO_LARGE (too many bytes, or too many pixels according to the header),
    NOT_A_COLOR_IMAGE (grayscale or nearly so).
    """
    if not data:
        raise PipelineError(ErrorCode.INVALID_IMAGE, "The upload is empty. Please choose a photo.")
    if len(data) > limits.max_bytes:
        raise PipelineError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"The file is larger than {limits.max_bytes / 1_000_000:.0f} MB. Please upload a smaller photo.",
            {"max_bytes": limits.max_bytes, "bytes": len(data)},
        )
    kind = sniff_image_type(data[:16])
    if kind is None:
        raise PipelineError(
            ErrorCode.INVALID_IMAGE, "This file is not a JPEG, PNG or WebP image. Please upload a photo."
        )
    try:
        image, orientation = _open_within_limits(data, kind, limits)
        icc_profile = image.info.get("icc_profile")
        rgb = _decode_to_working_size(image, limits.working_max_side)
        if isinstance(icc_profile, bytes) and image.mode in ("RGB", "RGBA", "RGBX", "P"):
            rgb = _convert_to_srgb(rgb, icc_profile)
    except PipelineError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (above ~89 MP) fires inside open(); only reachable when max_pixels is
        # configured above it, or when warnings are turned into errors.
        raise _too_many_pixels(limits) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # Truncated data, corrupt headers and unsupported variants all surface as one of these.
        raise PipelineError(
            ErrorCode.INVALID_IMAGE,
            "The image could not be read; the file may be damaged or incomplete. Please upload it again.",
        ) from exc
    rgb = _apply_exif_orientation(rgb, orientation)
    _require_color(rgb, limits)
    return rgb


def _open_within_limits(data: bytes, kind: str, limits: DecodeLimits) -> tuple[Image.Image, int]:
    """Parse only the header: format, size, mode and EXIF orientation. No pixel data is decoded."""
    image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
    width, height = image.size
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits)
    if min(width, height) < limits.min_side:
        raise PipelineError(
            ErrorCode.INVALID_IMAGE,
            f"The image is only {width}x{height} pixels. Please upload a photo at least "
            f"{limits.min_side} pixels on each side.",
        )
    if max(width, height) > limits.max_aspect_ratio * min(width, height):
        raise PipelineError(
            ErrorCode.INVALID_IMAGE,
            f"The image is {width}x{height} pixels, too narrow for a portrait. Please upload a photo "
            f"whose long side is at most {limits.max_aspect_ratio:g} times its short side.",
            {"width": width, "height": height, "max_aspect_ratio": limits.max_aspect_ratio},
        )
    if image.mode in _GRAYSCALE_MODES:
        raise _not_color()
    orientation = int(image.getexif().get(_EXIF_ORIENTATION_TAG, 1))
    return image, orientation


def _decode_to_working_size(image: Image.Image, max_side: int) -> Uint8Image:
    width, height = image.size
    scale = min(1.0, max_side / max(width, height))
    if scale < 1.0 and image.format in ("JPEG", "MPO"):  # MPO: phone JPEGs with a depth or preview frame
        # Ask libjpeg for the smallest power-of-two reduction that still covers the working size.
        image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    if image.mode != "RGB":
        # Palette, CMYK and alpha images; alpha is dropped (selfies have no meaningful transparency).
        image = image.convert("RGB")
    rgb = np.asarray(image, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"unexpected decoded shape {rgb.shape}")
    long_side = max(rgb.shape[:2])
    if long_side > max_side:
        factor = max_side / long_side
        size = (max(1, round(rgb.shape[1] * factor)), max(1, round(rgb.shape[0] * factor)))
        # INTER_AREA (a box average) for real reductions; for a gentle one (under 2x) its generic
        # path costs ~7 ms at 1280x960, while bilinear reads every source pixel anyway.
        interpolation = cv2.INTER_AREA if factor <= 0.5 else cv2.INTER_LINEAR
        rgb = np.asarray(cv2.resize(rgb, size, interpolation=interpolation), dtype=np.uint8)
    return np.ascontiguousarray(rgb)


def _convert_to_srgb(rgb: Uint8Image, icc_profile: bytes) -> Uint8Image:
    """Re-express pixels tagged with another RGB colour space (Display P3, Adobe RGB) in sRGB.

    Every later stage assumes sRGB. Phones commonly tag photos Display P3; read as sRGB their
    colours come out less saturated, which would shift a skin measurement by a few CIEDE2000
    units. Relative colorimetric intent: skin, hair and eye colours lie inside sRGB and keep their
    exact values. Untagged, sRGB-tagged and unreadable profiles leave the pixels as they are.
    """
    transform = _transform_to_srgb(icc_profile)
    if transform is None:
        return rgb
    with _CMS_LOCK:  # one lcms transform object is shared by all threads
        converted = ImageCms.applyTransform(Image.fromarray(rgb), transform)
    return np.asarray(converted, dtype=np.uint8) if converted is not None else rgb


@functools.lru_cache(maxsize=16)
def _transform_to_srgb(icc_profile: bytes) -> ImageCms.ImageCmsTransform | None:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if profile.profile.xcolor_space.strip() != "RGB":
            return None
        if (ImageCms.getProfileDescription(profile) or "").strip().startswith("sRGB"):
            return None
        return ImageCms.buildTransform(
            profile, _SRGB_PROFILE, "RGB", "RGB", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
        )
    except (OSError, ValueError, ImageCms.PyCMSError):
        return None


def _apply_exif_orientation(rgb: Uint8Image, orientation: int) -> Uint8Image:
    """Turn the stored pixels upright as EXIF orientation 1-8 says (same result as ImageOps.exif_transpose).

    Done on the already downscaled array: orientation is a pure permutation of pixels, so it
    commutes with the box-average resize and costs almost nothing at working size.
    """
    transforms: dict[int, Callable[[Uint8Image], Uint8Image]] = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: np.rot90(a, k=1),
    }
    transform = transforms.get(orientation)
    return rgb if transform is None else np.ascontiguousarray(transform(rgb))


def _require_color(rgb: Uint8Image, limits: DecodeLimits) -> None:
    """Refuse grayscale and near-grayscale pictures, whatever their file says they are.

    A black-and-white photo saved as an RGB JPEG has three channels but no colour to diagnose.
    Chroma is measured in CIELAB on an evenly strided sample of pixels. The sample is taken in
    interleaved parts (each spread over the whole picture) and the count stops as soon as the
    colourful pixels found so far already reach the required fraction of the whole sample: the
    verdict is the same as counting them all, and for a colour selfie one part of eight decides.
    """
    pixels = rgb.reshape(-1, 3)
    sample = pixels[:: max(1, pixels.shape[0] // _CHROMA_SAMPLE_PIXELS)]
    colorful = 0
    for part in range(_CHROMA_SAMPLE_PARTS):
        lab = srgb_uint8_to_lab(sample[part::_CHROMA_SAMPLE_PARTS])
        colorful += int(np.count_nonzero(np.hypot(lab[:, 1], lab[:, 2]) >= limits.min_chroma))
        if colorful / len(sample) >= limits.colorful_fraction:
            return
    raise _not_color()


def _too_many_pixels(limits: DecodeLimits) -> PipelineError:
    return PipelineError(
        ErrorCode.IMAGE_TOO_LARGE,
        f"The image has more than {limits.max_pixels / 1_000_000:.0f} megapixels. "
        "Please upload a smaller photo.",
        {"max_pixels": limits.max_pixels},
    )


def _not_color() -> PipelineError:
    return PipelineError(
        ErrorCode.NOT_A_COLOR_IMAGE,
        "This looks like a black-and-white photo. Color analysis needs a color photo.",
    )
