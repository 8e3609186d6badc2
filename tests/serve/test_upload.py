"""The upload parser: photos stay in memory, oversized bodies are refused while they stream in."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest

from pipeline.errors import ErrorCode
from serve_app.api.upload import read_upload_form
from serve_app.errors import ServiceError


def multipart(files: dict[str, tuple[str, bytes, str]], data: dict[str, str] | None = None) -> httpx.Request:
    return httpx.Request("POST", "http://test/analysis/start", files=files, data=data)


async def chunks(
    body: bytes, size: int = 64 * 1024, counter: list[int] | None = None
) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        if counter is not None:
            counter.append(start + size)
        yield body[start : start + size]


def parse(
    request: httpx.Request, limit: int, declared_length: bool = True, pieces: Iterable[int] | None = None
):
    body = request.read()
    length = request.headers.get("content-length") if declared_length else None
    return asyncio.run(
        read_upload_form(
            request.headers["content-type"], length, chunks(body), image_field="image", max_image_bytes=limit
        )
    )


def test_image_and_fields_are_read_into_memory(monkeypatch):
    image = os.urandom(3_000_000)  # bigger than Starlette's 1 MB spool threshold
    request = multipart({"image": ("me.jpg", image, "image/jpeg")}, {"lighting_score": "72.5"})

    def no_disk(*_args, **_kwargs):
        raise AssertionError("an upload must never be written to a temporary file")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_disk)
    form = parse(request, limit=10_000_000)

    assert form.image == image
    assert form.image_content_type == "image/jpeg"
    assert form.fields == {"lighting_score": "72.5"}
    assert str(len(image)) in repr(form) and "image_bytes" in repr(form)


def test_declared_oversize_is_refused_before_reading():
    request = multipart({"image": ("big.jpg", b"x" * 2_000_000, "image/jpeg")})
    with pytest.raises(ServiceError) as raised:
        parse(request, limit=1_000_000)
    assert raised.value.code is ErrorCode.IMAGE_TOO_LARGE


def test_streamed_oversize_stops_reading_early():
    body_request = multipart({"image": ("big.jpg", b"x" * 5_000_000, "image/jpeg")})
    body = body_request.read()
    read: list[int] = []
    with pytest.raises(ServiceError) as raised:
        asyncio.run(
            read_upload_form(
                body_request.headers["content-type"],
                None,  # chunked upload: no declared length
                chunks(body, counter=read),
                image_field="image",
                max_image_bytes=1_000_000,
            )
        )
    assert raised.value.code is ErrorCode.IMAGE_TOO_LARGE
    assert max(read) < 1_200_000  # stopped near the limit, not after 5 MB


def test_not_multipart_is_a_validation_error():
    with pytest.raises(ServiceError) as raised:
        asyncio.run(
            read_upload_form("application/json", "2", chunks(b"{}"), image_field="image", max_image_bytes=10)
        )
    assert raised.value.code is ErrorCode.VALIDATION_ERROR


def test_garbled_multipart_is_a_validation_error_without_quoting_the_body():
    secret = b"SECRET-BYTES-" * 10
    with pytest.raises(ServiceError) as raised:
        asyncio.run(
            read_upload_form(
                "multipart/form-data; boundary=abc",
                None,
                chunks(b"--abc\r\nnot a header line at all\r\n\r\n" + secret),
                image_field="image",
                max_image_bytes=10_000,
            )
        )
    assert raised.value.code is ErrorCode.VALIDATION_ERROR
    assert "SECRET" not in str(raised.value)
    assert raised.value.__cause__ is None


def test_overlong_text_field_is_refused():
    request = multipart({"image": ("me.jpg", b"\xff\xd8\xff", "image/jpeg")}, {"lang": "x" * 5000})
    with pytest.raises(ServiceError) as raised:
        parse(request, limit=10_000)
    assert raised.value.code is ErrorCode.VALIDATION_ERROR


def test_boundary_longer_than_the_parser_allows_is_a_validation_error():
    # python_multipart refuses boundaries over 256 bytes when the parser is built, not on write.
    boundary = "b" * 300
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="lang"\r\n\r\nen\r\n--{boundary}--\r\n'
    with pytest.raises(ServiceError) as raised:
        asyncio.run(
            read_upload_form(
                f"multipart/form-data; boundary={boundary}",
                None,
                chunks(body.encode()),
                image_field="image",
                max_image_bytes=10_000,
            )
        )
    assert raised.value.code is ErrorCode.VALIDATION_ERROR
