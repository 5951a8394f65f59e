"""Stroke size: painted at a scale relative to the picture, returned at its size with its detail."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageFilter

from stylemixer.errors import InvalidRequestError
from stylemixer.images import read_image
from stylemixer.limits import MAX_SIDE, MIN_SIDE
from stylemixer.neural.stroke import (
    COARSE_SIDE,
    DEFAULT_STROKE,
    FINE_MIN_SIDE,
    MAX_UPSCALE,
    SNAP,
    detail_gain,
    restore_detail,
    working_side,
    working_size,
)
from stylemixer.options import Stroke, StylizeOptions
from stylemixer.styles import ImageStyle, PresetStyle
from tests.support.paths import testdata_path
from tests.support.pictures import sample_painting, sample_photo
from tests.support.strokes import STROKE_PHOTOS, fine_detail_share

LUMA = np.array([0.299, 0.587, 0.114])


def _psnr(a: Image.Image, b: Image.Image) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / mse)


def _detail(img: Image.Image) -> float:
    """Energy of the finest detail: mean absolute difference from a 1-pixel blur of the luminance."""
    gray = img.convert("L")
    return float(
        np.abs(
            np.asarray(gray, np.float32) - np.asarray(gray.filter(ImageFilter.BoxBlur(1)), np.float32)
        ).mean()
    )


# -- working size ----------------------------------------------------------------------------------


def test_working_sizes_for_typical_pictures() -> None:
    # a 12 MP phone photo: its own resolution, the geometric middle, the networks' scale
    assert working_size((4000, 3000), "fine") == (4000, 3000)
    assert working_size((4000, 3000), "medium") == (1431, 1073)
    assert working_size((4000, 3000), "coarse") == (512, 384)
    # a 1 MP web picture
    assert working_size((1280, 853), "fine") == (1280, 853)
    assert working_size((1280, 853), "medium") == (810, 540)
    assert working_size((1280, 853), "coarse") == (512, 341)
    # up to 1024 px, the same three sides whatever the size: fine upscales a smaller picture
    for size in ((1024, 683), (800, 534), (640, 450)):
        assert [max(working_size(size, s)) for s in Stroke] == [1024, 724, 512]
    # within 1/16 of its own size a picture is painted as it is
    assert working_size((700, 400), "medium") == (700, 400)
    # a picture smaller than the coarse side is painted at its own size for coarse, upscaled for the others
    assert working_size((400, 300), "coarse") == (400, 300)
    assert working_size((400, 300), "medium") == (566, 424)
    assert working_size((400, 300), "fine") == (800, 600)
    # the default is medium, in the same orientation
    assert working_size((3000, 4000), None) == working_size((3000, 4000), DEFAULT_STROKE) == (1073, 1431)


@pytest.mark.parametrize("long_side", [*range(MIN_SIDE, 2200, 7), 2448, 3000, 4096, 4624, MAX_SIDE])
def test_every_step_changes_the_stroke_size_at_every_picture_size(long_side: int) -> None:
    fine, medium, coarse = (working_side(long_side, s) for s in Stroke)
    # each step paints the picture at least 1.3x smaller (√2 unless one of them snaps to the photo)
    assert fine >= 1.3 * medium
    assert medium >= 1.3 * coarse
    # fine: the photo's resolution, at least 1024 px (at most 2x upscaled); coarse: 512 px, never
    # upscaled; medium: their geometric middle; each the photo's own size when within 1/16 of it
    fine_side = max(long_side, min(2 * long_side, FINE_MIN_SIDE))
    coarse_side = min(long_side, COARSE_SIDE)
    medium_side = math.sqrt(fine_side * coarse_side)
    for side, want in ((fine, fine_side), (medium, medium_side), (coarse, coarse_side)):
        snapped = 1 / SNAP < want / long_side < SNAP
        assert side == long_side if snapped else abs(side - want) <= 0.5
    assert long_side <= fine <= MAX_UPSCALE * long_side
    assert coarse <= long_side


def test_a_thin_strip_is_never_made_thinner_than_the_networks_take() -> None:
    assert working_size((8192, 32), "coarse") == (8192, 32)
    assert min(working_size((2000, 40), "coarse")) == MIN_SIDE


# -- the number: stroke size visibly changes at every size -----------------------------------------


@pytest.mark.parametrize("name", list(STROKE_PHOTOS))
def test_fine_detail_falls_from_fine_to_medium_to_coarse(engine, name: str) -> None:
    """The share of fine detail falls by at least 10 % at each step, for a preset and for a painting
    as the style. The share is the luminance's energy finer than a Gaussian blur of σ = 2 px over its
    variance (:func:`tests.support.strokes.fine_detail_share`)."""
    picture = STROKE_PHOTOS[name]()
    painting = ImageStyle(read_image(testdata_path("styles", "la_muse.jpg")))
    for style in (PresetStyle("tapestry"), painting):
        shares = []
        for stroke in ("fine", "medium", "coarse"):
            out = engine.stylize(picture, [style], StylizeOptions(stroke=stroke)).image
            assert out.size == picture.size
            shares.append(fine_detail_share(out))
        fine, medium, coarse = shares
        assert medium <= 0.9 * fine, shares
        assert coarse <= 0.9 * medium, shares


# -- back to full size --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_photo() -> Image.Image:
    """1536 x 1024: six 512 px pictures side by side at their own resolution (never upscaled): the
    astronaut, two parts of the Hubble deep field and a micrograph, each once as it is and once
    mirrored, so the picture has fine detail everywhere."""
    from skimage import data

    hubble = sample_photo("hubble")
    micrograph = Image.fromarray(data.immunohistochemistry())
    tiles = [sample_photo("astronaut"), hubble.crop((0, 0, 512, 512)), micrograph]
    tiles += [
        hubble.crop((488, 360, 1000, 872)),
        *(t.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for t in tiles[::2]),
    ]
    mosaic = Image.new("RGB", (1536, 1024))
    for i, tile in enumerate(tiles):
        mosaic.paste(tile, (512 * (i % 3), 512 * (i // 3)))
    return mosaic


def test_coarse_paints_at_512_and_returns_full_size_with_the_photos_detail(engine, big_photo) -> None:
    # Given a 1536 px photo and a painting as the style (one with the photo's contrast or more)
    style = [ImageStyle(sample_painting("grey-ink"))]
    # When it is painted with coarse strokes, and its 512 px version is painted as it is
    coarse = engine.stylize(big_photo, style, StylizeOptions(stroke="coarse")).image
    small = big_photo.resize(working_size(big_photo.size, "coarse"), Image.Resampling.LANCZOS)
    assert small.size == (512, 341)
    direct = engine.stylize(small, style, StylizeOptions(stroke="coarse")).image
    # Then the output has the photo's size, and seen at 512 px it is that painting (same strokes)
    assert coarse.size == big_photo.size
    assert _psnr(coarse.resize(small.size, Image.Resampling.LANCZOS), direct) >= 28.0
    # and it keeps the photo's fine detail: beyond the painting upsampled alone, it gains at least
    # half of what the photo has beyond its own 512 px version
    upsampled = direct.resize(big_photo.size, Image.Resampling.BICUBIC)
    photo_fine = _detail(big_photo) - _detail(small.resize(big_photo.size, Image.Resampling.BICUBIC))
    assert photo_fine > 0.3
    assert _detail(coarse) - _detail(upsampled) > 0.5 * photo_fine


def test_fine_on_a_small_photo_is_painted_upscaled_and_returned_at_its_size(engine) -> None:
    # Given a 512 px photo, which fine paints at 1024 px
    photo = sample_photo("astronaut")
    assert photo.size == (512, 512)
    style = [PresetStyle("tapestry")]
    fine = engine.stylize(photo, style, StylizeOptions(stroke="fine")).image
    # Then the output has the photo's size and is the 1024 px painting brought down
    assert fine.size == photo.size
    upscaled = photo.resize((1024, 1024), Image.Resampling.LANCZOS)
    assert working_size(upscaled.size, "fine") == upscaled.size  # painted as it is
    big = engine.stylize(upscaled, style, StylizeOptions(stroke="fine")).image
    assert _psnr(fine, big.resize(photo.size, Image.Resampling.LANCZOS)) >= 28.0
    # and it is not the picture painted at its own size (which coarse gives)
    coarse = engine.stylize(photo, style, StylizeOptions(stroke="coarse")).image
    assert _psnr(fine, coarse) < 20.0


def test_fine_strokes_are_finer_than_coarse(engine, big_photo) -> None:
    style = [PresetStyle("swirling-night")]
    fine = engine.stylize(big_photo, style, StylizeOptions(stroke="fine")).image
    coarse = engine.stylize(big_photo, style, StylizeOptions(stroke="coarse")).image
    assert fine.size == coarse.size == big_photo.size

    def stroke_energy(img: Image.Image, radius: int) -> float:  # structure between radius and 2 radius
        gray = img.convert("L")
        a = np.asarray(gray.filter(ImageFilter.GaussianBlur(radius)), np.float32)
        b = np.asarray(gray.filter(ImageFilter.GaussianBlur(2 * radius)), np.float32)
        return float(np.abs(a - b).mean())

    # Then coarse puts relatively more of its structure at large scales than fine does
    ratio = lambda img: stroke_energy(img, 8) / stroke_energy(img, 1)  # noqa: E731
    assert ratio(coarse) > 1.2 * ratio(fine)


# -- restore_detail --------------------------------------------------------------------------------


def _photo_and_work() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    photo = rng.integers(60, 200, (64, 64, 3), dtype=np.uint8)
    work = np.asarray(Image.fromarray(photo).resize((32, 32), Image.Resampling.LANCZOS))
    return photo, work


def _up(work: np.ndarray, size: int = 64) -> np.ndarray:
    return np.asarray(Image.fromarray(work).resize((size, size), Image.Resampling.BICUBIC), np.float64)


def test_restore_detail_gives_back_the_photos_luminance_for_a_painting_with_its_contrast() -> None:
    # Given a photo with fine detail, and as the "painting" its own half-scale version
    photo, work = _photo_and_work()
    # When it is brought back to full size
    out = restore_detail(work, work, photo)
    # Then it has the photo's size and its luminance: the detail lost at half scale is back
    assert out.shape == photo.shape
    assert detail_gain(work, work) == pytest.approx(1.0)
    assert np.abs(out.astype(np.float64) @ LUMA - photo.astype(np.float64) @ LUMA).max() <= 1.5
    assert np.abs(_up(work) @ LUMA - photo.astype(np.float64) @ LUMA).mean() > 10  # much was lost


def test_restore_detail_adds_the_detail_at_the_paintings_contrast() -> None:
    # Given a painting with half the photo's luminance contrast
    photo, work = _photo_and_work()
    painted = np.clip(128 + 0.5 * (work.astype(np.float64) - work.mean()), 0, 255).round().astype(np.uint8)
    gain = detail_gain(painted, work)
    assert gain == pytest.approx(0.5, abs=0.02)
    # When it is brought back to full size
    out = restore_detail(painted, work, photo)
    # Then the photo's detail is added at that contrast, on each channel
    expected = _up(painted) + gain * ((photo.astype(np.float64) - _up(work)) @ LUMA)[..., None]
    assert np.abs(out - np.clip(expected, 0, 255)).max() <= 1.0
    # and a flat painting gets none of it (no pen outlines over a style without contrast)
    flat = np.full_like(work, 128)
    assert detail_gain(flat, work) == 0.0
    assert np.abs(restore_detail(flat, work, photo).astype(np.int16) - 128).max() <= 1


def test_restore_detail_brings_an_upscaled_painting_down() -> None:
    photo, _ = _photo_and_work()
    work = np.asarray(Image.fromarray(photo).resize((128, 128), Image.Resampling.LANCZOS))
    out = restore_detail(work, work, photo)
    assert out.shape == photo.shape
    assert np.abs(out.astype(np.float64) @ LUMA - photo.astype(np.float64) @ LUMA).max() <= 1.5


def test_unknown_stroke_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as info:
        StylizeOptions.checked(stroke="huge")
    assert info.value.code == "InvalidStroke"
