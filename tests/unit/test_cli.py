"""The CLI end to end, as other tools drive it: the installed console script on real pictures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.paths import ROOT, testdata_path

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
    # Given a real photo
    photo = testdata_path("photos", "cornell.jpg")
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
    assert report["seconds"] > 0
    assert "stylize" in proc.stderr  # the progress bar went to stderr


@pytest.mark.usefixtures("weights_path")
def test_blend_of_two_custom_styles_with_weights(tmp_path: Path) -> None:
    out = tmp_path / "blend.png"
    proc = run_cli(
        "stylize", str(testdata_path("photos", "sailboat.jpg")), "-o", str(out),
        "--style", str(testdata_path("styles", "la_muse.jpg")),
        "--style", str(testdata_path("styles", "asheville.jpg")),
        "--weight", "3", "--weight", "1", "--strength", "0.8", "--preserve-color", "--max-size", "256",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as img:
        assert img.format == "PNG"
        assert max(img.size) == 256


def test_not_an_image_is_refused_in_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_text("these are my holiday notes, not a photo")
    proc = run_cli("stylize", str(fake), "-o", str(tmp_path / "o.jpg"), "--style", "tapestry")
    assert_refused(proc)
    assert not (tmp_path / "o.jpg").exists()


def test_unknown_style_is_refused(tmp_path: Path) -> None:
    proc = run_cli(
        "stylize", str(testdata_path("photos", "cornell.jpg")), "-o", str(tmp_path / "o.jpg"),
        "--style", "van-gogh",
    )  # fmt: skip
    assert_refused(proc, "van-gogh", "stylemixer styles")


def test_missing_input_is_refused(tmp_path: Path) -> None:
    proc = run_cli(
        "stylize", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "o.jpg"), "--style", "tapestry"
    )
    assert_refused(proc, "no file")


def test_bad_option_values_are_refused(tmp_path: Path) -> None:
    photo = str(testdata_path("photos", "cornell.jpg"))
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
        "stylize", str(testdata_path("photos", "cornell.jpg")), "-o", str(tmp_path / "o.jpg"),
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
