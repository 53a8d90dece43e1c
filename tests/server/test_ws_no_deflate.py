"""Call sockets are served without permessage-deflate: audio frames are not compressed on the event loop."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from agent.server.ws import UVICORN_WS_OPTIONS


async def _echo(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_bytes(await ws.receive_bytes())
    await ws.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _extensions(options: dict[str, object]) -> list[str]:
    """The extensions a client offering permessage-deflate gets from uvicorn run with `options`."""
    port = _free_port()
    app = Starlette(routes=[WebSocketRoute("/ws", _echo)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           log_config=None, **options))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", compression="deflate") as ws:
            header = ws.response.headers.get("Sec-WebSocket-Extensions", "")
            await ws.send(b"\x00\x01" * 160)
            assert await ws.recv() == b"\x00\x01" * 160
        return [part.strip() for part in header.split(",") if part.strip()]
    finally:
        server.should_exit = True
        await task


async def test_a_call_socket_negotiates_no_compression() -> None:
    assert await _extensions(UVICORN_WS_OPTIONS) == []


async def test_uvicorn_would_deflate_by_default() -> None:
    assert any("permessage-deflate" in e for e in await _extensions({}))
