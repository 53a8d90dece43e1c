"""The dialer of one runtime node: claims due attempts for its free call slots, gates, places, follows.

Each tick the node reports its call slots and claims at most that many due attempts (the
store hands each attempt to one node only). A claimed attempt holds its slot from before
dialling until it ends, so an answered call always has an agent waiting. Each attempt goes
through the pre-call gate (`Store.request_call`, with the member's caller ID) and, when
granted, to the campaign's gateway control plane; progress comes back from the gateway
(callbacks or event stream), and the attempt ends with the gateway's result or the call's
own outcome. Voicemail under a hang-up policy is hung up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.campaign.model import Result
from agent.dialer.base import ControlPlane, OriginateFailed, Origination, Progress
from agent.dialer.outcomes import result_of
from agent.store import CallGrant, CallRequest, Store, StoreError
from agent.store.campaigns import CampaignStore, DueAttempt

log = logging.getLogger(__name__)


def sign(secret: str, gateway: str, attempt_id: int) -> str:
    """The signature on one attempt's callback URLs."""
    return hmac.new(secret.encode(), f"{gateway}:{attempt_id}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(slots=True)
class _Live:
    due: DueAttempt
    plane: ControlPlane
    call_id: str
    token: str
    ref: str = ""
    answered: bool = False
    machine: bool = False
    started: float = 0.0


@dataclass
class Dialer:
    """One node's dialer; `run()` until cancelled."""

    campaigns: CampaignStore
    store: Store
    planes: Mapping[str, ControlPlane]
    node_id: str
    slots: int
    public_url: str  # where gateways reach this node (status callbacks, jambonz hooks)
    callback_secret: str
    tick_s: float = 1.0
    ring_timeout_s: int = 30
    max_call_s: int = 300
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    live: dict[int, _Live] = field(default_factory=dict)
    placed: int = 0
    abandoned: int = 0

    async def serve(self) -> None:
        """Start the control planes (event sockets), dial until cancelled, then close them."""
        try:
            for plane in self.planes.values():
                start = getattr(plane, "start", None)
                if start is not None:
                    await start()
            await self.run()
        finally:
            for plane in self.planes.values():
                with contextlib.suppress(Exception):
                    await plane.close()

    async def run(self) -> None:
        """Dial until cancelled."""
        readers = [asyncio.create_task(self._follow(p)) for p in self.planes.values()]
        try:
            while True:
                await self.tick()
                await asyncio.sleep(self.tick_s)
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    async def tick(self) -> None:
        """Report the slots, claim what fits, place it; end attempts the gateway forgot."""
        now = self.clock()
        try:
            await asyncio.to_thread(self.campaigns.report_node, self.node_id, self.slots, now)
            due = await asyncio.to_thread(self.campaigns.claim_due, self.node_id, now, self.slots)
        except StoreError as exc:
            log.warning("dialer: store unavailable, not dialling: %s", exc)
            return
        for item in due:
            await self._place(item)
        loop_now = asyncio.get_running_loop().time()
        for attempt_id, live in list(self.live.items()):
            if loop_now - live.started > self.ring_timeout_s + self.max_call_s + 60:
                lost = Progress(attempt_id, "ended", Result.failed, detail="no end from the gateway")
                await self._end(lost)

    def callback_url(self, gateway: str, attempt_id: int, kind: str = "callbacks") -> str:
        sig = sign(self.callback_secret, gateway, attempt_id)
        return f"{self.public_url.rstrip('/')}/v1/campaigns/{kind}/{gateway}/{attempt_id}?sig={sig}"

    async def _place(self, due: DueAttempt) -> None:
        now = self.clock()
        spec = due.spec
        request = CallRequest(
            purpose=spec.purpose, use_case=spec.use_case, customer_id=due.customer_id, debt_id=due.debt_id,
            locale=spec.locale, jurisdiction=spec.jurisdiction, slots=due.slots, caller_id=due.caller_id,
            registered_caller_ids=spec.caller_ids,
        )
        try:
            grant = await asyncio.to_thread(self.store.request_call, request, now)
        except StoreError as exc:
            log.warning("dialer: gate unavailable for attempt %d: %s", due.attempt_id, exc)
            await asyncio.to_thread(self.campaigns.refused, due.attempt_id, "store_unavailable", now)
            return
        if not isinstance(grant, CallGrant):
            await asyncio.to_thread(self.campaigns.refused, due.attempt_id, grant.reason, now)
            return
        plane = self.planes.get(spec.gateway)
        if plane is None:
            await self._fail(due, grant.call_id, f"no control plane configured for {spec.gateway}")
            return
        live = _Live(due, plane, grant.call_id, grant.token, started=asyncio.get_running_loop().time())
        self.live[due.attempt_id] = live
        origination = Origination(
            due.attempt_id, grant.call_id, grant.token, due.phone, due.caller_id, self.ring_timeout_s,
            status_url=self.callback_url(spec.gateway, due.attempt_id),
            hook_url=self.callback_url(spec.gateway, due.attempt_id, "hooks"),
        )
        try:
            live.ref = await plane.originate(origination)
        except OriginateFailed as exc:
            self.live.pop(due.attempt_id, None)
            await self._fail(due, grant.call_id, str(exc))
            return
        self.placed += 1
        await asyncio.to_thread(self.campaigns.placed, due.attempt_id, grant.call_id, live.ref)

    async def _fail(self, due: DueAttempt, call_id: str, why: str) -> None:
        log.warning("dialer: attempt %d failed: %s", due.attempt_id, why)
        now = self.clock()
        with contextlib.suppress(StoreError):
            await asyncio.to_thread(self.store.finish_call, call_id, "failed", {"error": why}, now, False)
        await asyncio.to_thread(self.campaigns.finish, due.attempt_id, Result.failed, now)

    async def _follow(self, plane: ControlPlane) -> None:
        while True:
            event = await plane.events.get()
            try:
                await self.on_progress(event)
            except Exception:
                log.exception("dialer: progress event failed")

    async def on_progress(self, event: Progress) -> None:
        """A gateway reported progress on one of this node's attempts."""
        live = self.live.get(event.attempt_id)
        if live is None:
            return
        if event.kind == "answered":
            if not live.answered:
                live.answered = True
                ok = await asyncio.to_thread(self.campaigns.answered, event.attempt_id)
                self.abandoned += 0 if ok else 1
            if event.machine and not live.machine:
                live.machine = True  # hang-up policy: no message is left (see docs/campaigns.md)
                with contextlib.suppress(Exception):
                    await live.plane.hangup(live.ref)
        elif event.kind == "ended":
            await self._end(event)

    async def _end(self, event: Progress) -> None:
        live = self.live.pop(event.attempt_id, None)
        if live is None:
            return
        gateway_result = Result.voicemail if live.machine else event.result
        outcome = None
        if gateway_result is None:
            outcome = await self._call_outcome(live.call_id)
        result = result_of(gateway_result, outcome)
        now = self.clock()
        if outcome is None:  # no session closed this call record: close it for the gate's history
            with contextlib.suppress(StoreError):
                await asyncio.to_thread(self.store.finish_call, live.call_id, result.value,
                                        {"gateway": event.detail}, now, False)
        await asyncio.to_thread(self.campaigns.finish, event.attempt_id, result, now)

    async def _call_outcome(self, call_id: str, wait_s: float = 10.0) -> str | None:
        """The session's outcome for an answered call (it may still be closing the record)."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            try:
                record = await asyncio.to_thread(self.store.get_call, call_id, decrypt=False)
            except StoreError:
                return None
            if record.status == "finished" and record.outcome:
                return record.outcome
            unclaimed = record.status == "granted"
            if unclaimed and asyncio.get_running_loop().time() > deadline - wait_s / 2:
                return None  # never claimed by a media connection
            if asyncio.get_running_loop().time() > deadline:
                return None
            await asyncio.sleep(0.1)
