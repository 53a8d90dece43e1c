"""Signed checkpoints in the store and the CLI: a consistent rewrite of the whole chain is caught.

The tamper test rewrites every audit row and the head row so that the hash chain verifies by
itself (what an insider with write access can do), then shows that `audit verify --checkpoint`
against a checkpoint exported before the rewrite exits 1.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.audit import app
from agent.compliance import audit, checkpoint
from agent.server.checkpoints import CheckpointWriter, load_or_create_key
from agent.store import Store

NOW = datetime(2026, 12, 1, 14, 40, tzinfo=UTC)


def _fill(store: Store, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        store.record_event(None, "call_granted", {"i": i, "detail": "2026-12-01 14:40 local"}, NOW)


def _rewrite_everything(store: Store, note: str) -> None:
    """An insider's rewrite: new data in every row, every hash recomputed, the head row updated."""
    events = store.audit_events()
    seq, prev = 0, audit.GENESIS
    with store._engine.begin() as conn:
        for ev in events:
            data = json.loads(ev.data)
            data["detail"] = note
            forged = audit.next_event(seq, prev, ev.kind, data, datetime.now(UTC), ev.call_id)
            conn.exec_driver_sql(
                "UPDATE audit_events SET at = ?, data = ?, prev_hash = ?, hash = ? WHERE seq = ?"
                if store.dialect == "sqlite"
                else "UPDATE audit_events SET at = %s, data = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                (forged.at, forged.data, forged.prev_hash, forged.hash, ev.seq),
            )
            seq, prev = forged.seq, forged.hash
        conn.exec_driver_sql(
            "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"
            if store.dialect == "sqlite"
            else "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1",
            (seq, prev),
        )


@pytest.fixture
def cli_env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOICE_AGENT_STORE__URL", store_url)
    monkeypatch.setenv("VOICE_AGENT_STORE__PHONE_HASH_KEY", "test-key")
    monkeypatch.setenv("VOICE_AGENT_CONFIG", "/nonexistent/config.yaml")
    key_file = tmp_path / "keys" / "audit.key"
    monkeypatch.setenv("VOICE_AGENT_COMPLIANCE__CHECKPOINT_KEY_FILE", str(key_file))
    monkeypatch.setenv("VOICE_AGENT_COMPLIANCE__NODE_ID", "node-a")
    return key_file


def test_rewrite_of_whole_chain_and_head_fails_against_earlier_checkpoint(
    store: Store, cli_env: Path, tmp_path: Path
) -> None:
    _fill(store, 8)
    runner = CliRunner()
    exported = tmp_path / "cp.json"
    result = runner.invoke(app, ["checkpoint", "--out", str(exported)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(cli_env.stat().st_mode) == 0o600  # the key was created private
    public = checkpoint.from_json(exported.read_text()).public_key
    _fill(store, 3, start=8)  # the chain grows after the checkpoint: still fine
    ok = runner.invoke(app, ["verify", "--checkpoint", str(exported), "--public-key", public])
    assert ok.exit_code == 0, ok.output
    assert "2 checkpoint(s) agree" in ok.output  # the exported one and its stored copy

    _rewrite_everything(store, "nothing happened")
    assert store.verify_audit()[0]  # the chain alone cannot tell
    broken = runner.invoke(app, ["verify", "--checkpoint", str(exported), "--public-key", public])
    assert broken.exit_code == 1
    assert "rewritten" in broken.output and "seq 8" in broken.output


def test_stored_checkpoints_catch_a_rewrite_even_without_the_file(store: Store, cli_env: Path) -> None:
    key, created = load_or_create_key(cli_env)
    assert created and load_or_create_key(cli_env)[1] is False
    writer = CheckpointWriter(store, key, "node-a", 300, clock=lambda: NOW)
    _fill(store, 4)
    assert writer.write_now() is not None
    assert writer.write_now() is None  # unchanged head: not written twice
    _fill(store, 1, start=4)
    assert writer.write_now(skip_unchanged=False) is not None
    assert [cp.seq for cp in store.checkpoints()] == [4, 5]
    _rewrite_everything(store, "forged")
    result = CliRunner().invoke(app, ["verify"])  # the configured key is the trusted one
    assert result.exit_code == 1 and "rewritten" in result.output


def test_cut_chain_and_forged_file_fail(store: Store, cli_env: Path, tmp_path: Path) -> None:
    _fill(store, 5)
    runner = CliRunner()
    exported = tmp_path / "cp.json"
    assert runner.invoke(app, ["checkpoint", "--out", str(exported)]).exit_code == 0
    raw = json.loads(exported.read_text())
    raw["seq"] = 3
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(raw))
    result = runner.invoke(app, ["verify", "--checkpoint", str(forged)])
    assert result.exit_code == 1 and "signature" in result.output
    with store._engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events WHERE seq > 3")
        conn.exec_driver_sql(
            "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_events WHERE seq = 3)"
        )
    result = runner.invoke(app, ["verify", "--checkpoint", str(exported)])
    assert result.exit_code == 1 and "removed" in result.output
    stored = runner.invoke(app, ["checkpoint", "--stored", "--out", str(tmp_path / "again.json")])
    assert stored.exit_code == 0 and json.loads((tmp_path / "again.json").read_text())["seq"] == 5


def test_bad_inputs_exit_2(cli_env: Path, store: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["verify", "--checkpoint", str(tmp_path / "missing.json")]).exit_code == 2
    (tmp_path / "junk.json").write_text("{}")
    assert runner.invoke(app, ["verify", "--checkpoint", str(tmp_path / "junk.json")]).exit_code == 2
    assert runner.invoke(app, ["verify", "--public-key", "not-a-key"]).exit_code == 2


async def test_writer_signs_at_shutdown(store: Store, cli_env: Path) -> None:
    key, _ = load_or_create_key(cli_env)
    writer = CheckpointWriter(store, key, "node-a", 0, clock=lambda: NOW + timedelta(seconds=1))
    _fill(store, 2)
    writer.start()  # interval 0: no periodic task
    await writer.stop()
    (cp,) = store.checkpoints()
    assert cp.seq == 2 and cp.node_id == "node-a"
