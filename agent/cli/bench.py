"""Benchmark: many simulated calls at once through the real server; latency, audio health, CPU, RSS.

Example: voice-agent bench --concurrency 1,4,8,16 --json out/bench.json --plot out/bench.png
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console

from agent.cli.common import fail, settings

console = Console(highlight=False)
wide = Console(highlight=False, width=max(console.width, 170))  # the table has many columns


def _progress(msg: str) -> None:
    console.print(f"[dim]{msg}[/dim]")


def _ints(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected numbers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise typer.BadParameter("concurrency levels must be 1 or more")
    return values


def bench(
    concurrency: str = typer.Option("1,4,8,16", help="Concurrency levels, comma-separated."),
    calls: int | None = typer.Option(
        None, help="Calls per level (at least the level's concurrency; default max(level, 3))."
    ),
    scenario: str = typer.Option("happy_path,barge_in,opt_out,dtmf_opt_out",
                                 help="Scenarios, comma-separated; calls cycle through them."),
    locale: str = typer.Option("en-US", help="Locale(s) of the calls, comma-separated: a fresh server each."),
    fresh_tts_cache: bool = typer.Option(
        False, help="Give the server an empty TTS disk cache (a first-ever start, not a restart)."),
    burn: int = typer.Option(
        0, help="Run N CPU-burning processes beside the server while measuring (a loaded box), at this "
                "process's nice level."),
    stagger_ms: int = typer.Option(300, help="Delay between call starts within a level."),
    warmup: int = typer.Option(1, help="Calls played and discarded before measuring."),
    pool_workers: int | None = typer.Option(None, help="Override engines.pool_workers in the server."),
    asr_threads: int | None = typer.Option(None, help="Override engines.asr_threads in the server."),
    partial_every_ms: int | None = typer.Option(None, help="Override call.partial_every_ms in the server."),
    server_env: list[str] | None = typer.Option(
        None, "--server-env", help="Extra KEY=VALUE for the server (VOICE_AGENT_CALL__ENDPOINT_LONG_MS=600).",
    ),
    loopwatch: Path | None = typer.Option(
        None, help="Sample the server's event loop; write what it ran while late to this JSON file "
                   "(agent/bench/loopwatch.py)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the results as JSON."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw a PNG chart of latency vs concurrency."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Path to config.yaml."),
) -> None:
    settings(config)  # fail early, with one line, on a bad config
    from agent.bench.report import cold_start_row, cold_start_table, gap_rows, gap_table, table
    from agent.bench.runner import BenchOptions, run_bench

    env: dict[str, str] = {}
    for item in server_env or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--server-env wants KEY=VALUE, got {item!r}")
        env[key] = value
    for key, number in (("ENGINES__POOL_WORKERS", pool_workers), ("ENGINES__ASR_THREADS", asr_threads),
                        ("CALL__PARTIAL_EVERY_MS", partial_every_ms)):
        if number is not None:
            env[f"VOICE_AGENT_{key}"] = str(number)
    results = []
    for loc in [x.strip() for x in locale.split(",") if x.strip()]:
        opts = BenchOptions(
            concurrency=_ints(concurrency), calls=calls,
            scenarios=[s.strip() for s in scenario.split(",") if s.strip()],
            locale=loc, stagger_ms=stagger_ms, warmup=warmup, config=config, server_env=env,
            fresh_tts_cache=fresh_tts_cache, burn=burn, loopwatch=loopwatch,
        )
        console.print(f"[bold]{loc}[/bold]")
        try:
            results.append(asyncio.run(run_bench(opts, progress=_progress)))
        except (ValueError, KeyError, RuntimeError) as exc:
            raise fail(str(exc)) from exc
        wide.print(table(results[-1]))
    wide.print(cold_start_table(results))
    wide.print(gap_table(results))
    if json_path:  # one locale: its result; several: {"locales": {...}, "cold_start": [rows], "gaps": [rows]}
        body = results[0] if len(results) == 1 else {
            "locales": {r["meta"]["options"]["locale"]: r for r in results},
            "cold_start": [cold_start_row(r) for r in results],
            "gaps": gap_rows(results),
        }
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"wrote {json_path}")
    if plot:
        from agent.bench.plot import draw

        for result in results:
            loc = result["meta"]["options"]["locale"]
            path = plot if len(results) == 1 else plot.with_stem(f"{plot.stem}.{loc}")
            draw(result, path)
            console.print(f"wrote {path}")
