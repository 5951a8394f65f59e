"""config.json's description of a job request: what the page builds its choices from.

Each figure is checked against what the API really accepts (its request schema and validation),
so the page can neither offer a value the API refuses nor miss one it takes.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

import pytest
from pydantic import ValidationError

from stylemixer.errors import InvalidRequestError
from stylemixer.jobs.model import JobParams, is_valid_id, new_id
from stylemixer.jobs.schemas import JobRequest
from stylemixer.page import request_description, site_config
from stylemixer.styles import check_blend_kinds

UPLOAD = "0123456789abcdef0123456789abcdef"
#: The fields of a request that are not options (the pictures and their weights).
NOT_OPTIONS = {"content", "styles", "weights"}


def _schema_property(name: str) -> dict[str, Any]:
    """The request schema's property ``name``, with a nullable ``anyOf`` folded into one dict."""
    prop = dict(JobRequest.model_json_schema()["properties"][name])
    for branch in prop.pop("anyOf", []):
        if branch.get("type") != "null":
            prop.update(branch)
    return prop


def _request(**options: Any) -> JobRequest:
    return JobRequest.model_validate({"content": UPLOAD, "styles": [{"preset": "tapestry"}], **options})


def test_every_option_of_a_request_is_described_and_nothing_else() -> None:
    described = request_description()["options"]

    assert set(described) == set(JobRequest.model_fields) - NOT_OPTIONS
    assert set(described) == {f.name for f in fields(JobParams)} - NOT_OPTIONS


@pytest.mark.parametrize("name", sorted(set(JobRequest.model_fields) - NOT_OPTIONS))
def test_each_option_states_what_the_api_schema_accepts(name: str) -> None:
    option = request_description()["options"][name]
    schema = _schema_property(name)

    # Then the type, allowed values, bounds and default are the API's own
    assert option["type"] == schema["type"]
    assert option.get("enum") == schema.get("enum")
    assert option.get("minimum") == schema.get("minimum")
    assert option.get("maximum") == schema.get("maximum")
    assert option["default"] == schema["default"]
    # And a person gets a title, a sentence of help, and a label for each allowed value
    assert option["title"]
    assert option["description"].rstrip().endswith(".")
    if "enum" in option:
        assert list(option["labels"]) == option["enum"]
        assert all(option["labels"].values())
    else:
        assert "labels" not in option


@pytest.mark.parametrize("name", [n for n, o in request_description()["options"].items() if "minimum" in o])
def test_the_bounds_are_accepted_and_past_them_refused(name: str) -> None:
    option = request_description()["options"][name]
    step = 1 if option["type"] == "integer" else 0.01

    # When a request asks for each bound, then just past it
    for bound in (option["minimum"], option["maximum"]):
        assert getattr(_request(**{name: bound}), name) == bound
    for past in (option["minimum"] - step, option["maximum"] + step):
        with pytest.raises(ValidationError):
            _request(**{name: past})


@pytest.mark.parametrize("name", [n for n, o in request_description()["options"].items() if "enum" in o])
def test_every_allowed_value_is_accepted(name: str) -> None:
    for value in request_description()["options"][name]["enum"]:
        assert getattr(_request(**{name: value}), name) == value
    with pytest.raises(ValidationError):
        _request(**{name: "none-of-these"})


def test_the_id_pattern_is_the_servers_rule() -> None:
    pattern = re.compile(request_description()["id_pattern"])
    samples = [new_id(), UPLOAD, UPLOAD.upper(), UPLOAD[:-1], UPLOAD + "0", "0", "../" + UPLOAD[3:], ""]

    for sample in samples:
        assert (pattern.search(sample) is not None) == is_valid_id(sample), sample


def test_the_config_is_plain_json_with_the_request_and_the_mixed_kinds_sentence() -> None:
    config = json.loads(json.dumps(site_config("/api")))

    assert config["request"] == request_description()
    assert config["request"]["max_styles"] == config["max_styles"] == 4
    # And the sentence the page shows before uploading is the one the API refuses with
    with pytest.raises(InvalidRequestError) as refused:
        check_blend_kinds(1, 1, "blend")
    assert config["messages"] == {refused.value.code: refused.value.message}


def test_each_call_returns_its_own_copy() -> None:
    first = request_description()
    first["options"]["stroke"]["enum"].append("huge")

    assert request_description()["options"]["stroke"]["enum"] == ["fine", "medium", "coarse"]
