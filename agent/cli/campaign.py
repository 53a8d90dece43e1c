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
    """One REST call's JSON; a one-line error and exit 2 on failure."""
    return _request(server, api_key, method, path, **kw).json()


def _request(server: str | None, api_key: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
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
    return reply


@app.command()
def create(
    spec: Path = typer.Argument(..., exists=True, dir_okay=False, help="the campaign as YAML or JSON"),
    server: str | None = SERVER, api_key: str | None = API_KEY,
) -> None:
    """Create a campaign (status draft) from its spec; prints its id.

    The spec names use_case, locale, purpose, jurisdiction, caller_ids, window, pace, retry,
    daily_cap and gateway (see docs/campaigns.md).
    """
    import yaml

    try:
        body = yaml.safe_load(spec.read_text(encoding="utf-8"))  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise fail(f"{spec}: not YAML or JSON: {exc}") from exc
    typer.echo(_call(server, api_key, "POST", "/v1/campaigns", json=body)["campaign_id"])


@app.command("import")
def import_members(
    campaign_id: str,
    csv_file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                    help="CSV with a header: phone,name,timezone[,debt_id,slot columns...]"),
    server: str | None = SERVER, api_key: str | None = API_KEY,
) -> None:
    """Add members from a CSV file, all or nothing."""
    body = csv_file.read_bytes()
    got = _call(server, api_key, "POST", f"/v1/campaigns/{campaign_id}/members", content=body,
                headers={"content-type": "text/csv"})
    typer.echo(f"imported {got['imported']} members")


def _control(action: str, campaign_id: str, server: str | None, api_key: str | None) -> None:
    got = _call(server, api_key, "POST", f"/v1/campaigns/{campaign_id}/{action}")
    typer.echo(f"{got['campaign_id']}: {got['status']}")


@app.command()
def start(campaign_id: str, server: str | None = SERVER, api_key: str | None = API_KEY) -> None:
    """Start (or resume) a campaign: every member not yet planned gets a first attempt."""
    _control("start", campaign_id, server, api_key)


@app.command()
def pause(campaign_id: str, server: str | None = SERVER, api_key: str | None = API_KEY) -> None:
    """Pause a campaign: nothing more is claimed; calls in flight finish."""
    _control("pause", campaign_id, server, api_key)


@app.command()
def stop(campaign_id: str, server: str | None = SERVER, api_key: str | None = API_KEY) -> None:
    """Stop a campaign for good: its planned attempts are cancelled."""
    _control("stop", campaign_id, server, api_key)


@app.command()
def status(
    campaign_id: str | None = typer.Argument(None, help="one campaign (default: list them all)"),
    as_json: bool = typer.Option(False, "--json", help="print the REST JSON"),
    server: str | None = SERVER, api_key: str | None = API_KEY,
) -> None:
    """Campaigns and their status, or one campaign's progress as a table."""
    from rich.table import Table

    path = "/v1/campaigns" if campaign_id is None else f"/v1/campaigns/{campaign_id}/progress"
    got = _call(server, api_key, "GET", path)
    if as_json:
        typer.echo(json.dumps(got, indent=2))
        return
    table = Table(title=None if campaign_id is None else f"{got['name']} ({got['status']})")
    if campaign_id is None:
        for col in ("campaign_id", "name", "status"):
            table.add_column(col)
        for row in got:
            table.add_row(row["campaign_id"], row["name"], row["status"])
    else:
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in got.items():
            if key not in ("campaign_id", "name", "status"):
                shown = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else value
                table.add_row(key, str(shown) if shown != "" else "-")
    Console().print(table)


@app.command()
def report(
    campaign_id: str,
    png: Path = typer.Option(..., "--png", help="write the report chart here"),
    server: str | None = SERVER, api_key: str | None = API_KEY,
) -> None:
    """Write a campaign's report chart (attempts, contacts, results, refusals) as a PNG."""
    reply = _request(server, api_key, "GET", f"/v1/campaigns/{campaign_id}/report.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(reply.content)
    typer.echo(f"wrote {png}")
