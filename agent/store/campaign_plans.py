"""Planning inside a store transaction: run the pure scheduler for one member and write its plan.

The member's state (earlier attempts and results, answer counts), the gate's history of the
debt (every call, any campaign), the campaign's pooled answer counts (the prior) and the
load of planned attempts all come from the database; the scheduler decides; the result is
one `planned` attempt row, or the member stops (done, or flagged for a human).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.campaign.learning import AnswerCounts, Prior
from agent.campaign.load import bucket_capacity
from agent.campaign.model import Campaign, Member, Result
from agent.campaign.scheduler import MemberState, Placed, Plan, plan_next
from agent.compliance.gate import Attempt
from agent.compliance.profiles import Rules, get_profile, tighten
from agent.store.campaign_models import CampaignAttemptRow, CampaignMemberRow, CampaignRow

BUCKET_MINUTES = 5
MEAN_CALL_S = 45.0


class DbLoad:
    """`agent.campaign.scheduler.Load` over the campaign's planned attempts in the database."""

    def __init__(self, s: Session, campaign_id: str, capacity: int) -> None:
        self._s, self._campaign, self.capacity = s, campaign_id, capacity

    def _counts(self, start: datetime, end: datetime) -> Counter[int]:
        rows = self._s.execute(
            select(CampaignAttemptRow.planned_at).where(
                CampaignAttemptRow.campaign_id == self._campaign,
                CampaignAttemptRow.status == "planned",
                CampaignAttemptRow.planned_at >= start,
                CampaignAttemptRow.planned_at < end,
            )
        ).scalars()
        return Counter(int((t - start).total_seconds() // (BUCKET_MINUTES * 60)) for t in rows)

    def _buckets(self, start: datetime, end: datetime) -> int:
        return max(1, -(-int((end - start).total_seconds()) // (BUCKET_MINUTES * 60)))

    def fill(self, start_utc: datetime, end_utc: datetime) -> float:
        counts = self._counts(start_utc, end_utc)
        used = sum(min(n, self.capacity) for n in counts.values())
        return used / (self.capacity * self._buckets(start_utc, end_utc))

    def pick(self, start_utc: datetime, end_utc: datetime, key: str) -> datetime | None:
        counts = self._counts(start_utc, end_utc)
        span = self._buckets(start_utc, end_utc)
        offset = int.from_bytes(key.encode()[-4:].rjust(4, b"0"), "big") % span
        order = sorted(range(span), key=lambda i: (counts[i], (i - offset) % span))
        for i in order:
            if counts[i] < self.capacity:
                at = start_utc + timedelta(minutes=i * BUCKET_MINUTES)
                return min(at, end_utc - timedelta(seconds=1))
        return None


def rules_for(spec: Campaign) -> Rules:
    """The jurisdiction's rules for the campaign's purpose, tightened by the campaign's own cap."""
    profile = get_profile(spec.jurisdiction)
    if profile is None:
        raise ValueError(f"no profile for jurisdiction {spec.jurisdiction}")
    if spec.daily_cap is not None:
        profile = tighten(profile, daily_cap=spec.daily_cap)
    return profile.rules(spec.purpose)


def member_state(s: Session, member: CampaignMemberRow) -> MemberState:
    """The scheduler's view of a member, read from its attempts."""
    rows = s.execute(
        select(CampaignAttemptRow)
        .where(CampaignAttemptRow.member_id == member.id, CampaignAttemptRow.status.in_(("done", "refused")))
        .order_by(CampaignAttemptRow.planned_at, CampaignAttemptRow.id)
    ).scalars()
    placed = [
        Placed(r.claimed_at or r.planned_at, Result(r.result or "refused"), r.refusal) for r in rows
    ]
    answers = AnswerCounts.from_pairs([(int(a), int(b), int(c)) for a, b, c in json.loads(member.answers)])
    return MemberState(Member(key=member.phone_hash, timezone=member.timezone, debt_id=member.debt_id),
                       placed, answers)


def plan_member(
    s: Session,
    camp: CampaignRow,
    member: CampaignMemberRow,
    history: Callable[[Session, str, datetime], Sequence[Attempt]],
    now: datetime,
) -> Plan | None:
    """Plan the member's next attempt (a `planned` row) or stop them; returns the plan, if any."""
    spec = Campaign.model_validate_json(camp.spec)
    state = member_state(s, member)
    pop = AnswerCounts.from_pairs([(int(a), int(b), int(c)) for a, b, c in json.loads(camp.population)])
    load = DbLoad(s, camp.id, bucket_capacity(spec.pace, BUCKET_MINUTES, MEAN_CALL_S))
    verdict = plan_next(state, spec, rules_for(spec), history(s, member.customer_id, now),
                        Prior.from_population(pop), now, load)
    member.updated_at = now
    if isinstance(verdict, Plan):
        s.add(CampaignAttemptRow(campaign_id=camp.id, member_id=member.id, planned_at=verdict.at_utc,
                                 status="planned", answered_without_slot=0))
        member.state = "planned"
        return verdict
    member.state = "flagged" if verdict.flag_for_human else "done"
    member.stop_reason = verdict.reason
    return None
