"""Round trip of the zh-CN voice: every sentence of the zh-CN scripts → TTS → 8 kHz μ-law → whisper → CER.

Each sentence is rendered as `voice-agent preview` renders it (sample slot values, the
configured voice through Engines.synthesize), carried over an 8 kHz μ-law line, and
recognised by an independent whisper base (the multilingual base model we ship, plain
faster-whisper, beam 5, no hint, no domain prompt). CER is scored after Simplified
conversion and spoken-number normalisation (agent/asr/zh_text.py says how). A second figure,
the homophone-folded CER (`hCER`: characters with the same syllable and tone count as equal,
客服/克服), is printed beside it; the target is on CER.

Usage: python scripts/zh_voice_roundtrip.py [--voice zf_xiaobei --voice zm_yunxi | --voice all]
       [--espeak] [--clean] [--speed 0.95] [--json out/zh_roundtrip.json]
       python scripts/zh_voice_roundtrip.py --rescore out/zh_roundtrip.json   (score a run again, no audio)
       python scripts/zh_voice_roundtrip.py --failing out/zh_roundtrip.json   (only those over 5 % there)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

from zh_common import (
    JUDGES,
    every_slot,
    independent_whisper,
    phone_line,
    print_table,
    syllable_reader,
    write_json,
)

from agent.asr.zh_text import cer, homophone_cer
from agent.cli.common import settings
from agent.cli.preview import _engines
from agent.dialogue.loader import load_script
from agent.dialogue.presynth import all_says
from agent.models.kokoro import VOICE_SHA256
from agent.models.resolver import resolve

SCRIPTS = ("prompts/zh-CN/repayment_reminder.yaml", "prompts/zh-CN/credit_limit_notice.yaml")
TODAY = dt.date(2025, 3, 1)  # fixed, so every run renders the same dates


def sentences(scripts: list[str]) -> list[tuple[str, str, str]]:
    """(script id, say id, text) for every sentence preview renders."""
    out = []
    for path in scripts:
        script = load_script(path)
        values = every_slot(script, TODAY)
        out += [(script.meta.id, say_id, text) for say_id, text in all_says(script, values, today=TODAY)]
    return out


def summarise(voice: str, rows: list[dict[str, Any]], read: Any) -> dict[str, Any]:
    """Score every row (CER and homophone-folded CER) and sum them per script and overall."""
    for r in rows:
        r["edits"], r["chars"] = cer(r["text"], r["heard"])
        r["h_edits"], _ = homophone_cer(r["text"], r["heard"], read)

    def rate(mine: list[dict[str, Any]], key: str) -> float:
        return float(sum(r[key] for r in mine)) / max(1, int(sum(r["chars"] for r in mine)))

    scripts = list(dict.fromkeys(r["script"] for r in rows))
    uniq = {r["text"]: r for r in rows if "tts_cpu_s" in r}.values()
    return {
        "voice": voice,
        "cer": rate(rows, "edits"),
        "hcer": rate(rows, "h_edits"),
        "cer_by_script": {s: rate([r for r in rows if r["script"] == s], "edits") for s in scripts},
        "hcer_by_script": {s: rate([r for r in rows if r["script"] == s], "h_edits") for s in scripts},
        "worst": sorted(rows, key=lambda r: -r["edits"] / max(1, r["chars"]))[:5],
        "cpu_s_per_audio_s": sum(u["tts_cpu_s"] for u in uniq) / max(1e-9, sum(u["audio_s"] for u in uniq)),
        "sentences": rows,
    }


def run_voice(voice: str, says: list[tuple[str, str, str]], hear: Any, clean: bool,
              cache: Path | None = None, read: Any = None, speed: float | None = None) -> dict[str, Any]:
    cfg = settings(None)
    if speed is not None:
        cfg.engines.zh_speed = speed
    if voice == "espeak-ng":
        cfg.models.paths = {}
        from agent.engines import Engines, LocaleEngines
        from agent.tts.espeak_tts import EspeakSynthesizer
        from agent.workers import WorkerPool

        engines = Engines(vad=None, locales={"zh-CN": LocaleEngines(asr=None, tts=EspeakSynthesizer())},  # type: ignore[arg-type]
                          pool=WorkerPool(1, 256))
    else:
        cfg.engines.zh_voice = voice
        engines = _engines("zh-CN", cfg)
        if cache is not None:  # the same audio, kept so that a rerun renders nothing twice
            from agent.tts.disk_cache import CachedSynthesizer, DiskCache

            loc = engines.locales["zh-CN"]
            cached = CachedSynthesizer(loc.tts, DiskCache(cache, 1 << 30))
            engines.locales["zh-CN"] = type(loc)(loc.asr, cached)
    rows: list[dict[str, Any]] = []
    done: dict[str, dict[str, Any]] = {}
    try:
        for script_id, say_id, text in says:
            if text not in done:
                started = time.process_time()
                speech = asyncio.run(engines.synthesize("zh-CN", text))
                tts_cpu = time.process_time() - started
                pcm = speech.pcm16k if clean else phone_line(speech.pcm16k)
                heard = hear(pcm)
                edits, n = cer(text, heard)
                done[text] = {"heard": heard, "edits": edits, "chars": n, "audio_s": len(pcm) / 16000,
                              "tts_cpu_s": round(tts_cpu, 2)}
            rows.append({"script": script_id, "say_id": say_id, "text": text, **done[text]})
            r = rows[-1]
            print(f"{voice} {say_id:<28} CER {r['edits'] / max(1, r['chars']):.3f}  {r['heard']}", flush=True)
    finally:
        engines.pool.shutdown(wait=True, cancel_pending=True)
    rate = cfg.engines.zh_speed
    label = voice if voice == "espeak-ng" or rate == 1.0 else f"{voice}@{rate:g}"
    return summarise(label, rows, read)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voice", action="append", help="Kokoro voice(s), or 'all' (default: engines.zh_voice)")
    ap.add_argument("--espeak", action="store_true", help="also measure the espeak-ng fallback")
    ap.add_argument("--clean", action="store_true", help="skip the 8 kHz μ-law line (wideband round trip)")
    ap.add_argument("--script", action="append", help="script file(s) (default: both zh-CN scripts)")
    ap.add_argument("--speed", type=float, default=None, help="Kokoro speed (default: engines.zh_speed)")
    ap.add_argument("--judge", choices=JUDGES, default="plain",
                    help="whisper decode: plain (one window, no timestamps, no fallback) or transcribe "
                         "(faster-whisper's stock defaults); zh_common.independent_whisper lists the options")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None, help="keep rendered clauses here (TTS disk cache)")
    ap.add_argument("--sample", type=int, default=0,
                    help="for every voice but the first, only every N-th sentence (0 = all)")
    ap.add_argument("--sample-all", action="store_true", help="sample the first voice too")
    ap.add_argument("--failing", type=Path, default=None,
                    help="only the sentences over 5 %% CER in this earlier --json (its first voice)")
    ap.add_argument("--rescore", type=Path, default=None,
                    help="score the sentences of an earlier --json again")
    args = ap.parse_args()
    read = syllable_reader()
    if args.rescore is not None:
        import json

        body = json.loads(args.rescore.read_text(encoding="utf-8"))
        step = max(1, args.sample)  # --sample N: every N-th sentence, to compare with a sampled run
        scored = [summarise(v["voice"], v["sentences"][::step], read) for v in body["voices"]]
        report(scored, body["line"] == "wideband")
        return
    cfg = settings(None)
    voices = args.voice or [cfg.engines.zh_voice]
    if voices == ["all"]:
        voices = list(VOICE_SHA256)
    if args.espeak:
        voices = [*voices, "espeak-ng"] if args.voice else ["espeak-ng"]
    says = sentences(args.script or list(SCRIPTS))
    if args.failing is not None:
        import json

        earlier = json.loads(args.failing.read_text(encoding="utf-8"))["voices"][0]["sentences"]
        over = {(r["script"], r["say_id"]) for r in earlier if r["edits"] > 0.05 * max(1, r["chars"])}
        says = [s for s in says if (s[0], s[1]) in over]
    judge = resolve("asr-multi", models_dir=cfg.models.dir, overrides=cfg.models.paths)
    hear = independent_whisper(judge.path, judge=args.judge)
    results = []
    for i, v in enumerate(voices):  # the JSON is rewritten after each voice, to be read as it goes
        full = i == 0 and not args.sample_all
        subset = says if full or args.sample <= 1 else says[:: args.sample]
        results.append(run_voice(v, subset, hear, args.clean, args.cache, read, args.speed))
        write_json(args.json, {"line": "wideband" if args.clean else "ulaw8k", "today": str(TODAY),
                               "judge": args.judge, "voices": results})
    report(results, args.clean)


def report(results: list[dict[str, Any]], clean: bool) -> None:
    for res in results:
        print_table(f"{res['voice']}: per sentence", ["script", "say", "CER", "hCER", "heard"],
                    [[r["script"].split(".")[0], r["say_id"], r["edits"] / max(1, r["chars"]),
                      r["h_edits"] / max(1, r["chars"]), r["heard"]]
                     for r in res["sentences"]])
    scripts = list(results[0]["cer_by_script"])
    for r in results:
        r["sentences_scored"] = len(r["sentences"])
    line = "wideband" if clean else "8 kHz μ-law"
    short = [s.split(".")[0] for s in scripts]
    print_table(f"round-trip CER by voice ({line}, whisper base; hCER = homophones folded)",
                ["voice", "CER", *short, "hCER", *[f"h {s}" for s in short], "sentences", "CER>5%",
                 "TTS CPU-s/audio-s"],
                [[r["voice"], r["cer"], *[r["cer_by_script"].get(s, float("nan")) for s in scripts],
                  r["hcer"], *[r["hcer_by_script"].get(s, float("nan")) for s in scripts],
                  len(r["sentences"]),
                  sum(1 for s in r["sentences"] if s["edits"] > 0.05 * max(1, s["chars"])),
                  r["cpu_s_per_audio_s"]] for r in results])


if __name__ == "__main__":
    main()
