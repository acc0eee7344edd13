"""How core reaches storage: a connection string locally (Azurite), the managed identity on Azure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.identity.aio import ManagedIdentityCredential

from core.infra.connections import Connections
from core.settings import get_settings

QUEUES = "https://stinterviews.queue.core.windows.net"
TABLES = "https://stinterviews.table.core.windows.net"


@pytest.fixture
def identity_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv("AzureWebJobsStorage__credential", "managedidentity")
    monkeypatch.setenv("AzureWebJobsStorage__clientId", "00000000-0000-0000-0000-00000000abcd")
    monkeypatch.setenv("AzureWebJobsStorage__queueServiceUri", QUEUES)
    monkeypatch.setenv("AzureWebJobsStorage__tableServiceUri", TABLES)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_with_the_identity_settings_storage_is_reached_by_the_user_assigned_identity(
    identity_settings: None,
) -> None:
    connections = Connections()
    queue = connections.queue_client("interview-jobs")
    table = connections.table_client("interviews")
    assert queue.url.startswith(QUEUES) and table.url.startswith(TABLES)
    assert isinstance(queue.credential, ManagedIdentityCredential)
    assert table.credential is queue.credential  # one identity, one token cache, for every client
    assert queue._config.retry_policy.total_retries == 2
    await connections.close()


def test_a_queue_uri_without_a_table_uri_is_refused(
    identity_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AzureWebJobsStorage__tableServiceUri")
    with pytest.raises(RuntimeError, match="tableServiceUri"):
        get_settings()
