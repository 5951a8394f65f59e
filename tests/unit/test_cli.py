"""The CLI end to end, as other tools drive it: the installed console script on real pictures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from stylemixer.limits import MAX_SIDE
from tests.support.paths import ROOT
from tests.support.pictures import (
    PHONE_SIZES,
    phone_photo,
    phone_photo_file,
    sample_painting_file,
    sample_photo_file,
)

SCRIPT = Path(sys.executable).with_name("stylemixer")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "stylemixer.cli"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, check=False
    )


def assert_refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2, one line on stderr that says what is wrong, no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word.lower() in lines[0].lower()


@pytest.mark.usefixtures("weights_path")
def test_stylize_a_real_photo_with_a_preset_and_report_json(tmp_path: Path) -> None:
    # Given a photo
    photo = sample_photo_file("rocket")
    out = tmp_path / "out.webp"
    # When the CLI paints it with a preset, capped at 300 px
    proc = run_cli(
        "stylize", str(photo), "-o", str(out), "--style", "swirling-night", "--max-size", "300", "--json"
    )
    # Then it writes a WebP of that size and prints one JSON object about it
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    with Image.open(out) as img:
        assert img.format == "WEBP"
        assert max(img.size) == 300
        assert report["size"] == {"width": img.width, "height": img.height}
    assert report["styles"] == ["swirling-night"]
    assert report["output"] == str(out)
    assert report["seconds"] > report["stylize_seconds"] > 0
    assert "stylize" in proc.stderr  # the progress bar went to stderr


@pytest.mark.usefixtures("weights_path")
def test_blend_of_two_custom_styles_with_weights(tmp_path: Path) -> None:
    out = tmp_path / "blend.png"
    proc = run_cli(
        "stylize", str(sample_photo_file("chelsea")), "-o", str(out),
        "--style", str(sample_painting_file("scarlet-blaze")),
        "--style", str(sample_painting_file("tapestry")),
        "--weight", "3", "--weight", "1", "--strength", "0.8", "--preserve-color", "--max-size", "256",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as img:
        assert img.format == "PNG"
        assert max(img.size) == 256


@pytest.mark.usefixtures("weights_path")
def test_a_batch_paints_every_good_photo_and_reports_the_bad_one_in_one_line(tmp_path: Path) -> None:
    # Given three photos with a text file posing as a photo among them
    bad = tmp_path / "notes.jpg"
    bad.write_text("these are my holiday notes, not a photo")
    good = [sample_photo_file(name) for name in ("rocket", "chelsea", "coffee")]
    photos = [good[0], bad, *good[1:]]
    out = tmp_path / "painted"
    # When one run paints them all into a folder, reporting JSON lines
    proc = run_cli(
        "stylize", *map(str, photos), "-o", f"{out}/", "--style", "tapestry", "--max-size", "160", "--json"
    )
    # Then it exits 2 because one failed, and says so in exactly one line naming that file
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    refusals = [line for line in proc.stderr.splitlines() if line.startswith("stylemixer:")]
    assert len(refusals) == 1, proc.stderr
    assert str(bad) in refusals[0]
    assert "not a picture" in refusals[0]
    # And every other photo is written, at the size asked, with per-file progress on stderr
    assert sorted(p.name for p in out.iterdir()) == ["chelsea.jpg", "coffee.jpg", "rocket.jpg"]
    for photo in good:
        with Image.open(out / photo.name) as img:
            assert img.format == "JPEG"
            assert max(img.size) == 160
    assert "[1/4] rocket.jpg" in proc.stderr
    assert "[4/4] coffee.jpg" in proc.stderr
    assert "painted 3 of 4 photos" in proc.stderr
    # And stdout holds one JSON object per photo, in order, the bad one with its code
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["input"] for r in reports] == list(map(str, photos))
    assert reports[1]["output"] is None
    assert reports[1]["error"]["code"] == "NotAnImage"
    assert all(r["output"] == str(out / Path(r["input"]).name) for r in reports if r is not reports[1])
    assert all(0 < r["stylize_seconds"] <= r["seconds"] for r in reports if r is not reports[1])


@pytest.mark.usefixtures("weights_path")
def test_one_photo_into_a_folder_is_named_after_it(tmp_path: Path) -> None:
    photo = sample_photo_file("chelsea")
    proc = run_cli(
        "stylize",
        str(photo),
        "-o",
        f"{tmp_path}/",
        "--style",
        "tapestry",
        "--max-size",
        "96",
        "--format",
        "png",
    )
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "chelsea.png") as img:
        assert (img.format, max(img.size)) == ("PNG", 96)


def test_a_batch_refuses_results_that_would_clash_before_painting(tmp_path: Path) -> None:
    # Given two photos of one name in two folders, and a copy of a photo in the output folder
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.jpg").write_bytes(sample_photo_file("chelsea").read_bytes())
    a, b = tmp_path / "a" / "x.jpg", tmp_path / "b" / "x.jpg"
    # When both would be written to one file, Then nothing is painted and one line says why
    proc = run_cli("stylize", str(a), str(b), "-o", str(tmp_path / "out"), "--style", "tapestry")
    assert_refused(proc, "would both be written")
    assert not (tmp_path / "out").exists()
    # And a result that would overwrite its own photo is refused the same way
    proc = run_cli(
        "stylize", str(a), str(tmp_path / "b" / "x.jpg"), "-o", str(tmp_path / "a"), "--style", "grey-ink"
    )
    assert_refused(proc)
    assert a.read_bytes() == sample_photo_file("chelsea").read_bytes()
    # And an output that is a file cannot take several photos
    note = tmp_path / "note.txt"
    note.write_text("x")
    assert_refused(run_cli("stylize", str(a), str(b), "-o", str(note), "--style", "tapestry"), "is a file")


def test_not_an_image_is_refused_in_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_text("these are my holiday notes, not a photo")
    proc = run_cli("stylize", str(fake), "-o", str(tmp_path / "o.jpg"), "--style", "tapestry")
    assert_refused(proc)
    assert not (tmp_path / "o.jpg").exists()


def test_unknown_style_is_refused(tmp_path: Path) -> None:
    proc = run_cli(
        "stylize", str(sample_photo_file("rocket")), "-o", str(tmp_path / "o.jpg"),
        "--style", "van-gogh",
    )  # fmt: skip
    assert_refused(proc, "van-gogh", "stylemixer styles")


def test_missing_input_is_refused(tmp_path: Path) -> None:
    proc = run_cli(
        "stylize", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "o.jpg"), "--style", "tapestry"
    )
    assert_refused(proc, "no file")


def test_bad_option_values_are_refused(tmp_path: Path) -> None:
    photo = str(sample_photo_file("rocket"))
    out = str(tmp_path / "o.jpg")
    assert_refused(run_cli("stylize", photo, "-o", out, "--style", "tapestry", "--strength", "2"), "strength")
    assert_refused(
        run_cli("stylize", photo, "-o", out, "--style", "tapestry", "--weight", "1", "--weight", "2"),
        "weight",
    )
    assert_refused(run_cli("stylize", photo, "-o", str(tmp_path / "o.gif"), "--style", "tapestry"), "format")


def test_missing_weights_say_how_to_build_them(tmp_path: Path) -> None:
    env = {**os.environ, "STYLEMIXER_WEIGHTS": str(tmp_path / "absent.pt")}
    proc = run_cli(
        "stylize", str(sample_photo_file("rocket")), "-o", str(tmp_path / "o.jpg"),
        "--style", "tapestry", env=env,
    )  # fmt: skip
    assert_refused(proc, "stylemixer weights build")


def test_styles_json_lists_every_preset_with_its_thumbnail() -> None:
    proc = run_cli("styles", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert len(rows) == 26
    assert {"id", "name", "index", "thumbnail"} <= set(rows[0])
    assert sorted(r["index"] for r in rows) == list(range(26))
    assert all(Path(r["thumbnail"]).is_file() for r in rows)


@pytest.mark.usefixtures("weights_path")
def test_weights_web_writes_the_pages_models(tmp_path: Path) -> None:
    proc = run_cli("weights", "web", "--dest", str(tmp_path / "models"))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(m["file"] for m in manifest["models"].values()) == [
        "multistyle-features.onnx",
        "multistyle.onnx",
        "predictor.onnx",
        "transformer-features.onnx",
        "transformer.onnx",
    ]
    assert f"({manifest['total_bytes']} bytes)" in proc.stdout


def test_weights_web_without_weights_says_how_to_build_them(tmp_path: Path) -> None:
    proc = run_cli("weights", "web", "--dest", str(tmp_path / "models"), "--weights", str(tmp_path / "no.pt"))
    assert_refused(proc, "stylemixer weights build")
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
@pytest.mark.usefixtures("weights_path")
@pytest.mark.parametrize(
    ("size", "styles"),
    [("24mp", ["--style", "swirling-night"]), ("48mp", ["--style", "grey-ink", "--style", "tapestry"])],
    ids=["24mp-one-preset", "48mp-two-presets-by-region"],
)
def test_a_phone_photo_is_painted_at_its_own_size(tmp_path: Path, size: str, styles: list[str]) -> None:
    # Given a phone photo (iPhone's 24 MP default, or its 48 MP mode), stored turned a quarter as a
    # phone held upright stores it (EXIF orientation 6)
    photo = phone_photo_file(size, exif_orientation=6)
    width, height = PHONE_SIZES[size]
    out, regions = tmp_path / "out.jpg", tmp_path / "regions.png"
    by_region = ["--mix", "regions", "--regions-out", str(regions)] if len(styles) > 2 else []
    # When the CLI paints it at the default stroke
    proc = run_cli("stylize", str(photo), "-o", str(out), *styles, *by_region, "--json")
    # Then the picture is the upright photo's own size, not brought down, nothing said about it
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["size"] == {"width": height, "height": width}
    assert report["reduced_from"] is None
    assert "largest size" not in proc.stderr
    with Image.open(out) as img:
        assert img.size == (height, width)
    if by_region:
        with Image.open(regions) as img:
            assert img.size == (height, width)


@pytest.mark.usefixtures("weights_path")
def test_a_photo_past_the_largest_size_painted_is_brought_down_and_the_cli_says_so(tmp_path: Path) -> None:
    # Given a photo longer than the longest side painted (a panorama)
    photo = tmp_path / "panorama.jpg"
    phone_photo(MAX_SIDE + 1808, 600, name="coffee").save(photo, quality=90)
    out = tmp_path / "out.png"
    # When the CLI paints it
    proc = run_cli(
        "stylize", str(photo), "-o", str(out), "--style", "swirling-night", "--stroke", "coarse", "--json"
    )
    # Then it is painted at the largest size of its shape, and a line on stderr says so
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["size"] == {"width": MAX_SIDE, "height": 491}
    assert report["reduced_from"] == {"width": 10000, "height": 600}
    assert f"{photo} is 10000 × 600 pixels" in proc.stderr
    assert f"painted at {MAX_SIDE} × 491, the largest size accepted" in proc.stderr
    with Image.open(out) as img:
        assert img.size == (MAX_SIDE, 491)


def read_then_close(args: list[str], keep_lines: int) -> tuple[list[bytes], int, str]:
    """What ``stylemixer ARGS | head -KEEP`` sees: read ``keep_lines`` lines, then close the pipe.

    Returns the lines read, the CLI's exit status and its standard error. With ``keep_lines=0`` the
    pipe is closed before the CLI writes anything, so the refused write is certain, not a race.
    """
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "stylemixer.cli"]
    proc = subprocess.Popen([*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    assert proc.stderr is not None
    lines = [proc.stdout.readline() for _ in range(keep_lines)]
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    return lines, proc.wait(timeout=300), stderr


@pytest.mark.parametrize("keep_lines", [0, 3])
def test_styles_into_a_pipe_that_closes_early_stops_quietly(keep_lines: int) -> None:
    # Given `stylemixer styles | head -N`
    # When the reader keeps N lines and closes its end
    lines, status, stderr = read_then_close(["styles"], keep_lines)
    # Then it got N presets, and the CLI stopped without a word: no error, no traceback
    assert len(lines) == keep_lines
    assert all(line.strip() for line in lines)
    assert stderr == ""
    # And its status is a process's ended by SIGPIPE, or success if everything fitted in the pipe
    assert status in (0, 128 + 13)


@pytest.mark.usefixtures("weights_path")
def test_stylize_json_into_a_pipe_that_closes_early_stops_quietly(tmp_path: Path) -> None:
    # Given two photos painted with --json into a reader that closes before reading anything
    photos = [sample_photo_file("rocket"), sample_photo_file("coffee")]
    args = ["stylize", *map(str, photos), "-o", str(tmp_path), "--style", "tapestry", "--max-size", "64"]
    # When the reader goes away
    _lines, status, stderr = read_then_close([*args, "--json"], keep_lines=0)
    # Then the CLI says nothing on its way out (no progress is owed to a reader that left)
    assert "error" not in stderr.lower()
    assert "Traceback" not in stderr
    assert status == 128 + 13
