"""Results of claimed attempts (refused, placed, answered, ended) and the campaign report.

Ending an attempt frees its call slot (it is no longer `dialing`), adds the answer evidence
to the member and the campaign's pooled counts, and plans the member's next attempt or
stops them, all in one transaction.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from agent.campaign.learning import AnswerCounts
from agent.campaign.model import ANSWERED_BY_PERSON, RIGHT_PARTY, Result
from agent.store import audit_log, gate_flow
from agent.store.campaign_models import CampaignAttemptRow, CampaignMemberRow, CampaignNodeRow, CampaignRow
from agent.store.campaign_plans import plan_member
from agent.store.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent.store.store import Store


def _add_pairs(raw: str, how: int, answered: bool) -> str:
    counts = AnswerCounts.from_pairs([(int(a), int(b), int(c)) for a, b, c in json.loads(raw)])
    counts.add(how, answered)
    return json.dumps(counts.to_pairs())


class ResultsMixin:
    """What happens to a claimed attempt; mixed into CampaignStore."""

    store: Store

    def _attempt(self, s: Session, attempt_id: int) -> CampaignAttemptRow:
        att = s.get(CampaignAttemptRow, attempt_id)
        if att is None:
            raise NotFound(f"no campaign attempt {attempt_id}")
        return att

    def attempt_info(self, attempt_id: int) -> dict[str, Any]:
        """Status, result, call id and provider reference of one attempt."""
        with self.store.transaction() as s:
            a = self._attempt(s, attempt_id)
            return {"attempt_id": a.id, "campaign_id": a.campaign_id, "status": a.status, "result": a.result,
                    "refusal": a.refusal, "call_id": a.call_id, "caller_id": a.caller_id,
                    "provider_ref": a.provider_ref, "node_id": a.node_id}

    def placed(self, attempt_id: int, call_id: str, provider_ref: str | None) -> None:
        """The gate granted it (call_id) and the gateway accepted it (provider_ref)."""
        with self.store.transaction() as s:
            att = self._attempt(s, attempt_id)
            att.call_id, att.provider_ref = call_id, provider_ref

    def dialing_on(self, node_id: str) -> list[tuple[int, str | None]]:
        """This node's attempts still `dialing` (each holds one of its call slots): (attempt id, call id)."""
        with self.store.transaction() as s:
            rows = s.execute(select(CampaignAttemptRow.id, CampaignAttemptRow.call_id).where(
                CampaignAttemptRow.node_id == node_id, CampaignAttemptRow.status == "dialing")).all()
            return [(int(r[0]), r[1]) for r in rows]

    def answered(self, attempt_id: int) -> bool:
        """The call was answered: check it still holds a reserved slot; False (abandoned) if not."""
        with self.store.transaction() as s:
            att = self._attempt(s, attempt_id)
            node = s.get(CampaignNodeRow, att.node_id) if att.node_id else None
            ok = att.status == "dialing" and node is not None
            if not ok:
                att.answered_without_slot = 1
            return ok

    def refused(self, attempt_id: int, reason: str, now: datetime) -> None:
        """The gate refused the claimed attempt: nothing was dialled; plan again or stop."""
        self._end(attempt_id, Result.refused, now, refusal=reason)

    def finish(self, attempt_id: int, result: Result, now: datetime) -> None:
        """The attempt ended with `result`; frees the slot and plans the member's next attempt."""
        self._end(attempt_id, result, now)

    def _end(self, attempt_id: int, result: Result, now: datetime, refusal: str | None = None) -> None:
        with self.store.transaction() as s:
            cid = s.execute(select(CampaignAttemptRow.campaign_id)
                            .where(CampaignAttemptRow.id == attempt_id)).scalar_one_or_none()
            if cid is None:
                raise NotFound(f"no campaign attempt {attempt_id}")
            camp = s.execute(select(CampaignRow).where(CampaignRow.id == cid).with_for_update()).scalar_one()
            # read under the campaign's lock (and its own): a concurrent end of this attempt, on
            # any node, has committed by now, so it is seen and this one changes nothing; read
            # before the lock, both would end it and plan the member's next attempt twice
            att = s.execute(select(CampaignAttemptRow).where(CampaignAttemptRow.id == attempt_id)
                            .with_for_update()).scalar_one()
            if att.status != "dialing":
                return  # already ended (a repeated callback): nothing changes
            member = s.get(CampaignMemberRow, att.member_id)
            assert member is not None
            att.status = "refused" if result == Result.refused else "done"
            att.result, att.refusal, att.ended_at = result.value, refusal, now
            member.last_result, member.updated_at = result.value, now
            if result != Result.refused:
                member.attempts += 1
                from zoneinfo import ZoneInfo

                local = (att.claimed_at or now).astimezone(ZoneInfo(member.timezone))
                how = local.weekday() * 24 + local.hour
                person = result in ANSWERED_BY_PERSON
                member.answers = _add_pairs(member.answers, how, person)
                camp.population = _add_pairs(camp.population, how, person)
            s.flush()
            if camp.status in ("running", "paused"):
                plan_member(s, camp, member, gate_flow.history, now)
            else:
                member.state = "done"
                member.stop_reason = member.stop_reason or f"campaign_{camp.status}"
            audit_log.append(s, "campaign_attempt_ended", {"campaign_id": camp.id, "attempt_id": att.id,
                                                             "result": result.value, "refusal": refusal}, now,
                               att.call_id)

    def by_call(self, call_id: str) -> int | None:
        """The attempt that placed a call (by the gate's call id)."""
        with self.store.transaction() as s:
            row = s.execute(select(CampaignAttemptRow.id).where(CampaignAttemptRow.call_id == call_id))
            found = row.scalar_one_or_none()
            return int(found) if found is not None else None

    def report(self, cid: str) -> dict[str, Any]:
        """Progress and results: attempts, contacts, promises, opt-outs, refusals by reason, abandoned."""
        with self.store.transaction() as s:
            camp = s.get(CampaignRow, cid)
            if camp is None:
                raise NotFound(f"no campaign {cid}")
            query = select(CampaignAttemptRow).where(CampaignAttemptRow.campaign_id == cid)
            atts = s.execute(query).scalars()
            status: Counter[str] = Counter()
            results: Counter[str] = Counter()
            refusals: Counter[str] = Counter()
            abandoned = 0
            for a in atts:
                status[a.status] += 1
                if a.status == "done" and a.result:
                    results[a.result] += 1
                if a.status == "refused" and a.refusal:
                    refusals[a.refusal] += 1
                abandoned += a.answered_without_slot
            members = s.execute(select(CampaignMemberRow.state, CampaignMemberRow.stop_reason)
                                .where(CampaignMemberRow.campaign_id == cid)).all()
        attempts = sum(results.values())
        contacts = sum(results[r.value] for r in RIGHT_PARTY)
        return {
            "campaign_id": cid, "name": camp.name, "status": camp.status,
            "members": len(members),
            "members_by_state": dict(Counter(m[0] for m in members)),
            "stops": dict(Counter(m[1] for m in members if m[1])),
            "flagged_for_human": sum(1 for m in members if m[0] == "flagged"),
            "attempts": attempts,
            "right_party_contacts": contacts,
            "contacts_per_100_attempts": round(100.0 * contacts / attempts, 2) if attempts else 0.0,
            "promises": results[Result.promise.value],
            "opt_outs": results[Result.opt_out.value],
            "voicemails": results[Result.voicemail.value],  # a machine took it (hang-up or Reg F message)
            "carrier_announcements": results[Result.carrier.value],  # powered off, unreachable
            "results": dict(sorted(results.items())),
            "refusals": dict(sorted(refusals.items())),
            "planned": status["planned"], "dialing": status["dialing"],
            "abandoned": abandoned,
        }
