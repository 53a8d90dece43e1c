"""The dialer of one runtime node: claims due attempts for its free call slots, gates, places, follows.

Each tick the node reports its call slots and claims at most that many due attempts (the
store hands each attempt to one node only). A claimed attempt holds its slot from before
dialling until it ends, so an answered call always has an agent waiting. Each attempt goes
through the pre-call gate (`Store.request_call`, with the member's caller ID) and, when
granted, to the campaign's gateway control plane; progress comes back from the gateway
(callbacks or event stream), and the attempt ends with the gateway's result or the call's
own outcome. Voicemail under a hang-up policy is hung up at once.

No path leaks a call slot: an attempt stays in `live` until its end is stored (a store
error keeps it there and the next tick retries), an error while placing one attempt ends
that attempt and not the loop, and each tick ends this node's `dialing` attempts that no
live entry holds (left by a crash or restart of the node), so the slot count the node
claims against is always its real one. A node that died for good cannot do that for itself:
once it has been silent for DEAD_NODE_S and its node lock is free (a running dialer holds
its own; PostgreSQL drops a dead process's), another node ends its `dialing` attempts, so
their campaign slots are free and their members are planned again.
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
from agent.store.errors import Conflict

log = logging.getLogger(__name__)

DEAD_NODE_S = 60.0  # a node silent this long (it reports every tick) whose lock is free is dead


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
    ending: bool = False  # an end is being stored
    pending: Progress | None = None  # an end whose storing failed: the next tick retries it


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
                try:
                    await self.tick()
                except Exception:  # one bad tick (a store outage mid-way) must not stop the node dialling
                    log.exception("dialer: tick failed")
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
            try:
                await self._place(item)
            except Exception:  # this attempt fails; the others are still placed
                log.exception("dialer: placing attempt %d failed", item.attempt_id)
                if item.attempt_id not in self.live:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(self.campaigns.finish, item.attempt_id, Result.failed, now)
        loop_now = asyncio.get_running_loop().time()
        for attempt_id, live in list(self.live.items()):
            if live.pending is not None:
                await self._end(live.pending)
            elif loop_now - live.started > self.ring_timeout_s + self.max_call_s + 60:
                lost = Progress(attempt_id, "ended", Result.failed, detail="no end from the gateway")
                await self._end(lost)
        await self._end_orphans(now)

    async def _end_orphans(self, now: datetime) -> None:
        """End this node's `dialing` attempts that no live entry holds, and those of dead nodes."""
        try:
            dialing = await asyncio.to_thread(self.campaigns.dialing_on, self.node_id)
            silent = await asyncio.to_thread(self.campaigns.silent_nodes, self.node_id, now, DEAD_NODE_S)
        except StoreError:
            return
        for attempt_id, call_id in dialing:
            if attempt_id not in self.live:
                log.warning("dialer: attempt %d was dialing here with no call followed; ended", attempt_id)
                await asyncio.to_thread(self._end_orphan, attempt_id, call_id, now,
                                        "orphaned by a node restart")
        for node in silent:
            await asyncio.to_thread(self._reclaim, node, now)

    def _reclaim(self, node: str, now: datetime) -> None:
        """End a dead node's `dialing` attempts; nothing when its dialer is alive (it holds its lock)."""
        try:
            with self.campaigns.hold_node(node):
                dialing = self.campaigns.dialing_on(node)
                log.warning("dialer: node %s is silent and its lock free: ending its %d attempts in flight",
                            node, len(dialing))
                for attempt_id, call_id in dialing:
                    self._end_orphan(attempt_id, call_id, now, f"node {node} stopped")
        except Conflict:
            return  # alive, only late to report (a loaded machine, a long store outage)
        except StoreError as exc:
            log.warning("dialer: could not end the attempts of silent node %s: %s", node, exc)

    def _end_orphan(self, attempt_id: int, call_id: str | None, now: datetime, why: str) -> None:
        """End an attempt nobody follows: no conversation is proven, so it failed (its retry is planned)."""
        with contextlib.suppress(Exception):
            if call_id:
                self.store.finish_call(call_id, "failed", {"error": why}, now, False)
        with contextlib.suppress(StoreError):
            self.campaigns.finish(attempt_id, Result.failed, now)

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
        except Exception as exc:  # refused, unreachable, or a bug: the call is taken as not placed
            self.live.pop(due.attempt_id, None)
            if not isinstance(exc, OriginateFailed):
                log.exception("dialer: originate of attempt %d raised", due.attempt_id)
            await self._fail(due, grant.call_id, str(exc) or type(exc).__name__)
            return
        self.placed += 1
        if live.machine:  # the gateway's AMD answered before its reference came back
            await self._hangup(live)
        try:
            await asyncio.to_thread(self.campaigns.placed, due.attempt_id, grant.call_id, live.ref)
        except StoreError as exc:  # the call is up all the same; it is followed and ended as any other
            log.warning("dialer: could not record the placing of attempt %d: %s", due.attempt_id, exc)

    async def _hangup(self, live: _Live) -> None:
        try:
            await live.plane.hangup(live.ref)
        except Exception:
            log.warning("dialer: hang-up of attempt %d failed", live.due.attempt_id, exc_info=True)

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
                if live.ref:  # else `_place` hangs up once the gateway has named the call
                    await self._hangup(live)
        elif event.kind == "ended":
            await self._end(event)

    async def _end(self, event: Progress) -> None:
        live = self.live.get(event.attempt_id)
        if live is None or live.ending:
            return
        live.ending, live.pending = True, None
        try:
            await self._store_end(live, event)
        except Exception:
            log.warning("dialer: storing the end of attempt %d failed (retried)", event.attempt_id,
                        exc_info=True)
            live.ending, live.pending = False, event
            return
        self.live.pop(event.attempt_id, None)

    async def _store_end(self, live: _Live, event: Progress) -> None:
        gateway_result = Result.voicemail if live.machine else event.result
        outcome = None
        if gateway_result is None:
            outcome = await self._call_outcome(live.call_id)
        elif live.machine and live.answered:
            # the media may have reached a session, which closes the record as it saw it (e.g.
            # `hangup`, a conversation); let it, then ours below says what it was: a machine,
            # no conversation, so no rest period starts (Reg F's 7 days) for a voicemail
            await self._call_outcome(live.call_id)
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
