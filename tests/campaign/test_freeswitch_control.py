"""The FreeSWITCH control plane against the fake Event Socket (a real TCP server speaking ESL).

Every result a never-answered call can end with, also when the events come out of order;
an answered call forked to our WebSocket with its credentials and hung up when the fork
closes; a machine from the dialplan's amd; a refused password; a socket that drops with
calls in flight (reconnected and reconciled, or given up on), and a dialer whose call
slots all come back after the drop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from agent.campaign.model import Campaign, Result
from agent.dialer.base import OriginateFailed, Origination
from agent.dialer.dialer import Dialer
from agent.dialer.esl import EslAuthError
from agent.dialer.freeswitch import FreeswitchControl
from agent.store import Store
from agent.store.campaigns import CampaignStore
from agent.transports.fakes.control_base import Behaviour, Script
from agent.transports.fakes.control_freeswitch import FakeEsl
from tests.campaign.media_peer import MediaPeer, events_until, until

ENDS = {"busy": Result.busy, "no_answer": Result.no_answer, "failed": Result.failed,
        "not_in_service": Result.not_in_service}


def _o(attempt: int, to: str = "+12025550111") -> Origination:
    return Origination(attempt, f"call-{attempt}", f"token-{attempt}", to, "+12025550100", 20)


async def _settle(fake: FakeEsl) -> None:
    """Wait until the fake has played every call to its end."""
    while fake._tasks:
        await asyncio.gather(*list(fake._tasks), return_exceptions=True)


@pytest.fixture
async def peer() -> AsyncIterator[MediaPeer]:
    async with MediaPeer() as p:
        yield p


async def _pair(script: Script, peer: MediaPeer, *, out_of_order: bool = False, fork_fails: bool = False,
                target: str = "&park()", lost_after_s: float = 60.0) -> tuple[FakeEsl, FreeswitchControl]:
    fake = FakeEsl(script, out_of_order=out_of_order, fork_fails=fork_fails)
    port = await fake.start()
    plane = FreeswitchControl("127.0.0.1", port, fake.password, peer.url, reconnect_s=0.05, target=target,
                              lost_after_s=lost_after_s)
    await plane.start()
    return fake, plane


@pytest.mark.parametrize("out_of_order", [False, True])
@pytest.mark.parametrize("kind", list(ENDS))
async def test_a_call_never_answered_ends_with_its_cause(kind: str, out_of_order: bool,
                                                         peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour(kind, 0.05), peer, out_of_order=out_of_order)
    try:
        ref = await plane.originate(_o(1))
        events = await events_until(plane.events, "ended")
        await _settle(fake)
        assert events[-1].result == ENDS[kind] and events[-1].attempt_id == 1
        assert plane.events.empty()  # the hangup and the job's -ERR end it once
        call = fake.calls[ref]
        assert (call.to, call.caller_id) == ("+12025550111", "+12025550100")
        assert call.params["originate_timeout"] == "20" and call.params["origination_uuid"] == ref
        assert fake.errors == []
    finally:
        await plane.close()
        await fake.close()


@pytest.mark.parametrize("out_of_order", [False, True])
async def test_an_answered_call_is_forked_with_its_credentials_and_hung_up_when_the_fork_closes(
        out_of_order: bool, peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour("answer", 0.05), peer, out_of_order=out_of_order)
    try:
        ref = await plane.originate(_o(2))
        events = await events_until(plane.events, "ended")
        await _settle(fake)
        kinds = [e.kind for e in events]
        assert kinds.count("answered") == 1 and events[-1].result is None  # the session's outcome decides
        assert "ringing" not in kinds[kinds.index("answered"):]
        meta = peer.metadata[0]
        assert (meta["call_id"], meta["token"], meta["sampleRate"]) == ("call-2", "token-2", 8000)
        assert meta["va_screen"] == "1"  # a campaign call: the runtime screens who answered
        assert peer.subprotocols == ["audio.drachtio.org"]
        assert fake.calls[ref].events[-3:] == ["fork-closed", "kill", "CHANNEL_HANGUP_COMPLETE"]
        assert fake.errors == []  # the channel was not left parked
    finally:
        await plane.close()
        await fake.close()


async def test_a_machine_from_the_dialplans_amd_is_reported(peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour("voicemail", 0.05), peer, target="voice-agent XML outbound")
    try:
        await plane.originate(_o(3))
        events = await events_until(plane.events, "ended")
        assert any(e.kind == "answered" and e.machine for e in events)
        assert any(c.endswith(" voice-agent XML outbound") for c in fake.commands if c.startswith("bgapi"))
    finally:
        await plane.close()
        await fake.close()


async def test_a_call_hung_up_while_ringing_ends_as_not_answered(peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour("answer", 30), peer)
    try:
        ref = await plane.originate(_o(11))
        await until(lambda: "CHANNEL_PROGRESS" in fake.calls[ref].events)
        await plane.hangup(ref)
        events = await events_until(plane.events, "ended")
        assert events[-1].result == Result.no_answer and events[-1].detail == "ORIGINATOR_CANCEL"
    finally:
        await plane.close()
        await fake.close()


async def test_a_refused_password_fails_the_start(peer: MediaPeer) -> None:
    fake = FakeEsl(lambda n: Behaviour())
    port = await fake.start()
    plane = FreeswitchControl("127.0.0.1", port, "ClueCon", peer.url)
    try:
        with pytest.raises(EslAuthError):
            await plane.start()
        assert fake.auth_failures == 1
        with pytest.raises(OriginateFailed, match="not connected"):
            await plane.originate(_o(4))
    finally:
        await plane.close()
        await fake.close()


async def test_a_failed_fork_fails_the_attempt_and_kills_the_channel(peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour("answer", 0.05), peer, fork_fails=True)
    try:
        ref = await plane.originate(_o(5))
        events = await events_until(plane.events, "ended")
        await _settle(fake)
        assert events[-1].result == Result.failed and "uuid_audio_fork" in events[-1].detail
        assert "kill" in fake.calls[ref].events
    finally:
        await plane.close()
        await fake.close()


async def test_numbers_that_would_inject_into_the_originate_are_refused(peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour(), peer)
    try:
        with pytest.raises(OriginateFailed, match="refusing"):
            await plane.originate(_o(6, to="+1202 &api(system)"))
        assert fake.calls == {}
    finally:
        await plane.close()
        await fake.close()


async def test_a_dropped_socket_is_reconnected_and_a_call_it_may_have_missed_is_failed_and_killed(
        peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour("answer", 30), peer)  # rings for a long time
    try:
        ref = await plane.originate(_o(7))
        await until(lambda: "CHANNEL_PROGRESS" in fake.calls[ref].events)
        fake.drop()
        events = await events_until(plane.events, "ended")
        assert events[-1].result == Result.failed and "socket was down" in events[-1].detail
        assert fake.connections == 2 and "kill" in fake.calls[ref].events
        second = await plane.originate(_o(8))  # the plane dials again on the new socket
        assert second in fake.calls
    finally:
        await plane.close()
        await fake.close()


async def test_a_socket_that_stays_down_ends_the_calls_in_flight(peer: MediaPeer) -> None:
    fake, plane = await _pair(lambda n: Behaviour("answer", 30), peer, lost_after_s=0.2)
    try:
        ref = await plane.originate(_o(9))
        await until(lambda: "CHANNEL_PROGRESS" in fake.calls[ref].events)
        assert fake._server is not None
        fake._server.close()  # no new connections
        await fake._server.wait_closed()
        fake.drop()
        events = await events_until(plane.events, "ended")
        assert events[-1].result == Result.failed and "stayed down" in events[-1].detail
        with pytest.raises(OriginateFailed, match="not connected"):
            await plane.originate(_o(10))
    finally:
        await plane.close()
        await fake.close()


# --- the dialer over a dropping socket: no call slot is leaked ------------------------------------

T0 = datetime(2025, 6, 9, 13, 0, tzinfo=UTC)  # Monday 09:00 in New York
LATER = T0 + timedelta(days=1)
SPEC = Campaign.model_validate({
    "name": "fs", "use_case": "repayment_reminder", "jurisdiction": "US", "gateway": "freeswitch",
    "caller_ids": ["+12025550100"], "pace": {"max_concurrent": 5, "calls_per_second": 50},
})


@pytest.fixture
def stores(sqlite_url: str) -> Iterator[tuple[Store, CampaignStore]]:
    store = Store.open(sqlite_url, "k" * 32)
    yield store, CampaignStore(store, "n" * 32, "c" * 32)
    store.close()


async def test_the_dialer_gets_every_slot_back_when_the_socket_drops(
        stores: tuple[Store, CampaignStore], peer: MediaPeer) -> None:
    store, cs = stores
    cid = cs.create(SPEC, T0)
    cs.add_members(cid, [{"phone": f"+1202555{1000 + i}", "timezone": "America/New_York", "name": f"Pat {i}",
                          "debt_id": f"D{i}", "amount_due": "10.00"} for i in range(3)], T0)
    cs.control(cid, "start", T0)
    fake, plane = await _pair(lambda n: Behaviour("answer", 30), peer)
    dialer = Dialer(cs, store, {"freeswitch": plane}, node_id="n1", slots=3, public_url="http://node",
                    callback_secret="s" * 32, clock=lambda: LATER, tick_s=3600)
    follow = asyncio.create_task(dialer._follow(plane))
    try:
        await dialer.tick()
        assert len(dialer.live) == 3 and cs.report(cid)["dialing"] == 3
        await until(lambda: all("CHANNEL_PROGRESS" in c.events for c in fake.calls.values()))
        fake.drop()
        await until(lambda: not dialer.live)
        report = cs.report(cid)
        assert report["dialing"] == 0 and report["results"] == {"failed": 3}
        assert all("kill" in c.events for c in fake.calls.values())
    finally:
        follow.cancel()
        await asyncio.gather(follow, return_exceptions=True)
        await plane.close()
        await fake.close()
