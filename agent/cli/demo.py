"""Play a whole simulated call on loopback and show the live transcript with per-turn latency.

Example: voice-agent demo --scenario barge_in --wav out/call.wav --json out/call.json
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from agent.call import progress
from agent.cli.common import EXIT_FAILED, fail, settings, setup_logging

console = Console(highlight=False)


def _printer(message: dict[str, Any]) -> None:
    """Print one call-progress event (agent.call.progress) or one of the simulated customer's."""
    stamp = f"[dim]{message.get('ms', 0) / 1000:6.2f}s[/dim]"
    event = progress.parse(message)
    if isinstance(event, progress.AgentSaid):
        console.print(f"{stamp} [bold cyan]agent   [/] {event.text}  [dim]({event.state})[/dim]")
    elif isinstance(event, progress.Transcribed) and event.final:
        heard = event.text or "…"
        console.print(f"{stamp} [bold green]customer[/] {heard}  [dim]intent={event.intent}[/dim]")
    elif isinstance(event, progress.TurnTimed):
        fast = " fast" if event.fast_endpoint else ""
        console.print(
            f"{stamp} [yellow]  turn: voice-to-voice {event.voice_to_voice_ms} ms"
            f" (endpoint {event.endpoint_ms} ms{fast}, asr {event.asr_ms} ms)[/yellow]"
        )
    elif isinstance(event, progress.AgentTurnPlayed) and event.longest_gap_ms:
        gap = event.longest_gap_ms
        console.print(f"{stamp} [yellow]  agent turn: longest silence inside {gap} ms[/yellow]")
    elif isinstance(event, progress.BargedIn):
        console.print(f"{stamp} [magenta]  barge-in: agent stopped after {event.heard_ms} ms[/magenta]")
    elif isinstance(event, progress.OptedOut):
        console.print(f"{stamp} [red]  opt-out persisted in {event.persisted_ms} ms[/red]")
    elif isinstance(event, progress.CallError):
        console.print(f"{stamp} [bold red]error: {event.message}[/bold red]")
    elif event is None:
        _print_local(stamp, message)


def _print_local(stamp: str, message: dict[str, Any]) -> None:
    """The simulated customer's own events and the native protocol's hang-up message."""
    kind = message.get("type")
    if kind == "customer_says":
        console.print(f"{stamp} [green]  (customer speaks: {message['text']!r})[/green]")
    elif kind == "customer_dtmf":
        console.print(f"{stamp} [green]  (customer presses {message['digit']})[/green]")
    elif kind == "hangup":
        console.print(f"{stamp} [bold]call ended: {message.get('reason')}[/bold]")


def _announce_console(base: str, store: Any) -> None:
    """Print the console's URL and the demo's sign-ins (fresh accounts on the demo's own store)."""
    from agent.console.demo_access import DEMO_ACCOUNTS, make_demo_accounts

    password = make_demo_accounts(store)
    console.rule("console")
    console.print(f"[bold]Console: {base}/console/[/bold]  (watch the calls live under Live calls)")
    for name, roles in DEMO_ACCOUNTS.items():
        who = f"[bold]{name}[/bold] ({', '.join(roles)})"
        console.print(f"  sign in as {who} with password [bold]{password}[/bold]")


def _path_for(path: Path, name: str, many: bool) -> Path:
    return path.with_name(f"{path.stem}-{name}{path.suffix}") if many else path


def demo(
    scenario: list[str] | None = typer.Option(
        None, "--scenario", "-s", help="Scenario(s) to play (default: happy_path, opt_out)."
    ),
    locale: str = typer.Option("en-US", help="en-US or zh-CN."),
    transport: str = typer.Option(
        "native",
        help="native, or a telephone gateway played through its fake: twilio (μ-law 8 kHz), "
        "jambonz / freeswitch (L16), asterisk (μ-law 8 kHz). Gateways carry no call-progress "
        "events: the transcript is read from GET /v1/calls after the call.",
    ),
    line: str = typer.Option(
        "continuous",
        help="How the customer's audio reaches the agent: continuous (20 ms frames, silence too), "
        "suppressed (no media while silent, as with silence suppression or VAD on the gateway), "
        "jitter (late frames and bursts, as on a loaded network), or suppressed+jitter.",
    ),
    wav: Path | None = typer.Option(None, help="Write a stereo WAV: customer left, agent right."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the call report as JSON."),
    store: str | None = typer.Option(
        None, help="Store URL for the demo's calls (default: a fresh SQLite file out/demo-store.db)."
    ),
    config: Path | None = typer.Option(None, "--config", "-c", help="Path to config.yaml."),
    with_console: bool = typer.Option(
        False, "--console",
        help="Serve the browser console on --port, print its URL and demo sign-ins, also play the "
        "happy path in the other language, and keep serving after the calls (Ctrl-C stops).",
    ),
    port: int = typer.Option(8080, help="Port of the console with --console (127.0.0.1 only)."),
) -> None:
    cfg = settings(config)
    from agent.demo.runner import fresh_demo_store

    cfg.store.url = store or fresh_demo_store("out/demo-store.db")
    setup_logging("WARNING")
    from agent.demo.links import TRANSPORTS
    from agent.demo.runner import scenarios_for

    if transport not in TRANSPORTS:
        raise fail(f"unknown transport {transport!r}; choose from {', '.join(TRANSPORTS)}")
    from agent.transports.fakes.line import LINES

    if line not in LINES:
        raise fail(f"unknown line {line!r}; choose from {', '.join(LINES)}")
    try:
        chosen = [(locale, s) for s in scenarios_for(locale, scenario)]
    except (ValueError, KeyError) as exc:
        raise fail(str(exc) if isinstance(exc, ValueError) else f"unknown locale {locale!r}") from exc
    if with_console:  # the console shows calls in both languages
        other = "zh-CN" if locale == "en-US" else "en-US"
        chosen += [(other, s) for s in scenarios_for(other, ["happy_path"])]
    for loc in dict.fromkeys(loc for loc, _ in chosen):
        if loc not in cfg.engines.locales:
            cfg.engines.locales = [*cfg.engines.locales, loc]  # type: ignore[list-item]
    ok = asyncio.run(_run(cfg, chosen, transport, wav, json_path, line, port if with_console else None))
    if not ok:
        raise typer.Exit(EXIT_FAILED)


async def _run(cfg: Any, chosen: list[tuple[str, Any]], transport: str, wav: Path | None,
               json_path: Path | None, line: str = "continuous", console_port: int | None = None) -> bool:
    from agent.demo.runner import LoopbackServer, run_scenario, write_json, write_wav
    from agent.runtime import Runtime
    from agent.server.app import create_app

    with console.status("loading models…"):
        runtime = await asyncio.to_thread(Runtime.load, cfg)
    console.print(f"[dim]models loaded in {runtime.load_seconds:.1f}s[/dim]")
    reports = []
    all_ok = True
    cfg.server.console_secret_file = None  # the demo's console sessions end with the process
    async with LoopbackServer(create_app(runtime), port=console_port or 0) as server:
        if console_port is not None:
            _announce_console(server.base, runtime.store)
        for locale, scen in chosen:
            console.rule(f"{scen.name} ({locale}): {scen.description}")
            result = await run_scenario(runtime, server, scen, locale=locale, printer=_printer,
                                        transport=transport, line=line)
            report = result.report
            reports.append(report)
            v2v = sorted(report["voice_to_voice_ms"])
            median = int(statistics.median(v2v)) if v2v else None
            ok = report["outcome"] == scen.expected_outcome
            all_ok &= ok
            console.print(
                f"[bold]{'PASS' if ok else 'FAIL'}[/bold] outcome={report['outcome']} "
                f"(expected {scen.expected_outcome}); voice-to-voice median={median} ms "
                f"worst={v2v[-1] if v2v else None} ms; barge-ins={report['barge_ins']}"
            )
            voices = report.get("voices") or {}
            if voices.get("customer"):
                console.print(f"[dim]voices: agent {voices['agent']}, customer {voices['customer']}[/dim]")
            if wav:
                name = scen.name if locale == chosen[0][0] else f"{scen.name}-{locale}"
                write_wav(_path_for(wav, name, len(chosen) > 1), result.log)
        if console_port is not None:
            if json_path:
                write_json(json_path, reports)
            console.print(f"[bold]The calls are in the console: {server.base}/console/ (Ctrl-C stops)[/bold]")
            with contextlib.suppress(asyncio.CancelledError):  # Ctrl-C: close the server, then exit
                await server.until_stopped()
    runtime.engines.close()
    if json_path:
        write_json(json_path, reports)
    return all_ok
