"""The FastAPI application: transport WebSocket paths, REST API, health and metrics."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from agent.console import install as install_console
from agent.server.api import router
from agent.server.auth import OpsGuard
from agent.server.campaigns_api import router as campaigns_router
from agent.server.checkpoints import CheckpointWriter
from agent.server.errors import install_error_handlers
from agent.server.lifecycle import lifespan
from agent.server.metrics import Metrics
from agent.server.ws import run_call_socket
from agent.server.ws_upgrade import upgrade_headers
from agent.transports import ADAPTERS

log = logging.getLogger(__name__)


def create_app(runtime: Any, *, checkpoints: CheckpointWriter | None = None) -> FastAPI:
    """Build the app around a loaded `Runtime` (models, scripts, store); `checkpoints` signs the audit."""
    app = FastAPI(
        title="voice-agent",
        summary="A compliant voice-agent runtime for consumer-finance calls.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app, runtime.settings.server.max_body_bytes)
    app.add_middleware(OpsGuard)
    app.state.runtime = runtime
    app.state.checkpoints = checkpoints
    app.state.settings = runtime.settings
    app.state.store = runtime.store
    if runtime.metrics is None:
        runtime.metrics = Metrics()
    app.state.metrics = runtime.metrics
    if runtime.engines is not None:
        runtime.metrics.bind_engines(runtime.engines)

    app.include_router(router)
    app.include_router(campaigns_router)
    install_console(app, runtime)  # /console: sign-in with roles (agent/console)

    def _make_ws_route(name: str, adapter_cls: type) -> None:
        async def route(ws: WebSocket) -> None:
            adapter = adapter_cls(headers=upgrade_headers(ws.scope), query=dict(ws.query_params))
            await run_call_socket(ws, adapter, runtime)  # counts active_calls once the call is admitted

        app.add_api_websocket_route(f"/ws/{name}", route, name=f"ws_{name}")

    transports = runtime.settings.transports
    if transports.twilio_auth_token and not runtime.settings.server.public_url:
        log.warning("transports.twilio_auth_token is set but server.public_url is empty: every Twilio "
                    "stream will be refused; set server.public_url to the wss:// base Twilio dials")

    for name, adapter_cls in ADAPTERS.items():
        _make_ws_route(name, adapter_cls)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """Ready only when models are loaded and warmed up (agent.warmup) and the store answers."""
        store_ok = await run_in_threadpool(runtime.store.healthy)
        models_ok = runtime.ready
        ready = store_ok and models_ok
        return JSONResponse(
            {"ready": ready, "store": store_ok, "models": models_ok, "warm_up": runtime.warmth,
             "warm_up_s": round(runtime.warm_report.seconds, 2) if runtime.warm_report else None},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def metrics(request: Request) -> PlainTextResponse:
        """Prometheus metrics."""
        body, content_type = runtime.metrics.render()
        return PlainTextResponse(body, media_type=content_type)

    return app
