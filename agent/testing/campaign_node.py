"""One runtime node for multi-node campaign tests: the real server app and dialer, on fake engines.

`python -m agent.testing.campaign_node --config node.yaml --port N --clock-file PATH`
serves what `voice-agent serve` serves with `campaigns.dialer` on (the app of
agent.server.app, the node's dialer from agent.dialer.service.build_dialer, the store the
config names), with two differences that make a test run short: the engines are
agent.testing.fakes.FakeEngines (no model weights; the agent's turns are a second of
audio each, and the customer answers with keys), and the dialer's clock is the wall clock
plus the seconds written in the clock file, which the test moves forward over the waits
between planned attempts (as tests/campaign/test_campaign_e2e.py moves its dialer's clock).
Every node of one test reads the same file, so they share one clock. Calls themselves run
at the speed of their audio, on the wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from agent.config import load_settings
from agent.dialer.service import build_dialer
from agent.logs import configure_logging
from agent.runtime import Runtime
from agent.server.app import create_app
from agent.server.campaigns_api import campaign_store
from agent.server.ws import UVICORN_WS_OPTIONS
from agent.testing.fakes import FakeEngines


def file_clock(path: Path) -> Callable[[], datetime]:
    """The wall clock plus the offset in seconds that `path` holds (written whole, by rename)."""

    def now() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=float(path.read_text()))

    now()  # a missing or unreadable file fails here, at start
    return now


def set_offset(path: Path, seconds: float) -> None:
    """Move every `file_clock(path)` to the wall clock plus `seconds` (atomically)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(repr(seconds))
    os.replace(tmp, path)


async def serve(config: Path, port: int, clock: Callable[[], datetime]) -> None:
    """Serve the node on 127.0.0.1:port until SIGTERM / SIGINT, dialling on `clock`."""
    settings = load_settings(config)
    if settings.campaigns.dialer:
        raise ValueError("leave campaigns.dialer off: this node starts its dialer itself, on its clock")
    configure_logging(settings.logging)
    runtime = await asyncio.to_thread(Runtime.load, settings, engines=FakeEngines(), semantic_nlu=False)
    app = create_app(runtime)
    dialer = build_dialer(app, campaign_store(app))
    dialer.clock = clock
    app.state.dialer = dialer  # the gateways' callback routes find it here
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           log_config=None, ws_max_size=settings.server.max_message_bytes,
                                           **UVICORN_WS_OPTIONS))
    try:
        with campaign_store(app).hold_node(dialer.node_id):  # as the campaigns router's lifespan does
            task = asyncio.create_task(dialer.serve())
            try:
                await server.serve()
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        runtime.store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="the node's config.yaml")
    parser.add_argument("--port", type=int, required=True, help="port to serve on (127.0.0.1)")
    parser.add_argument("--clock-file", type=Path, required=True,
                        help="file holding the seconds the dialer's clock runs ahead of the wall clock")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.config, args.port, file_clock(args.clock_file)))


if __name__ == "__main__":
    main()
