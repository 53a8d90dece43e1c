"""Two runtime node processes dial one campaign from one PostgreSQL; nothing else connects them.

Each node is its own process (agent.testing.campaign_node: the real server app and dialer
on fake engines, with a dialer clock both nodes read from one file, which the test moves
to the next planned attempt over the waits), with its own port, node id and call slots,
on a fresh PostgreSQL schema. One fake Twilio REST API (in this process)
takes both nodes' originations: it answers, rings out or is busy by number, connects an
answered call's media to the node that placed it, where the customer presses keys (1 =
yes / I'll pay, 9 = stop calling). The test checks what the fake saw against the store:

- every dialled attempt was originated exactly once, by the node that claimed it, and each
  member's number only for its own attempts;
- the per-day cap (the campaign's daily_cap 3) and the per-member retry cap (busy: 2)
  hold across the nodes, and so do each node's call slots and the campaign's
  max_concurrent (as the fake saw the calls in flight);
- both nodes dialled;
- then the node that took an opt-out is stopped, the campaign stops, and a second one
  calls each customer who opted out there about another debt: the other node refuses every
  one of those attempts as suppressed (nothing is dialled), and its REST API says the
  number is suppressed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from sqlalchemy import select

from agent.campaign.model import Campaign
from agent.demo.runner import LoopbackServer
from agent.store import Store
from agent.store.campaign_models import CampaignAttemptRow, CampaignMemberRow
from agent.store.campaigns import CampaignStore
from agent.store.models import AttemptRow
from agent.testing.campaign_node import file_clock, set_offset
from agent.transports.fakes.control_base import Behaviour, PlacedCall, keys_customer
from agent.transports.fakes.control_twilio import FakeTwilioApi

pytestmark = [pytest.mark.pg, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ZONE = "America/New_York"
DAILY_CAP = 3
BUSY_MAX = 2
SLOTS = 3  # each node's call slots
MAX_CONCURRENT = 4  # the campaign's, across both nodes
PHONE_KEY, NUMBER_KEY, CALLER_KEY, CALLBACK_KEY = "p" * 32, "n" * 32, "c" * 32, "s" * 32
API_KEY = "two-node-test-key-0123456789"
LATE = timedelta(minutes=2)  # a retry placed this close to the window's end may leave no room for another
STALL_S = 90.0  # safety net: nothing changed for this long means something is stuck
# member index -> (how its number behaves on every call, its expected stop or None = still planned)
KINDS = {
    **{i: ("no_answer", None) for i in range(0, 6)},  # stopped for the day by the cap: planned a week on
    **{i: ("busy", "exhausted:busy") for i in range(6, 10)},  # stopped by the retry cap
    **{i: ("opt_out", "opt_out") for i in range(10, 14)},
    **{i: ("promise", "promise") for i in range(14, 20)},
}
KEYS = {"opt_out": ("9",), "promise": ("1", "1")}


def _phone(i: int) -> str:
    return f"+1202555{1000 + i}"


class CountingTwilio(FakeTwilioApi):
    """The fake Twilio, counting each origination by attempt and the calls in flight per node."""

    def __init__(self) -> None:
        super().__init__(self._behave)
        self.by_attempt: Counter[int] = Counter()
        self.node_of: dict[int, str] = {}  # attempt -> host:port of the node whose callbacks it got
        self.media_of: dict[int, str] = {}  # attempt -> host:port its media went to (answered calls)
        self.flying: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.peak_total = 0

    @staticmethod
    def _behave(number: str) -> Behaviour:
        kind = KINDS[int(number[-2:])][0]
        if kind in KEYS:
            return Behaviour("answer", 0.1, keys_customer(*KEYS[kind]))
        return Behaviour(kind, 0.1)

    async def _play(self, call: PlacedCall, url: str, fields: dict[str, str], events: list[str],
                    b: Behaviour) -> None:
        status = urlsplit(fields.get("StatusCallback", ""))
        attempt = int(status.path.rstrip("/").rsplit("/", 1)[-1])
        node = status.netloc
        self.by_attempt[attempt] += 1
        self.node_of[attempt] = node
        if b.kind == "answer":
            self.media_of[attempt] = urlsplit(url).netloc
        self.flying[node] += 1
        self.peak[node] = max(self.peak[node], self.flying[node])
        self.peak_total = max(self.peak_total, sum(self.flying.values()))
        try:
            await super()._play(call, url, fields, events, b)
        finally:
            self.flying[node] -= 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node_config(tmp: Path, name: str, port: int, pg_url: str, twilio: CountingTwilio,
                 twilio_base: str) -> Path:
    var = tmp / name
    var.mkdir()
    config = {
        "server": {"api_keys": [API_KEY], "public_url": f"http://127.0.0.1:{port}",
                   "console_secret_file": None},
        "models": {"dir": str(ROOT / "models")},
        "dialogue": {"prompts_dir": str(ROOT / "prompts")},
        "engines": {"tts_cache_dir": None},
        "store": {"url": pg_url, "phone_hash_key": PHONE_KEY},
        "compliance": {"checkpoint_key_file": str(var / "audit.key"), "checkpoint_interval_s": 0,
                       "recordings_dir": str(var / "recordings"), "node_id": name},
        "campaigns": {
            "node_id": name, "node_slots": SLOTS, "tick_ms": 100, "ring_timeout_s": 10,
            "number_key": NUMBER_KEY, "caller_id_secret": CALLER_KEY, "callback_secret": CALLBACK_KEY,
            "twilio": {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token,
                       "api_base": twilio_base},
        },
        "logging": {"level": "WARNING", "format": "json"},
    }
    path = var / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class Node:
    """One node process and how to reach it."""

    def __init__(self, name: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.name, self.port, self.proc, self.log = name, port, proc, log

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def _start(tmp: Path, name: str, pg_url: str, twilio: CountingTwilio, base: str, clock: Path) -> Node:
    port = _free_port()
    config = _node_config(tmp, name, port, pg_url, twilio, base)
    log = tmp / f"{name}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent.testing.campaign_node", "--config", str(config),
             "--port", str(port), "--clock-file", str(clock)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    return Node(name, port, proc, log)


async def _ready(node: Node) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            if node.proc.poll() is not None:
                raise AssertionError(f"node {node.name} exited {node.proc.returncode}:\n{node.tail()}")
            try:
                if (await http.get(f"http://{node.netloc}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)


def _attempts(store: Store, cid: str) -> list[tuple[int, int, str, str | None, str | None, str | None,
                                                    datetime, datetime | None]]:
    with store.transaction() as s:
        a = CampaignAttemptRow
        rows = s.execute(select(a.id, a.member_id, a.status, a.result, a.refusal, a.node_id, a.planned_at,
                                a.claimed_at).where(a.campaign_id == cid).order_by(a.id)).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


class Clock:
    """The nodes' dialer clock (a file they all read) and how the test moves it."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.offset = (start - datetime.now(UTC)).total_seconds()
        set_offset(path, self.offset)
        self.now = file_clock(path)

    def jump(self, rows: list[Any], horizon: datetime | None) -> None:
        """Move to the next planned attempt (up to `horizon`) when the campaign has room to dial it.

        As in the e2e test: an attempt already due is about to be claimed and the clock stays;
        calls in flight time themselves on their loop's clock, so moving on while they ring or
        talk is sound. The clock never moves past an attempt that could be dialled.
        """
        flying = sum(1 for r in rows if r[2] == "dialing")
        due = [r[6] for r in rows if r[2] == "planned" and (horizon is None or r[6] < horizon)]
        nxt = min(due, default=None)
        now = self.now()
        if flying < MAX_CONCURRENT and nxt is not None and nxt > now:
            self.offset += (nxt - now).total_seconds() + 0.5
            set_offset(self.path, self.offset)


async def _settle(store: Store, cid: str, nodes: list[Node], clock: Clock, horizon: datetime | None,
                  settled: Any) -> list[Any]:
    """Drive the clock until `settled(attempts)`; fail with the state when nothing moves for STALL_S."""
    loop = asyncio.get_running_loop()
    seen, moved = None, loop.time()
    while True:
        rows = await asyncio.to_thread(_attempts, store, cid)
        if rows and settled(rows):
            return rows
        for node in nodes:
            if node.proc.poll() is not None:
                raise AssertionError(f"node {node.name} exited {node.proc.returncode}:\n{node.tail()}")
        if rows != seen:
            seen, moved = rows, loop.time()
        elif loop.time() - moved > STALL_S:
            logs = "\n".join(f"--- {n.name}\n{n.tail()}" for n in nodes)
            raise AssertionError(f"no attempt moved for {STALL_S} s: {rows}\n{logs}")
        clock.jump(rows, horizon)
        await asyncio.sleep(0.2)


@pytest.fixture
async def setting(pg_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    twilio = CountingTwilio()
    store = Store.open(pg_url, PHONE_KEY)
    nodes: list[Node] = []
    async with LoopbackServer(twilio.app) as fake:
        try:
            yield {"twilio": twilio, "fake": fake, "store": store, "nodes": nodes, "tmp": tmp_path,
                   "pg_url": pg_url}
        finally:
            for node in nodes:
                node.stop()
            store.close()


def _spec(name: str, weekday: int) -> Campaign:
    return Campaign.model_validate({
        "name": name, "use_case": "repayment_reminder", "jurisdiction": "US", "gateway": "twilio",
        "caller_ids": ["+12025550100", "+12025550101"],
        # one weekday only: a member's retries stay on this day (the next is a week away) until a cap
        "window": {"start": "10:00", "end": "11:00", "days": [weekday]}, "daily_cap": DAILY_CAP,
        "pace": {"max_concurrent": MAX_CONCURRENT, "calls_per_second": 1000},
        "retry": {"no_answer": {"delay_minutes": 0, "max_attempts": 10},
                  "busy": {"delay_minutes": 0, "max_attempts": BUSY_MAX}},
    })


def _members(store: Store, cid: str) -> dict[int, CampaignMemberRow]:
    """The campaign's members by their index in KINDS (their number's last two digits)."""
    by_hash = {store.context.phone(_phone(i), "US")[0]: i for i in KINDS}
    with store.transaction() as s:
        query = select(CampaignMemberRow).where(CampaignMemberRow.campaign_id == cid)
        rows = s.execute(query).scalars().all()
        s.expunge_all()
    return {by_hash[m.phone_hash]: m for m in rows}


async def test_two_nodes_share_one_campaign(setting: dict[str, Any]) -> None:
    twilio: CountingTwilio = setting["twilio"]
    store: Store = setting["store"]
    nodes: list[Node] = setting["nodes"]
    zone = ZoneInfo(ZONE)
    day = datetime.now(zone).date() + timedelta(days=1)
    start = datetime.combine(day, datetime.min.time().replace(hour=10), tzinfo=zone).astimezone(UTC)
    window_end = start + timedelta(hours=1)
    clock = Clock(setting["tmp"] / "clock", start)

    cs = CampaignStore(store, NUMBER_KEY, CALLER_KEY)
    cid = cs.create(_spec("two-nodes", day.weekday()), clock.now())
    members = [{"phone": _phone(i), "timezone": ZONE, "name": "John Smith", "debt_id": f"D{i}",
                "company_name": "Acme Finance", "amount_due": "1234.50", "due_date": "2031-03-05",
                "callback_number": "800-555-0123"} for i in KINDS]
    cs.add_members(cid, members, clock.now())
    for name in ("node-a", "node-b"):
        nodes.append(_start(setting["tmp"], name, setting["pg_url"], twilio, setting["fake"].base,
                                  clock.path))
    await asyncio.gather(*(_ready(n) for n in nodes))
    cs.control(cid, "start", clock.now())

    def day_done(rows: list[Any]) -> bool:  # nothing in flight, and nothing left to dial today
        return all(r[2] != "dialing" and not (r[2] == "planned" and r[6] < window_end) for r in rows)

    rows = await _settle(store, cid, nodes, clock, window_end, day_done)
    member = _members(store, cid)
    index = {m.id: i for i, m in member.items()}
    with store.transaction() as s:
        granted = Counter(str(a.debt_id) for a in s.execute(select(AttemptRow).where(
            AttemptRow.allowed.is_(True))).scalars())
    dialled = [r for r in rows if r[2] == "done"]
    netloc = {n.name: n.netloc for n in nodes}
    assert [r for r in rows if r[2] == "refused"] == []  # the scheduler plans only what the gate grants

    # every dialled attempt originated exactly once, by the node that claimed it
    assert {a: n for a, n in twilio.by_attempt.items() if n != 1} == {}
    assert set(twilio.by_attempt) == {r[0] for r in dialled}
    assert all(twilio.node_of[r[0]] == netloc[str(r[5])] for r in dialled)
    assert all(twilio.media_of[a] == twilio.node_of[a] for a in twilio.media_of)  # media to the dialler
    calls_to = Counter(c.to for c in twilio.calls.values())
    per_member = Counter(index[r[1]] for r in dialled)
    assert {i: calls_to[_phone(i)] for i in KINDS} == {i: per_member[i] for i in KINDS}

    # caps across the two nodes: per day, per member's retry rule, per node's slots, per campaign
    per_day = Counter((index[r[1]], r[7].astimezone(zone).date()) for r in dialled)
    assert max(per_day.values()) <= DAILY_CAP, per_day
    assert max(granted.values()) <= DAILY_CAP, granted  # as the gate recorded them
    got = {i: (per_member[i], member[i].stop_reason) for i in KINDS}
    dials = {"no_answer": DAILY_CAP, "busy": BUSY_MAX}  # the others: one call, a final outcome
    want = {i: (dials.get(kind, 1), stop) for i, (kind, stop) in KINDS.items()}
    # The scheduler spreads a day's calls over the window, so a no-answer retry may be placed in
    # the window's last minutes; the next one then no longer fits today and waits for next week.
    # Fewer than the cap is right only for such a member.
    last_dial = {i: max(r[7] for r in dialled if index[r[1]] == i) for i in per_member}
    for i, (kind, _stop) in KINDS.items():
        if kind == "no_answer" and 0 < per_member[i] < DAILY_CAP and last_dial[i] >= window_end - LATE:
            want[i] = got[i]
    assert got == want, rows
    later = {index[r[1]] for r in rows if r[2] == "planned" and r[6] >= window_end}
    assert later == {i for i, (kind, _s) in KINDS.items() if kind == "no_answer"}  # the cap, not the policy
    assert all(twilio.peak[n.netloc] <= SLOTS for n in nodes), twilio.peak
    assert twilio.peak_total <= MAX_CONCURRENT, twilio.peak_total
    assert twilio.errors == []
    by_node = Counter(str(r[5]) for r in dialled)
    assert set(by_node) == {"node-a", "node-b"}, by_node  # the work was shared
    report = cs.report(cid)
    assert report["abandoned"] == 0 and report["opt_outs"] == 4, report

    # an opt-out taken on one node stops the customer on the other: the taker goes down, the
    # first campaign stops, and a second one calls the opted-out customers about other debts
    opt_outs = [r for r in dialled if r[3] == "opt_out"]
    taker = next(n for n in nodes if n.name == opt_outs[0][5])
    other = next(n for n in nodes if n is not taker)
    opted = sorted({index[r[1]] for r in opt_outs if r[5] == taker.name})
    taker.stop()
    cs.control(cid, "stop", clock.now())
    before = len(twilio.calls)
    cid2 = cs.create(_spec("two-nodes-again", day.weekday()), clock.now())
    cs.add_members(cid2, [{**members[i], "debt_id": f"D{i}-second"} for i in opted], clock.now())
    cs.control(cid2, "start", clock.now())

    def all_ended(rows: list[Any]) -> bool:
        return len(rows) == len(opted) and all(r[2] in ("refused", "done") for r in rows)

    theirs = await _settle(store, cid2, [other], clock, None, all_ended)
    assert all(r[2] == "refused" and r[4] == "suppressed" and r[5] == other.name for r in theirs), theirs
    assert {m.stop_reason for m in _members(store, cid2).values()} == {"refused:suppressed"}
    assert len(twilio.calls) == before  # nothing more was dialled
    async with httpx.AsyncClient(timeout=5) as http:
        for i in opted:
            check = await http.get(f"http://{other.netloc}/v1/suppressions/check",
                                   params={"phone": _phone(i)}, headers={"X-API-Key": API_KEY})
            assert check.status_code == 200 and check.json()["suppressed"] is True, check.text
