"""Writing results: a picture brought within a size, encoded (sRGB, no metadata) and saved whole."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Final

from PIL import Image

from stylemixer.errors import InvalidRequestError
from stylemixer.images.colour import WHITE, srgb_icc_bytes
from stylemixer.options import OutputFormat, check_output_format, option_spec


def fit_within(img: Image.Image, side: int | None) -> Image.Image:
    """Downscale (Lanczos) so that the longer side is at most ``side``; never upscale.

    Returns ``img`` itself when it already fits or ``side`` is ``None``.

    Example:
        >>> fit_within(Image.new("RGB", (4000, 3000)), 1000).size
        (1000, 750)
    """
    if side is None:
        return img
    size = fitted_size(img.size, side)
    if size == img.size:
        return img
    # reducing_gap: a cheap box reduction first, then Lanczos over the last factor of 3 or less;
    # the result is indistinguishable from a full Lanczos and several times faster on big photos.
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def fitted_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size :func:`fit_within` gives a picture of ``size`` (W, H) for a longer side of at most ``side``.

    Example:
        >>> fitted_size((4000, 3000), 1000), fitted_size((800, 600), 1000)
        ((1000, 750), (800, 600))
    """
    if side < 1:
        raise ValueError(f"side must be at least 1 pixel, not {side}")
    width, height = size
    longer = max(width, height)
    if longer <= side:
        return size
    scale = side / longer
    return (
        side if width == longer else max(1, round(width * scale)),
        side if height == longer else max(1, round(height * scale)),
    )


#: A thumbnail's shorter side: a list's tile is 128 CSS pixels, sharp at 3 device pixels to one.
THUMBNAIL_SHORT_SIDE: Final = 400
#: And its longer side at most, so a panorama's or a scroll's thumbnail stays small too.
THUMBNAIL_LONG_SIDE: Final = 1600
#: Plenty at that size; a thumbnail of a 50-megapixel painting is about a hundredth of its bytes.
THUMBNAIL_QUALITY: Final = 85


def thumbnail_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size of :func:`thumbnail_jpeg`'s copy of a picture of ``size`` (W, H): the shorter side
    :data:`THUMBNAIL_SHORT_SIDE` (a square tile cut from its middle is still sharp), the longer at
    most :data:`THUMBNAIL_LONG_SIDE`; never larger than the picture.

    Example:
        >>> thumbnail_size((8000, 6000)), thumbnail_size((819, 8192)), thumbnail_size((300, 200))
        ((533, 400), (160, 1600), (300, 200))
    """
    width, height = size
    scale = min(1.0, THUMBNAIL_SHORT_SIDE / min(width, height), THUMBNAIL_LONG_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail_jpeg(img: Image.Image) -> bytes:
    """A small JPEG of the picture (:func:`thumbnail_size`), for lists of results.

    Why it exists: a page listing a dozen 50-megapixel results would otherwise fetch and decode
    each whole, hundreds of megabytes of pixels, which a phone's browser does not survive.

    Example:
        >>> Image.open(io.BytesIO(thumbnail_jpeg(Image.new("RGB", (4000, 3000))))).size
        (533, 400)
    """
    size = thumbnail_size(img.size)
    small = img if size == img.size else img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return encode_image(small, "jpeg", quality=THUMBNAIL_QUALITY)


def encode_image(img: Image.Image, fmt: str = "jpeg", *, quality: int | None = None) -> bytes:
    """The picture as ``fmt`` bytes (``"jpeg"``, ``"png"`` or ``"webp"``), sRGB, no other metadata.

    JPEG: quality 92, 4:4:4 chroma (stylized edges are colourful; 4:2:0 smears them), baseline: Pillow
    sizes a progressive JPEG's one-shot buffer at 1 byte a pixel, which busy stylized textures at
    quality 92 exceed ("Suspension not allowed here").
    PNG: no ``optimize`` pass and zlib level 3, not 6: measured on a 16-megapixel photo, 2.1 s
    instead of 5.5 s for a file 16 % larger (PNG is chosen for being lossless, not small). WebP:
    quality 90, method 4. ``quality`` overrides the JPEG/WebP default. An sRGB profile (about 600 bytes) is
    embedded so that colour-managed viewers need not guess; EXIF, XMP and comments are never copied.

    Example:
        >>> encode_image(Image.new("RGB", (8, 8)), "png")[:4]
        b'\\x89PNG'
    """
    kind = check_output_format(fmt)
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be from 1 to 100, not {quality}")
    rgb = _as_rgb(img)
    params: dict[str, object] = {}
    icc = srgb_icc_bytes()
    if icc is not None:
        params["icc_profile"] = icc
    if kind is OutputFormat.JPEG:
        params.update(quality=quality or 92, subsampling=0)
    elif kind is OutputFormat.PNG:
        params.update(optimize=False, compress_level=3)
    else:
        params.update(quality=quality or 90, method=4)
    buffer = io.BytesIO()
    rgb.save(buffer, format=kind.upper(), **params)
    return buffer.getvalue()


def _as_rgb(img: Image.Image) -> Image.Image:
    """RGB without metadata; an alpha channel is flattened on white as on input."""
    if img.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", img.size, WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if img.mode != "RGB":
        return img.convert("RGB")
    if img.info:
        # Pillow's writers fall back to ``img.info`` for some metadata (a JPEG comment, a PNG
        # transparency colour or profile); never write what came in with a picture. Pictures from
        # the engine have no info, so this copy is rare.
        bare = img.copy()
        bare.info = {}
        return bare
    return img


_SUFFIXES: Final = {f".{f.extension}": f for f in OutputFormat} | {f".{f.value}": f for f in OutputFormat}


def save_image(img: Image.Image, path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """Write the picture atomically and return the format used (from the suffix when ``fmt`` is None).

    The bytes are encoded in memory first, then written to a temporary file beside the target and
    moved over it with ``os.replace``: a failure at any point leaves either the old file or nothing,
    never half a picture. A new file gets mode 0644; an existing one keeps its mode.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     save_image(Image.new("RGB", (64, 64)), Path(folder) / "out.webp")
        <OutputFormat.WEBP: 'webp'>
    """
    target = Path(path)
    if fmt is None:
        suffix = target.suffix.lower()
        if suffix not in _SUFFIXES:
            allowed = ", ".join(_SUFFIXES)
            raise InvalidRequestError(
                option_spec("format").code, f"The output file name must end in one of {allowed}."
            )
        kind = _SUFFIXES[suffix]
    else:
        kind = check_output_format(fmt)
    data = encode_image(img, kind)
    mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return kind
