"""The jambonz control plane against the fake jambonz REST API, through our signed webhook routes.

The fake calls the real gateway routes (`/v1/campaigns/callbacks|hooks/jambonz/{attempt}?sig=`)
of a small app holding the plane, as jambonz would call a node: every never-answered result,
also out of order and repeated; an answered call whose hook gets a `listen` to our WebSocket
with the call's credentials; jambonz's amd reporting a machine; a hook asked before the
create-call reply; a refused API key; and an unsigned or wrongly signed callback changing
nothing.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from agent.campaign.model import Result
from agent.config import Settings
from agent.demo.runner import LoopbackServer
from agent.dialer.base import OriginateFailed, Origination, Progress
from agent.dialer.dialer import sign
from agent.dialer.jambonz import JambonzControl
from agent.server.campaigns_api import gateway
from agent.transports.fakes.control_base import Behaviour, Script
from agent.transports.fakes.control_jambonz import FakeJambonzApi
from tests.campaign.media_peer import MediaPeer, events_until

SECRET = "s" * 32
ENDS = {"busy": Result.busy, "no_answer": Result.no_answer, "failed": Result.failed,
        "not_in_service": Result.not_in_service}


class Node:
    """A node's gateway routes (the real ones) with one jambonz plane behind them."""

    def __init__(self, plane_kwargs: dict[str, object] | None = None) -> None:
        self.kwargs = plane_kwargs or {}
        self.app = FastAPI()
        self.app.include_router(gateway)
        settings = Settings()
        settings.campaigns.callback_secret = SECRET
        self.app.state.settings = settings
        self.server = LoopbackServer(self.app)

    def url(self, kind: str, attempt: int) -> str:
        sig = sign(SECRET, "jambonz", attempt)
        return f"{self.server.base}/v1/campaigns/{kind}/jambonz/{attempt}?sig={sig}"

    def origination(self, attempt: int, to: str = "+12025550111") -> Origination:
        return Origination(attempt, f"call-{attempt}", f"token-{attempt}", to, "+12025550100", 20,
                           status_url=self.url("callbacks", attempt), hook_url=self.url("hooks", attempt))


@pytest.fixture
async def peer() -> AsyncIterator[MediaPeer]:
    async with MediaPeer() as p:
        yield p


async def _run(script: Script, peer: MediaPeer, attempt: int, *, machine_detection: bool = False,
               **fake_kw: bool) -> tuple[FakeJambonzApi, JambonzControl, Node, list[Progress]]:
    fake = FakeJambonzApi(script, **fake_kw)
    node = Node()
    async with LoopbackServer(fake.app) as api, node.server:
        plane = JambonzControl(api.base, fake.account_sid, fake.api_key, peer.url,
                               machine_detection=machine_detection)
        node.app.state.dialer = types.SimpleNamespace(planes={"jambonz": plane})
        try:
            ref = await plane.originate(node.origination(attempt))
            events = await events_until(plane.events, "ended")
            while fake._tasks:  # the fake plays its call to the end (late and repeated callbacks too)
                for task in list(fake._tasks):
                    await task
            assert plane.events.empty(), [plane.events.get_nowait() for _ in range(plane.events.qsize())]
            assert ref in fake.calls
        finally:
            await plane.close()
    return fake, plane, node, list(events)


@pytest.mark.parametrize("out_of_order", [False, True])
@pytest.mark.parametrize("kind", list(ENDS))
async def test_a_call_never_answered_ends_with_its_sip_status(kind: str, out_of_order: bool,
                                                              peer: MediaPeer) -> None:
    fake, _plane, _node, events = await _run(lambda n: Behaviour(kind, 0.05), peer, 1,
                                             out_of_order=out_of_order)
    last = events[-1]
    assert last.result == ENDS[kind]
    call = next(iter(fake.calls.values()))
    assert (call.to, call.caller_id, call.params["timeout"]) == ("+12025550111", "+12025550100", "20")
    assert fake.hook_replies == [] and fake.errors == []


@pytest.mark.parametrize(("out_of_order", "hook_first"), [(False, False), (True, False), (False, True)])
async def test_an_answered_call_listens_to_our_websocket_with_its_credentials(
        out_of_order: bool, hook_first: bool, peer: MediaPeer) -> None:
    fake, _plane, _node, events = await _run(lambda n: Behaviour("answer", 0.05), peer, 2,
                                             out_of_order=out_of_order, hook_first=hook_first)
    kinds = [e.kind for e in events]
    assert kinds.count("answered") == 1 and events[-1].result is None
    (verbs,) = fake.hook_replies
    assert [v["verb"] for v in verbs] == ["listen", "hangup"] and verbs[0]["url"] == peer.url
    meta = peer.metadata[0]
    assert (meta["call_id"], meta["token"], meta["sampleRate"]) == ("call-2", "token-2", 8000)
    assert meta["va_screen"] == "1"  # a campaign call: the runtime screens who answered
    assert peer.subprotocols == ["audio.jambonz.org"] and fake.errors == []


async def test_jambonz_amd_reports_a_machine(peer: MediaPeer) -> None:
    fake, _plane, _node, events = await _run(lambda n: Behaviour("voicemail", 0.05), peer, 3,
                                             machine_detection=True)
    assert any(e.kind == "answered" and e.machine for e in events)
    assert next(iter(fake.calls.values())).params["amd"] == "yes"


async def test_a_refused_api_key_fails_the_originate(peer: MediaPeer) -> None:
    fake = FakeJambonzApi(lambda n: Behaviour())
    node = Node()
    async with LoopbackServer(fake.app) as api:
        plane = JambonzControl(api.base, fake.account_sid, "wrong-key", peer.url)
        try:
            with pytest.raises(OriginateFailed, match="401"):
                await plane.originate(node.origination(4))
            assert plane.application(4) is None  # nothing kept for a call never placed
        finally:
            await plane.close()
    assert fake.calls == {}


async def test_unsigned_callbacks_and_hooks_change_nothing(peer: MediaPeer) -> None:
    node = Node()
    plane = JambonzControl("http://127.0.0.1:9", "acct", "key", peer.url)
    node.app.state.dialer = types.SimpleNamespace(planes={"jambonz": plane})
    plane._calls[5] = node.origination(5)  # a call in flight
    async with node.server, httpx.AsyncClient() as http:
        other = node.url("callbacks", 6).replace("/6?", "/5?")  # attempt 6's signature on attempt 5
        for url in (node.url("callbacks", 5).split("?")[0], other):
            reply = await http.post(url, json={"call_status": "busy", "sip_status": 486})
            assert reply.status_code == 403
        hook = await http.post(node.url("hooks", 5).replace("sig=", "sig=0"), json={})
        assert hook.status_code == 403 and "token-5" not in hook.text
        json_type = {"content-type": "application/json"}
        bad_body = await http.post(node.url("callbacks", 5), content=b"[1,", headers=json_type)
        assert bad_body.status_code == 400
        good = await http.post(node.url("hooks", 5), json={})
        assert good.status_code == 200 and good.json()[0]["metadata"]["token"] == "token-5"
    assert plane.events.empty()
    await plane.close()
