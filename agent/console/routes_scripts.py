"""Scripts under four-eyes approval: what is served, drafts on disk, versions to approve; submit, approve."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

from agent.console import publishing
from agent.console.web import back, console, form, need, page
from agent.dialogue.approval import content_hash, script_name
from agent.dialogue.linter import is_script_file
from agent.server.roles import Permission as P
from agent.store import StoreError

router = APIRouter()
HERE = "/console/scripts"


@dataclass(frozen=True, slots=True)
class FileState:
    """One script file: its disk text's hash, the hash served, whether the disk text is a draft."""

    name: str
    disk_hash: str
    served_hash: str | None
    draft: bool


def prompts_dir(request: Request) -> Path:
    return Path(console(request).runtime.settings.dialogue.prompts_dir)


def file_states(runtime: object, prompts: Path) -> list[FileState]:
    registry = getattr(runtime, "registry", None)
    out = []
    for path in sorted(prompts.rglob("*.y*ml")):
        if not is_script_file(path):
            continue
        name = script_name(prompts, path)
        owner = registry._owner.get(path) if registry is not None else None
        served = registry.hashes.get(owner) if registry is not None and owner else None
        disk = content_hash(path.read_text(encoding="utf-8"))
        out.append(FileState(name, disk, served, disk != served))
    return out


@router.get("/scripts")
async def scripts(request: Request, note: str = "") -> Response:
    await need(request, P.SCRIPTS_SUBMIT, P.SCRIPTS_APPROVE)
    c = console(request)
    files = await asyncio.to_thread(file_states, c.runtime, prompts_dir(request))
    versions = await asyncio.to_thread(c.store.script_versions)
    return page(request, "scripts.html", files=files, versions=versions, note=note)


async def _reload(request: Request) -> None:
    registry = getattr(console(request).runtime, "registry", None)
    if registry is not None:
        await asyncio.to_thread(registry.reload_if_changed)


@router.post("/scripts/submit")
async def submit(request: Request) -> Response:
    """Submit a text for review: the one sent from the workbench, or else the file's text on disk."""
    user = await need(request, P.SCRIPTS_SUBMIT)
    f = await form(request)
    prompts = prompts_dir(request)
    try:
        name, path = publishing.resolve(prompts, f.get("name", ""))
        if not path.resolve().is_relative_to(prompts.resolve()):
            raise ValueError("only scripts under the prompts folder can be submitted")
        text = f["text"].replace("\r\n", "\n") if f.get("text") else path.read_text(encoding="utf-8")
        version = await asyncio.to_thread(publishing.submit, console(request).store, prompts, name, text,
                                          user.name, datetime.now(UTC))
    except (ValueError, StoreError) as exc:
        return back(HERE, f"not submitted: {exc}")
    return back(HERE, f"version {version.id} of {name} ({version.content_hash[:12]}) is {version.status}; "
                      f"a reviewer other than {version.submitted_by} must approve it")


@router.post("/scripts/approve/{version_id}")
async def approve(request: Request, version_id: int) -> Response:
    user = await need(request, P.SCRIPTS_APPROVE)
    await form(request)
    try:
        version = await asyncio.to_thread(publishing.approve, console(request).store, version_id, user.name,
                                          datetime.now(UTC))
    except (ValueError, StoreError) as exc:
        return back(HERE, f"not approved: {exc}")
    await _reload(request)
    return back(HERE, f"version {version.id} of {version.name} approved by {user.name}; now served")
