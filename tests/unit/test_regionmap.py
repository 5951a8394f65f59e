"""Region maps as input, read and checked without torch: what is accepted, and each refusal's code."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from stylemixer.errors import StyleMixerError
from stylemixer.limits import MAX_MAP_BYTES
from stylemixer.regionmap import (
    PALETTE,
    REGIONS_MAP_INVALID,
    REGIONS_MAP_MISMATCH,
    REGIONS_MAP_STYLE_MISSING,
    REGIONS_MAP_TOO_LARGE,
    check_aspect,
    fit_to_photo,
    read_region_map,
    with_palette,
)
from tests.support import imagefiles as files
from tests.support.catalogue import region_map

if TYPE_CHECKING:
    from pathlib import Path


def _refusal(data: bytes, n_styles: int = 2) -> StyleMixerError:
    with pytest.raises(StyleMixerError) as info:
        read_region_map(data, n_styles)
    assert "Traceback" not in info.value.message
    assert len(info.value.message) > 30
    return info.value


def test_a_palette_map_gives_its_indices_not_its_colours() -> None:
    # Given a palette map whose colours are not in index order (colour 0 is bright, 1 dark, 2 grey)
    numbers = np.array([[0, 1, 2, 1]], dtype=np.uint8).repeat(3, axis=0)
    img = Image.fromarray(numbers, "P")
    img.putpalette([250, 250, 250, 5, 5, 5, 128, 128, 128] + [0] * (768 - 9))
    # When it is read for three styles
    read = read_region_map(files.encode(img, "PNG"), 3)
    # Then the style numbers are the indices, as a grey picture
    assert read.mode == "L"
    assert np.array_equal(np.asarray(read), numbers)


def test_a_grey_map_gives_its_values_and_reads_as_the_palette_map_of_the_same_numbers() -> None:
    grey = read_region_map(region_map((40, 30), "L"), 2)
    palette = read_region_map(region_map((40, 30), "P"), 2)
    assert np.array_equal(np.asarray(grey), np.asarray(palette))
    assert np.asarray(grey)[:, :20].max() == 0
    assert np.asarray(grey)[:, 20:].min() == 1


def test_a_map_is_read_from_a_path_or_a_stream(tmp_path: Path) -> None:
    data = region_map((40, 30))
    path = tmp_path / "map.png"
    path.write_bytes(data)
    from_bytes = np.asarray(read_region_map(data, 2))
    assert np.array_equal(np.asarray(read_region_map(path, 2)), from_bytes)
    assert np.array_equal(np.asarray(read_region_map(io.BytesIO(data), 2)), from_bytes)


def test_the_palette_written_back_is_the_regions_mix_s() -> None:
    img = with_palette(Image.fromarray(np.arange(4, dtype=np.uint8)[None, :], "L"))
    assert img.mode == "P"
    assert [img.convert("RGB").getpixel((k, 0)) for k in range(4)] == list(PALETTE)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: b"", "empty"),
        (lambda: files.encode(files.quadrants(64, 48), "JPEG"), "not a PNG"),
        (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG"),
        (lambda: files.truncated(region_map((640, 480))), "cut off"),
        (lambda: region_map((64, 48), "RGB"), "colour (RGB)"),
        (lambda: region_map((64, 48), "RGBA"), "colour (RGBA)"),
        (lambda: files.la_png(0, 255), "grey with transparency"),
        (lambda: files.png_rgb16(np.zeros((8, 8, 3), dtype=np.uint16)), "picture"),
        (lambda: files.animated("PNG"), "animated"),
        (lambda: region_map((64, 48))[:40] + b"\x00" * 30 + region_map((64, 48))[70:], "PNG"),
    ],
    ids=["empty", "JPEG", "SVG", "truncated", "RGB", "RGBA", "grey+alpha", "16-bit RGB", "APNG", "damaged"],
)
def test_what_is_not_a_map_is_refused_saying_so(make, words: str) -> None:
    error = _refusal(make())
    assert (error.code, error.status) == (REGIONS_MAP_INVALID, 400)
    assert words.lower() in error.message.lower()


def test_a_map_claiming_more_pixels_than_a_photo_is_refused_before_decoding() -> None:
    error = _refusal(files.png_claiming(50000, 50000))
    assert (error.code, error.status) == (REGIONS_MAP_TOO_LARGE, 413)
    assert "50000 × 50000" in error.message


def test_a_map_over_the_byte_limit_is_refused_before_it_is_read() -> None:
    # Given a stream of zero bytes that never ends
    stream = files.EndlessStream(b"\x00", chunk=io.DEFAULT_BUFFER_SIZE)
    # When it is read as a map, Then it is refused once the limit is passed, not read forever
    with pytest.raises(StyleMixerError) as info:
        read_region_map(io.BufferedReader(stream), 2)
    assert info.value.code == REGIONS_MAP_TOO_LARGE
    assert stream.served <= MAX_MAP_BYTES + 2 * io.DEFAULT_BUFFER_SIZE


@pytest.mark.parametrize(("right", "n_styles"), [(2, 2), (3, 3), (4, 4), (200, 4)])
def test_a_value_with_no_style_is_refused_naming_the_value_and_the_styles(right: int, n_styles: int) -> None:
    error = _refusal(region_map((64, 48), "L", right=right), n_styles)
    assert (error.code, error.status) == (REGIONS_MAP_STYLE_MISSING, 400)
    assert f"style number {right}" in error.message
    assert f"only {n_styles} styles" in error.message


def test_every_value_below_the_number_of_styles_is_accepted() -> None:
    numbers = np.arange(4, dtype=np.uint8).repeat(16)[None, :].repeat(8, axis=0)
    assert read_region_map(files.encode(Image.fromarray(numbers, "L"), "PNG"), 4).getextrema() == (0, 3)


def test_the_map_is_brought_to_the_photo_s_size_nearest_neighbour() -> None:
    # Given a 4 x 3 map with every value from 0 to 3 in it
    numbers = Image.fromarray(np.array([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1]], dtype=np.uint8), "L")
    # When it is fitted to a 400 x 300 photo
    fitted = np.asarray(fit_to_photo(numbers, (400, 300)))
    # Then each cell is a 100 x 100 block of its own number: no value is blended into a new one
    assert fitted.shape == (300, 400)
    assert set(np.unique(fitted).tolist()) == {0, 1, 2, 3}
    assert np.array_equal(fitted[::100, ::100], np.asarray(numbers))
    assert (fitted[100:200, 200:300] == 3).all()


def test_a_map_of_the_photo_s_size_is_kept_as_it_is() -> None:
    numbers = Image.new("L", (451, 300), 1)
    assert fit_to_photo(numbers, (451, 300)) is numbers


@pytest.mark.parametrize(
    ("map_size", "photo_size"),
    [((451, 300), (451, 300)), ((90, 60), (451, 300)), ((400, 300), (4000, 3050)), ((3, 1), (1000, 333))],
)
def test_a_map_of_the_photo_s_shape_is_accepted(map_size, photo_size) -> None:
    check_aspect(map_size, photo_size)


@pytest.mark.parametrize(
    ("map_size", "photo_size"),
    [
        ((300, 451), (451, 300)),
        ((400, 300), (4000, 3200)),
        ((512, 512), (640, 427)),
        ((100, 10), (1000, 200)),
    ],
)
def test_a_map_drawn_for_another_picture_is_refused_saying_so(map_size, photo_size) -> None:
    with pytest.raises(StyleMixerError) as info:
        fit_to_photo(Image.new("L", map_size), photo_size)
    assert (info.value.code, info.value.status) == (REGIONS_MAP_MISMATCH, 400)
    assert "drawn for another picture" in info.value.message
    assert f"{map_size[0]} × {map_size[1]}" in info.value.message
