"""The environment the local stack gives the handlers: the embedded AWS only, never a real account."""

from __future__ import annotations

from stylemixer.local.aws import LocalResources
from stylemixer.local.environment import apply_environment, handler_environment
from stylemixer.resources import ENV_ALLOWED_ORIGINS, ENV_BUCKET, ENV_QUEUE_URL, ENV_TABLE
from stylemixer.settings import Settings

RESOURCES = LocalResources(
    endpoint_url="http://127.0.0.1:5999",
    bucket="stylemixer-data",
    table="stylemixer-jobs",
    queue_url="http://127.0.0.1:5999/123456789012/stylemixer-jobs",
    dlq_url="http://127.0.0.1:5999/123456789012/stylemixer-jobs-dlq",
)


def test_handlers_get_the_shared_variable_names_and_the_embedded_endpoint() -> None:
    env = handler_environment(RESOURCES, "http://127.0.0.1:8000/")

    assert env[ENV_BUCKET] == "stylemixer-data"
    assert env[ENV_TABLE] == "stylemixer-jobs"
    assert env[ENV_QUEUE_URL] == RESOURCES.queue_url
    assert env[ENV_ALLOWED_ORIGINS] == "http://127.0.0.1:8000"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    # And the handlers' own cold-start validation accepts it
    settings = Settings.from_env(env, require_queue=True)
    assert settings.bucket == "stylemixer-data"
    assert settings.allowed_origins == ("http://127.0.0.1:8000",)


def test_anything_that_could_reach_a_real_account_is_cleared() -> None:
    # Given a shell set up for a real AWS account
    environ = {
        "AWS_PROFILE": "production",
        "AWS_SESSION_TOKEN": "token",
        "AWS_ACCESS_KEY_ID": "AKIAREAL",
        "AWS_ENDPOINT_URL_S3": "https://s3.example",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "HOME": "/home/dev",
    }

    # When the local environment is applied
    apply_environment(handler_environment(RESOURCES, "http://127.0.0.1:8000/"), environ)

    # Then profiles, tokens and per-service endpoints are gone, the keys are dummies, and the
    # developer's own Powertools setting is kept while the rest get quiet defaults
    assert "AWS_PROFILE" not in environ
    assert "AWS_SESSION_TOKEN" not in environ
    assert "AWS_ENDPOINT_URL_S3" not in environ
    assert environ["AWS_ACCESS_KEY_ID"] == "local"
    assert environ["AWS_ENDPOINT_URL"] == RESOURCES.endpoint_url
    assert environ["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert environ["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert environ["HOME"] == "/home/dev"
