"""Clips painted by the engine: steadier than frames painted alone and than the peer's plain blend,
as detailed as frames alone, scene cuts started fresh, and a clip painted end to end into an MP4 with
its sound. The clip is a pan across a sample photo at a known speed, so its motion is known exactly;
it is small (192 x 144, 16 frames) so that painting it takes seconds. The figures on a real photo at
640 x 360 are ``make bench``'s (bench/clips.py, docs/clips.md)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from stylemixer.errors import REGIONS_NOT_FOR_CLIPS, StyleMixerError
from stylemixer.options import StylizeOptions
from stylemixer.styles import PresetStyle
from tests.support.clips import flicker, mean_detail, pan_clip, plain_blend

if TYPE_CHECKING:
    from pathlib import Path

STEP = 2


@functools.cache
def _painted(style: str, cut: bool = False) -> tuple[list[np.ndarray], list[np.ndarray], list[bool]]:
    """A pan's frames painted alone and carried along the motion, and which frames started fresh."""
    from stylemixer.clips.header import read_clip_file
    from stylemixer.clips.stream import ClipReader
    from stylemixer.neural.engine import Engine
    from stylemixer.neural.temporal import TemporalCarry

    clip = pan_clip(size=(192, 144), frames=16, step=STEP, audio=False, cut_to="coffee" if cut else None)
    header, _ = read_clip_file(clip)
    alone, carried, fresh = [], [], []
    carry = TemporalCarry()
    with ClipReader(clip, header) as reader:
        painter = None
        for frame in reader.frames():
            image = Image.fromarray(frame.rgb)
            painter = painter or Engine.default().frame_painter([PresetStyle(style)], StylizeOptions(), image)
            photo, work = painter.prepare(image)
            painted = painter.paint(work)
            alone.append(np.asarray(painter.finish(painted, work, photo)))
            carried.append(np.asarray(painter.finish(carry.step(np.asarray(work), painted), work, photo)))
            fresh.append(carry.stats.cut)
    return alone, carried, fresh


@pytest.mark.parametrize("style", ["swirling-night", "tapestry"])
def test_a_pan_flickers_less_than_half_as_much_as_frames_alone_and_keeps_its_detail(style: str) -> None:
    # Given a pan painted frame by frame alone, and carried along its motion
    alone, carried, fresh = _painted(style)
    # When the pan is undone between consecutive frames
    ours, theirs = flicker(carried, STEP), flicker(alone, STEP)
    blended = flicker(plain_blend(alone, 0.5), STEP)
    # Then ours changes at most half as much as frames alone, and less than the peer's --smooth 0.5
    assert ours <= 0.5 * theirs, (ours, theirs)
    assert ours < blended, (ours, blended)
    # And it keeps at least 0.8 of the fine detail of the frames alone (no flicker traded for blur)
    assert mean_detail(carried) >= 0.8 * mean_detail(alone)
    # And only the first frame started fresh
    assert fresh == [True] + [False] * (len(fresh) - 1)


def test_a_scene_cut_starts_fresh() -> None:
    # Given a pan that cuts to another photo half way
    alone, carried, fresh = _painted("tapestry", cut=True)
    # Then the frame after the cut is painted afresh, exactly as alone (no ghost of the scene before)
    assert fresh.index(True, 1) == len(fresh) // 2
    assert np.array_equal(carried[len(fresh) // 2], alone[len(fresh) // 2])


def test_a_clip_is_painted_into_an_mp4_with_its_sound_and_progress_per_frame(tmp_path: Path) -> None:
    from stylemixer.clips.header import read_clip_file
    from stylemixer.neural.engine import Engine

    # Given a clip with sound, turned a quarter as a phone writes it
    clip = pan_clip(size=(160, 96), frames=8, quarter_turn=True)
    seen: list[tuple[str, float]] = []
    # When it is painted
    result = Engine.default().paint_clip(
        clip, tmp_path / "painted.mp4", [PresetStyle("tapestry")], progress=lambda s, f: seen.append((s, f))
    )
    # Then the MP4 holds every frame, upright, in H.264, with the sound
    header, _ = read_clip_file(tmp_path / "painted.mp4")
    assert (header.codec, header.audio, header.frames, header.display_size) == ("avc1", "mp4a", 8, (96, 160))
    assert (result.width, result.height, result.frames, result.audio) == (96, 160, 8, True)
    # And progress rose with every frame to the end, never backwards
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert sum(1 for stage, _ in seen if stage == "stylize") == 8


def test_the_regions_mix_is_refused_for_a_clip_before_anything_is_written(tmp_path: Path) -> None:
    from stylemixer.neural.engine import Engine

    clip = pan_clip(size=(160, 120), frames=12)
    styles = [PresetStyle("tapestry"), PresetStyle("swirling-night")]
    with pytest.raises(StyleMixerError) as caught:
        Engine.default().paint_clip(clip, tmp_path / "out.mp4", styles, StylizeOptions(mix="regions"))
    assert caught.value.code == REGIONS_NOT_FOR_CLIPS
    assert "one style or a blend" in caught.value.message
    assert list(tmp_path.iterdir()) == []
