"""Stroke size: the style is painted at a chosen scale, the output keeps the photo's size and detail."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from stylemixer.errors import InvalidRequestError
from stylemixer.images import read_image
from stylemixer.neural.stroke import DEFAULT_STROKE, STROKE_SIDES, restore_detail, working_size
from stylemixer.options import StylizeOptions
from stylemixer.styles import PresetStyle
from tests.support.paths import testdata_path


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


@pytest.fixture(scope="module")
def big_photo() -> Image.Image:
    """1536 x 1024, past the coarse stroke's 1024 px: six real photos side by side at their own
    resolution (512 px crops, never upscaled), so the picture has a camera's fine detail."""
    names = [
        "golden_gate.jpg",
        "sailboat.jpg",
        "brad_pitt.jpg",
        "cornell.jpg",
        "chicago.jpg",
        "golden_gate.jpg",
    ]
    mosaic = Image.new("RGB", (1536, 1024))
    for i, name in enumerate(names):
        img = read_image(testdata_path("photos", name))
        crop = img.crop((0, 0, 512, 512)) if i < 5 else img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        mosaic.paste(crop.crop((0, 0, 512, 512)), (512 * (i % 3), 512 * (i // 3)))
    return mosaic


def test_working_size_per_stroke() -> None:
    assert working_size((4000, 3000), "fine") == (4000, 3000)
    assert working_size((4000, 3000), "medium") == (2048, 1536)
    assert working_size((4000, 3000), "coarse") == (1024, 768)
    assert working_size((3000, 4000), None) == working_size((3000, 4000), DEFAULT_STROKE)
    # a picture already smaller than the working size is painted as it is, never upscaled
    assert working_size((800, 600), "coarse") == (800, 600)
    assert STROKE_SIDES["fine"] is None


def test_coarse_paints_at_1024_and_returns_full_size(engine, big_photo) -> None:
    # Given a 1536 px photo
    style = [PresetStyle("swirling-night")]
    # When it is painted with coarse strokes, and its 1024 px version is painted as it is
    coarse = engine.stylize(big_photo, style, StylizeOptions(stroke="coarse")).image
    small = big_photo.resize(working_size(big_photo.size, "coarse"), Image.Resampling.LANCZOS)
    direct = engine.stylize(small, style, StylizeOptions(stroke="fine")).image
    # Then the output has the photo's size, and seen at 1024 px it is that painting (same strokes)
    assert coarse.size == big_photo.size
    assert _psnr(coarse.resize(small.size, Image.Resampling.LANCZOS), direct) >= 28.0
    # and it keeps the photo's fine detail: beyond the painting upsampled alone, it gains at least
    # half of what the photo has beyond its own 1024 px version
    upsampled = direct.resize(big_photo.size, Image.Resampling.BICUBIC)
    photo_fine = _detail(big_photo) - _detail(small.resize(big_photo.size, Image.Resampling.BICUBIC))
    assert photo_fine > 0.3
    assert _detail(coarse) - _detail(upsampled) > 0.5 * photo_fine


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


def test_restore_detail_adds_the_photos_own_detail() -> None:
    # Given a flat grey "painting" made at half scale and a photo with fine detail
    rng = np.random.default_rng(1)
    photo = rng.integers(60, 200, (64, 64, 3), dtype=np.uint8)
    work = np.asarray(Image.fromarray(photo).resize((32, 32), Image.Resampling.LANCZOS))
    painted = np.full((32, 32, 3), 128, np.uint8)
    # When it is brought back to full size
    out = restore_detail(painted, work, photo)
    # Then it has the photo's size and its luminance detail (the upsampled grey has none)
    assert out.shape == photo.shape
    luma = np.array([0.299, 0.587, 0.114])
    up_work = np.asarray(Image.fromarray(work).resize((64, 64), Image.Resampling.BICUBIC), np.float64)
    expected = 128 + (photo.astype(np.float64) - up_work) @ luma
    assert np.abs(out[..., 0] - np.clip(expected, 0, 255)).max() <= 1.0


def test_unknown_stroke_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as info:
        StylizeOptions.checked(stroke="huge")
    assert info.value.code == "InvalidStroke"
