"""The fakes' lines send what they claim: gaps when suppressed, late bursts when jittery, early closes.

A recorder server on loopback notes when each message arrives; every fake gateway (and the
native link the demo and bench use) plays the same script: 0.3 s of silence, 0.4 s of
speech, 0.4 s of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from transport_helpers import tone
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from agent.demo.links import NativeLink, make_link
from agent.transports.fakes import FAKES, FakeGateway
from agent.transports.fakes.line import FRAME_S, LINES, Line, Network, line_for

GATEWAYS = [("twilio", {}), ("jambonz", {}), ("freeswitch", {}), ("asterisk", {}),
            ("asterisk", {"plain": True})]
IDS = ["twilio", "jambonz", "freeswitch", "asterisk-json", "asterisk-plain"]
SPEECH_FRAMES = 20  # 0.4 s


# ---- the line model itself (pure) ---------------------------------------------------------


def test_a_continuous_line_delivers_on_time() -> None:
    net = Network(LINES["continuous"])
    assert [net.release(i * FRAME_S) for i in range(100)] == [i * FRAME_S for i in range(100)]


def test_jitter_is_late_never_early_never_reordered_and_bursts_after_stalls() -> None:
    line = line_for("jitter")
    net = Network(line)
    sent = [i * FRAME_S for i in range(3000)]  # one minute of frames
    arrived = [net.release(t) for t in sent]
    late = [a - t for a, t in zip(arrived, sent, strict=True)]
    assert min(late) >= 0 and arrived == sorted(arrived)
    assert max(late) <= line.stall_frames[1] * FRAME_S + line.jitter_ms / 1000 + 1e-9
    bursts = _bursts(arrived)
    assert len(bursts) >= 30 and max(bursts) >= line.stall_frames[0]  # stalls every ~25 frames, 3-8 long
    gaps = np.diff(arrived)
    assert gaps.max() >= line.stall_frames[0] * FRAME_S - 1e-9  # the silence before each burst
    again = Network(line)
    assert [again.release(t) for t in sent[:200]] == arrived[:200]  # the same seed, the same line


def test_lines_by_name() -> None:
    assert line_for("suppressed").suppress_silence and not line_for("continuous").suppress_silence
    both = line_for("suppressed+jitter")
    assert both.suppress_silence and both.jitter_ms == line_for("jitter").jitter_ms
    assert line_for(Line(jitter_ms=5)).jitter_ms == 5 and Line(jitter_ms=5).name.startswith("line(")
    with pytest.raises(ValueError):
        line_for("lossy")


def _bursts(arrived: list[float], within: float = 0.002) -> list[int]:
    """Sizes of runs of messages that arrived (nearly) together, runs of 3 or more."""
    runs, size = [], 1
    for a, b in itertools.pairwise(arrived):
        if b - a <= within:
            size += 1
        else:
            if size >= 3:
                runs.append(size)
            size = 1
    if size >= 3:
        runs.append(size)
    return runs


# ---- over a socket ------------------------------------------------------------------------


@dataclass
class Seen:
    """What the recorder saw on one connection: (arrival time since open, message), and the close."""

    opened: float = 0.0
    messages: list[tuple[float, str | bytes]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    closed_at: float = 0.0
    close_code: int | None = None

    def media(self) -> list[tuple[float, str | bytes]]:
        return [(t, m) for t, m in self.messages if _is_media(m)]


def _is_media(message: str | bytes) -> bool:
    """Binary audio, or a Twilio `media` event."""
    if isinstance(message, bytes):
        return True
    try:
        return bool(json.loads(message).get("event") == "media")
    except ValueError:
        return False  # Asterisk's plain-text control


@contextlib.asynccontextmanager
async def recorder() -> AsyncIterator[tuple[str, list[Seen]]]:
    seen: list[Seen] = []

    async def handler(ws: ServerConnection) -> None:
        record = Seen(opened=time.monotonic())
        seen.append(record)
        try:
            async for message in ws:
                record.messages.append((time.monotonic() - record.opened, message))
        except ConnectionClosed:
            pass
        finally:
            record.closed_at = time.monotonic() - record.opened
            record.close_code = ws.close_code
            record.closed.set()

    def first_offered(_: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        return offered[0] if offered else None  # whatever the fake asks for, or none

    async with serve(handler, "127.0.0.1", 0, select_subprotocol=first_offered) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}", seen


class _Sink:
    """The customer side of a native link, here only listening."""

    def on_agent_audio(self, t: float) -> None: ...

    def on_clear(self, t: float) -> None: ...

    def on_event(self, event: dict[str, Any]) -> None: ...

    def on_closed(self) -> None: ...


async def _play_script(
    name: str, options: dict[str, Any], url: str, line: str | Line, drop: str | None = None
) -> Any:
    """0.3 s silence, 0.4 s speech, 0.4 s silence; returns the fake (or native link)."""
    speech = tone(seconds=SPEECH_FRAMES * FRAME_S)
    if name == "native":
        link = make_link("native", url, "call-1", "tok-1", line=line, drop=drop)
        assert isinstance(link, NativeLink)
        await link.open(_Sink())
        if drop not in ("before_start", "after_start"):
            await asyncio.sleep(0.3)
            await link.speak(speech, lambda t: None)
            await asyncio.sleep(0.4)
        await link.close()
        return link
    gw: FakeGateway = FAKES[name](url, call_id="call-1", token="tok-1", line=line, drop=drop, **options)
    await gw.connect()
    if drop not in ("before_start", "after_start"):
        await asyncio.sleep(0.3)
        with contextlib.suppress(asyncio.CancelledError):
            await gw.play(speech)
        await asyncio.sleep(0.4)
    await gw.close()
    return gw


ALL = [*GATEWAYS, ("native", {})]
ALL_IDS = [*IDS, "native"]


@pytest.mark.parametrize(("name", "options"), ALL, ids=ALL_IDS)
async def test_continuous_line_sends_a_frame_every_tick(name: str, options: dict[str, Any]) -> None:
    async with recorder() as (url, seen):
        peer = await _play_script(name, options, url, "continuous")
        await asyncio.wait_for(seen[0].closed.wait(), 5)
    media = seen[0].media()
    assert len(media) == peer.sent_frames >= 40  # 1.1 s of line at 20 ms, silence included
    assert media[0][0] < 0.25  # silence flows before the first word


@pytest.mark.parametrize(("name", "options"), ALL, ids=ALL_IDS)
async def test_suppressed_line_sends_nothing_while_silent(name: str, options: dict[str, Any]) -> None:
    async with recorder() as (url, seen):
        peer = await _play_script(name, options, url, "suppressed")
        await asyncio.wait_for(seen[0].closed.wait(), 5)
    media = seen[0].media()
    assert len(media) == SPEECH_FRAMES == peer.sent_frames  # the speech, not one frame more
    assert media[0][0] >= 0.28  # nothing before the first word
    assert seen[0].closed_at - media[-1][0] >= 0.3  # and nothing after it, while the line stayed open
    if name == "twilio":
        chunks = [int(json.loads(m)["media"]["chunk"]) for _, m in media]
        stamps = [int(json.loads(m)["media"]["timestamp"]) for _, m in media]
        assert chunks == list(range(1, SPEECH_FRAMES + 1))  # consecutive chunks...
        assert stamps[0] >= 280  # ...while the timestamp says how long the line was quiet


def _handshake(name: str) -> int:
    return 2 if name == "twilio" else 1


@pytest.mark.parametrize(("name", "options"), ALL, ids=ALL_IDS)
async def test_jittery_line_delivers_late_in_bursts_in_order(name: str, options: dict[str, Any]) -> None:
    line = Line(jitter_ms=20.0, stall_chance=0.15, stall_frames=(4, 6), seed=7)
    async with recorder() as (url, seen):
        peer = await _play_script(name, options, url, line)
        await asyncio.wait_for(seen[0].closed.wait(), 5)
    media = seen[0].media()
    assert len(media) == peer.sent_frames >= 40  # nothing lost
    arrived = [t for t, _ in media]
    assert _bursts(arrived, within=0.005), "no burst of 3+ frames arrived together"
    assert max(np.diff(arrived)) >= 0.06  # the stall before a burst
    if name == "twilio":
        seqs = [int(json.loads(m)["sequenceNumber"]) for _, m in seen[0].messages[1:]]  # after `connected`
        assert seqs == sorted(seqs)  # in order, as TCP keeps it


@pytest.mark.parametrize(("name", "options"), ALL, ids=ALL_IDS)
@pytest.mark.parametrize("drop", ["before_start", "after_start", "mid_utterance"])
async def test_early_closes(name: str, options: dict[str, Any], drop: str) -> None:
    async with recorder() as (url, seen):
        await _play_script(name, options, url, "suppressed", drop=drop)
        await asyncio.wait_for(seen[0].closed.wait(), 5)
    record = seen[0]
    if drop == "before_start":
        assert record.messages == []
    elif drop == "after_start":
        assert len(record.messages) == _handshake(name) and not record.media()
    else:
        assert len(record.media()) == SPEECH_FRAMES // 2  # cut off halfway through the words
    assert record.close_code == 1001  # going away, with no goodbye of the protocol's own
