"""Photos past the cap: brought down to the largest size painted, told so; bombs still refused."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from stylemixer.errors import IMAGE_DIMENSIONS_TOO_LARGE, ImageTooLargeError, StyleMixerError
from stylemixer.images import ImageTooSmallError, encode_image, read_image
from stylemixer.limits import MAX_DECODED_PIXELS, MAX_PIXELS, MAX_SIDE, MIN_SIDE
from stylemixer.photosize import painted_size, read_photo, reduction_note
from tests.support import imagefiles as files
from tests.support.pictures import phone_photo


@pytest.mark.parametrize(
    ("size", "painted"),
    [
        ((8160, 6120), (8160, 6120)),  # a 50 MP phone photo: its own size
        ((8064, 6048), (8064, 6048)),  # an iPhone's 48 MP
        ((12000, 9000), (8164, 6123)),  # a 108 MP mode: 50 MP of the same shape
        ((16320, 12240), (8164, 6123)),  # a 200 MP mode
        ((20000, 5000), (8192, 2048)),  # a panorama: its longer side brought to 8192
        ((6120, 8160), (6120, 8160)),  # upright
    ],
)
def test_the_painted_size_is_the_photos_own_within_the_cap_else_the_largest_of_its_shape(
    size: tuple[int, int], painted: tuple[int, int]
) -> None:
    got = painted_size(*size)
    assert got == painted
    # never past either limit, never upscaled, the shape kept to a pixel
    assert got[0] * got[1] <= MAX_PIXELS
    assert max(got) <= MAX_SIDE
    assert got[0] <= size[0]
    assert got[1] <= size[1]
    assert abs(got[0] / got[1] - size[0] / size[1]) < 2 / min(got)


def test_a_strip_that_would_be_too_thin_once_brought_down_is_refused() -> None:
    with pytest.raises(ImageTooSmallError) as caught:
        painted_size(30000, 40)
    assert f"at least {MIN_SIDE} pixels" in caught.value.message


def test_a_photo_within_the_cap_is_read_as_it_is() -> None:
    # Given a PNG within the cap
    data = encode_image(Image.new("RGB", (640, 480), (10, 200, 30)), "png")
    # When it is read as a photo
    photo = read_photo(data)
    # Then it is the picture read_image gives, not brought down, with nothing to tell
    assert photo.image.size == photo.source_size == (640, 480)
    assert not photo.reduced
    assert photo.note() is None
    assert np.array_equal(np.asarray(photo.image), np.asarray(read_image(data)))


def test_a_jpeg_past_the_cap_is_decoded_at_a_reduction_and_brought_down_upright() -> None:
    # Given a 16400 x 800 JPEG (a panorama, twice the longest side painted), stored turned a quarter
    # (EXIF orientation 6): a phone held upright
    stored = phone_photo(16400, 800, name="coffee")
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", quality=85, exif=exif.tobytes())
    # When it is read as a photo (decoded at half its size: the reduction still at least the size painted)
    photo = read_photo(buffer.getvalue())
    # Then it is the largest upright picture of its shape within the cap, and says so
    assert photo.source_size == (800, 16400)
    assert photo.image.size == (399, MAX_SIDE)
    assert photo.reduced
    note = photo.note("photo.jpg")
    assert note is not None
    assert "photo.jpg is 800 × 16400 pixels (13.1 megapixels)" in note
    assert f"painted at 399 × {MAX_SIDE}, the largest size accepted" in note
    # and it is the photo: the upright picture brought down, colours and all
    upright = stored.transpose(Image.Transpose.ROTATE_270).resize(photo.image.size, Image.Resampling.BOX)
    diff = np.abs(np.asarray(photo.image, np.float32) - np.asarray(upright, np.float32))
    assert diff.mean() < 3.0


def test_a_jpeg_is_decoded_at_the_coarsest_reduction_still_as_large_as_the_size_painted() -> None:
    # Given a JPEG twice the longest side painted, less a few pixels
    data = files.encode(Image.new("RGB", (2 * MAX_SIDE - 16, 64), (200, 90, 40)), "JPEG")
    # When it is decoded for a scale of a half
    image = read_image(data, max_side=4 * MAX_SIDE, draft_scale=MAX_SIDE / (2 * MAX_SIDE - 16))
    # Then the decoder's own halving serves (within 1/64 of the size painted), colours kept
    assert image.size == (MAX_SIDE - 8, 32)
    assert np.abs(np.asarray(image, np.int16) - (200, 90, 40)).max() <= 3


def test_a_png_past_the_side_cap_is_brought_down_to_it() -> None:
    # Given a flat PNG longer than the longest side painted
    data = files.flat_png((MAX_SIDE + 808, 400))
    # When it is read as a photo
    photo = read_photo(data)
    # Then its longer side is brought to the cap, its shape kept
    assert photo.source_size == (9000, 400)
    assert photo.image.size == (MAX_SIDE, 364)


def test_a_heic_past_the_cap_is_brought_down_to_it() -> None:
    # Given a HEIC photo (what phones save) longer than the longest side painted
    data = files.heic(phone_photo(8400, 168, name="rocket"), quality=60)
    # When it is read as a photo
    photo = read_photo(data)
    # Then it is brought down as any other picture is
    assert photo.source_size == (8400, 168)
    assert photo.image.size == (MAX_SIDE, 163)


def test_a_header_claiming_more_than_is_ever_decoded_is_refused_before_decoding() -> None:
    # Given a PNG whose header claims 16000 x 16000 (256 MP) over a few bytes of data
    width = height = 16000
    assert width * height > MAX_DECODED_PIXELS
    data = files.png_claiming(width, height)
    # When it is read as a photo
    with pytest.raises(ImageTooLargeError) as caught:
        read_photo(data)
    # Then it is refused from the header, with the size it claims
    assert caught.value.code == IMAGE_DIMENSIONS_TOO_LARGE
    assert caught.value.status == 413
    assert "16000 × 16000" in caught.value.message


def test_a_header_at_the_most_ever_decoded_passes_the_check_and_one_row_more_is_refused() -> None:
    # Given PNG headers claiming exactly MAX_DECODED_PIXELS (20000 x 12500) and one row more, over a
    # few bytes of data (decoding 250 megapixels for real would take 750 MB)
    width, height = 20000, 12500
    assert width * height == MAX_DECODED_PIXELS
    # When each is read as a photo
    with pytest.raises(StyleMixerError) as at_limit:
        read_photo(files.png_claiming(width, height))
    with pytest.raises(StyleMixerError) as past_limit:
        read_photo(files.png_claiming(width, height + 1))
    # Then the first gets past the size check (to be found cut short), the second is refused by it
    assert at_limit.value.code != IMAGE_DIMENSIONS_TOO_LARGE
    assert past_limit.value.code == IMAGE_DIMENSIONS_TOO_LARGE


def test_the_note_names_both_sizes_and_the_cap() -> None:
    words = reduction_note((16320, 12240), (8164, 6123), "IMG_0001.HEIC")
    assert words.startswith("IMG_0001.HEIC is 16320 × 12240 pixels (199.8 megapixels)")
    assert f"{MAX_PIXELS / 1e6:g} megapixels" in words
