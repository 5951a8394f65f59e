"""A batch of photos, without the engine: where results go, and how each photo's fate is reported."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from stylemixer.batch import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REFUSED,
    BatchItem,
    BatchRun,
    ReadAhead,
    exit_status,
    plan_batch,
)
from stylemixer.errors import InvalidRequestError, StyleMixerError
from stylemixer.options import OutputFormat


def test_results_are_named_after_their_photos_with_the_formats_suffix(tmp_path: Path) -> None:
    items = plan_batch(
        [Path("holiday/IMG_1.HEIC"), Path("b.png")], tmp_path / "out", OutputFormat.WEBP, tmp_path / "maps"
    )
    assert [(i.output.name, i.regions.name if i.regions else None) for i in items] == [
        ("IMG_1.webp", "IMG_1.regions.png"),
        ("b.webp", "b.regions.png"),
    ]


@pytest.mark.parametrize(
    ("photos", "code"),
    [
        (["a/x.jpg", "b/x.png"], "OutputClash"),
        (["out/x.jpg", "y.jpg"], "OutputIsInput"),
    ],
)
def test_clashing_results_are_refused_before_anything_is_painted(
    tmp_path: Path, photos: list[str], code: str
) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        plan_batch([tmp_path / p for p in photos], tmp_path / "out", OutputFormat.JPEG)
    assert refused.value.code == code


def test_a_region_map_may_not_overwrite_a_photo_either(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="overwrite the photo"):
        plan_batch(
            [tmp_path / "a.regions.png", tmp_path / "a.jpg"], tmp_path / "out", OutputFormat.PNG, tmp_path
        )


def _run(paint: Any, items: list[BatchItem]) -> tuple[int, list[str], list[dict[str, Any]]]:
    out, err = io.StringIO(), io.StringIO()
    outcomes = BatchRun(paint, json_lines=True, stdout=out, stderr=err).run(items)
    return (
        exit_status(outcomes),
        err.getvalue().splitlines(),
        [json.loads(x) for x in out.getvalue().splitlines()],
    )


def test_every_photo_is_tried_and_the_status_says_the_worst_that_happened() -> None:
    items = [BatchItem(Path(f"{n}.jpg"), Path(f"out/{n}.jpg")) for n in ("a", "b", "c")]

    def paint(item: BatchItem, label: str) -> dict[str, Any]:
        if item.input.stem == "b":
            raise StyleMixerError("TruncatedImage", "The picture is cut off.")
        return {"input": str(item.input), "label": label}

    # A refused photo: the others are painted, one line names it, exit 2
    status, lines, reports = _run(paint, items)
    assert status == EXIT_REFUSED
    assert [line for line in lines if line.startswith("stylemixer:")] == [
        "stylemixer: b.jpg: The picture is cut off."
    ]
    assert [r.get("label") for r in reports] == ["[1/3] a.jpg", None, "[3/3] c.jpg"]
    assert reports[1]["error"] == {"code": "TruncatedImage", "message": "The picture is cut off."}
    assert lines[-1] == "painted 2 of 3 photos; 1 could not be painted"

    # A fault of ours on one photo: the run goes on, says nothing of the fault's details, exit 1
    def broken(item: BatchItem, label: str) -> dict[str, Any]:
        if item.input.stem == "a":
            raise RuntimeError("secret detail")
        return paint(item, label)

    status, lines, reports = _run(broken, items)
    assert status == EXIT_INTERNAL
    assert "secret detail" not in "\n".join(lines)
    assert reports[0]["error"]["code"] == "InternalError"
    assert reports[2]["label"] == "[3/3] c.jpg"

    # All painted: exit 0
    assert _run(lambda item, label: {"input": str(item.input)}, items)[0] == EXIT_OK


def test_photos_are_read_one_ahead_in_order_with_their_own_refusals() -> None:
    # Given a reader that notes what it reads, and refuses one item
    read: list[str] = []

    def reader(name: str) -> str:
        read.append(name)
        if name == "bad":
            raise StyleMixerError("NotAnImage", "not a picture")
        return name.upper()

    with ReadAhead(["a", "bad", "c"], reader) as reads:
        # When the first is taken, Then it is that item's result, and the next one is being read
        assert reads.next() == "A"
        # And a refusal comes out for its own item only
        with pytest.raises(StyleMixerError, match="not a picture"):
            reads.next()
        assert reads.next() == "C"
    assert read == ["a", "bad", "c"]
