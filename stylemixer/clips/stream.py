"""A clip decoded one frame at a time and its painting encoded as the frames come, in bounded memory.

:func:`frames` walks the clip's packets in file order once: a video packet is decoded into frames
(upright, RGB), each handed to the caller and forgotten; an audio packet goes to the output as it
is, so the sound is exactly what was recorded (or, when its codec cannot live in an MP4 file, such
as the uncompressed sound some cameras put in MOV files, re-encoded to AAC). At most a few frames
are alive at any time, whatever the clip's length. :class:`ClipWriter` encodes each painted frame at
once, H.264 (libx264, 4:2:0, the profile every browser and phone plays) in an MP4 file with its
index at the front (``faststart``: a browser starts playing before it has it all), written to a
temporary file beside the target and moved over it only when complete.

PyAV (``av`` from PyPI) bundles FFmpeg's libraries in its wheels: nothing else is installed, in the
Lambda image as anywhere. It is imported here only, and this module only when a clip is painted.

Frames keep their own timestamps, so a clip recorded at a variable frame rate (as phones do) plays
at the pace it was recorded and the sound stays in step; a clip above
:data:`~stylemixer.limits.MAX_CLIP_FPS` keeps the frames closest to that rate (every other frame of
a 60 fps clip).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import numpy as np

from stylemixer.clips.exceptions import InvalidClipError
from stylemixer.errors import CORRUPT_CLIP, TRUNCATED_CLIP
from stylemixer.limits import MAX_CLIP_FPS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

    from stylemixer.clips.header import ClipHeader

#: H.264 quality: constant rate factor 20 ("visually lossless" is about 18; 23 is libx264's default,
#: which smears a painting's fine strokes) at the ``veryfast`` preset, which encodes 1080p several
#: times faster than real time on one core (the painting is the slow part, not this), capped at
#: 12 Mbit/s (a phone's own 1080p rate) so that a minute's painting is at most 90 MB on the worker's
#: disk and in the download (a 10 s pan at 1080p measured 10 MB).
H264_OPTIONS: Final = {
    "crf": "20",
    "preset": "veryfast",
    "profile": "high",
    "maxrate": "12M",
    "bufsize": "24M",
}
#: Audio codecs an MP4 file holds as they are (FFmpeg's names); any other is re-encoded to AAC.
MP4_AUDIO: Final = frozenset({"aac", "alac", "mp3", "opus", "ac3", "eac3", "flac"})
#: What an AAC re-encoding keeps: 160 kbit/s stereo (or mono), the sampling rate as it was.
AAC_BITRATE: Final = 160_000


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame, upright: RGB pixels (H, W, 3) uint8 and when it is shown (seconds)."""

    rgb: np.ndarray
    time: float
    pts: int


def _av() -> Any:
    import av

    return av


class ClipReader:
    """The clip at ``path``, read once from start to end: its frames upright, its sound passed on.

    ``header`` is what :func:`stylemixer.clips.header.read_clip_file` read (its rotation turns the
    frames upright). Use as a context manager; :meth:`frames` yields each :class:`Frame` in order,
    giving each audio packet to ``audio`` (a :class:`ClipWriter`) as it comes.
    """

    def __init__(self, path: Path | str, header: ClipHeader) -> None:
        av = _av()
        self.header = header
        try:
            self._container = av.open(str(path), metadata_errors="ignore")
        except av.error.FFmpegError as exc:
            raise _decode_error(exc) from None
        try:
            self.video = self._container.streams.video[0]
        except IndexError:
            self._container.close()
            raise damaged_clip() from None
        self.video.thread_type = "AUTO"  # frame and slice threads: decoding is a small share anyway
        audio = self._container.streams.audio
        self.audio = audio[0] if audio else None
        self.time_base: Fraction = self.video.time_base

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._container.close()

    @property
    def rate(self) -> Fraction:
        """The output's nominal frame rate: the clip's own, at most MAX_CLIP_FPS."""
        rate = self.video.average_rate or self.video.guessed_rate or Fraction(MAX_CLIP_FPS)
        return min(Fraction(rate), Fraction(MAX_CLIP_FPS))

    def frames(self, audio: ClipWriter | None = None) -> Iterator[Frame]:
        """Every frame to paint, upright RGB, in order; audio packets go to ``audio`` on the way."""
        av = _av()
        streams = [self.video] + ([self.audio] if self.audio is not None and audio is not None else [])
        step = 1.0 / MAX_CLIP_FPS
        next_time = -1.0
        turns = {0: 0, 90: -1, 180: 2, 270: 1}[self.header.rotation]
        try:
            for packet in self._container.demux(*streams):
                if packet.stream is not self.video:
                    if audio is not None and packet.dts is not None:
                        audio.audio_packet(packet)
                    continue
                for frame in packet.decode():
                    if frame.pts is None:
                        continue
                    when = float(frame.pts * self.time_base)
                    if when + 1e-3 < next_time:  # above MAX_CLIP_FPS: the frames nearest the rate
                        continue
                    next_time = max(next_time + step, when) if next_time >= 0 else when + step
                    rgb = frame.to_ndarray(format="rgb24")
                    if turns:
                        rgb = np.ascontiguousarray(np.rot90(rgb, turns))
                    yield Frame(rgb, when, int(frame.pts))
        except av.error.FFmpegError as exc:
            raise _decode_error(exc) from None


class ClipWriter:
    """An H.264 MP4 file at ``path`` of frames (W, H), with ``source``'s sound copied, written whole
    or not at all: frames go to a temporary file beside ``path``, moved over it by :meth:`close`.

    Odd sizes lose their last column or row (4:2:0 colour needs even ones).
    """

    def __init__(self, path: Path | str, size: tuple[int, int], source: ClipReader) -> None:
        av = _av()
        self.path = Path(path)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part.mp4", dir=self.path.parent)
        os.close(fd)
        self._temp = Path(temp)
        width, height = size
        self.size = (width - width % 2, height - height % 2)
        self._out = av.open(temp, "w", format="mp4", options={"movflags": "+faststart"})
        self._video = self._out.add_stream("libx264", rate=source.rate, options=dict(H264_OPTIONS))
        self._video.width, self._video.height = self.size
        self._video.pix_fmt = "yuv420p"
        self._video.time_base = source.time_base
        self._video.codec_context.time_base = source.time_base
        self._audio_in = source.audio
        self._audio: Any = None
        self._transcoder: Any = None
        if source.audio is not None:
            if source.audio.codec_context.name in MP4_AUDIO:
                self._audio = self._out.add_stream_from_template(source.audio)
            else:
                layout = "mono" if source.audio.codec_context.channels == 1 else "stereo"
                self._audio = self._out.add_stream("aac", rate=source.audio.codec_context.sample_rate)
                self._audio.layout = layout
                self._audio.bit_rate = AAC_BITRATE
                self._transcoder = av.AudioResampler(format="fltp", layout=layout, rate=self._audio.rate)
        self.frames = 0
        self._closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one painted frame (H, W, 3) uint8, shown at ``pts`` (in the source's time base)."""
        av = _av()
        width, height = self.size
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:height, :width]), format="rgb24")
        frame.pts = pts
        frame.time_base = self._video.time_base
        for packet in self._video.encode(frame):
            self._out.mux(packet)
        self.frames += 1

    def audio_packet(self, packet: Any) -> None:
        """One packet of the source's sound: copied, or decoded and re-encoded to AAC."""
        if self._audio is None:
            return
        if self._transcoder is None:
            packet.stream = self._audio
            self._out.mux(packet)
            return
        for frame in packet.decode():
            for resampled in self._transcoder.resample(frame):
                resampled.pts = None
                for out in self._audio.encode(resampled):
                    self._out.mux(out)

    def close(self) -> None:
        """Finish the file (the encoder's last frames, the index at the front) and put it in place."""
        if self._closed:
            return
        try:
            for packet in self._video.encode(None):
                self._out.mux(packet)
            if self._transcoder is not None:
                for packet in self._audio.encode(None):
                    self._out.mux(packet)
            self._out.close()
            os.chmod(self._temp, 0o644)
            os.replace(self._temp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def abort(self) -> None:
        """Forget the file: nothing is left at ``path`` or beside it."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._out.close()
        self._temp.unlink(missing_ok=True)


def _decode_error(exc: BaseException) -> InvalidClipError:
    """A decoding failure in words: the data ran out, or it is damaged."""
    text = str(exc).lower()
    if "end of file" in text or "truncat" in text or "partial file" in text:
        return InvalidClipError(
            TRUNCATED_CLIP,
            "The clip ends too early (it was cut off, perhaps during the upload); send it again.",
        )
    return damaged_clip()


def damaged_clip() -> InvalidClipError:
    return InvalidClipError(
        CORRUPT_CLIP, "The clip is damaged and cannot be read; save or export it again and send it."
    )
