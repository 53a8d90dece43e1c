"""Bounds on what a peer's text frame may hold, checked before anything else reads it.

A control frame is small and shallow. Before a frame is parsed its size and nesting depth
are checked (a 30,000-deep array must not reach the JSON parser's recursion); after, every
string and key is checked against its limit (a 32,000-character `type` must be refused
before a log line, an error message or the redaction pass ever sees it). Values quoted
in error messages are clipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping

from agent.transports.base import ProtocolError
from agent.transports.closes import CLOSE_TOO_BIG, CLOSE_UNSUPPORTED

MAX_TEXT_CHARS = 64 * 1024  # control frames are small; anything bigger is abuse or a bug
MAX_FIELD_CHARS = 1024  # any string value (ids, tokens, names, event types)
MAX_KEY_CHARS = 128  # any object key
MAX_DEPTH = 8  # nesting of objects and arrays (Twilio's `start` is 3 deep)
LONG_FIELDS = frozenset({"payload"})  # keys whose string may use the whole frame (base64 audio)

_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # strings (skipped) and brackets


def clip(value: object, limit: int = 40) -> str:
    """`value` as a short printable string for an error message or a log line."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"...({len(text)} chars)"


def depth_over(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON text nests objects/arrays deeper than `limit` (strings are skipped)."""
    if text.count("{") + text.count("[") <= limit:
        return False
    depth = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def check_fields(
    value: object, what: str, long_fields: Collection[str] = LONG_FIELDS, key: str | None = None
) -> None:
    """Every string and key in a parsed message within its limit; ProtocolError otherwise."""
    if isinstance(value, str):
        limit = MAX_TEXT_CHARS if key in long_fields else MAX_FIELD_CHARS
        if len(value) > limit:
            name = f"field {key!r}" if key is not None else "a string"
            raise ProtocolError(f"{what}: {name} of {len(value)} chars exceeds {limit}", CLOSE_TOO_BIG)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if len(k) > MAX_KEY_CHARS:
                raise ProtocolError(f"{what}: a key of {len(k)} chars exceeds {MAX_KEY_CHARS}", CLOSE_TOO_BIG)
            check_fields(v, what, long_fields, k)
    elif isinstance(value, list):
        for item in value:
            check_fields(item, what, long_fields, key)


def parse_object(text: str, what: str, long_fields: Collection[str] = LONG_FIELDS) -> dict[str, object]:
    """Parse a bounded JSON text frame that must be an object; ProtocolError otherwise."""
    if len(text) > MAX_TEXT_CHARS:
        raise ProtocolError(f"{what} text frame of {len(text)} chars exceeds {MAX_TEXT_CHARS}", CLOSE_TOO_BIG)
    if depth_over(text):
        raise ProtocolError(f"{what} message nests deeper than {MAX_DEPTH} levels", CLOSE_UNSUPPORTED)
    try:
        msg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"{what} text frame is not JSON: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise ProtocolError(f"{what} text frame holds a value JSON cannot represent here") from exc
    if not isinstance(msg, dict):
        raise ProtocolError(f"{what} message must be a JSON object, got {type(msg).__name__}")
    check_fields(msg, what, long_fields)
    return msg
