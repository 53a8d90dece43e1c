"""Call audio recording (SPEC 7.7): both sides of a call in one stereo WAV, kept for a retention.

Off by default (`compliance.record_audio`). When on, each call writes
`<recordings_dir>/<YYYY-MM-DD>/<call_id>.wav`: the customer on the left channel, the agent
on the right, placed on the call's clock. Files older than `compliance.retention_days` are
deleted at start-up and every hour (`purge_recordings`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

RATE = 16000
PURGE_EVERY_S = 3600.0


class CallAudio:
    """Collects one call's audio, each side placed where it happened; written when the call ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._parts: tuple[list[tuple[int, np.ndarray]], list[tuple[int, np.ndarray]]] = ([], [])
        self._ends = [0, 0]

    def _add(self, channel: int, pcm: np.ndarray) -> None:
        now = int((self._loop.time() - self._t0) * RATE)
        start = max(self._ends[channel], now - len(pcm))  # never overlapping, in arrival order
        self._parts[channel].append((start, pcm.astype(np.int16, copy=True)))
        self._ends[channel] = start + len(pcm)

    def customer(self, pcm16k: np.ndarray) -> None:
        """Customer audio as it arrived."""
        self._add(0, pcm16k)

    def agent(self, pcm16k: np.ndarray) -> None:
        """Agent audio as it went out."""
        self._add(1, pcm16k)

    async def close(self) -> None:
        """Write the WAV (on a worker thread)."""
        try:
            await asyncio.to_thread(self._write)
        except OSError:
            log.exception("could not write the call recording %s", self.path)

    def _write(self) -> None:
        length = max(self._ends)
        stereo = np.zeros((length, 2), dtype=np.int16)
        for channel, parts in enumerate(self._parts):
            for start, pcm in parts:
                stereo[start : start + len(pcm), channel] = pcm
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(stereo.tobytes())


def recording_path(folder: Path, call_id: str, now: datetime | None = None) -> Path:
    """Where a call's recording goes: one folder per UTC day."""
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    safe = "".join(ch for ch in call_id if ch.isalnum() or ch in "-_") or "call"
    return folder / day / f"{safe}.wav"


def purge_recordings(folder: Path, retention_days: int, now: float | None = None) -> int:
    """Delete recordings (*.wav) older than `retention_days`; returns how many went."""
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    removed = 0
    for path in folder.rglob("*.wav"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    for day in sorted(folder.iterdir(), reverse=True):
        if day.is_dir() and not any(day.iterdir()):
            day.rmdir()
    return removed
