"""Bad input on a call socket gets a clear close code; the server keeps serving."""

from __future__ import annotations

import json

import pytest
import websockets

from agent.demo.runner import LoopbackServer, request_call
from agent.server.app import create_app

pytestmark = [pytest.mark.models]


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
        grant = await request_call(server.base, "dev-key-change-me", "en-US", "repayment_reminder", 190)
        start = {"type": "start", "call_id": grant["call_id"], "token": grant["token"]}
        odd = await _close_code(url, json.dumps(start), b"\x01\x02\x03")
        assert odd == 1003  # odd byte count mid-call
        replay = await _close_code(url, json.dumps(start))
        assert replay == 1008  # a call token is single use
        async with __import__("httpx").AsyncClient(base_url=server.base) as http:
            assert (await http.get("/healthz")).status_code == 200
