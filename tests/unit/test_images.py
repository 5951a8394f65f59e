"""Image input and output under the limits, on real files made at test time (see imagefiles.py).

Every rule is tried at its limit and one step past it. Refusals are checked for their class, their
stable code and a sentence that says what to do; accepted files for size, mode and pixel values.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin

from stylemixer import images
from stylemixer.errors import (
    ImageTooLargeError,
    InvalidImageError,
    InvalidRequestError,
    StyleMixerError,
)
from stylemixer.images import (
    ImageTooSmallError,
    content_type_for,
    encode_image,
    fit_within,
    read_image,
    save_image,
    sniff_format,
    thumbnail_jpeg,
    writing,
)
from stylemixer.limits import MAX_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES, MIN_SIDE
from tests.support import imagefiles as files
from tests.support.pictures import sample_photo, sample_photo_file

if TYPE_CHECKING:
    from pathlib import Path


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.int16)


def assert_close(actual: tuple[int, ...] | np.ndarray, expected: tuple[int, ...], tolerance: int = 3) -> None:
    diff = np.abs(np.asarray(actual, dtype=int) - np.asarray(expected, dtype=int)).max()
    assert diff <= tolerance, f"{tuple(np.asarray(actual))} is not within {tolerance} of {expected}"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 pictures, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def refusal(data: bytes, **limits: int) -> StyleMixerError:
    with pytest.raises(StyleMixerError) as caught:
        read_image(data, **limits)
    return caught.value


# --- sniffing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: files.encode(files.quadrants(64, 64), "JPEG"), "JPEG"),
        (lambda: files.encode(files.quadrants(64, 64), "PNG"), "PNG"),
        (lambda: files.encode(files.quadrants(64, 64), "WEBP"), "WEBP"),
        (lambda: files.encode(files.quadrants(64, 64), "WEBP", lossless=True), "WEBP"),
        (lambda: files.encode(files.quadrants(64, 64), "GIF"), None),
        (lambda: files.encode(files.quadrants(64, 64), "BMP"), None),
        (lambda: files.encode(files.quadrants(64, 64), "TIFF"), None),
        (lambda: files.SVG, None),
        (lambda: files.heic(files.quadrants(64, 64)), "HEIF"),
        (lambda: files.avif(files.quadrants(64, 64)), "AVIF"),
        (lambda: files.JXL_HEAD, None),
        (lambda: b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
    ],
)
def test_sniff_format_names_the_type_from_the_first_12_bytes(make, expected) -> None:
    # Given the first 12 bytes of a real file, as a ranged read of an upload returns them
    head = make()[:12]
    # When / Then the magic bytes alone decide
    assert sniff_format(head) == expected


@pytest.mark.parametrize("head", [b"", b"\xff\xd8", b"\x89PNG", b"RIFF\x00\x00\x00\x00WEB"])
def test_sniff_format_answers_none_for_a_prefix_too_short_to_decide(head: bytes) -> None:
    assert sniff_format(head) is None


def test_content_type_for_each_accepted_and_output_format() -> None:
    assert content_type_for("JPEG") == "image/jpeg"
    assert content_type_for("PNG") == "image/png"
    assert content_type_for("WEBP") == "image/webp"
    assert content_type_for("jpeg") == content_type_for("jpg") == "image/jpeg"
    assert content_type_for("webp") == "image/webp"
    with pytest.raises(ValueError, match="GIF"):
        content_type_for("GIF")


def test_check_format_gives_the_api_the_same_refusal_as_read_image() -> None:
    # Given the first 64 bytes of a GIF (what the API reads of an upload)
    gif = files.encode(files.quadrants(64, 64), "GIF")
    # When the API checks them, and when the worker reads the whole file
    with pytest.raises(InvalidImageError) as at_api:
        images.check_format(gif[:64])
    at_worker = refusal(gif)
    # Then both refuse with the same code and sentence
    assert (at_api.value.code, at_api.value.message) == (at_worker.code, at_worker.message)
    assert images.check_format(files.encode(files.quadrants(64, 64), "PNG")[:64]) == "PNG"


# --- accepted kinds: what comes out ----------------------------------------------------------


def test_real_photo_decodes_to_its_size_and_pixels() -> None:
    # Given photographs (no profile, no orientation tag)
    for name, size in [("rocket", (640, 427)), ("astronaut", (512, 512))]:
        path = sample_photo_file(name)
        # When read
        img = read_image(path)
        # Then the size, mode and pixels are those of a plain decode
        assert img.size == size
        assert img.mode == "RGB"
        assert img.info == {}
        with Image.open(path) as plain:
            assert np.array_equal(pixels(img), pixels(plain.convert("RGB")))


def test_every_kind_of_source_reads_the_same_picture(tmp_path: Path) -> None:
    # Given one PNG as bytes, bytearray, a str path, a Path and an open stream
    data = files.encode(files.quadrants(64, 48), "PNG")
    path = tmp_path / "picture.png"
    path.write_bytes(data)
    with path.open("rb") as stream:
        sources = [data, bytearray(data), memoryview(data), str(path), path, stream, io.BytesIO(data)]
        # When each is read / Then each gives the same pixels
        results = [pixels(read_image(source)) for source in sources]
    assert all(np.array_equal(results[0], other) for other in results[1:])
    assert results[0].shape == (48, 64, 3)


def test_exif_orientation_6_turns_the_picture_upright() -> None:
    # Given a 96 × 64 JPEG stored sideways, red in its stored top-left corner, orientation 6
    data = files.exif_rotated_jpeg(6, (96, 64))
    # When read
    img = read_image(data)
    # Then width and height are swapped, and the picture is turned 90° clockwise: the stored
    # top-left (red) is now top-right, the stored bottom-left (blue) is now top-left
    assert img.size == (64, 96)
    assert_close(img.getpixel((60, 4)), (255, 0, 0), 8)
    assert_close(img.getpixel((4, 4)), (0, 0, 255), 8)
    assert_close(img.getpixel((60, 92)), (0, 255, 0), 8)
    assert img.info == {}  # the orientation tag is gone with the rest, so nothing turns it twice


@pytest.mark.parametrize(
    ("orientation", "size", "top_left"),
    [(1, (96, 64), (255, 0, 0)), (3, (96, 64), (255, 255, 0)), (8, (64, 96), (0, 255, 0))],
)
def test_other_orientations(orientation: int, size: tuple[int, int], top_left: tuple[int, int, int]) -> None:
    img = read_image(files.exif_rotated_jpeg(orientation, (96, 64)))
    assert img.size == size
    assert_close(img.getpixel((4, 4)), top_left, 8)


def test_cmyk_jpeg_becomes_rgb() -> None:
    # Given a CMYK JPEG of pure magenta + yellow ink
    img = read_image(files.cmyk_jpeg())
    # Then it reads as red RGB
    assert img.mode == "RGB"
    assert_close(img.getpixel((10, 10)), (255, 0, 0), 3)


def test_cmyk_jpeg_with_a_mismatched_profile_is_read_not_refused() -> None:
    # Given a CMYK JPEG that carries an RGB profile (a broken file that viewers still show)
    data = files.encode(
        Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG", icc_profile=files.wide_gamut_profile()
    )
    # When read / Then the profile is ignored rather than the picture refused
    assert_close(read_image(data).getpixel((10, 10)), (255, 0, 0), 3)


def test_16_bit_gray_png_is_scaled_not_clipped() -> None:
    # Given a 16-bit grayscale PNG (Pillow's I;16), whose plain convert("L") would clip at 255
    row = [0, 257 * 100, 32896, 65535] * 8
    data = files.gray16_png([row] * 32)
    with Image.open(io.BytesIO(data)) as raw:
        assert raw.mode == "I;16"
    # When read
    img = read_image(data)
    # Then each value is scaled to 8 bits and becomes a neutral gray
    assert img.mode == "RGB"
    assert [img.getpixel((x, 0)) for x in range(4)] == [
        (0, 0, 0),
        (100, 100, 100),
        (128, 128, 128),
        (255,) * 3,
    ]


def test_16_bit_colour_png_keeps_its_colours() -> None:
    # Given a 16-bit-per-channel RGB PNG
    colour = np.zeros((32, 32, 3), dtype=np.uint16)
    colour[:] = (0xFF00, 0x8000, 0x0100)
    img = read_image(files.png_rgb16(colour))
    # Then the colour survives to 8 bits
    assert_close(img.getpixel((5, 5)), (255, 128, 1), 1)


def test_16_bit_rgba_png_is_flattened_on_white() -> None:
    colour = np.zeros((32, 32, 4), dtype=np.uint16)
    colour[:] = (0, 0, 0, 0)  # transparent black
    colour[:, 16:] = (0, 0, 0xFFFF, 0xFFFF)  # opaque blue on the right
    img = read_image(files.png_rgb16(colour))
    assert img.getpixel((2, 2)) == (255, 255, 255)
    assert img.getpixel((30, 2)) == (0, 0, 255)


def test_grayscale_jpeg_becomes_neutral_rgb() -> None:
    img = read_image(files.encode(Image.new("L", (64, 64), 77), "JPEG", quality=95))
    assert img.mode == "RGB"
    r, g, b = img.getpixel((20, 20))
    assert r == g == b
    assert abs(r - 77) <= 1


def test_palette_png_with_transparency_is_flattened_on_white() -> None:
    # Given a palette PNG whose left half uses the transparent entry
    img = read_image(files.palette_alpha_png())
    # Then the transparent half is white and the opaque half keeps its palette colour
    assert img.getpixel((5, 5)) == (255, 255, 255)
    assert img.getpixel((60, 5)) == (200, 30, 30)


def test_rgba_png_is_flattened_on_white() -> None:
    # Given black at half opacity, and fully transparent red
    half = read_image(files.rgba_png((0, 0, 0, 128)))
    clear = read_image(files.rgba_png((255, 0, 0, 0)))
    # Then the first is mid-gray (white showing through) and the second pure white
    assert_close(half.getpixel((5, 5)), (127, 127, 127), 1)
    assert clear.getpixel((5, 5)) == (255, 255, 255)


def test_la_png_is_flattened_on_white() -> None:
    img = read_image(files.la_png(0, 64))
    assert_close(img.getpixel((5, 5)), (191, 191, 191), 1)


def test_rgb_png_with_a_transparent_colour_is_flattened_on_white() -> None:
    # Given an RGB PNG whose tRNS chunk marks pure green as transparent
    picture = Image.new("RGB", (64, 64), (0, 255, 0))
    picture.paste((10, 20, 30), (32, 0, 64, 64))
    img = read_image(files.encode(picture, "PNG", transparency=(0, 255, 0)))
    assert img.getpixel((5, 5)) == (255, 255, 255)
    assert img.getpixel((40, 5)) == (10, 20, 30)


def test_embedded_wide_gamut_profile_is_converted_to_srgb() -> None:
    # Given colours tagged with a Display-P3-like profile (built field by field, offline)
    colours = np.array([[200, 100, 100], [50, 200, 80], [10, 60, 240], [128, 128, 128]], dtype=np.uint8)
    tile = np.repeat(np.repeat(colours[None, :, :], 32, axis=0), 16, axis=1)  # (32, 64, 3)
    data = files.encode(Image.fromarray(tile), "PNG", icc_profile=files.wide_gamut_profile())
    # When read
    img = read_image(data)
    # Then the values are those an independent colour computation gives for sRGB, not the raw ones
    got = np.array([img.getpixel((16 * i + 8, 8)) for i in range(4)])
    expected = files.p3_to_srgb_expected(colours.astype(float))
    assert np.abs(got - expected).max() <= 2, (got, expected)
    assert np.abs(got - colours.astype(int)).max() >= 15  # the conversion really moved them


def test_embedded_profile_survives_webp_and_jpeg_too() -> None:
    profile = files.wide_gamut_profile()
    colour = np.array([[200, 100, 100]], dtype=float)
    expected = tuple(np.rint(files.p3_to_srgb_expected(colour))[0].astype(int))
    for fmt, params in [("JPEG", {"quality": 100, "subsampling": 0}), ("WEBP", {"lossless": True})]:
        data = files.encode(Image.new("RGB", (64, 64), (200, 100, 100)), fmt, icc_profile=profile, **params)
        assert_close(read_image(data).getpixel((30, 30)), expected, 3)


def test_srgb_tagged_and_broken_profiles_leave_the_values_alone() -> None:
    # Given the same colour tagged with sRGB, and with a profile that is not a profile at all
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, b"this is not an ICC profile"):
        data = files.encode(Image.new("RGB", (64, 64), (200, 100, 100)), "PNG", icc_profile=icc)
        # Then the picture is read, its values unchanged
        assert read_image(data).getpixel((5, 5)) == (200, 100, 100)


@pytest.mark.parametrize("params", [{"quality": 90}, {"lossless": True}], ids=["lossy", "lossless"])
def test_webp_lossy_and_lossless(params: dict[str, object]) -> None:
    data = files.encode(files.quadrants(96, 64), "WEBP", **params)
    img = read_image(data)
    assert img.size == (96, 64)
    assert_close(img.getpixel((5, 5)), (255, 0, 0), 0 if "lossless" in params else 12)
    assert_close(img.getpixel((90, 60)), (255, 255, 0), 0 if "lossless" in params else 12)


def test_webp_with_alpha_is_flattened_on_white() -> None:
    data = files.encode(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "WEBP", lossless=True)
    assert read_image(data).getpixel((5, 5)) == (255, 255, 255)


def test_multi_picture_jpeg_reads_its_first_picture() -> None:
    # Given an MPO (two pictures in one JPEG file, as some cameras write): not an animation
    data = files.mpo()
    # When read / Then the first picture is the photo
    img = read_image(data)
    assert img.size == (64, 48)
    assert_close(img.getpixel((5, 5)), (220, 20, 20), 6)


# --- refused kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "code", "named"),
    [
        (lambda: b"", "EmptyImage", "empty"),
        (
            lambda: b"Dear diary, today I renamed a text file to .jpg\n" * 4,
            "NotAnImage",
            "JPEG, PNG, WebP, HEIC or AVIF",
        ),
        (lambda: files.encode(files.quadrants(64, 64), "GIF"), "UnsupportedImageType", "GIF"),
        (lambda: files.animated("GIF"), "UnsupportedImageType", "GIF"),
        (lambda: files.encode(files.quadrants(64, 64), "BMP"), "UnsupportedImageType", "BMP"),
        (lambda: files.encode(files.quadrants(64, 64), "TIFF"), "UnsupportedImageType", "TIFF"),
        (lambda: files.SVG, "UnsupportedImageType", "SVG"),
        (lambda: files.BARE_SVG, "UnsupportedImageType", "SVG"),
        (lambda: files.JXL_HEAD, "UnsupportedImageType", "JPEG XL"),
        (lambda: files.animated("WEBP"), "AnimatedImage", "still"),
        (lambda: files.animated("PNG"), "AnimatedImage", "still"),
    ],
    ids=[
        "empty",
        "text",
        "gif",
        "animated-gif",
        "bmp",
        "tiff",
        "svg",
        "bare-svg",
        "jpeg-xl",
        "animated-webp",
        "apng",
    ],
)
def test_kinds_we_do_not_take_are_refused_by_name(make, code: str, named: str) -> None:
    # Given a file of a kind we do not accept
    error = refusal(make())
    # Then it is an InvalidImageError with its code, and the sentence says what we do accept
    assert isinstance(error, InvalidImageError)
    assert error.code == code
    assert named in error.message
    if code != "EmptyImage":
        assert "JPEG, PNG, WebP, HEIC or AVIF" in error.message
        assert error.status == 415


def test_text_file_named_jpg_is_refused_by_its_bytes(tmp_path: Path) -> None:
    # Given a text file whose name says .jpg
    path = tmp_path / "holiday.jpg"
    path.write_text("not a picture at all\n")
    # When read / Then the bytes decide, not the name
    with pytest.raises(InvalidImageError) as caught:
        read_image(path)
    assert caught.value.code == "NotAnImage"


def test_missing_file_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError) as caught:
        read_image(tmp_path / "nowhere.jpg")
    assert caught.value.code == "FileNotReadable"
    assert "nowhere.jpg" in caught.value.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_files_are_refused_as_cut_off(fmt: str, keep: float) -> None:
    # Given a real photo encoded as fmt and cut short, as an interrupted upload leaves it
    data = files.encode(sample_photo("rocket"), fmt)
    # When read
    error = refusal(files.truncated(data, keep))
    # Then the refusal says the file ends too early
    assert isinstance(error, InvalidImageError)
    assert error.code == "TruncatedImage"
    assert "ends too early" in error.message


def test_header_only_png_is_refused_as_cut_off() -> None:
    # Given a PNG cut right after its header (no pixel data at all)
    data = files.encode(files.quadrants(64, 64), "PNG")
    error = refusal(data[:33])  # signature + IHDR
    assert error.code == "TruncatedImage"


def test_damaged_png_is_refused_as_corrupt() -> None:
    # Given a complete PNG of a real photo whose compressed pixel data was overwritten in the middle
    data = bytearray(files.encode(sample_photo("rocket"), "PNG"))
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xa5" * 64
    # When read / Then it is refused as damaged, in words
    error = refusal(bytes(data))
    assert isinstance(error, InvalidImageError)
    assert error.code == "CorruptImage"
    assert "damaged" in error.message


def test_png_with_an_impossible_header_is_refused_as_corrupt() -> None:
    # Given a PNG whose header names a colour type that does not exist (9)
    data = files.PNG_SIGNATURE + files.png_chunk(b"IHDR", bytes.fromhex("00000040 00000040 08 09 000000"))
    error = refusal(data + files.png_chunk(b"IEND", b""))
    assert error.code == "CorruptImage"


# --- byte size -------------------------------------------------------------------------------


def test_upload_of_exactly_the_byte_limit_is_accepted_and_one_more_byte_refused(tmp_path: Path) -> None:
    # Given two real PNGs padded to exactly MAX_UPLOAD_BYTES and one byte more
    at_limit = files.png_of_exact_size(MAX_UPLOAD_BYTES)
    past_limit = files.png_of_exact_size(MAX_UPLOAD_BYTES + 1)
    assert (len(at_limit), len(past_limit)) == (MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES + 1)
    # When read / Then the first is a picture and the second is refused for its size, from every source
    assert read_image(at_limit).size == (64, 64)
    path = tmp_path / "big.png"
    path.write_bytes(past_limit)
    for source in (past_limit, path, io.BytesIO(past_limit)):
        with pytest.raises(ImageTooLargeError) as caught:
            read_image(source)
        assert caught.value.code == "ImageTooLarge"
        assert f"{MAX_UPLOAD_BYTES:,} bytes" in caught.value.message


def test_a_stream_is_not_read_past_the_limit() -> None:
    # Given an endless stream of bytes
    stream = files.EndlessStream()
    # When read with a 1 MB limit / Then it is refused after limit + 1 bytes, not read forever
    with pytest.raises(ImageTooLargeError):
        read_image(stream, max_bytes=1_000_000)
    assert stream.served <= 1_000_000 + 65536


# --- dimensions, from the header -------------------------------------------------------------


def test_png_claiming_50000_by_50000_is_refused_from_the_header_without_allocating() -> None:
    # Given a PNG whose header claims 50000 × 50000 (7.5 GB of pixels) over a few bytes of data
    data = files.png_claiming(50000, 50000)
    before = Image.core.get_stats()
    # When read
    error = refusal(data)
    # Then it is refused for its dimensions, and Pillow allocated no image memory (so decoded nothing)
    assert isinstance(error, ImageTooLargeError)
    assert error.code == "ImageDimensionsTooLarge"
    assert "50000 × 50000" in error.message
    after = Image.core.get_stats()
    assert after["new_count"] == before["new_count"]
    assert after["allocated_blocks"] == before["allocated_blocks"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: files.jpeg_claiming(50000, 50000),
        # 8000 × 8000 is past our limit but inside Pillow's default guard, which would let libwebp
        # allocate the canvas; 16000 × 16000 is past both.
        lambda: files.webp_claiming(8000, 8000),
        lambda: files.webp_claiming(16000, 16000),
    ],
    ids=["jpeg", "webp-8000", "webp-16000"],
)
def test_jpeg_and_webp_claiming_huge_canvases_are_refused_from_the_header(make) -> None:
    data = make()
    before = Image.core.get_stats()
    error = refusal(data)
    assert error.code == "ImageDimensionsTooLarge"
    assert Image.core.get_stats()["new_count"] == before["new_count"]


def test_pillow_bomb_guard_never_surfaces_raw(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Pillow's own guard set far tighter than our limits (as other code in the process might)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    data = files.encode(files.quadrants(64, 64), "WEBP")
    # When a WebP is read (Pillow's WebP opener consults that guard itself)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(StyleMixerError) as caught:
            read_image(data)
    # Then the refusal is one of ours with a sentence, never DecompressionBombError or its warning
    assert isinstance(caught.value, ImageTooLargeError)
    assert caught.value.code == "ImageDimensionsTooLarge"
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]
    # And PNG and JPEG, opened without Image.open, are governed by our limits alone
    assert read_image(files.encode(files.quadrants(64, 64), "PNG")).size == (64, 64)


def test_exactly_max_pixels_is_accepted_and_one_row_more_refused() -> None:
    # Given flat PNGs of exactly MAX_PIXELS (8000 × 6250: 50 megapixels) and one row more
    width, height = 8000, 6250
    assert width * height == MAX_PIXELS
    at_limit = files.flat_png((width, height))
    past_limit = files.flat_png((width, height + 1))
    # When read / Then the first is decoded whole and the second refused from its header
    img = read_image(at_limit)
    assert img.size == (width, height)
    assert img.getpixel((width - 1, height - 1)) == (90, 120, 150)
    del img
    error = refusal(past_limit)
    assert isinstance(error, ImageTooLargeError)
    assert error.code == "ImageDimensionsTooLarge"
    assert "megapixels" in error.message


def test_longest_side_at_the_limit_is_accepted_and_one_more_refused() -> None:
    assert read_image(files.flat_png((MAX_SIDE, MIN_SIDE))).size == (MAX_SIDE, MIN_SIDE)
    error = refusal(files.flat_png((MIN_SIDE, MAX_SIDE + 1)))
    assert error.code == "ImageDimensionsTooLarge"
    assert f"at most {MAX_SIDE} pixels" in error.message


def test_a_20000_by_10_strip_is_refused() -> None:
    # Given a strip whose pixel count is small but whose side is far past the limit
    error = refusal(files.flat_png((20000, 10)))
    assert isinstance(error, ImageTooLargeError)
    assert error.code == "ImageDimensionsTooLarge"
    assert "20000 × 10" in error.message


@pytest.mark.parametrize(
    ("size", "accepted"),
    [((MIN_SIDE, MIN_SIDE), True), ((MIN_SIDE - 1, MIN_SIDE), False), ((MIN_SIDE, MIN_SIDE - 1), False)],
)
def test_shortest_side_at_the_limit_is_accepted_and_one_less_refused(
    size: tuple[int, int], accepted: bool
) -> None:
    data = files.flat_png(size)
    if accepted:
        assert read_image(data).size == size
    else:
        error = refusal(data)
        assert isinstance(error, ImageTooSmallError)
        assert error.code == "ImageTooSmall"
        assert f"at least {MIN_SIDE} pixels" in error.message


def test_a_1_by_1_picture_is_refused_as_too_small() -> None:
    for fmt in ("PNG", "JPEG", "WEBP"):
        error = refusal(files.encode(Image.new("RGB", (1, 1), "red"), fmt))
        assert error.code == "ImageTooSmall", fmt
        assert "1 × 1" in error.message


def test_limits_can_be_tightened_by_the_caller() -> None:
    data = files.flat_png((100, 100))
    assert refusal(data, max_pixels=9999).code == "ImageDimensionsTooLarge"
    assert refusal(data, max_side=99).code == "ImageDimensionsTooLarge"
    assert refusal(data, min_side=101).code == "ImageTooSmall"
    assert refusal(data, max_bytes=len(data) - 1).code == "ImageTooLarge"
    assert read_image(data, max_bytes=len(data), max_pixels=10000, max_side=100, min_side=100).size == (
        100,
        100,
    )


# --- resizing --------------------------------------------------------------------------------


def test_fit_within_downscales_the_longer_side_only() -> None:
    landscape, portrait = Image.new("RGB", (400, 300)), Image.new("RGB", (300, 400))
    assert fit_within(landscape, 100).size == (100, 75)
    assert fit_within(portrait, 100).size == (75, 100)
    assert fit_within(Image.new("RGB", (MAX_SIDE, MIN_SIDE)), 64).size == (64, 1)


def test_fit_within_never_upscales_and_returns_the_same_picture() -> None:
    img = Image.new("RGB", (400, 300))
    assert fit_within(img, 400) is img
    assert fit_within(img, 5000) is img
    assert fit_within(img, None) is img
    with pytest.raises(ValueError, match="side must be at least 1 pixel"):
        fit_within(img, 0)


def test_fit_within_keeps_the_picture_not_just_the_size() -> None:
    # Given the quadrant picture downscaled by 4
    small = fit_within(files.quadrants(400, 200), 100)
    # Then each quadrant keeps its colour
    assert small.size == (100, 50)
    assert_close(small.getpixel((10, 10)), (255, 0, 0), 2)
    assert_close(small.getpixel((90, 40)), (255, 255, 0), 2)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((8000, 6000), (533, 400)),  # a 48 MP photo: the shorter side 400
        ((6000, 8000), (400, 533)),
        ((819, 8192), (160, 1600)),  # a scroll: the longer side held at 1600
        ((4000, 400), (1600, 160)),
        ((400, 300), (400, 300)),  # never enlarged
        ((64, 48), (64, 48)),
    ],
)
def test_thumbnails_keep_the_shape_and_a_tile_s_worth_of_pixels(size, expected) -> None:
    small = Image.open(io.BytesIO(thumbnail_jpeg(Image.new("RGB", size, (200, 30, 90)))))
    assert (small.format, small.size) == ("JPEG", expected)


def test_a_thumbnail_is_the_picture_small_and_bare() -> None:
    # Given a picture carrying metadata of its own
    picture = files.quadrants(1600, 1200)
    picture.info["comment"] = b"not to be copied"
    # When its thumbnail is made
    small = Image.open(io.BytesIO(thumbnail_jpeg(picture)))
    # Then it is the same picture at 533 x 400, sRGB-tagged, with nothing else carried over
    assert small.size == (533, 400)
    assert_close(small.getpixel((20, 20)), (255, 0, 0), 6)
    assert_close(small.getpixel((510, 380)), picture.getpixel((1590, 1190)), 6)
    assert "comment" not in small.info
    profile = ImageCms.ImageCmsProfile(io.BytesIO(small.info["icc_profile"]))
    assert ImageCms.getProfileDescription(profile).startswith("sRGB")


# --- encoding and saving ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return sample_photo("rocket")


def test_jpeg_output_is_444_baseline_srgb_and_bare(photo: Image.Image) -> None:
    # Given a picture that still carries metadata from somewhere
    tagged = photo.copy()
    tagged.info = {"comment": b"secret", "exif": b"Exif\x00\x00MM", "icc_profile": files.wide_gamut_profile()}
    # When encoded as JPEG
    data = encode_image(tagged, "jpeg")
    # Then it is a baseline 4:4:4 JPEG tagged sRGB with nothing else carried over
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "JPEG"
        assert out.size == photo.size
        assert JpegImagePlugin.get_sampling(out) == 0  # 4:4:4
        assert not out.info.get("progressive")
        assert "exif" not in out.info
        assert "comment" not in out.info
        profile = ImageCms.ImageCmsProfile(io.BytesIO(out.info["icc_profile"]))
        assert ImageCms.getProfileDescription(profile).startswith("sRGB")
        assert np.abs(pixels(out.convert("RGB")) - pixels(photo)).mean() < 2.0  # quality 92
    assert tagged.info["comment"] == b"secret"  # the caller's picture is left as it was


def test_png_output_is_lossless(photo: Image.Image) -> None:
    data = encode_image(photo, "png")
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "PNG"
        assert np.array_equal(pixels(out.convert("RGB")), pixels(photo))


def test_webp_output_is_close(photo: Image.Image) -> None:
    data = encode_image(photo, "webp")
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "WEBP"
        assert out.size == photo.size
        assert np.abs(pixels(out.convert("RGB")) - pixels(photo)).mean() < 4.0
        assert "icc_profile" in out.info


def test_output_reads_back_through_read_image_unchanged_in_size(photo: Image.Image) -> None:
    for fmt in ("jpeg", "png", "webp"):
        assert read_image(encode_image(photo, fmt)).size == photo.size


def test_quality_override_and_bad_formats(photo: Image.Image) -> None:
    assert len(encode_image(photo, "jpeg", quality=50)) < len(encode_image(photo, "jpeg"))
    assert len(encode_image(photo, "JPG")) == len(encode_image(photo, "jpeg"))
    with pytest.raises(InvalidRequestError) as caught:
        encode_image(photo, "gif")
    assert caught.value.code == "InvalidFormat"
    with pytest.raises(ValueError, match="quality"):
        encode_image(photo, "jpeg", quality=0)


def test_rgba_output_is_flattened_on_white() -> None:
    data = encode_image(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "png")
    with Image.open(io.BytesIO(data)) as out:
        assert out.mode == "RGB"
        assert out.getpixel((3, 3)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("out.jpg", None, "jpeg"),
        ("out.JPEG", None, "jpeg"),
        ("out.png", None, "png"),
        ("out.webp", None, "webp"),
        ("out.png", "webp", "webp"),
    ],
)
def test_save_image_picks_the_format_from_the_suffix(
    tmp_path: Path, photo: Image.Image, name: str, fmt: str | None, expected: str
) -> None:
    # When saved
    used = save_image(photo, tmp_path / name, fmt)
    # Then the format used is returned, the file holds it, and nothing else is left in the folder
    assert used == expected
    with Image.open(tmp_path / name) as out:
        assert out.format == expected.upper()
        assert out.size == photo.size
    assert os.listdir(tmp_path) == [name]
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_save_image_refuses_an_unknown_suffix(tmp_path: Path, photo: Image.Image) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        save_image(photo, tmp_path / "out.gif")
    assert caught.value.code == "InvalidFormat"
    assert ".jpg" in caught.value.message
    assert os.listdir(tmp_path) == []


def test_save_image_leaves_nothing_when_encoding_fails(tmp_path: Path) -> None:
    # Given a picture WebP cannot encode (WebP sides stop at 16383 pixels)
    too_wide = Image.new("RGB", (20000, 1))
    # When saving fails / Then there is no file, not even a temporary one
    with pytest.raises((OSError, ValueError), match="encoding error"):
        save_image(too_wide, tmp_path / "out.webp")
    assert os.listdir(tmp_path) == []


def test_save_image_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, photo: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an existing result and a disk that fails while the new one is written
    target = tmp_path / "out.jpg"
    target.write_bytes(b"the previous result")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writing.os, "fsync", disk_full)
    # When saving fails
    with pytest.raises(OSError, match="No space"):
        save_image(photo, target)
    # Then the old file is intact and no temporary file is left
    assert target.read_bytes() == b"the previous result"
    assert os.listdir(tmp_path) == ["out.jpg"]


def test_save_image_replaces_and_keeps_an_existing_files_mode(tmp_path: Path, photo: Image.Image) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    target.chmod(0o600)
    save_image(photo, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert read_image(target).size == photo.size


def test_module_does_not_import_torch() -> None:
    # Given a fresh interpreter (the API function's cold start)
    from tests.support.environment import run_python

    out = run_python("-c", "import sys, stylemixer.images; print('torch' in sys.modules)", check=True)
    # Then importing the module did not import torch
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_high_entropy_pictures_encode(fmt: str) -> None:
    # Given a picture as busy as a stylized texture can be (pure noise)
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    # When it is encoded, Then the encoder's buffer never runs out and the bytes decode to its size
    data = encode_image(Image.fromarray(noise), fmt)
    with Image.open(io.BytesIO(data)) as back:
        assert back.size == (256, 256)


# --- phone photos: HEIC and AVIF --------------------------------------------------------------

PHONE_FORMATS = pytest.mark.parametrize("encode", [files.heic, files.avif], ids=["heic", "avif"])


@PHONE_FORMATS
def test_a_phone_photo_shot_sideways_comes_out_upright_at_its_size(encode) -> None:
    # Given a 96 × 64 picture stored as shot, with the camera's rotation (EXIF 6) in the container
    data = encode(files.quadrants(96, 64), orientation=6)
    # When read
    img = read_image(data)
    # Then it is turned 90° clockwise, as the JPEG with the same tag is: stored top-left (red) is
    # now top-right, stored bottom-left (blue) is now top-left, nothing turns it twice
    assert img.size == (64, 96)
    assert_close(img.getpixel((60, 4)), (255, 0, 0), 12)
    assert_close(img.getpixel((4, 4)), (0, 0, 255), 12)
    assert_close(img.getpixel((60, 92)), (0, 255, 0), 12)
    assert img.mode == "RGB"
    assert img.info == {}


@PHONE_FORMATS
def test_a_real_photo_as_heic_or_avif_reads_like_the_photo(encode) -> None:
    # Given a real photo, and the same photo saved as HEIC / AVIF at high quality
    photo = sample_photo("astronaut").resize((512, 384))
    # When the phone format is read
    img = read_image(encode(photo, quality=95))
    # Then it is the same picture, to the codec's loss
    assert img.size == photo.size
    assert psnr(np.asarray(img), np.asarray(photo)) >= 30


@PHONE_FORMATS
def test_a_phone_photos_wide_gamut_profile_is_converted_to_srgb(encode) -> None:
    # Given a colour tagged with a Display-P3-like profile, as phones tag their photos
    colour = np.array([[200, 100, 100]], dtype=float)
    expected = tuple(np.rint(files.p3_to_srgb_expected(colour))[0].astype(int))
    data = encode(Image.new("RGB", (64, 64), (200, 100, 100)), icc=files.wide_gamut_profile(), quality=100)
    # When read / Then the value is the sRGB one (within the codec's loss), not the raw one
    assert_close(read_image(data).getpixel((30, 30)), expected, 6)


@PHONE_FORMATS
def test_a_phone_photo_claiming_too_many_pixels_is_refused_before_decoding(encode) -> None:
    # Given a small HEIC / AVIF whose container claims 40000 × 30000 pixels
    data = files.with_declared_size(encode(files.quadrants(64, 64)), 40000, 30000)
    # When read / Then the header alone refuses it
    error = refusal(data)
    assert error.code == "ImageDimensionsTooLarge"
    assert "40000 × 30000" in error.message


@PHONE_FORMATS
def test_a_cut_off_phone_photo_is_truncated(encode) -> None:
    error = refusal(files.truncated(encode(files.quadrants(128, 96))))
    assert error.code == "TruncatedImage"
    assert "ends too early" in error.message


def test_an_heic_header_with_no_picture_is_damaged() -> None:
    error = refusal(files.HEIC_HEAD)
    assert error.code == "CorruptImage"
    assert "HEIC" in error.message


def test_an_avif_animation_is_refused_as_animated() -> None:
    assert refusal(files.animated_avif()).code == "AnimatedImage"
