"""Helpers shared by the gateway adapters: JSON parsing with bounds, auth headers, audio paths, marks."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping

import numpy as np

from agent.audio.resample import StreamResampler
from agent.transports.base import INTERNAL_RATE, ProtocolError
from agent.transports.closes import CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED
from agent.transports.wire_limits import MAX_FIELD_CHARS, MAX_TEXT_CHARS, check_fields, clip, parse_object

__all__ = [
    "CLOSE_POLICY", "CLOSE_TOO_BIG", "CLOSE_UNSUPPORTED", "DTMF_KEYS", "FRAME_MS", "MAX_BINARY_BYTES",
    "MAX_FIELD_CHARS", "MAX_TEXT_CHARS", "InboundAudio", "MarkLedger", "OutboundAudio", "as_rate",
    "b64decode_strict", "basic_auth", "batch", "check_binary", "check_digit", "check_fields", "clip",
    "dumps", "log", "opt_str", "param_str", "parse_object",
]

log = logging.getLogger("agent.transports")

DTMF_KEYS = frozenset("0123456789*#ABCD")
MAX_BINARY_BYTES = 64 * 1024  # 20 ms at 48 kHz stereo L16 is 3,840 bytes; leave ample room
FRAME_MS = 20


def dumps(obj: Mapping[str, object]) -> str:
    """Compact JSON for a control frame."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def check_binary(data: bytes, what: str, align: int = 2) -> None:
    """Bound a binary media frame and require whole samples."""
    if len(data) > MAX_BINARY_BYTES:
        raise ProtocolError(
            f"{what} binary frame of {len(data)} bytes exceeds {MAX_BINARY_BYTES}", CLOSE_TOO_BIG
        )
    if len(data) % align:
        raise ProtocolError(f"{what} audio frame of {len(data)} bytes is not a multiple of {align}")


def b64decode_strict(payload: object, what: str) -> bytes:
    """Decode standard base64 (padding required, no stray characters)."""
    if not isinstance(payload, str):
        raise ProtocolError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"{what} is not valid base64") from exc


def check_digit(value: object) -> str:
    """A DTMF key as one of 0-9 * # A-D."""
    digit = str(value).upper() if isinstance(value, (str, int)) else ""
    if digit not in DTMF_KEYS:
        raise ProtocolError(f"dtmf digit must be one of 0-9 * # A-D, got {clip(value)}")
    return digit


def opt_str(value: object) -> str | None:
    """A non-empty string (or integer) field as str, else None."""
    if isinstance(value, bool):
        return None
    return str(value) if isinstance(value, (str, int)) and str(value) else None


def param_str(value: object) -> str:
    """Flatten a metadata value to the str that `CallStart.params` holds."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def basic_auth(headers: Mapping[str, str] | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic` header, or None when absent or malformed."""
    value = (headers or {}).get("authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        log.warning("ignoring a malformed Basic Authorization header")
        return None
    return (user, password) if sep else None


def as_rate(value: object, allowed: tuple[int, ...], what: str) -> int:
    """A sample rate given as int or numeric string ('16000', '16k'), checked against `allowed`."""
    rate: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        rate = value
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.endswith("k") and text[:-1].isdigit():
            rate = int(text[:-1]) * 1000
        elif text.isdigit():
            rate = int(text)
    if rate is None or rate not in allowed:
        raise ProtocolError(f"{what} must be one of {allowed}, got {clip(value)}")
    return rate


class InboundAudio:
    """Wire bytes -> 16 kHz int16: decode, then a stateful resampler (no clicks at frame edges)."""

    def __init__(self, rate: int, decode: Callable[[bytes], np.ndarray]) -> None:
        self.rate = rate
        self._decode = decode
        self._rs = StreamResampler(rate, INTERNAL_RATE) if rate != INTERNAL_RATE else None

    def process(self, data: bytes) -> np.ndarray:
        """Decode one media payload and bring it to the internal rate."""
        pcm = self._decode(data)
        return self._rs.process(pcm) if self._rs is not None else pcm


class OutboundAudio:
    """16 kHz int16 -> whole wire frames: stateful resampler, re-framing, encoding.

    Only whole frames leave; the remainder waits for the next chunk. `flush()` (at a mark)
    drains the resampler tail and pads the last frame with silence so the mark sits exactly
    after the audio it follows; `reset()` (at a clear) drops everything still held.
    """

    def __init__(self, rate: int, frame_samples: int, encode: Callable[[np.ndarray], bytes]) -> None:
        self.rate = rate
        self.frame_samples = frame_samples
        self._encode = encode
        self._rs = StreamResampler(INTERNAL_RATE, rate) if rate != INTERNAL_RATE else None
        self._held = np.zeros(0, dtype=np.int16)

    @property
    def frame_bytes(self) -> int:
        """Encoded size of one frame."""
        return len(self._encode(np.zeros(self.frame_samples, dtype=np.int16)))

    def process(self, pcm16k: np.ndarray) -> list[bytes]:
        """Encoded frames now complete (each exactly one frame)."""
        if self._rs is not None:
            pcm = self._rs.process(pcm16k)
        else:
            pcm = np.asarray(pcm16k, dtype=np.int16).reshape(-1)
        return self._frames(pcm, pad=False)

    def flush(self) -> list[bytes]:
        """Everything still held, the last frame padded with silence."""
        tail = self._rs.flush() if self._rs is not None else np.zeros(0, dtype=np.int16)
        return self._frames(tail, pad=True)

    def reset(self) -> None:
        """Forget held audio (a clear took it back)."""
        if self._rs is not None:
            self._rs.reset()
        self._held = np.zeros(0, dtype=np.int16)

    def _frames(self, pcm: np.ndarray, pad: bool) -> list[bytes]:
        """Cut held + new samples into whole frames; with `pad`, pad the remainder to a frame."""
        held = np.concatenate([self._held, pcm]) if len(self._held) else pcm
        n = self.frame_samples
        whole = len(held) - len(held) % n
        if pad and whole < len(held):
            held = np.concatenate([held, np.zeros(n - len(held) % n, dtype=np.int16)])
            whole = len(held)
        self._held = held[whole:].copy()
        return [self._encode(held[i : i + n]) for i in range(0, whole, n)]


def batch(frames: list[bytes], max_frames: int) -> list[bytes]:
    """Join frames into messages of at most `max_frames` frames each."""
    return [b"".join(frames[i : i + max_frames]) for i in range(0, len(frames), max_frames)]


class MarkLedger:
    """Marks sent and not yet echoed; a clear moves them to `cleared`, so an echo says which it was."""

    def __init__(self, remember: int = 512) -> None:
        self._pending: deque[str] = deque()
        self._cleared: deque[str] = deque(maxlen=remember)

    @property
    def pending(self) -> int:
        """Marks sent and neither echoed nor cleared."""
        return len(self._pending)

    def sent(self, name: str) -> None:
        """Record a mark just placed after the audio sent so far."""
        self._pending.append(name)

    def clear(self) -> list[str]:
        """A clear was sent: every pending mark is now cleared; returns their names in order."""
        names = list(self._pending)
        self._pending.clear()
        self._cleared.extend(names)
        return names

    def resolve(self, name: str) -> bool | None:
        """An echo arrived: True if the mark was cleared, False if it played, None if never sent."""
        if name in self._pending:
            self._pending.remove(name)
            return False
        if name in self._cleared:
            self._cleared.remove(name)
            return True
        return None
