"""Clips read under limits: their container without decoding, their frames streamed, their painting
written whole or not at all. Every limit is tested at and past it; clips are made here (a pan across
a sample photo, encoded with PyAV), tiny, so that this file runs in seconds."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from stylemixer.clips.header import (
    ClipHeader,
    check_clip,
    check_clip_bytes,
    clip_paint_seconds,
    fitted_size,
    is_clip,
    read_clip_file,
    sniff_clip,
)
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
    StyleMixerError,
)
from stylemixer.images import fit_within
from stylemixer.limits import MAX_CLIP_BYTES, MAX_CLIP_PAINT_SECONDS, MAX_CLIP_SECONDS
from stylemixer.options import StylizeOptions
from tests.support.clips import pan_clip, tiny_clip
from tests.support.pictures import sample_jpeg

if TYPE_CHECKING:
    from pathlib import Path


def _refusal(path: Path) -> StyleMixerError:
    with pytest.raises(StyleMixerError) as caught:
        read_clip_file(path)
    return caught.value


# --- what a clip is ----------------------------------------------------------------------------


def test_a_phone_clip_is_read_from_its_container_alone() -> None:
    # Given a clip with sound, panning across a photo
    clip = pan_clip(size=(160, 120), frames=12)
    # When its header is read
    header, size = read_clip_file(clip)
    # Then it says what the limits ask about, without decoding a frame
    assert (header.container, header.codec, header.audio) == ("MP4", "avc1", "mp4a")
    assert (header.width, header.height, header.rotation, header.frames) == (160, 120, 0, 12)
    assert header.duration == pytest.approx(0.5, abs=0.01)
    assert size == clip.stat().st_size


def test_hevc_and_a_quarter_turn_are_read_as_phones_write_them() -> None:
    # Given an HEVC clip whose track says "turn it a quarter" (a phone held upright)
    clip = pan_clip(size=(160, 96), frames=6, codec="libx265", audio=False, quarter_turn=True)
    # When its header is read
    header, _ = read_clip_file(clip)
    # Then it is HEVC, shown upright
    assert header.codec in ("hvc1", "hev1")
    assert header.codec_name == "HEVC"
    assert header.rotation == 90
    assert header.display_size == (96, 160)


def test_a_heic_photo_is_a_picture_and_an_mp4_a_clip() -> None:
    heic_head = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"heic")
    mov_head = struct.pack(">I4s4sI4s", 20, b"ftyp", b"qt  ", 0, b"qt  ")
    assert not is_clip(heic_head)
    assert is_clip(mov_head)
    assert sniff_clip(mov_head) == "MOV"
    assert not is_clip(sample_jpeg("chelsea"))


# --- refusals: each a code and a sentence ------------------------------------------------------


def test_a_clip_cut_short_is_refused_as_truncated(tmp_path: Path) -> None:
    # Given a clip cut in the middle (the upload stopped)
    data = pan_clip(size=(160, 120), frames=12).read_bytes()
    cut = tmp_path / "cut.mp4"
    for end in (len(data) // 2, len(data) - 10):
        cut.write_bytes(data[:end])
        # Then it is refused as cut short, in words
        error = _refusal(cut)
        assert error.code == TRUNCATED_CLIP
        assert error.status == 400
        assert "ends too early" in error.message


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    # Given a JPEG named .mp4, and an MP4 with sound alone
    jpeg = tmp_path / "photo.mp4"
    jpeg.write_bytes(sample_jpeg("chelsea"))
    assert _refusal(jpeg).code == NOT_A_VIDEO
    sound = tmp_path / "sound.m4a"
    import av

    with av.open(str(sound), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=8000)
        stream.layout = "mono"
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.float32), format="fltp", layout="mono")
        samples.sample_rate = 8000
        for packet in [*stream.encode(samples), *stream.encode(None)]:
            out.mux(packet)
    # Then both are "not a video", the second saying it has no video in it
    error = _refusal(sound)
    assert error.code == NOT_A_VIDEO
    assert "no video" in error.message


def test_a_video_in_another_codec_is_refused_with_its_name(tmp_path: Path) -> None:
    # Given an MP4 whose video is MPEG-4 Part 2 (neither H.264 nor HEVC)
    clip = tiny_clip(tmp_path / "old.mp4", "mpeg4")
    # Then it is refused as unsupported (415), naming the codec and what to send
    error = _refusal(clip)
    assert (error.code, error.status) == (UNSUPPORTED_VIDEO_CODEC, 415)
    assert "MPEG-4 Part 2" in error.message
    assert "H.264 or HEVC" in error.message


def test_a_damaged_container_is_refused(tmp_path: Path) -> None:
    # Given a clip whose moov box has its inner sizes overwritten
    data = bytearray(pan_clip(size=(160, 120), frames=12).read_bytes())
    at = data.find(b"trak")
    data[at - 4 : at] = struct.pack(">I", 3)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    # Then it is refused as damaged, not with a traceback
    assert _refusal(damaged).code == CORRUPT_CLIP


@pytest.mark.parametrize(("seconds", "refused"), [(MAX_CLIP_SECONDS, False), (MAX_CLIP_SECONDS + 2, True)])
def test_a_clip_at_the_length_limit_is_taken_and_past_it_refused(
    tmp_path: Path, seconds: int, refused: bool
) -> None:
    # Given a real clip of one frame a second, at and past the limit
    clip = tiny_clip(tmp_path / "long.mp4", "libx264", frames=seconds, fps=1)
    header, _ = read_clip_file(clip)
    # Then at the limit it is taken, past it refused, saying how long it is
    if not refused:
        check_clip(header)
        return
    with pytest.raises(StyleMixerError) as caught:
        check_clip(header)
    assert (caught.value.code, caught.value.status) == (CLIP_TOO_LONG, 413)
    assert f"{seconds} s long" in caught.value.message


def _header(width: int = 1920, height: int = 1080, seconds: float = 10.0, fps: float = 30.0) -> ClipHeader:
    return ClipHeader("MP4", seconds, width, height, 0, "avc1", round(seconds * fps))


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (_header(1920, 1080), None),
        (_header(1080, 1920), None),
        (_header(1920, 1088), CLIP_DIMENSIONS_TOO_LARGE),
        (_header(3840, 2160), CLIP_DIMENSIONS_TOO_LARGE),
        (_header(32, 32), None),
        (_header(64, 31), CLIP_TOO_SMALL),
    ],
)
def test_frame_sizes_at_and_past_the_limits(header: ClipHeader, code: str | None) -> None:
    if code is None:
        check_clip(header)
        return
    with pytest.raises(StyleMixerError) as caught:
        check_clip(header)
    assert caught.value.code == code


def test_the_painting_a_clip_asks_for_fits_one_job() -> None:
    # Given 1080p at 30 fps at the default stroke size: 30 s fit the painting one job may do
    check_clip(_header(seconds=30))
    assert clip_paint_seconds(_header(seconds=30)) <= MAX_CLIP_PAINT_SECONDS
    # And a 60 fps clip is painted at 30 fps: the same painting
    assert clip_paint_seconds(_header(seconds=30, fps=60)) == clip_paint_seconds(_header(seconds=30))
    # But 31 s are refused, saying how long a clip may be and what to change
    with pytest.raises(StyleMixerError) as caught:
        check_clip(_header(seconds=31))
    assert caught.value.code == CLIP_TOO_MUCH_WORK
    assert "up to 30 s long" in caught.value.message
    assert "coarser stroke size" in caught.value.message
    # While 57 s fit at 1080p and the coarse stroke size, and a minute made 1280 x 720 at it
    check_clip(_header(seconds=57), StylizeOptions(stroke="coarse"))
    check_clip(_header(seconds=60), StylizeOptions(stroke="coarse", max_size=1280))


def test_bytes_at_and_past_the_limit() -> None:
    check_clip_bytes(MAX_CLIP_BYTES)
    with pytest.raises(StyleMixerError) as caught:
        check_clip_bytes(MAX_CLIP_BYTES + 1)
    assert (caught.value.code, caught.value.status) == (CLIP_TOO_LARGE, 413)


@pytest.mark.parametrize(
    ("size", "side"), [((1920, 1080), 960), ((1080, 1920), 700), ((641, 361), 640), ((50, 40), None)]
)
def test_the_work_is_counted_at_the_size_the_frames_are_painted_at(
    size: tuple[int, int], side: int | None
) -> None:
    assert fitted_size(size, side) == fit_within(Image.new("RGB", size), side).size


# --- streaming ---------------------------------------------------------------------------------


def test_frames_stream_upright_and_the_sound_is_copied(tmp_path: Path) -> None:
    from stylemixer.clips.stream import ClipReader, ClipWriter

    # Given a clip turned a quarter, with sound
    clip = pan_clip(size=(160, 96), frames=8, quarter_turn=True)
    header, _ = read_clip_file(clip)
    target = tmp_path / "out.mp4"
    # When every frame is read and written back inverted
    with ClipReader(clip, header) as reader, ClipWriter(target, header.display_size, reader) as writer:
        shapes = set()
        for frame in reader.frames(audio=writer):
            shapes.add(frame.rgb.shape)
            writer.write(255 - frame.rgb, frame.pts)
    # Then the frames came upright, and the file has them all, in H.264, with the sound as it was
    assert shapes == {(160, 96, 3)}
    written, _ = read_clip_file(target)
    assert (written.codec, written.audio, written.frames, written.display_size) == (
        "avc1",
        "mp4a",
        8,
        (96, 160),
    )
    assert written.duration == pytest.approx(header.duration, abs=0.05)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_a_clip_above_30_fps_is_painted_at_30(tmp_path: Path) -> None:
    from stylemixer.clips.stream import ClipReader

    clip = tiny_clip(tmp_path / "fast.mp4", "libx264", frames=24, fps=60)
    header, _ = read_clip_file(clip)
    with ClipReader(clip, header) as reader:
        kept = list(reader.frames())
    assert header.painted_frames == 12
    assert len(kept) == 12
    assert np.diff([f.time for f in kept]) == pytest.approx([1 / 30] * 11, abs=1e-3)


def test_a_writer_that_fails_leaves_nothing(tmp_path: Path) -> None:
    from stylemixer.clips.stream import ClipReader, ClipWriter

    # Given a clip whose painting stops after four frames
    clip = pan_clip(size=(160, 120), frames=12)
    header, _ = read_clip_file(clip)
    target = tmp_path / "out.mp4"

    def paint() -> None:
        with ClipReader(clip, header) as reader, ClipWriter(target, (160, 120), reader) as writer:
            for number, frame in enumerate(reader.frames(audio=writer)):
                writer.write(frame.rgb, frame.pts)
                if number == 3:
                    raise RuntimeError("painting stopped")

    # When it is painted
    with pytest.raises(RuntimeError):
        paint()
    # Then nothing is left, neither the result nor its partial file
    assert list(tmp_path.iterdir()) == []
