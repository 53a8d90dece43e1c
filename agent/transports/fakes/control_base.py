"""What the fake control planes share: how a dialled number behaves, scripted by the test.

A `Behaviour` says whether the number answers, rings out, is busy, fails, is not in
service, or reaches voicemail; for an answered call its `customer` coroutine runs on the
fake media gateway (agent.transports.fakes: Twilio, Asterisk, FreeSWITCH, jambonz) once
the media is connected to the runtime, e.g. pressing keys when the agent pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agent.transports.fakes.base import FakeGateway

Customer = Callable[[FakeGateway], Awaitable[None]]
KINDS = ("answer", "busy", "no_answer", "failed", "voicemail", "not_in_service")


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How one number behaves when dialled."""

    kind: str = "answer"
    ring_s: float = 0.2  # ringing before the answer (or before giving up)
    customer: Customer | None = None  # runs on the media gateway of an answered call

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"behaviour kind must be one of {KINDS}")


Script = Callable[[str], Behaviour]


@dataclass
class PlacedCall:
    """What a fake control plane saw of one call (for the test's assertions)."""

    ref: str
    to: str
    caller_id: str
    params: dict[str, str] = field(default_factory=dict)
    gateway: FakeGateway | None = None
    events: list[str] = field(default_factory=list)
    customer_error: str = ""  # why the scripted customer gave up (its exception), if it did


# How long a scripted customer waits for the agent before giving up. A safety net, not a timing
# check: on a loaded machine the agent's turn can take many seconds to start, and a customer
# who gave up hangs up, which turns a scripted promise into a bare contact.
PATIENCE_S = 120.0


async def run_media(gw: FakeGateway, hangup: asyncio.Event, customer: Customer | None,
                    call: PlacedCall | None = None) -> None:
    """Keep the media up until the runtime or the control API hangs up, or the customer is done.

    A customer that raised (gave up waiting, or a broken script) is recorded on `call`, so a
    test can say so instead of seeing only the call's unexpected outcome.
    """
    async with gw:
        tasks: list[asyncio.Task[object]] = [
            asyncio.create_task(_waited(hangup)), asyncio.create_task(_waited(gw.closed))
        ]
        if customer is not None:
            tasks.append(asyncio.create_task(_run(customer, gw)))
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED, timeout=300)
        if customer is not None and call is not None and tasks[-1].done() and not tasks[-1].cancelled():
            error = tasks[-1].exception()
            if error is not None:
                call.customer_error = f"{type(error).__name__}: {error}"
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _run(customer: Customer, gw: FakeGateway) -> object:
    await customer(gw)
    return None


async def _waited(event: asyncio.Event) -> object:
    return await event.wait()


async def wait_for_quiet(gw: FakeGateway, quiet_s: float = 0.6, timeout_s: float = PATIENCE_S) -> None:
    """Wait until the agent has spoken and then been silent for `quiet_s` (its turn is over)."""
    deadline = time.monotonic() + timeout_s
    await gw.wait_for("media", timeout=timeout_s)
    while time.monotonic() < deadline:
        if gw.closed.is_set():
            return
        last = gw.played[-1][0] if gw.played else 0.0
        if gw.queued_samples == 0 and gw.now() - last >= quiet_s:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the agent did not pause")


def keys_customer(*digits: str) -> Customer:
    """A customer who answers each agent turn with the next key (e.g. '1', '1': yes, yes)."""

    async def run(gw: FakeGateway) -> None:
        for digit in digits:
            await wait_for_quiet(gw)
            if gw.closed.is_set():
                return
            await gw.dtmf(digit)
        await gw.wait_closed(timeout=PATIENCE_S)

    return run
