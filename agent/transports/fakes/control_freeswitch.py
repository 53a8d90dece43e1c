"""A fake FreeSWITCH Event Socket (inbound, TCP) that places scripted calls and forks their audio.

It speaks the ESL wire format: `Content-Type: auth/request` on connect; `auth <password>`
(a wrong one gets `-ERR invalid` and a disconnect notice); `event plain <names>`; `api <cmd>`
answered by `api/response`; `bgapi <cmd>` (with an optional `Job-UUID` header) answered by
`command/reply` and later a BACKGROUND_JOB event; events as `text/event-plain` with URL-encoded
headers. Commands: `originate {vars}<endpoint>/<number> <target>`, `uuid_audio_fork <uuid> start
<url> <mix> <8k|16k> <bug> <metadata> <bidir> <stream> <rate>`, `uuid_kill`, `uuid_exists`.

An originated call plays the number's `Behaviour`: CHANNEL_PROGRESS, then CHANNEL_ANSWER and
the job's `+OK <uuid>` (a dialplan target also reports `amd` with `amd_result` MACHINE or
PERSON), or CHANNEL_HANGUP_COMPLETE with the Hangup-Cause and SIP status and the job's
`-ERR <CAUSE>`. An answered call waits for `uuid_audio_fork` and then connects FakeFreeswitch
to the URL with the metadata verbatim; when the runtime closes that socket the channel stays
parked (as a real one does) after a `CUSTOM mod_audio_fork::disconnect` event until someone
kills it. Unkind on request: `out_of_order` (the job before the answer, the progress after it,
the answer twice, a failure's job before its hangup), `fork_fails`, `drop()` (every socket
closed at once, no notice), a wrong password.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

from agent.transports.fakes.audio_fork import FakeFreeswitch
from agent.transports.fakes.base import FakeGateway
from agent.transports.fakes.control_base import Behaviour, PlacedCall, Script

# behaviour -> (Hangup-Cause, SIP status) as FreeSWITCH reports a call that never connected
CAUSES = {"busy": ("USER_BUSY", "486"), "no_answer": ("NO_ANSWER", "487"),
          "failed": ("NORMAL_TEMPORARY_FAILURE", "503"), "not_in_service": ("UNALLOCATED_NUMBER", "404")}
RATES = {"8k": 8000, "16k": 16000}
PARKED_S = 10.0  # how long a channel left parked after its fork closed waits for a kill (then an error)


@dataclass
class _Client:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    authed: bool = False
    events: set[str] = field(default_factory=set)


@dataclass
class _Channel:
    call: PlacedCall
    target: str
    killed: asyncio.Event = field(default_factory=asyncio.Event)
    forked: asyncio.Event = field(default_factory=asyncio.Event)
    answered: bool = False
    gone: bool = False


def parse_originate(args: str) -> tuple[dict[str, str], str, str]:
    """`{a=b,c=d}endpoint target` as (variables, endpoint, target)."""
    variables: dict[str, str] = {}
    rest = args.strip()
    if rest.startswith("{"):
        end = rest.find("}")
        if end < 0:
            raise ValueError("unclosed {variables}")
        for item in rest[1:end].split(","):
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"bad channel variable {item!r}")
            variables[name.strip()] = value
        rest = rest[end + 1:]
    endpoint, _sep, target = rest.partition(" ")
    if not endpoint or not target.strip():
        raise ValueError("originate needs <endpoint> <target>")
    return variables, endpoint, target.strip()


def frame(headers: dict[str, str], body: str = "") -> bytes:
    """One ESL message."""
    head = dict(headers)
    if body:
        head["Content-Length"] = str(len(body.encode()))
    text = "".join(f"{k}: {v}\n" for k, v in head.items()) + "\n" + body
    return text.encode()


def event_frame(headers: dict[str, str], body: str = "") -> bytes:
    """A `text/event-plain` message: URL-encoded headers (and an inner body)."""
    inner = dict(headers)
    if body:
        inner["Content-Length"] = str(len(body.encode()))
    text = "".join(f"{k}: {quote(v, safe='')}\n" for k, v in inner.items()) + "\n" + body
    return frame({"Content-Type": "text/event-plain"}, text)


class FakeEsl:
    """The fake Event Socket; `await start()` for the port, point FreeswitchControl at it."""

    def __init__(self, script: Script, password: str = "esl-secret", *, out_of_order: bool = False,
                 fork_fails: bool = False) -> None:
        self.script, self.password = script, password
        self.out_of_order, self.fork_fails = out_of_order, fork_fails
        self.calls: dict[str, PlacedCall] = {}
        self.errors: list[str] = []
        self.commands: list[str] = []
        self.auth_failures = 0
        self.connections = 0
        self._channels: dict[str, _Channel] = {}
        self._clients: list[_Client] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop listening, drop every client, end every call."""
        if self._server is not None:
            self._server.close()
        self.drop()
        for ch in self._channels.values():
            ch.killed.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop(self) -> None:
        """Close every client socket at once, with no disconnect notice (a crash, a network cut)."""
        for client in list(self._clients):
            with contextlib.suppress(Exception):
                client.writer.transport.abort()
        self._clients.clear()

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, client: _Client, data: bytes) -> None:
        try:
            client.writer.write(data)
            await client.writer.drain()
        except (OSError, RuntimeError):
            pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(reader, writer)
        self.connections += 1
        self._clients.append(client)
        try:
            await self._send(client, frame({"Content-Type": "auth/request"}))
            while True:
                block = await self._read_block(reader)
                if block is None:
                    break
                line, headers = block
                if not await self._command(client, line, headers):
                    break
        finally:
            if client in self._clients:
                self._clients.remove(client)
            with contextlib.suppress(Exception):
                writer.close()

    async def _read_block(self, reader: asyncio.StreamReader) -> tuple[str, dict[str, str]] | None:
        lines: list[str] = []
        while True:
            try:
                raw = await reader.readline()
            except (OSError, ValueError):
                return None
            if not raw:
                return None
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not text:
                if lines:
                    break
                continue
            lines.append(text)
        headers = {}
        for extra in lines[1:]:
            name, _sep, value = extra.partition(":")
            headers[name.strip()] = value.strip()
        return lines[0], headers

    async def _command(self, client: _Client, line: str, headers: dict[str, str]) -> bool:
        self.commands.append(line)
        verb, _sep, args = line.partition(" ")
        if not client.authed:
            if verb == "auth" and args == self.password:
                client.authed = True
                await self._reply(client, "+OK accepted")
                return True
            self.auth_failures += 1
            await self._reply(client, "-ERR invalid")
            bye = frame({"Content-Type": "text/disconnect-notice"}, "Disconnected, goodbye.\n")
            await self._send(client, bye)
            return False
        if verb == "event":
            names = args.split()
            if not names or names[0] != "plain":
                await self._reply(client, "-ERR only plain events here")
                return True
            client.events.update(names[1:])
            await self._reply(client, "+OK event listener enabled plain")
        elif verb == "api":
            body = await self._api(args)
            await self._send(client, frame({"Content-Type": "api/response"}, body))
        elif verb == "bgapi":
            job = headers.get("Job-UUID") or str(uuid.uuid4())
            reply = {"Content-Type": "command/reply", "Reply-Text": f"+OK Job-UUID: {job}", "Job-UUID": job}
            await self._send(client, frame(reply))
            self._spawn(self._bgapi(job, args))
        elif verb == "exit":
            await self._reply(client, "+OK bye")
            return False
        else:
            await self._reply(client, "-ERR command not found")
        return True

    async def _reply(self, client: _Client, text: str) -> None:
        await self._send(client, frame({"Content-Type": "command/reply", "Reply-Text": text}))

    async def emit(self, name: str, headers: dict[str, str], body: str = "") -> None:
        """Send one event to every client subscribed to it."""
        full = {"Event-Name": name, "Core-UUID": "fake-core", "Event-Date-Timestamp": "0", **headers}
        data = event_frame(full, body)
        subclass = headers.get("Event-Subclass", "")
        for client in list(self._clients):
            wanted = client.events
            if name == "CUSTOM":  # `event plain CUSTOM <subclass>` subscribes to one subclass
                match = "ALL" in wanted or ("CUSTOM" in wanted and subclass in wanted)
            else:
                match = name in wanted or "ALL" in wanted
            if match:
                await self._send(client, data)

    async def _api(self, args: str) -> str:
        cmd, _sep, rest = args.partition(" ")
        parts = rest.split()
        if cmd == "uuid_exists":
            ch = self._channels.get(parts[0] if parts else "")
            return "true" if ch is not None and not ch.gone else "false"
        if cmd == "uuid_kill":
            ch = self._channels.get(parts[0] if parts else "")
            if ch is None or ch.gone:
                return "-ERR No such channel!\n"
            ch.call.events.append("kill")
            ch.killed.set()
            return "+OK\n"
        if cmd == "uuid_audio_fork":
            return self._fork(rest)
        if cmd == "originate":
            return "-ERR use bgapi for originate here\n"
        return f"-ERR {cmd} Command not found!\n"

    def _fork(self, rest: str) -> str:
        parts = rest.split(" ")
        if len(parts) < 9 or parts[1] != "start":
            self.errors.append(f"uuid_audio_fork needs <uuid> start <url> <mix> <rate> <bug> <metadata> "
                               f"<bidir> <stream> <rate>: {rest[:120]}")
            return "-ERR invalid args\n"
        channel, _start, url, mix, rate, _bug, meta_text, bidir, stream, out_rate = parts[:10]
        ch = self._channels.get(channel)
        if ch is None or ch.gone or not ch.answered:
            return "-ERR no such channel or not answered\n"
        if self.fork_fails:
            return "-ERR failed to connect\n"
        bidirectional = (bidir, stream) == ("true", "true")
        if mix != "mono" or rate not in RATES or not bidirectional or not out_rate.isdigit():
            self.errors.append(f"uuid_audio_fork arguments: {mix} {rate} {bidir} {stream} {out_rate}")
            return "-ERR invalid args\n"
        try:
            meta = json.loads(meta_text)
        except json.JSONDecodeError:
            self.errors.append(f"metadata is not JSON: {meta_text[:80]}")
            return "-ERR invalid metadata\n"
        if not isinstance(meta, dict) or meta.get("sampleRate") != RATES[rate]:
            self.errors.append(f"metadata sampleRate {meta!r} is not the fork rate {rate}")
        ch.call.params = {str(k): str(v) for k, v in meta.items()}
        extra = {str(k): str(v) for k, v in meta.items() if k not in ("sampleRate", "out_sample_rate")}
        gw = FakeFreeswitch(url, rate=RATES[rate], out_rate=int(out_rate), extra=extra)
        ch.call.gateway = gw
        ch.call.events.append("fork")
        ch.forked.set()
        return "+OK Success\n"

    async def _bgapi(self, job: str, args: str) -> None:
        cmd, _sep, rest = args.partition(" ")
        if cmd != "originate":
            body = await self._api(args)
            await self._job(job, args, body)
            return
        try:
            variables, endpoint, target = parse_originate(rest)
        except ValueError as exc:
            self.errors.append(f"bad originate: {exc}")
            await self._job(job, args, "-ERR INVALID_ARGS\n")
            return
        channel = variables.get("origination_uuid") or str(uuid.uuid4())
        number = endpoint.rsplit("/", 1)[-1]
        call = PlacedCall(channel, number, variables.get("origination_caller_id_number", ""), dict(variables))
        self.calls[channel] = call
        ch = _Channel(call, target)
        self._channels[channel] = ch
        await self._play(job, args, ch, self.script(number))

    async def _job(self, job: str, args: str, body: str) -> None:
        cmd, _sep, rest = args.partition(" ")
        headers = {"Job-UUID": job, "Job-Command": cmd, "Job-Command-Arg": rest}
        await self.emit("BACKGROUND_JOB", headers, body)

    def _chan(self, ch: _Channel, **extra: str) -> dict[str, str]:
        return {"Unique-ID": ch.call.ref, "Channel-Name": f"sofia/gateway/trunk/{ch.call.to}",
                "Caller-Caller-ID-Number": ch.call.caller_id, "Caller-Destination-Number": ch.call.to,
                "variable_va_attempt": ch.call.params.get("va_attempt", ""), **extra}

    async def _event(self, ch: _Channel, name: str, **extra: str) -> None:
        ch.call.events.append(name)
        await self.emit(name, self._chan(ch, **extra))

    async def _hangup(self, ch: _Channel, cause: str, sip: str = "200") -> None:
        ch.gone = True
        state = "answered" if ch.answered else "hangup"
        answered_at = "1700000000000000" if ch.answered else "0"
        await self._event(ch, "CHANNEL_HANGUP_COMPLETE", **{
            "Hangup-Cause": cause, "Answer-State": state, "Caller-Channel-Answered-Time": answered_at,
            "variable_sip_term_status": sip})

    async def _play(self, job: str, args: str, ch: _Channel, b: Behaviour) -> None:
        await asyncio.sleep(0.05)
        if not self.out_of_order:
            await self._event(ch, "CHANNEL_PROGRESS", **{"Answer-State": "ringing"})
        ring = asyncio.create_task(ch.killed.wait())
        await asyncio.wait([ring], timeout=b.ring_s)
        ring.cancel()
        if ch.killed.is_set():  # cancelled while ringing
            await self._hangup(ch, "ORIGINATOR_CANCEL", "487")
            await self._job(job, args, "-ERR ORIGINATOR_CANCEL\n")
            return
        if b.kind in CAUSES:
            cause, sip = CAUSES[b.kind]
            if self.out_of_order:
                await self._job(job, args, f"-ERR {cause}\n")
                await self._hangup(ch, cause, sip)
            else:
                await self._hangup(ch, cause, sip)
                await self._job(job, args, f"-ERR {cause}\n")
            return
        ch.answered = True
        if self.out_of_order:  # the job's +OK first, a stale progress, the answer twice
            await self._job(job, args, f"+OK {ch.call.ref}\n")
            await self._event(ch, "CHANNEL_PROGRESS", **{"Answer-State": "early"})
            await self._event(ch, "CHANNEL_ANSWER", **{"Answer-State": "answered"})
            await self._event(ch, "CHANNEL_ANSWER", **{"Answer-State": "answered"})
        else:
            await self._event(ch, "CHANNEL_ANSWER", **{"Answer-State": "answered"})
            await self._job(job, args, f"+OK {ch.call.ref}\n")
        if ch.target != "&park()":  # a dialplan extension: it runs amd before parking
            result = "MACHINE" if b.kind == "voicemail" else "HUMAN"
            await self._event(ch, "CHANNEL_EXECUTE_COMPLETE", Application="amd", variable_amd_result=result,
                              variable_amd_status=result.lower())
        await self._media(ch, b)

    async def _media(self, ch: _Channel, b: Behaviour) -> None:
        forked = asyncio.create_task(ch.forked.wait())
        killed = asyncio.create_task(ch.killed.wait())
        await asyncio.wait([forked, killed], timeout=15, return_when=asyncio.FIRST_COMPLETED)
        forked.cancel()
        killed.cancel()
        gw = ch.call.gateway
        if gw is None or ch.killed.is_set():
            if not ch.killed.is_set():
                self.errors.append(f"answered channel {ch.call.ref} was never forked nor killed")
            await self._hangup(ch, "NORMAL_CLEARING")
            return
        why = await self._converse(gw, ch, b)
        if why == "closed":  # the runtime closed the fork: the channel stays parked until killed
            await self.emit("CUSTOM", self._chan(ch, **{"Event-Subclass": "mod_audio_fork::disconnect"}))
            ch.call.events.append("fork-closed")
            kill = asyncio.create_task(ch.killed.wait())
            await asyncio.wait([kill], timeout=PARKED_S)
            kill.cancel()
            if not ch.killed.is_set():
                self.errors.append(f"channel {ch.call.ref} left parked after its audio fork closed")
        await self._hangup(ch, "NORMAL_CLEARING")

    async def _converse(self, gw: FakeGateway, ch: _Channel, b: Behaviour) -> str:
        """Media until the channel is killed, the runtime closes the fork, or the customer hangs up."""
        async with gw:
            waits: dict[asyncio.Task[object], str] = {
                asyncio.create_task(_wait(ch.killed)): "killed",
                asyncio.create_task(_wait(gw.closed)): "closed",
            }
            if b.customer is not None:
                waits[asyncio.create_task(_customer(b, gw))] = "customer"
            done, _pending = await asyncio.wait(waits, timeout=300, return_when=asyncio.FIRST_COMPLETED)
            why = "timeout"
            for task in done:  # a scripted customer that gave up is recorded, as in run_media
                if waits[task] == "customer" and not task.cancelled() and task.exception() is not None:
                    error = task.exception()
                    ch.call.customer_error = f"{type(error).__name__}: {error}"
            for name in ("killed", "closed", "customer"):
                if any(waits[t] == name for t in done):
                    why = name
                    break
            for task in waits:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        return why


async def _wait(event: asyncio.Event) -> object:
    return await event.wait()


async def _customer(b: Behaviour, gw: FakeGateway) -> object:
    assert b.customer is not None
    await b.customer(gw)
    return None
