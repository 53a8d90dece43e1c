"""Opt-out understanding through the telephone line: TTS -> 8 kHz mu-law -> runtime ASR (state hints) -> NLU.

Every row of a labelled TSV (default: the frozen blind set, whose rows are all opt-outs or hard
negatives) is spoken by the locale's TTS, carried over 8 kHz G.711 mu-law (agent/audio/codecs.py),
recognised by the runtime's ASR with the hint and expected intents of a script state, and
classified. Prints a table per locale and writes JSON: end-to-end opt-out recall, false
opt-outs, opt-outs read as callback_later. Misses are listed only with --show-misses.

The audio reaches the ASR as in a call (--feed listener, the default): line silence, the
speech and trailing silence go through agent/call/listener.py's own VAD and turn detection
(PREROLL_FRAMES of line audio before the onset, TAIL_SAMPLES after the speech), and each
turn's segment is recognised with the state's hint; a line split into several turns is
classified on their joined transcripts. --feed bare hands the ASR the bare TTS output
(starting at sample 0), as this script did before.

Usage: python scripts/nlu_audio_eval.py [--locale en-US --locale zh-CN] [--voice zh-CN=PATH]
       [--state opening] [--limit N] [--every K] [--json out/nlu_audio_eval.json] [--show-misses]
       [--feed listener|bare] [--cache DIR]
--every K keeps every K-th row (a sample across all blocks of a long corpus, e.g. the training sets).
--cache DIR keeps synthesised audio in DIR (keyed by TTS model, voice and text), so reruns skip TTS.
--rescore JSON classifies the transcripts of an earlier run again with the current NLU (the
ASR is deterministic on cached audio, so this is what a rerun would give; feed is shown with *).
--voice LOCALE=PATH uses that TTS voice (e.g. a Kokoro or Piper model the resolver accepts as
tts-zh / tts-en); without it the runtime's resolved voice is used (zh-CN today: espeak-ng).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

import agent.call.listener as listener_mod

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agent.asr.base import Transcript  # noqa: E402
from agent.audio.codecs import ulaw_decode, ulaw_encode  # noqa: E402
from agent.audio.resample import resample  # noqa: E402
from agent.call.listener import Listener  # noqa: E402
from agent.call.signals import HeardTurn  # noqa: E402
from agent.call.turns import TurnPolicy  # noqa: E402
from agent.cli.nlu import read_tsv  # noqa: E402
from agent.config import CallConfig, load_settings  # noqa: E402
from agent.dialogue.loader import load_script  # noqa: E402
from agent.engines import Engines  # noqa: E402
from agent.nlu.factory import build_nlu  # noqa: E402


def _line(pcm16k: object) -> object:
    """16 kHz -> 8 kHz mu-law on the wire -> 16 kHz, as a SIP gateway carries it."""
    narrow = resample(pcm16k, 16000, 8000)  # type: ignore[arg-type]
    return resample(ulaw_decode(ulaw_encode(narrow)), 8000, 16000)


LEAD_S = 1.0  # line silence before the customer speaks (the listener keeps PREROLL_FRAMES of it)
TRAIL_S = 1.5  # line silence after: longer than endpoint_long_ms, so the turn ends


class _Capture:
    """A Recognizer that keeps each final segment the listener asks for; its 'text' is the index."""

    def __init__(self) -> None:
        self.segments: list[np.ndarray] = []

    async def transcribe(
        self, locale: str, pcm16k: np.ndarray, hint: str | None = None, partial: bool = False
    ) -> Transcript:
        if partial:
            return Transcript("", locale, 0.0, 0, 0, True)
        self.segments.append(np.array(pcm16k, dtype=np.int16, copy=True))
        return Transcript(str(len(self.segments) - 1), locale, 0.0, len(pcm16k) // 16, 0, False)


async def _listen(engines: Engines, line: np.ndarray, call: CallConfig, locale: str) -> list[np.ndarray]:
    """The segments a call's listener hands the ASR for this line audio, in order."""
    capture, turns = _Capture(), []
    vad = engines.new_vad_stream(enter=call.vad_enter, leave=call.vad_exit)
    listener = Listener(
        vad, capture, lambda s: turns.append(s) if isinstance(s, HeardTurn) else None,
        TurnPolicy.from_config(call), locale=locale, partial_every_ms=0, media_gap_ms=0,
    )
    listener.feed(line)
    for _ in range(20):  # let the listener's delivery tasks run
        await asyncio.sleep(0)
    await listener.close()
    return [capture.segments[int(t.transcript.text)] for t in turns]


def _first(text: str, zh: bool) -> str:
    """The first word (en) or Han character (zh) of a line, lower-case, without punctuation."""
    if zh:
        han = re.findall(r"[\u3400-\u9fff]", text)
        return han[0] if han else ""
    words = re.findall(r"[a-z0-9']+", text.lower())
    return words[0].replace("'", "") if words else ""


def _synthesise(tts: object, text: str, key: str, cache: Path | None) -> np.ndarray:
    """16 kHz PCM of `text`, from the cache when it holds it."""
    path = None
    if cache is not None:
        path = cache / (hashlib.sha1(f"{key}\n{text}".encode()).hexdigest() + ".npy")
        if path.exists():
            return np.load(path)
    pcm = np.asarray(tts.synthesize(text).pcm16k, dtype=np.int16)  # type: ignore[attr-defined]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, pcm)
    return pcm


def run(
    locale: str, tsv: Path, state: str | None, voice: Path | None, limit: int | None, every: int = 1,
    feed: str = "listener", cache: Path | None = None,
) -> dict[str, object]:
    tts_name = "tts-zh" if locale.startswith("zh") else "tts-en"
    overrides = {tts_name: voice} if voice else None
    settings = load_settings()
    eng = settings.engines
    engines = Engines.load(
        [locale], models_dir=ROOT / "models", overrides=overrides, asr_threads=eng.asr_threads,
        zh_voice=eng.zh_voice, zh_speed=eng.zh_speed, zh_asr_beam_size=eng.zh_asr_beam_size,
        zh_asr_window_s=eng.zh_asr_window_s,
    )
    try:
        loc = engines.locales[locale]
        tts_model = engines.models[tts_name]
        zh = locale.startswith("zh")
        voice_key = f"{tts_model.path}|{eng.zh_voice}|{eng.zh_speed}" if zh else str(tts_model.path)
        sep = "" if locale.startswith("zh") else " "
        script = load_script(ROOT / "prompts" / locale / "repayment_reminder.yaml")
        spec = script.states[state or script.start]
        hint, expected = ", ".join(spec.hint) or None, tuple(spec.expect)
        nlu = build_nlu(locale, ROOT / "prompts")
        rows = read_tsv(tsv)[:: max(1, every)]
        rows = rows[:limit] if limit else rows
        out = []
        started = time.perf_counter()
        split = unheard = 0
        asr_cpu_ms: list[float] = []
        for text, gold in rows:
            pcm = _synthesise(loc.tts, text, voice_key, cache)
            t0 = time.process_time()
            if feed == "bare":
                heard = loc.asr.transcribe(_line(pcm), hint).text  # type: ignore[arg-type]
            else:
                pad = np.zeros(int(LEAD_S * 16000), np.int16), np.zeros(int(TRAIL_S * 16000), np.int16)
                wire = np.asarray(_line(np.concatenate((pad[0], pcm, pad[1]))))
                line = np.clip(np.rint(wire), -32768, 32767)
                segments = asyncio.run(_listen(engines, line.astype(np.int16), settings.call, locale))
                split += len(segments) > 1
                unheard += not segments
                t0 = time.process_time()  # the recogniser only, not the listener's VAD
                heard = sep.join(loc.asr.transcribe(seg, hint).text for seg in segments).strip()
            asr_cpu_ms.append((time.process_time() - t0) * 1000)
            out.append(_scored(nlu, expected, text, gold, heard, zh))
        return {
            "locale": locale, "file": str(tsv), "state": state or script.start,
            "tts": tts_model.source, "feed": feed, "load_average": os.getloadavg(),
            "split_turns": split, "no_turn": unheard, "preroll_frames": listener_mod.PREROLL_FRAMES,
            "seconds": round(time.perf_counter() - started, 1),
            "asr_cpu_ms_mean": round(sum(asr_cpu_ms) / max(1, len(asr_cpu_ms))),
            "zh_asr_window_s": eng.zh_asr_window_s, **_summary(out),
        }
    finally:
        engines.close()


def _scored(
    nlu: object, expected: tuple[str, ...], text: str, gold: str, heard: str, zh: bool
) -> dict[str, object]:
    result = nlu.classify(heard, expected) if heard.strip() else None  # type: ignore[attr-defined]
    predicted = result.intent if result else "unknown"
    row: dict[str, object] = {"text": text, "heard": heard, "gold": gold, "predicted": predicted}
    row["first_lost"] = _first(text, zh) != _first(heard, zh)
    return {**row, "doubtful": bool(result and result.doubtful)}


def _summary(out: list[dict[str, object]]) -> dict[str, object]:
    pos = [r for r in out if r["gold"] == "opt_out"]
    neg = [r for r in out if r["gold"] != "opt_out"]
    return {
        "n": len(out), "first_word_lost": sum(bool(r["first_lost"]) for r in out),
        "opt_out_recall": sum(r["predicted"] == "opt_out" for r in pos) / len(pos) if pos else 1.0,
        "false_opt_out_rate": sum(r["predicted"] == "opt_out" for r in neg) / len(neg) if neg else 0.0,
        "opt_out_as_callback_later": sum(r["predicted"] == "callback_later" for r in pos),
        "doubtful_opt_outs": sum(bool(r["doubtful"]) for r in out),
        "rows": out,
    }


def rescore(report: dict[str, object]) -> dict[str, object]:
    """A stored report's transcripts classified again by the current NLU (no TTS, no ASR)."""
    locale = str(report["locale"])
    script = load_script(ROOT / "prompts" / locale / "repayment_reminder.yaml")
    expected = tuple(script.states[str(report["state"])].expect)
    nlu = build_nlu(locale, ROOT / "prompts")
    rows = report["rows"]  # type: ignore[assignment]
    out = [_scored(nlu, expected, r["text"], r["gold"], r["heard"], locale.startswith("zh")) for r in rows]
    kept = {k: v for k, v in report.items() if k not in _summary([])}
    return {**kept, "feed": f"{report['feed']}*", "load_average": os.getloadavg(), **_summary(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", action="append", choices=["en-US", "zh-CN"])
    parser.add_argument("--tsv", type=Path, help="Labelled TSV (default tests/nlu/blind/<locale>.tsv).")
    parser.add_argument("--state", help="Script state whose hints and expected intents the ASR/NLU use.")
    parser.add_argument("--voice", action="append", default=[], help="LOCALE=PATH: TTS voice to speak with.")
    parser.add_argument("--limit", type=int, help="Only the first N rows (a smoke run).")
    parser.add_argument("--every", type=int, default=1, help="Keep every K-th row (a sample of a long file).")
    parser.add_argument("--json", type=Path, default=ROOT / "out" / "nlu_audio_eval.json")
    parser.add_argument("--show-misses", action="store_true", help="Also print what was missed.")
    parser.add_argument("--feed", choices=["listener", "bare"], default="listener",
                        help="listener: segments as a call's listener cuts them (default); bare: TTS output.")
    parser.add_argument("--cache", type=Path, help="Directory keeping synthesised audio across runs.")
    parser.add_argument("--preroll", type=int, help="Experiment: listener PREROLL_FRAMES (20 ms frames).")
    parser.add_argument("--rescore", type=Path, help="Classify a stored JSON's transcripts again (NLU only).")
    args = parser.parse_args()
    if args.preroll is not None:
        listener_mod.PREROLL_FRAMES = args.preroll
    voices = dict(v.split("=", 1) for v in args.voice)
    reports = []
    stored = json.loads(args.rescore.read_text(encoding="utf-8"))["reports"] if args.rescore else []
    reports += [rescore(r) for r in stored]
    for locale in [] if args.rescore else args.locale or ["en-US", "zh-CN"]:
        tsv = args.tsv or ROOT / "tests" / "nlu" / "blind" / f"{locale}.tsv"
        voice = Path(voices[locale]) if locale in voices else None
        reports.append(run(locale, tsv, args.state, voice, args.limit, args.every, args.feed, args.cache))
    head = ("locale", "tts", "feed", "n", "recall", "false", "oo->cb", "doubt", "split", "1st", "s", "load",
            "asr CPU ms")
    print("{:<7} {:<10} {:<8} {:>4} {:>7} {:>7} {:>6} {:>6} {:>5} {:>4} {:>7} {:>5} {:>10}".format(*head))
    for r in reports:
        print(
            f"{r['locale']:<7} {r['tts']:<10} {r['feed']:<8} {r['n']:>4} {r['opt_out_recall']:>7.3f} "
            f"{r['false_opt_out_rate']:>7.3f} {r['opt_out_as_callback_later']:>6} "
            f"{r['doubtful_opt_outs']:>6} {r['split_turns']:>5} {r['first_word_lost']:>4} {r['seconds']:>7} "
            f"{r['load_average'][0]:>5.2f} {r.get('asr_cpu_ms_mean', '-'):>10}"
        )
        if args.show_misses:
            for row in r["rows"]:  # type: ignore[attr-defined]
                if (row["gold"] == "opt_out") != (row["predicted"] == "opt_out"):
                    print(f"  {row['gold']} -> {row['predicted']}: {row['text']!r} heard {row['heard']!r}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    summary = [{k: v for k, v in r.items() if k != "rows"} for r in reports]
    text = json.dumps({"summary": summary, "reports": reports}, ensure_ascii=False, indent=2)
    args.json.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
