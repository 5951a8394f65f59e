"""The API's request schema says exactly what the API accepts.

A job request is accepted when its model takes it and the options' rules about the styles pass; the
JSON Schema published in the OpenAPI document must agree on every request, or a client that trusts
the document (a generated client, schemathesis) is refused for a request it was told is valid.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from stylemixer.errors import StyleMixerError
from stylemixer.jobs.model import new_id
from stylemixer.jobs.schemas import JobRequest, PresetRef, UploadRequest
from stylemixer.jobs.service import check_declared_size, check_map_upload
from stylemixer.limits import MAX_CLIP_BYTES, MAX_MAP_BYTES, MAX_STYLES, MAX_UPLOAD_BYTES
from stylemixer.options import MAX_REGIONS
from stylemixer.presets import PRESET_IDS

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")
hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is a dev dependency")
st = hypothesis.strategies

JOB_SCHEMA = jsonschema.Draft202012Validator(JobRequest.model_json_schema())


def _accepted(body: dict[str, Any]) -> bool:
    """What the API does with ``body`` before it looks for the uploads: accept it, or refuse it."""
    try:
        request = JobRequest.model_validate(body)
        n_presets = sum(isinstance(s, PresetRef) for s in request.styles)
        request.validate(len(request.styles), n_presets=n_presets)
    except (ValidationError, StyleMixerError):
        return False
    return True


_style = st.one_of(
    st.builds(lambda p: {"preset": p}, st.sampled_from(PRESET_IDS[:3])), st.just({"upload": "1" * 32})
)
_weight = st.sampled_from([0, 0.0, 0.5, 1, 3.0, -1, 1e308])
_requests = st.fixed_dictionaries(
    {"content": st.just("0" * 32), "styles": st.lists(_style, max_size=MAX_STYLES + 1)},
    optional={
        "mix": st.sampled_from(["blend", "regions", "collage"]),
        "weights": st.one_of(st.none(), st.lists(_weight, max_size=MAX_STYLES + 1)),
        "regions": st.one_of(st.none(), st.integers(0, MAX_REGIONS + 1), st.just(3.0)),
        "strength": st.sampled_from([0, 1, 0.5, 1.5]),
        "max_size": st.sampled_from([None, 64, 64.0, 63, 100.5]),
        "regions_map": st.sampled_from([None, "2" * 32]),
        "reduced_from": st.sampled_from(
            [
                None,
                {"width": 9000, "height": 40},
                {"width": 9000.0, "height": 40},
                {"width": 9000.5, "height": 40},
                {"width": 0, "height": 40},
                {"width": 40000, "height": 40},
                {"width": "9000", "height": 40},
                {"width": 9000},
                {"width": 9000, "height": 40, "depth": 8},
            ]
        ),
    },
)


@hypothesis.given(body=_requests)
@hypothesis.settings(max_examples=600, deadline=None, derandomize=True)
def test_the_schema_accepts_exactly_what_the_api_accepts(body: dict[str, Any]) -> None:
    assert JOB_SCHEMA.is_valid(body) == _accepted(body), body


@pytest.mark.parametrize(
    "body",
    [
        {"styles": [{"preset": "tapestry"}, {"preset": "grey-ink"}], "weights": [1]},  # one weight per style
        {"styles": [{"preset": "tapestry"}, {"preset": "grey-ink"}], "weights": [0, 0]},  # one above 0
        {"styles": [{"preset": "tapestry"}], "mix": "regions"},  # regions place two styles or more
        {"styles": [{"preset": p} for p in PRESET_IDS[:3]], "mix": "regions", "regions": 2},  # one each
        {"styles": [{"preset": "tapestry"}, {"upload": "1" * 32}]},  # a blend of both kinds
    ],
)
def test_rules_about_the_styles_are_stated_in_the_schema(body: dict[str, Any]) -> None:
    body = {"content": new_id(), **body}
    assert not JOB_SCHEMA.is_valid(body)
    assert not _accepted(body)


def test_ids_presets_and_sizes_are_stated_with_their_bounds() -> None:
    job = JobRequest.model_json_schema()
    content = job["properties"]["content"]
    assert content["pattern"] == "^[0-9a-f]{32}$"
    preset = job["$defs"]["PresetRef"]["properties"]["preset"]
    assert preset["enum"] == list(PRESET_IDS)
    upload = UploadRequest.model_json_schema()
    size = upload["properties"]["size"]
    # A clip may be larger than a picture: the schema bounds every upload by the larger, and each
    # kind by its own in the rule beside it
    assert (size["type"], size["minimum"], size["maximum"]) == ("integer", 1, MAX_CLIP_BYTES)
    kinds = upload["allOf"][0]["anyOf"]
    assert [kind["properties"]["size"]["maximum"] for kind in kinds] == [MAX_UPLOAD_BYTES, MAX_CLIP_BYTES]


@pytest.mark.parametrize("size", [1, 1.0, MAX_UPLOAD_BYTES, float(MAX_UPLOAD_BYTES)])
def test_a_size_the_schema_calls_a_whole_number_is_one(size: float) -> None:
    request = UploadRequest.model_validate({"purpose": "content", "content_type": "image/png", "size": size})
    assert request.size == int(size)


UPLOAD_SCHEMA = jsonschema.Draft202012Validator(UploadRequest.model_json_schema())


def _upload_accepted(body: dict[str, Any]) -> bool:
    """What the API does with an upload request before it signs anything: accept it, or refuse it."""
    try:
        request = UploadRequest.model_validate(body)
        check_declared_size(request.size, request.content_type, request.purpose)
        if request.purpose == "map":
            check_map_upload(request.content_type, request.size)
    except (ValidationError, StyleMixerError):
        return False
    return True


@hypothesis.given(
    body=st.fixed_dictionaries(
        {
            "purpose": st.sampled_from(["content", "style", "map", "avatar"]),
            "content_type": st.sampled_from(
                ["image/png", "image/jpeg", "image/heic", "image/gif", "video/mp4", "video/quicktime"]
            ),
            "size": st.sampled_from(
                [
                    0,
                    1,
                    5000,
                    MAX_MAP_BYTES,
                    MAX_MAP_BYTES + 1,
                    MAX_UPLOAD_BYTES,
                    MAX_UPLOAD_BYTES + 1,
                    MAX_CLIP_BYTES,
                    MAX_CLIP_BYTES + 1,
                ]
            ),
        }
    )
)
@hypothesis.settings(max_examples=500, deadline=None, derandomize=True)
def test_the_upload_schema_accepts_exactly_what_the_api_accepts(body: dict[str, Any]) -> None:
    assert UPLOAD_SCHEMA.is_valid(body) == _upload_accepted(body), body
