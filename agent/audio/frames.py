"""20 ms framing: the call loop's unit of audio (16 kHz internally: 320 samples, 640 bytes)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

FRAME_MS = 20
INTERNAL_RATE = 16000
FRAME_SAMPLES = INTERNAL_RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2


def frame_samples(rate: int, frame_ms: int = FRAME_MS) -> int:
    """Samples in one frame at this rate (160 at 8 kHz, 320 at 16 kHz, 480 at 24 kHz)."""
    if (rate * frame_ms) % 1000:
        raise ValueError(f"{frame_ms} ms is not a whole number of samples at {rate} Hz")
    return rate * frame_ms // 1000


class Framer:
    """Re-chunks arbitrary-length PCM16 input into exact frames, keeping the remainder."""

    __slots__ = ("_buf", "frame_ms", "rate", "samples")

    def __init__(self, rate: int = INTERNAL_RATE, frame_ms: int = FRAME_MS) -> None:
        self.rate = rate
        self.frame_ms = frame_ms
        self.samples = frame_samples(rate, frame_ms)
        self._buf = bytearray()

    @property
    def pending_samples(self) -> int:
        """Samples buffered but not yet a whole frame."""
        return len(self._buf) // 2

    def push(self, chunk: bytes | bytearray | memoryview | np.ndarray) -> list[np.ndarray]:
        """Add native-endian PCM16 bytes or int16 samples; return the whole frames now ready."""
        return list(self.iter_push(chunk))

    def iter_push(self, chunk: bytes | bytearray | memoryview | np.ndarray) -> Iterator[np.ndarray]:
        """Like push(), lazily."""
        if isinstance(chunk, np.ndarray):
            if chunk.dtype != np.int16:
                raise TypeError(f"expected int16 samples, got {chunk.dtype}")
            chunk = np.ascontiguousarray(chunk).tobytes()
        self._buf += chunk
        step = self.samples * 2
        whole = len(self._buf) - len(self._buf) % step
        if not whole:
            return
        data = bytes(self._buf[:whole])
        del self._buf[:whole]
        for start in range(0, whole, step):
            yield np.frombuffer(data, dtype=np.int16, count=self.samples, offset=start).copy()

    def flush(self) -> np.ndarray | None:
        """Return the remainder padded with silence to a whole frame, or None if empty."""
        if len(self._buf) < 2:
            self._buf.clear()
            return None
        samples = np.frombuffer(bytes(self._buf[: len(self._buf) - len(self._buf) % 2]), dtype=np.int16)
        self._buf.clear()
        frame = np.zeros(self.samples, dtype=np.int16)
        frame[: len(samples)] = samples
        return frame

    def clear(self) -> None:
        """Drop the remainder."""
        self._buf.clear()


def split_frames(pcm: np.ndarray, rate: int = INTERNAL_RATE, frame_ms: int = FRAME_MS) -> list[np.ndarray]:
    """Split a whole buffer into frames, padding the last one with silence."""
    n = frame_samples(rate, frame_ms)
    samples = np.ascontiguousarray(pcm, dtype=np.int16).reshape(-1)
    if not len(samples):
        return []
    padded = np.zeros(-(-len(samples) // n) * n, dtype=np.int16)
    padded[: len(samples)] = samples
    return list(padded.reshape(-1, n))
