"""One runtime node for multi-node campaign tests: the real server app and dialer, on fake engines.

`python -m agent.testing.campaign_node --config node.yaml --port N --epoch E --start ISO --speed K`
serves what `voice-agent serve` serves with `campaigns.dialer` on (the app of
agent.server.app, the node's dialer from agent.dialer.service.build_dialer, the store the
config names), with two differences that make a test run short: the engines are
agent.testing.fakes.FakeEngines (no model weights; the agent's turns are a second of
audio each, and the customer answers with keys), and the dialer's clock runs `speed` times
the wall clock from `start` (taken at wall time `epoch`), so the retries of a campaign day
fall due in seconds. Every node of one test gets the same epoch, start and speed, so they
share one clock. Calls themselves run at the speed of their audio, on the wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
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
from agent.testing.fakes import FakeEngines


def fast_clock(epoch: float, start: datetime, speed: float) -> Callable[[], datetime]:
    """A clock that reads `start` at wall time `epoch` and then runs `speed` times as fast."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    return lambda: start + timedelta(seconds=(time.time() - epoch) * speed)


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
                                           log_config=None, ws_max_size=settings.server.max_message_bytes))
    task = asyncio.create_task(dialer.serve())
    try:
        await server.serve()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        runtime.store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="the node's config.yaml")
    parser.add_argument("--port", type=int, required=True, help="port to serve on (127.0.0.1)")
    parser.add_argument("--epoch", type=float, default=None, help="wall time (Unix s) the clock reads --start")
    parser.add_argument("--start", default=None, help="what the dialer's clock reads at --epoch (ISO, UTC)")
    parser.add_argument("--speed", type=float, default=1.0, help="how many times faster than the wall clock")
    args = parser.parse_args(argv)
    epoch = time.time() if args.epoch is None else args.epoch
    start = datetime.fromisoformat(args.start) if args.start else datetime.fromtimestamp(epoch, UTC)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    asyncio.run(serve(args.config, args.port, fast_clock(epoch, start, args.speed)))


if __name__ == "__main__":
    main()
