"""The campaign simulator: the real scheduler, gate, caller-ID policy and pacing on a virtual clock.

Events (a planned attempt falling due, a call ending, midnight) run in time order. A due
attempt waits for a trunk token and a free call slot on a runtime node (reserved before
dialling, released at hang-up), then goes to the real pre-call gate with the member's
history and suppression; a granted attempt is dialled and the simulated customer decides
what happens. The scheduler (or, with `naive`, a dialer that calls at 10:00 local every
day) plans the next attempt. Every dialled attempt is logged for the independent checker.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from agent.campaign.callerid import choose_caller_id
from agent.campaign.learning import AnswerCounts, Prior
from agent.campaign.load import BucketLoad, bucket_capacity
from agent.campaign.model import CONVERSATION, FINAL, RIGHT_PARTY, Campaign, Member, Pace, Result
from agent.campaign.scheduler import MemberState, Plan, Stop, plan_next, record_result, should_stop
from agent.campaign.sim.checker import Dialled, Person, check
from agent.campaign.sim.population import CALL_SECONDS, SimCustomer, make_population
from agent.compliance import gate
from agent.compliance.profiles import get_profile, tighten
from agent.dialer.pacing import RateLimiter, SlotPool

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday; spans the US spring-forward (2025-03-09)
NAIVE_HOUR = time(10, 0)
CALLER_IDS = {"US": ("+12025550100", "+12025550101", "+12025550102"),
              "CN": ("+861058880100", "+861058880101")}
SECRET = "sim-caller-id-secret"


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What to simulate."""

    customers: int = 10_000
    days: int = 30
    seed: int = 7
    naive: bool = False
    nodes: int = 2
    slots_per_node: int = 30
    pace: Pace = field(default_factory=lambda: Pace(max_concurrent=60, calls_per_second=2.0, trunks=2))


@dataclass(slots=True)
class _Member:
    cust: SimCustomer
    state: MemberState
    campaign: Campaign
    caller_id: str
    history: list[gate.Attempt] = field(default_factory=list)
    stopped: str | None = None
    planned: datetime | None = None


@dataclass(slots=True)
class _Sim:
    config: SimConfig
    rng: random.Random
    members: list[_Member]
    pool: SlotPool
    limiter: RateLimiter
    load: BucketLoad
    population: AnswerCounts = field(default_factory=AnswerCounts)
    prior: Prior = field(default_factory=Prior.flat)
    queue: list[tuple[datetime, int, str, int, Any]] = field(default_factory=list)
    seq: int = 0
    dialled: list[Dialled] = field(default_factory=list)
    results: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    stops: Counter[str] = field(default_factory=Counter)
    suppressed_at: dict[int, datetime] = field(default_factory=dict)
    deferred: int = 0
    waiting: deque[int] = field(default_factory=deque)  # due attempts waiting for a free slot
    drain_pending: bool = False
    end: datetime = START

    def push(self, at: datetime, kind: str, idx: int, payload: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, idx, payload))


def _campaigns() -> dict[str, Campaign]:
    return {
        j: Campaign.model_validate({
            "name": f"sim-{j}", "use_case": "repayment_reminder", "jurisdiction": j,
            "locale": "en-US" if j == "US" else "zh-CN", "caller_ids": CALLER_IDS[j],
            "window": {"start": time(8, 0), "end": time(21, 0)},
        })
        for j in ("US", "CN")
    }


def _plan(sim: _Sim, m: _Member, now: datetime) -> None:
    """Plan the member's next attempt (scheduler or naive) and queue it, or stop them."""
    if sim.config.naive:
        verdict: Plan | Stop = _naive_plan(m, now)
    else:
        rules = _rules(m.campaign)
        verdict = plan_next(m.state, m.campaign, rules, m.history, sim.prior, now, sim.load)
    if isinstance(verdict, Stop):
        m.stopped = verdict.reason
        sim.stops[verdict.reason] += 1
        return
    if verdict.at_utc >= sim.end:
        return
    m.planned = verdict.at_utc
    sim.push(verdict.at_utc, "due", m.cust.idx)


def _naive_plan(m: _Member, now: datetime) -> Plan | Stop:
    stop = should_stop(m.state, m.campaign)
    if stop is not None:
        return stop
    zone = m.cust.zone
    day = now.astimezone(zone).date()
    while True:
        at = datetime.combine(day, NAIVE_HOUR, tzinfo=zone).astimezone(UTC)
        if at > now and not (m.state.attempts and at.astimezone(zone).date() == _last_day(m)):
            return Plan(at, 0.0)
        day += timedelta(days=1)


def _last_day(m: _Member) -> Any:
    return m.state.attempts[-1].at_utc.astimezone(m.cust.zone).date()


_RULES: dict[str, Any] = {}


def _rules(c: Campaign) -> Any:
    if c.jurisdiction not in _RULES:
        profile = get_profile(c.jurisdiction)
        assert profile is not None
        _RULES[c.jurisdiction] = profile.rules(c.purpose)
    return _RULES[c.jurisdiction]


def _due(sim: _Sim, m: _Member, now: datetime) -> None:
    """A planned attempt falls due: pace it, gate it, dial it."""
    if m.stopped:
        return
    if m.planned is not None and not sim.config.naive:
        sim.load.release(m.planned)
        m.planned = None
    trunk = sim.limiter.acquire(now)
    node = sim.pool.reserve() if trunk is not None else None
    if trunk is None or node is None:
        if trunk is not None:
            sim.limiter.done()
        sim.deferred += 1
        sim.waiting.append(m.cust.idx)  # dialled in turn when a token or a slot is free
        _wake(sim, now)
        return
    cust = m.cust
    profile = get_profile(m.campaign.jurisdiction)
    assert profile is not None
    if m.campaign.daily_cap is not None:
        profile = tighten(profile, daily_cap=m.campaign.daily_cap)
    intent = gate.CallIntent(
        gate.Customer(True, cust.timezone, frozenset({"servicing"})), m.campaign.purpose, cust.jurisdiction,
        m.state.member.debt_id, profile=profile, caller_id=m.caller_id,
        registered_caller_ids=frozenset(m.campaign.caller_ids),
    )
    scopes = {"all"} if cust.idx in sim.suppressed_at and sim.suppressed_at[cust.idx] <= now else set()
    decision = gate.decide(intent, m.history, scopes, now)
    if not decision.allowed:
        sim.limiter.done()
        sim.pool.release(node)
        sim.refusals[decision.reason] += 1
        record_result(m.state, now, Result.refused, cust.zone, decision.reason)
        _plan(sim, m, now + timedelta(minutes=1))
        return
    result = cust.answer(now, sim.rng)
    if result in RIGHT_PARTY or result == Result.wrong_party:
        sim.pool.answered(node)
    talked = result in CONVERSATION
    m.history.append(gate.Attempt(now, m.campaign.purpose, m.state.member.debt_id, conversation=talked,
                                  caller_id=m.caller_id))
    if len(m.history) > 40:
        m.history = [a for a in m.history if now - a.at_utc <= timedelta(days=9)]
    sim.dialled.append(Dialled(cust.idx, now, m.caller_id, talked, m.state.member.debt_id or ""))
    if result == Result.opt_out:
        sim.suppressed_at[cust.idx] = now + timedelta(seconds=5)  # persisted during the call
    lo, hi = CALL_SECONDS[result]
    sim.push(now + timedelta(seconds=sim.rng.uniform(lo, hi)), "end", cust.idx, (node, now, result))


def _wake(sim: _Sim, now: datetime) -> None:
    """Make sure the waiting attempts are looked at again when the next trunk token is there."""
    if sim.waiting and not sim.drain_pending and sim.limiter.in_flight < sim.config.pace.max_concurrent:
        sim.drain_pending = True
        sim.push(max(sim.limiter.next_token(now), now + timedelta(milliseconds=20)), "drain", -1)


def _drain(sim: _Sim, now: datetime) -> None:
    """Dial waiting attempts, oldest first, while a token and a slot are free."""
    while sim.waiting and sim.limiter.ready(now) and sim.pool.free > 0:
        _due(sim, sim.members[sim.waiting.popleft()], now)
    _wake(sim, now)


def _ended(sim: _Sim, m: _Member, now: datetime, payload: tuple[str, datetime, Result]) -> None:
    node, dialled_at, result = payload
    sim.pool.release(node)
    sim.limiter.done()
    _drain(sim, now)
    sim.results[result.value] += 1
    record_result(m.state, dialled_at, result, m.cust.zone)
    local = dialled_at.astimezone(m.cust.zone)
    person = result in RIGHT_PARTY or result == Result.wrong_party
    sim.population.add(local.weekday() * 24 + local.hour, person)
    _plan(sim, m, now)


def simulate(config: SimConfig) -> dict[str, Any]:
    """Run one simulation; returns its figures (the JSON of `voice-agent campaign sim`)."""
    rng = random.Random(config.seed)
    people = make_population(config.customers, rng)
    campaigns = _campaigns()
    mean_call = 45.0
    pool = SlotPool()
    for n in range(config.nodes):
        pool.report(f"node-{n}", config.slots_per_node)
    sim = _Sim(config, random.Random(config.seed + 1), [], pool, RateLimiter(config.pace),
               BucketLoad(bucket_capacity(config.pace, 5, mean_call)))
    sim.end = START + timedelta(days=config.days)
    for cust in people:
        c = campaigns[cust.jurisdiction]
        key = f"sim-{cust.idx}"
        state = MemberState(Member(key=key, timezone=cust.timezone, debt_id=f"debt-{cust.idx}"))
        sim.members.append(_Member(cust, state, c, choose_caller_id(key, c.caller_ids, SECRET)))
        if cust.suppressed_before:
            sim.suppressed_at[cust.idx] = START - timedelta(days=3)
    for m in sim.members:
        _plan(sim, m, START)
    for day in range(1, config.days):
        sim.push(START + timedelta(days=day), "midnight", -1)
    while sim.queue:
        at, _seq, kind, idx, payload = heapq.heappop(sim.queue)
        if at >= sim.end and kind == "due":
            continue
        if kind == "midnight":
            if not config.naive:
                sim.prior = Prior.from_population(sim.population)
        elif kind == "drain":
            sim.drain_pending = False
            _drain(sim, at)
        elif kind == "due":
            _due(sim, sim.members[idx], at)
        else:
            _ended(sim, sim.members[idx], at, payload)
    return _report(sim, people, campaigns)


def _report(sim: _Sim, people: list[SimCustomer], campaigns: dict[str, Campaign]) -> dict[str, Any]:
    persons = {c.idx: Person(c.jurisdiction, c.timezone, sim.suppressed_at.get(c.idx)) for c in people}
    registered = frozenset(n for c in campaigns.values() for n in c.caller_ids)
    violations = check(persons, sim.dialled, registered)
    attempts = len(sim.dialled)
    rpc = sum(sim.results[r.value] for r in RIGHT_PARTY)
    reached = {m.cust.idx for m in sim.members if any(a.result in RIGHT_PARTY for a in m.state.attempts)}
    finals = Counter(m.stopped for m in sim.members if m.stopped)
    return {
        "mode": "naive" if sim.config.naive else "scheduler",
        "customers": sim.config.customers,
        "days": sim.config.days,
        "seed": sim.config.seed,
        "attempts": attempts,
        "right_party_contacts": rpc,
        "contacts_per_100_attempts": round(100.0 * rpc / attempts, 2) if attempts else 0.0,
        "members_reached": len(reached),
        "promises": sim.results[Result.promise.value],
        "opt_outs": sim.results[Result.opt_out.value],
        "disputes_flagged": sim.results[Result.dispute.value],
        "results": dict(sorted(sim.results.items())),
        "refusals": dict(sorted(sim.refusals.items())),
        "stops": dict(sorted(finals.items())),
        "final_members": sum(1 for m in sim.members if m.stopped in {r.value for r in FINAL}),
        "violations": len(violations),
        "violation_examples": violations[:20],
        "abandoned": sim.pool.abandoned,
        "peak_slots_in_use": sim.pool.peak_in_use,
        "slots": sim.config.nodes * sim.config.slots_per_node,
        "deferred_for_capacity": sim.deferred,
    }
