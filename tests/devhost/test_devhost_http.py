"""HTTP triggers through a real devhost: routing, bodies, status codes, keys, CORS, static files."""

import json
import os
import shutil
import socket
from collections.abc import Iterator

import pytest
import requests

from devhost.stack import start_devhost
from tests.devhost.sample_stack import FUNCTION_KEY, MASTER_KEY, SAMPLE_APP, SampleStack


def test_host_status_reports_running(sample_stack: SampleStack, http: requests.Session) -> None:
    response = http.get(f"{sample_stack.base_url}/admin/host/status")

    assert response.status_code == 200
    assert response.json() == {"state": "Running"}


def test_anonymous_route_sees_query_and_settings(sample_stack: SampleStack, http: requests.Session) -> None:
    response = http.get(f"{sample_stack.base_url}/api/hello", params={"name": "Ada"})

    assert response.status_code == 200
    # SAMPLE_GREETING comes from local.settings.json.example; SAMPLE_PUNCTUATION from the process environment.
    assert response.text == "Hello, Ada!"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_body_headers_and_status_round_trip_through_a_sync_function(
    sample_stack: SampleStack, http: requests.Session
) -> None:
    body = json.dumps({"answer": "Ünïcode ✓"}).encode()

    response = http.put(
        f"{sample_stack.base_url}/api/echo",
        data=body,
        headers={"Content-Type": "application/json", "X-Sample": "seen"},
    )

    assert response.status_code == 201
    assert response.content == body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Echo-Method"] == "PUT"
    assert response.headers["X-Echo-Header"] == "seen"


def test_method_not_registered_matches_no_route(sample_stack: SampleStack, http: requests.Session) -> None:
    assert http.get(f"{sample_stack.base_url}/api/echo").status_code == 404
    assert http.delete(f"{sample_stack.base_url}/api/hello").status_code == 404


def test_route_template_parameters(sample_stack: SampleStack, http: requests.Session) -> None:
    response = http.get(f"{sample_stack.base_url}/api/items/abc-1/parts/7", params={"view": "full"})

    assert response.status_code == 200
    document = response.json()
    assert document["route_params"] == {"id": "abc-1", "n": "7"}
    assert document["query"] == {"view": "full"}
    assert document["url"] == f"{sample_stack.base_url}/api/items/abc-1/parts/7?view=full"


def test_unknown_route_is_not_found(sample_stack: SampleStack, http: requests.Session) -> None:
    assert http.get(f"{sample_stack.base_url}/api/nothing-here").status_code == 404


def test_function_level_route_needs_the_function_or_master_key(
    sample_stack: SampleStack, http: requests.Session
) -> None:
    url = f"{sample_stack.base_url}/api/secret"

    assert http.get(url).status_code == 401
    assert http.get(url, headers={"x-functions-key": "wrong"}).status_code == 401
    with_function_key = http.get(url, headers={"x-functions-key": FUNCTION_KEY})
    assert with_function_key.status_code == 200
    assert with_function_key.text == "function-level secret"
    assert http.get(url, params={"code": MASTER_KEY}).status_code == 200


def test_admin_route_needs_the_master_key(sample_stack: SampleStack, http: requests.Session) -> None:
    url = f"{sample_stack.base_url}/api/manage/ping"

    assert http.get(url).status_code == 401
    assert http.get(url, params={"code": FUNCTION_KEY}).status_code == 401
    with_master_key = http.get(url, headers={"x-functions-key": MASTER_KEY})
    assert with_master_key.status_code == 200
    assert with_master_key.text == "admin pong"


def test_exception_in_function_is_a_500_with_the_traceback_logged(
    sample_stack: SampleStack, http: requests.Session
) -> None:
    response = http.get(f"{sample_stack.base_url}/api/boom")

    assert response.status_code == 500
    log = sample_stack.devhost.log_tail(lines=200)
    assert "RuntimeError: the sample function failed on purpose" in log
    assert "Executed 'Functions.boom' (Failed" in log


def test_cors_preflight_and_response_headers_for_allowed_origin(
    sample_stack: SampleStack, http: requests.Session
) -> None:
    url = f"{sample_stack.base_url}/api/echo"
    preflight = http.options(
        url,
        headers={
            "Origin": "http://allowed.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://allowed.example"
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"

    allowed = http.post(url, data=b"x", headers={"Origin": "http://allowed.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://allowed.example"
    other = http.post(url, data=b"x", headers={"Origin": "http://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_web_folder_is_served_at_the_root(sample_stack: SampleStack, http: requests.Session) -> None:
    index = http.get(f"{sample_stack.base_url}/")
    assert index.status_code == 200
    assert "sample index" in index.text
    assert http.get(f"{sample_stack.base_url}/index.html").text == index.text


def test_the_peer_is_appended_to_x_forwarded_for_as_azures_front_end_does(
    sample_stack: SampleStack, http: requests.Session
) -> None:
    """Azure appends the address it took the connection from; what the client sent stays in front of it."""
    url = f"{sample_stack.base_url}/api/echo"

    assert http.post(url, data=b"x").headers["X-Echo-Forwarded-For"] == "127.0.0.1"
    spoofed = http.post(url, data=b"x", headers={"X-Forwarded-For": "203.0.113.9, 10.1.1.1"})
    assert spoofed.headers["X-Echo-Forwarded-For"] == "203.0.113.9, 10.1.1.1, 127.0.0.1"


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_the_host_listens_on_loopback_only_by_default(sample_stack: SampleStack) -> None:
    port = int(sample_stack.base_url.rsplit(":", 1)[1])
    assert "Listening on http://127.0.0.1:" in sample_stack.devhost.log_tail(lines=400)
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    with pytest.raises(OSError), socket.create_connection((address, port), timeout=1):
        pass


@pytest.fixture(scope="module")
def example_only_host(sample_stack: SampleStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample app with no local.settings.json: an example that holds keys and a CORS wildcard."""
    root = tmp_path_factory.mktemp("example-only") / "app"
    shutil.copytree(SAMPLE_APP, root, ignore=shutil.ignore_patterns("local.settings.json*", "__pycache__"))
    example = {
        "Values": {
            "SAMPLE_GREETING": "Hi",
            "SAMPLE_PUNCTUATION": ".",
            "DEVHOST_MASTER_KEY": "example-master-key",
            "DEVHOST_FUNCTION_KEY": "example-function-key",
        },
        "Host": {"CORS": "*"},
    }
    (root / "local.settings.json.example").write_text(json.dumps(example))
    # No key in the environment (an empty one would hide the example's from the host anyway).
    assert not {"DEVHOST_MASTER_KEY", "DEVHOST_FUNCTION_KEY"} & set(os.environ)
    env = {"REDIS_URL": sample_stack.redis_url, "AzureWebJobsStorage": sample_stack.storage}
    with start_devhost(root, env) as devhost:
        yield devhost.url


def test_the_examples_keys_open_nothing(example_only_host: str, http: requests.Session) -> None:
    assert http.get(f"{example_only_host}/api/hello", params={"name": "Ada"}).text == "Hi, Ada."
    for url, key in (
        (f"{example_only_host}/api/manage/ping", "example-master-key"),
        (f"{example_only_host}/api/secret", "example-function-key"),
        (f"{example_only_host}/api/secret", "example-master-key"),
    ):
        assert http.get(url, headers={"x-functions-key": key}).status_code == 401
        assert http.get(url, params={"code": key}).status_code == 401


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://localhost:5173", True), ("http://127.0.0.1:8000", True), ("http://evil.example", False)],
)
def test_without_configured_origins_only_localhost_pages_may_call(
    example_only_host: str, http: requests.Session, origin: str, allowed: bool
) -> None:
    url = f"{example_only_host}/api/echo"
    preflight = http.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    response = http.post(url, data=b"x", headers={"Origin": origin})
    if allowed:
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Access-Control-Allow-Origin"] == origin
    else:
        assert "Access-Control-Allow-Origin" not in preflight.headers
        assert "Access-Control-Allow-Origin" not in response.headers
