"""What the control-plane tests share (no models): a stand-in media WebSocket, waiting helpers.

`MediaPeer` accepts mod_audio_fork / jambonz connections, keeps the metadata frame, waits for
the first audio frame and then closes the socket as the runtime does when it hangs up. The
waits have a generous stall guard only (nothing is timed).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from agent.dialer.base import Progress

STALL_S = 20.0  # a wait that takes this long is stuck


async def events_until(queue: asyncio.Queue[Progress], kind: str) -> list[Progress]:
    """A control plane's events up to and including the first of `kind`."""
    seen: list[Progress] = []
    while not seen or seen[-1].kind != kind:
        seen.append(await asyncio.wait_for(queue.get(), STALL_S))
    return seen


async def until(predicate: Callable[[], bool]) -> None:
    """Wait until `predicate()` holds."""
    deadline = asyncio.get_running_loop().time() + STALL_S
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)


class MediaPeer:
    """`async with MediaPeer() as peer:` then point media URLs at `peer.url`."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, Any]] = []
        self.subprotocols: list[str | None] = []
        self.connected = asyncio.Event()
        self._server: Server | None = None
        self.url = ""

    async def __aenter__(self) -> MediaPeer:
        self._server = await serve(self._handle, "127.0.0.1", 0,
                                   subprotocols=["audio.drachtio.org", "audio.jambonz.org"])  # type: ignore[list-item]
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        first = await ws.recv()
        self.metadata.append(json.loads(first))
        self.subprotocols.append(ws.subprotocol)
        self.connected.set()
        while isinstance(await ws.recv(), str):  # up to the first audio frame
            pass
        await ws.close(1000, "hangup")
