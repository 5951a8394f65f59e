"""What a clip is, from its container alone: no frame is decoded, no FFmpeg is loaded.

MP4 and MOV files are ISO base media files (ISO/IEC 14496-12; QuickTime is its ancestor and shares
the layout): a sequence of boxes, one of which (``moov``) describes every track: its kind, its codec,
its frame size, its duration and where each of its samples lies. Reading it answers every question
the limits ask before anything is paid for, so this module is what the API function runs on an
upload (through a few ranged reads: the box headers, then ``moov`` whole) and what the worker and
the CLI run on a file, with the same refusals:

1. the type, from the ``ftyp`` box's brands (a HEIC photo shares the container, and is a picture);
2. the boxes: every top-level box must fit in the file (a file cut during the upload claims more
   bytes than it has), and the picture data (``mdat``) and its description (``moov``) must be there;
3. a video track, in a codec we decode (H.264 or HEVC), its frames within 1080p and the clip within
   a minute (:mod:`stylemixer.limits`);
4. the painting it asks for (its frames at the size each is painted at) within one job's time.

A damaged bitstream inside a well-formed container is found only by decoding; the decoder
(:mod:`stylemixer.clips.stream`) refuses it with the same codes.

Example:
    >>> box = lambda kind, body: struct.pack(">I4s", 8 + len(body), kind) + body
    >>> sniff_clip(box(b"ftyp", b"qt  " + bytes(4) + b"qt  "))
    'MOV'
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Final

from stylemixer.clips.exceptions import ClipTooLargeError, InvalidClipError, UnsupportedClipError
from stylemixer.errors import (
    CLIP_DIMENSIONS_TOO_LARGE,
    CLIP_TOO_LARGE,
    CLIP_TOO_LONG,
    CLIP_TOO_MUCH_WORK,
    CLIP_TOO_SMALL,
    CORRUPT_CLIP,
    NOT_A_VIDEO,
    TRUNCATED_CLIP,
    UNSUPPORTED_VIDEO_CODEC,
)
from stylemixer.limits import (
    CLIP_SECONDS_PER_OUTPUT_MEGAPIXEL,
    CLIP_SECONDS_PER_WORK_MEGAPIXEL,
    CLIP_VIDEO_CODECS,
    MAX_CLIP_BYTES,
    MAX_CLIP_FPS,
    MAX_CLIP_PAINT_SECONDS,
    MAX_CLIP_PIXELS,
    MAX_CLIP_SECONDS,
    MAX_CLIP_SIDE,
    MIN_SIDE,
    megabytes,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from stylemixer.options import StylizeOptions

#: Brands of ISO base media files that hold video (MP4 and its relatives, QuickTime, 3GPP), as
#: phones, cameras and editors write them. HEIF pictures have brands of their own (see
#: :func:`stylemixer.images.sniff_format`), checked first.
_MP4_BRANDS: Final = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH",
     b"M4VP", b"mmp4", b"MSNV", b"XAVC", b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"M4A ", b"f4v "}
)  # fmt: skip
_MOV_BRANDS: Final = frozenset({b"qt  "})
#: Most top-level boxes walked: real files have four to six (ftyp, wide, free, mdat, moov, meta).
MAX_TOP_BOXES: Final = 64
#: Largest ``moov`` box read: a minute at 60 fps with audio describes itself in well under 1 MB.
MAX_MOOV_BYTES: Final = 8 * 1024 * 1024
#: Names of video codecs we recognise but do not decode, for the refusal's sentence.
_OTHER_CODECS: Final = {
    "ap4h": "ProRes", "ap4x": "ProRes", "apch": "ProRes", "apcn": "ProRes", "apcs": "ProRes",
    "apco": "ProRes", "av01": "AV1", "vp08": "VP8", "vp09": "VP9", "mp4v": "MPEG-4 Part 2",
    "jpeg": "Motion JPEG", "mjpa": "Motion JPEG", "s263": "H.263", "dvh1": "Dolby Vision",
    "dvhe": "Dolby Vision",
}  # fmt: skip
_CONTAINERS: Final = {"MP4": "MP4", "MOV": "MOV"}
_ACCEPTED: Final = "an MP4 or MOV clip in H.264 or HEVC"


def sniff_clip(head: bytes) -> str | None:
    """``"MP4"`` or ``"MOV"`` when the first bytes are a video container's ``ftyp`` box, else None.

    Example:
        >>> sniff_clip(struct.pack(">I4s4sI4s", 20, b"ftyp", b"mp42", 0, b"isom"))
        'MP4'
        >>> sniff_clip(b"\\xff\\xd8\\xff") is None
        True
    """
    brands = _ftyp_brands(head)
    if not brands:
        return None
    if brands & _MOV_BRANDS and head[8:12] == b"qt  ":
        return "MOV"
    if brands & (_MP4_BRANDS | _MOV_BRANDS):
        return "MP4"
    return None


def is_clip(head: bytes) -> bool:
    """True when the first bytes are a clip's, not a picture's (a HEIC photo is a picture).

    Example:
        >>> is_clip(struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"iso8"))
        False
    """
    from stylemixer.images import sniff_format

    return sniff_format(head) is None and sniff_clip(head) is not None


def _ftyp_brands(head: bytes) -> frozenset[bytes]:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return frozenset()
    (size,) = struct.unpack_from(">I", head, 0)
    if size < 16:
        return frozenset()
    end = min(size, len(head), 256)
    return frozenset([head[8:12], *(head[i : i + 4] for i in range(16, end - 3, 4))])


@dataclass(frozen=True, slots=True)
class ClipHeader:
    """What the container says of a clip: its video track and whether it has sound.

    ``width`` and ``height`` are the coded frame's; ``rotation`` (0, 90, 180, 270, clockwise) turns
    it upright for display (a phone held upright records a landscape frame turned a quarter).

    Example:
        >>> header = ClipHeader("MOV", 10.0, 1920, 1080, 90, "hvc1", 300, "mp4a")
        >>> header.display_size, header.fps, header.painted_frames
        ((1080, 1920), 30.0, 300)
    """

    container: str
    duration: float
    width: int
    height: int
    rotation: int
    codec: str
    frames: int
    audio: str | None = None

    @property
    def display_size(self) -> tuple[int, int]:
        """The upright (W, H) a player shows."""
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)

    @property
    def fps(self) -> float:
        """Frames per second, on average over the clip."""
        return self.frames / self.duration if self.duration > 0 else 0.0

    @property
    def painted_frames(self) -> int:
        """How many frames are painted: every frame, or at most MAX_CLIP_FPS a second."""
        if self.fps <= MAX_CLIP_FPS + 0.5:
            return self.frames
        return min(self.frames, math.ceil(self.duration * MAX_CLIP_FPS))

    @property
    def codec_name(self) -> str:
        """The video codec as people know it (H.264, HEVC, ProRes...)."""
        return CLIP_VIDEO_CODECS.get(self.codec) or _OTHER_CODECS.get(self.codec) or repr(self.codec)


# --- reading the boxes -------------------------------------------------------------------------


def read_clip_header(read_at: Callable[[int, int], bytes], size: int) -> ClipHeader:
    """The clip's header, read through ``read_at(offset, length)`` from a file of ``size`` bytes.

    Reads each top-level box's header (16 bytes) and the ``moov`` box whole: a few small reads, so
    the API can read an upload in storage by ranged GETs. Refuses what is not a clip, is cut short
    or damaged, or has no video (:class:`InvalidClipError`), and a video codec we do not decode
    (:class:`UnsupportedClipError`).

    Example:
        >>> ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"mp42", 0, b"mp42", b"isom")
        >>> read_clip_header(lambda at, n: ftyp[at : at + n], len(ftyp))  # no picture data: cut short
        Traceback (most recent call last):
        ...
        stylemixer.clips.exceptions.InvalidClipError: The MP4 file ends too early (it was cut off, perhaps during the upload); send it again.
    """  # noqa: E501
    container = sniff_clip(read_at(0, 256)) or ""
    if not container:
        raise InvalidClipError(NOT_A_VIDEO, f"The file is not a video we can read; send {_ACCEPTED}.")
    moov: tuple[int, int] | None = None
    has_media = False
    at = 0
    for _ in range(MAX_TOP_BOXES):
        if at >= size:
            break
        header = read_at(at, 16)
        if len(header) < 8:
            raise _truncated(container)
        box_size, kind = struct.unpack_from(">I4s", header)
        body = 8
        if box_size == 1:
            if len(header) < 16:
                raise _truncated(container)
            (box_size,) = struct.unpack_from(">Q", header, 8)
            body = 16
        elif box_size == 0:
            box_size = size - at
        if box_size < body:
            raise _damaged(container)
        if at + box_size > size:
            raise _truncated(container)
        if kind == b"moov":
            moov = (at + body, box_size - body)
        elif kind in (b"mdat", b"moof"):
            has_media = True
        at += box_size
    else:
        if at < size:
            raise _damaged(container)
    if moov is None or not has_media:
        raise _truncated(container)
    if moov[1] > MAX_MOOV_BYTES:
        raise _damaged(container)
    data = read_at(*moov)
    if len(data) < moov[1]:
        raise _truncated(container)
    try:
        return _describe(container, data, size)
    except (struct.error, IndexError, ZeroDivisionError):
        raise _damaged(container) from None


def read_clip_file(path: Path | str) -> tuple[ClipHeader, int]:
    """The header of the clip at ``path`` and its size in bytes (the CLI's and the worker's reading).

    Refuses a file over :data:`~stylemixer.limits.MAX_CLIP_BYTES` before reading it.
    """
    with open(path, "rb") as stream:
        stream.seek(0, 2)
        size = stream.tell()
        check_clip_bytes(size)
        return read_clip_header(_file_reader(stream), size), size


def _file_reader(stream: IO[bytes]) -> Callable[[int, int], bytes]:
    def read_at(offset: int, length: int) -> bytes:
        stream.seek(offset)
        return stream.read(length)

    return read_at


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """The boxes directly inside ``data[start:end]``, as (kind, body start, body end)."""
    end = len(data) if end is None else end
    found = []
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        body = at + 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            body = at + 16
        elif size == 0:
            size = end - at
        if size < body - at or at + size > end:
            raise struct.error("a box overruns its parent")
        found.append((kind, body, at + size))
        at += size
    return found


def _child(data: bytes, parent: tuple[int, int], *path: bytes) -> tuple[int, int] | None:
    """The body (start, end) of the box at ``path`` below ``parent``'s body, or None."""
    span: tuple[int, int] | None = parent
    for kind in path:
        assert span is not None
        span = next(((s, e) for k, s, e in _boxes(data, *span) if k == kind), None)
        if span is None:
            return None
    return span


@dataclass(slots=True)
class _Track:
    handler: bytes = b""
    codec: str = ""
    width: int = 0
    height: int = 0
    rotation: int = 0
    duration: float = 0.0
    samples: int = 0
    last_chunk: int = 0
    shown: int = 0  # the presentation's duration, in the movie's time scale


def _track(data: bytes, trak: tuple[int, int]) -> _Track:
    track = _Track()
    hdlr = _child(data, trak, b"mdia", b"hdlr")
    if hdlr is not None:
        track.handler = data[hdlr[0] + 8 : hdlr[0] + 12]
    tkhd = _child(data, trak, b"tkhd")
    if tkhd is not None:
        version = data[tkhd[0]]
        matrix_at = tkhd[0] + (52 if version == 1 else 40)
        a, b = struct.unpack_from(">ii", data, matrix_at)
        track.rotation = _rotation(a, b)
        # Its duration as shown, edits applied (in the movie's time scale): an encoder's delay
        # before the first frame is in the media's duration, not in this one.
        fmt, at = (">Q", 28) if version == 1 else (">I", 20)
        (track.shown,) = struct.unpack_from(fmt, data, tkhd[0] + at)
    mdhd = _child(data, trak, b"mdia", b"mdhd")
    if mdhd is not None:
        version = data[mdhd[0]]
        if version == 1:
            timescale, duration = struct.unpack_from(">IQ", data, mdhd[0] + 20)
        else:
            timescale, duration = struct.unpack_from(">II", data, mdhd[0] + 12)
        track.duration = duration / timescale if timescale else 0.0
    stbl = _child(data, trak, b"mdia", b"minf", b"stbl")
    if stbl is None:
        return track
    stsd = _child(data, stbl, b"stsd")
    if stsd is not None and struct.unpack_from(">I", data, stsd[0] + 4)[0] > 0:
        entry = stsd[0] + 8
        track.codec = data[entry + 4 : entry + 8].decode("latin-1")
        if track.handler == b"vide":
            track.width, track.height = struct.unpack_from(">HH", data, entry + 32)
    stsz = _child(data, stbl, b"stsz")
    if stsz is not None:
        track.samples = struct.unpack_from(">I", data, stsz[0] + 8)[0]
    for kind, fmt, step in ((b"stco", ">I", 4), (b"co64", ">Q", 8)):
        chunks = _child(data, stbl, kind)
        if chunks is not None:
            (count,) = struct.unpack_from(">I", data, chunks[0] + 4)
            if count:
                (last,) = struct.unpack_from(fmt, data, chunks[0] + 8 + (count - 1) * step)
                track.last_chunk = last
    return track


def _rotation(a: int, b: int) -> int:
    """The clockwise rotation a track's matrix applies (its first row, in 16.16 fixed point)."""
    if a == 0 and b > 0:
        return 90
    if a == 0 and b < 0:
        return 270
    return 180 if a < 0 else 0


def _describe(container: str, moov: bytes, size: int) -> ClipHeader:
    tracks = [_track(moov, (s, e)) for kind, s, e in _boxes(moov) if kind == b"trak"]
    videos = [t for t in tracks if t.handler == b"vide"]
    if not videos:
        raise InvalidClipError(
            NOT_A_VIDEO, f"The {container} file has no video in it (sound only?); send {_ACCEPTED}."
        )
    video = next((t for t in videos if t.codec in CLIP_VIDEO_CODECS), videos[0])
    audio = next((t for t in tracks if t.handler == b"soun"), None)
    if any(t.last_chunk >= size for t in tracks):
        raise _truncated(container)
    timescale, total = 0, 0
    mvhd = _child(moov, (0, len(moov)), b"mvhd")
    if mvhd is not None:
        version = moov[mvhd[0]]
        fmt, at = (">IQ", 20) if version == 1 else (">II", 12)
        timescale, total = struct.unpack_from(fmt, moov, mvhd[0] + at)
    duration = video.shown / timescale if timescale and video.shown else video.duration
    if duration <= 0 and timescale:
        duration = total / timescale
    frames = video.samples or math.ceil(duration * MAX_CLIP_FPS)  # fragmented: an upper bound
    header = ClipHeader(
        container=container,
        duration=duration,
        width=video.width,
        height=video.height,
        rotation=video.rotation,
        codec=video.codec,
        frames=frames,
        audio=audio.codec if audio is not None and audio.codec else None,
    )
    if header.codec not in CLIP_VIDEO_CODECS:
        raise UnsupportedClipError(
            UNSUPPORTED_VIDEO_CODEC,
            f"The clip's video is {header.codec_name}; send a clip in H.264 or HEVC (what phones record "
            "by default, and what most editors export).",
        )
    if duration <= 0 or frames <= 0 or min(header.width, header.height) <= 0:
        raise _damaged(container)
    return header


# --- limits ------------------------------------------------------------------------------------


def check_clip_bytes(size: int) -> None:
    """Refuse a clip larger than :data:`~stylemixer.limits.MAX_CLIP_BYTES` (before it is read).

    Example:
        >>> check_clip_bytes(300 * 1024 * 1024)
        Traceback (most recent call last):
        ...
        stylemixer.clips.exceptions.ClipTooLargeError: The clip is 300 MB; the largest accepted is 200 MB.
    """
    if size > MAX_CLIP_BYTES:
        raise ClipTooLargeError(
            CLIP_TOO_LARGE,
            f"The clip is {megabytes(size)}; the largest accepted is {megabytes(MAX_CLIP_BYTES)}.",
        )


def check_clip(header: ClipHeader, options: StylizeOptions | None = None) -> None:
    """Refuse a clip longer, larger or smaller than the limits, or one that asks for more painting
    than a job may do at ``options``' stroke and output size (:data:`~stylemixer.limits.MAX_CLIP_PAINT_SECONDS`).

    Example:
        >>> check_clip(ClipHeader("MP4", 75.0, 1920, 1080, 0, "avc1", 2250))
        Traceback (most recent call last):
        ...
        stylemixer.clips.exceptions.ClipTooLargeError: The clip is 75 s long; the longest accepted is 60 s. Trim it and send it again.
    """  # noqa: E501
    width, height = header.display_size
    if header.duration > MAX_CLIP_SECONDS + 0.5:  # half a second of slack: phones round their timers
        raise ClipTooLargeError(
            CLIP_TOO_LONG,
            f"The clip is {header.duration:.0f} s long; the longest accepted is {MAX_CLIP_SECONDS} s. "
            "Trim it and send it again.",
        )
    if width * height > MAX_CLIP_PIXELS or max(width, height) > MAX_CLIP_SIDE:
        raise ClipTooLargeError(
            CLIP_DIMENSIONS_TOO_LARGE,
            f"The clip's frames are {width} × {height} pixels; the largest accepted are 1920 × 1080 "
            "(1080p, either way round). Record or export it at 1080p and send it again.",
        )
    if min(width, height) < MIN_SIDE:
        raise InvalidClipError(
            CLIP_TOO_SMALL,
            f"The clip's frames are {width} × {height} pixels; both sides must be at least "
            f"{MIN_SIDE} pixels.",
        )
    seconds = clip_paint_seconds(header, options)
    if seconds > MAX_CLIP_PAINT_SECONDS:
        longest = header.duration * MAX_CLIP_PAINT_SECONDS / seconds
        raise ClipTooLargeError(
            CLIP_TOO_MUCH_WORK,
            f"Painting this clip would take longer than a job may run: at this size and stroke size a "
            f"clip may be up to {math.floor(longest)} s long. Trim it, or choose a coarser stroke size or a "
            "smaller output size.",
        )


def clip_paint_seconds(header: ClipHeader, options: StylizeOptions | None = None) -> float:
    """How long painting a clip takes on 2 cores, by the measured costs per frame (stylemixer.limits).

    Example:
        >>> round(clip_paint_seconds(ClipHeader("MP4", 10.0, 1920, 1080, 0, "avc1", 300)))
        178
    """
    from stylemixer.neural.stroke import working_size  # numbers and Pillow: no torch

    size = fitted_size(header.display_size, options.max_size if options is not None else None)
    width, height = working_size(size, options.stroke if options is not None else None)
    per_frame = (
        CLIP_SECONDS_PER_WORK_MEGAPIXEL * width * height
        + CLIP_SECONDS_PER_OUTPUT_MEGAPIXEL * size[0] * size[1]
    ) / 1e6
    return header.painted_frames * per_frame


def fitted_size(size: tuple[int, int], side: int | None) -> tuple[int, int]:
    """The size :func:`stylemixer.images.fit_within` gives a picture of ``size`` (a test holds them equal)."""
    width, height = size
    longer = max(width, height)
    if side is None or longer <= side:
        return size
    scale = side / longer
    return (
        side if width == longer else max(1, round(width * scale)),
        side if height == longer else max(1, round(height * scale)),
    )


def _truncated(container: str) -> InvalidClipError:
    name = _CONTAINERS.get(container, "video")
    return InvalidClipError(
        TRUNCATED_CLIP,
        f"The {name} file ends too early (it was cut off, perhaps during the upload); send it again.",
    )


def _damaged(container: str) -> InvalidClipError:
    name = _CONTAINERS.get(container, "video")
    return InvalidClipError(
        CORRUPT_CLIP, f"The {name} file is damaged and cannot be read; save or export it again and send it."
    )
