"""TTS cost of one zh-CN call, cold and warm, and the seams of clause-by-clause synthesis.

A call is the greeting (disclosure, identity question) and the typical replies of the
repayment reminder (reminder, ask for a date, confirm a promise, goodbye), rendered with
sample slots through Engines.synthesize as a call does. Figures (CPU-seconds of this
process, all threads):
- cold: empty disk cache; every clause is rendered;
- warm: the script's slot-free sentences prefilled (as the server does at start-up), a new
  customer's slots: only slot-bearing clauses are rendered;
- hot: the same call again: everything comes from the disk cache.

Seams: each multi-clause sentence rendered in one model run vs clause by clause and joined.
Reported: the pause at each clause boundary (longest run under -45 dBFS inside the joint
region) in both, and the loudness step across the joint (dB RMS of 150 ms either side).

Usage: python scripts/zh_tts_cost.py [--voice zf_xiaobei] [--json out/zh_tts_cost.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from zh_common import every_slot, print_table, write_json

from agent.cli.common import settings
from agent.dialogue.loader import load_script
from agent.dialogue.presynth import all_says, slot_free_sentences
from agent.dialogue.registry import ScriptRegistry
from agent.engines import Engines, LocaleEngines, _load_tts
from agent.models.resolver import resolve
from agent.tts.base import split_sentences
from agent.tts.disk_cache import CachedSynthesizer, DiskCache
from agent.tts.kokoro_tts import NATIVE_RATE
from agent.workers import WorkerPool

CALL = ("opening.disclosure.0", "opening.disclosure.1", "opening.say.0", "reminder.say.0", "reminder.say.1",
        "ask_pay_date.say.0", "confirm_promise.say.0", "confirm_promise.say.1")
TODAY = dt.date(2025, 3, 1)
MAX_SEAM_SENTENCES = 6


def call_sentences(slots_override: dict[str, str]) -> list[str]:
    script = load_script("prompts/zh-CN/repayment_reminder.yaml")
    values = {**every_slot(script, TODAY), **slots_override}
    says = dict(all_says(script, values, today=TODAY))
    return [s for say_id in CALL for s in split_sentences(says[say_id])]


def cpu_of(engines: Engines, sentences: list[str]) -> tuple[float, float]:
    """(CPU-seconds, audio seconds) to render the sentences one by one, as a call asks for them."""
    started = time.process_time()
    audio = 0.0

    async def go() -> None:
        nonlocal audio
        for s in sentences:
            audio += (await engines.synthesize("zh-CN", s)).duration_ms / 1000

    asyncio.run(go())
    return time.process_time() - started, audio


def _silence_run(x: np.ndarray, rate: int) -> float:
    frame = rate // 100
    n = len(x) // frame
    level = 20 * np.log10(np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-9)
    best = cur = 0
    for quiet in level < -45:
        cur = cur + 1 if quiet else 0
        best = max(best, cur)
    return best * 10 / 1000


def seams(tts: Any) -> list[list[Any]]:
    rows = []
    script = load_script("prompts/zh-CN/repayment_reminder.yaml")
    texts = [t for _, t in all_says(script, every_slot(script, TODAY), today=TODAY)]
    for text in dict.fromkeys(s for t in texts for s in split_sentences(t)):
        clauses = tts.clauses(text)
        if len(clauses) < 2:
            continue
        if len(rows) == MAX_SEAM_SENTENCES:
            break
        whole = tts.render_clause(text)  # one model run, commas inside
        parts = [tts.render_clause(c) for c in clauses]
        joined = np.concatenate(parts)
        pauses_joined, steps = [], []
        pos = 0
        for p in parts[:-1]:
            pos += len(p)
            win = int(0.6 * NATIVE_RATE)
            pauses_joined.append(_silence_run(joined[max(0, pos - win): pos + win // 3], NATIVE_RATE))
            before = joined[:pos][np.abs(joined[:pos]) > 0.01][-int(0.15 * NATIVE_RATE):]
            after = joined[pos:][np.abs(joined[pos:]) > 0.01][: int(0.15 * NATIVE_RATE)]
            rms = [20 * np.log10(np.sqrt(np.mean(a ** 2)) + 1e-9) for a in (before, after)]
            steps.append(abs(rms[0] - rms[1]))
        whole_pause = _silence_run(whole, NATIVE_RATE) if len(whole) else 0.0
        rows.append([text[:24], len(clauses), round(len(whole) / NATIVE_RATE, 2),
                     round(len(joined) / NATIVE_RATE, 2), round(whole_pause, 2),
                     round(float(np.mean(pauses_joined)), 2), round(float(np.max(steps)), 1)])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voice", default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cfg = settings(None)
    model = resolve("tts-zh", models_dir=cfg.models.dir, overrides=cfg.models.paths)
    started = time.perf_counter()
    kokoro = _load_tts(model, voice=args.voice or cfg.engines.zh_voice)
    load_s = time.perf_counter() - started
    body: dict[str, Any] = {"voice": getattr(kokoro, "voice", None), "load_s": round(load_s, 2)}
    with tempfile.TemporaryDirectory(prefix="zh-tts-cost-") as tmp:
        tts = CachedSynthesizer(kokoro, DiskCache(Path(tmp), 1 << 30))  # type: ignore[arg-type]
        engines = Engines(vad=None, locales={"zh-CN": LocaleEngines(asr=None, tts=tts)},  # type: ignore[arg-type]
                          pool=WorkerPool(1, 256))
        try:
            cold = cpu_of(engines, call_sentences({}))
            print(f"cold call: {cold[0]:.1f} CPU-s for {cold[1]:.1f} s of audio", flush=True)
            registry = ScriptRegistry(Path("prompts"))
            script = registry.scripts[("repayment_reminder", "zh-CN")]
            prefill_started = time.process_time()
            engines.start_prefill(slot_free_sentences([script])).result()
            prefill_cpu = time.process_time() - prefill_started
            other = {"customer_name": "李娜", "amount_due": "2680.00",
                     "due_date": (TODAY + dt.timedelta(days=12)).isoformat()}
            warm = cpu_of(engines, call_sentences(other))
            print(f"warm call: {warm[0]:.1f} CPU-s", flush=True)
            hot = cpu_of(engines, call_sentences(other))
        finally:
            engines.pool.shutdown(wait=True)
    rows = [["cold (empty cache)", *cold], ["warm (slot-free prefilled, new customer)", *warm],
            ["hot (same call again)", *hot]]
    print_table(f"TTS CPU per zh-CN call ({body['voice']}, load {load_s:.1f} s)",
                ["call", "CPU-s", "audio-s"], [[r[0], round(r[1], 2), round(r[2], 1)] for r in rows])
    print(f"prefill of the repayment script's slot-free sentences: {prefill_cpu:.1f} CPU-s (once per voice)")
    seam_rows = seams(kokoro)
    print_table("clause seams (24 kHz): whole sentence vs clauses joined",
                ["sentence", "clauses", "whole s", "joined s", "whole: longest pause s", "joined: pause s",
                 "loudness step dB"], seam_rows)
    body.update(cold_cpu_s=cold[0], warm_cpu_s=warm[0], hot_cpu_s=hot[0], audio_s=cold[1],
                prefill_cpu_s=prefill_cpu, seams=seam_rows)
    write_json(args.json, body)


if __name__ == "__main__":
    main()
