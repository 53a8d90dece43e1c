"""The campaign simulator and its independent checker."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from agent.campaign.sim.checker import Dialled, Person, check
from agent.campaign.sim.runner import SimConfig, simulate
from agent.cli import app

REG = frozenset({"+12025550100", "+12025550101"})
NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")


def at(zone: ZoneInfo, d: int, h: int, m: int = 0) -> datetime:
    return datetime(2025, 6, d, h, m, tzinfo=zone).astimezone(UTC)


def test_checker_passes_clean_records() -> None:
    people = {0: Person("US", "America/New_York", None), 1: Person("CN", "Asia/Shanghai", None)}
    calls = [Dialled(0, at(NY, 2, 9), "+12025550100", False, "d0"),
             Dialled(0, at(NY, 3, 20, 59), "+12025550100", True, "d0"),
             Dialled(0, at(NY, 10, 9), "+12025550100", False, "d0")]
    calls += [Dialled(1, at(SH, 2, 8 + k), "+12025550101", False, "d1") for k in range(6)]
    calls += [Dialled(1, at(SH, 2, 21, 59), "+12025550101", False, "d2")]  # another debt
    assert check(people, calls, REG) == []


def test_checker_finds_every_kind_of_violation() -> None:
    people = {0: Person("US", "America/New_York", at(NY, 20, 0)), 1: Person("CN", "Asia/Shanghai", None)}
    calls = [Dialled(0, at(NY, 2, 21, 0), "+12025550100", False, "d0"),  # window
             Dialled(0, at(NY, 3, 10), "+12025550100", True, "d0"),
             Dialled(0, at(NY, 9, 20), "+12025550100", False, "d0"),  # 7 days after conversation
             Dialled(0, at(NY, 21, 10), "+12025550100", False, "d0"),  # suppressed
             Dialled(0, at(NY, 22, 10), "+19995550100", False, "d0")]  # unregistered + rotated
    calls += [Dialled(1, at(SH, 2, 8 + k), "+12025550101", False, "d1") for k in range(7)]  # 7th in a day
    us_week = [Dialled(2, at(NY, 12 + k % 4, 9 + k), "+12025550100", False, "d2") for k in range(8)]
    people[2] = Person("US", "America/New_York", None)
    found = "\n".join(check(people, calls + us_week, REG))
    for needle in ("outside the 08:00-21:00", "within 7 days of a conversation", "suppressed",
                   "not registered", "different numbers", "attempt 7 on", "attempt 8 in 7 days"):
        assert needle in found, needle


def test_small_sim_is_clean_and_beats_naive() -> None:
    ours = simulate(SimConfig(customers=400, days=14, seed=3))
    naive = simulate(SimConfig(customers=400, days=14, seed=3, naive=True))
    for run in (ours, naive):
        assert run["violations"] == 0, run["violation_examples"]
        assert run["abandoned"] == 0
        assert run["peak_slots_in_use"] <= run["slots"]
    assert ours["contacts_per_100_attempts"] >= 1.5 * naive["contacts_per_100_attempts"]
    assert ours["members_reached"] >= naive["members_reached"]


def test_cli_sim_writes_json(tmp_path: object) -> None:
    out = f"{tmp_path}/c.json"
    result = CliRunner().invoke(app, ["campaign", "sim", "--customers", "60", "--days", "3", "--json", out])
    assert result.exit_code == 0, result.output
    import json

    body = json.loads(open(out).read())
    for key in ("attempts", "right_party_contacts", "contacts_per_100_attempts", "violations", "abandoned"):
        assert key in body
    assert "contacts per 100 attempts" in result.output

