"""A 20-member campaign end to end through the fake Twilio and fake Asterisk control planes.

The real runtime (models, scripts, gate, store) serves on loopback; the dialer claims due
attempts for its call slots, gates each one, and places it through Twilio REST (`Calls.json`
with `<Connect><Stream>`) or Asterisk ARI (`POST /ari/channels`); the fakes ring, are busy,
fail, reach voicemail or answer by script, and an answered call's media comes to
/ws/twilio or /ws/asterisk where a customer presses keys (1 = yes, 2 = wrong person, 9 =
stop calling). Retries fall due on the dialer's clock, which the test moves to the next
planned attempt that the dialer has room for (see `_next_due`), in flight or not, so the
calls overlap as they would on a real day. Every member must reach a final outcome;
nothing is abandoned; no slot is left held. There is no time limit on the run, only a
stall guard (see `_drive`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agent.campaign.model import Campaign
from agent.demo.runner import LoopbackServer, daytime_zone
from agent.dialer.asterisk import AriControl
from agent.dialer.dialer import Dialer
from agent.dialer.twilio import TwilioControl
from agent.server.app import create_app
from agent.store.campaign_models import CampaignAttemptRow
from agent.store.campaigns import CampaignStore
from agent.transports.fakes.base import FakeGateway
from agent.transports.fakes.control_asterisk import FakeAri
from agent.transports.fakes.control_base import (
    PATIENCE_S,
    Behaviour,
    Customer,
    keys_customer,
    wait_for_quiet,
)
from agent.transports.fakes.control_twilio import FakeTwilioApi

pytestmark = [pytest.mark.slow, pytest.mark.models]

SLOTS = {
    "customer_name": "John Smith",
    "company_name": "Acme Finance",
    "amount_due": "1234.50",
    "due_date": "2031-03-05",
    "callback_number": "800-555-0123",
}
# number suffix -> what happens on each successive attempt, and the member's final stop reason
PLAN: dict[int, tuple[tuple[str, ...], str]] = {
    0: (("promise",), "promise"),
    1: (("opt_out",), "opt_out"),
    2: (("wrong",), "wrong_party"),
    3: (("busy", "promise"), "promise"),
    4: (("no_answer", "opt_out"), "opt_out"),
    5: (("failed", "promise"), "promise"),
    6: (("voicemail", "wrong"), "wrong_party"),
    7: (("not_in_service",), "not_in_service"),
    8: (("busy", "no_answer", "promise"), "promise"),
    9: (("promise",), "promise"),
}
KEYS = {"promise": ("1", "1"), "opt_out": ("9",), "wrong": ("2",)}  # the last key of each ends the call
AGAIN = 2  # times a customer asked again presses the last key again
STALL_S = 300  # the safety net: no attempt changed state for this long (a call here takes under a minute)


async def _agent_speaks(gw: FakeGateway, heard: int, timeout_s: float = PATIENCE_S) -> None:
    """Wait until the agent plays audio beyond the first `heard` frames (or the call closes)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while len(gw.played) <= heard and not gw.closed.is_set():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the agent did not speak")
        await asyncio.sleep(0.05)


def _eager_customer(*digits: str, again: list[str]) -> Customer:
    """A customer who acts as early as the script lets them, and presses again when asked again.

    A key that answers a question (1 = yes, it's me) waits for the agent's pause after it; the
    last key ends the call (9 = stop calling, 2 = wrong person, 1 = I'll pay), and a key that
    ends the call interrupts the agent, so it is pressed as soon as the agent speaks again.
    Like a person whose key got no reaction, a customer the agent speaks to again after its
    pause, the call still up, presses the last key again when it pauses (up to AGAIN times);
    each such press is noted in `again` (the failure messages show them).
    """

    async def run(gw: FakeGateway) -> None:
        for n, digit in enumerate(digits):
            if n < len(digits) - 1:
                await wait_for_quiet(gw)
            else:
                await _agent_speaks(gw, len(gw.played))
            if gw.closed.is_set():
                return
            await gw.dtmf(digit)
        for _ in range(AGAIN):
            await wait_for_quiet(gw)  # the end of what the key brought (a goodbye hangs up after it)
            await _agent_speaks(gw, len(gw.played))  # the call goes on: the agent asks again
            await wait_for_quiet(gw)
            if gw.closed.is_set():
                return
            again.append(f"{digits[-1]} again, {gw.now():.1f} s into the call")
            await gw.dtmf(digits[-1])
        await gw.wait_closed(timeout=PATIENCE_S)

    return run


def _script(prefix: str, again: list[str]) -> tuple[Any, Counter[str]]:
    tries: Counter[str] = Counter()

    def behave(number: str) -> Behaviour:
        idx = int(number[-2:]) % 10
        steps = PLAN[idx][0]
        step = steps[min(tries[number], len(steps) - 1)]
        tries[number] += 1
        if step in KEYS:
            return Behaviour("answer", 0.1, _eager_customer(*KEYS[step], again=again))
        return Behaviour(step, 0.1, keys_customer() if step == "voicemail" else None)

    return behave, tries


Row = tuple[int, str, datetime, str]  # attempt id, status, planned at, campaign id


def _attempts(store: Any, ids: list[str]) -> list[Row]:
    with store.transaction() as s:
        a = CampaignAttemptRow
        rows = s.execute(select(a.id, a.status, a.planned_at, a.campaign_id)
                         .where(a.campaign_id.in_(ids)).order_by(a.id))
        return [(int(i), str(st), at, str(c)) for i, st, at, c in rows.all()]


def _results(store: Any, ids: list[str]) -> list[tuple[int, int, str, str | None, str | None]]:
    """Every attempt's (id, member, status, result, refusal): what a failure message shows."""
    with store.transaction() as s:
        a = CampaignAttemptRow
        rows = s.execute(select(a.id, a.member_id, a.status, a.result, a.refusal)
                         .where(a.campaign_id.in_(ids)).order_by(a.member_id, a.id))
        return [(int(i), int(m), str(st), r, f) for i, m, st, r, f in rows.all()]


def _bare_contacts(store: Any, ids: list[str]) -> list[str]:
    """What was said on answered calls that reached no final word (a customer here always ends
    the call with a key): the call's outcome and its turns, to tell a slow agent from a lost key."""
    with store.transaction() as s:
        a = CampaignAttemptRow
        rows = s.execute(select(a.id, a.call_id).where(
            a.campaign_id.in_(ids), a.result.in_(("contact", "no_answer")), a.call_id.is_not(None)))
        found = [(int(i), str(c)) for i, c in rows.all()]
    out = []
    for attempt, call_id in found:
        try:
            rec = store.get_call(call_id)
        except LookupError:
            continue  # rang out: no session
        turns = " | ".join(f"{t.start_ms}ms {t.speaker}: {t.text} [{t.intent}]" for t in rec.transcript)
        out.append(f"attempt {attempt}: outcome {rec.outcome}, {turns}")
    return out


def _next_due(rows: list[Row], dialer: Dialer, room: dict[str, int], now: datetime) -> datetime | None:
    """When the clock should move to: the next planned attempt the dialer could claim now; else None.

    An attempt can be claimed when the node has a free slot and its campaign is under its
    `max_concurrent` (`room`). If one such attempt is already due, the dialer is about to
    claim it and the clock stays. Moving the clock while calls are in flight is sound: what
    a call in flight times by (the gateway's ring timeout, the dialer's longest-call guard,
    its wait for the session's outcome) runs on the event loop's clock; the dialer's clock is
    read only for heartbeats, claims, the gate's grant (the attempt's stamp in the gate's
    history, and the token's expiry, which only grows) and the attempt's end (its
    rest and next plan), and it only moves forward, so a call in flight is stamped, ended
    and replanned in order, as on a real day. The session stamps its own record on the wall
    clock, which the gate's caps do not read.
    """
    if len(dialer.live) >= dialer.slots:
        return None
    flying = Counter(c for _i, status, _p, c in rows if status == "dialing")
    open_ = [p for _i, status, p, c in rows if status == "planned" and flying[c] < room[c]]
    nxt = min(open_, default=None)
    return None if nxt is None or nxt <= now else nxt


async def _drive(store: Any, dialer: Dialer, task: asyncio.Task[None], room: dict[str, int],
                 shift: list[timedelta]) -> str | None:
    """Run the campaigns to their end, moving the dialer's clock over the waits; why not, if stuck.

    Answered calls are real conversations at the speed of speech (15 to 45 s each, slower on
    a loaded machine), up to the dialer's slots at once, so how long this takes depends on
    the machine; nothing here is timed. The one limit is a safety net: no
    attempt changing state for STALL_S (far longer than any call here) means something holds a
    slot or a plan that will never move, and the state of every attempt is returned to say what;
    more attempts than the plan has steps means members are retried past their script.
    """
    ids = list(room)
    most = 2 * sum(len(steps) for steps, _final in PLAN.values())  # both campaigns' scripted attempts
    loop = asyncio.get_running_loop()
    seen, moved = _attempts(store, ids), loop.time()
    while True:
        await asyncio.sleep(0.5)
        if task.done():
            return f"the dialer stopped: {task.exception()!r}"
        rows = _attempts(store, ids)
        if rows and not dialer.live and all(status not in ("planned", "dialing") for _i, status, *_ in rows):
            return None  # every member at a final outcome and no call slot held
        dialled = sum(1 for _i, status, *_ in rows if status in ("done", "dialing"))
        if dialled > most or len(rows) > 2 * most:
            return (f"{dialled} dialled of {len(rows)} attempts; the script has {most}: "
                    f"{_results(store, ids)}; no final word: {_bare_contacts(store, ids)}")
        if rows != seen:
            seen, moved = rows, loop.time()
        elif loop.time() - moved > STALL_S:
            live = {a: (x.ref, x.answered, x.machine, x.ending) for a, x in dialer.live.items()}
            return (f"no attempt moved for {STALL_S} s at {dialer.clock()}: live {live}, "
                    f"attempts {_results(store, ids)}")
        nxt = _next_due(rows, dialer, room, datetime.now(UTC) + shift[0])
        if nxt is not None:  # a slot is free and nothing it could take is due: jump to the next
            shift[0] = nxt - datetime.now(UTC) + timedelta(seconds=1)


async def _run_campaign(runtime: Any) -> None:
    settings = runtime.settings
    zone = daytime_zone("en-US")
    app = create_app(runtime)
    async with LoopbackServer(app) as server:
        ws_base = f"ws://127.0.0.1:{server.port}/ws"
        again: list[str] = []  # keys customers pressed again, asked again after the first got no reaction
        tw_script, tw_tries = _script("tw", again)
        as_script, as_tries = _script("as", again)
        fake_tw = FakeTwilioApi(tw_script)
        fake_ari = FakeAri(as_script, f"{ws_base}/asterisk")
        async with LoopbackServer(fake_tw.app) as tw_srv, LoopbackServer(fake_ari.app) as ari_srv:
            twilio = TwilioControl(
                fake_tw.account_sid,
                fake_tw.auth_token,
                f"{ws_base}/twilio",
                api_base=tw_srv.base,
                machine_detection=True,
            )
            ari = AriControl(ari_srv.base, fake_ari.user, fake_ari.password)
            cs = CampaignStore(
                runtime.store, settings.campaigns.number_key, settings.campaigns.caller_id_secret
            )
            now = datetime.now(UTC)
            ids = {}
            for gateway, area in (("twilio", "202"), ("asterisk", "303")):
                spec = Campaign.model_validate(
                    {
                        "name": f"e2e-{gateway}",
                        "use_case": "repayment_reminder",
                        "jurisdiction": "US",
                        "gateway": gateway,
                        "caller_ids": [f"+1{area}5550100", f"+1{area}5550101"],
                        "window": {"start": "08:00", "end": "21:00"},
                        "pace": {"max_concurrent": 3, "calls_per_second": 5},
                    }
                )
                cid = cs.create(spec, now)
                run_tag = now.strftime("%H%M%S")[-2:]
                cs.add_members(
                    cid,
                    [
                        {
                            "phone": f"+1{area}555{run_tag}{i:02d}",
                            "timezone": zone,
                            "name": "John Smith",
                            "debt_id": f"e2e-{gateway}-{run_tag}-{i}",
                            **SLOTS,
                        }
                        for i in range(10)
                    ],
                    now,
                )
                cs.control(cid, "start", now)
                ids[gateway] = cid
            shift = [timedelta(0)]  # how far the dialer's clock runs ahead of the wall clock
            dialer = Dialer(
                cs,
                runtime.store,
                {"twilio": twilio, "asterisk": ari},
                node_id="e2e-node",
                slots=4,
                public_url=server.base,
                callback_secret=settings.campaigns.callback_secret,
                tick_s=0.2,
                clock=lambda: datetime.now(UTC) + shift[0],
            )
            app.state.dialer = dialer  # the status-callback route finds the dialer here
            task = asyncio.create_task(dialer.serve())
            try:
                room = {cid: Campaign.model_validate(cs.get(cid)["spec"]).pace.max_concurrent
                        for cid in ids.values()}
                stuck = await _drive(runtime.store, dialer, task, room, shift)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            gave_up = [f"{c.to}: {c.customer_error}" for fake in (fake_tw, fake_ari)
                       for c in fake.calls.values() if c.customer_error]
            assert not gave_up, (f"scripted customers gave up (their call ended as a bare contact): "
                                 f"{gave_up}; keys pressed again: {again}")
            assert stuck is None, f"{stuck}; keys pressed again: {again}"
            for gateway, fake, tries in (("twilio", fake_tw, tw_tries), ("asterisk", fake_ari, as_tries)):
                report = cs.report(ids[gateway])
                assert report["planned"] == 0 and report["dialing"] == 0, report
                assert report["abandoned"] == 0
                assert report["refusals"] == {}, report  # the scheduler plans only what the gate grants
                assert report["members_by_state"] == {"done": 10}, report
                expected = Counter(final for _steps, final in PLAN.values())
                assert report["stops"] == dict(expected), report
                assert report["attempts"] == len(fake.calls) == sum(tries.values())
                spec = Campaign.model_validate(cs.get(ids[gateway])["spec"])
                by_number: dict[str, set[str]] = {}
                for call in fake.calls.values():
                    by_number.setdefault(call.to, set()).add(call.caller_id)
                assert all(len(v) == 1 and v <= set(spec.caller_ids) for v in by_number.values())
                assert fake.errors == []
            assert dialer.abandoned == 0


async def test_campaign_e2e_sqlite(call_runtime: Any) -> None:
    await _run_campaign(call_runtime)


@pytest.mark.pg
async def test_campaign_e2e_postgres(call_runtime: Any, pg_url: str) -> None:
    from agent.runtime import Runtime
    from agent.store import Store

    settings = call_runtime.settings.model_copy(deep=True)
    settings.store.url = pg_url
    store = Store.open(pg_url, settings.store.phone_hash_key)
    runtime = Runtime.load(settings, engines=call_runtime.engines, store=store)
    try:
        await _run_campaign(runtime)
    finally:
        store.close()
