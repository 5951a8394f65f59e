"""config.json, and its description of a job request: what the page builds its choices from.

The description is generated from the one description of a request; these tests pin its shape (the
page reads exactly these keys) and check each figure against what the API really accepts (its
request schema and validation), so the page can neither offer a value the API refuses nor miss one
it takes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from stylemixer.errors import InvalidRequestError
from stylemixer.jobs.model import is_valid_id, new_id
from stylemixer.jobs.schemas import JobRequest
from stylemixer.options import StylizeOptions
from stylemixer.page import request_description, site_config

UPLOAD = "0123456789abcdef0123456789abcdef"
#: The fields of a request that are not options (the pictures, their weights, the photo's own size).
NOT_OPTIONS = {"content", "styles", "weights", "regions_map", "reduced_from"}
#: The options config.json describes, in the order the page may rely on.
OPTIONS = [
    "mix",
    "strength",
    "preserve_color",
    "max_size",
    "stroke",
    "format",
    "regions",
    "position_weight",
    "edge_softness",
]


def _schema_property(name: str) -> dict[str, Any]:
    """The request schema's property ``name``, with a nullable ``anyOf`` and a ``$ref`` folded in."""
    schema = JobRequest.model_json_schema()
    prop = dict(schema["properties"][name])
    for branch in prop.pop("anyOf", []):
        if branch.get("type") != "null":
            prop = {**branch, **prop}
    if "$ref" in prop:
        prop = {**schema["$defs"][prop.pop("$ref").rsplit("/", 1)[-1]], **prop}
    return prop


def _request(**options: Any) -> JobRequest:
    return JobRequest.model_validate({"content": UPLOAD, "styles": [{"preset": "tapestry"}], **options})


def test_config_keeps_its_keys_and_is_plain_json() -> None:
    config = site_config("/api")
    # Then it has the keys the page reads, the request description and the foreseeable refusals
    assert set(config) == {
        "api_base_url",
        "max_upload_bytes",
        "max_pixels",
        "max_side",
        "min_side",
        "max_styles",
        "accepted_types",
        "poll_interval_ms",
        "poll_slow_ms",
        "poll_queued_ms",
        "kept",
        "request",
        "regions_map",
        "stroke",
        "messages",
        "clips",
    }
    # And it survives a JSON round trip unchanged (no enum or tuple leaks into it)
    assert json.loads(json.dumps(config)) == config


def test_every_option_of_a_request_is_described_and_nothing_else() -> None:
    described = request_description()
    assert set(described) == {"id_pattern", "max_styles", "options"}
    assert list(described["options"]) == OPTIONS
    assert set(OPTIONS) == set(JobRequest.model_fields) - NOT_OPTIONS
    assert set(OPTIONS) == set(StylizeOptions.model_fields) - NOT_OPTIONS


@pytest.mark.parametrize("name", OPTIONS)
def test_each_option_states_what_the_api_schema_accepts(name: str) -> None:
    option = request_description()["options"][name]
    schema = _schema_property(name)

    # Then it has exactly the keys of its kind
    expected = {"type", "default", "title", "description"}
    if option["type"] == "string":
        expected |= {"enum", "labels"}
    if option["type"] in ("number", "integer"):
        expected |= {"minimum", "maximum"}
    assert option["type"] in {"string", "number", "integer", "boolean"}
    assert set(option) == expected
    # And the type, allowed values, bounds, default and help are the API's own
    assert option["type"] == schema["type"]
    assert option.get("enum") == schema.get("enum")
    assert option.get("minimum") == schema.get("minimum")
    assert option.get("maximum") == schema.get("maximum")
    assert option["default"] == schema["default"]
    assert option["description"] == schema["description"]
    # And a person gets a title, a sentence of help, and a label for each allowed value
    assert option["title"]
    assert option["description"].rstrip().endswith(".")
    if "enum" in option:
        assert list(option["labels"]) == option["enum"]
        assert all(option["labels"].values())
        assert option["default"] is None or option["default"] in option["enum"]


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
    # And a default is within the bounds
    assert option["default"] is None or option["minimum"] <= option["default"] <= option["maximum"]


@pytest.mark.parametrize("name", [n for n, o in request_description()["options"].items() if "enum" in o])
def test_every_allowed_value_is_accepted(name: str) -> None:
    for value in request_description()["options"][name]["enum"]:
        assert getattr(_request(**{name: value}), name) == value
    with pytest.raises(ValidationError):
        _request(**{name: "none-of-these"})


def test_the_page_can_submit_the_defaults_as_they_are() -> None:
    # Given a request built only from the description's defaults (nulls left out, as the page does)
    options = request_description()["options"]
    values = {name: option["default"] for name, option in options.items() if option["default"] is not None}
    # Then the API takes it, as it takes a request with no options at all
    assert _request(**values).options() == _request().options()


def test_the_id_pattern_is_the_servers_rule_and_reads_the_same_in_javascript() -> None:
    id_pattern = request_description()["id_pattern"]
    pattern = re.compile(id_pattern)
    samples = [new_id(), UPLOAD, UPLOAD.upper(), UPLOAD[:-1], UPLOAD + "0", "0", "../" + UPLOAD[3:], ""]

    for sample in samples:
        assert (pattern.search(sample) is not None) == is_valid_id(sample), sample
    # Only syntax ECMAScript's RegExp reads the same way: anchors, one class, a count
    assert re.fullmatch(r"\^\[[0-9a-f\-]+\]\{32\}\$", id_pattern)


def test_the_config_carries_the_request_and_the_mixed_kinds_sentence() -> None:
    config = json.loads(json.dumps(site_config("/api")))

    assert config["request"] == request_description()
    assert config["request"]["max_styles"] == config["max_styles"] == 4
    # And the sentence the page shows before uploading is the one the API refuses with
    with pytest.raises(InvalidRequestError) as refused:
        StylizeOptions().validate(2, n_presets=1)
    assert config["messages"] == {refused.value.code: refused.value.message}


def test_each_call_returns_its_own_copy() -> None:
    first = request_description()
    first["options"]["stroke"]["enum"].append("huge")

    assert request_description()["options"]["stroke"]["enum"] == ["fine", "medium", "coarse"]


def test_config_tells_the_page_what_a_region_map_must_be() -> None:
    from stylemixer.limits import MAX_MAP_BYTES
    from stylemixer.regionmap import PALETTE

    described = site_config("/api")["regions_map"]
    assert described["content_type"] == "image/png"
    assert described["max_bytes"] == MAX_MAP_BYTES
    assert [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in described["palette"]] == list(PALETTE)
