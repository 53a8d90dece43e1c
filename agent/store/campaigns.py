"""The campaign store: campaigns, members (CSV or JSON), start/pause/stop, claims and results.

Built on the main `Store` (same engine, same transactions, same audit chain). Several
runtime nodes share one PostgreSQL: a node claims due attempts with `FOR UPDATE SKIP
LOCKED` (each attempt is dialled once), only as many as its free call slots, and under the
campaign row's lock (so the campaign's pace holds across nodes); caps and suppression are
the gate's, which serialises per number. On SQLite every transaction is already serial.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.campaign.callerid import choose_caller_id
from agent.campaign.model import Campaign
from agent.compliance.phone import InvalidPhone, normalize_e164
from agent.store import audit_log, customers, gate_flow
from agent.store.campaign_models import CampaignAttemptRow, CampaignMemberRow, CampaignNodeRow, CampaignRow
from agent.store.campaign_numbers import NumberBox
from agent.store.campaign_plans import plan_member
from agent.store.campaign_results import ResultsMixin
from agent.store.errors import Conflict, NotFound
from agent.store.models import CustomerRow
from agent.store.store import Store

TRANSITIONS = {
    "start": ({"draft", "paused"}, "running"),
    "pause": ({"running"}, "paused"),
    "stop": ({"draft", "running", "paused"}, "stopped"),
}
MEMBER_FIELDS = ("phone", "name", "timezone", "debt_id", "external_ref", "locale")


@dataclass(frozen=True, slots=True)
class DueAttempt:
    """A claimed attempt, with what the dialer needs to gate and place it."""

    attempt_id: int
    campaign_id: str
    spec: Campaign
    customer_id: str
    phone: str  # E.164, opened from the sealed copy just for dialling
    caller_id: str
    debt_id: str | None
    slots: dict[str, str]


class CampaignStore(ResultsMixin):
    """Campaign tables on the main store's engine; every method is one transaction."""

    def __init__(self, store: Store, number_key: str, caller_id_secret: str) -> None:
        if not caller_id_secret:
            raise ValueError("campaigns.caller_id_secret must be set (it keys the caller-ID choice)")
        self.store = store
        self._box = NumberBox(number_key)
        self._secret = caller_id_secret

    # -- campaigns --------------------------------------------------------------------------

    def create(self, spec: Campaign, now: datetime) -> str:
        """Store a new campaign (status draft); returns its id."""
        cid = uuid.uuid4().hex
        with self.store.transaction() as s:
            s.add(CampaignRow(id=cid, name=spec.name, spec=spec.model_dump_json(), status="draft",
                              population="[]", created_at=now, updated_at=now))
            audit_log.append(s, "campaign_created", {"campaign_id": cid, "name": spec.name}, now)
        return cid

    def _campaign(self, s: Session, cid: str, lock: bool = False) -> CampaignRow:
        query = select(CampaignRow).where(CampaignRow.id == cid)
        if lock:  # what the row holds now, not what this session read before it waited for the lock
            query = query.with_for_update().execution_options(populate_existing=True)
        row = s.execute(query).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no campaign {cid}")
        return row

    def get(self, cid: str) -> dict[str, Any]:
        """The campaign's spec and status."""
        with self.store.transaction() as s:
            row = self._campaign(s, cid)
            return {"campaign_id": row.id, "name": row.name, "status": row.status,
                    "spec": json.loads(row.spec), "created_at": row.created_at.isoformat()}

    def all(self) -> list[dict[str, Any]]:
        """Every campaign, newest first."""
        with self.store.transaction() as s:
            rows = s.execute(select(CampaignRow).order_by(CampaignRow.created_at.desc())).scalars()
            return [{"campaign_id": r.id, "name": r.name, "status": r.status} for r in rows]

    def control(self, cid: str, action: str, now: datetime) -> str:
        """start | pause | stop; returns the new status. Starting plans every member not yet planned."""
        if action not in TRANSITIONS:
            raise ValueError(f"action must be one of {sorted(TRANSITIONS)}")
        allowed, target = TRANSITIONS[action]
        with self.store.transaction() as s:
            row = self._campaign(s, cid, lock=True)
            if row.status not in allowed:
                raise Conflict(f"cannot {action} a {row.status} campaign")
            row.status, row.updated_at = target, now
            if target == "running":
                news = s.execute(select(CampaignMemberRow).where(
                    CampaignMemberRow.campaign_id == cid, CampaignMemberRow.state == "new")).scalars()
                for member in list(news):
                    plan_member(s, row, member, gate_flow.history, now)
            if target == "stopped":
                planned = select(CampaignAttemptRow).where(
                    CampaignAttemptRow.campaign_id == cid, CampaignAttemptRow.status == "planned")
                for att in s.execute(planned).scalars():
                    att.status = "cancelled"
            audit_log.append(s, f"campaign_{action}", {"campaign_id": cid, "status": target}, now)
            return target

    # -- members ----------------------------------------------------------------------------

    def add_members(self, cid: str, members: Iterable[Mapping[str, Any]], now: datetime) -> int:
        """Add members (phone, name, timezone, debt_id, slots...), all or nothing; returns how many.

        Each member becomes (or is matched to) a registered customer, so the gate can check them.
        """
        with self.store.transaction() as s:
            camp = self._campaign(s, cid, lock=True)
            spec = Campaign.model_validate_json(camp.spec)
            count = 0
            for n, raw in enumerate(members, start=1):
                self._add_member(s, camp, spec, raw, n, now)
                count += 1
            s.flush()
            if camp.status == "running":
                for member in list(s.execute(select(CampaignMemberRow).where(
                        CampaignMemberRow.campaign_id == cid, CampaignMemberRow.state == "new")).scalars()):
                    plan_member(s, camp, member, gate_flow.history, now)
            audit_log.append(s, "campaign_members_added", {"campaign_id": cid, "count": count}, now)
            return count

    def _add_member(self, s: Session, camp: CampaignRow, spec: Campaign, raw: Mapping[str, Any], n: int,
                    now: datetime) -> None:
        phone, timezone = str(raw.get("phone") or ""), str(raw.get("timezone") or "")
        if not phone or not timezone:
            raise ValueError(f"member {n}: phone and timezone are required")
        ctx = self.store.context
        try:
            phone_hash, masked = ctx.phone(phone, spec.jurisdiction)
            e164 = normalize_e164(phone, "CN" if spec.jurisdiction == "CN" else "US")
        except InvalidPhone as exc:
            raise ValueError(f"member {n}: {exc}") from exc
        cust = s.execute(select(CustomerRow).where(CustomerRow.phone_hash == phone_hash)).scalar_one_or_none()
        if cust is None:
            name = str(raw.get("name") or "")
            cid = customers.register(
                s, ctx, phone=phone, name=name, timezone=timezone, now=now,
                locale=str(raw.get("locale") or spec.locale), jurisdiction=spec.jurisdiction,
                external_ref=raw.get("external_ref") or None)
            cust = s.get(CustomerRow, cid)
            assert cust is not None
        else:
            name = ctx.cipher.open(cust.name, f"customers.name:{cust.id}")
        slots = {str(k): str(v) for k, v in dict(raw.get("slots") or {}).items()}
        slots.update({k: str(v) for k, v in raw.items() if k not in MEMBER_FIELDS and k != "slots" and v})
        slots.setdefault("customer_name", name)
        debt = str(raw.get("debt_id")) if raw.get("debt_id") else None
        s.add(CampaignMemberRow(
            campaign_id=camp.id, customer_id=cust.id, phone_hash=phone_hash, phone_masked=masked,
            phone_enc=self._box.seal(e164, phone_hash), timezone=timezone, debt_id=debt,
            slots=ctx.cipher.seal(json.dumps(slots, sort_keys=True, ensure_ascii=False),
                                  _slots_where(camp.id, phone_hash)),
            state="new", answers="[]",
            attempts=0, created_at=now, updated_at=now))

    def import_csv(self, cid: str, text: str, now: datetime) -> int:
        """Import members from CSV with a header: phone,name,timezone[,debt_id,...slot columns]."""
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"phone", "timezone"} <= {f.strip() for f in reader.fieldnames}:
            raise ValueError("the CSV needs a header with at least phone and timezone columns")
        rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in reader]
        return self.add_members(cid, rows, now)

    def members(self, cid: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Members with masked phones and where each stands."""
        with self.store.transaction() as s:
            self._campaign(s, cid)
            rows = s.execute(select(CampaignMemberRow).where(CampaignMemberRow.campaign_id == cid)
                             .order_by(CampaignMemberRow.id).limit(limit).offset(offset)).scalars()
            return [{"member_id": r.id, "phone": r.phone_masked, "debt_id": r.debt_id, "state": r.state,
                     "attempts": r.attempts, "last_result": r.last_result, "stop_reason": r.stop_reason}
                    for r in rows]

    # -- nodes and claims ---------------------------------------------------------------------

    @contextlib.contextmanager
    def hold_node(self, node_id: str) -> Iterator[None]:
        """Be the one running dialer with this node id while the block runs; Conflict if another is.

        Two dialers under one id would each take the other's calls in flight for ones a crash
        left (a node ends its `dialing` attempts it does not follow) and dial those members
        again; so a second process with the same id (the default is the host name) must not start.
        """
        with self.store.session_lock(f"campaign-node:{node_id}") as held:
            if not held:
                raise Conflict(f"campaigns.node_id {node_id!r} is in use by another running dialer; "
                               "give each dialer process its own node_id")
            yield

    def report_node(self, node_id: str, slots: int, now: datetime) -> None:
        """A runtime node reports how many calls it can take."""
        with self.store.transaction() as s:
            node = s.get(CampaignNodeRow, node_id)
            if node is None:
                s.add(CampaignNodeRow(node_id=node_id, slots=max(slots, 0), heartbeat_at=now))
            else:
                node.slots, node.heartbeat_at = max(slots, 0), now

    def silent_nodes(self, node_id: str, now: datetime, stale_s: float) -> list[str]:
        """Other nodes with `dialing` attempts that have not reported for `stale_s`: dead, or only late.

        Which of the two only the node's lock tells (`hold_node`: a running dialer holds it, and
        PostgreSQL drops it with the dead process's connection), so a caller takes the lock first.
        """
        with self.store.transaction() as s:
            quiet = s.execute(select(CampaignNodeRow.node_id).where(
                CampaignNodeRow.node_id != node_id,
                CampaignNodeRow.heartbeat_at < now - timedelta(seconds=stale_s))).scalars().all()
            return [n for n in quiet if self._dialing(s, CampaignAttemptRow.node_id == n)]

    def claim_due(self, node_id: str, now: datetime, limit: int = 100) -> list[DueAttempt]:
        """Claim due attempts for this node: at most its free slots, each attempt once (SKIP LOCKED)."""
        with self.store.transaction() as s:
            node = s.execute(select(CampaignNodeRow).where(CampaignNodeRow.node_id == node_id)
                             .with_for_update()).scalar_one_or_none()
            if node is None:
                raise NotFound(f"node {node_id} has not reported its slots")
            free = node.slots - self._dialing(s, CampaignAttemptRow.node_id == node_id)
            out: list[DueAttempt] = []
            running = s.execute(select(CampaignRow).where(CampaignRow.status == "running")
                                .order_by(CampaignRow.created_at)).scalars().all()
            for camp in running:
                if free <= 0 or len(out) >= limit:
                    break
                out += self._claim_in(s, camp.id, node_id, min(free, limit - len(out)), now)
                free = node.slots - self._dialing(s, CampaignAttemptRow.node_id == node_id)
            return out

    def _dialing(self, s: Session, *where: Any) -> int:
        query = select(func.count()).select_from(CampaignAttemptRow).where(
            CampaignAttemptRow.status == "dialing", *where)
        return int(s.execute(query).scalar_one())

    def _claim_in(self, s: Session, cid: str, node_id: str, room: int, now: datetime) -> list[DueAttempt]:
        camp = self._campaign(s, cid, lock=True)  # the campaign's pace holds across nodes
        if camp.status != "running":
            return []
        spec = Campaign.model_validate_json(camp.spec)
        in_flight = self._dialing(s, CampaignAttemptRow.campaign_id == cid)
        last_second = int(s.execute(select(func.count()).select_from(CampaignAttemptRow).where(
            CampaignAttemptRow.campaign_id == cid,
            CampaignAttemptRow.claimed_at > now - timedelta(seconds=1))).scalar_one())
        rate_room = int(spec.pace.calls_per_second * spec.pace.trunks) - last_second
        n = min(room, spec.pace.max_concurrent - in_flight, max(rate_room, 0))
        if n <= 0:
            return []
        rows = s.execute(
            select(CampaignAttemptRow)
            .where(CampaignAttemptRow.campaign_id == cid, CampaignAttemptRow.status == "planned",
                   CampaignAttemptRow.planned_at <= now)
            .order_by(CampaignAttemptRow.planned_at).limit(n).with_for_update(skip_locked=True)
        ).scalars().all()
        out: list[DueAttempt] = []
        for att in rows:
            member = s.get(CampaignMemberRow, att.member_id)
            assert member is not None
            att.status, att.node_id, att.claimed_at = "dialing", node_id, now
            att.caller_id = choose_caller_id(member.phone_hash, spec.caller_ids, self._secret)
            member.state, member.updated_at = "dialing", now
            out.append(DueAttempt(att.id, cid, spec, member.customer_id,
                                  self._box.open(member.phone_enc, member.phone_hash), att.caller_id,
                                  member.debt_id, dict(json.loads(self.store.context.cipher.open(
                                      member.slots, _slots_where(cid, member.phone_hash))))))
        return out


def _slots_where(campaign_id: str, phone_hash: str) -> str:
    """The associated data that binds a member's sealed slots to its campaign and number."""
    return f"campaign_members.slots:{campaign_id}:{phone_hash}"
