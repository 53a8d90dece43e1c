"""Bad input on a call socket gets a clear close code; the server keeps serving (issues 11, 12).

Real runtime (models) on loopback: the cases that need an admitted call, a granted call
in the store, or the gate itself. The cases that end before admission run without
models in tests/transports/test_ws_runner.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import websockets

from agent.demo.runner import LoopbackServer, request_call
from agent.server.app import create_app
from agent.transports.fakes import FakeAsterisk

pytestmark = [pytest.mark.models]

KEY = "dev-key-change-me"
SECRET = "native-secret-for-tests"


async def _close_code(url: str, *messages: str | bytes) -> int:
    async with websockets.connect(url) as ws:
        for message in messages:
            await ws.send(message)
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
    return -1


async def _status(base: str, call_id: str) -> str:
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": KEY}) as http:
        reply = await http.get(f"/v1/calls/{call_id}")
        reply.raise_for_status()
        return str(reply.json()["status"])


async def _until_started(ws: Any) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(ws.recv(), 30)
        if isinstance(message, str) and json.loads(message).get("type") == "started":
            return dict(json.loads(message))


@pytest.fixture
def native_secret(call_runtime: Any) -> Iterator[str]:
    secrets = call_runtime.settings.transports.shared_secrets
    secrets["native"] = SECRET
    yield SECRET
    secrets.pop("native", None)


async def test_bad_messages_close_cleanly_and_the_server_keeps_serving(call_runtime: object) -> None:
    async with LoopbackServer(create_app(call_runtime)) as server:
        url = f"ws://127.0.0.1:{server.port}/ws/native"
        assert await _close_code(url, "not json") == 1003
        assert await _close_code(url, json.dumps({"type": "dance"})) == 1003
        assert await _close_code(url, b"\x00\x01") == 1003  # audio before start
        assert await _close_code(url, json.dumps({"type": "start"})) == 1008  # no call id
        bad_token = {"type": "start", "call_id": "nope", "token": "nope"}
        assert await _close_code(url, json.dumps(bad_token)) == 1008
        assert await _close_code(url, "x" * 70000) == 1009
        grant = await request_call(server.base, KEY, "en-US", "repayment_reminder", 190)
        start = {"type": "start", "call_id": grant["call_id"], "token": grant["token"]}
        odd = await _close_code(url, json.dumps(start), b"\x01\x02\x03")
        assert odd == 1003  # odd byte count mid-call
        replay = await _close_code(url, json.dumps(start))
        assert replay == 1008  # a call token is single use
        async with httpx.AsyncClient(base_url=server.base) as http:
            assert (await http.get("/healthz")).status_code == 200


async def test_the_native_shared_secret_stands_in_for_the_token_never_for_the_grant(
    call_runtime: object, native_secret: str
) -> None:
    """Issue 12.7: the README's start form and the code agree."""
    async with LoopbackServer(create_app(call_runtime)) as server:
        url = f"ws://127.0.0.1:{server.port}/ws/native"
        readme_old_form = {"type": "start", "secret": native_secret, "script": "repayment_reminder",
                           "locale": "en-US", "slots": {"customer_name": "Ann"}}
        assert await _close_code(url, json.dumps(readme_old_form)) == 1008
        no_grant = {"type": "start", "call_id": "never-granted", "secret": native_secret}
        assert await _close_code(url, json.dumps(no_grant)) == 1008
        grant = await request_call(server.base, KEY, "en-US", "repayment_reminder", 191)
        wrong = {"type": "start", "call_id": grant["call_id"], "secret": "not-the-secret-é"}
        assert await _close_code(url, json.dumps(wrong)) == 1008  # non-ASCII: refused, not a TypeError
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"type": "start", "call_id": grant["call_id"], "secret": native_secret}))
            started = await _until_started(ws)
            assert started["call_id"] == grant["call_id"]
            await ws.send(json.dumps({"type": "hangup"}))
        assert await _status(server.base, grant["call_id"]) != "granted"


async def test_asterisk_calls_on_a_stale_query_never_get_each_others_call(call_runtime: object) -> None:
    """Issue 11.6: Asterisk resends the previous call's v() query on later calls of a websocket_client."""
    async with LoopbackServer(create_app(call_runtime)) as server:
        url = f"ws://127.0.0.1:{server.port}/ws/asterisk"
        first = await request_call(server.base, KEY, "en-US", "repayment_reminder", 192)
        second = await request_call(server.base, KEY, "en-US", "repayment_reminder", 193)
        stale = {"call_id": first["call_id"], "token": first["token"]}  # never used: the first call failed
        # the second call's own channel variables win over the stale query
        async with FakeAsterisk(url, call_id=second["call_id"], token=second["token"], var_prefix="__",
                                query=stale) as gw:
            await gw.wait_for("answer", timeout=30)
            await gw.hangup()
        assert await _status(server.base, second["call_id"]) != "granted"
        assert await _status(server.base, first["call_id"]) == "granted"
        # a call whose dialplan set no variables is refused, never given the stale query's call
        async with FakeAsterisk(url, query=stale) as gw:
            assert await gw.wait_closed(10) == 1008
            assert not gw.of_kind("answer")
        assert await _status(server.base, first["call_id"]) == "granted"


async def test_a_flood_of_unknown_events_is_cut_off_and_barely_logged(
    call_runtime: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12.5: 10,000 unknown events used to write 1.5 MB of logs and stall the loop for seconds."""
    async with LoopbackServer(create_app(call_runtime)) as server:
        grant = await request_call(server.base, KEY, "en-US", "repayment_reminder", 194)
        sid = "MZ" + "7" * 32
        start = {"event": "start", "sequenceNumber": "1", "streamSid": sid,
                 "start": {"streamSid": sid, "callSid": "CA" + "7" * 32,
                           "customParameters": {"call_id": grant["call_id"], "token": grant["token"]}}}
        with caplog.at_level(logging.INFO):
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/twilio") as ws:
                await ws.send(json.dumps(start))
                try:
                    for i in range(10000):
                        await ws.send(json.dumps({"event": f"bogus{i}", "sequenceNumber": str(i + 2),
                                                  "streamSid": sid}))
                    while True:
                        await asyncio.wait_for(ws.recv(), 30)
                except websockets.ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else -1
        # over the message budget: closed with 1008, and the connection dropped soon after
        # (a peer too busy sending to read our close frame sees it simply end: 1006)
        assert code in (1008, 1006)
        assert any("(1008)" in r.getMessage() and "messages" in r.getMessage() for r in caplog.records)
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("agent.transports")]
        assert len(lines) <= 6 and sum(len(line) for line in lines) < 2000, lines
        async with httpx.AsyncClient(base_url=server.base) as http:
            assert (await http.get("/healthz")).status_code == 200


async def test_an_audio_flood_is_dropped_and_the_key_press_behind_it_opts_out(
    call_runtime: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12.5: 30 s of audio sent at once used to delay a DTMF 9 behind it by seconds."""
    async with LoopbackServer(create_app(call_runtime)) as server:
        grant = await request_call(server.base, KEY, "en-US", "repayment_reminder", 195)
        rng = np.random.default_rng(5)
        flood = (rng.standard_normal(320 * 1500) * 3000).astype("<i2")  # 30 s of loud noise
        with caplog.at_level(logging.WARNING, logger="agent.transports"):
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/native") as ws:
                start = {"type": "start", "call_id": grant["call_id"], "token": grant["token"]}
                await ws.send(json.dumps(start))
                await _until_started(ws)
                for i in range(0, len(flood), 320):
                    await ws.send(flood[i : i + 320].tobytes())
                await ws.send(json.dumps({"type": "dtmf", "digit": "9"}))
                events: list[dict[str, Any]] = []
                try:
                    while not any(e.get("type") == "opt_out" for e in events):
                        message = await asyncio.wait_for(ws.recv(), 30)
                        if isinstance(message, str):
                            events.append(json.loads(message))
                except websockets.ConnectionClosed:
                    pass
        assert any(e.get("type") == "opt_out" for e in events), events
        assert any("audio faster than real time" in r.getMessage() for r in caplog.records)
