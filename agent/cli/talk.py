"""Talk to the agent through your microphone and speakers: a live call on the native protocol.

Starts the server in this process on loopback (as `voice-agent demo` does) unless --url names
a running one, asks the pre-call gate for a call, and shows the transcript, intents, state and
per-turn latency live. Half-duplex by default (the mic sends silence while the agent speaks);
use --headset when the speaker cannot reach the microphone. Ctrl-C hangs up.

Example: voice-agent talk --locale en-US --input-device pulse --output-device pulse
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from agent.cli.common import EXIT_FAILED, fail, settings, setup_logging

console = Console(highlight=False)


def _list_devices() -> None:
    from agent.talk.devices import list_devices

    table = Table("index", "name", "host API", "in", "out", "rate", "default")
    for d in list_devices():
        default = " ".join(k for k, on in (("input", d.default_input), ("output", d.default_output)) if on)
        table.add_row(str(d.index), d.name, d.hostapi, str(d.inputs), str(d.outputs), str(d.default_rate),
                      default)
    console.print(table)


class Screen:
    """Prints the call as it happens; the status line shows who has the floor and the running transcript."""

    def __init__(self) -> None:
        self.status = console.status("connecting…")

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        stamp = f"[dim]{event.get('ms', 0) / 1000:6.2f}s[/dim]"
        if kind == "started":
            console.print(f"{stamp} [bold]call {event.get('call_id')} started — speak after the agent[/bold]")
        elif kind == "agent":
            console.print(
                f"{stamp} [bold cyan]agent   [/] {event['text']}  [dim]state={event.get('state')}[/dim]"
            )
        elif kind == "transcript" and not event.get("final"):
            self.status.update(f"hearing: {event.get('text') or '…'}")
        elif kind == "transcript":
            console.print(f"{stamp} [bold green]you     [/] {event.get('text') or '…'}  "
                          f"[dim]intent={event.get('intent')}[/dim]")
        elif kind == "turn":
            console.print(f"{stamp} [yellow]  turn: voice-to-voice {event.get('voice_to_voice_ms')} ms "
                          f"(endpoint {event.get('endpoint_ms')} ms, asr {event.get('asr_ms')} ms)[/yellow]")
        elif kind == "barge_in":
            heard = event.get("heard_ms")
            console.print(f"{stamp} [magenta]  barge-in: agent stopped after {heard} ms[/magenta]")
        elif kind == "opt_out":
            console.print(f"{stamp} [red]  opt-out persisted in {event.get('persisted_ms')} ms[/red]")
        elif kind == "muted":
            self.status.update("agent speaking (microphone muted)")
        elif kind == "listening":
            console.print(f"{stamp} [dim]  listening…[/dim]")
            self.status.update("listening — speak now")
        elif kind == "hangup":
            console.print(f"{stamp} [bold]call ended: {event.get('reason')}[/bold]")
        elif kind == "error":
            console.print(f"{stamp} [bold red]error: {event.get('message')}[/bold red]")


@contextlib.asynccontextmanager
async def _local_server(cfg: Any) -> AsyncIterator[tuple[str, str]]:
    """Load the runtime and serve it on loopback; yields (http base, ws url)."""
    from agent.demo.runner import LoopbackServer, fresh_demo_store
    from agent.runtime import Runtime
    from agent.server.app import create_app

    cfg.store.url = fresh_demo_store("out/talk-store.db")  # the local call's own gate and records
    with console.status("loading models…"):
        runtime = await asyncio.to_thread(Runtime.load, cfg)
    console.print(f"[dim]models loaded in {runtime.load_seconds:.1f}s[/dim]")
    try:
        async with LoopbackServer(create_app(runtime)) as server:
            yield server.base, f"ws://127.0.0.1:{server.port}/ws/native"
    finally:
        runtime.engines.close()


@contextlib.asynccontextmanager
async def _remote_server(url: str) -> AsyncIterator[tuple[str, str]]:
    """A server already running at a ws:// URL (its REST API on the same host and port)."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise fail(f"--url must look like ws://HOST:PORT/ws/native, got {url!r}")
    yield f"{scheme}://{parts.netloc}", url if parts.path not in ("", "/") else f"{url.rstrip('/')}/ws/native"


async def _call(cfg: Any, url: str | None, api_key: str, locale: str, script: str,
                devices: tuple[int | None, int | None], headset: bool) -> str | None:
    from agent.demo.runner import request_call
    from agent.talk.client import TalkClient

    screen = Screen()
    servers = _remote_server(url) if url else _local_server(cfg)
    async with servers as (base, ws_url):
        try:
            grant = await request_call(base, api_key, locale, script)
        except Exception as exc:  # noqa: BLE001 - any refusal or connection error ends here
            raise fail(f"could not get a call from {base}: {exc}", EXIT_FAILED) from exc
        start = {"type": "start", "call_id": grant["call_id"], "token": grant["token"], "sample_rate": 16000}
        client = TalkClient(ws_url, start, input_device=devices[0], output_device=devices[1],
                            headset=headset, on_event=screen)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, client.hang_up)  # after uvicorn's own handler
        try:
            with screen.status:
                result = await client.run()
        finally:
            loop.remove_signal_handler(signal.SIGINT)
    return result.outcome


def talk(
    script: str = typer.Option("repayment_reminder", "--script", help="Use case of the script to run."),
    locale: str = typer.Option("en-US", "--locale", "-l", help="en-US or zh-CN."),
    input_device: str | None = typer.Option(None, "--input-device", help="Microphone: index or name."),
    output_device: str | None = typer.Option(None, "--output-device", help="Speaker: index or name."),
    list_devices: bool = typer.Option(False, "--list-devices", help="List audio devices and exit."),
    headset: bool = typer.Option(
        False, "--headset", help="Full duplex: keep the mic open while the agent speaks."
    ),
    url: str | None = typer.Option(
        None, "--url", help="Talk to a running server, e.g. ws://127.0.0.1:8080/ws/native."
    ),
    api_key: str | None = typer.Option(None, "--api-key", help="REST API key (default: first in config)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Path to config.yaml."),
) -> None:
    from agent.talk.devices import AudioUnavailable, pick

    try:
        if list_devices:
            _list_devices()
            return
        devices = (pick(input_device, "input"), pick(output_device, "output"))
    except AudioUnavailable as exc:
        raise fail(str(exc)) from exc
    cfg = settings(config)
    setup_logging("WARNING")
    if locale not in ("en-US", "zh-CN"):
        raise fail(f"unknown locale {locale!r}; choose en-US or zh-CN")
    if locale not in cfg.engines.locales:
        cfg.engines.locales = [*cfg.engines.locales, locale]  # type: ignore[list-item]
    key = api_key or cfg.server.api_keys[0]
    try:
        outcome = asyncio.run(_call(cfg, url, key, locale, script, devices, headset))
    except KeyboardInterrupt:
        console.print("[bold]hung up[/bold]")
        return
    except OSError as exc:
        raise fail(f"{exc}; check --url and that the server is running", EXIT_FAILED) from exc
    if outcome in (None, "error"):
        raise typer.Exit(EXIT_FAILED)
