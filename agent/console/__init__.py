"""The browser console (/console): live calls, call records, audit, suppression, campaigns, scripts.

`install(app, runtime)` mounts it on the service's FastAPI app. Every page and action needs
a signed-in console account whose roles grant the action's permission (agent/server/roles.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from agent.console.sessions import Sessions, load_secret
from agent.console.web import HERE, BadCsrf, Console, Forbidden, SignInRequired, add_security_headers, page
from agent.store.console_store import ConsoleStore

STATIC = {"console.js": "text/javascript", "console.css": "text/css"}


def routers() -> list[Any]:
    """The console's routers (each mounted under /console)."""
    from agent.console import (
        routes_auth,
        routes_live,
        routes_records,
        routes_scripts,
        routes_suppression,
        routes_workbench,
    )

    return [m.router for m in (routes_auth, routes_records, routes_suppression, routes_live, routes_scripts,
                               routes_workbench)]


def install(app: FastAPI, runtime: Any) -> None:
    """Add the console's routes, error pages and security headers to the app."""
    secret_file = runtime.settings.server.console_secret_file
    app.state.console = Console(runtime, ConsoleStore(runtime.store),
                                Sessions(load_secret(Path(secret_file) if secret_file else None)))
    for router in routers():
        app.include_router(router, prefix="/console", include_in_schema=False)

    @app.get("/console", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/console/", 307)

    @app.get("/console/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC:
            return Response(status_code=404)
        return FileResponse(HERE / "static" / name, media_type=STATIC[name])

    def wants_json(request: Request) -> bool:
        return "application/json" in request.headers.get("accept", "") or request.method != "GET"

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        if wants_json(request) and request.method != "GET":
            return JSONResponse({"error": "sign in first"}, 401)
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/console/login?next={target}", 303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Forbidden)
        request.state.console_user = exc.user
        return page(request, "error.html", 403, title="Not allowed",
                    message=f"Your roles ({', '.join(exc.user.roles)}) do not include "
                            f"{' or '.join(p.value for p in exc.wanted)}.")

    async def bad_csrf(request: Request, exc: Exception) -> Response:
        return page(request, "error.html", 403, title="Form expired",
                    message="The security token did not match your session. Reload the page and retry.")

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(BadCsrf, bad_csrf)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if request.url.path.startswith("/console"):
            add_security_headers(response)
        return response
