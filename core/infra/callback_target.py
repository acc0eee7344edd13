"""Where a callback may go: an https URL whose host resolves only to public addresses and, with an
allow-list (CALLBACK_ALLOWED_HOSTS), matches one of its host suffixes.

Checked when the interview is created (a refused URL creates nothing) and again at every delivery, where
the connection's own resolver (CheckedResolver) checks the addresses it is about to connect to: a name
that resolved to a public address at create time and to 127.0.0.1 a second later (DNS rebinding) is
refused at the connection, not just at the check. CALLBACK_INSECURE_ORIGINS (tests and development only,
refused on Azure by core/settings.py) exempts exact origins, such as a local receiver, from the https and
address checks; never from anything else."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from core.settings import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_TIMEOUT_SECONDS = 3.0
DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits: 64:ff9b::7f00:1 is 127.0.0.1.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class CallbackRefused(Exception):
    """A callback_url the app will not POST to; the message says why, for the client."""


class AddressRefused(OSError):
    """Raised by the delivery's resolver (an OSError, as aiohttp expects of a failed lookup)."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries: 6to4, Teredo's client, NAT64."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_address(address: Address) -> bool:
    """Whether an address is on the public internet: not loopback, private, shared (CGNAT), link-local,
    multicast, reserved or unspecified, also when an IPv6 address carries an IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return public_address(address.ipv4_mapped)
        if address.is_site_local:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None and not public_address(embedded):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address.is_private
    )


def host_allowed(host: str, suffixes: tuple[str, ...]) -> bool:
    """Whether the host is one of the suffixes or under one of them (by whole labels: "example.com"
    allows "hooks.example.com", not "badexample.com"); any host when there are none."""
    host = host.lower().rstrip(".")
    return not suffixes or any(host == suffix or host.endswith(f".{suffix}") for suffix in suffixes)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def parse_target(url: str) -> Target:
    """The URL's scheme, host and port, or CallbackRefused for one that cannot be a callback."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise CallbackRefused(f"callback_url is not a valid URL: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise CallbackRefused("callback_url must be an absolute https URL, e.g. https://example.com/hooks")
    if parts.username is not None or parts.password is not None:
        raise CallbackRefused("callback_url must not carry a user name or password")
    host = parts.hostname.rstrip(".")
    return Target(scheme, host, port or DEFAULT_PORTS[scheme])


def _exempt_targets() -> frozenset[Target]:
    """The origins of CALLBACK_INSECURE_ORIGINS (default ports filled in); a malformed one counts as none."""
    exempt: set[Target] = set()
    for origin in get_settings().callback_insecure_origins:
        try:
            exempt.add(parse_target(origin))
        except CallbackRefused:
            continue
    return frozenset(exempt)


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolve(host: str, port: int) -> list[Address]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError) as error:
        raise CallbackRefused(f"the host of callback_url, {host}, cannot be resolved") from error
    # Scope ids ("fe80::1%eth0") are dropped: the address itself decides.
    return [ipaddress.ip_address(str(entry[4][0]).partition("%")[0]) for entry in found]


async def check_callback_url(url: str) -> Target:
    """The target of a callback_url the app may POST to, or CallbackRefused saying why not."""
    target = parse_target(url)
    if target in _exempt_targets():
        return target
    if target.scheme != "https":
        raise CallbackRefused("callback_url must use https")
    if not host_allowed(target.host, get_settings().callback_allowed_hosts):
        raise CallbackRefused(f"the host of callback_url, {target.host}, is not on this app's allow-list")
    addresses = await _resolve(target.host, target.port)
    refused = [address for address in addresses if not public_address(address)]
    if refused or not addresses:
        shown = refused[0] if refused else "none"
        raise CallbackRefused(
            f"the host of callback_url, {target.host}, resolves to an address that is not public ({shown})"
        )
    return target


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver for deliveries: the addresses it returns, which are the ones the connector
    connects to, are all public (or the host and port are an exempt origin's)."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if any((target.host, target.port) == (host.rstrip("."), port) for target in _exempt_targets()):
            return found
        for entry in found:
            address = ipaddress.ip_address(entry["host"].partition("%")[0])
            if not public_address(address):
                raise AddressRefused(f"{host} resolved to {address}, which is not public")
        return found

    async def close(self) -> None:
        await self._inner.close()
