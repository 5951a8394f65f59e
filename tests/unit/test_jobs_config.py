"""Settings from the environment: a clear error at cold start, never a KeyError on a request."""

from __future__ import annotations

import pytest

from stylemixer.settings import ConfigError, Settings

BASE = {"STYLEMIXER_BUCKET": "stylemixer-data", "STYLEMIXER_TABLE": "stylemixer-jobs"}


def test_minimal_environment_is_enough_for_the_worker() -> None:
    settings = Settings.from_env(BASE)
    assert (settings.bucket, settings.table, settings.queue_url, settings.allowed_origins) == (
        "stylemixer-data",
        "stylemixer-jobs",
        None,
        (),
    )


def test_origins_are_split_trimmed_and_stripped_of_trailing_slashes() -> None:
    env = {**BASE, "STYLEMIXER_ALLOWED_ORIGINS": " https://a.example/, http://localhost:8000 ,"}
    assert Settings.from_env(env).allowed_origins == ("https://a.example", "http://localhost:8000")


def test_missing_variables_are_all_named_in_one_message() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({}, require_queue=True)
    message = str(error.value)
    for name in ("STYLEMIXER_BUCKET", "STYLEMIXER_TABLE", "STYLEMIXER_QUEUE_URL"):
        assert name in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STYLEMIXER_BUCKET", "Not_A_Bucket"),
        ("STYLEMIXER_QUEUE_URL", "stylemixer-jobs"),
        ("STYLEMIXER_ALLOWED_ORIGINS", "example.com"),
        ("STYLEMIXER_SITE_URL", "ftp://site"),
    ],
)
def test_malformed_values_are_refused_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**BASE, name: value})


@pytest.mark.parametrize("module", ["functions.api.handler", "functions.worker.handler"])
def test_a_handler_without_its_settings_stops_at_cold_start_saying_why(module: str) -> None:
    # Given a fresh interpreter with none of the function's variables
    import os

    from tests.support.environment import run_python

    env = {k: v for k, v in os.environ.items() if not k.startswith("STYLEMIXER_")}
    # When the handler module is imported (Lambda's init phase)
    completed = run_python("-c", f"import {module}", env=env, timeout=60)
    # Then it fails at once with one sentence naming what to set
    assert completed.returncode != 0
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("stylemixer.settings.ConfigError: StyleMixer is not configured:")
    assert "STYLEMIXER_BUCKET" in last_line
    assert "STYLEMIXER_TABLE" in last_line


def test_upload_content_types_are_the_accepted_formats_in_every_place() -> None:
    # Given the formats the decoder accepts, as limits names them
    from stylemixer.jobs.schemas import UploadRequest
    from stylemixer.limits import ALLOWED_FORMATS, CLIP_CONTENT_TYPES, UPLOAD_CONTENT_TYPES
    from stylemixer.page import site_config

    # Then the upload API states and accepts exactly those types (and image/heif for .heic files),
    # and the clips' (MP4 and QuickTime), which config.json states apart
    stated = UploadRequest.model_json_schema()["properties"]["content_type"]["enum"]
    assert set(stated) == {*UPLOAD_CONTENT_TYPES, *CLIP_CONTENT_TYPES}
    assert site_config("/api")["clips"]["content_types"] == list(CLIP_CONTENT_TYPES)
    for content_type in UPLOAD_CONTENT_TYPES:
        UploadRequest.model_validate({"purpose": "content", "content_type": content_type, "size": 1})
    assert set(site_config("/api")["accepted_types"]) == set(UPLOAD_CONTENT_TYPES)
    assert set(UPLOAD_CONTENT_TYPES) == {*ALLOWED_FORMATS.values(), "image/heif"}
