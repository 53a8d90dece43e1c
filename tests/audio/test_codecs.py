"""G.711 and L16 codecs match the stdlib audioop reference bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from agent.audio.codecs import (
    ALAW_SILENCE,
    ULAW_SILENCE,
    alaw_decode,
    alaw_encode,
    l16be_decode,
    l16be_encode,
    l16le_decode,
    l16le_encode,
    ulaw_decode,
    ulaw_encode,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip(
        "audioop", reason="audioop (the reference oracle) was removed in Python 3.13"
    )

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


def test_ulaw_encode_matches_audioop_for_every_sample() -> None:
    assert ulaw_encode(ALL_INT16) == audioop.lin2ulaw(ALL_INT16.tobytes(), 2)


def test_alaw_encode_matches_audioop_for_every_sample() -> None:
    assert alaw_encode(ALL_INT16) == audioop.lin2alaw(ALL_INT16.tobytes(), 2)


def test_ulaw_decode_matches_audioop_for_every_code() -> None:
    assert ulaw_decode(ALL_CODES).tobytes() == audioop.ulaw2lin(ALL_CODES, 2)


def test_alaw_decode_matches_audioop_for_every_code() -> None:
    assert alaw_decode(ALL_CODES).tobytes() == audioop.alaw2lin(ALL_CODES, 2)


def test_known_reference_values() -> None:
    assert ulaw_encode(np.array([0], np.int16)) == bytes([ULAW_SILENCE]) == b"\xff"
    assert alaw_encode(np.array([0], np.int16)) == bytes([ALAW_SILENCE]) == b"\xd5"
    assert ulaw_encode(np.array([32767, -32768], np.int16)) == b"\x80\x00"
    assert alaw_encode(np.array([32767, -32768], np.int16)) == b"\xaa\x2a"
    assert ulaw_decode(b"\xff\x7f\x80\x00").tolist() == [0, 0, 32124, -32124]
    assert alaw_decode(b"\xd5\x55\xaa\x2a").tolist() == [8, -8, 32256, -32256]


def test_decode_encode_is_identity_on_codes() -> None:
    # Every μ-law code except negative zero (0x7F) survives a decode/encode round trip.
    codes = np.frombuffer(ALL_CODES, np.uint8)
    back = np.frombuffer(ulaw_encode(ulaw_decode(ALL_CODES)), np.uint8)
    assert np.array_equal(back[codes != 0x7F], codes[codes != 0x7F])
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES


def test_encode_rejects_non_int16() -> None:
    with pytest.raises(TypeError):
        ulaw_encode(np.zeros(4, np.float32))


def test_l16_endianness() -> None:
    pcm = np.array([1, -2, 0x1234, -32768, 32767], np.int16)
    assert l16le_encode(pcm) == b"\x01\x00\xfe\xff\x34\x12\x00\x80\xff\x7f"
    assert l16be_encode(pcm) == b"\x00\x01\xff\xfe\x12\x34\x80\x00\x7f\xff"
    assert l16le_decode(l16le_encode(pcm)).tolist() == pcm.tolist()
    assert l16be_decode(l16be_encode(pcm)).tolist() == pcm.tolist()
    assert l16le_decode(l16le_encode(pcm)).dtype == np.int16
    with pytest.raises(ValueError):
        l16le_decode(b"\x00\x01\x02")
