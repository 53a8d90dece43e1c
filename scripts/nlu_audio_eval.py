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
       [--feed listener|bare] [--cache DIR] [--runner-ups N] [--paired]
--every K keeps every K-th row (a sample across all blocks of a long corpus, e.g. the training sets).
--cache DIR keeps synthesised audio in DIR (keyed by TTS model, voice and text), so reruns skip TTS.
--rescore JSON classifies the transcripts of an earlier run again with the current NLU (the
ASR is deterministic on cached audio, so this is what a rerun would give; feed is shown with *).
--runner-ups N keeps N runner-up readings per final turn (default engines.asr_runner_ups; 0 = off):
the NLU reads them for the runner-up doubt (agent.nlu.runner_up), and rows store them, so
--rescore re-reads them too. --paired also decodes every segment without runner-ups (the order
alternating clip by clip), so one run gives before (best reading only) and after on the same
audio and load, with the decode time of both ("asr ms" columns). "nlu ms" is the NLU's time on the
best reading alone (before) and with its runner-ups (after), each from cold (no vector cached).
"f.doubt" is false opt-outs / how many of them were doubtful (asked, not persisted).
--voice LOCALE=PATH uses that TTS voice (e.g. a Kokoro or Piper model the resolver accepts as
tts-zh / tts-en); without it the runtime's resolved voice is used (zh-CN: Kokoro when installed,
else espeak-ng).
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
    capture, turns, judged = _Capture(), [], [0]
    vad = engines.new_vad_stream(enter=call.vad_enter, leave=call.vad_exit)  # on the VAD thread, as in a call
    listener = Listener(
        vad, capture, lambda s: turns.append(s) if isinstance(s, HeardTurn) else None,
        TurnPolicy.from_config(call), locale=locale, partial_every_ms=0, media_gap_ms=0,
        on_frame=lambda frame, speech: judged.__setitem__(0, judged[0] + 1),
    )
    listener.feed(line)
    for _ in range(6000):  # the VAD thread's verdicts come back a little later, frame by frame
        if judged[0] >= listener.frames:
            break
        await asyncio.sleep(0.005)
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
    feed: str = "listener", cache: Path | None = None, runner_ups: int | None = None, paired: bool = False,
) -> dict[str, object]:
    tts_name = "tts-zh" if locale.startswith("zh") else "tts-en"
    overrides = {tts_name: voice} if voice else None
    settings = load_settings()
    eng = settings.engines
    engines = Engines.load(
        [locale], models_dir=ROOT / "models", overrides=overrides, asr_threads=eng.asr_threads,
        zh_voice=eng.zh_voice, zh_speed=eng.zh_speed, zh_asr_beam_size=eng.zh_asr_beam_size,
        en_asr_beam_size=eng.en_asr_beam_size, zh_asr_window_s=eng.zh_asr_window_s,
        asr_runner_ups=eng.asr_runner_ups if runner_ups is None else runner_ups,
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
        asr = loc.asr
        keep = getattr(asr, "runner_ups", 0)
        for index, (text, gold) in enumerate(rows):
            pcm = _synthesise(loc.tts, text, voice_key, cache)
            if feed == "bare":
                segments = [np.asarray(_line(pcm))]
            else:
                pad = np.zeros(int(LEAD_S * 16000), np.int16), np.zeros(int(TRAIL_S * 16000), np.int16)
                wire = np.asarray(_line(np.concatenate((pad[0], pcm, pad[1]))))
                line = np.clip(np.rint(wire), -32768, 32767)
                segments = asyncio.run(_listen(engines, line.astype(np.int16), settings.call, locale))
                split += len(segments) > 1
                unheard += not segments
            order = (True, False) if index % 2 else (False, True)  # plain first on even rows
            decoded: dict[bool, list[Transcript]] = {}
            for with_runner_ups in order if paired else (True,):
                asr.runner_ups = keep if with_runner_ups else 0  # type: ignore[attr-defined]
                decoded[with_runner_ups] = [asr.transcribe(seg, hint) for seg in segments]
            asr.runner_ups = keep  # type: ignore[attr-defined]
            ts = decoded[True]
            heard = sep.join(t.text for t in ts).strip()
            row: dict[str, object] = {
                "heard": heard, "runner_ups": _whole_runner_ups(ts, sep),
                "asr_ms": sum(t.compute_ms for t in ts),
            }
            if paired:
                row["heard_plain"] = sep.join(t.text for t in decoded[False]).strip()
                row["asr_ms_plain"] = sum(t.compute_ms for t in decoded[False])
            out.append({**_scored(nlu, expected, text, gold, row, zh)})
        return {
            "locale": locale, "file": str(tsv), "state": state or script.start,
            "tts": tts_model.source, "feed": feed, "load_average": os.getloadavg(), "runner_ups": keep,
            "paired": paired,
            "split_turns": split, "no_turn": unheard, "preroll_frames": listener_mod.PREROLL_FRAMES,
            "seconds": round(time.perf_counter() - started, 1),
            "zh_asr_window_s": eng.zh_asr_window_s, **_summary(out),
        }
    finally:
        engines.close()


def _whole_runner_ups(transcripts: list[Transcript], sep: str) -> list[str]:
    """Runner-up readings of the whole line: one segment's runner-up among the others' best readings."""
    best = [t.text for t in transcripts]
    whole = (
        sep.join([*best[:i], other, *best[i + 1 :]]).strip()
        for i, t in enumerate(transcripts)
        for other in t.runner_ups
    )
    return list(dict.fromkeys(w for w in whole if w))


def _scored(
    nlu: object, expected: tuple[str, ...], text: str, gold: str, heard: dict[str, object], zh: bool
) -> dict[str, object]:
    """One line's row: the NLU on the best reading only (`before`: the plain decode when paired) and
    with its runner-ups (`predicted`), and what each runner-up alone was read as."""
    said, others = str(heard["heard"]), [str(o) for o in heard.get("runner_ups") or []]  # type: ignore[attr-defined]
    plain = str(heard.get("heard_plain", said))
    classify = nlu.classify  # type: ignore[attr-defined]
    forget = nlu.semantic.forget if getattr(nlu, "semantic", None) is not None else lambda: None  # type: ignore[attr-defined]
    forget()  # each timing from cold: no vector cached by the other reading
    started = time.perf_counter()
    before = classify(plain, expected) if plain.strip() else None
    nlu_ms_before = (time.perf_counter() - started) * 1000
    forget()
    started = time.perf_counter()
    result = classify(said, expected, runner_ups=others) if said.strip() else None
    nlu_ms = (time.perf_counter() - started) * 1000
    reads = [classify(o, expected) for o in others] if said.strip() else []
    row: dict[str, object] = {**heard, "text": text, "gold": gold}
    row["predicted"] = result.intent if result else "unknown"
    row["confidence"] = round(result.confidence, 3) if result else 0.0
    row["doubtful"] = bool(result and result.doubtful)
    row["predicted_before"] = before.intent if before else "unknown"
    row["doubtful_before"] = bool(before and before.doubtful)
    row["runner_up_reads"] = [[r.intent, round(r.confidence, 3)] for r in reads]
    row["nlu_ms"], row["nlu_ms_before"] = round(nlu_ms, 1), round(nlu_ms_before, 1)
    row["first_lost"] = _first(text, zh) != _first(said, zh)
    row["first_lost_before"] = _first(text, zh) != _first(plain, zh)
    return row


def _rates(out: list[dict[str, object]], key: str, doubt: str) -> dict[str, object]:
    pos = [r for r in out if r["gold"] == "opt_out"]
    neg = [r for r in out if r["gold"] != "opt_out"]
    false = [r for r in neg if r[key] == "opt_out"]
    return {
        "opt_out_recall": sum(r[key] == "opt_out" for r in pos) / len(pos) if pos else 1.0,
        "false_opt_out_rate": len(false) / len(neg) if neg else 0.0,
        "false_opt_outs": len(false), "false_opt_outs_doubtful": sum(bool(r[doubt]) for r in false),
        "opt_out_as_callback_later": sum(r[key] == "callback_later" for r in pos),
        "doubtful_opt_outs": sum(bool(r[doubt]) for r in out),
        "positives": len(pos), "negatives": len(neg),
    }


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 1) if values else 0.0


def _summary(out: list[dict[str, object]]) -> dict[str, object]:
    paired = [r for r in out if "asr_ms_plain" in r]
    return {
        "n": len(out), "first_word_lost": sum(bool(r["first_lost"]) for r in out),
        "first_word_lost_before": sum(bool(r.get("first_lost_before", r["first_lost"])) for r in out),
        **_rates(out, "predicted", "doubtful"),
        "before": _rates(out, "predicted_before", "doubtful_before"),
        "heard_changed": sum(r["heard"] != r.get("heard_plain", r["heard"]) for r in out),
        "with_runner_ups": sum(bool(r.get("runner_ups")) for r in out),
        "asr_ms_mean": _mean([float(r.get("asr_ms", 0)) for r in out]),  # type: ignore[arg-type]
        "asr_ms_plain_mean": _mean([float(r["asr_ms_plain"]) for r in paired]),  # type: ignore[arg-type]
        "nlu_ms_mean": _mean([float(r.get("nlu_ms", 0)) for r in out]),  # type: ignore[arg-type]
        "nlu_ms_before_mean": _mean([float(r.get("nlu_ms_before", 0)) for r in out]),  # type: ignore[arg-type]
        "rows": out,
    }


def rescore(report: dict[str, object]) -> dict[str, object]:
    """A stored report's transcripts classified again by the current NLU (no TTS, no ASR)."""
    locale = str(report["locale"])
    script = load_script(ROOT / "prompts" / locale / "repayment_reminder.yaml")
    expected = tuple(script.states[str(report["state"])].expect)
    nlu = build_nlu(locale, ROOT / "prompts")
    rows = report["rows"]  # type: ignore[assignment]
    heard, zh = ("heard", "runner_ups", "asr_ms", "heard_plain", "asr_ms_plain"), locale.startswith("zh")
    out = [
        _scored(nlu, expected, r["text"], r["gold"], {k: r[k] for k in heard if k in r}, zh)
        for r in rows
    ]
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
    parser.add_argument("--runner-ups", type=int, help="Runner-up readings kept per final turn (0 = off).")
    parser.add_argument("--paired", action="store_true", help="Also decode without runner-ups: before/after.")
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
        reports.append(run(
            locale, tsv, args.state, voice, args.limit, args.every, args.feed, args.cache,
            args.runner_ups, args.paired,
        ))
    head = ("locale", "tts", "feed", "n", "", "recall", "false", "f.doubt", "oo->cb", "doubt", "split", "1st",
            "asr ms", "nlu ms", "s", "load")
    fmt = "{:<7} {:<10} {:<8} {:>4} {:<6} {:>7} {:>7} {:>7} {:>6} {:>6} {:>5} {:>4} {:>7} {:>6} {:>7} {:>5}"
    print(fmt.format(*head))
    for r in reports:
        b = r["before"]
        for label, x, first, ms in (
            ("before", b, r["first_word_lost_before"], r.get("asr_ms_plain_mean") or "-"),
            ("after", r, r["first_word_lost"], r.get("asr_ms_mean", "-")),
        ):
            print(fmt.format(
                r["locale"], r["tts"], r["feed"], r["n"], label, f"{x['opt_out_recall']:.3f}",
                f"{x['false_opt_out_rate']:.3f}", f"{x['false_opt_outs']}/{x['false_opt_outs_doubtful']}",
                x["opt_out_as_callback_later"], x["doubtful_opt_outs"], r["split_turns"], first, ms,
                r.get("nlu_ms_mean" if label == "after" else "nlu_ms_before_mean", "-"), r["seconds"],
                f"{r['load_average'][0]:.2f}",
            ))
        if args.show_misses:
            for row in r["rows"]:  # type: ignore[attr-defined]
                got, was = row["predicted"], row["predicted_before"]
                if (row["gold"] == "opt_out") != (got == "opt_out") or got != was:
                    note = "" if got == was else f" (was {was})"
                    print(f"  {row['gold']} -> {got}{note}: {row['text']!r} heard {row['heard']!r}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    summary = [{k: v for k, v in r.items() if k != "rows"} for r in reports]
    text = json.dumps({"summary": summary, "reports": reports}, ensure_ascii=False, indent=2)
    args.json.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
