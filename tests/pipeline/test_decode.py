"""Decoding uploads: every kind of good and bad input gets its outcome and stable error code."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from pipeline.color import delta_e_2000, srgb_uint8_to_lab
from pipeline.decode import DecodeLimits, decode_image, sniff_image_type
from pipeline.errors import ErrorCode, PipelineError
from tests.support import faces


def decode_error(data: bytes, limits: DecodeLimits | None = None) -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        decode_image(data, limits or DecodeLimits())
    return caught.value


def mean_abs_difference(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


@pytest.mark.parametrize("encode", [faces.encode_jpeg, faces.encode_png, faces.encode_webp])
def test_jpeg_png_and_webp_decode_to_the_same_rgb_picture(encode):
    original = faces.astronaut()
    decoded = decode_image(encode(original))
    assert decoded.dtype == np.uint8
    assert decoded.shape == original.shape
    assert mean_abs_difference(decoded, original) < 3.0


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    data = faces.exif_rotated_jpeg(orientation)
    decoded = decode_image(data)
    assert decoded.shape == (512, 512, 3)
    # Upright again: the same picture as the original, and what Pillow's own transpose gives.
    assert mean_abs_difference(decoded, faces.astronaut()) < 3.0
    np.testing.assert_array_equal(decoded, np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data)))))


def test_exif_rotation_of_a_non_square_photo_swaps_width_and_height():
    wide = faces.astronaut()[:300]
    decoded = decode_image(faces.exif_rotated_jpeg(6, wide))
    assert decoded.shape == (300, 512, 3)


def test_zero_bytes_are_an_invalid_image():
    assert decode_error(faces.zero_bytes()).code is ErrorCode.INVALID_IMAGE


def test_random_bytes_are_an_invalid_image():
    assert decode_error(faces.random_bytes()).code is ErrorCode.INVALID_IMAGE


def test_random_bytes_behind_a_jpeg_signature_are_an_invalid_image():
    assert decode_error(b"\xff\xd8\xff\xe0" + faces.random_bytes()).code is ErrorCode.INVALID_IMAGE


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_jpeg_is_an_invalid_image(keep):
    assert decode_error(faces.truncated_jpeg(keep)).code is ErrorCode.INVALID_IMAGE


def test_truncated_png_is_an_invalid_image():
    data = faces.encode_png(faces.astronaut())
    assert decode_error(data[: len(data) // 2]).code is ErrorCode.INVALID_IMAGE


def test_other_image_formats_are_refused_as_invalid():
    buffer = io.BytesIO()
    Image.fromarray(faces.astronaut()).save(buffer, format="GIF")
    assert decode_error(buffer.getvalue()).code is ErrorCode.INVALID_IMAGE


def test_a_file_over_the_byte_limit_is_too_large_before_anything_is_parsed():
    data = faces.encode_png(faces.astronaut())
    error = decode_error(data, DecodeLimits(max_bytes=len(data) - 1))
    assert error.code is ErrorCode.IMAGE_TOO_LARGE
    assert error.details["max_bytes"] == len(data) - 1
    # The default limit is 10 MB; random bytes past it are refused for size, not content.
    assert decode_error(b"\x00" * 10_000_001).code is ErrorCode.IMAGE_TOO_LARGE


@pytest.mark.parametrize(
    "bomb",
    [
        faces.huge_dimensions_png(),  # 10 gigapixels: beyond Pillow's own guard too
        faces.huge_dimensions_jpeg(),  # 3.6 gigapixels in a few kilobytes
        faces.huge_dimensions_png(8000, 6000),  # 48 MP: under Pillow's guard, over ours
        faces.huge_dimensions_jpeg(8000, 6000),
    ],
)
def test_header_claiming_too_many_pixels_is_refused_before_decoding(bomb):
    assert len(bomb) < 10_000
    error = decode_error(bomb)
    assert error.code is ErrorCode.IMAGE_TOO_LARGE
    assert "megapixels" in error.message


def test_pixel_limit_is_configurable():
    data = faces.encode_jpeg(faces.astronaut())
    assert decode_error(data, DecodeLimits(max_pixels=512 * 512 - 1)).code is ErrorCode.IMAGE_TOO_LARGE
    assert decode_image(data, DecodeLimits(max_pixels=512 * 512)).shape == (512, 512, 3)


def test_pillows_bomb_guard_becomes_image_too_large_even_when_warnings_are_errors():
    # 100 MP is over Pillow's warning threshold (89 MP) but under a generous configured limit.
    bomb = faces.huge_dimensions_png(10_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = decode_error(bomb, DecodeLimits(max_pixels=200_000_000))
    assert error.code is ErrorCode.IMAGE_TOO_LARGE


def test_grayscale_jpeg_is_not_a_color_image():
    assert decode_error(faces.grayscale_jpeg(as_rgb=False)).code is ErrorCode.NOT_A_COLOR_IMAGE


def test_grayscale_jpeg_saved_as_rgb_is_not_a_color_image():
    data = faces.grayscale_jpeg(as_rgb=True)
    assert Image.open(io.BytesIO(data)).mode == "RGB"
    assert decode_error(data).code is ErrorCode.NOT_A_COLOR_IMAGE


def test_nearly_grayscale_photo_is_not_a_color_image():
    photo, gray = faces.astronaut().astype(np.float64), faces.grayscale().astype(np.float64)
    washed_out = np.round(0.05 * photo + 0.95 * gray).astype(np.uint8)
    assert decode_error(faces.encode_png(washed_out)).code is ErrorCode.NOT_A_COLOR_IMAGE


def test_dim_and_muted_colour_photos_still_count_as_colour():
    photo, gray = faces.astronaut().astype(np.float64), faces.grayscale().astype(np.float64)
    muted = np.round(0.3 * photo + 0.7 * gray).astype(np.uint8)
    decode_image(faces.encode_png(muted))
    decode_image(faces.encode_jpeg(faces.exposed(-3)))
    decode_image(faces.encode_jpeg(faces.no_face()))


def test_palette_and_alpha_pngs_decode_to_rgb():
    photo = Image.fromarray(faces.astronaut())
    for image in (photo.quantize(colors=256), photo.convert("RGBA")):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        decoded = decode_image(buffer.getvalue())
        assert decoded.shape == (512, 512, 3)
        assert mean_abs_difference(decoded, faces.astronaut()) < 8.0


def test_tiny_images_are_refused_as_invalid():
    assert decode_error(faces.encode_png(faces.astronaut()[:16, :16])).code is ErrorCode.INVALID_IMAGE


@pytest.mark.parametrize("size", [(5000, 33), (33, 5000), (32, 200_000), (200_000, 32)])
def test_very_wide_or_tall_images_are_refused_as_invalid_from_the_header(size):
    # Each side passes the minimum, but at working size the short side would shrink to a few pixels.
    width, height = size
    strip = Image.new("RGB", (width, height), (200, 120, 90))
    buffer = io.BytesIO()
    strip.save(buffer, format="PNG")
    error = decode_error(buffer.getvalue())
    assert error.code is ErrorCode.INVALID_IMAGE
    assert f"{width}x{height}" in error.message


def test_a_tall_phone_portrait_still_decodes():
    portrait = np.ascontiguousarray(faces.resized(faces.astronaut(), 1024)[:, 256:768])  # 512 x 1024
    assert decode_image(faces.encode_png(portrait)).shape == (1024, 512, 3)


@pytest.mark.parametrize("encode", [faces.encode_jpeg, faces.encode_png])
def test_large_photos_are_scaled_to_the_working_size_keeping_their_aspect(encode):
    large = faces.resized(faces.two_faces(), 3000)  # 3000 x 1500
    decoded = decode_image(encode(large))
    assert decoded.shape == (512, 1024, 3)
    custom = decode_image(encode(large), DecodeLimits(working_max_side=640))
    assert custom.shape == (320, 640, 3)


def test_result_does_not_depend_on_the_original_resolution_beyond_noise():
    reference = faces.resized(faces.astronaut(), 1024)
    cheek_rows, cheek_cols = slice(250, 290), slice(375, 420)  # the cheek box at 1024 px
    reference_skin = np.median(srgb_uint8_to_lab(reference[cheek_rows, cheek_cols].reshape(-1, 3)), axis=0)
    for long_side in (1500, 2048, 4000):
        decoded = decode_image(faces.encode_jpeg(faces.resized(faces.astronaut(), long_side), quality=95))
        assert decoded.shape == (1024, 1024, 3)
        skin = np.median(srgb_uint8_to_lab(decoded[cheek_rows, cheek_cols].reshape(-1, 3)), axis=0)
        assert float(delta_e_2000(skin, reference_skin)) < 1.0
        assert mean_abs_difference(decoded, reference) < 3.0


def test_sniff_image_type_from_magic_bytes():
    assert sniff_image_type(faces.encode_jpeg(faces.astronaut())[:16]) == "jpeg"
    assert sniff_image_type(faces.encode_png(faces.astronaut())[:16]) == "png"
    assert sniff_image_type(faces.encode_webp(faces.astronaut())[:16]) == "webp"
    assert sniff_image_type(b"GIF89a") is None
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WAVE") is None
    assert sniff_image_type(b"") is None
    assert sniff_image_type(faces.random_bytes()[:16]) is None


def test_errors_carry_a_human_message_and_no_image_data():
    for data in (faces.zero_bytes(), faces.truncated_jpeg(), faces.grayscale_jpeg()):
        body = decode_error(data).to_dict()
        assert body["message"]
        assert all(not isinstance(v, bytes | np.ndarray) for v in body.get("details", {}).values())


def test_display_p3_photos_are_converted_to_srgb():
    profile = faces.display_p3_profile()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    original = faces.astronaut()
    in_p3 = np.asarray(
        ImageCms.profileToProfile(
            Image.fromarray(original), srgb, p3, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
        )
    )
    cheek = faces.ASTRONAUT_CHEEK_BOX
    reference = np.median(srgb_uint8_to_lab(original[cheek].reshape(-1, 3)), axis=0)

    def cheek_error(data: bytes) -> float:
        decoded = decode_image(data)
        return float(
            delta_e_2000(np.median(srgb_uint8_to_lab(decoded[cheek].reshape(-1, 3)), axis=0), reference)
        )

    converted = cheek_error(faces.encode_jpeg(in_p3, icc_profile=profile))
    ignored = cheek_error(faces.encode_jpeg(in_p3))  # what ignoring the tag would cost
    assert converted < 1.0
    assert ignored > 1.5
    assert converted < ignored / 2


def test_srgb_tagged_and_broken_profiles_leave_pixels_alone():
    plain = decode_image(faces.encode_jpeg(faces.astronaut()))
    srgb_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    np.testing.assert_array_equal(
        decode_image(faces.encode_jpeg(faces.astronaut(), icc_profile=srgb_profile)), plain
    )
    np.testing.assert_array_equal(
        decode_image(faces.encode_jpeg(faces.astronaut(), icc_profile=b"junk" * 40)), plain
    )


def test_multi_picture_jpeg_from_a_phone_decodes_its_main_picture():
    main = Image.fromarray(faces.astronaut())
    buffer = io.BytesIO()
    main.save(
        buffer, format="MPO", quality=92, save_all=True, append_images=[Image.fromarray(faces.no_face())]
    )
    decoded = decode_image(buffer.getvalue())
    assert mean_abs_difference(decoded, faces.astronaut()) < 3.0
