"""espeak-ng TTS via its command-line binary: the zh-CN fallback when no Piper zh voice exists."""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np

from agent.audio.resample import resample
from agent.tts.base import RATE, Speech, fade_edges

log = logging.getLogger(__name__)

TIMEOUT_S = 20.0
MANDARIN_VOICE = "cmn-latn-pinyin"
"""Debian's plain 'cmn' voice reads characters missing from its dictionary as English-spoken pinyin
("ni2 hao3"); the pinyin variant speaks every character as Mandarin."""


def parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Parse a 16-bit mono PCM WAV as espeak-ng streams it (its size fields may be bogus)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("espeak-ng did not return a WAV stream; check that `espeak-ng --stdout` works")
    pos, rate, bits, channels = 12, 0, 0, 0
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if cid == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
        elif cid == b"data":
            if bits != 16 or channels != 1:
                raise ValueError(
                    f"expected 16-bit mono WAV from espeak-ng, got {bits}-bit {channels}-channel"
                )
            end = min(len(data), body + size)
            pcm = np.frombuffer(data[body : end - (end - body) % 2], dtype="<i2").astype(np.int16)
            return pcm, rate
        pos = body + size + (size & 1)
    raise ValueError("espeak-ng WAV stream has no data chunk")


def _known_voices(binary: str) -> set[str]:
    """Language codes and voice files espeak-ng accepts for -v."""
    out = subprocess.run(
        [binary, "--voices"], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    ).stdout
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            names.update((cols[1], cols[4], cols[4].rsplit("/", 1)[-1]))
    return names


class EspeakSynthesizer:
    """Runs `espeak-ng --stdout` per request; robotic but dependable, and needs no model files."""

    def __init__(
        self, voice: str = MANDARIN_VOICE, *, speed_wpm: int = 160, binary: Path | str | None = None
    ) -> None:
        found = str(binary) if binary else shutil.which("espeak-ng")
        if not found:
            raise FileNotFoundError(
                "espeak-ng is not on PATH; run `apt-get install espeak-ng` "
                "or add a Piper zh_CN voice to models/"
            )
        self.binary = found
        if voice not in _known_voices(found):
            raise ValueError(
                f"espeak-ng has no voice {voice!r}; "
                "pick one listed by `espeak-ng --voices` (Mandarin is 'cmn-latn-pinyin')"
            )
        self.voice = voice
        self.speed_wpm = speed_wpm
        started = time.perf_counter()
        self.synthesize("你好" if voice.startswith(("cmn", "zh", "yue")) else "hello")
        self.load_ms = int((time.perf_counter() - started) * 1000)

    def synthesize(self, text: str) -> Speech:
        """Render text to 16 kHz speech through the espeak-ng binary."""
        started = time.perf_counter()
        if not text.strip():
            return Speech(np.zeros(0, dtype=np.int16), text, RATE, 0)
        proc = subprocess.run(
            [self.binary, "-v", self.voice, "-s", str(self.speed_wpm), "-b", "1", "--stdout"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(
                f"espeak-ng failed ({proc.returncode}): {err}; "
                f"check the voice name {self.voice!r} with `espeak-ng --voices`"
            )
        pcm, rate = parse_wav(proc.stdout)
        pcm = fade_edges(resample(pcm, rate, RATE))
        return Speech(pcm, text, RATE, int((time.perf_counter() - started) * 1000))
