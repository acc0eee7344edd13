"""Where a callback may go (core/infra/callback_target.py): public addresses only, https, the allow-list,
and the exemption of exact test origins; the delivery's resolver refuses what the check refuses."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from core.infra.callback_target import (
    AddressRefused,
    CallbackRefused,
    CheckedResolver,
    check_callback_url,
    host_allowed,
    parse_target,
    public_address,
)
from core.settings import get_settings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.delenv("CALLBACK_ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("CALLBACK_INSECURE_ORIGINS", raising=False)
    monkeypatch.delenv("WEBSITE_INSTANCE_ID", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (CGNAT)
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",  # site-local
        "ff02::1",  # multicast
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    assert not public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_taken(address: str) -> None:
    assert public_address(ipaddress.ip_address(address))


def test_the_allow_list_matches_whole_labels() -> None:
    suffixes = ("example.com", "hooks.test")
    assert host_allowed("example.com", suffixes)
    assert host_allowed("a.b.example.com", suffixes)
    assert host_allowed("EXAMPLE.com.", suffixes)
    assert not host_allowed("badexample.com", suffixes)
    assert not host_allowed("example.com.evil.net", suffixes)
    assert host_allowed("anything.net", ())


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "example.com/hook",
        "https:///path",
        "https://user:pw@example.com/",
        "https://a:99999/",
    ],
)
def test_urls_that_cannot_be_callbacks(url: str) -> None:
    with pytest.raises(CallbackRefused):
        parse_target(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://8.8.8.8/hook", "https"),
        ("https://127.0.0.1/hook", "not public"),
        ("https://[::1]:8443/hook", "not public"),
        ("https://[::ffff:169.254.169.254]/", "not public"),
        ("https://10.0.0.7/hook", "not public"),
        ("https://localhost/hook", "not public"),  # a name that resolves to a loopback address
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
    ],
)
async def test_the_check_refuses(settings: pytest.MonkeyPatch, url: str, why: str) -> None:
    with pytest.raises(CallbackRefused, match=why):
        await check_callback_url(url)


async def test_a_public_https_url_is_taken(settings: pytest.MonkeyPatch) -> None:
    target = await check_callback_url("https://8.8.8.8:8443/hooks?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "8.8.8.8", 8443)


async def test_the_allow_list_is_enforced(settings: pytest.MonkeyPatch) -> None:
    settings.setenv("CALLBACK_ALLOWED_HOSTS", "example.com, 8.8.8.8")
    get_settings.cache_clear()
    await check_callback_url("https://8.8.8.8/hook")
    with pytest.raises(CallbackRefused, match="allow-list"):
        await check_callback_url("https://1.1.1.1/hook")


async def test_an_insecure_origin_is_exempt_only_exactly(settings: pytest.MonkeyPatch) -> None:
    settings.setenv("CALLBACK_INSECURE_ORIGINS", "http://127.0.0.1:8123")
    get_settings.cache_clear()
    await check_callback_url("http://127.0.0.1:8123/hooks")
    for other in ("http://127.0.0.1:8124/hooks", "https://127.0.0.1:8123/hooks", "http://localhost:8123/"):
        with pytest.raises(CallbackRefused):
            await check_callback_url(other)


def test_insecure_origins_are_refused_on_azure(settings: pytest.MonkeyPatch) -> None:
    settings.setenv("CALLBACK_INSECURE_ORIGINS", "http://127.0.0.1:8123")
    settings.setenv("WEBSITE_INSTANCE_ID", "an-azure-instance")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="tests and development only"):
        get_settings()


async def test_the_delivery_resolver_refuses_names_of_private_addresses(settings: pytest.MonkeyPatch) -> None:
    """What closes DNS rebinding: the addresses the connection would use are checked, not an earlier lookup."""
    resolver = CheckedResolver()
    try:
        with pytest.raises(AddressRefused):
            await resolver.resolve("localhost", 443)
        settings.setenv("CALLBACK_INSECURE_ORIGINS", "http://localhost:8123")
        get_settings.cache_clear()
        assert await resolver.resolve("localhost", 8123)
    finally:
        await resolver.close()
