"""The stack the devhost tests run against, and how they feed its queues."""

import base64
import contextlib
from dataclasses import dataclass
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient

from devhost.stack import Service

SAMPLE_APP = Path(__file__).resolve().parent / "sample_app"
FUNCTION_KEY = "sample-function-key"
MASTER_KEY = "sample-master-key"


def existing_queue(connection_string: str, name: str) -> QueueClient:
    """A client for the queue, created if the devhost has not created it yet.

    It sees the queue as any other producer does: text goes on the wire exactly as given.
    """
    client = QueueClient.from_connection_string(connection_string, name)
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
    return client


@dataclass(frozen=True)
class SampleStack:
    devhost: Service
    redis_url: str
    storage: str

    @property
    def base_url(self) -> str:
        return self.devhost.url

    def queue(self, name: str) -> QueueClient:
        return existing_queue(self.storage, name)

    def send_base64(self, queue_name: str, body: bytes) -> str:
        """Enqueue `body` base64-encoded, as host.json's messageEncoding expects; return the message id."""
        with self.queue(queue_name) as queue:
            return queue.send_message(base64.b64encode(body).decode("ascii")).id
