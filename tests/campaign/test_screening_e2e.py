"""Answer screening end to end: campaign calls through the fake Asterisk ARI and its media path.

The runtime on fake engines (scripted VAD and ASR, marker TTS: agent/testing/fakes.py) serves
on loopback; the dialer places each member's first attempt through ARI; the fake Asterisk
answers and connects slin16 media (so the scripted frames reach the fake VAD and ASR intact)
where the "customer" is a voicemail greeting with its beep, a carrier announcement, or a
person who says "Hello?". What the gateway heard is read back as TTS text from the audio's
markers. A US voicemail gets exactly the script's limited-content message; a CN voicemail is
hung up on in silence; a carrier intercept ends with the carrier result; none of them counts
as a conversation. The person hears the AI disclosure first and opts out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from sqlalchemy import select

from agent.campaign.model import Campaign
from agent.campaign.report import report_table
from agent.compliance.redact import redact
from agent.demo.runner import LoopbackServer, daytime_zone
from agent.demo.scenarios import demo_slots
from agent.dialer.asterisk import AriControl
from agent.dialer.dialer import Dialer
from agent.dialogue import engine as dialogue
from agent.dialogue.events import Say
from agent.server.app import create_app
from agent.store.campaign_models import CampaignAttemptRow
from agent.store.campaigns import CampaignStore
from agent.store.models import AttemptRow
from agent.testing.fakes import FakeEngines
from agent.transports.fakes.base import FakeGateway
from agent.transports.fakes.control_asterisk import FakeAri
from agent.transports.fakes.control_base import Behaviour, Customer

pytestmark = pytest.mark.slow  # real-time calls (about 15 s), no model weights

STALL_S = 120.0  # the safety net only: these calls take seconds
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Any]:
    """The runtime on fake engines in both locales, rules-only NLU, a fresh SQLite store."""
    from agent.config import Settings
    from agent.runtime import Runtime

    settings = Settings()
    settings.store.url = f"sqlite:///{tmp_path / 'calls.db'}"
    settings.dialogue.prompts_dir = ROOT / "prompts"
    settings.models.dir = ROOT / "models"
    settings.engines.locales = ["en-US", "zh-CN"]
    yield Runtime.load(settings, engines=FakeEngines(), semantic_nlu=False)


def _beep(ms: int = 400, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(16 * ms) / 16000
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def _machine(engines: FakeEngines, words: str, ms: int, *, beep: bool) -> Customer:
    async def run(gw: FakeGateway) -> None:
        await gw.play(engines.book.silence(200))
        await gw.play(engines.book.line(words, ms))
        if beep:
            await gw.play(engines.book.silence(300))
            await gw.play(_beep())
        await gw.wait_closed(timeout=60)

    return run


def _person(engines: FakeEngines) -> Customer:
    async def run(gw: FakeGateway) -> None:
        await gw.play(engines.book.silence(300))
        await gw.play(engines.book.line("Hello?", 500))
        await gw.wait_for("media", timeout=60)  # the agent speaks: the disclosure
        await asyncio.sleep(0.6)  # hear some of it before the key (a key at once clears it unheard)
        await gw.dtmf("9")
        await gw.wait_closed(timeout=60)

    return run


def _heard(gw: FakeGateway, engines: FakeEngines) -> list[str]:
    """The TTS texts the gateway played, in order (each once per stretch), from the audio's markers."""
    out: list[str] = []
    for _, frame in gw.played:
        values, counts = np.unique(frame, return_counts=True)
        text = engines.markers.get(int(values[np.argmax(counts)]))
        if text is not None and (not out or out[-1] != text):
            out.append(text)
    return out


async def test_screening_through_ari_voicemail_carrier_and_a_person(runtime: Any) -> None:
    engines: FakeEngines = runtime.engines
    settings = runtime.settings
    us_vm, us_carrier, us_person = "+12025550141", "+12025550142", "+12025550143"
    cn_vm, cn_carrier = "+8613800138041", "+8613800138042"
    greeting = "Hi, you've reached John. Please leave a message after the tone."
    customers = {
        us_vm: _machine(engines, greeting, 3000, beep=True),
        us_carrier: _machine(engines, "The wireless customer you are calling is not available.", 3000,
                             beep=False),
        us_person: _person(engines),
        cn_vm: _machine(engines, "您好，我现在不方便接听，请在提示音后留言", 2500, beep=True),
        cn_carrier: _machine(engines, "您拨打的电话已关机", 2000, beep=False),
    }
    app = create_app(runtime)
    async with LoopbackServer(app) as server:
        fake_ari = FakeAri(lambda number: Behaviour("answer", 0.1, customers[number]),
                           f"ws://127.0.0.1:{server.port}/ws/asterisk", media_format="slin16")
        async with LoopbackServer(fake_ari.app) as ari_srv:
            ari = AriControl(ari_srv.base, fake_ari.user, fake_ari.password)
            keys = settings.campaigns
            cs = CampaignStore(runtime.store, keys.number_key, keys.caller_id_secret)
            now = datetime.now(UTC)
            ids: dict[str, str] = {}
            plan = (("US", "en-US", "+12025550100", (us_vm, us_carrier, us_person)),
                    ("CN", "zh-CN", "+864008001234", (cn_vm, cn_carrier)))
            for juris, locale, area, numbers in plan:
                spec = Campaign.model_validate({
                    "name": f"screening-{juris}", "use_case": "repayment_reminder", "locale": locale,
                    "jurisdiction": juris, "gateway": "asterisk", "caller_ids": [area],
                    "window": {"start": "08:00", "end": "21:00"}, "pace": {"max_concurrent": 5},
                })
                cid = cs.create(spec, now)
                zone = daytime_zone(locale)
                slots = demo_slots(locale, now.date())
                cs.add_members(cid, [{"phone": n, "timezone": zone, "name": "John Smith",
                                      "debt_id": f"screen-{n}", **slots} for n in numbers], now)
                cs.control(cid, "start", now)
                ids[juris] = cid
            with runtime.store.transaction() as s:
                a = CampaignAttemptRow
                query = select(a.planned_at).where(a.campaign_id.in_(ids.values()))
                planned = [p for (p,) in s.execute(query)]
            shift = max(planned) - now + timedelta(seconds=1)  # every first attempt is due at once
            dialer = Dialer(cs, runtime.store, {"asterisk": ari}, node_id="screen-node", slots=5,
                            public_url=server.base, callback_secret=settings.campaigns.callback_secret,
                            tick_s=0.2, clock=lambda: datetime.now(UTC) + shift)
            app.state.dialer = dialer
            task = asyncio.create_task(dialer.serve())
            try:
                rows = await _first_attempts_done(runtime.store, list(ids.values()), dialer, task)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    calls = {c.to: c for c in fake_ari.calls.values()}
    assert set(calls) == set(customers) and fake_ari.errors == []
    assert {_number_of(r, calls): r.result for r in rows} == {
        us_vm: "voicemail", us_carrier: "carrier", us_person: "opt_out",
        cn_vm: "voicemail", cn_carrier: "carrier",
    }

    script = runtime.scripts[("repayment_reminder", "en-US")]
    today = datetime.now(UTC).date()
    _, actions = dialogue.start(script, demo_slots("en-US", today), today=today, at=dialogue.VOICEMAIL_STATE)
    message = [a.text for a in actions if isinstance(a, Say)]
    us_vm_gw = calls[us_vm].gateway
    assert us_vm_gw is not None
    heard = " ".join(_heard(us_vm_gw, engines))
    assert heard == " ".join(message)  # exactly the limited-content message, nothing else
    for number in (us_carrier, cn_vm, cn_carrier):
        gw = calls[number].gateway
        assert gw is not None and _heard(gw, engines) == []  # hung up on without a word
    person = calls[us_person].gateway
    assert person is not None and "automated AI assistant" in _heard(person, engines)[0]

    by_call = {r.call_id: r for r in rows}
    for number in (us_vm, us_carrier, cn_vm, cn_carrier):
        call_id = next(cid for cid, r in by_call.items() if _number_of(r, calls) == number)
        record = runtime.store.get_call(call_id, decrypt=True)
        assert record.conversation is False, (number, record.outcome)
        with runtime.store.transaction() as s:
            talked = s.execute(select(AttemptRow.conversation).where(AttemptRow.call_id == call_id))
            assert talked.scalar_one() is False  # the gate's history: no rest period starts
    us_record = runtime.store.get_call(next(c for c, r in by_call.items() if _number_of(r, calls) == us_vm))
    assert [t.text for t in us_record.transcript if t.speaker == "agent"] == [redact(m) for m in message]
    us_report = cs.report(ids["US"])
    assert us_report["results"] == {"carrier": 1, "opt_out": 1, "voicemail": 1}
    assert us_report["right_party_contacts"] == 1 and us_report["abandoned"] == 0
    assert us_report["voicemails"] == 1 and us_report["carrier_announcements"] == 1
    table = Console(width=120, record=True)
    table.print(report_table(us_report))
    printed = table.export_text()
    assert "voicemails" in printed and "carrier announcements" in printed
    assert cs.report(ids["CN"])["results"] == {"carrier": 1, "voicemail": 1}


def _number_of(row: Any, calls: dict[str, Any]) -> str:
    return next(to for to, c in calls.items() if c.ref == row.provider_ref)


async def _first_attempts_done(
    store: Any, ids: list[str], dialer: Dialer, task: asyncio.Task[None]
) -> list[Any]:
    """Wait until every member's first attempt has a result and no call slot is held; those attempts."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        await asyncio.sleep(0.2)
        if task.done():
            raise AssertionError(f"the dialer stopped: {task.exception()!r}")
        with store.transaction() as s:
            a = CampaignAttemptRow
            rows = list(s.execute(select(a).where(a.campaign_id.in_(ids), a.status == "done")).scalars())
            for r in rows:
                s.expunge(r)
        if len(rows) >= 5 and not dialer.live:
            return rows
        if loop.time() - started > STALL_S:
            raise AssertionError(f"not done after {STALL_S} s: {[(r.id, r.result) for r in rows]}")
