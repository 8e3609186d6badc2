"""Hostile requests for the chaos bench: uploads and ids no honest client sends.

Each case is a raw HTTP request (method, path, headers, body), built from a seeded random source so
a run can be repeated. Kinds: random bytes, valid photos truncated at many lengths, corrupt
markers, decompression bombs (headers claiming huge sizes), huge EXIF, extreme aspect ratios,
malformed multipart, odd form values, and injection strings in ids. The photos are made in code
from `skimage.data.astronaut()`; nothing is read from disk.
"""

from __future__ import annotations

import io
import random
import struct
import urllib.parse
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from skimage import data

BOUNDARY = "chaosboundary"


@dataclass(frozen=True)
class Case:
    kind: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def astronaut_photo(kind: str = "JPEG", size: int = 512) -> bytes:
    raw = data.astronaut()  # type: ignore[no-untyped-call]
    image = Image.fromarray(np.asarray(raw, dtype=np.uint8)).resize((size, size))
    buffer = io.BytesIO()
    image.save(buffer, format=kind, quality=90) if kind == "JPEG" else image.save(buffer, format=kind)
    return buffer.getvalue()


def multipart(image: bytes, fields: dict[str, str] | None = None, filename: str = "photo.jpg") -> Case:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + image
        + b"\r\n"
    ]
    for name, value in (fields or {}).items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8", "surrogatepass")
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    return Case("upload", "POST", "/analysis/start", body, headers)


def _upload(kind: str, image: bytes, fields: dict[str, str] | None = None) -> Case:
    case = multipart(image, fields)
    return Case(kind, case.method, case.path, case.body, case.headers)


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming `width` x `height`, with a tiny IDAT."""

    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _jpeg_claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """`jpeg` with its frame header (SOF0/SOF2) rewritten to claim another size."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = jpeg.find(marker)
        if at >= 0:
            return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]
    return jpeg


def _strip_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 140, 110)).save(buffer, format="PNG")
    return buffer.getvalue()


def _huge_exif_jpeg(photo: bytes, segments: int) -> bytes:
    """`photo` with `segments` APP1 segments of ~64 KB each right after SOI."""
    app1 = b"\xff\xe1" + struct.pack(">H", 65533) + b"Exif\0\0" + b"\0" * (65533 - 8)
    return photo[:2] + app1 * segments + photo[2:]


ODD_FIELDS: list[dict[str, str]] = [
    {"lighting_score": value}
    for value in ["nan", "inf", "-1", "1e309", "1_0", "５０", "٥٠", "0x10", "50" * 600, " ", "\0", "50\r\n"]
] + [{"lang": value} for value in ["xx", "EN", "ko\0", "' OR 1=1 --", "k" * 2000, "日本語"]]

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE analysis_tasks; --",
    "../../../../etc/passwd",
    "%00",
    "%2e%2e%2f",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "00000000-0000-0000-0000-000000000000",
    str(uuid.UUID(int=2**128 - 1)),
    "0x1",
    "-1",
    "9" * 400,
    "ｕｕｉｄ",
    "\u202e",
    "a" * 4000,
]


def cases(count: int, seed: int = 19) -> Iterator[Case]:
    """At least `count` cases, every kind represented, in a shuffled but repeatable order."""
    rng = random.Random(seed)
    jpeg, png, webp = astronaut_photo("JPEG"), astronaut_photo("PNG", 256), astronaut_photo("WEBP")
    built: list[Case] = []
    while len(built) < count:
        built += [_upload("random_bytes", rng.randbytes(rng.choice([1, 7, 64, 1000, 50_000])))]
        built += [_upload("random_bytes_behind_magic", b"\xff\xd8\xff" + rng.randbytes(rng.randint(1, 5000)))]
        for photo in (jpeg, png, webp):
            built.append(_upload("truncated", photo[: rng.randint(1, len(photo) - 1)]))
        corrupt = bytearray(jpeg)
        for _ in range(rng.randint(1, 20)):
            corrupt[rng.randint(2, min(len(corrupt) - 1, 2000))] = rng.randint(0, 255)
        built.append(_upload("corrupt_markers", bytes(corrupt)))
        side = rng.choice([60_000, 65_535, 40_000])
        built.append(_upload("decompression_bomb", _png_claiming(side, side)))
        built.append(_upload("decompression_bomb", _jpeg_claiming(jpeg, side, rng.choice([side, 40_000]))))
        built.append(_upload("huge_exif", _huge_exif_jpeg(jpeg, rng.choice([1, 3, 20]))))
        width, height = rng.choice([(5000, 33), (33, 5000), (32, 200_000), (200_000, 32), (1, 1), (31, 4000)])
        built.append(_upload("extreme_aspect", _strip_png(width, height)))
        built += _malformed_multipart(rng, jpeg)
        built.append(_upload("odd_form_values", jpeg, rng.choice(ODD_FIELDS)))
        built += _injected_ids(rng)
    rng.shuffle(built)
    return iter(built)


def _malformed_multipart(rng: random.Random, jpeg: bytes) -> list[Case]:
    good = multipart(jpeg)
    variants: list[tuple[bytes, str]] = [
        (good.body, "multipart/form-data"),  # no boundary
        (good.body, f"multipart/form-data; boundary={'b' * 300}"),  # longer than the parser allows
        (good.body[: rng.randint(10, len(good.body) - 10)], good.headers["content-type"]),  # no end
        (b"--" + BOUNDARY.encode() + b"\r\nnot a header\r\n\r\n" + jpeg, good.headers["content-type"]),
        (b"", good.headers["content-type"]),
        (good.body, "application/json"),
        (good.body, "multipart/form-data; boundary="),
        (good.body + good.body, good.headers["content-type"]),  # two image fields
        (good.body.replace(b'name="image"', b'name="im\0age"'), good.headers["content-type"]),
        (rng.randbytes(3000), good.headers["content-type"]),
    ]
    body, content_type = rng.choice(variants)
    return [Case("malformed_multipart", "POST", "/analysis/start", body, {"content-type": content_type})]


def _injected_ids(rng: random.Random) -> list[Case]:
    value = rng.choice(INJECTIONS)
    quoted = urllib.parse.quote(value, safe="")
    route = rng.choice(["/analysis/status/", "/analysis/result/", "/history/"])
    method = "DELETE" if route == "/history/" else "GET"
    return [Case("injected_id", method, route + quoted)]
