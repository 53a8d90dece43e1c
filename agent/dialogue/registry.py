"""Scripts the server may serve: every script under prompts/ that loads, passes lint and is approved.

A script that fails is refused (logged with its findings). `reload_if_changed()` polls file
times; an edited script replaces the served one only if it passes, else the old one stays.
With an `approvals` source (the server always has one) a file's text is served only once a
second person approved it (agent/dialogue/approval.py): an unapproved text is a draft, and
the last approved text of that file, read from the store, is what is served.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from agent.dialogue.approval import Approvals, content_hash, script_name
from agent.dialogue.linter import Finding, OfficialCheck, is_script_file, lint_script
from agent.dialogue.loader import ScriptError, load_script_text
from agent.dialogue.script import Script

__all__ = ["ScriptRegistry"]

log = logging.getLogger(__name__)


@dataclass
class ScriptRegistry:
    """Lint-clean scripts keyed by (use_case, locale), reloaded when their files change."""

    prompts_dir: Path
    official: OfficialCheck | None = None  # whether a number written in a script is a registered one
    approvals: Approvals | None = None  # None: every lint-clean file is served (lint, preview, tests)
    scripts: dict[tuple[str, str], Script] = field(default_factory=dict)
    hashes: dict[tuple[str, str], str] = field(default_factory=dict)  # sha256 of each served text
    drafts: dict[str, str] = field(default_factory=dict)  # script name -> hash of its unapproved text
    refused: dict[str, list[Finding]] = field(default_factory=dict)
    _stamps: dict[Path, float] = field(default_factory=dict)
    _owner: dict[Path, tuple[str, str]] = field(default_factory=dict)
    _approved_stamp: tuple[int, str] | None = None

    def __post_init__(self) -> None:
        self.prompts_dir = Path(self.prompts_dir)
        self.reload_if_changed()

    def get(self, use_case: str, locale: str) -> Script | None:
        """The served script for a use case and locale, if any."""
        return self.scripts.get((use_case, locale))

    def _watched(self) -> dict[Path, float]:
        """Every YAML file under prompts/ with its modification time."""
        out: dict[Path, float] = {}
        for path in sorted(self.prompts_dir.rglob("*.y*ml")):
            try:
                out[path] = path.stat().st_mtime_ns / 1e9
            except OSError:
                continue
        return out

    def reload_if_changed(self) -> bool:
        """Re-check changed files; returns True when the set of served scripts changed."""
        now = self._watched()
        data_changed = any(
            p.name in ("prohibited.yaml", "lint.yaml") and self._stamps.get(p) != t for p, t in now.items()
        )
        changed = False
        approved = self.approvals.approvals_stamp() if self.approvals is not None else None
        recheck, self._approved_stamp = approved != self._approved_stamp, approved
        for path, stamp in now.items():
            fresh = self._stamps.get(path) != stamp or data_changed
            known = path in self._owner or script_name(self.prompts_dir, path) in self.drafts
            if not fresh and not (recheck and known):
                continue  # an approval since the last look may change what is served: re-check then
            self._stamps[path] = stamp
            if is_script_file(path):
                changed |= self._load(path, force=fresh)
        for gone in set(self._owner) - set(now):
            key = self._owner.pop(gone)
            log.warning("script file %s was removed; keeping the loaded %s/%s", gone, *key)
            self._stamps.pop(gone, None)
        return changed

    def _approved_text(self, path: Path) -> tuple[str, str] | None:
        """(text, hash) to serve for a file (its last approved text) or None; unapproved disk text: draft."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        digest = content_hash(text)
        if self.approvals is None:
            return text, digest
        name = script_name(self.prompts_dir, path)
        latest = self.approvals.latest_approved(name)  # the most recently approved text is the one served
        if (latest is not None and latest[1] == digest) or self.approvals.script_approved(name, digest):
            self.drafts.pop(name, None)  # the disk text was approved (perhaps since superseded)
            return latest
        if self.drafts.get(name) != digest:
            log.warning("script %s changed on disk to an unapproved text (%s): a draft, not served until "
                        "a second person approves it (voice-agent script submit|approve)", name, digest[:12])
        self.drafts[name] = digest
        return latest

    def _load(self, path: Path, force: bool = True) -> bool:
        """Load and lint one file's approved text; serve it only if clean (unless `force`, once per text)."""
        chosen = self._approved_text(path)
        if chosen is None:
            return False
        text, digest = chosen
        if not force and path in self._owner and self.hashes.get(self._owner[path]) == digest:
            return False  # already serving this text
        try:
            script = load_script_text(text, str(path))
            findings = lint_script(script, self.prompts_dir, official=self.official)
        except ScriptError as exc:
            from agent.dialogue.linter import lint_file

            findings = lint_file(path, self.prompts_dir, official=self.official) or [
                Finding(str(path), i.line, "script-invalid", i.message, "Fix the script.") for i in exc.issues
            ]
            script = None
        if findings:
            self.refused[str(path)] = findings
            kept = " (keeping the previous version)" if path in self._owner else ""
            log.error("script %s refused%s: %s", path, kept, "; ".join(map(str, findings)))
            return False
        assert script is not None
        key = (script.meta.use_case, script.meta.locale)
        other = next((p for p, k in self._owner.items() if k == key and p != path), None)
        if other is not None:
            log.error("script %s refused: %s/%s is already served from %s", path, *key, other)
            return False
        self.refused.pop(str(path), None)
        self._owner[path] = key
        self.scripts[key] = script
        self.hashes[key] = digest
        log.info("script %s/%s version %s (%s) loaded from %s", *key, script.meta.version, digest[:12], path)
        return True
