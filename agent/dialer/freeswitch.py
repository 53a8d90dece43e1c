"""FreeSWITCH over the inbound Event Socket: `bgapi originate`, then `uuid_audio_fork` on answer.

Each attempt is originated with its own channel UUID and job UUID:
`bgapi originate {origination_uuid=U,origination_caller_id_number=FROM,originate_timeout=T,...}
<endpoint> <target>` where the target is `&park()` (or a dialplan extension that runs `amd`
and parks). On CHANNEL_ANSWER (or the job's `+OK`, whichever comes first) the plane runs
`uuid_audio_fork U start <ws-url> mono 8k voice-agent {"call_id":..,"token":..,"sampleRate":..}
true true <rate>`, so the media comes to /ws/freeswitch with the call's credentials in its
metadata; when the fork closes (`mod_audio_fork::disconnect`: our side hung up) or cannot
connect, the channel, which the module leaves parked, is killed. CHANNEL_HANGUP_COMPLETE (or
a job's `-ERR <CAUSE>`) ends the attempt: a call never answered ends with its Hangup-Cause
mapped by FREESWITCH_CAUSES (then its SIP status by SIP_FINAL); an answered one with the
session's own outcome. `amd` finishing with `amd_result=MACHINE` (CHANNEL_EXECUTE_COMPLETE)
marks an answering machine.

The socket may drop. A command in flight then fails (an originate whose command may have
gone out is killed once the socket is back); calls in flight are kept while the socket is
reconnected every `reconnect_s`, and checked with `uuid_exists` when it is: a call gone
meanwhile ends (failed if never answered here), one still ringing is killed and failed (its
answer may have been missed). A socket down for `lost_after_s` ends every call in flight,
so no call slot waits on a socket that does not come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from agent.call.contracts import SCREEN_PARAM
from agent.campaign.model import Result
from agent.dialer.base import FREESWITCH_CAUSES, SIP_FINAL, OriginateFailed, Origination, Progress
from agent.dialer.esl import EslAuthError, EslConnection, EslError, Message

log = logging.getLogger(__name__)
FORK_CLOSED = "mod_audio_fork::disconnect"  # our side closed the fork; the module leaves the channel parked
FORK_FAILED = "mod_audio_fork::connect_failed"
EVENTS = ["BACKGROUND_JOB", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER",
          "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP_COMPLETE", "CUSTOM", FORK_CLOSED, FORK_FAILED]
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")  # what may go into an originate line (no spaces, braces, commas)
RATES = {8000: "8k", 16000: "16k"}


@dataclass(slots=True)
class _Call:
    o: Origination
    uuid: str
    job: str
    answered: bool = False


def hangup_result(headers: dict[str, str]) -> Result:
    """A never-answered channel's end: its Hangup-Cause, else its SIP status, else `failed`."""
    cause = headers.get("Hangup-Cause", "")
    if cause in FREESWITCH_CAUSES:
        return FREESWITCH_CAUSES[cause]
    sip = headers.get("variable_sip_term_status", "")
    return SIP_FINAL.get(int(sip), Result.failed) if sip.isdigit() else Result.failed


def was_answered(headers: dict[str, str]) -> bool:
    """Whether a hangup event says the channel had been answered (whatever events came before)."""
    answered_at = headers.get("Caller-Channel-Answered-Time", "0")
    return headers.get("Answer-State") == "answered" or answered_at not in ("", "0")


class FreeswitchControl:
    """Originates through the Event Socket and follows the channels on the same connection."""

    name = "freeswitch"

    def __init__(self, host: str, port: int, password: str, media_url: str, *,
                 endpoint: str = "sofia/gateway/trunk/{number}", target: str = "&park()",
                 sample_rate: int = 8000, reconnect_s: float = 2.0, lost_after_s: float = 60.0) -> None:
        if not host or not password:
            raise ValueError("campaigns.freeswitch.esl_host and esl_password must be set to dial through "
                             "FreeSWITCH")
        if sample_rate not in RATES:
            raise ValueError(f"campaigns.freeswitch.sample_rate must be one of {sorted(RATES)}")
        self._host, self._port, self._password = host, port, password
        self._media, self._endpoint, self._target = media_url, endpoint, target
        self._rate, self._reconnect_s, self._lost_after_s = sample_rate, reconnect_s, lost_after_s
        self.events: asyncio.Queue[Progress] = asyncio.Queue()
        self._conn: EslConnection | None = None
        self._calls: dict[str, _Call] = {}  # channel uuid -> call in flight
        self._jobs: dict[str, str] = {}  # originate job uuid -> channel uuid
        self._doomed: set[str] = set()  # channels to kill once the socket is back
        self._tasks: set[asyncio.Task[None]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self.last_error = ""

    async def start(self) -> None:
        """Connect (a refused password is a configuration error and raises), then keep connected."""
        try:
            await self._connect()
        except EslAuthError as exc:
            log.error("FreeSWITCH refused campaigns.freeswitch.esl_password; not dialling: %s", exc)
            raise
        except EslError as exc:
            self.last_error = str(exc)
            log.warning("FreeSWITCH Event Socket not reachable yet (retrying): %s", exc)
        self._supervisor = asyncio.create_task(self._supervise())

    async def _connect(self) -> None:
        self._conn = await EslConnection.open(self._host, self._port, self._password, EVENTS, self._on_event)
        self.last_error = ""

    async def _supervise(self) -> None:
        while True:
            try:
                await self._keep_connected()
            except Exception:  # a bug here must not leave the plane without a socket for good
                log.exception("FreeSWITCH Event Socket supervisor failed; restarting it")
                await asyncio.sleep(self._reconnect_s)

    async def _keep_connected(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._conn is not None:
                await self._conn.closed.wait()
                self._conn = None
                log.warning("FreeSWITCH Event Socket lost; %d calls in flight", len(self._calls))
            down_since = loop.time()
            while self._conn is None:
                await asyncio.sleep(self._reconnect_s)
                try:
                    await self._connect()
                except EslError as exc:
                    self.last_error = str(exc)
                    log.warning("FreeSWITCH Event Socket reconnect failed: %s", exc)
                    if self._calls and loop.time() - down_since >= self._lost_after_s:
                        self._lose_all("the Event Socket stayed down")
            await self._reconcile()

    def _lose_all(self, why: str) -> None:
        for call in list(self._calls.values()):
            self._doomed.add(call.uuid)
            self._finish(call, None if call.answered else Result.failed, why)

    async def _reconcile(self) -> None:
        """After a reconnect: kill what must die; end calls that ended or may have been missed."""
        for channel in list(self._doomed):
            with contextlib.suppress(EslError):
                await self._api(f"uuid_kill {channel}")
                self._doomed.discard(channel)
        for call in list(self._calls.values()):
            try:
                exists = (await self._api(f"uuid_exists {call.uuid}")).reply == "true"
            except EslError:
                return  # dropped again: the supervisor takes over
            if not exists:
                why = "ended while the Event Socket was down"
                self._finish(call, None if call.answered else Result.failed, why)
            elif not call.answered:
                self._finish(call, Result.failed, "its answer may have been missed while the socket was down")
                await self._kill(call.uuid)

    async def _api(self, line: str) -> Message:
        conn = self._conn
        if conn is None:
            raise EslError(f"the Event Socket is not connected ({self.last_error or 'connecting'})")
        return await conn.command(f"api {line}")

    def originate_line(self, o: Origination, channel: str) -> str:
        """The `originate` arguments for one attempt."""
        for number in (o.to, o.caller_id):
            if not NUMBER.match(number):
                raise OriginateFailed(f"refusing to put {number!r} into an originate command")
        variables = {
            "origination_uuid": channel, "origination_caller_id_number": o.caller_id,
            "originate_timeout": str(o.ring_timeout_s), "ignore_early_media": "true",
            "va_attempt": str(o.attempt_id),
        }
        head = ",".join(f"{k}={v}" for k, v in variables.items())
        return f"originate {{{head}}}{self._endpoint.format(number=o.to)} {self._target}"

    async def originate(self, o: Origination) -> str:
        channel, job = str(uuid.uuid4()), str(uuid.uuid4())
        line = self.originate_line(o, channel)
        conn = self._conn
        if conn is None:
            raise OriginateFailed(f"FreeSWITCH Event Socket not connected: {self.last_error or 'connecting'}")
        self._calls[channel] = _Call(o, channel, job)
        self._jobs[job] = channel
        try:
            reply = await conn.command(f"bgapi {line}", {"Job-UUID": job})
        except EslError as exc:  # it may have gone out: make sure the channel dies
            self._forget(channel)
            self._doomed.add(channel)
            raise OriginateFailed(f"FreeSWITCH Event Socket failed during the originate: {exc}") from exc
        if not reply.ok:
            self._forget(channel)
            raise OriginateFailed(f"FreeSWITCH refused the originate: {reply.reply[:200]}")
        return channel

    def _forget(self, channel: str) -> None:
        call = self._calls.pop(channel, None)
        if call is not None:
            self._jobs.pop(call.job, None)

    def _finish(self, call: _Call, result: Result | None, detail: str) -> None:
        if self._calls.get(call.uuid) is not call:
            return  # ended already (a hangup and its job's -ERR both end it)
        self._forget(call.uuid)
        self.events.put_nowait(Progress(call.o.attempt_id, "ended", result, detail=detail))

    def _on_event(self, event: Message) -> None:
        h = event.headers
        name = h.get("Event-Name", "")
        if name == "BACKGROUND_JOB":
            self._on_job(h.get("Job-UUID", ""), event.body.strip())
            return
        call = self._calls.get(h.get("Unique-ID", ""))
        if call is None:
            return  # not ours, or ended already (a late event)
        if name in ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA") and not call.answered:
            self.events.put_nowait(Progress(call.o.attempt_id, "ringing", detail=name))
        elif name == "CHANNEL_ANSWER":
            self._answered(call)
        elif name == "CHANNEL_EXECUTE_COMPLETE" and h.get("Application") == "amd":
            if h.get("variable_amd_result", "").upper() == "MACHINE":
                self.events.put_nowait(Progress(call.o.attempt_id, "answered", machine=True, detail="amd"))
        elif name == "CUSTOM" and h.get("Event-Subclass") in (FORK_CLOSED, FORK_FAILED):
            if h.get("Event-Subclass") == FORK_FAILED:
                self._doomed.add(call.uuid)
                self._finish(call, Result.failed, "the audio fork could not connect")
            self._spawn(self._kill(call.uuid))
        elif name == "CHANNEL_HANGUP_COMPLETE":
            cause = h.get("Hangup-Cause", "")
            answered = call.answered or was_answered(h)
            self._finish(call, None if answered else hangup_result(h), cause)

    def _on_job(self, job: str, body: str) -> None:
        call = self._calls.get(self._jobs.get(job, ""))
        if call is None:
            return
        if body.startswith("+OK"):  # originate returns once the callee answered
            self._answered(call)
        else:
            cause = body.removeprefix("-ERR").strip().split()[0] if body.removeprefix("-ERR").strip() else ""
            self._finish(call, FREESWITCH_CAUSES.get(cause, Result.failed), body[:80])

    def _answered(self, call: _Call) -> None:
        if call.answered:
            return
        call.answered = True
        self.events.put_nowait(Progress(call.o.attempt_id, "answered"))
        self._spawn(self._fork(call))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _kill(self, channel: str) -> None:
        """Hang a channel up; if the socket is down, once it is back."""
        self._doomed.add(channel)
        with contextlib.suppress(EslError):
            await self._api(f"uuid_kill {channel}")
            self._doomed.discard(channel)

    def fork_line(self, call: _Call) -> str:
        """The `uuid_audio_fork` that sends the answered call's media to our WebSocket."""
        meta = json.dumps({"call_id": call.o.call_id, "token": call.o.token, "sampleRate": self._rate,
                           SCREEN_PARAM: "1"}, separators=(",", ":"))  # a campaign call: screen the answer
        return (f"uuid_audio_fork {call.uuid} start {self._media} mono {RATES[self._rate]} voice-agent "
                f"{meta} true true {self._rate}")

    async def _fork(self, call: _Call) -> None:
        try:
            reply = await self._api(self.fork_line(call))
            ok, why = reply.ok, reply.reply[:200]
        except EslError as exc:
            ok, why = False, str(exc)
        if ok:
            return
        log.warning("FreeSWITCH audio fork of attempt %d failed: %s", call.o.attempt_id, why)
        self._finish(call, Result.failed, f"uuid_audio_fork failed: {why}")
        await self._kill(call.uuid)

    async def hangup(self, ref: str) -> None:
        await self._kill(ref)  # with the socket down, once it is back

    async def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()
