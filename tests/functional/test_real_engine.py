"""The whole path with the real engine and the real weights: a real photo in, a stylized picture out.

Small sizes keep it to a few seconds (the painting itself is tested in the engine's own tests), but
for phone photos at their own size, 24 and 48 MP, which go through the whole path once each.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from functions.worker import handler as worker
from stylemixer.local.context import LambdaContext
from stylemixer.permissions import Function
from tests.support.aws import (
    Stack,
    as_owner,
    call_api,
    run_worker,
    upload_through_presigned_post,
)
from tests.support.pictures import PHONE_SIZES, phone_photo_file, sample_jpeg, sample_painting_file

pytestmark = pytest.mark.slow


@pytest.fixture
def real_engine(monkeypatch: pytest.MonkeyPatch, weights_path: Any) -> None:
    """The worker's own engine provider (Engine.default), with the session's weight file."""
    from stylemixer.neural.engine import Engine

    monkeypatch.setattr(worker, "engine_provider", lambda: Engine.default(weights_path))


def _run(aws: Stack, body: dict[str, Any]) -> dict[str, Any]:
    response = call_api("POST", "/jobs", body)
    assert response.status == 202, response.body
    job_id = response.body["job_id"]
    result = run_worker(aws.receive())
    assert result == {"batchItemFailures": []}
    job = call_api("GET", f"/jobs/{job_id}", headers=as_owner(response)).body
    assert job["status"] == "succeeded", job
    return job


def _fetch(url: str) -> Image.Image:
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content)).convert("RGB")


@pytest.mark.usefixtures("real_engine")
def test_preset_job_with_the_real_engine(aws: Stack) -> None:
    # Given a real photo uploaded through the presigned POST
    photo_bytes = sample_jpeg("rocket", 640)
    content = upload_through_presigned_post(photo_bytes)
    # When a preset job runs through the worker
    job = _run(aws, {"content": content, "styles": [{"preset": "swirling-night"}], "max_size": 256})
    # Then the result is the photo's shape at the asked size, and painted (far from the photo)
    picture = _fetch(job["result"]["url"])
    assert max(picture.size) == 256
    photo = Image.open(io.BytesIO(photo_bytes)).convert("RGB").resize(picture.size)
    difference = np.abs(np.asarray(picture, dtype=np.float32) - np.asarray(photo, dtype=np.float32)).mean()
    assert difference > 20, f"the result is too close to the photo (mean difference {difference:.1f})"
    assert abs(picture.width / picture.height - photo.width / photo.height) < 0.02


@pytest.mark.usefixtures("real_engine")
def test_custom_style_job_with_the_real_engine(aws: Stack) -> None:
    # Given a photo and a painting, both uploaded
    content = upload_through_presigned_post(sample_jpeg("coffee", 480))
    style = upload_through_presigned_post(sample_painting_file("scarlet-blaze").read_bytes(), purpose="style")
    # When
    job = _run(aws, {"content": content, "styles": [{"upload": style}], "max_size": 192, "format": "webp"})
    # Then
    picture = _fetch(job["result"]["url"])
    assert max(picture.size) == 192
    assert job["result"]["format"] == "webp"


@pytest.mark.usefixtures("real_engine")
def test_regions_job_given_back_its_own_map_with_the_real_engine(aws: Stack) -> None:
    # Given a photo painted with the regions mix, and the map that job gives
    content = upload_through_presigned_post(sample_jpeg("coffee", 480))
    body = {
        "content": content,
        "styles": [{"preset": "grey-ink"}, {"preset": "swirling-night"}],
        "mix": "regions",
        "max_size": 240,
        "format": "png",
    }
    planned = requests.get(_run(aws, body)["result"]["regions_url"], timeout=30).content
    # When the map is uploaded as the page does and a new job is given it (another try, other strength)
    map_id = upload_through_presigned_post(planned, purpose="map", content_type="image/png")
    job = _run(aws, {**body, "regions_map": map_id, "strength": 0.8})
    # Then the new job shows the map it was given, and paints along it
    assert job["request"]["regions_map"]["upload"] == map_id
    given = np.asarray(Image.open(io.BytesIO(planned)))
    followed = np.asarray(
        Image.open(io.BytesIO(requests.get(job["result"]["regions_url"], timeout=30).content))
    )
    assert followed.shape == given.shape
    assert (followed == given).mean() >= 0.99


@pytest.mark.usefixtures("real_engine")
@pytest.mark.parametrize(
    ("size", "styles"),
    [
        ("24mp", [{"preset": "swirling-night"}]),
        ("48mp", [{"preset": "grey-ink"}, {"preset": "swirling-night"}]),
    ],
    ids=["24mp-one-preset", "48mp-two-presets-by-region"],
)
def test_a_phone_photo_is_painted_at_its_own_size_through_the_job_api(
    aws: Stack, size: str, styles: list[dict[str, str]]
) -> None:
    # Given a phone photo (iPhone's 24 MP default, or its 48 MP mode), uploaded as the page does
    path = phone_photo_file(size)
    width, height = PHONE_SIZES[size]
    content = upload_through_presigned_post(path.read_bytes())
    body: dict[str, Any] = {"content": content, "styles": styles}
    if len(styles) > 1:
        body["mix"] = "regions"
    # When the job is posted, it answers with the size it paints: the photo's own
    response = call_api("POST", "/jobs", body)
    assert response.status == 202, response.body
    assert response.body["painting"] == {
        "width": width, "height": height, "reduced": False, "photo_width": width, "photo_height": height
    }  # fmt: skip
    # and once the worker has run it (given Lambda's longest time: a busy machine paints slowly), the
    # picture (and the map) is the photo's size, painted
    context = LambdaContext(Function.WORKER.local_name, timeout_seconds=900)
    assert run_worker(aws.receive(), context) == {"batchItemFailures": []}
    job = call_api("GET", f"/jobs/{response.body['job_id']}").body
    assert job["status"] == "succeeded", job
    assert (job["result"]["width"], job["result"]["height"]) == (width, height)
    picture = _fetch(job["result"]["url"])
    assert picture.size == (width, height)
    photo = Image.open(path).convert("RGB").reduce(8)
    difference = np.abs(np.asarray(picture.reduce(8), np.float32) - np.asarray(photo, np.float32)).mean()
    assert difference > 20, f"the result is too close to the photo (mean difference {difference:.1f})"
    if len(styles) > 1:
        regions = Image.open(io.BytesIO(requests.get(job["result"]["regions_url"], timeout=30).content))
        assert regions.size == (width, height)
        assert set(np.unique(np.asarray(regions))) == {0, 1}


def test_the_worker_paints_on_the_threads_its_memory_buys(
    monkeypatch: pytest.MonkeyPatch, weights_path: Any
) -> None:
    # Given a worker of 1,769 MB (one vCPU) on a host that shows it two CPUs or more
    import torch

    from stylemixer.neural import engine

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1769")
    monkeypatch.setattr(engine, "default_weights_path", lambda: weights_path)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        # When the worker loads its own engine for a job
        worker.default_engine()
        # Then torch paints on one thread, not one per CPU it sees
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
