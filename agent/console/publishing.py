"""Four-eyes publishing on the store: submit a script text, approve it as another person, bootstrap.

Used by `voice-agent script submit|approve|list`, the console and the runtime at start-up.
Blocking (the store is).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agent.dialogue.approval import MANIFEST, SHIPPED, content_hash, load_manifest, script_name
from agent.dialogue.linter import lint_script
from agent.dialogue.loader import ScriptError, load_script_text
from agent.store.console_store import ConsoleStore, ScriptVersion
from agent.store.errors import Conflict, WrongState


class NotPublishable(ValueError):
    """A text that does not load or lint clean cannot be submitted."""


def check_text(text: str, name: str, prompts_dir: Path) -> tuple[str, str, str]:
    """(use_case, locale, version) of a lint-clean script text; NotPublishable listing the findings."""
    try:
        script = load_script_text(text, name)
    except ScriptError as exc:
        raise NotPublishable("; ".join(str(i) for i in exc.issues)) from exc
    findings = lint_script(script, prompts_dir)
    if findings:
        raise NotPublishable("; ".join(str(f) for f in findings))
    return script.meta.use_case, script.meta.locale, str(script.meta.version)


def resolve(prompts_dir: Path, file_or_name: str) -> tuple[str, Path]:
    """(name, path) for a file path or a name under prompts/; ValueError when it is neither."""
    given = Path(file_or_name)
    path = given if given.is_file() else prompts_dir / file_or_name
    if not path.is_file():
        raise ValueError(f"no script file {file_or_name} (give a path, or a name under {prompts_dir})")
    return script_name(prompts_dir, path), path


def submit(
    cs: ConsoleStore, prompts_dir: Path, name: str, text: str, by: str, now: datetime
) -> ScriptVersion:
    """Submit one text of a script for review, as `by` (its author)."""
    meta = check_text(text, name, prompts_dir)
    return cs.submit_script(name, meta, text, content_hash(text), by, now)


def approve(cs: ConsoleStore, version_id: int, by: str, now: datetime) -> ScriptVersion:
    """Approve a version as `by`; WrongState when `by` is its author (four-eyes)."""
    if by == SHIPPED:
        raise ValueError(f"{SHIPPED!r} is the release's identity; approve under your own name")
    return cs.approve_script(version_id, by, now)


def bootstrap_shipped(
    cs: ConsoleStore, prompts_dir: Path, now: datetime, manifest: Path = MANIFEST
) -> list[str]:
    """Approve, as `shipped`, each file whose text matches the release manifest; the names approved now."""
    done = []
    for name, digest in sorted(load_manifest(manifest).items()):
        path = prompts_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if content_hash(text) != digest or cs.script_approved(name, digest):
            continue
        meta = check_text(text, name, prompts_dir)
        try:
            version = cs.submit_script(name, meta, text, digest, SHIPPED, now)
            if version.status != "approved":
                cs.approve_script(version.id, SHIPPED, now, bootstrap=manifest.name)
        except (Conflict, WrongState):  # another node starting at the same moment did it
            continue
        done.append(name)
    return done
