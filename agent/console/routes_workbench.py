"""The script workbench: edit with the real linter inline, hear an utterance, diff with the published text."""

from __future__ import annotations

import asyncio
import difflib
import io
import wave
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from agent.console.routes_scripts import prompts_dir
from agent.console.web import check_header_csrf, console, need, page
from agent.dialogue import presynth
from agent.dialogue.linter import lint_text
from agent.dialogue.loader import ScriptError, load_script_text
from agent.dialogue.samples import sample_slots
from agent.server.roles import Permission as P

router = APIRouter()
MAX_TEXT = 256 * 1024


async def _body(request: Request) -> dict[str, Any]:
    """The JSON body of a workbench fetch, after the CSRF header check."""
    check_header_csrf(request)
    data = await request.json()
    if not isinstance(data, dict) or len(str(data.get("text", ""))) > MAX_TEXT:
        raise ValueError("send {name, text} with a script of at most 256 KiB")
    return data


@router.get("/scripts/edit")
async def edit(request: Request, name: str, version: int | None = None) -> Response:
    await need(request, P.SCRIPTS_SUBMIT, P.SCRIPTS_APPROVE)
    c, prompts = console(request), prompts_dir(request)
    path = (prompts / name).resolve()
    if not path.is_relative_to(prompts.resolve()) or not path.is_file():
        return page(request, "error.html", 404, title="No such script", message=f"No script {name}.")
    text = (await asyncio.to_thread(c.store.script_content, version) if version is not None
            else path.read_text(encoding="utf-8"))
    return page(request, "workbench.html", name=name, text=text)


@router.post("/scripts/lint")
async def lint(request: Request) -> Response:
    await need(request, P.SCRIPTS_SUBMIT, P.SCRIPTS_APPROVE)
    data = await _body(request)
    prompts = prompts_dir(request)
    name = str(data.get("name", "script.yaml"))
    findings = await asyncio.to_thread(lint_text, str(data.get("text", "")), name, prompts)
    says: list[dict[str, str]] = []
    try:
        script = load_script_text(str(data.get("text", "")), name)
        slots = sample_slots(script, prompts, date.today())
        says = [{"id": i, "text": t} for i, t in presynth.all_says(script, slots, today=date.today())]
    except (ScriptError, ValueError, OSError):
        pass
    return JSONResponse({
        "findings": [{"rule": f.rule, "line": f.line, "message": f.message, "fix": f.fix} for f in findings],
        "says": says,
    })


@router.post("/scripts/diff")
async def diff(request: Request) -> Response:
    await need(request, P.SCRIPTS_SUBMIT, P.SCRIPTS_APPROVE)
    data = await _body(request)
    name = str(data.get("name", ""))
    published = await asyncio.to_thread(console(request).store.latest_approved, name)
    old = published[0] if published else ""
    new = str(data.get("text", "")).splitlines(keepends=True)
    lines = difflib.unified_diff(old.splitlines(keepends=True), new, f"published/{name}", f"edited/{name}")
    return JSONResponse({"published": published[1] if published else None, "diff": "".join(lines)})


def _wav(pcm: Any, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


@router.post("/scripts/hear")
async def hear(request: Request) -> Response:
    """One utterance of the edited text with sample slots, spoken by the real TTS of its locale (WAV)."""
    await need(request, P.SCRIPTS_SUBMIT, P.SCRIPTS_APPROVE)
    data = await _body(request)
    prompts, runtime = prompts_dir(request), console(request).runtime
    try:
        script = load_script_text(str(data.get("text", "")), str(data.get("name", "script.yaml")))
    except ScriptError as exc:
        return JSONResponse({"error": f"the script does not load: {exc.issues[0]}"}, 422)
    says = dict(presynth.all_says(script, sample_slots(script, prompts, date.today()), today=date.today()))
    text = says.get(str(data.get("say", "")))
    if text is None:
        return JSONResponse({"error": "no such utterance in this text"}, 404)
    locale = script.meta.locale
    if runtime.engines is None or locale not in runtime.nlu:
        return JSONResponse({"error": f"{locale} is not loaded on this server (engines.locales)"}, 409)
    speech = await runtime.engines.synthesize(locale, text, priority="low")
    return Response(_wav(speech.pcm16k, speech.sample_rate), media_type="audio/wav")
