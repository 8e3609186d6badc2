"""Test images made in code from public-domain photos; nothing here is ever written to disk.

The base face is `skimage.data.astronaut()` (NASA, public domain, 512x512, one frontal face);
`chelsea()` (a cat) is the photo without a human face. Every variant the pipeline must handle is a
function here, so tests, benchmarks and model checks across the team use identical inputs:

    profiles:                   display_p3_profile (ICC bytes)
    arrays (HxWx3 sRGB uint8):  astronaut, no_face, warm_cast, cool_cast, green_cast, exposed,
                                underexposed, overexposed, backlit, hazy, grayscale, two_faces,
                                tiny_face, resized
    bytes (uploads):            encode_jpeg, encode_png, encode_webp, exif_rotated_jpeg,
                                grayscale_jpeg, truncated_jpeg, random_bytes, zero_bytes,
                                huge_dimensions_png, huge_dimensions_jpeg

Casts and exposure changes go through `pipeline.augment`, i.e. von Kries gains and EV gains in
linear RGB, never on gamma-encoded values.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from functools import cache

import cv2
import numpy as np
from PIL import Image
from skimage import data as skimage_data

from pipeline.arrays import Uint8Image
from pipeline.augment import apply_exposure, apply_illuminant, kelvin_to_linear_rgb

WARM_KELVIN = 4000.0
COOL_KELVIN = 8000.0
# A fluorescent-like green tint: about 10 degrees from neutral in linear RGB.
GREEN_ILLUMINANT = np.array([0.30, 0.42, 0.28])
UNDER_EV = -2.0
OVER_EV = 1.5
EXIF_ORIENTATION_TAG = 0x0112
# A cheek-and-forehead-free skin box on the astronaut's left cheek (her right), rows then columns.
# Used where the landmark stage is not wanted, e.g. the colour-constancy benchmark.
ASTRONAUT_CHEEK_BOX = (slice(122, 148), slice(186, 212))


@cache
def _astronaut() -> Uint8Image:
    raw = skimage_data.astronaut()  # type: ignore[no-untyped-call]
    image = np.ascontiguousarray(raw, dtype=np.uint8)
    image.setflags(write=False)
    return image


def astronaut() -> Uint8Image:
    """The reference selfie: well lit, one frontal face (a fresh writable copy)."""
    return _astronaut().copy()


def no_face() -> Uint8Image:
    """A colour photo of a cat (`skimage.data.chelsea()`, 300x451): no human face."""
    raw = skimage_data.chelsea()  # type: ignore[no-untyped-call]
    return np.ascontiguousarray(raw, dtype=np.uint8)


def warm_cast(kelvin: float = WARM_KELVIN) -> Uint8Image:
    """The astronaut as if lit by a warmer light (default 4000 K) than the D65 it was shot for."""
    return apply_illuminant(astronaut(), kelvin_to_linear_rgb(kelvin))


def cool_cast(kelvin: float = COOL_KELVIN) -> Uint8Image:
    """The astronaut under a cooler, bluish light (default 8000 K, overcast sky)."""
    return apply_illuminant(astronaut(), kelvin_to_linear_rgb(kelvin))


def green_cast() -> Uint8Image:
    """The astronaut under a greenish (fluorescent-like) light."""
    return apply_illuminant(astronaut(), GREEN_ILLUMINANT)


def exposed(ev: float, image: Uint8Image | None = None) -> Uint8Image:
    """The image (default: astronaut) with its exposure changed by `ev` stops, clipped like a sensor."""
    return apply_exposure(astronaut() if image is None else image, ev)


def underexposed() -> Uint8Image:
    """The astronaut two stops too dark (-2 EV)."""
    return exposed(UNDER_EV)


def overexposed() -> Uint8Image:
    """The astronaut 1.5 stops too bright (+1.5 EV). Her already bright skin clips in red and green."""
    return exposed(OVER_EV)


def backlit() -> Uint8Image:
    """The astronaut 2.5 stops too dark in front of a bright window (the area around her head)."""
    dark = exposed(-2.5)
    rows, cols = np.mgrid[: dark.shape[0], : dark.shape[1]]
    person = (((cols - 225) / 80) ** 2 + ((rows - 125) / 100) ** 2 < 1) | (rows > 225)
    return np.asarray(np.where(person[:, :, None], dark, np.uint8(235)), dtype=np.uint8)


def hazy(haze: float = 0.85) -> Uint8Image:
    """The astronaut behind a veil of light haze (a fogged lens): blacks lifted, contrast gone."""
    veiled = (1.0 - haze) * astronaut().astype(np.float64) + haze * 205.0
    return np.asarray(np.round(veiled), dtype=np.uint8)


def grayscale(image: Uint8Image | None = None) -> Uint8Image:
    """A black-and-white version (ITU-R 601 luma, as Pillow's 'L'), still stored as three channels."""
    source = astronaut() if image is None else image
    luma = np.asarray(Image.fromarray(source).convert("L"))
    return np.repeat(luma[:, :, None], 3, axis=2)


def two_faces() -> Uint8Image:
    """Two people: the astronaut tiled twice side by side (512x1024)."""
    face = astronaut()
    return np.hstack([face, face])


def tiny_face(canvas_size: tuple[int, int] = (1600, 1200), face_side: int = 48) -> Uint8Image:
    """A face `face_side` px wide photo pasted in the middle of a large grey canvas (width, height)."""
    width, height = canvas_size
    canvas = np.full((height, width, 3), 128, dtype=np.uint8)
    small = cv2.resize(astronaut(), (face_side * 2, face_side * 2), interpolation=cv2.INTER_AREA)
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    return canvas


def resized(image: Uint8Image, long_side: int) -> Uint8Image:
    """The image scaled so its long side is `long_side` (INTER_AREA down, INTER_CUBIC up)."""
    height, width = image.shape[:2]
    factor = long_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=interpolation))


def encode_jpeg(
    image: Uint8Image, quality: int = 92, exif: Image.Exif | None = None, icc_profile: bytes | None = None
) -> bytes:
    """JPEG bytes of an RGB (or single-channel) uint8 array, optionally with EXIF and an ICC profile."""
    buffer = io.BytesIO()
    kwargs: dict[str, bytes] = {}
    if exif is not None:
        kwargs["exif"] = exif.tobytes()
    if icc_profile is not None:
        kwargs["icc_profile"] = icc_profile
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, **kwargs)
    return buffer.getvalue()


# Display P3 primaries adapted to the D50 connection space, as in Apple's "Display P3" profile.
DISPLAY_P3_D50_PRIMARIES = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))


def display_p3_profile(gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 matrix/TRC display profile with Display P3 primaries (pure-gamma curves).

    Built byte by byte (ICC.1:2001-04) so tests need no profile file: phones tag most photos with
    Display P3, and the decoder must convert such pixels to sRGB.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz_tag(xyz: tuple[float, float, float]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(v) for v in xyz)

    description = b"Display P3 test profile\0"
    desc = (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(description))
        + description
        + struct.pack(">II", 0, 0)
        + struct.pack(">HB", 0, 0)
        + b"\0" * 67
    )
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    d50 = (0.9642, 1.0, 0.8249)
    red, green, blue = DISPLAY_P3_D50_PRIMARIES
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz_tag(d50)),
        (b"rXYZ", xyz_tag(red)),
        (b"gXYZ", xyz_tag(green)),
        (b"bXYZ", xyz_tag(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0public domain\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        padded = data + b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += padded
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + b"".join(s15(v) for v in d50)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def encode_png(image: Uint8Image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def encode_webp(image: Uint8Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="WEBP", quality=quality)
    return buffer.getvalue()


def exif_rotated_jpeg(orientation: int = 6, image: Uint8Image | None = None) -> bytes:
    """JPEG whose pixels are stored turned, with the EXIF orientation that turns them upright again.

    Orientation 6 is what a phone held upright writes: the sensor's pixels are stored rotated
    90 degrees counter-clockwise and the viewer must rotate them clockwise.
    """
    upright = astronaut() if image is None else image
    transforms: dict[int, Callable[[Uint8Image], Uint8Image]] = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, k=1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: np.rot90(a, k=-1),
    }
    stored_from_upright = transforms[orientation]
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = orientation
    return encode_jpeg(np.ascontiguousarray(stored_from_upright(upright)), exif=exif)


def grayscale_jpeg(as_rgb: bool = True) -> bytes:
    """A black-and-white JPEG; `as_rgb` stores it with three channels (the case a mode check misses)."""
    gray = grayscale()
    return encode_jpeg(gray if as_rgb else gray[:, :, 0])


def truncated_jpeg(keep_fraction: float = 0.5) -> bytes:
    """The astronaut's JPEG cut off part-way through its entropy-coded data (an interrupted upload)."""
    data = encode_jpeg(astronaut())
    return data[: int(len(data) * keep_fraction)]


def random_bytes(size: int = 4096, seed: int = 0) -> bytes:
    """Noise that is no image at all (seeded, so failures reproduce)."""
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def zero_bytes() -> bytes:
    """An empty upload."""
    return b""


def huge_dimensions_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header (with correct CRC) claiming width x height pixels, followed by a tiny IDAT.

    A decompression bomb in miniature: a few dozen bytes that would need tens of gigabytes if
    anyone decoded them.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def huge_dimensions_jpeg(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small real JPEG whose start-of-frame header is patched to claim width x height pixels."""
    data = bytearray(encode_jpeg(astronaut()[:64, :64]))
    for marker in (b"\xff\xc0", b"\xff\xc2"):  # baseline or progressive start of frame
        at = data.find(marker)
        if at >= 0:
            # Segment: marker, length (2), precision (1), height (2), width (2), ...
            struct.pack_into(">HH", data, at + 5, height, width)
            return bytes(data)
    raise AssertionError("encoded JPEG has no start-of-frame marker")
