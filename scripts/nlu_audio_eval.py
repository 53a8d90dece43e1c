"""Opt-out understanding through the telephone line: TTS -> 8 kHz mu-law -> runtime ASR (state hints) -> NLU.

Every row of a labelled TSV (default: the frozen blind set, whose rows are all opt-outs or hard
negatives) is spoken by the locale's TTS, carried over 8 kHz G.711 mu-law (agent/audio/codecs.py),
recognised by the runtime's ASR with the hint and expected intents of a script state, and
classified. Prints a table per locale and writes JSON: end-to-end opt-out recall, false
opt-outs, opt-outs read as callback_later. Misses are listed only with --show-misses.

Usage: python scripts/nlu_audio_eval.py [--locale en-US --locale zh-CN] [--voice zh-CN=PATH]
       [--state opening] [--limit N] [--every K] [--json out/nlu_audio_eval.json] [--show-misses]
--every K keeps every K-th row (a sample across all blocks of a long corpus, e.g. the training sets).
--voice LOCALE=PATH uses that TTS voice (e.g. a Kokoro or Piper model the resolver accepts as
tts-zh / tts-en); without it the runtime's resolved voice is used (zh-CN today: espeak-ng).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agent.audio.codecs import ulaw_decode, ulaw_encode  # noqa: E402
from agent.audio.resample import resample  # noqa: E402
from agent.cli.nlu import read_tsv  # noqa: E402
from agent.dialogue.loader import load_script  # noqa: E402
from agent.engines import Engines  # noqa: E402
from agent.nlu.factory import build_nlu  # noqa: E402


def _line(pcm16k: object) -> object:
    """16 kHz -> 8 kHz mu-law on the wire -> 16 kHz, as a SIP gateway carries it."""
    narrow = resample(pcm16k, 16000, 8000)  # type: ignore[arg-type]
    return resample(ulaw_decode(ulaw_encode(narrow)), 8000, 16000)


def run(
    locale: str, tsv: Path, state: str | None, voice: Path | None, limit: int | None, every: int = 1
) -> dict[str, object]:
    overrides = {("tts-zh" if locale.startswith("zh") else "tts-en"): voice} if voice else None
    engines = Engines.load([locale], models_dir=ROOT / "models", overrides=overrides)
    try:
        loc = engines.locales[locale]
        script = load_script(ROOT / "prompts" / locale / "repayment_reminder.yaml")
        spec = script.states[state or script.start]
        hint, expected = ", ".join(spec.hint) or None, tuple(spec.expect)
        nlu = build_nlu(locale, ROOT / "prompts")
        rows = read_tsv(tsv)[:: max(1, every)]
        rows = rows[:limit] if limit else rows
        out = []
        started = time.perf_counter()
        for text, gold in rows:
            speech = loc.tts.synthesize(text)
            heard = loc.asr.transcribe(_line(speech.pcm16k), hint).text  # type: ignore[arg-type]
            result = nlu.classify(heard, expected) if heard.strip() else None
            predicted = result.intent if result else "unknown"
            doubtful = bool(result and result.doubtful)
            row = {"text": text, "heard": heard, "gold": gold, "predicted": predicted}
            out.append({**row, "doubtful": doubtful})
        pos = [r for r in out if r["gold"] == "opt_out"]
        neg = [r for r in out if r["gold"] != "opt_out"]
        return {
            "locale": locale, "file": str(tsv), "state": state or script.start,
            "tts": engines.models[next(k for k in engines.models if k.startswith("tts"))].source,
            "n": len(out), "seconds": round(time.perf_counter() - started, 1),
            "opt_out_recall": sum(r["predicted"] == "opt_out" for r in pos) / len(pos) if pos else 1.0,
            "false_opt_out_rate": sum(r["predicted"] == "opt_out" for r in neg) / len(neg) if neg else 0.0,
            "opt_out_as_callback_later": sum(r["predicted"] == "callback_later" for r in pos),
            "doubtful_opt_outs": sum(bool(r["doubtful"]) for r in out),
            "rows": out,
        }
    finally:
        engines.close()


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
    args = parser.parse_args()
    voices = dict(v.split("=", 1) for v in args.voice)
    reports = []
    for locale in args.locale or ["en-US", "zh-CN"]:
        tsv = args.tsv or ROOT / "tests" / "nlu" / "blind" / f"{locale}.tsv"
        voice = Path(voices[locale]) if locale in voices else None
        reports.append(run(locale, tsv, args.state, voice, args.limit, args.every))
    head = ("locale", "tts", "n", "recall", "false", "oo->cb", "doubt", "s")
    print("{:<7} {:<10} {:>4} {:>7} {:>7} {:>6} {:>6} {:>7}".format(*head))
    for r in reports:
        print(
            f"{r['locale']:<7} {r['tts']:<10} {r['n']:>4} {r['opt_out_recall']:>7.3f} "
            f"{r['false_opt_out_rate']:>7.3f} {r['opt_out_as_callback_later']:>6} "
            f"{r['doubtful_opt_outs']:>6} {r['seconds']:>7}"
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
