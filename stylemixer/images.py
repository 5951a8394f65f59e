"""Pictures in and out, under hard limits.

Every upload is hostile until proven otherwise, so :func:`read_image` works in a fixed order and
stops at the first broken rule, before paying for the next step:

1. the byte size (a path is measured with ``stat`` and a stream is read at most one byte past the
   limit, so an oversized file is never read whole);
2. the type, from the magic bytes only (never the file name or the declared content type);
3. the width and height, from the header, before a single pixel is decoded (no decompression bombs);
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

No torch here: the API function imports this module to sniff types.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from PIL import Image, ImageFile

from stylemixer.errors import (
    ANIMATED_IMAGE,
    CORRUPT_IMAGE,
    EMPTY_IMAGE,
    FILE_NOT_READABLE,
    IMAGE_DIMENSIONS_TOO_LARGE,
    IMAGE_TOO_LARGE,
    IMAGE_TOO_SMALL,
    NOT_AN_IMAGE,
    TRUNCATED_IMAGE,
    UNSUPPORTED_IMAGE_TYPE,
    ImageTooLargeError,
    InvalidImageError,
    InvalidRequestError,
    StyleMixerError,
)
from stylemixer.limits import (
    ALLOWED_FORMATS,
    MAX_PIXELS,
    MAX_SIDE,
    MAX_UPLOAD_BYTES,
    MIN_SIDE,
    megabytes,
)
from stylemixer.options import OutputFormat, check_output_format, option_spec

if TYPE_CHECKING:
    from collections.abc import Callable

    from PIL import ImageCms

__all__ = [
    "ImageSource",
    "ImageTooSmallError",
    "check_format",
    "content_type_for",
    "encode_image",
    "fit_within",
    "header_size",
    "read_bounded",
    "read_image",
    "save_image",
    "sniff_format",
]

#: 415 Unsupported Media Type: the bytes are fine, the kind is not one we take.
_UNSUPPORTED_STATUS: Final = 415
_ACCEPTED: Final = "JPEG, PNG, WebP, HEIC or AVIF"
_WHITE: Final = (255, 255, 255)
#: How many bytes :func:`check_format` looks at for text formats such as SVG.
_TEXT_SNIFF_BYTES: Final = 1024

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
_EXIF_ORIENTATION_TAG: Final = 0x0112
#: ISO base media file brands (ISO/IEC 23008-12, 14496-12) of HEIF pictures coded in HEVC (what
#: phones write as .heic), of AVIF pictures (AV1 in the same container), and of the generic HEIF
#: structure both declare as well.
_HEIC_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_HEIF_GENERIC_BRANDS: Final = frozenset({b"mif1", b"msf1", b"miaf"})
#: Longest ``ftyp`` box read for its brands; real ones list a handful (8 + 4 bytes each).
_FTYP_MAX: Final = 256
#: Bytes of a HEIF/AVIF file scanned for the picture's size before it is decoded (the ``meta`` box
#: with the item properties comes first in every file phones and encoders write; it is small).
_BMFF_SCAN_BYTES: Final = 1 << 20
#: Display names of the accepted formats, for sentences.
_NAMES: Final = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC", "AVIF": "AVIF"}


class ImageTooSmallError(StyleMixerError):
    """The picture is too small to stylize."""

    code = IMAGE_TOO_SMALL


# --- types, from the bytes -------------------------------------------------------------------


def sniff_format(head: bytes) -> str | None:
    """The accepted format the magic bytes announce (``"JPEG"``, ``"PNG"``, ``"WEBP"``, ``"HEIF"``,
    ``"AVIF"``), else ``None``.

    Needs only the first bytes (a HEIF/AVIF file's ``ftyp`` box, at most a few dozen bytes), so the
    API can call it on a ranged read of an uploaded object.

    Example:
        >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR")
        'PNG'
    """
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    brands = _ftyp_brands(head)
    if brands & _AVIF_BRANDS:
        return "AVIF"
    if brands & (_HEIC_BRANDS | _HEIF_GENERIC_BRANDS):
        return "HEIF"
    return None


def _ftyp_brands(head: bytes) -> frozenset[bytes]:
    """The major and compatible brands of an ISO base media file's leading ``ftyp`` box, if any.

    Example:
        >>> sorted(_ftyp_brands(b"\\x00\\x00\\x00\\x18ftypheic\\x00\\x00\\x00\\x00mif1heic"))
        [b'heic', b'mif1']
    """
    if len(head) < 12 or head[4:8] != b"ftyp":
        return frozenset()
    (size,) = struct.unpack_from(">I", head, 0)
    if size < 16:  # a box shorter than its header, major brand and minor version is not an ftyp
        return frozenset()
    end = min(size, len(head), _FTYP_MAX)
    compatible = [head[i : i + 4] for i in range(16, end - 3, 4)]
    return frozenset([head[8:12], *compatible])


def _other_format(head: bytes) -> str | None:
    """The name of a picture format we recognise but do not accept, for a helpful refusal."""
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 14:
        return "BMP"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "JPEG XL"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return "JPEG 2000"
    if head[:4] == b"\x00\x00\x01\x00":
        return "ICO"
    if head[:4] == b"8BPS":
        return "PSD"
    if head[:5] == b"%PDF-":
        return "PDF"
    text = head[:_TEXT_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype svg")) and b"<svg" in text):
        return "SVG"
    return None


def check_format(head: bytes) -> str:
    """The accepted format of these first bytes, or the refusal :func:`read_image` would give.

    The API uses it on the first bytes of an upload so that it refuses with the same code and
    sentence as the worker would (a GIF is named as a GIF, not as "not a picture").

    Example:
        >>> check_format(b"RIFF\\x00\\x00\\x00\\x00WEBPVP8 ")
        'WEBP'
    """
    if not head:
        raise InvalidImageError(EMPTY_IMAGE, "The file is empty.")
    fmt = sniff_format(head)
    if fmt is not None:
        return fmt
    other = _other_format(head)
    if other is not None:
        raise InvalidImageError(
            UNSUPPORTED_IMAGE_TYPE,
            f"{other} pictures are not accepted; send a {_ACCEPTED} picture.",
            status=_UNSUPPORTED_STATUS,
        )
    raise InvalidImageError(
        NOT_AN_IMAGE,
        f"The file is not a picture we can read; send a {_ACCEPTED} picture.",
        status=_UNSUPPORTED_STATUS,
    )


def content_type_for(fmt: str) -> str:
    """The MIME type of a format named either way we name them (``"JPEG"`` or ``"jpeg"``/``"jpg"``).

    Example:
        >>> content_type_for("JPEG")
        'image/jpeg'
    """
    key = fmt.upper()
    if key == "JPG":
        key = "JPEG"
    if key not in ALLOWED_FORMATS:
        raise ValueError(f"unknown image format {fmt!r}")
    return ALLOWED_FORMATS[key]


def header_size(head: bytes) -> tuple[int, int, bool] | None:
    """The width and height a picture's first bytes declare, and whether that is its upright shape,
    or None when they do not say (cut short before the size, or not a picture we read).

    Nothing is decoded: the API uses it to compare a region map's shape with the photo's. A JPEG's
    header holds its orientation (EXIF and XMP come before the picture), so its upright shape is
    known; other formats may keep theirs after the picture, so theirs may be turned a quarter.

    Example:
        >>> header_size(encode_image(Image.new("RGB", (64, 48)), "png")[:100])
        (64, 48, False)
        >>> header_size(encode_image(Image.new("RGB", (64, 48)), "jpeg"))
        (64, 48, True)
        >>> header_size(b"not a picture") is None
        True
    """
    fmt = sniff_format(head)
    try:
        if fmt == "WEBP":
            size = _webp_size(head)
        elif fmt in ("HEIF", "AVIF"):
            size = _bmff_size(head)
        elif fmt == "PNG" and head[12:16] == b"IHDR":  # the first chunk, always
            size = struct.unpack_from(">II", head, 16)
        elif fmt == "JPEG":  # the header's segments, up to the first scan
            im = _plugin(fmt)(io.BytesIO(head))
            width, height = im.size
            if _orientation(im) in (5, 6, 7, 8):  # turned a quarter to stand upright
                width, height = height, width
            return width, height, True
        else:
            return None
    except Exception:
        return None
    return (size[0], size[1], False) if size is not None else None


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
) -> Image.Image:
    """Decode a JPEG, PNG, WebP, HEIC or AVIF under the limits into a plain, upright, fully loaded sRGB
    picture.

    Refusals are :class:`~stylemixer.errors.StyleMixerError` subclasses with a stable code
    (``ImageTooLarge``, ``UnsupportedImageType``, ``ImageDimensionsTooLarge``, ``TruncatedImage``…)
    and a sentence for a person; no Pillow exception escapes. The result is mode ``RGB`` with an
    empty ``info`` (no EXIF, no profile: it is sRGB now).

    Example (a path or a stream reads the same):
        >>> png = encode_image(Image.new("L", (64, 48)), "png")
        >>> read_image(png).mode, read_image(png).size
        ('RGB', (64, 48))
    """
    data = read_bounded(source, max_bytes)
    fmt = check_format(data[:_TEXT_SNIFF_BYTES])
    try:
        im = _open_checked(data, fmt, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
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
        claimed = _webp_size(data)
        if claimed is not None:
            _check_dimensions(*claimed, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
    elif fmt in ("HEIF", "AVIF"):
        if _bmff_truncated(data):
            raise InvalidImageError(TRUNCATED_IMAGE, _truncated_sentence(fmt))
        # The decoders allocate when they parse; the size is in the container's ``ispe`` properties.
        claimed = _bmff_size(data[:_BMFF_SCAN_BYTES])
        if claimed is None:
            raise InvalidImageError(
                CORRUPT_IMAGE,
                f"The {_NAMES[fmt]} file has no picture size in it; save it again or send another picture.",
            )
        _check_dimensions(*claimed, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
    im = _plugin(fmt)(io.BytesIO(data))
    _check_dimensions(*im.size, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
    # A HEIF file may hold several pictures (bursts, edits beside the original): the primary one is
    # the photo, as for a camera's MPO. An AVIF sequence (brand ``avis``) is an animation.
    if fmt != "HEIF" and getattr(im, "is_animated", False):
        raise InvalidImageError(
            ANIMATED_IMAGE,
            f"Animated pictures are not accepted; send a still {_ACCEPTED} picture.",
            status=_UNSUPPORTED_STATUS,
        )
    return im


def _plugin(fmt: str) -> type[ImageFile.ImageFile]:
    # Imported here: each plugin costs import time, and only the one the bytes named is needed.
    if fmt == "JPEG":
        from PIL import JpegImagePlugin

        return JpegImagePlugin.JpegImageFile  # an MPO's first picture, not the MPO sequence
    if fmt == "PNG":
        from PIL import PngImagePlugin

        return PngImagePlugin.PngImageFile
    if fmt == "AVIF":
        from PIL import AvifImagePlugin

        return AvifImagePlugin.AvifImageFile
    if fmt == "HEIF":
        from pillow_heif.as_plugin import HeifImageFile  # libheif: HEVC-coded HEIF, as phones write

        return HeifImageFile
    from PIL import WebPImagePlugin

    return WebPImagePlugin.WebPImageFile


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """The canvas size a WebP header claims (simple lossy, lossless or extended layout)."""
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _bmff_size(data: bytes) -> tuple[int, int] | None:
    """The largest picture size a HEIF/AVIF file declares in its ``ispe`` item properties.

    Walks the boxes ``meta`` → ``iprp`` → ``ipco`` (ISO/IEC 23008-12) without decoding anything.
    Several pictures (the primary one, its thumbnails, the tiles of a grid) each declare a size;
    the largest width and height bound the primary picture, whose own size Pillow then reports.

    Example:
        >>> ispe = struct.pack(">I4sIII", 20, b"ispe", 0, 4032, 3024)
        >>> ipco = struct.pack(">I4s", 8 + len(ispe), b"ipco") + ispe
        >>> iprp = struct.pack(">I4s", 8 + len(ipco), b"iprp") + ipco
        >>> meta = struct.pack(">I4sI", 12 + len(iprp), b"meta", 0) + iprp
        >>> _bmff_size(struct.pack(">I4s4sI", 16, b"ftyp", b"heic", 0) + meta)
        (4032, 3024)
    """
    sizes: list[tuple[int, int]] = []

    def walk(start: int, end: int, path: tuple[bytes, ...]) -> None:
        at = start
        while at + 8 <= end:
            size, kind = struct.unpack_from(">I4s", data, at)
            header = 8
            if size == 1 and at + 16 <= end:
                (size,) = struct.unpack_from(">Q", data, at + 8)
                header = 16
            elif size == 0:
                size = end - at
            if size < header or at + size > end:
                return
            body = at + header
            if kind == b"meta" and not path:
                walk(body + 4, at + size, (kind,))  # a full box: version and flags first
            elif kind in (b"iprp", b"ipco") and path and path[-1] in (b"meta", b"iprp"):
                walk(body, at + size, (*path, kind))
            elif kind == b"ispe" and path[-1:] == (b"ipco",) and size >= header + 12:
                sizes.append(struct.unpack_from(">II", data, body + 4))
            at += size

    walk(0, len(data), ())
    if not sizes:
        return None
    return max(w for w, _ in sizes), max(h for _, h in sizes)


def _bmff_truncated(data: bytes) -> bool:
    """True when an ISO base media file was cut off: a top-level box claims more bytes than the file
    has, or the picture data (the ``mdat`` box, after the ``meta`` box that describes it) is missing.

    Example:
        >>> head = struct.pack(">I4s4sI", 16, b"ftyp", b"avif", 0)
        >>> _bmff_truncated(head + struct.pack(">I4s", 900, b"mdat"))
        True
    """
    at = 0
    kinds: set[bytes] = set()
    while at + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        kinds.add(kind)
        if size == 1 and at + 16 <= len(data):
            (size,) = struct.unpack_from(">Q", data, at + 8)
        elif size == 0:  # the last box runs to the end of the file
            return False
        if size < 8:
            return False  # not boxes: the decoder will say what is wrong
        at += size
    if at != len(data):
        return True  # the last box, or its header, is cut short
    # Pictures are stored in ``mdat`` (or, rarely, inside ``meta`` as ``idat``); a file cut just
    # after its ``meta`` box has neither.
    return b"meta" in kinds and b"mdat" not in kinds and b"idat" not in data


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
    name = _NAMES.get(fmt, fmt)
    return InvalidImageError(
        CORRUPT_IMAGE,
        f"The {name} file is damaged and cannot be read; save it again or send another picture.",
    )


def _truncated_sentence(fmt: str) -> str:
    name = _NAMES.get(fmt, fmt)
    return f"The {name} file ends too early (it was cut off, perhaps during the upload); send it again."


# --- normalising -----------------------------------------------------------------------------


def _normalize(im: ImageFile.ImageFile) -> Image.Image:
    """Loaded picture of any mode the three formats produce -> upright sRGB RGB, alpha on white."""
    transpose = _ORIENTATION.get(_orientation(im))
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
        flat = Image.new("RGB", rgb.size, _WHITE)
        flat.paste(rgb, mask=alpha)
        rgb = flat
    if transpose is not None:
        rgb = rgb.transpose(transpose)
    if rgb is im:
        rgb = im.copy()  # a plain in-memory picture, detached from the file object
    rgb.info = {}
    return rgb


def _orientation(im: Image.Image) -> int:
    """The EXIF (or XMP) orientation; a damaged EXIF block is ignored, as viewers ignore it."""
    try:
        value = im.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) else 1


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
            im, profile, _srgb_profile(), renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except Exception:
        return None
    return converted


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@cache
def _srgb_icc_bytes() -> bytes | None:
    """The sRGB profile to embed in what we write (about 600 bytes), if LittleCMS is available."""
    try:
        return _srgb_profile().tobytes()
    except Exception:
        return None


# --- resizing and writing --------------------------------------------------------------------


def fit_within(img: Image.Image, side: int | None) -> Image.Image:
    """Downscale (Lanczos) so that the longer side is at most ``side``; never upscale.

    Returns ``img`` itself when it already fits or ``side`` is ``None``.

    Example:
        >>> fit_within(Image.new("RGB", (4000, 3000)), 1000).size
        (1000, 750)
    """
    if side is None:
        return img
    if side < 1:
        raise ValueError(f"side must be at least 1 pixel, not {side}")
    width, height = img.size
    longer = max(width, height)
    if longer <= side:
        return img
    scale = side / longer
    size = (
        side if width == longer else max(1, round(width * scale)),
        side if height == longer else max(1, round(height * scale)),
    )
    # reducing_gap: a cheap box reduction first, then Lanczos over the last factor of 3 or less;
    # the result is indistinguishable from a full Lanczos and several times faster on big photos.
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


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
    icc = _srgb_icc_bytes()
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
        flat = Image.new("RGB", img.size, _WHITE)
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


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}"
