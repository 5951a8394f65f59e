"""Pictures the project may carry: a photo or a painting for tests that need one, but no particular one.

Photos come from scikit-image's sample data (BSD licensed, a dev dependency; public-domain and CC0
photographs shipped inside the package): ``astronaut`` (512 x 512), ``coffee`` (600 x 400),
``chelsea`` (451 x 300), ``rocket`` (640 x 427), ``hubble`` (1000 x 872). Paintings are renders of our
own presets: the gallery's thumbnails under ``static_site/presets/`` (256 x 256, the astronaut painted
by each preset; ``make thumbnails`` draws them).

Phone photos of 24 and 48 MP (:func:`phone_photo_file`) are made from the sample photos: a crop to
the phone's shape, upscaled, with a camera's fine grain added, so they carry detail at every scale
and compress as photos do (a 48 MP one is a JPEG of about 10 MB, as phones save).

The real photos and paintings in ``../shared/testdata`` (:func:`tests.support.paths.testdata_path`)
stay for the tests about them in particular: the Style Mixer paper's cases, parity statistics over
many real paintings, the stroke-size measure on camera photos. Those skip where the folder is absent.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
from pathlib import Path

from PIL import Image

from tests.support.paths import ROOT

#: The sample photos by name: the scikit-image loader of each.
PHOTOS = {
    "astronaut": "astronaut",
    "coffee": "coffee",
    "chelsea": "chelsea",
    "rocket": "rocket",
    "hubble": "hubble_deep_field",
}
PRESET_RENDERS = ROOT / "static_site" / "presets"
#: Files written for the tests that need a path (the CLI, uploads from a browser), once per machine.
_FILES = Path(tempfile.gettempdir()) / f"stylemixer-test-pictures-{os.getuid()}"


def sample_photo(name: str = "astronaut") -> Image.Image:
    """One of the sample photos, RGB (a copy: change it freely).

    Example:
        >>> sample_photo("coffee").size
        (600, 400)
    """
    return _photo(name).copy()


@functools.cache
def _photo(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, PHOTOS[name])()).convert("RGB")


def sample_jpeg(name: str = "astronaut", max_side: int | None = None, quality: int = 95) -> bytes:
    """The sample photo ``name`` as JPEG bytes, fitted within ``max_side`` first if given."""
    img = sample_photo(name)
    if max_side is not None:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def sample_photo_file(name: str = "astronaut") -> Path:
    """The sample photo ``name`` as a JPEG file (for the CLI, or a browser's file chooser).

    Written once per machine under the temporary folder; never inside the project.
    """
    path = _FILES / f"{name}.jpg"
    if not path.exists():
        _FILES.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(sample_jpeg(name))
        partial.replace(path)  # atomic: another test process may be writing the same file
    return path


def sample_painting_file(preset: str = "swirling-night") -> Path:
    """The render of the preset ``preset``, a JPEG file in the project (a style picture of our own)."""
    path = PRESET_RENDERS / f"{preset}.jpg"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a preset render (run make thumbnails after adding a preset)")
    return path


def sample_painting(preset: str = "swirling-night") -> Image.Image:
    """The render of the preset ``preset`` as a picture (RGB), to use as a style of one's own."""
    with Image.open(sample_painting_file(preset)) as opened:
        return opened.convert("RGB")


#: Phone photo sizes by name (W x H, landscape): what the phones' modes save.
PHONE_SIZES = {
    "24mp": (5712, 4284),  # iPhone 15 and later, by default
    "48mp": (8064, 6048),  # iPhone's full-resolution mode
    "50mp": (8160, 6120),  # Samsung, Xiaomi and Pixel 50 MP modes
}


def phone_photo(width: int, height: int, name: str = "rocket", seed: int = 0) -> Image.Image:
    """The sample photo ``name`` as a phone photo of ``width`` x ``height``: cropped to that shape,
    upscaled (bicubic), with a sensor's grain (Gaussian, sigma 3 grey levels) so it has fine detail.

    Example:
        >>> phone_photo(640, 480).size
        (640, 480)
    """
    import numpy as np

    img = sample_photo(name)
    scale = min(img.width / width, img.height / height)
    crop_w, crop_h = round(width * scale), round(height * scale)
    left, top = (img.width - crop_w) // 2, (img.height - crop_h) // 2
    big = img.crop((left, top, left + crop_w, top + crop_h)).resize((width, height), Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    out = np.asarray(big, dtype=np.int16)
    for r0 in range(0, height, 1024):  # in bands: a 48 MP picture's noise in int16 whole is 290 MB
        band = out[r0 : r0 + 1024]
        band += rng.normal(0.0, 3.0, band.shape[:2])[..., None].round().astype(np.int16)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def phone_photo_file(size: str = "24mp", *, exif_orientation: int | None = None) -> Path:
    """A phone photo of :data:`PHONE_SIZES` ``size`` as a JPEG file (quality 90), written once per
    machine under the temporary folder; with ``exif_orientation``, that tag is written (the pixels
    stay as they are, as a phone held upright stores them)."""
    width, height = PHONE_SIZES[size]
    suffix = f"-o{exif_orientation}" if exif_orientation else ""
    path = _FILES / f"phone-{size}{suffix}-v1.jpg"  # v1: the way it is made (bump when that changes)
    if not path.exists():
        _FILES.mkdir(parents=True, exist_ok=True)
        img = phone_photo(width, height)
        exif = Image.Exif()
        if exif_orientation:
            exif[0x0112] = exif_orientation
        partial = path.with_suffix(f".{os.getpid()}.part")
        img.save(partial, format="JPEG", quality=90, exif=exif.tobytes())
        partial.replace(path)
    return path
