"""Band-limited sample-rate conversion: libsamplerate when streaming, soxr one-shot.

Streaming uses libsamplerate's `sinc_medium` (the `samplerate` package): it returns output
for every 20 ms chunk with about 2 ms of delay. soxr's streams hold audio back in ~100 ms
blocks at every quality that is band-limited, which would add that much to every barge-in
and end of turn, so soxr is used only for whole buffers.
"""

from __future__ import annotations

import numpy as np
import samplerate
import soxr

_QUALITY = "HQ"
"""soxr 'HQ' for whole buffers: steep anti-alias filter."""
_STREAM_CONVERTER = "sinc_medium"
"""libsamplerate band-limited sinc converter: > 90 dB stop band, ~30 us per 20 ms chunk."""


def _to_float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0


def _from_float(samples: np.ndarray) -> np.ndarray:
    """Round (not truncate) back to int16, so digital silence stays exactly zero."""
    return np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)


def _to_int16(pcm: np.ndarray) -> np.ndarray:
    """Accept int16 or float samples in [-1, 1] and return contiguous int16."""
    if pcm.dtype == np.int16:
        return np.ascontiguousarray(pcm).reshape(-1)
    if np.issubdtype(pcm.dtype, np.floating):
        scaled: np.ndarray = (np.clip(pcm.reshape(-1), -1.0, 1.0) * 32767.0).astype(np.int16)
        return scaled
    raise TypeError(f"expected int16 or float samples, got {pcm.dtype}")


class StreamResampler:
    """Stateful resampler for one audio direction of one call: chunk edges leave no clicks."""

    __slots__ = ("_stream", "_ratio", "_in", "_out", "in_rate", "out_rate")

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._ratio = out_rate / in_rate
        self._in = 0  # samples fed since the last flush/reset
        self._out = 0  # samples returned since the last flush/reset
        self._stream: samplerate.Resampler | None = None if in_rate == out_rate else self._new_stream()

    def _new_stream(self) -> samplerate.Resampler:
        """Create the underlying libsamplerate converter."""
        return samplerate.Resampler(_STREAM_CONVERTER, channels=1)

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """Resample the next chunk; output lags input by ~2 ms of filter delay until flush()."""
        samples = _to_int16(pcm)
        if self._stream is None:
            return samples.copy()
        if len(samples) == 0:
            return np.zeros(0, dtype=np.int16)
        out = self._stream.process(_to_float(samples), self._ratio, end_of_input=False)
        self._in += len(samples)
        self._out += len(out)
        return _from_float(out)

    def flush(self) -> np.ndarray:
        """Drain the filter tail at the end of the stream, then start fresh."""
        if self._stream is None:
            return np.zeros(0, dtype=np.int16)
        owed = max(0, round(self._in * self._ratio) - self._out)
        pad = np.zeros(int(owed / self._ratio) + 64, dtype=np.float32)  # push the filter's tail out
        tail = self._stream.process(pad, self._ratio, end_of_input=True)[:owed]
        self.reset()
        return _from_float(tail)

    def reset(self) -> None:
        """Drop buffered state (e.g. after a barge-in clears queued audio)."""
        self._in = self._out = 0
        if self._stream is not None:
            self._stream.reset()


def resample(pcm: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample a whole buffer at once (int16 in, int16 out)."""
    samples = _to_int16(pcm)
    if in_rate == out_rate:
        return samples.copy()
    return np.asarray(soxr.resample(samples, in_rate, out_rate, quality=_QUALITY), dtype=np.int16)
