"""The engine on real pictures with the real weights: sizes, blends, strength, colour, progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from stylemixer.errors import InvalidRequestError
from stylemixer.images import read_image
from stylemixer.options import StylizeOptions
from stylemixer.styles import ImageStyle, PresetStyle
from tests.support.paths import testdata_path
from tests.support.pictures import sample_painting, sample_photo

if TYPE_CHECKING:
    from PIL import Image


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    # An odd size on purpose: neither side is a multiple of 4.
    return sample_photo("astronaut").resize((203, 157))


def _mean_abs(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean())


def test_preset_output_keeps_the_photos_odd_size(engine, photo) -> None:
    result = engine.stylize(photo, [PresetStyle("swirling-night")])
    assert result.image.size == photo.size
    assert result.image.mode == "RGB"
    assert result.regions is None
    assert _mean_abs(result.image, photo) > 20  # really repainted


def test_max_size_caps_the_longer_side(engine, photo) -> None:
    result = engine.stylize(photo, [PresetStyle("tapestry")], StylizeOptions(max_size=100))
    assert max(result.image.size) == 100


def test_a_blend_of_presets_lies_between_its_parts(engine, photo) -> None:
    a = engine.stylize(photo, [PresetStyle("scarlet-blaze")]).image
    b = engine.stylize(photo, [PresetStyle("indigo-brush")]).image
    mix = engine.stylize(photo, [PresetStyle("scarlet-blaze"), PresetStyle("indigo-brush")]).image
    assert 0 < _mean_abs(mix, a) < _mean_abs(a, b)
    assert 0 < _mean_abs(mix, b) < _mean_abs(a, b)


def test_strength_zero_keeps_the_photo_for_presets(engine, photo) -> None:
    result = engine.stylize(photo, [PresetStyle("scarlet-blaze")], StylizeOptions(strength=0.0))
    assert _mean_abs(result.image, photo) < 1.0


def test_preserve_color_takes_colour_from_the_photo(engine, photo) -> None:
    plain = engine.stylize(photo, [PresetStyle("scarlet-blaze")]).image
    kept = engine.stylize(photo, [PresetStyle("scarlet-blaze")], StylizeOptions(preserve_color=True)).image

    def chroma(img: Image.Image) -> np.ndarray:
        return np.asarray(img.convert("YCbCr"), np.float32)[..., 1:]

    assert np.abs(chroma(kept) - chroma(photo)).mean() < 0.5 * np.abs(chroma(plain) - chroma(photo)).mean()


def test_presets_and_custom_styles_do_not_blend(engine, photo) -> None:
    style = ImageStyle(sample_painting("grey-ink"))
    with pytest.raises(InvalidRequestError) as info:
        engine.stylize(photo, [PresetStyle("tapestry"), style])
    assert info.value.code == "MixedStyleKinds"


def test_progress_is_monotone_and_reaches_one(engine, photo) -> None:
    seen: list[tuple[str, float]] = []
    engine.stylize(photo, [PresetStyle("tapestry")], progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    assert sum(1 for s, _ in seen if s == "stylize") >= 10  # the bar moves during the pass itself


def test_custom_style_runs_at_full_resolution_beyond_384(engine) -> None:
    photo = sample_photo("coffee").resize((640, 480))
    style = ImageStyle(sample_painting("tapestry"))
    result = engine.stylize(photo, [style])
    assert result.image.size == (640, 480)


#: Photos carried with the project, each with a render of one of our presets as the style picture.
CARRIED_PAIRS = [
    ("astronaut", "scarlet-blaze"),
    ("coffee", "indigo-brush"),
    ("rocket", "delft-engraving"),
    ("chelsea", "stained-glass"),
    ("hubble", "swirling-night"),
]
#: Real photos and paintings (../shared/testdata): the test set arbitrary style-transfer papers use.
REAL_PAIRS = [
    ("golden_gate.jpg", "la_muse.jpg"),
    ("sailboat.jpg", "asheville.jpg"),
    ("cornell.jpg", "brushstrokes.jpg"),
    ("brad_pitt.jpg", "picasso_self_portrait.jpg"),
    ("chicago.jpg", "antimonocromatismo.jpg"),
]


@pytest.mark.parametrize(("photo_name", "preset"), CARRIED_PAIRS)
def test_style_is_really_transferred(engine, photo_name: str, preset: str) -> None:
    _assert_transferred(engine, sample_photo(photo_name), sample_painting(preset))


@pytest.mark.parametrize(("photo_name", "style_name"), REAL_PAIRS)
def test_the_style_of_a_real_painting_is_really_transferred(engine, photo_name: str, style_name: str) -> None:
    photo = read_image(testdata_path("photos", photo_name))
    _assert_transferred(engine, photo, read_image(testdata_path("styles", style_name)))


def _assert_transferred(engine, photo: Image.Image, painting: Image.Image) -> None:
    # Given a photo and a painting
    photo.thumbnail((512, 512))
    # When the painting is used as the style
    out = engine.stylize(photo, [ImageStyle(painting)]).image
    # Then the predictor sees the output's style closer to the painting's than the photo's was
    target = engine.style_vector(painting).flatten()
    cos = lambda a, b: float((a @ b) / (a.norm() * b.norm()))  # noqa: E731
    assert cos(engine.style_vector(out).flatten(), target) > cos(engine.style_vector(photo).flatten(), target)


def test_custom_strength_moves_toward_the_photo(engine) -> None:
    photo = sample_photo("rocket")
    photo.thumbnail((320, 320))
    style = ImageStyle(sample_painting("indigo-brush"))
    full = engine.stylize(photo, [style]).image
    light = engine.stylize(photo, [style], StylizeOptions(strength=0.3)).image
    assert _mean_abs(light, photo) < _mean_abs(full, photo)
