"""Campaign simulation: 10,000 customers over 30 days through the real pre-call gate (SPEC 7.1).

Random time zones, jurisdictions, purposes, consent, suppression, opt-outs and call histories.
Prints refusals by reason (rich table), writes JSON with --json, and re-checks every permitted
call with an independent checker (its own constants and arithmetic, not the gate's code).
Exit 1 if the checker finds a single permitted call that broke a rule.

    python scripts/campaign_sim.py --customers 10000 --days 30 --json out/campaign.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.compliance.gate import Attempt, CallIntent, Consent, Customer, decide

US_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
]
CN_ZONES = ["Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong"]
ABROAD = ["Europe/London", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo"]
START = datetime(2025, 3, 1, tzinfo=UTC)  # spans the US spring-forward (2025-03-09)


@dataclass
class SimCustomer:
    """One simulated customer and everything the gate and the checker need about them."""

    idx: int
    jurisdiction: str
    tz: str
    registered: bool
    basis: frozenset[str]
    consents: tuple[Consent, ...]
    debts: tuple[str, ...]
    suppressions: list[tuple[datetime, str]] = field(default_factory=list)
    history: list[Attempt] = field(default_factory=list)


def make_customers(n: int, rng: random.Random) -> list[SimCustomer]:
    """Random customers with prior histories in the week before the campaign."""
    out: list[SimCustomer] = []
    for i in range(n):
        juris = rng.choice(["US", "CN"])
        zones = US_ZONES if juris == "US" else CN_ZONES
        tz = rng.choice(ABROAD) if rng.random() < 0.05 else rng.choice(zones)
        basis = set()
        if rng.random() < 0.96:
            basis.add("servicing")
        if rng.random() < 0.6:
            basis.add("marketing")
        consents: list[Consent] = []
        if "marketing" in basis and rng.random() < 0.7:
            granted = START - timedelta(days=rng.randint(1, 400))
            withdrawn = START + timedelta(days=rng.uniform(0, 30)) if rng.random() < 0.1 else None
            expires = START + timedelta(days=rng.uniform(0, 60)) if rng.random() < 0.1 else None
            consents.append(Consent("marketing", granted, withdrawn, expires))
        c = SimCustomer(
            i,
            juris,
            tz,
            rng.random() < 0.97,
            frozenset(basis),
            tuple(consents),
            tuple(f"d{i}-{k}" for k in range(rng.choice([1, 1, 2]))),
        )
        roll = rng.random()
        if roll < 0.03:
            c.suppressions.append((START - timedelta(days=5), "all"))
        elif roll < 0.06:
            c.suppressions.append((START - timedelta(days=5), "marketing"))
        for _ in range(rng.choice([0, 0, 1, 2, 4, 7])):
            at = START - timedelta(minutes=rng.randint(1, 7 * 24 * 60))
            c.history.append(Attempt(at, "servicing", rng.choice(c.debts), "voice", rng.random() < 0.2))
        c.history.sort(key=lambda a: a.at_utc)
        out.append(c)
    return out


@dataclass(frozen=True, slots=True)
class Placed:
    """A call the gate permitted, as the checker sees it."""

    cust: int
    at: datetime
    purpose: str
    debt: str | None
    method: str
    conversation: bool


def simulate(
    customers: list[SimCustomer], days: int, rng: random.Random
) -> tuple[Counter[str], list[Placed]]:
    """Run the campaign day by day through the real gate; returns reasons counted and calls placed."""
    reasons: Counter[str] = Counter()
    placed: list[Placed] = []
    for day in range(days):
        day_start = START + timedelta(days=day)
        for c in customers:
            n = rng.choices([0, 1, 2, 3, 5, 8], weights=[25, 25, 20, 12, 10, 8])[0]
            for minute in sorted(rng.randint(0, 24 * 60 - 1) for _ in range(n)):
                now = day_start + timedelta(minutes=minute)
                purpose = "servicing" if rng.random() < 0.7 else "marketing"
                debt = rng.choice(c.debts) if purpose == "servicing" else None
                method = "voice" if rng.random() < 0.9 else "voice-alt"
                scopes = {s for t, s in c.suppressions if t <= now}
                cust = Customer(c.registered, c.tz, c.basis, c.consents)
                recent = [a for a in c.history if now - a.at_utc <= timedelta(days=9)]
                decision = decide(
                    CallIntent(cust, purpose, c.jurisdiction, debt, method), recent, scopes, now
                )
                reasons[decision.reason] += 1
                if not decision.allowed:
                    continue
                talked = rng.random() < 0.3
                c.history.append(Attempt(now, purpose, debt, method, talked))
                placed.append(Placed(c.idx, now, purpose, debt, method, talked))
                if talked and rng.random() < 0.03:
                    c.suppressions.append((now + timedelta(seconds=30), rng.choice(["all", "marketing"])))
            if len(c.history) > 64:
                c.history = [a for a in c.history if day_start - a.at_utc <= timedelta(days=10)]
    return reasons, placed


# -- the independent checker: its own constants, its own arithmetic --------------------------

WINDOWS_MIN = {
    ("CN", "servicing"): (480, 1320),
    ("CN", "marketing"): (480, 1260),
    ("US", "servicing"): (480, 1260),
    ("US", "marketing"): (480, 1260),
}


def _local(at: datetime, tz: str) -> datetime:
    return datetime.fromtimestamp(at.timestamp(), ZoneInfo(tz))


def check(customers: list[SimCustomer], placed: list[Placed], prior: dict[int, list[Attempt]]) -> list[str]:
    """Every rule re-derived from the raw records; returns violations (empty = clean)."""
    bad: list[str] = []
    by_group: dict[tuple[int, str, str | None], list[tuple[datetime, str]]] = defaultdict(list)
    talk_at: dict[tuple[int, str | None], list[datetime]] = defaultdict(list)
    for c in customers:
        for a in prior[c.idx]:
            by_group[(c.idx, a.purpose, a.debt_id)].append((a.at_utc, a.method))
            if a.conversation and a.purpose == "servicing":
                talk_at[(c.idx, a.debt_id)].append(a.at_utc)
    for p in placed:
        by_group[(p.cust, p.purpose, p.debt)].append((p.at, p.method))
        if p.conversation and p.purpose == "servicing":
            talk_at[(p.cust, p.debt)].append(p.at)
    for p in placed:
        c = customers[p.cust]
        label = f"customer {p.cust} at {p.at.isoformat()} ({p.purpose})"
        if not c.registered:
            bad.append(f"{label}: not registered")
        if p.purpose not in c.basis:
            bad.append(f"{label}: no lawful basis")
        if p.purpose == "marketing" and not any(
            k.granted_at <= p.at
            and (k.withdrawn_at is None or p.at < k.withdrawn_at)
            and (k.expires_at is None or p.at < k.expires_at)
            for k in c.consents
        ):
            bad.append(f"{label}: no consent")
        for t, scope in c.suppressions:
            if t <= p.at and (scope == "all" or p.purpose == "marketing"):
                bad.append(f"{label}: suppressed ({scope})")
        loc = _local(p.at, c.tz)
        lo, hi = WINDOWS_MIN[(c.jurisdiction, p.purpose)]
        if not lo <= loc.hour * 60 + loc.minute < hi:
            bad.append(f"{label}: outside window at {loc:%H:%M} local")
        day = loc.date()
        rows = by_group[(p.cust, p.purpose, p.debt)]
        earlier = [(t, m) for t, m in rows if t < p.at]
        if c.jurisdiction == "CN":
            same_day = sum(1 for t, m in earlier if m == p.method and _local(t, c.tz).date() == day)
            if same_day + 1 > 6:
                bad.append(f"{label}: {same_day + 1} attempts on {day} by {p.method}")
        else:
            in_week = sum(1 for t, _m in earlier if 0 <= (day - _local(t, c.tz).date()).days <= 6)
            if in_week + 1 > 7:
                bad.append(f"{label}: {in_week + 1} calls in 7 days")
            if p.purpose == "servicing":
                for t in talk_at[(p.cust, p.debt)]:
                    if t < p.at and 0 <= (day - _local(t, c.tz).date()).days < 7:
                        bad.append(f"{label}: within 7 days of a conversation on {_local(t, c.tz).date()}")
    return bad


def main() -> int:
    """Run the simulation and the check; print the table; 0 when no permitted call broke a rule."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    customers = make_customers(args.customers, rng)
    prior = {c.idx: list(c.history) for c in customers}
    reasons, placed = simulate(customers, args.days, rng)
    sim_s = time.perf_counter() - t0
    violations = check(customers, placed, prior)
    total = sum(reasons.values())
    table = Table(title=f"Campaign: {args.customers:,} customers, {args.days} days, {total:,} call requests")
    table.add_column("decision")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    for reason, count in sorted(reasons.items(), key=lambda kv: (kv[0] != "ok", -kv[1])):
        table.add_row("permitted" if reason == "ok" else reason, f"{count:,}", f"{count / total:.1%}")
    console = Console()
    console.print(table)
    console.print(
        f"simulated in {sim_s:.1f} s; independent check of {len(placed):,} permitted calls: "
        + ("[green]0 violations[/green]" if not violations else f"[red]{len(violations)} violations[/red]")
    )
    for v in violations[:20]:
        console.print(f"  {v}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "customers": args.customers,
                    "days": args.days,
                    "seed": args.seed,
                    "requests": total,
                    "permitted": reasons.get("ok", 0),
                    "refusals": {k: v for k, v in reasons.items() if k != "ok"},
                    "violations": len(violations),
                    "violation_examples": violations[:20],
                    "sim_seconds": sim_s,
                },
                indent=2,
            )
        )
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
