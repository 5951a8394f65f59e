"""A clip painted frame by frame, in bounded memory: decode one frame, paint it, carry it, encode it.

The same steps for the CLI and the worker: the clip's header is read and held to the limits first
(:mod:`stylemixer.clips.header`), then its frames stream through: each is painted by the network
exactly as a photo would be (:meth:`~stylemixer.neural.engine.Engine.frame_painter`), carried along
the clip's motion (:mod:`stylemixer.neural.temporal`), brought to the frame's resolution with its
detail, and encoded at once (:mod:`stylemixer.clips.stream`), the sound copied on the way. One frame,
its painting and the previous result are alive at a time, whatever the clip's length; the output
appears at its path only once complete. :meth:`stylemixer.neural.engine.Engine.paint_clip` is the
entry point (tests/unit/test_clip_painting.py paints clips with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PIL import Image

from stylemixer.clips.header import check_clip, fitted_size, read_clip_file
from stylemixer.neural.temporal import TemporalCarry, TemporalSettings
from stylemixer.options import StylizeOptions
from stylemixer.progress import ProgressCallback, Stages

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from stylemixer.clips.header import ClipHeader
    from stylemixer.neural.engine import FramePainter
    from stylemixer.styles import Style


class FramePainterSource(Protocol):
    """What paints a clip's frames (:class:`stylemixer.neural.engine.Engine`)."""

    def frame_painter(
        self, styles: Sequence[Style], options: StylizeOptions, first: Image.Image
    ) -> FramePainter: ...


@dataclass(frozen=True, slots=True)
class ClipResult:
    """A painted clip: its frame size, how many frames, how long, and how many scene cuts started fresh."""

    width: int
    height: int
    frames: int
    duration: float
    cuts: int
    audio: bool


def paint_clip(
    engine: FramePainterSource,
    source: Path,
    target: Path,
    styles: Sequence[Style],
    options: StylizeOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    header: ClipHeader | None = None,
    temporal: TemporalSettings | None = None,
) -> ClipResult:
    """Paint the clip at ``source`` in ``styles`` into an MP4 file at ``target``; progress per frame.

    ``header``: the clip's header if already read (it is read and checked otherwise). ``temporal``:
    how frames are carried (:class:`TemporalSettings`; its defaults are the measured choice).
    Refuses a clip over the limits, and the regions mix, before anything is painted or written.
    """
    from stylemixer.clips.stream import ClipReader, ClipWriter, damaged_clip

    options = options or StylizeOptions()
    if header is None:
        header, _ = read_clip_file(source)
    check_clip(header, options)
    stages = Stages({"prepare": 1, "stylize": 40, "finish": 1}, progress)
    stages.report("prepare", 0.0)
    size = fitted_size(header.display_size, options.max_size)
    total = max(1, header.painted_frames)
    carry = TemporalCarry(temporal)
    painter: FramePainter | None = None
    cuts = -1  # the first frame starts fresh by itself
    with ClipReader(source, header) as reader, ClipWriter(target, size, reader) as writer:
        stages.report("prepare", 1.0)
        for frame in reader.frames(audio=writer):
            image = Image.fromarray(frame.rgb)
            if painter is None:
                painter = engine.frame_painter(styles, options, image)
            photo, work = painter.prepare(image)
            painted = carry.step(np.asarray(work), painter.paint(work))
            cuts += int(carry.stats.cut)
            writer.write(np.asarray(painter.finish(painted, work, photo)), frame.pts)
            stages.report("stylize", writer.frames / total)
        if painter is None:  # not one frame could be decoded
            raise damaged_clip()
        stages.report("finish", 0.0)
    stages.report("finish", 1.0)
    width, height = writer.size
    return ClipResult(width, height, writer.frames, header.duration, max(0, cuts), reader.audio is not None)
