"""Ids, keys, the stored parameters and the API's view of a job, without any AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stylemixer.aws.dynamodb import from_item, to_item
from stylemixer.errors import StyleMixerError
from stylemixer.jobs.model import (
    Job,
    JobError,
    JobParams,
    JobResult,
    JobStatus,
    Painting,
    StyleRef,
    check_job_id,
    is_valid_id,
    iso,
    new_id,
    regions_key,
    result_key,
    thumbnail_key,
    upload_key,
)
from stylemixer.options import Mix, OutputFormat, Stroke, StylizeOptions


def test_ids_are_32_hex_digits_and_do_not_repeat() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(is_valid_id(i) for i in ids)


@pytest.mark.parametrize(
    "value",
    ["", "0" * 31, "0" * 33, "G" * 32, "ABCDEF" + "0" * 26, "../" + "0" * 29, None, 42, "0" * 31 + "\n"],
)
def test_malformed_ids_are_refused_before_any_lookup(value: object) -> None:
    assert not is_valid_id(value)
    if isinstance(value, str):
        with pytest.raises(StyleMixerError) as refused:
            check_job_id(value)
        assert refused.value.code == "InvalidJobId"
        assert refused.value.status == 400


def test_keys_keep_purposes_apart_and_results_deterministic() -> None:
    upload_id, job_id = new_id(), new_id()
    assert upload_key("content", upload_id) == f"uploads/content/{upload_id}"
    assert upload_key("style", upload_id) != upload_key("content", upload_id)
    assert result_key(job_id, "png") == f"results/{job_id}.png"
    assert regions_key(job_id) == f"results/{job_id}.regions.png"
    assert thumbnail_key(job_id) == f"results/{job_id}.thumb.jpg"


def test_timestamps_are_utc_with_a_z() -> None:
    assert iso(datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)) == "2026-11-24T01:02:03.456Z"


def test_params_round_trip_through_their_stored_form() -> None:
    params = JobParams(
        content=new_id(),
        styles=(StyleRef(preset="tapestry"), StyleRef(upload=new_id())),
        options=StylizeOptions.checked(
            weights=(2.0, 1.0),
            mix="regions",
            strength=0.5,
            preserve_color=True,
            max_size=512,
            stroke="coarse",
            format="webp",
        ),
    )
    assert JobParams.from_dict(params.to_dict()) == params


def test_records_stored_before_the_options_were_described_once_still_load() -> None:
    # Given params exactly as they were stored (the flat JSON of the params, one key per option),
    # one record from before the regions controls existed and one with every option
    content, upload = new_id(), new_id()
    oldest = {
        "content": content,
        "styles": [{"preset": "tapestry"}],
        "weights": None,
        "mix": "blend",
        "strength": 1.0,
        "preserve_color": False,
        "max_size": None,
        "stroke": None,
        "format": "jpeg",
    }
    latest = {"content": content, "styles": [{"preset": "tapestry"}, {"upload": upload}], "weights": [2, 1],
              "mix": "regions", "strength": 0.5, "preserve_color": True, "max_size": 512, "stroke": "coarse",
              "format": "webp", "regions": 3, "position_weight": 0.0, "edge_softness": 1.0}  # fmt: skip
    # When they are loaded
    old, new = JobParams.from_dict(oldest), JobParams.from_dict(latest)
    # Then the old one has today's defaults, the new one its values, typed
    assert old == JobParams(content, (StyleRef(preset="tapestry"),))
    assert new.styles == (StyleRef(preset="tapestry"), StyleRef(upload=upload))
    assert new.options == StylizeOptions(
        weights=(2.0, 1.0), mix=Mix.REGIONS, strength=0.5, preserve_color=True, max_size=512,
        stroke=Stroke.COARSE, format=OutputFormat.WEBP, regions=3, position_weight=0.0, edge_softness=1.0,
    )  # fmt: skip
    # And they are stored again with the same keys, now every option present
    assert new.to_dict() == {**latest, "weights": [2.0, 1.0]}
    assert set(old.to_dict()) == set(latest)


@pytest.mark.parametrize("status", list(JobStatus))
def test_a_job_round_trips_through_a_dynamodb_item(status: JobStatus) -> None:
    now = datetime(2026, 11, 24, 1, 0, 0, 123000, tzinfo=UTC)
    job = Job(
        job_id=new_id(),
        params=JobParams(content=new_id(), styles=(StyleRef(preset="tapestry"),)),
        created_at=now,
        updated_at=now + timedelta(seconds=3),
        expires_at_epoch=int(now.timestamp()) + 86400,
        status=status,
        stage="stylize",
        progress=42,
        attempts=2,
        error=JobError("CorruptImage", "The picture is damaged.") if status is JobStatus.FAILED else None,
        result=JobResult("results/x.png", 10, 20, "png", "results/x.regions.png", "results/x.thumb.jpg")
        if status is JobStatus.SUCCEEDED
        else None,
    )
    assert from_item(to_item(job)) == job


def _succeeded(painting: Painting | None) -> Job:
    now = datetime(2026, 12, 8, 9, 0, 0, tzinfo=UTC)
    return Job(
        job_id=new_id(),
        params=JobParams(content=new_id(), styles=(StyleRef(preset="tapestry"),)),
        created_at=now,
        updated_at=now,
        expires_at_epoch=int(now.timestamp()) + 86400,
        status=JobStatus.SUCCEEDED,
        result=JobResult("results/x.jpg", 819, 8192, "jpeg"),
        painting=painting,
    )


def test_a_job_keeps_the_size_it_paints_at_through_its_stored_item() -> None:
    # Given a job whose photo, 1000 x 10000, was painted smaller than it is
    job = _succeeded(Painting(819, 8192, True, 1000, 10000))
    # When it is stored and read back
    item = to_item(job)
    # Then the painting is in its item, and read back as it was
    assert item["painting"] == {
        "M": {
            "width": {"N": "819"}, "height": {"N": "8192"}, "reduced": {"BOOL": True},
            "photo_width": {"N": "1000"}, "photo_height": {"N": "10000"},
        }
    }  # fmt: skip
    assert from_item(item) == job


def test_an_item_stored_before_jobs_kept_their_painting_still_loads_without_one() -> None:
    # Given an item as it was stored before jobs kept the size they paint at (no painting in it)
    item = to_item(_succeeded(None))
    assert "painting" not in item
    # When it is read / Then the job loads, its painting unknown
    job = from_item(item)
    assert job.painting is None
    assert job.result == JobResult("results/x.jpg", 819, 8192, "jpeg")


def test_a_photo_brought_down_before_it_was_sent_is_kept_in_the_stored_parameters() -> None:
    # Given the parameters of a job whose photo was brought down from 1000 x 10000 before it was sent
    params = JobParams(content=new_id(), styles=(StyleRef(preset="tapestry"),), reduced_from=(1000, 10000))
    # When they are stored and read back / Then the photo's own size is kept, and absent ones stay absent
    assert params.to_dict()["reduced_from"] == {"width": 1000, "height": 10000}
    assert JobParams.from_dict(params.to_dict()) == params
    plain = JobParams(content=params.content, styles=params.styles)
    assert "reduced_from" not in plain.to_dict()
    assert JobParams.from_dict(plain.to_dict()).reduced_from is None
