"""A thin asyncio client for FreeSWITCH's inbound Event Socket (mod_event_socket, TCP 8021).

Wire format: every message is a block of `Name: value` header lines ended by a blank line,
followed by `Content-Length` bytes of body when that header is present. On connect the
server sends `Content-Type: auth/request`; the client answers `auth <password>` and gets a
`command/reply` whose `Reply-Text` starts `+OK` (or `-ERR invalid`, then a
`text/disconnect-notice`). Commands (`event plain ...`, `api ...`, `bgapi ...`) are answered in
order by `command/reply` or `api/response`; events arrive in between as `text/event-plain`,
whose body is itself URL-encoded header lines (and, for some events, a body of its own).

No library is used: the maintained asyncio one (genesis) brings OpenTelemetry and a
decorator framework for a protocol that takes a page here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

log = logging.getLogger(__name__)
MAX_HEADER_LINES = 512
MAX_BODY = 1 << 20


class EslError(Exception):
    """The Event Socket refused us or went away."""


class EslAuthError(EslError):
    """The password was refused."""


@dataclass(slots=True)
class Message:
    """One ESL message: its headers and its body (text)."""

    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def content_type(self) -> str:
        """The message's Content-Type (empty when absent)."""
        return self.headers.get("Content-Type", "")

    @property
    def reply(self) -> str:
        """What a command got back: `Reply-Text` of a command/reply, or the api/response body."""
        if self.content_type == "command/reply":
            return self.headers.get("Reply-Text", "")
        return self.body.strip()

    @property
    def ok(self) -> bool:
        """Whether the reply is `+OK ...`."""
        return self.reply.startswith("+OK")


def parse_headers(text: str, *, decode: bool) -> dict[str, str]:
    """`Name: value` lines as a dict (values URL-decoded for event bodies)."""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            value = value.strip()
            headers[name.strip()] = unquote(value) if decode else value
    return headers


def parse_event(body: str) -> Message:
    """A `text/event-plain` body: URL-encoded headers, then (per its own Content-Length) a body."""
    head, _sep, rest = body.partition("\n\n")
    headers = parse_headers(head, decode=True)
    length = headers.get("Content-Length", "")
    inner = rest[: int(length)] if length.isdigit() else rest
    return Message(headers, inner)


async def read_message(reader: asyncio.StreamReader) -> Message:
    """Read one message; raises EslError when the stream ends or the framing is broken."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            raise EslError("the Event Socket closed the connection")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if lines:
                break
            continue  # blank lines between messages
        lines.append(line)
        if len(lines) > MAX_HEADER_LINES:
            raise EslError("an Event Socket message with too many header lines")
    headers = parse_headers("\n".join(lines), decode=False)
    length = headers.get("Content-Length", "")
    body = ""
    if length:
        if not length.isdigit() or int(length) > MAX_BODY:
            raise EslError(f"bad Content-Length {length[:20]!r} from the Event Socket")
        try:
            body = (await reader.readexactly(int(length))).decode("utf-8", "replace")
        except asyncio.IncompleteReadError as exc:
            raise EslError("the Event Socket closed the connection mid-message") from exc
    return Message(headers, body)


class EslConnection:
    """One authenticated inbound connection: `command()` awaits its reply; events go to `on_event`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 on_event: Callable[[Message], None]) -> None:
        self._reader, self._writer, self._on_event = reader, writer, on_event
        self._replies: list[asyncio.Future[Message]] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    @classmethod
    async def open(cls, host: str, port: int, password: str, events: list[str],
                   on_event: Callable[[Message], None], timeout_s: float = 5.0) -> EslConnection:
        """Connect, authenticate and subscribe to `events`; EslAuthError for a refused password."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
        except (OSError, TimeoutError) as exc:
            why = f"{type(exc).__name__} {exc}".strip()
            raise EslError(f"cannot reach the Event Socket at {host}:{port}: {why}") from exc
        conn = cls(reader, writer, on_event)
        try:
            await asyncio.wait_for(conn._login(password, events), timeout_s)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _login(self, password: str, events: list[str]) -> None:
        greeting = await read_message(self._reader)
        if greeting.content_type != "auth/request":
            raise EslError(f"expected auth/request from the Event Socket, got {greeting.content_type!r}")
        self._writer.write(f"auth {password}\n\n".encode())
        await self._writer.drain()
        reply = await read_message(self._reader)
        if not reply.ok:
            raise EslAuthError(f"the Event Socket refused the password: {reply.reply or reply.content_type}")
        self._task = asyncio.create_task(self._read())
        subscribed = await self.command("event plain " + " ".join(events))
        if not subscribed.ok:
            raise EslError(f"the Event Socket refused the event subscription: {subscribed.reply}")

    async def command(self, line: str, headers: Mapping[str, str] | None = None) -> Message:
        """Send one command (a line and optional headers, e.g. a bgapi's Job-UUID); wait for its reply.

        Replies come in order; EslError if the socket drops first.
        """
        parts = [line, *(f"{k}: {v}" for k, v in (headers or {}).items())]
        if any("\n" in p or "\r" in p for p in parts):
            raise ValueError("an ESL command line or header must be one line")
        if self.closed.is_set():
            raise EslError("the Event Socket connection is closed")
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        async with self._lock:
            self._replies.append(future)
            try:
                self._writer.write(("\n".join(parts) + "\n\n").encode())
                await self._writer.drain()
            except (OSError, RuntimeError) as exc:
                raise EslError(f"the Event Socket connection failed: {exc}") from exc
        return await future

    async def _read(self) -> None:
        why = "closed"
        try:
            while True:
                msg = await read_message(self._reader)
                kind = msg.content_type
                if kind == "text/event-plain":
                    try:
                        self._on_event(parse_event(msg.body))
                    except Exception:
                        log.exception("ESL event handler failed")
                elif kind in ("command/reply", "api/response"):
                    if self._replies:
                        future = self._replies.pop(0)
                        if not future.done():
                            future.set_result(msg)
                    else:
                        log.warning("ESL reply with no command waiting: %s", msg.reply[:80])
                elif kind == "text/disconnect-notice":
                    why = "the Event Socket disconnected us"
                    break
        except EslError as exc:
            why = str(exc)
        except (OSError, asyncio.IncompleteReadError) as exc:
            why = f"{type(exc).__name__} {exc}"
        finally:
            self._fail_pending(why)
            self.closed.set()
            with contextlib.suppress(Exception):
                self._writer.close()

    def _fail_pending(self, why: str) -> None:
        for future in self._replies:
            if not future.done():
                future.set_exception(EslError(why))
        self._replies.clear()

    async def close(self) -> None:
        """Close the connection (pending commands fail)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._fail_pending("closed")
        self.closed.set()
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
