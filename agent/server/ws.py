"""The WebSocket side of a call: one adapter converts the wire, one session runs the call.

Bounds everything a peer can send (message size, what may come before `start`, how long
`start` may take) and turns protocol errors into a clear close code and a log line; the
server keeps serving. Audio goes out through the adapter; control and audio frames are
sent with the right WebSocket frame type.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from agent.call.contracts import CallOutput
from agent.call.session import CallSession
from agent.logs import bind_call
from agent.transports.base import (
    AudioIn,
    CallStart,
    DtmfIn,
    FlowControl,
    MarkEcho,
    PeerHangup,
    ProtocolError,
    WireAdapter,
    WireMessage,
)

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # authentication failed
CLOSE_TOO_BIG = 1009
CLOSE_ERROR = 1011
CLOSE_TRY_AGAIN = 1013  # overloaded or store unavailable


class Refused(Exception):
    """The call may not run (bad credentials, gate refusal, store down); closes with `code`."""

    def __init__(self, message: str, code: int = CLOSE_POLICY) -> None:
        super().__init__(message)
        self.code = code


class WsOutput(CallOutput):
    """Sends the session's output through the adapter onto the WebSocket."""

    def __init__(self, ws: WebSocket, adapter: WireAdapter) -> None:
        self._ws = ws
        self._adapter = adapter
        self._lock = asyncio.Lock()
        self.closed = False

    async def _send(self, messages: list[WireMessage]) -> None:
        if self.closed:
            return
        async with self._lock:
            for msg in messages:
                try:
                    if isinstance(msg, bytes):
                        await self._ws.send_bytes(msg)
                    else:
                        await self._ws.send_text(msg)
                except (WebSocketDisconnect, RuntimeError):
                    self.closed = True
                    return

    async def audio(self, pcm16k: np.ndarray) -> None:
        await self._send(self._adapter.audio(pcm16k))

    async def clear(self) -> None:
        await self._send(self._adapter.clear())

    async def mark(self, name: str) -> None:
        await self._send(self._adapter.mark(name))

    async def hangup(self, reason: str) -> None:
        await self._send(self._adapter.hangup(reason))

    async def notify(self, event: Mapping[str, Any]) -> None:
        await self._send(self._adapter.notify(event))


def _subprotocol(ws: WebSocket, adapter: WireAdapter) -> str | None:
    offered = ws.scope.get("subprotocols") or []
    for name in offered:
        if name in adapter.subprotocols:
            return str(name)
    return None


async def _receive(ws: WebSocket, max_bytes: int) -> tuple[str | None, bytes | None]:
    """One WebSocket message as (text, None) or (None, bytes); raises WebSocketDisconnect."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", CLOSE_NORMAL))
    text, data = message.get("text"), message.get("bytes")
    size = len(text.encode()) if text is not None else len(data or b"")
    if size > max_bytes:
        raise ProtocolError(f"message of {size} bytes is over the {max_bytes}-byte limit", CLOSE_TOO_BIG)
    return text, data


async def run_call_socket(ws: WebSocket, adapter: WireAdapter, runtime: Any) -> None:
    """Serve one gateway connection to its end, whatever the peer does."""
    await ws.accept(subprotocol=_subprotocol(ws, adapter))
    max_bytes = runtime.settings.server.max_message_bytes
    session: CallSession | None = None
    task: asyncio.Task[Any] | None = None
    out = WsOutput(ws, adapter)
    close_code, reason = CLOSE_NORMAL, "call ended"
    try:
        start = await asyncio.wait_for(_await_start(ws, adapter, max_bytes), START_TIMEOUT_S)
        setup = await runtime.admit(start)
        session = runtime.new_session(setup, out)
        await out._send(adapter.accepted(setup.call_id))
        with bind_call(setup.call_id):
            task = asyncio.create_task(session.run())
        receiver = asyncio.create_task(_pump(ws, adapter, session, max_bytes))
        done, _ = await asyncio.wait({task, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if receiver in done:
            exc = receiver.exception()
            session.peer_hung_up()
            await task
            if exc is not None:
                raise exc
        else:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
        if runtime.metrics is not None:
            runtime.metrics.call_finished(task.result().outcome)
    except TimeoutError:
        close_code, reason = CLOSE_POLICY, "no start message in time"
    except ProtocolError as exc:
        close_code, reason = exc.close_code, str(exc)
    except Refused as exc:
        close_code, reason = exc.code, str(exc)
        if runtime.metrics is not None:
            runtime.metrics.refusal("not_admitted")
    except WebSocketDisconnect:
        close_code, reason = CLOSE_NORMAL, "peer closed"
    except Exception:  # noqa: BLE001 - one bad call must never take the server down
        log.exception("call socket failed")
        close_code, reason = CLOSE_ERROR, "internal error"
    finally:
        if task is not None and not task.done():
            if session is not None:
                session.peer_hung_up()
            await asyncio.gather(task, return_exceptions=True)
    if close_code != CLOSE_NORMAL:
        log.warning("closing %s connection: %s (%d)", adapter.protocol, reason, close_code)
        await out.notify({"type": "error", "code": close_code, "message": reason})
    out.closed = True
    if ws.application_state == WebSocketState.CONNECTED and ws.client_state == WebSocketState.CONNECTED:
        try:
            await ws.close(code=close_code, reason=reason[:120])
        except RuntimeError:
            pass


async def _await_start(ws: WebSocket, adapter: WireAdapter, max_bytes: int) -> CallStart:
    for _ in range(64):  # a few keep-alives or a `connected` may come before the start
        text, data = await _receive(ws, max_bytes)
        events = adapter.on_text(text) if text is not None else adapter.on_binary(data or b"")
        for event in events:
            if isinstance(event, CallStart):
                return event
            if isinstance(event, PeerHangup):
                raise WebSocketDisconnect(CLOSE_NORMAL)
    raise ProtocolError("too many messages before the call's start message", CLOSE_POLICY)


async def _pump(ws: WebSocket, adapter: WireAdapter, session: CallSession, max_bytes: int) -> None:
    """Read the peer until it hangs up, feeding the session."""
    while not session.ended.is_set():
        try:
            text, data = await _receive(ws, max_bytes)
        except WebSocketDisconnect:
            return
        events = adapter.on_text(text) if text is not None else adapter.on_binary(data or b"")
        for event in events:
            if isinstance(event, AudioIn):
                session.feed_audio(event.pcm)
            elif isinstance(event, DtmfIn):
                session.feed_dtmf(event.digit)
            elif isinstance(event, MarkEcho):
                session.mark_echoed(event.name, event.cleared)
            elif isinstance(event, FlowControl):
                session.set_paused(event.paused)
            elif isinstance(event, PeerHangup):
                return
            elif isinstance(event, CallStart):
                raise ProtocolError("a second start message on the same call")
