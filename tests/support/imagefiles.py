"""Odd picture files, made at test time so that nothing binary is committed.

Pillow writes the ordinary ones; the ones Pillow refuses to write (a PNG header claiming 50000 ×
50000, 16-bit colour PNG, a file padded to an exact byte count) are assembled chunk by chunk with
correct CRCs, and the wide-gamut ICC profile is written field by field from the ICC v2 layout.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- encoding with Pillow --------------------------------------------------------------------


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    """``img`` saved as ``fmt`` into bytes."""
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def quadrants(width: int, height: int) -> Image.Image:
    """Four flat colours, one per quadrant (red, green / blue, yellow): corners survive JPEG."""
    img = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    img.paste((255, 0, 0), (0, 0, half_w, half_h))
    img.paste((0, 255, 0), (half_w, 0, width, half_h))
    img.paste((0, 0, 255), (0, half_h, half_w, height))
    img.paste((255, 255, 0), (half_w, half_h, width, height))
    return img


def exif_rotated_jpeg(orientation: int = 6, size: tuple[int, int] = (96, 64)) -> bytes:
    """A JPEG stored sideways (quadrant colours) with an EXIF orientation tag saying how to turn it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(quadrants(*size), "JPEG", quality=95, exif=exif)


def cmyk_jpeg(size: tuple[int, int] = (64, 64)) -> bytes:
    """A CMYK JPEG: cyan-free, full magenta and yellow (which is red), as print workflows write."""
    return encode(Image.new("CMYK", size, (0, 255, 255, 0)), "JPEG", quality=95)


def gray16_png(values: list[list[int]]) -> bytes:
    """A 16-bit grayscale PNG (Pillow mode ``I;16``) with exactly these values."""
    return encode(Image.fromarray(np.array(values, dtype=np.uint16)), "PNG")


def palette_alpha_png(size: tuple[int, int] = (64, 64)) -> bytes:
    """A palette PNG whose left half uses a fully transparent palette entry (a tRNS chunk)."""
    img = Image.new("P", size, 1)
    img.putpalette([0, 0, 0, 200, 30, 30] + [0, 0, 0] * 254)
    img.paste(0, (0, 0, size[0] // 2, size[1]))
    return encode(img, "PNG", transparency=0)


def rgba_png(color: tuple[int, int, int, int], size: tuple[int, int] = (64, 64)) -> bytes:
    return encode(Image.new("RGBA", size, color), "PNG")


def la_png(gray: int, alpha: int, size: tuple[int, int] = (64, 64)) -> bytes:
    return encode(Image.new("LA", size, (gray, alpha)), "PNG")


def flat_png(size: tuple[int, int], color: tuple[int, int, int] = (90, 120, 150)) -> bytes:
    """A one-colour PNG, quick to write and read even at 16 megapixels (fastest zlib level)."""
    return encode(Image.new("RGB", size, color), "PNG", compress_level=1)


def animated(fmt: str, frames: int = 3, size: tuple[int, int] = (64, 64)) -> bytes:
    """An animation of flat frames: ``"GIF"``, ``"WEBP"`` or ``"PNG"`` (APNG)."""
    images = [Image.new("RGB", size, (80 * i % 256, 40, 200)) for i in range(frames)]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=100, loop=0)


def mpo(size: tuple[int, int] = (64, 48)) -> bytes:
    """A multi-picture JPEG (as some cameras write): a red photo first, a blue one after it."""
    first, second = Image.new("RGB", size, (220, 20, 20)), Image.new("RGB", size, (20, 20, 220))
    return encode(first, "MPO", save_all=True, append_images=[second])


class EndlessStream(io.RawIOBase):
    """A stream that never ends, counting the bytes it ``served``: a reader under a limit must stop."""

    def __init__(self, byte: bytes = b"\xff", chunk: int = 65536) -> None:
        super().__init__()
        self.byte, self.chunk, self.served = byte, chunk, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = min(len(buffer), self.chunk)
        buffer[:n] = self.byte * n
        self.served += n
        return n


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The first ``keep`` fraction of a file, as an interrupted upload leaves it."""
    return data[: int(len(data) * keep)]


# --- PNG assembled by hand -------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 over type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_ihdr(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` but holds a few bytes of pixel data.

    Decoding it would need width × height × 3 bytes (7.5 GB at 50000 × 50000) before noticing the
    data is missing; only a check of the header refuses it cheaply.
    """
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return PNG_SIGNATURE + png_ihdr(width, height) + idat + png_chunk(b"IEND", b"")


def png_rgb16(pixels: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB (``color_type`` 2) or RGBA (6) PNG that Pillow cannot write itself."""
    height, width, channels = pixels.shape
    rows = pixels.astype(">u2").reshape(height, width * channels).tobytes()
    stride = width * channels * 2
    raw = b"".join(b"\x00" + rows[y * stride : (y + 1) * stride] for y in range(height))
    color_type = {3: 2, 4: 6}[channels]
    return (
        PNG_SIGNATURE
        + png_ihdr(width, height, 16, color_type)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def png_of_exact_size(total: int, size: tuple[int, int] = (64, 64)) -> bytes:
    """A valid PNG exactly ``total`` bytes long: a small picture plus one private ancillary chunk.

    Readers skip ancillary chunks they do not know (lower-case first letter), so the file is a
    real, readable picture whatever its length.
    """
    base = encode(Image.new("RGB", size, (10, 200, 10)), "PNG")
    iend = png_chunk(b"IEND", b"")
    assert base.endswith(iend)
    padding = total - len(base) - 12  # a chunk adds 12 bytes around its data
    assert padding >= 0, f"{total} bytes is too small for the padded picture"
    return base[: -len(iend)] + png_chunk(b"smPd", b"\x00" * padding) + iend


# --- other containers, by their magic bytes --------------------------------------------------


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) is patched to claim ``width`` × ``height``."""
    data = bytearray(encode(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def jpeg_with_late_header(size: tuple[int, int], after: int) -> bytes:
    """A JPEG of ``size`` whose frame header comes after more than ``after`` bytes of comments (COM
    segments): a reader of its first ``after`` bytes cannot tell its size; a decoder reads it."""
    data = encode(Image.new("RGB", size, (90, 120, 60)), "JPEG")
    comment = b"\xff\xfe" + (65535).to_bytes(2, "big") + b"x" * 65533
    return data[:2] + comment * (after // len(comment) + 1) + data[2:]


def webp_claiming(width: int, height: int) -> bytes:
    """An extended-layout (VP8X) WebP header claiming a ``width`` × ``height`` canvas."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">\n'
    b'<rect width="64" height="64" fill="red"/>\n</svg>\n'
)
BARE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>'
#: The first box of an HEIC file (an iPhone photo) and nothing after it: the type is accepted, the
#: file holds no picture.
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
#: The signature of a JPEG XL file: a picture format we recognise and do not accept.
JXL_HEAD = b"\xff\x0a" + b"\x00" * 62


def heic(img: Image.Image, *, orientation: int = 1, icc: bytes | None = None, quality: int = 90) -> bytes:
    """``img`` as an HEIC file (HEVC in HEIF, as phones write it), by libheif through pillow-heif.

    With an ``orientation`` other than 1 the picture is stored as it was shot and the rotation as
    the container's transform (libheif writes the EXIF orientation as ``irot``/``imir``, as phones
    do), so a reader that ignores it shows the photo sideways.
    """
    import pillow_heif

    exif = Image.Exif()
    exif[0x0112] = orientation
    params: dict[str, Any] = {"quality": quality, "exif": exif.tobytes()}
    if icc is not None:
        params["icc_profile"] = icc
    out = io.BytesIO()
    pillow_heif.from_pillow(img).save(out, **params)
    return out.getvalue()


def avif(img: Image.Image, *, orientation: int = 1, icc: bytes | None = None, quality: int = 90) -> bytes:
    """``img`` as an AVIF file, by Pillow (libavif); the orientation is written as ``irot``/``imir``."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    params: dict[str, Any] = {"quality": quality, "exif": exif.tobytes()}
    if icc is not None:
        params["icc_profile"] = icc
    return encode(img, "AVIF", **params)


def animated_avif() -> bytes:
    """A two-frame AVIF sequence (brand ``avis``): an animation, not a photo."""
    frames = [quadrants(64, 64), quadrants(64, 64).transpose(Image.Transpose.ROTATE_180)]
    return encode(frames[0], "AVIF", save_all=True, append_images=frames[1:])


def with_declared_size(data: bytes, width: int, height: int) -> bytes:
    """A HEIF/AVIF file whose every ``ispe`` property claims ``width`` × ``height`` (the pixels unchanged)."""
    out = bytearray(data)
    at = out.find(b"ispe")
    assert at > 0, "no ispe box"
    while at > 0:
        struct.pack_into(">II", out, at + 8, width, height)  # after the type: version/flags, then sizes
        at = out.find(b"ispe", at + 4)
    return bytes(out)


# --- a wide-gamut ICC profile ----------------------------------------------------------------

#: Display P3 primaries and white (what recent phones tag their photos with).
P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
SRGB_PRIMARIES = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))
D65 = (0.3127, 0.3290)
_D50 = np.array([0.9642, 1.0, 0.8249])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
#: Gamma of the test profile's tone curves, as the ICC u8Fixed8 number stores it (563 / 256 ≈ 2.2).
GAMMA_U8F8 = 563


def rgb_to_xyz(primaries: tuple[tuple[float, float], ...], white: tuple[float, float]) -> np.ndarray:
    """The 3 × 3 matrix from linear RGB to CIE XYZ for these primaries and white point."""

    def xyz(x: float, y: float) -> np.ndarray:
        return np.array([x / y, 1.0, (1 - x - y) / y])

    columns = np.stack([xyz(*p) for p in primaries], axis=1)
    return columns * np.linalg.solve(columns, xyz(*white))


def wide_gamut_profile(name: str = "Wide gamut test profile (P3 primaries, gamma 2.2)") -> bytes:
    """An ICC v2 RGB display profile with Display P3 primaries and a 2.2 gamma curve.

    Colorants are adapted to the D50 connection space with the Bradford transform, as ICC requires.
    """
    white = np.array([D65[0] / D65[1], 1.0, (1 - D65[0] - D65[1]) / D65[1]])
    cone_src, cone_dst = _BRADFORD @ white, _BRADFORD @ _D50
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_dst / cone_src) @ _BRADFORD
    colorants = adapt @ rgb_to_xyz(P3_PRIMARIES, D65)

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz_tag(values: np.ndarray) -> bytes:
        return b"XYZ " + bytes(4) + b"".join(s15(v) for v in values)

    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, GAMMA_U8F8) + bytes(2)
    ascii_name = name.encode("ascii") + b"\x00"
    desc = (
        b"desc" + bytes(4) + struct.pack(">I", len(ascii_name)) + ascii_name + bytes(8) + bytes(3) + bytes(67)
    )
    tags = [
        (b"desc", desc),
        (b"cprt", b"text" + bytes(4) + b"No copyright, test data\x00"),
        (b"wtpt", xyz_tag(_D50)),
        (b"rXYZ", xyz_tag(colorants[:, 0])),
        (b"gXYZ", xyz_tag(colorants[:, 1])),
        (b"bXYZ", xyz_tag(colorants[:, 2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        body += bytes(-(offset + len(body)) % 4)  # tags start on 4-byte boundaries
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    total = offset + len(body)
    header = (
        struct.pack(">I", total)
        + bytes(4)  # preferred CMM
        + struct.pack(">I", 0x02100000)  # version 2.1
        + b"mntrRGB XYZ "  # display class, RGB data, XYZ connection space
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)  # platform, flags, maker, model, attributes, intent
        + b"".join(s15(v) for v in _D50)
        + bytes(4 + 16 + 28)  # creator, profile id, reserved
    )
    assert len(header) == 128
    return header + table + body


def p3_to_srgb_expected(rgb: np.ndarray) -> np.ndarray:
    """Where ``rgb`` (0..255, in the test profile) lands in sRGB, computed without LittleCMS."""
    linear = (rgb / 255.0) ** (GAMMA_U8F8 / 256)
    matrix = np.linalg.inv(rgb_to_xyz(SRGB_PRIMARIES, D65)) @ rgb_to_xyz(P3_PRIMARIES, D65)
    srgb = np.clip(linear @ matrix.T, 0.0, 1.0)
    encoded = np.where(srgb <= 0.0031308, 12.92 * srgb, 1.055 * srgb ** (1 / 2.4) - 0.055)
    return encoded * 255.0
