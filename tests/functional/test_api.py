"""The HTTP API, route by route and error code by error code, against moto."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from stylemixer import resources
from stylemixer.jobs.model import ID_PATTERN, new_id
from stylemixer.jobs.service import UPLOAD_URL_SECONDS
from stylemixer.limits import MAX_CLIP_BYTES, MAX_SIDE, MAX_STYLES, MAX_UPLOAD_BYTES, UPLOAD_REUSE_SECONDS
from stylemixer.presets import PRESETS
from tests.support import imagefiles as files
from tests.support.aws import (
    Stack,
    api_event,
    as_owner,
    call_api,
    invoke_api,
    upload_through_presigned_post,
)
from tests.support.environment import SITE_ORIGIN
from tests.support.pictures import sample_jpeg

pytestmark = pytest.mark.usefixtures("aws")

PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _photo_bytes() -> bytes:
    return sample_jpeg("chelsea")


def _content(aws: Stack, data: bytes | None = None) -> str:
    upload_id = new_id()
    aws.put_upload("content", upload_id, _photo_bytes() if data is None else data)
    return upload_id


def _assert_error(response: Any, status: int, code: str) -> None:
    assert response.status == status, response.body
    assert set(response.body) == {"error"}
    assert response.body["error"]["code"] == code
    assert isinstance(response.body["error"]["message"], str)
    assert len(response.body["error"]["message"]) > 10


# -- meta routes ---------------------------------------------------------------------------------


def test_health_answers_ok() -> None:
    # When
    response = call_api("GET", "/health")
    # Then
    assert response.status == 200
    assert response.body == {"status": "ok"}


def test_styles_lists_every_preset_with_a_site_relative_thumbnail() -> None:
    # When
    response = call_api("GET", "/styles")
    # Then
    assert response.status == 200
    styles = response.body["styles"]
    assert [s["id"] for s in styles] == [p.id for p in PRESETS]
    assert styles[16] == {
        "id": "swirling-night",
        "name": "Swirling night",
        "thumbnail_url": "/presets/swirling-night.jpg",
    }


def test_styles_thumbnails_are_absolute_when_the_site_url_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    from functions.api import handler as api

    monkeypatch.setattr(
        api, "SETTINGS", api.SETTINGS.model_copy(update={"site_url": "https://site.example/"})
    )
    # When
    response = call_api("GET", "/styles")
    # Then
    assert response.body["styles"][0]["thumbnail_url"] == "https://site.example/presets/soft-pastel.jpg"


def test_cors_answers_the_site_origin_only() -> None:
    # When
    preflight = call_api(
        "OPTIONS", "/jobs", headers={"origin": SITE_ORIGIN, "access-control-request-method": "POST"}
    )
    allowed = call_api("GET", "/health", headers={"origin": SITE_ORIGIN})
    foreign = call_api("GET", "/health", headers={"origin": "https://evil.example"})
    # Then
    assert preflight.status == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert "access-control-allow-origin" not in foreign.headers


# -- uploads -------------------------------------------------------------------------------------


def test_upload_returns_a_presigned_post_scoped_to_one_key_with_size_and_type_in_the_policy() -> None:
    # When
    before = datetime.now(UTC)
    response = call_api("POST", "/uploads", {"purpose": "style", "content_type": "image/png", "size": 12345})
    after = datetime.now(UTC)
    # Then
    assert response.status == 201, response.body
    ticket = response.body
    assert len(ticket["upload_id"]) == 32
    assert ticket["fields"]["key"] == f"uploads/style/{ticket['upload_id']}"
    assert ticket["fields"]["Content-Type"] == "image/png"
    assert ticket["max_bytes"] == 12345
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    assert ["content-length-range", 1, 12345] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert {"key": ticket["fields"]["key"]} in policy["conditions"]
    # And the signed expiry and the stated one are both the upload window from the moment of the
    # call (bounded by clocks read before and after it, so however long the call takes; one second
    # either side for the whole seconds the two are written in)
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    stated = datetime.fromisoformat(ticket["expires_at"].replace("Z", "+00:00"))
    window = timedelta(seconds=UPLOAD_URL_SECONDS)
    for moment in (expires, stated):
        assert before + window - timedelta(seconds=1) <= moment <= after + window + timedelta(seconds=1)
    assert window <= timedelta(minutes=15)


def test_upload_ids_differ_every_time() -> None:
    ids = {
        call_api("POST", "/uploads", {"purpose": "content", "content_type": "image/jpeg", "size": 10}).body[
            "upload_id"
        ]
        for _ in range(5)
    }
    assert len(ids) == 5


def test_upload_larger_than_the_limit_is_refused_before_signing(aws: Stack) -> None:
    # When
    body = {"purpose": "content", "content_type": "image/jpeg", "size": MAX_UPLOAD_BYTES + 1}
    response = call_api("POST", "/uploads", body)
    # Then
    _assert_error(response, 413, "ImageTooLarge")
    assert response.body["error"]["message"].endswith("the largest picture accepted is 64 MB.")
    at_limit = call_api("POST", "/uploads", {**body, "size": MAX_UPLOAD_BYTES})
    assert at_limit.status == 201
    # And JSON's whole numbers are whole numbers, as the document's "integer" says
    assert call_api("POST", "/uploads", {**body, "size": float(MAX_UPLOAD_BYTES)}).status == 201
    _assert_error(call_api("POST", "/uploads", {**body, "size": 80.0 * 2**20}), 413, "ImageTooLarge")


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "content", "content_type": "image/gif", "size": 10},
        {"purpose": "content", "content_type": "image/svg+xml", "size": 10},
        {"purpose": "avatar", "content_type": "image/jpeg", "size": 10},
        {"purpose": "content", "content_type": "image/jpeg", "size": 0},
        {"purpose": "content", "content_type": "image/jpeg", "size": -5},
        {"purpose": "content", "content_type": "image/jpeg", "size": "10"},
        {"purpose": "content", "content_type": "image/jpeg"},
        {"purpose": "content", "content_type": "image/jpeg", "size": 10, "acl": "public-read"},
        [],
        "content",
    ],
    ids=[
        "gif",
        "svg",
        "purpose",
        "size-0",
        "size-negative",
        "size-string",
        "size-missing",
        "unknown-field",
        "array",
        "string",
    ],
)
def test_upload_request_out_of_shape_is_a_422(body: Any) -> None:
    # When
    response = call_api("POST", "/uploads", body)
    # Then
    _assert_error(response, 422, "ValidationError")


# -- jobs: accepted ------------------------------------------------------------------------------


def test_job_is_queued_stored_and_enqueued(aws: Stack) -> None:
    # Given
    content = _content(aws)
    # When
    response = call_api(
        "POST",
        "/jobs",
        {
            "content": content,
            "styles": [{"preset": "tapestry"}, {"preset": "terracotta"}],
            "weights": [2, 1],
            "strength": 0.8,
            "format": "png",
            "max_size": 512,
        },
    )
    # Then
    assert response.status == 202, response.body
    job_id, token = response.body["job_id"], response.body["owner_token"]
    # (the cat photo, 451 x 300, is painted at its own size within the 512 px asked for)
    painting = {"width": 451, "height": 300, "reduced": False, "photo_width": 451, "photo_height": 300}
    assert response.body == {
        "job_id": job_id,
        "status": "queued",
        "links": {"self": f"/jobs/{job_id}"},
        "owner_token": token,
        "painting": painting,
    }
    assert response.headers["location"] == f"/jobs/{job_id}"
    item = aws.job_item(job_id)
    assert item is not None
    assert item["status"]["S"] == "queued"
    # And only the token's hash is stored, never the token
    assert item["owner_hash"]["S"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(item)
    assert json.loads(item["params"]["S"])["weights"] == [2.0, 1.0]
    assert int(item[resources.TABLE_TTL_ATTRIBUTE]["N"]) > datetime.now(UTC).timestamp() + 6 * 86400
    messages = aws.receive()
    assert [json.loads(m["Body"]) for m in messages] == [{"job_id": job_id}]


def test_region_controls_are_stored_with_the_job(aws: Stack) -> None:
    # Given a regions job that sets every region control
    body = {
        "content": _content(aws),
        "styles": [{"preset": "tapestry"}, {"preset": "terracotta"}],
        "mix": "regions",
        "regions": 3,
        "position_weight": 1.5,
        "edge_softness": 0.6,
    }
    # When it is submitted
    response = call_api("POST", "/jobs", body)
    # Then the worker will read the same controls from the stored job
    assert response.status == 202, response.body
    params = json.loads(aws.job_item(response.body["job_id"])["params"]["S"])
    assert (params["regions"], params["position_weight"], params["edge_softness"]) == (3, 1.5, 0.6)
    assert [json.loads(m["Body"])["job_id"] for m in aws.receive()] == [response.body["job_id"]]


@pytest.mark.parametrize(
    "change", [{"regions": 1}, {"regions": 9}, {"position_weight": -1}, {"edge_softness": 1.5}]
)
def test_region_controls_out_of_range_are_a_422(aws: Stack, change: dict[str, Any]) -> None:
    body = {"content": _content(aws), "styles": [{"preset": "tapestry"}, {"preset": "terracotta"}]}
    response = call_api("POST", "/jobs", {**body, "mix": "regions", **change})
    _assert_error(response, 422, "ValidationError")
    assert aws.receive() == []


def test_job_status_of_a_queued_job(aws: Stack) -> None:
    # Given
    job_id = call_api("POST", "/jobs", {"content": _content(aws), "styles": [{"preset": "tapestry"}]}).body[
        "job_id"
    ]
    # When
    response = call_api("GET", f"/jobs/{job_id}")
    # Then
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.body["status"] == "queued"
    assert response.body["progress"] == 0
    assert response.body["stage"] == "queued"
    assert response.body.get("result") is None
    assert response.body.get("error") is None
    assert response.body["created_at"].endswith("Z")


def test_request_without_a_content_type_header_is_read_as_json(aws: Stack) -> None:
    # Given
    body = json.dumps({"content": _content(aws), "styles": [{"preset": "tapestry"}]})
    event_headers = {"content-type": ""}
    # When
    response = call_api("POST", "/jobs", raw_body=body, headers=event_headers)
    # Then
    assert response.status == 202, response.body


def test_upload_made_through_the_presigned_post_is_accepted() -> None:
    # Given the page's two steps: a ticket, then the file POSTed straight to the bucket
    upload_id = upload_through_presigned_post(_photo_bytes())
    # When
    response = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "grey-ink"}]})
    # Then
    assert response.status == 202, response.body


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [("image/heic", files.heic), ("image/heif", files.heic), ("image/avif", files.avif)],
)
def test_a_phone_photo_is_uploaded_and_accepted_as_itself(content_type: str, encode: Any) -> None:
    # Given a phone photo (HEIC or AVIF) uploaded with the type the phone gives it
    data = encode(files.quadrants(96, 64), orientation=6)
    upload_id = upload_through_presigned_post(data, content_type=content_type)
    # When a job names it
    response = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "grey-ink"}]})
    # Then it is queued like any photo
    assert response.status == 202, response.body


# -- jobs: refused -------------------------------------------------------------------------------


def test_upload_never_made_is_refused(aws: Stack) -> None:
    ticket = call_api("POST", "/uploads", {"purpose": "content", "content_type": "image/jpeg", "size": 100})
    response = call_api(
        "POST", "/jobs", {"content": ticket.body["upload_id"], "styles": [{"preset": "tapestry"}]}
    )
    _assert_error(response, 404, "UploadNotFound")
    assert aws.receive() == []


def test_an_upload_is_named_again_by_a_later_job_until_its_window_ends(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.api import handler as api

    # Given a photo uploaded as the page does, and a first job on it
    content = upload_through_presigned_post(_photo_bytes())
    first = call_api("POST", "/jobs", {"content": content, "styles": [{"preset": "tapestry"}]})
    assert first.status == 202, first.body
    # When another try names the same upload shortly before its window ends, and again after
    stored = datetime.now(UTC)
    for hours, status in ((UPLOAD_REUSE_SECONDS / 3600 - 0.1, 202), (UPLOAD_REUSE_SECONDS / 3600 + 0.1, 410)):
        monkeypatch.setattr(api, "utcnow", lambda h=hours: stored + timedelta(hours=h))
        response = call_api("POST", "/jobs", {"content": content, "styles": [{"preset": "grey-ink"}]})
        # Then it is accepted within the window, and refused with a sentence after it
        assert response.status == status, response.body
    _assert_error(response, 410, "UploadExpired")
    assert "upload it again" in response.body["error"]["message"]
    assert len(aws.receive()) == 2


def test_a_job_says_what_was_asked_with_names_and_a_link_to_the_photo(aws: Stack) -> None:
    import requests

    # Given a regions job of a preset and a picture sent with its file name
    photo = _photo_bytes()
    content = upload_through_presigned_post(photo)
    style = upload_through_presigned_post(_photo_bytes(), purpose="style")
    body = {
        "content": content,
        "styles": [{"preset": "tapestry"}, {"upload": style, "name": "harbour, 1899.jpg"}],
        "mix": "regions",
        "regions": 3,
    }
    accepted = call_api("POST", "/jobs", body)
    job_id = accepted.body["job_id"]
    # When it is looked up by its owner
    asked = call_api("GET", f"/jobs/{job_id}", headers=as_owner(accepted)).body["request"]
    # Then it names what was asked, every option included
    assert asked["mix"] == "regions"
    assert asked["regions"] == 3
    assert asked["strength"] == 1.0
    assert [(s.get("preset"), s.get("upload"), s["name"]) for s in asked["styles"]] == [
        ("tapestry", None, "Tapestry"),
        (None, style, "harbour, 1899.jpg"),
    ]
    assert asked["styles"][0]["thumbnail_url"] == "/presets/tapestry.jpg"
    # And the photo can be seen through a presigned GET scoped like a result link
    assert asked["content"]["upload"] == content
    url = urlparse(asked["content"]["url"])
    assert url.path.endswith(f"uploads/content/{content}")
    assert int(parse_qs(url.query)["X-Amz-Expires"][0]) <= 15 * 60
    fetched = requests.get(asked["content"]["url"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == photo
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert requests.get(asked["styles"][1]["thumbnail_url"], timeout=30).status_code == 200


@pytest.mark.parametrize(
    "name", ["", "x" * 101, "line\nbreak", "tab\there", 42], ids=["empty", "101", "newline", "tab", "number"]
)
def test_a_style_picture_name_out_of_shape_is_a_422(aws: Stack, name: Any) -> None:
    style = new_id()
    aws.put_upload("style", style, _photo_bytes())
    body = {"content": _content(aws), "styles": [{"upload": style, "name": name}]}
    _assert_error(call_api("POST", "/jobs", body), 422, "ValidationError")
    assert aws.receive() == []


def test_style_upload_used_as_content_is_refused(aws: Stack) -> None:
    # Given an upload made for a style
    style_id = new_id()
    aws.put_upload("style", style_id, _photo_bytes())
    # When it is named as the content
    response = call_api("POST", "/jobs", {"content": style_id, "styles": [{"preset": "tapestry"}]})
    # Then
    _assert_error(response, 400, "WrongUploadKind")


def test_content_upload_used_as_style_is_refused(aws: Stack) -> None:
    content = _content(aws)
    response = call_api("POST", "/jobs", {"content": content, "styles": [{"upload": content}]})
    _assert_error(response, 400, "WrongUploadKind")


def test_a_new_job_answers_with_the_size_it_paints(aws: Stack) -> None:
    # Given a photo within the cap (the cat, 451 x 300)
    content = _content(aws)
    # When a job is posted for it, and another capped at 200 px
    whole = call_api("POST", "/jobs", {"content": content, "styles": [{"preset": "tapestry"}]})
    capped = call_api(
        "POST", "/jobs", {"content": content, "styles": [{"preset": "tapestry"}], "max_size": 200}
    )
    # Then each answer says the size its picture will have
    assert whole.status == capped.status == 202
    assert whole.body["painting"] == {
        "width": 451, "height": 300, "reduced": False, "photo_width": 451, "photo_height": 300
    }  # fmt: skip
    assert (capped.body["painting"]["width"], capped.body["painting"]["height"]) == (200, 133)


def test_a_photo_past_the_largest_size_painted_is_accepted_and_the_answer_says_it_is_brought_down(
    aws: Stack,
) -> None:
    # Given a photo longer than the longest side painted (a panorama, say)
    content = _content(aws, files.flat_png((MAX_SIDE + 1808, 500)))
    # When a job is posted for it
    response = call_api("POST", "/jobs", {"content": content, "styles": [{"preset": "tapestry"}]})
    # Then it is accepted, and the answer says the size it is painted at: the largest of its shape
    assert response.status == 202, response.body
    painting = {"width": MAX_SIDE, "height": 409, "reduced": True, "photo_width": 10000, "photo_height": 500}
    assert response.body["painting"] == painting
    # And the job says so too to anyone who asks for it later, without the owner's token
    later = call_api("GET", f"/jobs/{response.body['job_id']}")
    assert later.status == 200, later.body
    assert later.body["painting"] == painting


def test_a_photo_brought_down_before_it_was_sent_is_said_painted_smaller_by_the_job(aws: Stack) -> None:
    # Given the panorama brought down before it was sent, as the page does: 10000 x 500 sent as 8192 x 409
    content = _content(aws, files.flat_png((MAX_SIDE, 409)))
    # When a job is posted for it with the photo's own size
    body = {
        "content": content,
        "styles": [{"preset": "tapestry"}],
        "reduced_from": {"width": 10000, "height": 500},
    }
    response = call_api("POST", "/jobs", body)
    # Then the answer and the job say it is painted smaller than the photo
    assert response.status == 202, response.body
    painting = {"width": MAX_SIDE, "height": 409, "reduced": True, "photo_width": 10000, "photo_height": 500}
    assert response.body["painting"] == painting
    assert call_api("GET", f"/jobs/{response.body['job_id']}").body["painting"] == painting
    # And a size that does not bring down to the photo sent is refused
    wrong = call_api("POST", "/jobs", {**body, "reduced_from": {"width": 10000, "height": 900}})
    _assert_error(wrong, 400, "InvalidRequest")


def test_a_photo_whose_header_claims_an_absurd_size_is_refused_before_anything_is_queued(aws: Stack) -> None:
    # Given a PNG whose header claims 40000 x 40000 pixels (a decompression bomb: a few bytes of data)
    content = _content(aws, files.png_claiming(40000, 40000))
    # When a job is posted for it
    response = call_api("POST", "/jobs", {"content": content, "styles": [{"preset": "tapestry"}]})
    # Then it is refused from the header with a 413 that says the size, and nothing is queued
    _assert_error(response, 413, "ImageDimensionsTooLarge")
    assert "40000 × 40000" in response.body["error"]["message"]
    assert aws.receive() == []


def test_upload_larger_than_allowed_is_refused_though_the_bucket_took_it(aws: Stack) -> None:
    # Given an object past the limit (moto, like the local stand-in, does not enforce the POST policy)
    content = _content(aws, PNG_HEAD + bytes(MAX_UPLOAD_BYTES))
    # When
    response = call_api("POST", "/jobs", {"content": content, "styles": [{"preset": "tapestry"}]})
    # Then
    _assert_error(response, 413, "ImageTooLarge")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "EmptyImage"),
        (b"hello, I am text pretending to be a JPEG\n" * 10, 415, "NotAnImage"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(30), 415, "UnsupportedImageType"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            415,
            "UnsupportedImageType",
        ),
    ],
    ids=["empty", "text", "gif", "svg"],
)
def test_upload_whose_bytes_are_not_an_accepted_picture_is_refused(
    aws: Stack, data: bytes, status: int, code: str
) -> None:
    # Given a file that was declared image/jpeg
    content = _content(aws, data)
    # When
    response = call_api("POST", "/jobs", {"content": content, "styles": [{"preset": "tapestry"}]})
    # Then
    _assert_error(response, status, code)
    assert aws.receive() == []


def test_style_upload_is_checked_too(aws: Stack) -> None:
    style_id = new_id()
    aws.put_upload("style", style_id, b"not a picture at all, just words" * 4)
    response = call_api("POST", "/jobs", {"content": _content(aws), "styles": [{"upload": style_id}]})
    _assert_error(response, 415, "NotAnImage")


def test_blend_of_a_preset_and_a_picture_is_refused_before_queueing(aws: Stack) -> None:
    # Given a style picture and a preset, blended (their networks share no style space)
    style_id = new_id()
    aws.put_upload("style", style_id, _photo_bytes())
    styles = [{"preset": "tapestry"}, {"upload": style_id}]
    # When the job is submitted as a blend, Then it is a 400 and nothing is queued
    response = call_api("POST", "/jobs", {"content": _content(aws), "styles": styles, "mix": "blend"})
    _assert_error(response, 400, "MixedStyleKinds")
    assert aws.receive() == []


def test_unknown_preset_is_refused(aws: Stack) -> None:
    response = call_api("POST", "/jobs", {"content": _content(aws), "styles": [{"preset": "mona-lisa"}]})
    _assert_error(response, 400, "UnknownStyle")
    assert "mona-lisa" in response.body["error"]["message"]
    assert aws.receive() == []


@pytest.mark.parametrize(
    "styles",
    [
        [{"preset": "<b>mona</b>"}],  # not the shape of an id: never repeated in a message
        [{"preset": "mona-lisa", "upload": "0" * 32}],
        [{"preset": 7}],
    ],
)
def test_a_preset_that_cannot_be_one_is_a_422(aws: Stack, styles: list[Any]) -> None:
    response = call_api("POST", "/jobs", {"content": _content(aws), "styles": styles})
    _assert_error(response, 422, "ValidationError")
    assert "<b>" not in response.body["error"]["message"]


def test_an_unknown_preset_with_another_mistake_is_a_422(aws: Stack) -> None:
    # Given a request with an unknown preset and a strength out of bounds, Then the schema speaks for both
    body = {"content": _content(aws), "styles": [{"preset": "mona-lisa"}], "strength": 2}
    _assert_error(call_api("POST", "/jobs", body), 422, "ValidationError")


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"weights": [1, 2]}, "InvalidWeights"),
        ({"weights": [0]}, "InvalidWeights"),
        ({"mix": "regions"}, "InvalidMix"),
    ],
    ids=["weights-count", "weights-zero", "regions-one-style"],
)
def test_rules_across_fields_are_refused_with_their_code(
    aws: Stack, extra: dict[str, Any], code: str
) -> None:
    body = {"content": _content(aws), "styles": [{"preset": "tapestry"}], **extra}
    response = call_api("POST", "/jobs", body)
    _assert_error(response, 400, code)


@pytest.mark.parametrize(
    "change",
    [
        {"styles": [{"preset": p.id} for p in PRESETS[: MAX_STYLES + 1]]},
        {"styles": []},
        {"styles": [{"preset": "tapestry", "upload": "0" * 32}]},
        {"weights": [-1]},
        {"strength": 2},
        {"strength": -0.1},
        {"max_size": 0},
        {"max_size": 10**9},
        {"max_size": 256.5},
        {"format": "gif"},
        {"mix": "collage"},
        {"stroke": "huge"},
        {"preserve_color": "yes"},
        {"content": "../../etc/passwd"},
        {"content": "0" * 31},
        {"content": None},
        {"colour": "blue"},
    ],
    ids=[
        "5-styles",
        "no-styles",
        "both-kinds",
        "weight-negative",
        "strength-2",
        "strength-negative",
        "max-size-0",
        "max-size-huge",
        "max-size-float",
        "format",
        "mix",
        "stroke",
        "bool-as-string",
        "path-like-id",
        "short-id",
        "null-id",
        "unknown-field",
    ],
)
def test_job_request_out_of_bounds_is_a_422(aws: Stack, change: dict[str, Any]) -> None:
    # Given
    body = {"content": _content(aws), "styles": [{"preset": "tapestry"}], **change}
    # When
    response = call_api("POST", "/jobs", body)
    # Then
    _assert_error(response, 422, "ValidationError")
    assert "../" not in response.body["error"]["message"]
    assert aws.receive() == []


def test_nan_weight_is_refused(aws: Stack) -> None:
    # Given JSON with a bare NaN (Python's json accepts it; we must not)
    raw = f'{{"content": "{_content(aws)}", "styles": [{{"preset": "tapestry"}}], "weights": [NaN]}}'
    response = call_api("POST", "/jobs", raw_body=raw)
    _assert_error(response, 422, "ValidationError")


def test_malformed_json_is_a_400() -> None:
    response = call_api("POST", "/jobs", raw_body='{"content": "abc", ')
    _assert_error(response, 400, "MalformedJson")


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("[" * 5000 + "]" * 5000, False),
        (base64.b64encode(b'{"content": "\xff\xfe"}').decode(), True),
        ("!!! not base64 ***", True),
        ("   ", False),
    ],
    ids=["nested-5000-deep", "invalid-utf8", "invalid-base64", "whitespace"],
)
def test_unreadable_body_is_a_400_not_a_500(raw: str, encoded: bool) -> None:
    # Given a body whose parser errors are not JSON errors
    event = api_event("POST", "/jobs", raw_body=raw)
    event["isBase64Encoded"] = encoded
    # When
    response = invoke_api(event)
    # Then
    assert (response.status, response.body["error"]["code"]) == (400, "MalformedJson")


def test_base64_encoded_body_is_read() -> None:
    body = json.dumps({"purpose": "content", "content_type": "image/png", "size": 5}).encode()
    event = api_event("POST", "/uploads", raw_body=base64.b64encode(body).decode())
    event["isBase64Encoded"] = True
    assert invoke_api(event).status == 201


def test_missing_body_is_a_422() -> None:
    response = call_api("POST", "/jobs")
    _assert_error(response, 422, "ValidationError")


def test_megabyte_body_is_refused_unparsed() -> None:
    raw = json.dumps({"content": "0" * 32, "styles": [{"preset": "tapestry"}], "pad": "x" * (1 << 20)})
    response = call_api("POST", "/jobs", raw_body=raw, headers={"origin": SITE_ORIGIN})
    _assert_error(response, 413, "RequestTooLarge")
    assert response.headers["access-control-allow-origin"] == SITE_ORIGIN


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/json",
    ],
)
def test_wrong_body_type_is_a_415(content_type: str) -> None:
    # (a multipart type without its boundary was a 500: Powertools parses forms itself)
    headers = {"content-type": content_type}
    response = call_api("POST", "/uploads", raw_body="purpose=content", headers=headers)
    _assert_error(response, 415, "UnsupportedMediaType")


def test_queue_failure_leaves_no_job_queued(aws: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a queue that cannot be reached
    from functions.api import handler as api

    deps = api.adapters()

    def broken(_job_id: str) -> None:
        raise ConnectionError("sqs.eu-west-1.amazonaws.com unreachable")

    monkeypatch.setattr(deps.queue, "send", broken)
    # When
    response = call_api("POST", "/jobs", {"content": _content(aws), "styles": [{"preset": "tapestry"}]})
    # Then a plain 500, and the job that was written is failed, not left queued
    _assert_error(response, 500, "InternalError")
    assert "sqs" not in json.dumps(response.body)
    items = aws.dynamodb.scan(TableName=resources.JOBS_TABLE)["Items"]
    assert [i["status"]["S"] for i in items] == ["failed"]


# -- job status ----------------------------------------------------------------------------------


@pytest.mark.parametrize("job_id", ["abc", "0" * 31, "0" * 33, "Z" * 32, "..", "%2e%2e", "0" * 32 + ".."])
def test_malformed_job_id_is_a_400(job_id: str) -> None:
    response = call_api("GET", f"/jobs/{job_id}")
    _assert_error(response, 400, "InvalidJobId")


@pytest.mark.parametrize("path", ["/jobs/../uploads", "/jobs/a/b", "/jobs/"])
def test_path_like_job_ids_never_reach_a_job(path: str) -> None:
    response = call_api("GET", path)
    assert response.status in (400, 404, 405)
    assert set(response.body) == {"error"}


def test_unknown_job_is_a_404() -> None:
    response = call_api("GET", f"/jobs/{new_id()}")
    _assert_error(response, 404, "JobNotFound")


# -- routing and failures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/jobs/" + "0" * 32, "DELETE, GET"),
        ("PUT", "/jobs", "POST"),
        ("GET", "/uploads", "POST"),
        ("POST", "/health", "GET"),
        ("PATCH", "/styles", "GET"),
    ],
)
def test_wrong_method_is_a_405(method: str, path: str, allow: str) -> None:
    response = call_api(method, path)
    _assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == allow


def test_unknown_route_is_a_404() -> None:
    response = call_api("GET", "/admin")
    _assert_error(response, 404, "NotFound")


def test_unexpected_failure_is_a_plain_500_that_leaks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bug deep inside
    from stylemixer.jobs import service

    def broken(_site_url: str | None) -> None:
        raise RuntimeError("secret table name stylemixer-jobs at /var/task/stylemixer/jobs/service.py")

    monkeypatch.setattr(service, "list_styles", broken)
    # When
    response = call_api("GET", "/styles")
    # Then
    assert response.status == 500
    assert response.body == {
        "error": {
            "code": "InternalError",
            "message": "Something went wrong on our side. Please try again in a few minutes.",
        }
    }


def test_a_response_that_breaks_its_own_model_is_our_500(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bug that returns the wrong shape
    from stylemixer.jobs import service

    monkeypatch.setattr(service, "list_styles", lambda _site_url: {"styles": "not a list"})
    # When
    response = call_api("GET", "/styles")
    # Then the caller is not blamed with a 422
    _assert_error(response, 500, "InternalError")


# -- OpenAPI -------------------------------------------------------------------------------------


def test_openapi_document_validates_and_lists_every_route() -> None:
    # Given
    from openapi_spec_validator import validate

    # When
    response = call_api("GET", "/openapi.json")
    # Then
    assert response.status == 200
    document = response.body
    validate(document)
    assert {(path, method) for path, ops in document["paths"].items() for method in ops} == {
        ("/health", "get"),
        ("/styles", "get"),
        ("/uploads", "post"),
        ("/jobs", "post"),
        ("/jobs/{job_id}", "get"),
        ("/jobs/{job_id}", "delete"),
        ("/openapi.json", "get"),
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, method, status)
    job_request = document["components"]["schemas"]["JobRequest"]
    assert job_request["additionalProperties"] is False
    assert job_request["properties"]["strength"]["maximum"] == 1.0
    # And a job's view says the size it paints at, described, as the answer to POST /jobs does
    for answer in ("JobOut", "JobAccepted"):
        painting = document["components"]["schemas"][answer]["properties"]["painting"]
        assert {"$ref": "#/components/schemas/PaintingOut"} in painting["anyOf"], answer
        assert painting["description"], answer


def test_openapi_document_states_ids_presets_and_sizes() -> None:
    # Given the served document
    document = call_api("GET", "/openapi.json").body
    schemas = document["components"]["schemas"]
    # Then the job id in the path has the pattern of our ids
    (job_id,) = document["paths"]["/jobs/{job_id}"]["get"]["parameters"]
    assert (job_id["in"], job_id["schema"]["pattern"]) == ("path", ID_PATTERN)
    # And upload ids, preset ids and the declared size have theirs
    assert schemas["JobRequest"]["properties"]["content"]["pattern"] == ID_PATTERN
    assert schemas["UploadRef"]["properties"]["upload"]["pattern"] == ID_PATTERN
    assert schemas["PresetRef"]["properties"]["preset"]["enum"] == [p.id for p in PRESETS]
    size = schemas["UploadRequest"]["properties"]["size"]
    # (the largest file of any kind, a clip; a picture's own limit is the request's rule by kind)
    assert (size["type"], size["minimum"], size["maximum"]) == ("integer", 1, MAX_CLIP_BYTES)
    (by_kind,) = schemas["UploadRequest"]["allOf"]
    picture, clip = by_kind["anyOf"]
    assert picture["properties"]["size"] == {"maximum": MAX_UPLOAD_BYTES}
    assert (clip["properties"]["purpose"], clip["properties"]["size"]) == (
        {"const": "content"},
        {"maximum": MAX_CLIP_BYTES},
    )
    # And the options' allowed values are enums
    assert schemas["Mix"]["enum"] == ["blend", "regions"]
    assert schemas["OutputFormat"]["enum"] == ["jpeg", "png", "webp"]
    assert schemas["Stroke"]["enum"] == ["fine", "medium", "coarse"]


def test_result_links_are_presigned_with_the_right_type(aws: Stack) -> None:
    # Given a succeeded job (stored as the worker stores it)
    from functions.api import handler as api
    from stylemixer.jobs.model import JobResult, utcnow

    job_id = call_api(
        "POST", "/jobs", {"content": _content(aws), "styles": [{"preset": "tapestry"}], "format": "webp"}
    ).body["job_id"]
    repo = api.adapters().repo
    repo.start(job_id, utcnow())
    repo.succeed(job_id, JobResult(f"results/{job_id}.webp", 640, 480, "webp"), utcnow())
    # When
    body = call_api("GET", f"/jobs/{job_id}").body
    # Then
    assert body["status"] == "succeeded"
    assert body["progress"] == 100
    result = body["result"]
    assert (result["width"], result["height"], result["format"]) == (640, 480, "webp")
    url = urlparse(result["url"])
    query = parse_qs(url.query)
    assert url.path.endswith(f"results/{job_id}.webp")
    assert query["response-content-type"] == ["image/webp"]
    assert int(query["X-Amz-Expires"][0]) <= 3600
    assert result.get("regions_url") is None
