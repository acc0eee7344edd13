"""Who the client is (the last X-Forwarded-For entry, which Azure's front end appends), what a failure
logs (never a query string), and storage out of reach as a 503. Fast tier: requests built in process."""

from __future__ import annotations

import json
import logging

import azure.functions as func
import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from handlers import http_io
from handlers.http_io import UNKNOWN_CLIENT, client_address, json_endpoint, loggable_url


@pytest.fixture(autouse=True)
def no_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    """json_endpoint counts each execution in Redis; these tests run with no service at all."""
    monkeypatch.setattr(http_io.usage, "note", lambda **_: None)


def _request(
    headers: dict[str, str] | None = None, url: str = "http://localhost/api/interviews"
) -> func.HttpRequest:
    return func.HttpRequest("POST", url, headers=headers or {}, body=b"")


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # A client that sends its own X-Forwarded-For only adds entries in front of the one Azure appends.
        ("1.2.3.4, 10.0.0.1, 203.0.113.7", "203.0.113.7"),
        ("evil, 198.51.100.2", "198.51.100.2"),
        ("1.2.3.4,203.0.113.7", "203.0.113.7"),
        # Azure's front end may add the client's port.
        ("203.0.113.7:50312", "203.0.113.7"),
        ("[2001:db8:abcd:12::1]:443", "2001:db8:abcd:12::/64"),
        # An IPv6 client is its /64: one subscriber usually holds the whole prefix.
        ("2001:db8:abcd:12:aaaa:bbbb:cccc:dddd", "2001:db8:abcd:12::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        # Whatever is not an address, in the one place that counts, is the shared unknown client.
        ("203.0.113.7, not-an-address", UNKNOWN_CLIENT),
        ("203.0.113.7, ", UNKNOWN_CLIENT),
        ("", UNKNOWN_CLIENT),
    ],
)
def test_the_client_is_the_last_forwarded_entry_only(forwarded: str, client: str) -> None:
    assert client_address(_request({"X-Forwarded-For": forwarded})) == client


def test_a_request_without_the_header_is_the_unknown_client() -> None:
    assert client_address(_request()) == UNKNOWN_CLIENT


def test_logged_urls_have_no_query_string() -> None:
    request = _request(url="http://localhost/api/ops/summary?code=master-secret&ops_key=ops-secret")
    assert loggable_url(request) == "/api/ops/summary"


async def test_a_failure_is_logged_without_the_query_string(caplog: pytest.LogCaptureFixture) -> None:
    @json_endpoint
    async def broken(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        response = await broken(_request(url="http://localhost/api/interviews/x/turns/1?wait=1&code=s3cret"))
    assert response.status_code == 500
    assert "/api/interviews/x/turns/1" in caplog.text
    assert "s3cret" not in caplog.text and "wait=" not in caplog.text


@pytest.mark.parametrize(
    "error",
    [ServiceRequestError("connection refused"), ServiceResponseError("connection reset"), ConnectionError()],
)
async def test_storage_out_of_reach_is_a_503_with_retry_after(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    @json_endpoint
    async def unreachable(req: func.HttpRequest) -> func.HttpResponse:
        raise error

    with caplog.at_level(logging.WARNING):
        response = await unreachable(_request(url="http://localhost/api/interviews?code=s3cret"))
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert json.loads(response.get_body())["error"]["code"] == "storage_unavailable"
    assert "s3cret" not in caplog.text
