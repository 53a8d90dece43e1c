"""Synthesised audio kept on disk, below the engines' synthesize (SPEC 4.5).

Keyed by the synthesiser's fingerprint (engine, model checksum, voice, speed, lexicon) and
the clause text, so a sentence unchanged across script versions stays cached and a new
model, voice or lexicon never replays stale audio. Files are written to a temporary name
and renamed, so concurrent writers (pool threads, several server processes) never expose a
half-written file; the folder is kept under a size bound by deleting the least recently
used files.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from agent.tts.base import RATE, Speech

log = logging.getLogger(__name__)

SUFFIX = ".pcm"
"""Raw 16 kHz mono int16 little-endian: nothing to parse, nothing to trust but the length."""
EVICT_TO = 0.9
"""After an eviction the folder holds at most this share of its bound."""


@runtime_checkable
class ClauseSynthesizer(Protocol):
    """A synthesiser that renders text clause by clause and names what its audio depends on."""

    fingerprint: str

    def clauses(self, text: str) -> list[str]: ...

    def synthesize_clause(self, clause: str) -> Speech: ...


class DiskCache:
    """A folder of rendered clauses, bounded in size, safe under concurrent readers and writers."""

    def __init__(self, folder: Path | str, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._bytes = sum(f.stat().st_size for f in self._files())
        self.hits = 0
        self.misses = 0

    def _files(self) -> Iterator[Path]:
        return (f for f in self.folder.glob(f"*/*{SUFFIX}") if f.is_file())

    @staticmethod
    def key(fingerprint: str, text: str) -> str:
        """The file name for one clause of one voice."""
        return hashlib.sha256(f"{fingerprint}\n{text}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}{SUFFIX}"

    def get(self, key: str) -> np.ndarray | None:
        """The cached audio, or None (a file deleted by another process is a miss)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
            os.utime(path)  # least recently *used* is evicted first
        except OSError:
            self.misses += 1
            return None
        self.hits += 1
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)

    def put(self, key: str, pcm: np.ndarray) -> None:
        """Store audio atomically (temp file + rename); errors are logged, never raised."""
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        data = np.ascontiguousarray(pcm, dtype="<i2").tobytes()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("tts disk cache: cannot write %s (%s); continuing without it", path, exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return
        with self._lock:
            self._bytes += len(data)
            over = self._bytes > self.max_bytes
        if over:
            self.evict()

    def evict(self) -> int:
        """Delete least recently used files until the folder is under EVICT_TO of its bound."""
        with self._lock:
            entries = []
            for f in self._files():
                try:
                    st = f.stat()
                except FileNotFoundError:
                    continue
                entries.append((st.st_mtime, st.st_size, f))
            total = sum(size for _, size, _ in entries)
            removed = 0
            for _, size, f in sorted(entries, key=lambda e: e[0]):
                if total <= self.max_bytes * EVICT_TO:
                    break
                f.unlink(missing_ok=True)
                total -= size
                removed += 1
            self._bytes = total
        if removed:
            log.info("tts disk cache: evicted %d file(s), %d bytes kept", removed, total)
        return removed

    @property
    def size_bytes(self) -> int:
        """Bytes held (as counted by this process)."""
        return self._bytes


class CachedSynthesizer:
    """A synthesiser whose clauses come from the disk cache when present, and are stored when not."""

    def __init__(self, inner: ClauseSynthesizer, cache: DiskCache) -> None:
        self.inner = inner
        self.cache = cache
        self.fingerprint = inner.fingerprint
        self.only: set[str] | None = None  # clauses it may store; None: any (tools, tests)

    def keep_only(self, texts: Iterable[str]) -> None:
        """Store only these texts' clauses from now on (more calls add to them).

        The runtime names what sounds the same on every call (its scripts' fixed text): a
        clause with a customer's name, amount or date is rendered for the call and never
        written to disk, where it would outlive the call and the store's sealing of slots.
        """
        keep = {c for text in texts for c in self.inner.clauses(text)}
        self.only = keep if self.only is None else self.only | keep

    def clauses(self, text: str) -> list[str]:
        """The pieces rendered (and cached) one by one."""
        return self.inner.clauses(text)

    def cached_clause(self, clause: str) -> Speech | None:
        """The clause's audio if it is on disk (a few ms; never synthesises)."""
        pcm = self.cache.get(DiskCache.key(self.fingerprint, clause))
        return None if pcm is None else Speech(pcm, clause, RATE, 0)

    def synthesize_clause(self, clause: str) -> Speech:
        """One clause, from disk or rendered and stored."""
        hit = self.cached_clause(clause)
        if hit is not None:
            return hit
        speech = self.inner.synthesize_clause(clause)
        if self.only is None or clause in self.only:
            self.cache.put(DiskCache.key(self.fingerprint, clause), speech.pcm16k)
        return speech

    def synthesize_clauses(self, text: str) -> Iterator[Speech]:
        """Each clause of text in order, as it is ready."""
        for clause in self.clauses(text):
            yield self.synthesize_clause(clause)

    def synthesize(self, text: str) -> Speech:
        """The whole text: its clauses joined."""
        started = time.perf_counter()
        pieces = [s.pcm16k for s in self.synthesize_clauses(text)]
        pcm = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
        return Speech(pcm, text, RATE, int((time.perf_counter() - started) * 1000))

    def missing(self, text: str) -> list[str]:
        """Clauses of text not yet on disk."""
        return [c for c in self.clauses(text) if not self._path_exists(c)]

    def _path_exists(self, clause: str) -> bool:
        return self.cache._path(DiskCache.key(self.fingerprint, clause)).is_file()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)  # voice, with_voice, phonemes… of the wrapped synthesiser
