"""Reading a picture under hard limits: every upload is hostile until proven otherwise.

:func:`read_image` works in a fixed order and stops at the first broken rule, before paying for
the next step:

1. the byte size (a path is measured with ``stat`` and a stream is read at most one byte past the
   limit, so an oversized file is never read whole);
2. the type, from the magic bytes only (never the file name or the declared content type);
3. the width and height, from the header, before a single pixel is decoded (no decompression bombs)
   (these two: :mod:`stylemixer.images.formats`);
4. the decode itself, with every Pillow failure turned into a sentence a person understands;
5. the normalisation every caller relies on: RGB, sRGB, EXIF orientation applied, alpha on white.

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is process-wide state, and
``Image.open`` warns or raises from it before we could say anything useful. So this module does not
touch that setting and does not call ``Image.open``: it opens the one plugin the magic bytes named
(which also stops a file from being decoded as a type we did not check) and applies its own limits.
Pillow's WebP opener still consults the global setting itself, so a ``DecompressionBombError`` is
translated into our own refusal like every other Pillow exception.

Animated pictures (animated WebP, APNG) are refused rather than reduced to their first frame: the
result would silently lose what the person sent, the first frame of an animation is often not a
picture on its own, and decoding frames multiplies the cost. Multi-picture JPEGs (MPO, written by
some cameras) are not animations: their first picture is the photo, and that is what we read.

No torch here: the API function imports this package to sniff types.
"""

from __future__ import annotations

import io
import math
import os
import struct
from typing import IO, TYPE_CHECKING, Final

from PIL import Image, ImageFile

from stylemixer.errors import (
    ANIMATED_IMAGE,
    CORRUPT_IMAGE,
    FILE_NOT_READABLE,
    IMAGE_DIMENSIONS_TOO_LARGE,
    IMAGE_TOO_LARGE,
    IMAGE_TOO_SMALL,
    TRUNCATED_IMAGE,
    ImageTooLargeError,
    InvalidImageError,
    StyleMixerError,
)
from stylemixer.images.colour import WHITE, srgb_profile
from stylemixer.images.formats import (
    ACCEPTED,
    BMFF_SCAN_BYTES,
    NAMES,
    TEXT_SNIFF_BYTES,
    bmff_size,
    bmff_truncated,
    check_format,
    orientation,
    plugin,
    webp_size,
)
from stylemixer.limits import MAX_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES, MIN_SIDE, megabytes

if TYPE_CHECKING:
    from collections.abc import Callable

# EXIF orientation -> the transpose that displays the picture upright (as ImageOps.exif_transpose).
_ORIENTATION: Final[dict[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: A JPEG decoded at a reduced scale may be this much smaller than asked (then resized up by at most
#: 1/64, which no one sees), so that a 200 MP photo's half, 8160 x 6120, serves for the 50 MP cap.
_DRAFT_SLACK: Final = 63 / 64


class ImageTooSmallError(StyleMixerError):
    """The picture is too small to stylize."""

    code = IMAGE_TOO_SMALL


# --- reading ---------------------------------------------------------------------------------

#: What :func:`read_image` reads: the bytes themselves, a file path, or a binary stream.
ImageSource = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]


def read_image(
    source: ImageSource,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
    min_side: int = MIN_SIDE,
    draft_scale: float | None = None,
) -> Image.Image:
    """Decode a JPEG, PNG, WebP, HEIC or AVIF under the limits into a plain, upright, fully loaded sRGB
    picture.

    Refusals are :class:`~stylemixer.errors.StyleMixerError` subclasses with a stable code
    (``ImageTooLarge``, ``UnsupportedImageType``, ``ImageDimensionsTooLarge``, ``TruncatedImage``…)
    and a sentence for a person; no Pillow exception escapes. The result is mode ``RGB`` with an
    empty ``info`` (no EXIF, no profile: it is sRGB now).

    ``draft_scale``: the caller will bring the picture down by this factor; a JPEG is then decoded
    at the coarsest of its built-in reductions (1/2, 1/4, 1/8) that is not smaller than that, less
    1/64 (Pillow's ``draft``): a 200 MP photo decodes as 50 MP, in a quarter of the time and memory.
    Other formats decode at their own size.

    Example (a path or a stream reads the same):
        >>> from stylemixer.images import encode_image
        >>> png = encode_image(Image.new("L", (64, 48)), "png")
        >>> read_image(png).mode, read_image(png).size
        ('RGB', (64, 48))
    """
    data = read_bounded(source, max_bytes)
    fmt = check_format(data[:TEXT_SNIFF_BYTES])
    try:
        im = _open_checked(data, fmt, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
        if draft_scale is not None and draft_scale < 1.0 and fmt == "JPEG":
            # draft() picks the largest reduction whose size is at least the one asked for.
            wanted = (
                math.ceil(im.width * draft_scale * _DRAFT_SLACK),
                math.ceil(im.height * draft_scale * _DRAFT_SLACK),
            )
            im.draft("RGB", wanted)
        try:
            im.load()
        except Exception as exc:
            raise _decode_error(exc, fmt) from None
        return _normalize(im)
    except (StyleMixerError, MemoryError):
        raise
    except Image.DecompressionBombError:
        raise ImageTooLargeError(
            IMAGE_DIMENSIONS_TOO_LARGE,
            "The picture has more pixels than the decoder's safety limit allows; send a smaller one.",
        ) from None
    except Exception as exc:
        raise _decode_error(exc, fmt) from None


def read_bounded(
    source: ImageSource,
    limit: int,
    *,
    check_size: Callable[[int, int], None] | None = None,
    unreadable: Callable[[str, str], StyleMixerError] | None = None,
) -> bytes:
    """The source's bytes, refusing (before reading it all) anything longer than ``limit``.

    A path is measured with ``stat`` first and a stream is read at most one byte past the limit.
    ``check_size(size, limit)`` refuses a size over the limit and ``unreadable(path, reason)`` is the
    refusal of a path that cannot be read; by default a picture's (``ImageTooLarge``,
    ``FileNotReadable``), and a region map passes its own.

    Example:
        >>> read_bounded(io.BytesIO(b"12345"), 5)
        b'12345'
        >>> read_bounded(io.BytesIO(b"123456"), 5)
        Traceback (most recent call last):
        ...
        stylemixer.errors.ImageTooLargeError: The file is 6 bytes; the largest accepted is 5 bytes (...).
    """
    check = check_size or _check_byte_size
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as stream:
                check(os.fstat(stream.fileno()).st_size, limit)
                data = _read_stream(stream, limit)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise (unreadable or _file_not_readable)(os.fspath(source), reason) from None
    else:
        data = _read_stream(source, limit)
    check(len(data), limit)
    return data


def _file_not_readable(path: str, reason: str) -> StyleMixerError:
    return InvalidImageError(FILE_NOT_READABLE, f"Cannot read {path}: {reason}.")


def _read_stream(stream: IO[bytes], limit: int) -> bytes:
    """At most ``limit + 1`` bytes: enough to know the stream is too long without reading it all."""
    chunks: list[bytes] = []
    wanted = limit + 1
    while wanted > 0:
        chunk = stream.read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _check_byte_size(size: int, limit: int) -> None:
    if size > limit:
        raise ImageTooLargeError(
            IMAGE_TOO_LARGE,
            f"The file is {size:,} bytes; the largest accepted is {limit:,} bytes ({megabytes(limit)}).",
        )


def _open_checked(
    data: bytes, fmt: str, *, max_pixels: int, max_side: int, min_side: int
) -> ImageFile.ImageFile:
    """Open lazily with the one plugin ``fmt`` names and check the header's size before any decoding."""
    if fmt == "WEBP":
        # libwebp allocates the whole canvas when its decoder is created, which Pillow does while
        # opening; so check what the header claims first, and whether the file is all there.
        (riff_size,) = struct.unpack_from("<I", data, 4)
        if len(data) < riff_size + 8:
            raise InvalidImageError(TRUNCATED_IMAGE, _truncated_sentence(fmt))
        claimed = webp_size(data)
        if claimed is not None:
            _check_dimensions(*claimed, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
    elif fmt in ("HEIF", "AVIF"):
        if bmff_truncated(data):
            raise InvalidImageError(TRUNCATED_IMAGE, _truncated_sentence(fmt))
        # The decoders allocate when they parse; the size is in the container's ``ispe`` properties.
        claimed = bmff_size(data[:BMFF_SCAN_BYTES])
        if claimed is None:
            raise InvalidImageError(
                CORRUPT_IMAGE,
                f"The {NAMES[fmt]} file has no picture size in it; save it again or send another picture.",
            )
        _check_dimensions(*claimed, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
    im = plugin(fmt)(io.BytesIO(data))
    _check_dimensions(*im.size, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
    # A HEIF file may hold several pictures (bursts, edits beside the original): the primary one is
    # the photo, as for a camera's MPO. An AVIF sequence (brand ``avis``) is an animation.
    if fmt != "HEIF" and getattr(im, "is_animated", False):
        raise InvalidImageError(
            ANIMATED_IMAGE,
            f"Animated pictures are not accepted; send a still {ACCEPTED} picture.",
        )
    return im


def _check_dimensions(width: int, height: int, *, max_pixels: int, max_side: int, min_side: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            IMAGE_DIMENSIONS_TOO_LARGE,
            f"The picture is {width} × {height} pixels ({_megapixels(width * height)} megapixels); "
            f"the largest accepted is {_megapixels(max_pixels)} megapixels.",
        )
    if max(width, height) > max_side:
        raise ImageTooLargeError(
            IMAGE_DIMENSIONS_TOO_LARGE,
            f"The picture is {width} × {height} pixels; its longer side may be at most {max_side} pixels.",
        )
    if min(width, height) < min_side:
        raise ImageTooSmallError(
            IMAGE_TOO_SMALL,
            f"The picture is {width} × {height} pixels; both sides must be at least {min_side} pixels.",
        )


def _decode_error(exc: BaseException, fmt: str) -> InvalidImageError:
    """A decoding failure in words: cut short, or damaged."""
    # Pillow says "truncated", or re-raises running out of data (EOFError, struct.error) as SyntaxError.
    causes = (exc, exc.__cause__)
    if any(isinstance(c, EOFError | struct.error) for c in causes) or "truncated" in str(exc).lower():
        return InvalidImageError(TRUNCATED_IMAGE, _truncated_sentence(fmt))
    name = NAMES.get(fmt, fmt)
    return InvalidImageError(
        CORRUPT_IMAGE,
        f"The {name} file is damaged and cannot be read; save it again or send another picture.",
    )


def _truncated_sentence(fmt: str) -> str:
    name = NAMES.get(fmt, fmt)
    return f"The {name} file ends too early (it was cut off, perhaps during the upload); send it again."


# --- normalising -----------------------------------------------------------------------------


def _normalize(im: ImageFile.ImageFile) -> Image.Image:
    """Loaded picture of any mode the three formats produce -> upright sRGB RGB, alpha on white."""
    transpose = _ORIENTATION.get(orientation(im))
    icc = im.info.get("icc_profile")
    work: Image.Image = im
    if work.mode in ("P", "PA"):
        work = work.convert("RGBA")
    elif work.mode in ("1", "L", "RGB") and "transparency" in work.info:
        work = work.convert("LA" if work.mode in ("1", "L") else "RGBA")

    alpha: Image.Image | None = None
    if work.mode in ("LA", "La", "RGBA", "RGBa"):
        work = work.convert("LA" if work.mode in ("LA", "La") else "RGBA")
        alpha = work.getchannel("A")
        work = work.convert("L" if work.mode == "LA" else "RGB")
    if work.mode.startswith("I") or work.mode == "F":
        work = _gray16_to_l(work)
    elif work.mode == "1":
        work = work.convert("L")

    rgb = _to_srgb(work, icc) if icc else None
    if rgb is None:
        rgb = work if work.mode == "RGB" else work.convert("RGB")
    if alpha is not None and alpha.getextrema() != (255, 255):
        flat = Image.new("RGB", rgb.size, WHITE)
        flat.paste(rgb, mask=alpha)
        rgb = flat
    if transpose is not None:
        rgb = rgb.transpose(transpose)
    if rgb is im:
        rgb = im.copy()  # a plain in-memory picture, detached from the file object
    rgb.info = {}
    return rgb


def _gray16_to_l(im: Image.Image) -> Image.Image:
    """16-bit (or 32-bit) gray -> 8-bit by scaling; Pillow's own ``convert("L")`` clips at 255."""
    import numpy as np

    values = np.asarray(im, dtype=np.float64)
    scaled = np.clip(values, 0, 65535) * (255.0 / 65535.0)
    return Image.fromarray(np.rint(scaled).astype(np.uint8))


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert through the embedded profile to sRGB; ``None`` when the profile cannot be used.

    A missing or broken profile is not a reason to refuse a photo (browsers show such files too),
    so any failure falls back to reading the values as sRGB. A profile that names itself sRGB is
    skipped: it is by far the most common and converting to itself only costs time.
    """
    try:
        from PIL import ImageCms

        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space.strip()
        if {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}.get(space) != im.mode:
            return None
        if space == "RGB" and ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb"):
            return None
        converted = ImageCms.profileToProfile(
            im, profile, srgb_profile(), renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except Exception:
        return None
    return converted


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}"
