"""A region map given to a job: uploaded as the page does, checked when the job is posted, used by the
worker instead of planning, and shown back with the job. Against moto, with the engine faked (the
painting itself is tested with the real networks in tests/unit/test_regions_map_painting.py)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from stylemixer import resources
from stylemixer.aws.sqs import message_body
from stylemixer.jobs.model import Job, JobParams, StyleRef, new_id, utcnow
from stylemixer.limits import MAX_MAP_BYTES
from tests.support import imagefiles as files
from tests.support.aws import (
    FakeEngine,
    Stack,
    as_owner,
    call_api,
    run_worker,
    upload_through_presigned_post,
)
from tests.support.catalogue import region_map
from tests.support.environment import QUEUE_URL
from tests.support.pictures import sample_jpeg

pytestmark = pytest.mark.usefixtures("aws")

TWO = [{"preset": "tapestry"}, {"preset": "swirling-night"}]


def _map_upload(data: bytes) -> str:
    return upload_through_presigned_post(data, purpose="map", content_type="image/png")


def _post(content: str, regions_map: str, **extra: Any) -> Any:
    body = {"content": content, "styles": TWO, "mix": "regions", "regions_map": regions_map, **extra}
    return call_api("POST", "/jobs", body)


def test_a_map_upload_gets_a_ticket_for_a_png_only() -> None:
    # When the page asks to upload a map as a PNG, as a JPEG, and too large
    png = call_api("POST", "/uploads", {"purpose": "map", "content_type": "image/png", "size": 5000})
    jpeg = call_api("POST", "/uploads", {"purpose": "map", "content_type": "image/jpeg", "size": 5000})
    large = call_api(
        "POST", "/uploads", {"purpose": "map", "content_type": "image/png", "size": MAX_MAP_BYTES + 1}
    )
    # Then only the PNG within the map's own bound gets a ticket, for a key of its own kind
    assert png.status == 201, png.body
    assert png.body["fields"]["key"] == f"uploads/map/{png.body['upload_id']}"
    assert (jpeg.status, jpeg.body["error"]["code"]) == (400, "RegionsMapInvalid")
    assert (large.status, large.body["error"]["code"]) == (413, "RegionsMapTooLarge")


def test_the_worker_paints_along_the_map_given_and_the_job_shows_it(
    aws: Stack, fake_engine: FakeEngine
) -> None:
    # Given a 451 x 300 photo and a map drawn at a fifth of its size (left: style 0, right: style 1)
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    drawn = region_map((90, 60))
    map_id = _map_upload(drawn)
    # When a regions job names both
    response = _post(photo, map_id)
    assert response.status == 202, response.body
    job_id = response.body["job_id"]
    # Then the job shows its owner the map it was given, with a link that serves it
    asked = call_api("GET", f"/jobs/{job_id}", headers=as_owner(response)).body["request"]
    assert asked["regions_map"]["upload"] == map_id
    assert requests.get(asked["regions_map"]["url"], timeout=30).content == drawn
    # And the worker paints along it, brought to the upright photo's size, without planning
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    job = call_api("GET", f"/jobs/{job_id}").body
    assert job["status"] == "succeeded", job
    [given] = fake_engine.maps
    assert given.shape == (300, 451)
    assert given.dtype == np.uint8
    assert (given[:, :225] == 0).all()
    assert (given[:, 226:] == 1).all()
    # And the result's map is the one painted along
    served = Image.open(io.BytesIO(requests.get(job["result"]["regions_url"], timeout=30).content))
    assert served.mode == "P"
    assert (np.asarray(served) == given).all()


def test_a_job_without_a_map_shows_none() -> None:
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    response = call_api("POST", "/jobs", {"content": photo, "styles": TWO, "mix": "regions"})
    assert response.status == 202, response.body
    assert call_api("GET", f"/jobs/{response.body['job_id']}").body["request"]["regions_map"] is None


def test_a_map_may_be_named_again_by_another_try(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a photo and a map already used by a job
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    map_id = _map_upload(region_map((90, 60)))
    assert _post(photo, map_id).status == 202
    # When another try names the same uploads with other options
    again = _post(photo, map_id, strength=0.5)
    # Then it is accepted too
    assert again.status == 202, again.body


def test_a_photo_turned_upright_by_its_exif_takes_a_map_of_its_upright_shape(
    aws: Stack, fake_engine: FakeEngine
) -> None:
    # Given a JPEG stored 96 x 64 that stands 64 x 96 (EXIF orientation 6)
    photo = upload_through_presigned_post(files.exif_rotated_jpeg(6, (96, 64)))
    # When a job gives it a map of the stored shape, and another one of the upright shape
    stored = _post(photo, _map_upload(region_map((96, 64))))
    upright = _post(photo, _map_upload(region_map((64, 96))))
    # Then the first is refused at once, saying why, and the second is painted at the upright size
    assert (stored.status, stored.body["error"]["code"]) == (400, "RegionsMapMismatch")
    assert "drawn for another picture" in stored.body["error"]["message"]
    assert upright.status == 202, upright.body
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    assert fake_engine.maps[0].shape == (96, 64)


def test_a_map_the_worker_finds_for_another_shape_fails_the_job_with_its_reason(
    aws: Stack, fake_engine: FakeEngine
) -> None:
    # Given a PNG photo (its header does not say how it stands, so the API accepts a map either way)
    # that is landscape, and a portrait map
    photo = upload_through_presigned_post(files.flat_png((96, 64)), content_type="image/png")
    response = _post(photo, _map_upload(region_map((64, 96))))
    assert response.status == 202, response.body
    # When the worker runs it
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    # Then the job fails with the map's reason, nothing is painted and nothing is left
    job = call_api("GET", f"/jobs/{response.body['job_id']}").body
    assert job["status"] == "failed"
    assert job["error"]["code"] == "RegionsMapMismatch"
    assert fake_engine.calls == 0
    assert aws.keys("results/") == []


def test_a_map_deleted_before_the_worker_reads_it_fails_the_job(aws: Stack, fake_engine: FakeEngine) -> None:
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    map_id = _map_upload(region_map((90, 60)))
    response = _post(photo, map_id)
    aws.s3.delete_object(Bucket=resources.DATA_BUCKET, Key=f"uploads/map/{map_id}")
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    job = call_api("GET", f"/jobs/{response.body['job_id']}").body
    assert (job["status"], job["error"]["code"]) == ("failed", "UploadNotFound")


def test_a_map_upload_cannot_pose_as_a_photo_or_a_style() -> None:
    map_id = _map_upload(region_map((90, 60)))
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    as_photo = call_api("POST", "/jobs", {"content": map_id, "styles": TWO})
    as_style = call_api("POST", "/jobs", {"content": photo, "styles": [{"upload": map_id}]})
    for response in (as_photo, as_style):
        assert (response.status, response.body["error"]["code"]) == (400, "WrongUploadKind")
        assert "region map" in response.body["error"]["message"]


def test_a_map_for_four_styles_is_refused_for_three(aws: Stack) -> None:
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    numbers = np.repeat(np.arange(4, dtype=np.uint8), 30)[None, :].repeat(80, axis=0)  # 120 x 80
    map_id = _map_upload(files.encode(Image.fromarray(numbers, "L"), "PNG"))
    body = {
        "content": photo,
        "styles": [*TWO, {"preset": "grey-ink"}],
        "mix": "regions",
        "regions_map": map_id,
    }
    response = call_api("POST", "/jobs", body)
    assert (response.status, response.body["error"]["code"]) == (400, "RegionsMapStyleMissing")
    assert "style number 3" in response.body["error"]["message"]
    assert aws.receive() == []


def test_an_unknown_map_is_not_found() -> None:
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    response = _post(photo, new_id())
    assert (response.status, response.body["error"]["code"]) == (404, "UploadNotFound")


def test_the_worker_refuses_a_stored_map_without_the_regions_mix(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a job stored with a map but a blend (never accepted by the API: the worker checks again)
    photo = upload_through_presigned_post(sample_jpeg("chelsea"))
    map_id = _map_upload(region_map((90, 60)))
    now = utcnow()
    params = JobParams(photo, (StyleRef(preset="tapestry"), StyleRef(preset="grey-ink")), regions_map=map_id)
    job = Job(new_id(), params, now, now, int(now.timestamp()) + 3600)
    aws.repo().create(job)
    aws.sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=message_body(job.job_id))
    # When the worker runs it
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    # Then it fails with the map's reason, nothing painted, nothing left
    answer = call_api("GET", f"/jobs/{job.job_id}").body
    assert (answer["status"], answer["error"]["code"]) == ("failed", "RegionsMapNeedsRegions")
    assert fake_engine.calls == 0
    assert aws.keys("results/") == []
