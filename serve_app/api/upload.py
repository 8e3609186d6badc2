"""Reading an uploaded photo into memory, and nowhere else.

Starlette's form parser spools file parts larger than 1 MB to a temporary file on disk, which would
break the promise that a photo never touches the disk. This module parses the multipart stream itself
(with `python_multipart`, the parser Starlette uses underneath) into a bounded in-memory buffer, and
stops reading as soon as the body grows past the limit, so an oversized upload is never buffered whole.

It never logs, stores or quotes the bytes it reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

from pipeline.errors import ErrorCode
from serve_app.errors import ServiceError

# Room for the multipart boundaries, part headers and the small text fields around the image.
FORM_OVERHEAD_BYTES = 64 * 1024
# Text fields (e.g. `lighting_score`) are tiny; anything longer is not what we asked for.
MAX_TEXT_FIELD_BYTES = 1024


@dataclass
class UploadForm:
    """The fields of one upload: the image bytes (in memory) and the small text fields."""

    image: bytes | None = None
    image_content_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show the bytes, even in a debugger or a traceback
        size = None if self.image is None else len(self.image)
        return f"UploadForm(image_bytes={size}, fields={sorted(self.fields)})"


def too_large(max_image_bytes: int) -> ServiceError:
    return ServiceError(
        ErrorCode.IMAGE_TOO_LARGE,
        f"The photo is larger than {max_image_bytes // 1_000_000} MB. Please send a smaller one.",
        {"max_bytes": max_image_bytes},
    )


class _FormCollector:
    """Callbacks for `MultipartParser`: collects parts into bounded in-memory buffers."""

    def __init__(self, image_field: str, max_image_bytes: int) -> None:
        self._image_field = image_field
        self._max_image_bytes = max_image_bytes
        self.form = UploadForm()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._data = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._data = bytearray()

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _name(self) -> str:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        return options.get(b"name", b"").decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        limit = self._max_image_bytes if self._name() == self._image_field else MAX_TEXT_FIELD_BYTES
        if len(self._data) + (end - start) > limit:
            if self._name() == self._image_field:
                raise too_large(self._max_image_bytes)
            raise ServiceError(ErrorCode.VALIDATION_ERROR, f"The form field '{self._name()}' is too long.")
        self._data.extend(data[start:end])

    def _part_end(self) -> None:
        name = self._name()
        if name == self._image_field:
            content_type, _ = parse_options_header(self._headers.get("content-type", b""))
            self.form.image = bytes(self._data)
            self.form.image_content_type = content_type.decode("latin-1") or None
        elif name:
            self.form.fields[name] = self._data.decode("utf-8", "replace")
        self._data = bytearray()


async def read_upload_form(
    content_type_header: str | None,
    content_length_header: str | None,
    body: AsyncIterator[bytes],
    *,
    image_field: str,
    max_image_bytes: int,
) -> UploadForm:
    """Parse a `multipart/form-data` body into memory, refusing it early when it is too big.

    Raises `ServiceError`: IMAGE_TOO_LARGE (413) as soon as the declared or streamed size passes the
    limit, VALIDATION_ERROR (422) for a body that is not a well-formed multipart form.
    """
    content_type, options = parse_options_header(content_type_header or "")
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ServiceError(
            ErrorCode.VALIDATION_ERROR,
            "Send the photo as multipart/form-data with an 'image' field.",
        )
    max_body = max_image_bytes + FORM_OVERHEAD_BYTES
    if content_length_header and content_length_header.isdigit() and int(content_length_header) > max_body:
        raise too_large(max_image_bytes)

    collector = _FormCollector(image_field, max_image_bytes)
    received = 0
    try:
        # Inside the `try`: the constructor itself refuses some boundaries (longer than 256 bytes).
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        async for chunk in body:
            received += len(chunk)
            if received > max_body:
                raise too_large(max_image_bytes)
            parser.write(chunk)
        parser.finalize()
    except ServiceError:
        raise
    except Exception:  # the parser's messages may quote a byte of the body: do not chain them
        raise ServiceError(ErrorCode.VALIDATION_ERROR, "The multipart form could not be read.") from None
    return collector.form
