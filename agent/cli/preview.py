"""Render every sentence of a script to audio with sample slot values, plus an index.html to listen.

Example: voice-agent preview prompts/zh-CN/repayment_reminder.yaml --out out/preview
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import wave
from pathlib import Path
from typing import Any

import typer

from agent.cli.common import fail, settings


def _engines(locale: str, cfg: Any) -> Any:
    """Just the TTS for one locale, served through Engines.synthesize (no ASR or VAD loaded).

    The zh-CN voice renders through the same disk cache as the server (engines.tts_cache_dir),
    so previewing an edited script renders only the sentences that changed."""
    from agent.engines import Engines, LocaleEngines, _load_tts
    from agent.models.resolver import resolve
    from agent.tts.disk_cache import CachedSynthesizer, ClauseSynthesizer, DiskCache
    from agent.workers import WorkerPool

    model = resolve(
        "tts-en" if locale == "en-US" else "tts-zh", models_dir=cfg.models.dir, overrides=cfg.models.paths
    )
    tts = _load_tts(model, voice=cfg.engines.zh_voice, speed=cfg.engines.zh_speed)
    if cfg.engines.tts_cache_dir is not None and isinstance(tts, ClauseSynthesizer):
        tts = CachedSynthesizer(tts, DiskCache(cfg.engines.tts_cache_dir, cfg.engines.tts_cache_mb << 20))
    return Engines(
        vad=None,  # type: ignore[arg-type]  # preview speaks only: no VAD, no ASR
        locales={locale: LocaleEngines(asr=None, tts=tts)},  # type: ignore[arg-type]
        pool=WorkerPool(cfg.engines.pool_workers, 256),
        models={model.name: model},
    )


def _write_wav(path: Path, pcm: Any, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype("<i2").tobytes())


def _page(title: str, rows: list[tuple[str, str, str, str, int]]) -> str:
    body = "\n".join(
        f"<tr><td><code>{html.escape(say_id)}</code></td><td>{html.escape(state)}</td>"
        f"<td>{html.escape(text)}</td><td>{ms / 1000:.1f}s</td>"
        f'<td><audio controls preload="none" src="{html.escape(wav)}"></audio></td></tr>'
        for say_id, state, text, wav, ms in rows
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}
td{{padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:middle}}
th{{text-align:left}}</style></head>
<body><h1>{html.escape(title)}</h1><p>{len(rows)} utterances, rendered with sample slot values.</p>
<table><tr><th>utterance</th><th>state</th><th>text</th><th>length</th><th>audio</th></tr>
{body}
</table></body></html>
"""


def preview(
    script: Path = typer.Argument(..., help="A script file (prompts/<locale>/<name>.yaml)."),
    out: Path = typer.Option(Path("out/preview"), "--out", "-o", help="Folder for the WAVs and index.html."),
    prompts: Path = typer.Option(Path("prompts"), help="The prompts folder (for sample slot values)."),
    only: list[str] = typer.Option(
        None, "--only", help="Render only utterances whose id starts with this (repeatable), e.g. opening."
    ),
    config: Path = typer.Option(None, "--config", "-c", help="Path to config.yaml."),
) -> None:
    from agent.dialogue.loader import ScriptError, load_script
    from agent.dialogue.presynth import all_says
    from agent.dialogue.samples import sample_slots

    try:
        loaded = load_script(script)
    except ScriptError as exc:
        raise fail(str(exc)) from exc
    cfg = settings(config)
    today = dt.date.today()
    values = sample_slots(loaded, prompts, today)
    says = [(i, t) for i, t in all_says(loaded, values, today=today) if not only or i.startswith(tuple(only))]
    if not says:
        raise fail(f"no utterance id starts with {', '.join(only)}")
    locale = loaded.meta.locale
    try:
        engines = _engines(locale, cfg)
    except Exception as exc:  # MissingModelError and friends
        raise fail(f"cannot load the {locale} voice: {exc}") from exc
    out.mkdir(parents=True, exist_ok=True)

    async def render() -> list[Any]:
        return list(await asyncio.gather(*(engines.synthesize(locale, text) for _, text in says)))

    try:
        speeches = asyncio.run(render())
    finally:
        engines.pool.shutdown(wait=True, cancel_pending=True)
    rows = []
    for (say_id, text), speech in zip(says, speeches, strict=True):
        name = f"{say_id}.wav"
        _write_wav(out / name, speech.pcm16k, speech.sample_rate)
        rows.append((say_id, say_id.split(".")[0], text, name, speech.duration_ms))
    title = f"{loaded.meta.id} v{loaded.meta.version}"
    (out / "index.html").write_text(_page(title, rows), encoding="utf-8")
    typer.echo(f"{len(rows)} utterances rendered to {out}/ (open {out / 'index.html'})")
