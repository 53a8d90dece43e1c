"""The socket runner on a real server (no models): upgrade checks, clean closes, bounds, the call gauge.

Everything here happens before a call is admitted, so the runtime is the real one with its
store and no engines loaded (admitting a call would need them: see tests/e2e).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from agent.config import Settings
from agent.demo.runner import LoopbackServer
from agent.runtime import Runtime
from agent.server.app import create_app
from agent.server.auth import twilio_signature
from agent.server.ws_upgrade import signed_urls
from agent.store.store import Store

AUTH_TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://voice.example.com"
TWILIO_START = {"event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
                "start": {"streamSid": "MZ1", "callSid": "CA1",
                          "customParameters": {"call_id": "never-granted", "token": "x"}}}


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings()
    settings.store.url = f"sqlite:///{tmp_path / 'runner.db'}"
    store = Store.open(settings.store.url, "test-hash-key")
    yield Runtime(settings=settings, engines=None, store=store)
    store.close()


@pytest.fixture
async def server(runtime: Runtime) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer(create_app(runtime)) as running:
        yield running


async def _close_code(url: str, *messages: str | bytes, headers: dict[str, str] | None = None) -> int | None:
    async with websockets.connect(url, additional_headers=headers, max_size=None) as ws:
        for message in messages:
            await ws.send(message)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 15)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


def test_signed_urls_are_the_wss_form_of_the_public_url() -> None:
    assert signed_urls("https://voice.example.com", "/ws/twilio", "") == [
        "wss://voice.example.com/ws/twilio", "wss://voice.example.com:443/ws/twilio"]
    assert signed_urls("https://voice.example.com:443/agent/", "/ws/twilio", "a=1")[0] == (
        "wss://voice.example.com:443/agent/ws/twilio?a=1")
    assert signed_urls("http://10.0.0.5:8080", "/ws/twilio", "") == ["ws://10.0.0.5:8080/ws/twilio"]
    assert signed_urls("", "/ws/twilio", "") == []


@pytest.mark.parametrize("signature", [None, "", "d3Jvbmc=", "signed-for-another-path"])
async def test_twilio_upgrade_without_a_valid_signature_is_refused(
    runtime: Runtime, server: LoopbackServer, signature: str | None
) -> None:
    runtime.settings.transports.twilio_auth_token = AUTH_TOKEN
    runtime.settings.server.public_url = PUBLIC
    if signature == "signed-for-another-path":
        signature = twilio_signature("wss://voice.example.com/ws/jambonz", {}, AUTH_TOKEN)
    headers = {"X-Twilio-Signature": signature} if signature is not None else None
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/twilio", additional_headers=headers)
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("signed", ["wss://voice.example.com/ws/twilio", "wss://voice.example.com:443/ws/twilio"])
async def test_twilio_upgrade_with_the_right_signature_is_admitted_to_the_gate(
    runtime: Runtime, server: LoopbackServer, signed: str
) -> None:
    runtime.settings.transports.twilio_auth_token = AUTH_TOKEN
    runtime.settings.server.public_url = PUBLIC
    headers = {"X-Twilio-Signature": twilio_signature(signed, {}, AUTH_TOKEN)}
    url = f"ws://127.0.0.1:{server.port}/ws/twilio"
    code = await _close_code(url, json.dumps(TWILIO_START), headers=headers)
    assert code == 1008  # past the signature: the gate refuses the never-granted call


async def test_twilio_without_an_auth_token_checks_no_signature(server: LoopbackServer) -> None:
    assert await _close_code(f"ws://127.0.0.1:{server.port}/ws/twilio", json.dumps(TWILIO_START)) == 1008


async def test_a_peer_that_leaves_before_the_close_leaves_no_traceback(server: LoopbackServer) -> None:
    """Issue 11.8: the server's close to a peer already gone raised WebSocketDisconnect out of the app."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    watched = [logging.getLogger(), logging.getLogger("uvicorn.error")]
    for logger in watched:
        logger.addHandler(handler)
    try:
        native = {"type": "start", "call_id": "never-granted", "token": "x"}
        for path, start in (("twilio", TWILIO_START), ("native", native)):
            for delay in (0.0, 0.001, 0.005, 0.02):
                for abort in (True, False):
                    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/{path}")
                    await ws.send(json.dumps(start))
                    if delay:
                        await asyncio.sleep(delay)
                    if abort:
                        ws.transport.abort()  # the TCP connection just drops
                    else:
                        await ws.close()
        await asyncio.sleep(0.5)
    finally:
        for logger in watched:
            logger.removeHandler(handler)
    logs = buf.getvalue()
    assert "Exception in ASGI application" not in logs and "Traceback" not in logs, logs[-2000:]
    async with httpx.AsyncClient(base_url=server.base) as http:
        assert (await http.get("/healthz")).status_code == 200


async def test_idle_unauthenticated_sockets_are_not_active_calls(server: LoopbackServer) -> None:
    sockets = [await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/native") for _ in range(30)]
    try:
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=server.base) as http:
            text = (await http.get("/metrics")).text
        assert "voice_agent_active_calls 0.0" in text.splitlines()
    finally:
        for ws in sockets:
            await ws.close()


@pytest.mark.parametrize(
    ("path", "message", "code"),
    [
        ("native", json.dumps({"type": "d" * 32000}), 1009),
        ("native", "[" * 30000 + "]" * 30000, 1003),
        ("native", json.dumps({"type": "start", "call_id": "c", "token": "t", "sample_rate": 16000.0}), 1003),
        ("twilio", json.dumps({"event": "d" * 32000}), 1009),
        ("jambonz", "{" + '"a":' * 20 + "1" + "}" * 20, 1003),
        ("asterisk", json.dumps({"event": "MEDIA_START", "format": "slin16", "optimal_frame_size": 2,
                                 "channel_variables": {"CALL_ID": "c", "TOKEN": "t"}}), 1003),
    ],
)
async def test_hostile_first_messages_close_cleanly(
    server: LoopbackServer, path: str, message: str, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert await _close_code(f"ws://127.0.0.1:{server.port}/ws/{path}", message) == code
    assert not [r for r in caplog.records if r.exc_info], "a hostile message must not end in a traceback"
    assert all(len(r.getMessage()) < 400 for r in caplog.records)


async def test_the_message_budget_closes_a_flood_before_start(server: LoopbackServer) -> None:
    """Twilio allows `connected` keep-alives before `start`; 64 at most, then the socket is closed."""
    connected = json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    assert await _close_code(f"ws://127.0.0.1:{server.port}/ws/twilio", *[connected] * 100) == 1008
