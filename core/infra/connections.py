"""Clients for Redis, the storage queue and the tables: created on first use, then reused."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ResourceExistsError
from azure.data.tables.aio import TableClient
from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy
from azure.storage.queue.aio import QueueClient
from redis.asyncio import Redis

from core.infra.callback_target import CheckedResolver
from core.infra.redis_failover import FailoverRedis
from core.settings import get_settings

# Every storage call fails fast and retries little: a hung endpoint must not hold a turn for the SDK's
# default of minutes (connection 20 s, read 60 s, 3-10 retries with back-off).
STORAGE_OPTIONS: dict[str, Any] = {"connection_timeout": 3, "read_timeout": 10, "retry_total": 2}


class Connections:
    """One set of clients per event loop; the Functions worker runs every invocation on one loop."""

    def __init__(self) -> None:
        self._redis: FailoverRedis | None = None
        self._http: aiohttp.ClientSession | None = None
        self._callback_http: aiohttp.ClientSession | None = None
        self._queues: dict[tuple[str, bool], QueueClient] = {}
        self._tables: dict[str, TableClient] = {}
        self._identity: ManagedIdentityCredential | DefaultAzureCredential | None = None
        self._lock = asyncio.Lock()

    def redis(self) -> FailoverRedis:
        """The primary Redis, with the backup (REDIS_BACKUP_URL) taking over while the primary is down."""
        if self._redis is None:
            settings = get_settings()
            if not settings.redis_url:
                raise RuntimeError("the setting REDIS_URL is required")
            # Short timeouts: a primary that hangs must fail over within the turn's time budget.
            timeout = settings.redis_timeout_seconds

            def client(url: str) -> Redis:
                return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

            backup = client(settings.redis_backup_url) if settings.redis_backup_url else None
            self._redis = FailoverRedis(
                client(settings.redis_url),
                backup,
                retry_primary_after=settings.redis_retry_primary_seconds,
            )
        return self._redis

    def http(self) -> aiohttp.ClientSession:
        """The one HTTP session for provider calls; each call sets its own timeout."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300))
        return self._http

    def callback_http(self) -> aiohttp.ClientSession:
        """The HTTP session for callbacks, apart from the providers' one: its resolver refuses addresses
        that are not public, and with no DNS cache every new connection is checked again. A few
        connections per receiver, so one slow receiver cannot take every connection."""
        if self._callback_http is None or self._callback_http.closed:
            self._callback_http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    resolver=CheckedResolver(), use_dns_cache=False, limit=50, limit_per_host=4
                ),
                trust_env=False,
            )
        return self._callback_http

    async def queue(self, name: str, *, raw: bool = False) -> QueueClient:
        """A client for one queue; `raw` sends and returns message text as stored, with no codec."""
        client = self._queues.get((name, raw))
        if client is None:
            async with self._lock:
                client = self._queues.get((name, raw)) or await self._open_queue(name, raw)
                self._queues[(name, raw)] = client
        return client

    async def table(self, name: str) -> TableClient:
        client = self._tables.get(name)
        if client is None:
            async with self._lock:
                client = self._tables.get(name) or await self._open_table(name)
                self._tables[name] = client
        return client

    def _credential(self) -> AsyncTokenCredential:
        """The managed identity storage is reached with when no connection string is set."""
        if self._identity is None:
            client_id = get_settings().storage_client_id
            self._identity = (
                ManagedIdentityCredential(client_id=client_id) if client_id else DefaultAzureCredential()
            )
        return self._identity

    async def _open_queue(self, name: str, raw: bool) -> QueueClient:
        client = self.queue_client(name, raw=raw)
        with contextlib.suppress(ResourceExistsError):
            await client.create_queue()
        return client

    def queue_client(self, name: str, *, raw: bool = False) -> QueueClient:
        """A new client for one queue: by connection string (Azurite, keys), else by managed identity."""
        settings = get_settings()
        # The Functions host base64-decodes queue messages unless host.json says "none"; the SDK
        # encodes nothing unless told to, so both sides are set from the same setting.
        base64 = settings.queue_message_encoding == "base64" and not raw
        encode = BinaryBase64EncodePolicy() if base64 else None
        decode = BinaryBase64DecodePolicy() if base64 else None
        return (
            QueueClient.from_connection_string(
                settings.storage_connection,
                name,
                message_encode_policy=encode,
                message_decode_policy=decode,
                **STORAGE_OPTIONS,
            )
            if settings.storage_connection
            else QueueClient(
                settings.storage_queue_uri,
                name,
                credential=self._credential(),
                message_encode_policy=encode,
                message_decode_policy=decode,
                **STORAGE_OPTIONS,
            )
        )

    async def _open_table(self, name: str) -> TableClient:
        client = self.table_client(name)
        with contextlib.suppress(ResourceExistsError):
            await client.create_table()
        return client

    def table_client(self, name: str) -> TableClient:
        """A new client for one table: by connection string (Azurite, keys), else by managed identity."""
        settings = get_settings()
        return (
            TableClient.from_connection_string(settings.storage_connection, name, **STORAGE_OPTIONS)
            if settings.storage_connection
            else TableClient(
                settings.storage_table_uri, name, credential=self._credential(), **STORAGE_OPTIONS
            )
        )

    async def close(self) -> None:
        for queue in self._queues.values():
            await queue.close()
        for table in self._tables.values():
            await table.close()
        if self._redis is not None:
            await self._redis.aclose()
        if self._http is not None:
            await self._http.close()
        if self._callback_http is not None:
            await self._callback_http.close()
        if self._identity is not None:
            await self._identity.close()
        self._identity = None
        self._http = None
        self._callback_http = None
        self._queues.clear()
        self._tables.clear()
        self._redis = None


_by_loop: dict[asyncio.AbstractEventLoop, Connections] = {}


def connections() -> Connections:
    loop = asyncio.get_running_loop()
    found = _by_loop.get(loop)
    if found is None:
        found = _by_loop[loop] = Connections()
    return found
