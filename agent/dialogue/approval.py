"""Four-eyes publishing, the pure part: a script's name and content hash, the approval source, the manifest.

A script version is one exact text of a file under prompts/, named by its path there
(`en-US/repayment_reminder.yaml`) and identified by the sha256 of its UTF-8 text. The
server serves a text only once an `Approvals` source says that name and hash were approved
by someone other than their author (agent/store/script_versions.py); a file changed on disk
is a draft and the last approved text stays served.

The shipped scripts are approved by the release itself: `shipped_scripts.yaml` next to this
module lists the hash of each shipped text (changed only in a reviewed commit; regenerate
with `python -m agent.dialogue.approval`). At start-up, when dialogue.approve_shipped is on, a
file whose text matches its manifest hash is approved once under the identity `shipped`,
with the manifest named in the audit event.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Protocol

import yaml

MANIFEST = Path(__file__).with_name("shipped_scripts.yaml")
SHIPPED = "shipped"  # the identity of the release in the audit chain


class Approvals(Protocol):
    """Which script texts were approved (the store answers; blocking)."""

    def script_approved(self, name: str, content_hash: str) -> bool: ...

    def latest_approved(self, name: str) -> tuple[str, str] | None: ...

    def approvals_stamp(self) -> tuple[int, str]: ...  # changes whenever any approval is added


def content_hash(text: str) -> str:
    """sha256 hex of the script's UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def script_name(prompts_dir: Path, path: Path) -> str:
    """A script's name: its path under prompts/, with forward slashes."""
    try:
        return path.resolve().relative_to(prompts_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def load_manifest(path: Path = MANIFEST) -> dict[str, str]:
    """name -> sha256 of every shipped script text (empty when there is no manifest)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in (data.get("scripts") or {}).items()}


def manifest_for(prompts_dir: Path) -> dict[str, str]:
    """The manifest the shipped prompts/ would have now (name -> hash of each script file)."""
    from agent.dialogue.linter import is_script_file

    return {
        script_name(prompts_dir, p): content_hash(p.read_text(encoding="utf-8"))
        for p in sorted(prompts_dir.rglob("*.y*ml")) if is_script_file(p)
    }


def write_manifest(prompts_dir: Path, path: Path = MANIFEST) -> dict[str, str]:
    """Rewrite the manifest from prompts/ (a reviewed commit must carry the result)."""
    scripts = manifest_for(prompts_dir)
    header = ("# The shipped script texts the release approves (agent/dialogue/approval.py).\n"
              "# Regenerate: `python -m agent.dialogue.approval prompts`, in the commit that edits them.\n")
    path.write_text(header + yaml.safe_dump({"scripts": scripts}, sort_keys=True), encoding="utf-8")
    return scripts


if __name__ == "__main__":
    written = write_manifest(Path(sys.argv[1] if len(sys.argv) > 1 else "prompts"))
    print(f"{MANIFEST}: {len(written)} scripts")
