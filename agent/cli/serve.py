"""Run the server: gateway WebSocket paths, REST API, /healthz, /readyz, /metrics.

Off loopback it refuses to start while a shipped default secret is configured.
Example: voice-agent serve --port 8080
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import typer
import uvicorn

from agent.cli.common import fail, settings
from agent.server.default_secrets import is_loopback, refusal, shipped_in_use


def check_port(host: str, port: int) -> None:
    """OSError unless host:port can be bound now (SO_REUSEADDR, as uvicorn binds: TIME-WAIT is fine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def serve(
    host: str | None = typer.Option(None, help="Address to bind (default: server.host)."),
    port: int | None = typer.Option(None, help="Port to bind (default: server.port)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Path to config.yaml."),
) -> None:
    cfg = settings(config)
    from agent.logs import configure_logging

    configure_logging(cfg.logging)
    bind_host, bind_port = host or cfg.server.host, port if port is not None else cfg.server.port
    found = shipped_in_use(cfg)
    if found and not is_loopback(bind_host):
        raise fail(refusal(bind_host, found))
    try:
        check_port(bind_host, bind_port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise fail(f"port {bind_port} on {bind_host} is in use; pick another with --port") from exc
        raise fail(f"cannot bind {bind_host}:{bind_port}: {exc.strerror}") from exc
    from agent.models.resolver import MissingModelError
    from agent.runtime import Runtime
    from agent.server.app import create_app

    try:
        runtime = Runtime.load(cfg)
    except MissingModelError as exc:
        raise fail(str(exc)) from exc
    from agent.compliance.checkpoint import CheckpointError
    from agent.server.checkpoints import CheckpointWriter

    try:
        checkpoints = CheckpointWriter.from_settings(cfg, runtime.store)
    except (CheckpointError, OSError) as exc:
        raise fail(f"audit signing key: {exc}") from exc
    loaded = f"models loaded in {runtime.load_seconds:.1f}s"
    typer.echo(f"voice-agent: {loaded}; serving on {bind_host}:{bind_port}")
    app = create_app(runtime, checkpoints=checkpoints)
    from agent.server.ws import UVICORN_WS_OPTIONS
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning", log_config=None,
                ws_max_size=cfg.server.max_message_bytes, **UVICORN_WS_OPTIONS)
