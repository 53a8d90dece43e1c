"""Four-eyes publishing: a text is served only once someone other than its author approved it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.console import publishing
from agent.dialogue.approval import MANIFEST, content_hash, load_manifest, manifest_for
from agent.dialogue.registry import ScriptRegistry
from agent.store.console_store import ConsoleStore
from agent.store.errors import WrongState
from agent.store.store import Store

ROOT = Path(__file__).resolve().parents[2]
KEY = ("repayment_reminder", "en-US")
NAME = "en-US/repayment_reminder.yaml"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    dest = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", dest)
    return dest


@pytest.fixture
def cs(tmp_path: Path) -> ConsoleStore:
    return ConsoleStore(Store.open(f"sqlite:///{tmp_path / 's.db'}", "test-hash-key"))


def test_the_manifest_matches_the_shipped_scripts() -> None:
    assert load_manifest() == manifest_for(ROOT / "prompts"), (
        f"a shipped script changed: if it was reviewed, run `python -m agent.dialogue.approval prompts` "
        f"and commit {MANIFEST.name} with it"
    )


def test_nothing_is_served_before_approval_and_the_author_cannot_approve(
    prompts: Path, cs: ConsoleStore
) -> None:
    registry = ScriptRegistry(prompts, approvals=cs)
    assert registry.get(*KEY) is None and NAME in registry.drafts
    text = (prompts / NAME).read_text(encoding="utf-8")
    version = publishing.submit(cs, prompts, NAME, text, "alice", NOW)
    with pytest.raises(WrongState, match="different reviewer"):
        publishing.approve(cs, version.id, "alice", NOW)
    registry.reload_if_changed()
    assert registry.get(*KEY) is None
    publishing.approve(cs, version.id, "bob", NOW)
    registry.reload_if_changed()
    assert registry.get(*KEY) is not None and registry.hashes[KEY] == content_hash(text)
    kinds = [(e.kind, e.data) for e in cs.store.audit_events() if e.kind.startswith("script_")]
    assert [k for k, _ in kinds] == ["script_submitted", "script_approved"]
    assert '"submitted_by":"alice"' in kinds[1][1].replace(" ", "") and "bob" in kinds[1][1]
    assert content_hash(text) in kinds[1][1]


def test_a_file_edited_on_disk_is_a_draft_and_the_approved_text_stays_served(
    prompts: Path, cs: ConsoleStore
) -> None:
    assert NAME in publishing.bootstrap_shipped(cs, prompts, NOW)
    registry = ScriptRegistry(prompts, approvals=cs)
    served = registry.get(*KEY)
    assert served is not None
    path = prompts / NAME
    edited = path.read_text(encoding="utf-8").replace("Goodbye", "Bye now")
    assert edited != path.read_text(encoding="utf-8")
    path.write_text(edited, encoding="utf-8")
    registry.reload_if_changed()
    assert registry.drafts[NAME] == content_hash(edited)
    assert "Bye now" not in str(registry.get(*KEY).model_dump())  # type: ignore[union-attr]
    assert registry.hashes[KEY] == load_manifest()[NAME]


def test_bootstrap_skips_a_file_that_differs_from_the_manifest(prompts: Path, cs: ConsoleStore) -> None:
    path = prompts / NAME
    path.write_text(path.read_text(encoding="utf-8") + "\n# local edit\n", encoding="utf-8")
    approved = publishing.bootstrap_shipped(cs, prompts, NOW)
    assert NAME not in approved and len(approved) == 3
    assert ScriptRegistry(prompts, approvals=cs).get(*KEY) is None
