"""How long a person who answers "Hello?" waits for the agent on a screened campaign call.

An outbound campaign call holds its opening until answer screening says a person answered
(agent/campaign/amd.py: a short greeting, then a pause). This runs the real call session
(listener, policy, voice, speech cache) on fake engines in real time: the customer is silent
for `--lead-ms`, says "Hello?" for each `--hello-ms`, then waits. Per case it prints the
delay from the end of the hello to the verdict (stream time) and to the first agent audio
the customer hears (loop time), and what an unscreened call takes from connect to its
first audio for comparison; `--json` writes the rows.

    PYTHONPATH=$PWD python scripts/amd_delay.py --hello-ms 300 500 900 1400 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from pathlib import Path
from typing import Any

from agent.testing.fakes import FakeEngines
from agent.testing.harness import CallHarness


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
    args = parser.parse_args()
    rows = asyncio.run(_main(args))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
