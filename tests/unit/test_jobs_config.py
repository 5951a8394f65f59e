"""Settings from the environment: a clear error at cold start, never a KeyError on a request."""

from __future__ import annotations

import pytest

from stylemixer.config import ConfigError, Settings

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
