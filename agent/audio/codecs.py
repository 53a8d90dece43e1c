"""Exact G.711 μ-law / A-law and L16 codecs built on numpy lookup tables.

The tables reproduce the classic Sun/CCITT reference code bit for bit (the same code that
CPython's removed ``audioop`` used), so the wire audio matches what gateways expect.
"""

from __future__ import annotations

import numpy as np

ULAW_SILENCE = 0xFF
"""μ-law code of linear zero (what a gateway sends on a silent line)."""
ALAW_SILENCE = 0xD5
"""A-law code of linear zero."""

_ULAW_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159


def _segment(value: int, ends: tuple[int, ...]) -> int:
    """Index of the first segment whose end is >= value (8 when out of range)."""
    for i, end in enumerate(ends):
        if value <= end:
            return i
    return len(ends)


def _ulaw_encode_14(pcm: int) -> int:
    """Encode one 14-bit two's-complement sample to a μ-law code."""
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = _segment(pcm, _ULAW_SEG_END)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask


def _ulaw_decode(code: int) -> int:
    """Decode one μ-law code to a 16-bit linear sample."""
    u = ~code & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u & 0x70) >> 4)
    return _ULAW_BIAS - t if u & 0x80 else t - _ULAW_BIAS


def _alaw_encode_13(pcm: int) -> int:
    """Encode one 13-bit two's-complement sample to an A-law code."""
    if pcm >= 0:
        mask = 0xD5
    else:
        mask, pcm = 0x55, -pcm - 1
    seg = _segment(pcm, _ALAW_SEG_END)
    if seg >= 8:
        return 0x7F ^ mask
    shift = 1 if seg < 2 else seg
    return ((seg << 4) | ((pcm >> shift) & 0x0F)) ^ mask


def _alaw_decode(code: int) -> int:
    """Decode one A-law code to a 16-bit linear sample."""
    a = code ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


# Encode tables are indexed by the int16 sample reinterpreted as uint16 (0..65535).
_ALL_INT16 = np.arange(65536, dtype=np.uint16).view(np.int16)
_ULAW_ENC = np.array([_ulaw_encode_14(int(v) >> 2) for v in _ALL_INT16], dtype=np.uint8)
_ALAW_ENC = np.array([_alaw_encode_13(int(v) >> 3) for v in _ALL_INT16], dtype=np.uint8)
_ULAW_DEC = np.array([_ulaw_decode(c) for c in range(256)], dtype=np.int16)
_ALAW_DEC = np.array([_alaw_decode(c) for c in range(256)], dtype=np.int16)


def _as_int16(pcm: np.ndarray) -> np.ndarray:
    """Validate and view samples as contiguous int16."""
    if pcm.dtype != np.int16:
        raise TypeError(f"expected int16 samples, got {pcm.dtype}; convert with .astype(np.int16)")
    return np.ascontiguousarray(pcm).reshape(-1)


def ulaw_encode(pcm: np.ndarray) -> bytes:
    """Encode int16 samples to G.711 μ-law bytes."""
    return _ULAW_ENC[_as_int16(pcm).view(np.uint16)].tobytes()


def ulaw_decode(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode G.711 μ-law bytes to int16 samples."""
    return _ULAW_DEC[np.frombuffer(data, dtype=np.uint8)]


def alaw_encode(pcm: np.ndarray) -> bytes:
    """Encode int16 samples to G.711 A-law bytes."""
    return _ALAW_ENC[_as_int16(pcm).view(np.uint16)].tobytes()


def alaw_decode(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode G.711 A-law bytes to int16 samples."""
    return _ALAW_DEC[np.frombuffer(data, dtype=np.uint8)]


def _check_even(data: bytes | bytearray | memoryview) -> None:
    """L16 payloads carry 2 bytes per sample; an odd length means a framing bug upstream."""
    if len(data) % 2:
        raise ValueError(f"L16 payload has odd length {len(data)}; keep frames whole (2 bytes per sample)")


def l16le_encode(pcm: np.ndarray) -> bytes:
    """Encode int16 samples as little-endian 16-bit PCM (slin, jambonz, audio_fork)."""
    return _as_int16(pcm).astype("<i2", copy=False).tobytes()


def l16le_decode(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode little-endian 16-bit PCM bytes to native int16 samples."""
    _check_even(data)
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def l16be_encode(pcm: np.ndarray) -> bytes:
    """Encode int16 samples as big-endian 16-bit PCM (RTP L16 / network order)."""
    return _as_int16(pcm).astype(">i2").tobytes()


def l16be_decode(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode big-endian 16-bit PCM bytes to native int16 samples."""
    _check_even(data)
    return np.frombuffer(data, dtype=">i2").astype(np.int16)
