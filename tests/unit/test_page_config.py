"""The page's ``config.json``: its keys, and the ``request`` contract the page builds its form from.

The contract is generated from the one description of a request; these tests pin its shape (the
page reads exactly these keys) and check that it says what the API's OpenAPI document says.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stylemixer.jobs.model import new_id
from stylemixer.jobs.schemas import JobRequest
from stylemixer.limits import MAX_STYLES
from stylemixer.page import site_config

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
CONFIG = site_config("/api")
REQUEST = CONFIG["request"]


def _document_property(name: str) -> dict[str, Any]:
    """The option as the API's request schema states it (``null`` and ``$ref`` resolved)."""
    schema = JobRequest.model_json_schema()
    prop = schema["properties"][name]
    for choice in prop.get("anyOf", ()):
        if choice.get("type") != "null":
            prop = {**choice, **prop}
    if "$ref" in prop:
        prop = {**schema["$defs"][prop["$ref"].rsplit("/", 1)[-1]], **prop}
    return prop


def test_config_keeps_its_keys_and_is_plain_json() -> None:
    # Given the config the local stack and the CDK stack both serve
    # Then it has the keys the page has always read, and the request contract
    assert set(CONFIG) == {
        "api_base_url",
        "max_upload_bytes",
        "max_pixels",
        "max_side",
        "min_side",
        "max_styles",
        "accepted_types",
        "poll_interval_ms",
        "request",
    }
    assert CONFIG["accepted_types"] == ["image/jpeg", "image/png", "image/webp"]
    # And it survives a JSON round trip unchanged (no enum or tuple leaks into it)
    assert json.loads(json.dumps(CONFIG)) == CONFIG


def test_request_contract_has_the_agreed_shape() -> None:
    assert set(REQUEST) == {"id_pattern", "max_styles", "options"}
    assert REQUEST["max_styles"] == MAX_STYLES
    assert list(REQUEST["options"]) == OPTIONS
    for name, option in REQUEST["options"].items():
        kind = option["type"]
        assert kind in {"string", "number", "integer", "boolean"}, name
        expected = {"type", "default", "title", "description"}
        if kind == "string":
            expected |= {"enum", "labels"}
        if kind in ("number", "integer"):
            expected |= {"minimum", "maximum"}
        assert set(option) == expected, name
        assert option["title"]
        assert option["description"]


def test_the_id_pattern_is_the_servers_and_reads_the_same_in_javascript() -> None:
    pattern = re.compile(REQUEST["id_pattern"])
    assert pattern.fullmatch(new_id())
    for bad in ("0", new_id().upper(), new_id() + "0", "../" + new_id()[3:]):
        assert not pattern.fullmatch(bad)
    # Only syntax that ECMAScript's RegExp reads the same way: anchors, a class, a count
    assert re.fullmatch(r"\^[\[\]0-9a-f\-]+\{32\}\$", REQUEST["id_pattern"])


@pytest.mark.parametrize("name", OPTIONS)
def test_each_option_says_what_the_api_accepts(name: str) -> None:
    # Given the option in config.json and in the API's request schema
    option = REQUEST["options"][name]
    stated = _document_property(name)
    # Then both give the same type, allowed values, bounds and default
    assert option["type"] == stated["type"]
    assert option.get("enum") == stated.get("enum")
    assert option.get("minimum") == stated.get("minimum")
    assert option.get("maximum") == stated.get("maximum")
    assert option["default"] == stated.get("default")
    assert option["description"] == stated["description"]
    # And an enum has a label for each value, and its default is one of them (or null)
    if "enum" in option:
        assert list(option["labels"]) == option["enum"]
        assert all(isinstance(label, str) and label for label in option["labels"].values())
        assert option["default"] is None or option["default"] in option["enum"]
    # And a number's default is within its bounds
    if option["type"] in ("number", "integer") and option["default"] is not None:
        assert option["minimum"] <= option["default"] <= option["maximum"]


def test_the_page_can_submit_the_defaults_as_they_are() -> None:
    # Given a request built only from the contract's defaults (nulls left out, as the page does)
    values = {k: o["default"] for k, o in REQUEST["options"].items() if o["default"] is not None}
    body = {"content": new_id(), "styles": [{"preset": "tapestry"}], **values}
    # Then the API's request model takes it
    JobRequest.model_validate(body)
