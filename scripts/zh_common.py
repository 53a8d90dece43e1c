"""Shared by the zh_* evaluation scripts: the phone line, an independent whisper, CER tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.audio.resample import resample

RATE = 16000


def phone_line(pcm16k: np.ndarray) -> np.ndarray:
    """16 kHz → 8 kHz μ-law → 16 kHz: what a PSTN gateway hands the recogniser."""
    return resample(ulaw_decode(ulaw_encode(resample(pcm16k, RATE, 8000))), 8000, RATE)


JUDGES = ("plain", "transcribe")


def independent_whisper(model_dir: Path, threads: int = 2,
                        judge: str = "plain") -> Callable[[np.ndarray], str]:
    """Plain faster-whisper (beam 5, no prompt, no hint, no post-processing): a judge, not our ASR.

    `plain` (the default): beam 5, one window without timestamps, temperature 0 only (no
    fallback), no conditioning on earlier text, a decode stops at 160 tokens: a voice whisper
    cannot understand makes it loop, and re-decoding loops would only cost time, not change the
    verdict. Without timestamps whisper sometimes ends the decode at a clause pause and drops
    the rest of the sentence (a fault of that decode mode, not of the voice).
    `transcribe`: faster-whisper's transcribe() with its own defaults and only language='zh'
    (beam 5, best_of 5, timestamps, temperature fallback 0.0-1.0 on compression ratio 2.4 or log
    probability -1.0, conditioning on earlier segments, no VAD): the stock pipeline, no tuning."""
    if judge not in JUDGES:
        raise ValueError(f"unknown judge {judge!r}; choose from {', '.join(JUDGES)}")
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads,
                         local_files_only=True)

    def hear(pcm16k: np.ndarray) -> str:
        audio = pcm16k.astype(np.float32) / 32768.0
        if judge == "transcribe":
            stock, _ = model.transcribe(audio, language="zh")
            return "".join(s.text.strip() for s in stock)
        segments, _ = model.transcribe(audio, language="zh", beam_size=5, condition_on_previous_text=False,
                                       vad_filter=False, without_timestamps=True, temperature=0.0,
                                       max_new_tokens=160)
        return "".join(s.text.strip() for s in segments)

    return hear


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    Console(width=200).print(table)


def write_json(path: Path | None, body: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {path}")


def every_slot(script: Any, today: Any) -> dict[str, str]:
    """Sample values for every slot, including those the customer supplies (promise_date):
    preview leaves those out, but the agent speaks them back and they must be heard right."""
    import datetime as dt

    from agent.dialogue.samples import sample_slots

    values = sample_slots(script, Path("prompts"), today)
    for name, spec in script.slots.items():
        if name not in values and spec.type == "date":
            values[name] = (today + dt.timedelta(days=2)).isoformat()
    return values


def syllable_reader() -> Callable[[str], list[str]]:
    """Text → one token per character: the toned syllable of each Chinese character as the voice's
    own G2P reads it in context (lexicon first), any other character as itself. For
    `agent.asr.zh_text.homophone_cer`."""
    import re

    from agent.tts.zh_g2p import MandarinG2P
    from agent.tts.zh_lexicon import PronunciationLexicon

    g2p = MandarinG2P(PronunciationLexicon.load())
    han = re.compile(r"[\u4e00-\u9fff]+|[^\u4e00-\u9fff]")

    def read(text: str) -> list[str]:
        out: list[str] = []
        for m in han.finditer(text):
            piece = m.group()
            if "\u4e00" <= piece[0] <= "\u9fff":
                syllables = [s for r in g2p.readings(piece) for s in r.syllables]
                out += syllables if len(syllables) == len(piece) else list(piece)
            else:
                out.append(piece)
        return out

    return read
