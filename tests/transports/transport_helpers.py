"""Shared helpers for the transport tests: tones, audio checks and a loopback bot server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from agent.audio.resample import resample
from agent.transports.base import CallStart, DtmfIn, InboundEvent, MarkEcho, ProtocolError


def tone(freq: float = 1000.0, seconds: float = 1.0, rate: int = 16000, amp: int = 8000) -> np.ndarray:
    """A sine tone as int16."""
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 2000) -> float:
    """Peak normalised correlation of a against b over small lags (delays from filters)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    best = 0.0
    for lag in range(0, max_lag):
        n = min(len(a) - lag, len(b))
        if n < 400:
            break
        x, y = a[lag : lag + n], b[:n]
        den = np.sqrt((x * x).sum() * (y * y).sum())
        if den:
            best = max(best, float((x * y).sum() / den))
    return best


def max_step(pcm: np.ndarray) -> int:
    """Largest sample-to-sample jump: a click shows up as an outlier."""
    return int(np.abs(np.diff(pcm.astype(np.int32))).max())


def chunks(pcm: np.ndarray, n: int = 320) -> list[np.ndarray]:
    """Split into n-sample chunks (last may be short)."""
    return [pcm[i : i + n] for i in range(0, len(pcm), n)]


def one_shot(pcm: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Reference resampling of a whole buffer."""
    return resample(pcm, in_rate, out_rate)


@dataclass
class BotLog:
    """What the loopback bot saw."""

    events: list[InboundEvent] = field(default_factory=list)
    errors: list[ProtocolError] = field(default_factory=list)
    subprotocol: str | None = None

    def of(self, kind: type) -> list[InboundEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    def audio_seconds(self) -> float:
        return sum(len(e.pcm) for e in self.events if hasattr(e, "pcm")) / 16000


@contextlib.asynccontextmanager
async def bot_server(adapter_cls: type, greeting: np.ndarray) -> AsyncIterator[tuple[str, BotLog]]:
    """A tiny bot on loopback: greets with `greeting` + mark 'greet', `9` clears, `0` hangs up."""
    log = BotLog()

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        headers = {k.lower(): v for k, v in ws.request.headers.raw_items()}
        adapter = adapter_cls(headers=headers, query={})
        log.subprotocol = ws.subprotocol
        try:
            async for frame in ws:
                events = adapter.on_text(frame) if isinstance(frame, str) else adapter.on_binary(frame)
                for event in events:
                    log.events.append(event)
                    out: list[str | bytes] = []
                    if isinstance(event, CallStart):
                        out += adapter.accepted("call-1")
                        for piece in [greeting[i : i + 320] for i in range(0, len(greeting), 320)]:
                            out += adapter.audio(piece)
                        out += adapter.mark("greet")
                    elif isinstance(event, DtmfIn) and event.digit == "9":
                        out += adapter.clear()
                    elif isinstance(event, DtmfIn) and event.digit == "0":
                        for message in adapter.hangup("done"):
                            await ws.send(message)
                        await ws.close(1000, "hangup")
                        return
                    elif isinstance(event, MarkEcho):
                        pass
                    for message in out:
                        await ws.send(message)
        except ProtocolError as exc:
            log.errors.append(exc)
            await ws.close(exc.close_code, str(exc)[:100])
        except ConnectionClosed:
            pass

    protocols = list(adapter_cls.subprotocols) or None
    async with serve(handler, "127.0.0.1", 0, subprotocols=protocols) as server:  # type: ignore[arg-type]
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/{adapter_cls.protocol}", log
        await asyncio.sleep(0)
