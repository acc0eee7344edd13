"""host.json and local.settings.json as the devhost reads them."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from devhost.cors import CorsPolicy
from devhost.host_config import HostConfig, InvalidHostConfig, MessageEncoding, QueueOptions, parse_timespan
from devhost.settings_file import InvalidSettingsFile, LocalSettings
from tests.devhost.sample_stack import SAMPLE_APP


def _write_json(path: Path, document: dict[str, object]) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def test_missing_host_json_means_the_host_defaults(tmp_path: Path) -> None:
    config = HostConfig.load(tmp_path)

    assert config.route_prefix == "api"
    assert config.queues == QueueOptions(
        batch_size=16,
        new_batch_threshold=8,
        max_polling_interval=timedelta(minutes=1),
        visibility_timeout=timedelta(0),
        max_dequeue_count=5,
        message_encoding=MessageEncoding.BASE64,
    )


def test_sample_host_json() -> None:
    config = HostConfig.load(SAMPLE_APP)

    assert config.queues == QueueOptions(
        batch_size=4,
        new_batch_threshold=2,
        max_polling_interval=timedelta(seconds=1),
        visibility_timeout=timedelta(seconds=1),
        max_dequeue_count=2,
        message_encoding=MessageEncoding.BASE64,
    )


def test_new_batch_threshold_defaults_to_half_the_batch_and_prefix_can_be_empty(tmp_path: Path) -> None:
    _write_json(
        tmp_path / "host.json",
        {"extensions": {"http": {"routePrefix": ""}, "queues": {"batchSize": 7, "messageEncoding": "None"}}},
    )

    config = HostConfig.load(tmp_path)

    assert config.route_prefix == ""
    assert config.queues.new_batch_threshold == 3
    assert config.queues.message_encoding is MessageEncoding.NONE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:00:02", timedelta(seconds=2)),
        ("00:01:00", timedelta(minutes=1)),
        ("1.02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("00:00:00.250", timedelta(milliseconds=250)),
    ],
)
def test_timespans(text: str, expected: timedelta) -> None:
    assert parse_timespan(text) == expected


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        ({"batchSize": 33}, "batchSize must be 1-32"),
        ({"maxDequeueCount": 0}, "maxDequeueCount must be at least 1"),
        ({"messageEncoding": "utf8"}, "messageEncoding must be 'base64' or 'none'"),
        ({"maxPollingInterval": "2 seconds"}, "is not a timespan"),
        ({"maxPollingInterval": "00:00:00.010"}, "maxPollingInterval must be at least"),
    ],
)
def test_invalid_queue_options_are_rejected(tmp_path: Path, queues: dict[str, object], message: str) -> None:
    _write_json(tmp_path / "host.json", {"extensions": {"queues": queues}})

    with pytest.raises(InvalidHostConfig, match=message):
        HostConfig.load(tmp_path)


def test_settings_fall_back_to_the_example_and_never_override_the_environment(tmp_path: Path) -> None:
    _write_json(
        tmp_path / "local.settings.json.example",
        {
            "Values": {"FROM_FILE": "file", "OVERRIDDEN": "file"},
            "Host": {"LocalHttpPort": 7123, "CORS": "http://allowed.example"},
        },
    )
    environment = {"OVERRIDDEN": "process"}

    settings = LocalSettings.load(tmp_path)
    settings.apply_to(environment)

    assert environment == {"FROM_FILE": "file", "OVERRIDDEN": "process"}
    assert settings.local_http_port == 7123
    assert settings.cors == CorsPolicy(frozenset({"http://allowed.example"}))


def test_the_examples_keys_and_cors_wildcard_are_never_used(tmp_path: Path) -> None:
    """Everyone knows the committed example's keys: a key counts only from local.settings.json or the
    environment, and the example's "*" does not open the host to every web page."""
    example = {
        "Values": {
            "DEVHOST_MASTER_KEY": "local-master-key",
            "DEVHOST_FUNCTION_KEY": "local-function-key",
            "OPS_KEY": "local-ops-key",
            "PUBLIC_API_BASE": "/api",
        },
        "Host": {"CORS": "*"},
    }
    _write_json(tmp_path / "local.settings.json.example", example)
    environment: dict[str, str] = {}

    settings = LocalSettings.load(tmp_path)
    settings.apply_to(environment)

    assert environment == {"PUBLIC_API_BASE": "/api"}
    assert settings.cors is None  # the host then allows localhost origins only

    # Copied into local.settings.json, the same values are the developer's own choice.
    _write_json(tmp_path / "local.settings.json", example)
    copied: dict[str, str] = {}
    local = LocalSettings.load(tmp_path)
    local.apply_to(copied)
    assert copied == example["Values"]
    assert local.cors == CorsPolicy(frozenset({"*"}))


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:7071", True),
        ("http://localhost", True),
        ("https://localhost:8443", True),
        ("http://127.0.0.1:5500", True),
        ("http://[::1]:3000", True),
        ("http://evil.example", False),
        ("http://localhost.evil.example", False),
        ("http://127.0.0.1.evil.example", False),
        ("file://localhost", False),
        ("null", False),
        ("http://[::1", False),
    ],
)
def test_without_configured_origins_only_localhost_pages_may_call(origin: str, allowed: bool) -> None:
    assert CorsPolicy.localhost_only().allows(origin) is allowed


def test_local_settings_win_over_the_example(tmp_path: Path) -> None:
    _write_json(tmp_path / "local.settings.json.example", {"Values": {"WHICH": "example"}})
    _write_json(tmp_path / "local.settings.json", {"Values": {"WHICH": "local"}})

    assert LocalSettings.load(tmp_path).values == {"WHICH": "local"}


def test_no_settings_file_means_no_values(tmp_path: Path) -> None:
    assert LocalSettings.load(tmp_path) == LocalSettings()


def test_settings_values_must_be_strings(tmp_path: Path) -> None:
    _write_json(tmp_path / "local.settings.json", {"Values": {"RETRIES": 3}})

    with pytest.raises(InvalidSettingsFile, match=r"Values\.RETRIES must be a string"):
        LocalSettings.load(tmp_path)


def test_cors_origins_list() -> None:
    policy = CorsPolicy.parse("http://a.example, https://b.example/", allow_credentials=True)

    assert policy.allows("https://b.example")
    assert not policy.allows("http://c.example")
    assert policy.response_headers("http://a.example") == {
        "Access-Control-Allow-Origin": "http://a.example",
        "Vary": "Origin",
        "Access-Control-Allow-Credentials": "true",
    }
