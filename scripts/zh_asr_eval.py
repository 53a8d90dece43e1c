"""CER of the zh-CN recogniser on real recorded Mandarin, at 16 kHz and over an 8 kHz μ-law line.

Input: one or more TSV files, lines of `wav<TAB>reference` (wav paths relative to the TSV).
Each clip is recognised by the runtime's WhisperRecognizer (multilingual base) under several
configurations, clean and through the phone line, and scored by character error rate.

Scoring (agent/asr/zh_text.py): the hypothesis and reference are converted to Simplified
(OpenCC t2s), punctuation and spaces dropped, 帐/账 幺/一 两/二 folded, and Arabic numbers
read out in Chinese (cardinal or digit by digit, whichever is closer). The row `before`
is scored WITHOUT the Simplified conversion of the hypothesis: that is what NLU received
before transcripts were converted.

`--beams 1,2,3,5` replaces the fixed list by the runtime's two cases (no hint; the opening's
hint with the coverage check) at each beam width, to weigh CER against decode time; the
table then also gives the mean compute ms per utterance. `--threads` is ctranslate2's
cpu_threads per decode (the runtime's engines.asr_threads, 1 by default). `--window` sets the
shortest window the encoder sees (whisper.WINDOW_MIN_S), to weigh its cost against CER.

Usage: python scripts/zh_asr_eval.py tests/data/zh_asr/aishell1.tsv [more.tsv] [--json out/zh_asr.json]
       python scripts/zh_asr_eval.py tests/data/zh_asr/aishell1.tsv --beams 1,2,3,5 --threads 1
"""

from __future__ import annotations

import argparse
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from zh_common import phone_line, print_table, write_json

import agent.asr.whisper as whisper_mod
from agent.asr.whisper import WhisperRecognizer
from agent.asr.zh_text import cer
from agent.audio.resample import resample
from agent.cli.common import settings
from agent.models.resolver import resolve

ZH_DEFAULT_PROMPT = "以下是普通话的句子。"  # the runtime's default zh prompt before this evaluation
OPENING_HINT = "是的, 我是, 不是, 打错了, 不要再打了"  # the zh opening state's hint, as the engine joins it


@dataclass(frozen=True)
class Config:
    name: str
    beam: int = 1
    prompt: str | None = None  # default prompt (None = none)
    raw_prompt: bool = False  # keep the prompt exactly (trailing full stop) as before
    hint: str | None = None
    coverage: bool = True
    simplify: bool = True
    fallback: bool = False  # faster-whisper's own transcribe(): 30 s window, temperature fallback


CONFIGS = [
    Config("before: prompt '以下是普通话的句子。', no t2s", prompt=ZH_DEFAULT_PROMPT, raw_prompt=True,
           coverage=False, simplify=False),
    Config("+ t2s", prompt=ZH_DEFAULT_PROMPT, raw_prompt=True, coverage=False),
    Config("+ t2s, prompt without full stop", prompt=ZH_DEFAULT_PROMPT, coverage=False),
    Config("+ t2s, no prompt", coverage=False),
    Config("+ t2s, no prompt, beam 5", beam=5, coverage=False),
    Config("+ t2s, no prompt, beam 3", beam=3, coverage=False),
    Config("+ t2s, prompt without full stop, beam 5", prompt=ZH_DEFAULT_PROMPT, beam=5, coverage=False),
    Config("faster-whisper transcribe(), beam 5, temperature fallback", beam=5, fallback=True),
    Config("state hint, no coverage check", hint=OPENING_HINT, coverage=False),
    Config("state hint + coverage check", hint=OPENING_HINT, coverage=True),
    Config("state hint + coverage check, beam 5 (the runtime now)", hint=OPENING_HINT, beam=5, coverage=True),
]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM (convert with `sox in.wav -b 16 out.wav`)")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
        if w.getnchannels() > 1:
            pcm = pcm.reshape(-1, w.getnchannels())[:, 0].copy()
        return resample(pcm, w.getframerate(), 16000)


def load_tsv(paths: list[Path]) -> list[tuple[str, np.ndarray, str]]:
    out = []
    for tsv in paths:
        for line in tsv.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                wav, ref = line.split("\t", 1)
                out.append((wav, read_wav(tsv.parent / wav), ref.strip()))
    return out


def beam_configs(beams: list[int]) -> list[Config]:
    """The runtime's decode (no default prompt) without and with the opening's hint, per beam width."""
    out = []
    for b in beams:
        out.append(Config(f"no hint, beam {b}", beam=b, coverage=True))
        out.append(Config(f"state hint + coverage check, beam {b}", hint=OPENING_HINT, beam=b, coverage=True))
    return out


def recogniser(model_dir: Path, cfg: Config, threads: int = 2) -> WhisperRecognizer:
    rec = WhisperRecognizer(model_dir, "zh", cpu_threads=threads, default_prompt=cfg.prompt,
                            beam_size=cfg.beam, check_coverage=cfg.coverage)
    if cfg.raw_prompt:
        rec.default_prompt = cfg.prompt  # as it was: with the trailing full stop
    return rec


def run(cfg: Config, rec: WhisperRecognizer, clips: list[tuple[str, np.ndarray, str]],
        line: Callable[[np.ndarray], np.ndarray] | None) -> dict[str, Any]:
    original = whisper_mod.to_simplified
    if not cfg.simplify:
        whisper_mod.to_simplified = lambda text: text  # what NLU saw before the conversion
    edits = chars = 0
    rows = []
    started = time.perf_counter()
    rec.retries = 0
    try:
        for name, pcm, ref in clips:
            audio = pcm if line is None else line(pcm)
            t0, c0 = time.perf_counter(), time.process_time()
            got = _fallback(rec, audio) if cfg.fallback else rec.transcribe(audio, hint=cfg.hint).text
            ms, cpu_ms = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            e, n = cer(ref, got) if cfg.simplify else _raw_cer(ref, got)
            edits, chars = edits + e, chars + n
            rows.append({"wav": name, "reference": ref, "heard": got, "cer": e / max(1, n), "ms": round(ms),
                         "cpu_ms": round(cpu_ms)})
    finally:
        whisper_mod.to_simplified = original
    return {"config": cfg.name, "line": "16k" if line is None else "ulaw8k", "cer": edits / max(1, chars),
            "retries": rec.retries, "seconds": round(time.perf_counter() - started, 1),
            "ms_per_clip": round(sum(r["ms"] for r in rows) / max(1, len(rows))),
            "cpu_ms_per_clip": round(sum(r["cpu_ms"] for r in rows) / max(1, len(rows))), "clips": rows}


def _fallback(rec: WhisperRecognizer, pcm: np.ndarray) -> str:
    """faster-whisper's own pipeline: temperatures 0…1 retried on loops (compression > 2.4), low logprob."""
    audio = pcm.astype(np.float32) / 32768.0
    segments, _ = rec.model.transcribe(audio, language="zh", beam_size=rec.beam_size,
                                       condition_on_previous_text=False, vad_filter=False)
    return whisper_mod.to_simplified("".join(s.text.strip() for s in segments))


def _raw_cer(ref: str, got: str) -> tuple[int, int]:
    """CER without converting the hypothesis to Simplified (numbers and punctuation still normalised)."""
    from agent.asr import zh_text

    saved = zh_text.to_simplified
    zh_text.to_simplified = lambda text: text
    try:
        return cer(ref, got)
    finally:
        zh_text.to_simplified = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tsv", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--only", action="append", help="run only configs whose name contains this")
    ap.add_argument("--beams", default=None, help="comma-separated beam widths: the runtime's decode at each")
    ap.add_argument("--threads", type=int, default=2, help="ctranslate2 cpu_threads per decode")
    ap.add_argument("--window", type=float, default=None,
                    help="shortest window encoded per turn, s (whisper.WINDOW_MIN_S: the encoder cost)")
    ap.add_argument("--repeat", type=int, default=1, help="decode every clip this many times (steadier ms)")
    args = ap.parse_args()
    cfg = settings(None)
    model_dir = resolve("asr-multi", models_dir=cfg.models.dir, overrides=cfg.models.paths).path
    clips = load_tsv(args.tsv)
    print(f"{len(clips)} clips, {sum(len(p) for _, p, _ in clips) / 16000:.1f} s of speech")
    clips = clips * args.repeat
    if args.window is not None:
        whisper_mod.WINDOW_MIN_S = args.window
    configs = beam_configs([int(b) for b in args.beams.split(",")]) if args.beams else CONFIGS
    results = []
    for c in configs:
        if args.only and not any(o in c.name for o in args.only):
            continue
        rec = recogniser(model_dir, c, args.threads)
        for line in (None, phone_line):
            res = run(c, rec, clips, line)
            results.append(res)
            print(f"{c.name:<45} {res['line']:<7} CER {res['cer']:.3f} retries {res['retries']} "
                  f"{res['ms_per_clip']} ms/clip (CPU {res['cpu_ms_per_clip']} ms)", flush=True)
    names = list(dict.fromkeys(r["config"] for r in results))
    rows = []
    for n in names:
        by = {r["line"]: r for r in results if r["config"] == n}
        retries = by["16k"]["retries"] + by["ulaw8k"]["retries"]
        rows.append([n, by["16k"]["cer"], by["ulaw8k"]["cer"], retries,
                     by["16k"]["ms_per_clip"], by["ulaw8k"]["ms_per_clip"],
                     by["16k"]["cpu_ms_per_clip"], by["ulaw8k"]["cpu_ms_per_clip"]])
    print_table(f"zh-CN ASR CER on {len(clips)} real clips (whisper base, cpu_threads {args.threads})",
                ["config", "16 kHz", "8 kHz μ-law", "retries", "ms/clip 16k", "ms/clip 8k", "CPU ms 16k",
                 "CPU ms 8k"], rows)
    print_table("per clip (last config, phone line)", ["wav", "CER", "heard", "reference"],
                [[c["wav"], c["cer"], c["heard"], c["reference"]] for c in results[-1]["clips"]])
    write_json(args.json, {"tsv": [str(t) for t in args.tsv], "results": results})


if __name__ == "__main__":
    main()
