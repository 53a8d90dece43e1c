"""How long a person who answers "Hello?" waits for the agent on a screened campaign call.

An outbound campaign call holds its opening until answer screening says a person answered
(agent/campaign/amd.py: a short greeting, then a pause). This runs the real call session
(listener, policy, voice, speech cache) on fake engines in real time: the customer is silent
for `--lead-ms`, says "Hello?" for each `--hello-ms`, then waits. Per case it prints the
delay from the end of the hello to the verdict (stream time) and to the first agent audio
the customer hears (loop time), and what an unscreened call takes from connect to its
first audio for comparison; `--json` writes the rows.

    PYTHONPATH=$PWD python scripts/amd_delay.py --hello-ms 300 500 900 1400 --runs 3
    PYTHONPATH=$PWD python scripts/amd_delay.py --real --models /path/to/models --runs 3

`--real` loads the real models (Silero VAD, the ASR, the TTS) and says "Hello?" with the
TTS voice into the session instead: the VAD's own onset and release are in the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from agent.call.contracts import CallSetup
from agent.call.session import CallSession
from agent.call.speech_cache import SpeechCache
from agent.config import CallConfig
from agent.testing.fakes import FakeEngines, FakeOutput, FakeRecorder, frames_of
from agent.testing.harness import SLOTS, TODAY, CallHarness, rules_nlu, script_for


async def _screened(hello_ms: int, lead_ms: int, synth_ms: int) -> dict[str, Any]:
    engines = FakeEngines(synth_delay_s=synth_ms / 1000)
    async with CallHarness(screen=True, jurisdiction="US", engines=engines) as call:
        await call.silence(lead_ms)
        hello_end = await call.say("Hello?", hello_ms)
        said = await call.agent_said("opening.disclosure.0", within=30)
        heard = await call.until(lambda: call.out.first_heard(str(said["text"])), 30, "the disclosure plays")
        call.hang_up()
        await call.ended()
    verdict = next(args[1] for _, args in call.recorder.of("event") if args[0] == "answered_by")
    return {"verdict_ms": float(verdict["at_ms"]) - (lead_ms + hello_ms),
            "first_audio_ms": (heard - hello_end) * 1000, "kind": verdict["kind"]}


async def _unscreened(synth_ms: int) -> float:
    engines = FakeEngines(synth_delay_s=synth_ms / 1000)
    async with CallHarness(engines=engines) as call:
        said = await call.agent_said("opening.disclosure.0", within=30)
        heard = await call.until(lambda: call.out.first_heard(str(said["text"])), 30, "the disclosure plays")
        call.hang_up()
        await call.ended()
    return float((heard - call.t0) * 1000)


async def _real(engines: Any, cache: SpeechCache, hello: np.ndarray, lead_ms: int,
                screen: bool = True) -> dict[str, Any]:
    """One call on the real engines: silence, the TTS's "Hello?", silence until the agent speaks."""
    loop = asyncio.get_running_loop()
    out = FakeOutput()
    setup = CallSetup("amd-delay", "en-US", script_for("repayment_reminder", "en-US"), SLOTS["en-US"], TODAY,
                      "native", jurisdiction="US", screen=screen)
    recorder = FakeRecorder()
    session = CallSession(setup, engines=engines, cache=cache, nlu=rules_nlu("en-US"),
                          recorder=recorder, out=out, config=CallConfig())
    run = asyncio.create_task(session.run())
    frames = [*frames_of(np.zeros(16 * lead_ms, dtype=np.int16)), *frames_of(hello)]
    t0, hello_end, n = loop.time(), 0.0, 0
    while not out.kinds("audio") and loop.time() - t0 < 30:
        frame = frames[n] if n < len(frames) else np.zeros(320, dtype=np.int16)
        session.feed_audio(frame)
        n += 1
        if n == len(frames):
            hello_end = loop.time()
        await asyncio.sleep(max(0.0, t0 + n * 0.02 - loop.time()))
    first = out.kinds("audio")[0].plays_at if out.kinds("audio") else None
    session.peer_hung_up()
    await run
    verdict: dict[str, Any] = next((a[1] for _, a in recorder.of("event") if a[0] == "answered_by"), {})
    first = first or loop.time()
    return {"kind": verdict.get("kind", "none"),
            "verdict_ms": float(verdict.get("at_ms", 0)) - (lead_ms + len(hello) / 16),
            "first_audio_ms": (first - hello_end) * 1000 if hello_end else None,
            "connect_to_first_audio_ms": (first - t0) * 1000}


async def _main_real(args: argparse.Namespace) -> list[dict[str, Any]]:
    from agent.engines import Engines

    engines = Engines.load(["en-US"], models_dir=args.models)

    async def synth(locale: str, text: str, priority: str, due: float | None) -> np.ndarray:
        pcm: np.ndarray = (await engines.synthesize(locale, text, priority=priority, due=due)).pcm16k
        return pcm

    cache = SpeechCache(synth)  # shared: run 1 finds it cold, later runs warm (as a served opening is)
    try:
        hello = (await engines.synthesize("en-US", "Hello?")).pcm16k
        print(f"real engines; the TTS's hello lasts {len(hello) / 16:.0f} ms (with its own edge silence)")
        print(f"{'run':>4} {'cache':>5} {'verdict':>8} {'after hello: verdict ms':>24} "
              f"{'first audio ms':>15}")
        rows = []
        for i in range(args.runs):
            for _ in range(600):  # the last call's leftover synthesis (its likely next sentences) first
                if not engines.busy():
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            row = {**await _real(engines, cache, hello, args.lead_ms), "cache": "cold" if i == 0 else "warm"}
            rows.append(row)
            print(f"{i + 1:>4} {row['cache']:>5} {row['kind']:>8} {row['verdict_ms']:>24.0f} "
                  f"{row['first_audio_ms']:>15.0f}")
        base = await _real(engines, cache, hello, args.lead_ms, screen=False)
        rows.append({"unscreened_connect_to_first_audio_ms": base["connect_to_first_audio_ms"]})
        connect_ms = base["connect_to_first_audio_ms"]
        print(f"unscreened call (warm cache), connect -> first audio: {connect_ms:.0f} ms")
        return rows
    finally:
        engines.close()


async def _main(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    print(f"{'hello ms':>9} {'verdict':>8} {'after hello: verdict ms':>24} {'first audio ms (p50/max)':>26}")
    for hello in args.hello_ms:
        runs = [await _screened(hello, args.lead_ms, args.synth_ms) for _ in range(args.runs)]
        first = [r["first_audio_ms"] for r in runs]
        row = {"hello_ms": hello, "kind": runs[0]["kind"], "verdict_after_hello_ms": runs[0]["verdict_ms"],
               "first_audio_after_hello_ms_p50": round(statistics.median(first)),
               "first_audio_after_hello_ms_max": round(max(first))}
        rows.append(row)
        print(f"{hello:>9} {row['kind']:>8} {row['verdict_after_hello_ms']:>24.0f} "
              f"{row['first_audio_after_hello_ms_p50']:>13} / {row['first_audio_after_hello_ms_max']}")
    base = [await _unscreened(args.synth_ms) for _ in range(args.runs)]
    rows.append({"unscreened_connect_to_first_audio_ms_p50": round(statistics.median(base))})
    print(f"unscreened call, connect -> first audio: {statistics.median(base):.0f} ms (p50)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hello-ms", type=int, nargs="+", default=[300, 500, 900, 1400])
    parser.add_argument("--lead-ms", type=int, default=300, help="silence after answer before the hello")
    parser.add_argument("--synth-ms", type=int, default=50, help="fake TTS time per sentence")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--real", action="store_true", help="the real models instead of fake engines")
    parser.add_argument("--models", type=Path, default=Path("models"), help="model folder for --real")
    args = parser.parse_args()
    rows = asyncio.run(_main_real(args) if args.real else _main(args))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
