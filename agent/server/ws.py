"""The WebSocket side of a call: one adapter converts the wire, one session runs the call.

Bounds everything a peer can send (message size, what may come before `start`, how long
`start` may take, how many messages and how much audio a second) and turns protocol
errors into a clear close code and a log line; the server keeps serving. Anomalies (unknown
events and the like) are logged at a limited rate, never one line per message. Audio goes
out through the adapter; control and audio frames are sent with the right frame type.
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
from agent.server.ws_upgrade import upgrade_headers, upgrade_refusal
from agent.transports.anomalies import AnomalyLog, warn_limited
from agent.transports.base import (
    INTERNAL_RATE,
    AudioIn,
    CallStart,
    DtmfIn,
    FlowControl,
    Ignored,
    InboundEvent,
    MarkEcho,
    PeerHangup,
    ProtocolError,
    WireAdapter,
    WireMessage,
)
from agent.transports.budget import BudgetExceeded, ConnectionBudget
from agent.transports.closes import (
    CLOSE_ERROR,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    Refused,
)

__all__ = ["CLOSE_ERROR", "CLOSE_NORMAL", "CLOSE_POLICY", "CLOSE_TOO_BIG", "CLOSE_TRY_AGAIN", "Refused",
           "WsOutput", "run_call_socket"]

log = logging.getLogger(__name__)

# uvicorn's WebSocket settings for every server that takes calls: no permessage-deflate. PCM and
# mu-law barely compress, and deflating every 20 ms frame each way ran on the event loop (loopwatch:
# encode and decode among what the loop ran while late at 16 calls).
UVICORN_WS_OPTIONS: dict[str, Any] = {"ws_per_message_deflate": False}

START_TIMEOUT_S = 10.0
MAX_REASON_CHARS = 200  # a close reason as logged (the close frame itself carries at most 120)
DROP_AFTER_S = 0.1  # a flooding peer's connection is aborted this long after our close frame


class WsOutput(CallOutput):
    """Sends the session's output through the adapter onto the WebSocket."""

    def __init__(self, ws: WebSocket, adapter: WireAdapter) -> None:
        self._ws = ws
        self._adapter = adapter
        self._lock = asyncio.Lock()
        self.closed = False
        self.buffers_audio = adapter.buffers_audio

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


class Inbound:
    """The reading side of one connection: size limit, budgets, rate-limited anomaly log."""

    def __init__(self, ws: WebSocket, adapter: WireAdapter, max_bytes: int) -> None:
        self._ws = ws
        self._adapter = adapter
        self._max_bytes = max_bytes
        self._loop = asyncio.get_running_loop()
        self.budget = ConnectionBudget(self._loop.time())
        self.anomalies = AnomalyLog(adapter.protocol)

    async def events(self) -> list[InboundEvent]:
        """The events of the next message (anomalies and audio over budget already taken out)."""
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", CLOSE_NORMAL))
        now = self._loop.time()
        self.budget.message(now)
        text, data = message.get("text"), message.get("bytes")
        size = len(text) if text is not None else len(data or b"")  # chars <= bytes: a cheap first check
        if text is not None and size <= self._max_bytes < 4 * size:
            size = len(text.encode())
        if size > self._max_bytes:
            raise ProtocolError(f"message of {size} bytes is over the {self._max_bytes}-byte limit",
                                CLOSE_TOO_BIG)
        raw = self._adapter.on_text(text) if text is not None else self._adapter.on_binary(data or b"")
        if not _audio_or_routine(raw):
            self.budget.control(now)
        events: list[InboundEvent] = []
        for event in raw:
            if isinstance(event, Ignored):
                if event.anomaly:
                    self.anomalies.note(event.what, event.detail)
            elif isinstance(event, AudioIn) and not self.budget.audio(len(event.pcm) / INTERNAL_RATE, now):
                self.anomalies.note("audio faster than real time dropped")
            else:
                events.append(event)
        return events


def _audio_or_routine(events: list[InboundEvent]) -> bool:
    """True for a media message or a routine keep-alive/status; those do not count as control."""
    if any(isinstance(event, AudioIn) for event in events):
        return True
    return bool(events) and all(isinstance(event, Ignored) and not event.anomaly for event in events)


async def run_call_socket(ws: WebSocket, adapter: WireAdapter, runtime: Any) -> None:
    """Serve one gateway connection to its end, whatever the peer does."""
    refusal = upgrade_refusal(adapter.protocol, runtime.settings, ws.url.path, ws.url.query,
                              upgrade_headers(ws.scope))
    if refusal is not None:
        warn_limited("refusing %s upgrade: %s", adapter.protocol, refusal)
        if runtime.metrics is not None:
            runtime.metrics.refusal("bad_signature")
        await ws.close(code=CLOSE_POLICY)  # before accept: the upgrade gets HTTP 403
        return
    try:
        await ws.accept(subprotocol=_subprotocol(ws, adapter))
    except (WebSocketDisconnect, OSError):
        return  # the peer left before the handshake finished
    inbound = Inbound(ws, adapter, runtime.settings.server.max_message_bytes)
    out = WsOutput(ws, adapter)
    close_code, reason, abusive = await _serve(ws, adapter, runtime, inbound, out)
    inbound.anomalies.close()
    if close_code != CLOSE_NORMAL:
        reason = reason[:MAX_REASON_CHARS]
        warn_limited("closing %s connection: %s (%d)", adapter.protocol, reason, close_code)
        await out.notify({"type": "error", "code": close_code, "message": reason})
    out.closed = True
    if ws.application_state == WebSocketState.CONNECTED and ws.client_state == WebSocketState.CONNECTED:
        try:
            await ws.close(code=close_code, reason=reason[:120])
        except (RuntimeError, WebSocketDisconnect, OSError):
            pass  # the peer is already gone: nothing left to tell it
    if abusive:
        _drop_connection(ws)


def _drop_connection(ws: WebSocket) -> None:
    """Abort, shortly after our close frame, the TCP connection of a peer closed for flooding.

    A graceful close keeps reading until the peer answers it, and a flooding peer answers
    only after everything it has queued: the server would parse thousands of frames for
    nothing. The peer gets `DROP_AFTER_S` to read the close frame (and its code), then the
    connection is aborted. ASGI has no abort, so this reaches the server's transport when
    it can (uvicorn's protocols expose it) and otherwise leaves the close to the server.
    """
    protocol = getattr(ws._receive, "__self__", None)  # noqa: SLF001 - no public way to abort
    transport = getattr(protocol, "transport", None)
    abort = getattr(transport, "abort", None)
    if callable(abort):
        asyncio.get_running_loop().call_later(DROP_AFTER_S, abort)


async def _serve(ws: WebSocket, adapter: WireAdapter, runtime: Any, inbound: Inbound,
                 out: WsOutput) -> tuple[int, str, bool]:
    """Admit the call and run it; returns the close code, the reason, and whether the peer flooded."""
    session: CallSession | None = None
    task: asyncio.Task[Any] | None = None
    counted = False
    try:
        start = await asyncio.wait_for(_await_start(inbound), START_TIMEOUT_S)
        setup = await runtime.admit(start)
        session = runtime.new_session(setup, out)
        if runtime.metrics is not None:
            runtime.metrics.active_calls.inc()  # admitted calls only, never bare sockets
            counted = True
        await out._send(adapter.accepted(setup.call_id))
        with bind_call(setup.call_id):
            task = asyncio.create_task(session.run())
        receiver = asyncio.create_task(_pump(inbound, session))
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
        return CLOSE_NORMAL, "call ended", False
    except TimeoutError:
        return CLOSE_POLICY, "no start message in time", False
    except ProtocolError as exc:
        return exc.close_code, str(exc), isinstance(exc, BudgetExceeded)
    except Refused as exc:
        if runtime.metrics is not None:
            runtime.metrics.refusal("not_admitted")
        return exc.code, str(exc), False
    except (WebSocketDisconnect, OSError):
        return CLOSE_NORMAL, "peer closed", False
    except Exception:  # noqa: BLE001 - one bad call must never take the server down
        log.exception("call socket failed")
        return CLOSE_ERROR, "internal error", False
    finally:
        if task is not None and not task.done():
            if session is not None:
                session.peer_hung_up()
            await asyncio.gather(task, return_exceptions=True)
        if counted:
            runtime.metrics.active_calls.dec()


async def _await_start(inbound: Inbound) -> CallStart:
    for _ in range(64):  # a few keep-alives or a `connected` may come before the start
        for event in await inbound.events():
            if isinstance(event, CallStart):
                return event
            if isinstance(event, PeerHangup):
                raise WebSocketDisconnect(CLOSE_NORMAL)
    raise ProtocolError("too many messages before the call's start message", CLOSE_POLICY)


async def _pump(inbound: Inbound, session: CallSession) -> None:
    """Read the peer until it hangs up, feeding the session."""
    while not session.ended.is_set():
        try:
            events = await inbound.events()
        except (WebSocketDisconnect, OSError):
            return
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
