"""A TCP proxy in front of a real server, to simulate its outages without stopping it: `refuse()` closes
the listener and resets open connections (a dead server), `blackhole()` swallows what clients send (a
hung one), `restore()` brings it back."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from devhost.stack import LOCALHOST, free_port


class Proxy:
    """Forwards TCP to a server; `refuse()` closes everything, `blackhole()` swallows what clients send."""

    @classmethod
    def in_front_of(cls, url: str) -> Proxy:
        port = urlsplit(url).port
        assert port is not None, url
        return cls(port)

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.url = f"redis://{LOCALHOST}:{self.port}/0"
        self.chunks = 0  # reads from clients, in any mode: "did anything reach this server?"
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._blackholed = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, LOCALHOST, self.port)

    async def refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()  # a reset for pooled connections, as when a server dies

    def blackhole(self) -> None:
        self._blackholed = True

    async def restore(self) -> None:
        self._blackholed = False
        if self._server is None:
            await self.start()

    async def stop(self) -> None:
        await self.refuse()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(LOCALHOST, self._target_port)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer, count=True)),
            asyncio.ensure_future(self._pump(up_reader, writer, count=False)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            for end in (writer, up_writer):
                end.transport.abort()
                self._writers.discard(end)
            self._tasks.difference_update(pumps)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, count: bool) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if count:
                    self.chunks += 1
                    if self._blackholed:
                        continue
                sink.write(data)
                await sink.drain()
