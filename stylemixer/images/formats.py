"""What a file is, from its first bytes: its type, and the picture's size its header claims.

The type is decided from the magic bytes only, never from the file name or the declared content
type (:func:`sniff_format`, :func:`check_format`); the size is read from the header before a single
pixel is decoded (:func:`header_size`, and for WebP and the HEIF/AVIF container, whose decoders
allocate as they parse, :func:`webp_size` and :func:`bmff_size`). Steps 2 and 3 of reading a
picture (:mod:`stylemixer.images.reading`); the API runs them on an upload's first bytes.
"""

from __future__ import annotations

import io
import struct
from typing import TYPE_CHECKING, Final

from stylemixer.errors import EMPTY_IMAGE, NOT_AN_IMAGE, UNSUPPORTED_IMAGE_TYPE, InvalidImageError
from stylemixer.limits import ALLOWED_FORMATS

if TYPE_CHECKING:
    from PIL import Image, ImageFile

#: What we take, for sentences.
ACCEPTED: Final = "JPEG, PNG, WebP, HEIC or AVIF"
#: Display names of the accepted formats, for sentences.
NAMES: Final = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC", "AVIF": "AVIF"}
#: How many bytes :func:`check_format` looks at for text formats such as SVG.
TEXT_SNIFF_BYTES: Final = 1024
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
BMFF_SCAN_BYTES: Final = 1 << 20
#: The EXIF tag of how the picture is turned.
EXIF_ORIENTATION_TAG: Final = 0x0112


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
    text = head[:TEXT_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype svg")) and b"<svg" in text):
        return "SVG"
    return None


def check_format(head: bytes) -> str:
    """The accepted format of these first bytes, or the refusal
    :func:`~stylemixer.images.reading.read_image` would give.

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
            f"{other} pictures are not accepted; send a {ACCEPTED} picture.",
        )
    raise InvalidImageError(
        NOT_AN_IMAGE,
        f"The file is not a picture we can read; send a {ACCEPTED} picture.",
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
        >>> from PIL import Image
        >>> from stylemixer.images import encode_image
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
            size = webp_size(head)
        elif fmt in ("HEIF", "AVIF"):
            size = bmff_size(head)
        elif fmt == "PNG" and head[12:16] == b"IHDR":  # the first chunk, always
            size = struct.unpack_from(">II", head, 16)
        elif fmt == "JPEG":  # the header's segments, up to the first scan
            im = plugin(fmt)(io.BytesIO(head))
            width, height = im.size
            if orientation(im) in (5, 6, 7, 8):  # turned a quarter to stand upright
                width, height = height, width
            return width, height, True
        else:
            return None
    except Exception:
        return None
    return (size[0], size[1], False) if size is not None else None


def webp_size(data: bytes) -> tuple[int, int] | None:
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


def bmff_size(data: bytes) -> tuple[int, int] | None:
    """The largest picture size a HEIF/AVIF file declares in its ``ispe`` item properties.

    Walks the boxes ``meta`` → ``iprp`` → ``ipco`` (ISO/IEC 23008-12) without decoding anything.
    Several pictures (the primary one, its thumbnails, the tiles of a grid) each declare a size;
    the largest width and height bound the primary picture, whose own size Pillow then reports.

    Example:
        >>> ispe = struct.pack(">I4sIII", 20, b"ispe", 0, 4032, 3024)
        >>> ipco = struct.pack(">I4s", 8 + len(ispe), b"ipco") + ispe
        >>> iprp = struct.pack(">I4s", 8 + len(ipco), b"iprp") + ipco
        >>> meta = struct.pack(">I4sI", 12 + len(iprp), b"meta", 0) + iprp
        >>> bmff_size(struct.pack(">I4s4sI", 16, b"ftyp", b"heic", 0) + meta)
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


def bmff_truncated(data: bytes) -> bool:
    """True when an ISO base media file was cut off: a top-level box claims more bytes than the file
    has, or the picture data (the ``mdat`` box, after the ``meta`` box that describes it) is missing.

    Example:
        >>> head = struct.pack(">I4s4sI", 16, b"ftyp", b"avif", 0)
        >>> bmff_truncated(head + struct.pack(">I4s", 900, b"mdat"))
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


def plugin(fmt: str) -> type[ImageFile.ImageFile]:
    """The one Pillow decoder of ``fmt``, as the magic bytes named it (never ``Image.open``, which
    would guess the type again). Imported on use: each costs import time, and only one is needed."""
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


def orientation(im: Image.Image) -> int:
    """The EXIF (or XMP) orientation; a damaged EXIF block is ignored, as viewers ignore it."""
    try:
        value = im.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) else 1
