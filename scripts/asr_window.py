"""Benchmark: whisper on a short encoder window vs faster-whisper's full 30 s window.

Synthesises customer phrases with Piper (deterministic voice), runs each through the
recogniser both ways, wideband and over an 8 kHz mu-law line, and prints word error rate
and time per turn. Writes JSON with --json. Usage: python scripts/asr_window.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from agent.asr.whisper import WhisperRecognizer
from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.audio.resample import resample
from agent.models.resolver import resolve
from agent.tts.piper_tts import PiperSynthesizer

PHRASES = [
    "Yes.", "No.", "Yes, this is John.", "Speaking.", "Please stop calling me.",
    "You have the wrong number.", "Am I talking to a robot?", "I already paid it last week.",
    "I can pay on Friday.", "I'll pay on the fifteenth of next month.", "Can you call me back tomorrow?",
    "I lost my job and I can't pay right now.", "That amount is wrong, I don't owe that much.",
    "Who is this?", "Sorry, can you repeat that?", "Take me off your list.",
    "I want to speak to a real person.", "Lose my number.",
    "I will send the payment by the end of the week, I promise, please don't call me at work.",
    "Okay, thank you, goodbye.",
]


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def wer(got: str, want: str) -> float:
    g, w = words(got), words(want)
    row = list(range(len(w) + 1))
    for i, a in enumerate(g, 1):
        prev, row[0] = row[0], i
        for j, b in enumerate(w, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (a != b))
    return row[-1] / max(1, len(w))


def phone_line(pcm: np.ndarray) -> np.ndarray:
    return resample(ulaw_decode(ulaw_encode(resample(pcm, 16000, 8000))), 8000, 16000)


def full_window(rec: WhisperRecognizer, pcm: np.ndarray) -> str:
    segments, _ = rec.model.transcribe(pcm.astype(np.float32) / 32768, **rec._options(None))
    return " ".join(s.text.strip() for s in segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tts = PiperSynthesizer(resolve("tts-en").path, noise_scale=0.0, noise_w_scale=0.0)
    rec = WhisperRecognizer(resolve("asr-en").path, "en", cpu_threads=1)
    rows = []
    for line in ("wideband", "phone"):
        for mode in ("full-30s", "short"):
            errs, times = [], []
            for text in PHRASES:
                pcm = tts.synthesize(text).pcm16k
                pcm = np.concatenate([np.zeros(3200, np.int16), pcm, np.zeros(1600, np.int16)])
                if line == "phone":
                    pcm = phone_line(pcm)
                started = time.perf_counter()
                got = full_window(rec, pcm) if mode == "full-30s" else rec.transcribe(pcm).text
                times.append((time.perf_counter() - started) * 1000)
                errs.append(wer(got, text))
            rows.append({"line": line, "mode": mode, "wer": statistics.mean(errs),
                         "ms_p50": statistics.median(times), "ms_max": max(times)})
    table = Table("line", "window", "WER", "ms p50", "ms max", title="tiny.en, 1 thread, 20 phrases")
    for r in rows:
        table.add_row(r["line"], r["mode"], f"{r['wer']:.3f}", f"{r['ms_p50']:.0f}", f"{r['ms_max']:.0f}")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
