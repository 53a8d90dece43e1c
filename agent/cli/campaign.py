"""`voice-agent campaign create|import|start|pause|stop|status|report|sim`: outbound campaigns.

`sim` runs locally (no server). Every other command talks to a running server's REST API
with an API key (`--api-key` or VOICE_AGENT_API_KEY), so the CLI is authenticated exactly
as REST is: no key, no change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from agent.cli.common import fail

app = typer.Typer(help="Outbound campaigns: create, import members, start, pause, status, simulate.",
                  no_args_is_help=True)

SERVER = typer.Option(None, "--server", help="base URL of a running server (default: from config)")
API_KEY = typer.Option(None, "--api-key", help="REST API key (default: $VOICE_AGENT_API_KEY)")


@app.command()
def sim(
    customers: int = typer.Option(10_000, min=1, help="simulated customers (half US, half CN)"),
    days: int = typer.Option(30, min=1, max=366, help="days of the campaign"),
    seed: int = typer.Option(7, help="random seed (same seed, same figures)"),
    naive: bool = typer.Option(False, "--naive", help="a dialer that calls each member at 10:00 local daily"),
    compare: bool = typer.Option(False, "--compare", help="run both the scheduler and --naive"),
    json_out: Path | None = typer.Option(None, "--json", help="write the figures here"),
) -> None:
    """Simulate a campaign on a virtual clock through the real scheduler, gate and pacing.

    Example: voice-agent campaign sim --customers 10000 --days 30 --seed 7 --json out/campaign.json
    """
    from agent.campaign.sim.runner import SimConfig, simulate
    from agent.campaign.sim.table import sim_table

    modes = [False, True] if compare else [naive]
    runs = [simulate(SimConfig(customers=customers, days=days, seed=seed, naive=m)) for m in modes]
    console = Console()
    console.print(sim_table(runs))
    for run in runs:
        verdict = "0 violations" if not run["violations"] else f"{run['violations']} VIOLATIONS"
        console.print(f"{run['mode']}: independent checker: {verdict}; abandoned calls: {run['abandoned']}")
        for line in run["violation_examples"][:10]:
            console.print(f"  {line}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        body: Any = runs[0] if len(runs) == 1 else {"scheduler": runs[0], "naive": runs[1]}
        json_out.write_text(json.dumps(body, indent=2), encoding="utf-8")
    if any(run["violations"] or run["abandoned"] for run in runs):
        raise typer.Exit(1)


def _client(server: str | None, api_key: str | None) -> httpx.Client:
    key = api_key or os.environ.get("VOICE_AGENT_API_KEY")
    if not key:
        raise fail("no API key: pass --api-key or set VOICE_AGENT_API_KEY")
    if server is None:
        from agent.config import load_settings

        s = load_settings().server
        server = f"http://{s.host}:{s.port}"
    return httpx.Client(base_url=server.rstrip("/"), headers={"X-API-Key": key}, timeout=30)


def _call(server: str | None, api_key: str | None, method: str, path: str, **kw: Any) -> Any:
    """One REST call; a one-line error and exit 2 on failure."""
    try:
        with _client(server, api_key) as http:
            reply = http.request(method, path, **kw)
    except httpx.HTTPError as exc:
        hint = "start it with `voice-agent serve` or pass --server"
        raise fail(f"cannot reach the server ({exc}); {hint}") from exc
    if reply.status_code >= 400:
        try:
            detail = reply.json().get("detail", reply.text)
        except ValueError:
            detail = reply.text
        raise fail(f"{method} {path} answered {reply.status_code}: {detail}")
    return reply.json()
