"""The fake gateways against each adapter over a real loopback WebSocket, at real time."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from transport_helpers import best_correlation, bot_server, tone

from agent.transports import ADAPTERS
from agent.transports.base import CallStart, DtmfIn, MarkEcho
from agent.transports.fakes import FAKES, FakeGateway

PROTOCOLS = ["twilio", "jambonz", "freeswitch", "asterisk"]


def make(name: str, url: str) -> FakeGateway:
    return FAKES[name](url, call_id="call-1", token="tok-1")


@pytest.mark.asyncio
@pytest.mark.parametrize("name", PROTOCOLS)
async def test_greeting_plays_at_real_time_and_mark_echoes_after_it(name: str) -> None:
    greeting = tone(seconds=0.4)
    async with bot_server(ADAPTERS[name], greeting) as (url, log):
        async with make(name, url) as gw:
            mark = await gw.wait_for("mark")
            played = await asyncio.wait_for(_wait_echo(log), 3)
            assert played == MarkEcho("greet", cleared=False)
            heard = gw.received_audio()
            assert gw.errors == []
            span = gw.played[-1][0] - gw.played[0][0]
            assert 0.3 <= span <= 0.6, span  # 0.4 s played at real time, not in a burst
            assert 0.38 <= len(heard) / 16000 <= 0.5
            assert best_correlation(heard, greeting, 400) > 0.95
            assert mark.data["name"] in ("greet",)
            start = log.of(CallStart)[0]
            assert isinstance(start, CallStart) and start.call_id == "call-1" and start.token == "tok-1"
            if ADAPTERS[name].subprotocols:
                assert gw.subprotocol in ADAPTERS[name].subprotocols
            if name == "asterisk":
                assert gw.of_kind("answer")


async def _wait_echo(log) -> MarkEcho:  # type: ignore[no-untyped-def]
    while not log.of(MarkEcho):
        await asyncio.sleep(0.01)
    echo = log.of(MarkEcho)[0]
    assert isinstance(echo, MarkEcho)
    return echo


@pytest.mark.asyncio
@pytest.mark.parametrize("name", PROTOCOLS)
async def test_barge_in_clears_queue_and_mark_resolves_as_cleared(name: str) -> None:
    async with bot_server(ADAPTERS[name], tone(seconds=3.0)) as (url, log):
        async with make(name, url) as gw:
            await gw.wait_for("mark")
            speech = tone(freq=300, seconds=0.2)
            await gw.play(speech)
            await gw.dtmf("9")
            await gw.wait_for("clear")
            echo = await asyncio.wait_for(_wait_echo(log), 2)
            assert echo == MarkEcho("greet", cleared=True)
            await asyncio.sleep(0.1)
            heard = len(gw.received_audio()) / 16000
            assert heard < 1.0  # the 3 s greeting was cut off
            assert gw.queued_samples == 0
            assert log.of(DtmfIn) == [DtmfIn("9")]
            assert log.audio_seconds() >= 0.2
            assert gw.errors == []


@pytest.mark.asyncio
@pytest.mark.parametrize("name", PROTOCOLS)
async def test_bot_hangup_closes_and_caller_hangup_reaches_bot(name: str) -> None:
    async with bot_server(ADAPTERS[name], np.zeros(320, dtype=np.int16)) as (url, log):
        async with make(name, url) as gw:
            await gw.dtmf("0")
            code = await gw.wait_closed(3)
            assert code == 1000
            if name in ("jambonz", "freeswitch", "asterisk"):
                assert gw.of_kind("hangup")
        async with make(name, url) as gw:
            await gw.wait_for("mark")
            await gw.hangup()
        await asyncio.sleep(0.1)
        assert log.errors == []
