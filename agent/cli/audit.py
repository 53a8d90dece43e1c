"""`voice-agent audit verify|checkpoint`: the tamper-evident audit chain and its signed checkpoints.

`verify` exits 0 when the chain is intact and agrees with every checkpoint it is given (and the
stored ones signed by the trusted key), 1 naming the first problem, 2 on a usage error.
"""

from __future__ import annotations

from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.cli._store import CONFIG_OPTION, open_store, use_config
from agent.cli.common import EXIT_FAILED, fail
from agent.compliance import checkpoint
from agent.compliance.audit import AuditEvent
from agent.compliance.checkpoint import Checkpoint, CheckpointError
from agent.config import load_settings
from agent.store import StoreUnavailable

app = typer.Typer(help="Audit trail: verify the tamper-evident hash chain.", no_args_is_help=True)


@app.callback()
def _main(config: Path | None = CONFIG_OPTION) -> None:
    """Audit trail commands, on the store the server's configuration names."""
    use_config(config)


def _trusted_key(public_key: str | None) -> tuple[Ed25519PublicKey | None, str]:
    """The key checkpoints must be signed by: --public-key (text or file), else the configured key file."""
    try:
        if public_key:
            path = Path(public_key)
            text = path.read_text(encoding="utf-8") if path.is_file() else public_key
            return checkpoint.parse_public_key(text), "the key given with --public-key"
        key_file = Path(load_settings().compliance.checkpoint_key_file)
        if key_file.is_file():
            key = checkpoint.load_private_key(key_file.read_bytes())
            return key.public_key(), f"the configured signing key {key_file}"
    except (CheckpointError, OSError) as exc:
        raise fail(f"cannot read the public key: {exc}") from exc
    return None, "the key named inside each checkpoint (pass --public-key to pin the lender's key)"


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        return checkpoint.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from exc
    except CheckpointError as exc:
        raise fail(f"{path}: {exc}") from exc


@app.command()
def verify(
    checkpoint_file: Path | None = typer.Option(
        None, "--checkpoint", help="A checkpoint exported earlier; the chain must still hold its head."
    ),
    public_key: str | None = typer.Option(
        None, "--public-key", help="Trusted Ed25519 public key (base64 or PEM, or a file holding it)."
    ),
) -> None:
    """Verify every audit event's hash and link, and the chain against signed checkpoints; exit 1 if not.

    Example: voice-agent audit verify --checkpoint cp-2026-12-01.json --public-key "$(cat audit.pub)"
    """
    given = _read_checkpoint(checkpoint_file) if checkpoint_file else None
    trusted, trusted_from = _trusted_key(public_key)
    store = open_store()
    try:
        ok, seq, detail = store.verify_audit()
        events = store.audit_events()
        stored = store.checkpoints()
    except StoreUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        store.close()
    if not ok:
        typer.echo(f"audit chain BROKEN at event seq {seq}: {detail}", err=True)
        raise typer.Exit(EXIT_FAILED)
    problems: list[str] = []
    if given is not None:
        problems += _check(given, events, trusted, f"checkpoint {checkpoint_file}")
    ours = [cp for cp in stored if trusted is None or cp.public_key == checkpoint.public_key_text(trusted)]
    for cp in ours:
        problems += _check(cp, events, trusted, f"stored checkpoint of {cp.at}")
    if problems:
        for problem in problems:
            typer.echo(f"audit chain BROKEN: {problem}", err=True)
        raise typer.Exit(EXIT_FAILED)
    checked = (1 if given else 0) + len(ours)
    typer.echo(f"audit chain intact: {detail}; {checked} checkpoint(s) agree")
    typer.echo(f"signatures checked against {trusted_from}")


def _check(
    cp: Checkpoint, events: list[AuditEvent], trusted: Ed25519PublicKey | None, name: str
) -> list[str]:
    try:
        checkpoint.verify_signature(cp, trusted)
    except CheckpointError as exc:
        return [f"{name}: {exc}"]
    problem = checkpoint.check_chain(cp, events)
    return [f"{name}: {problem}"] if problem else []


@app.command("checkpoint")
def export_checkpoint(
    out: Path = typer.Option(..., "--out", help="File to write the checkpoint JSON to."),
    stored: bool = typer.Option(False, "--stored", help="Export the latest stored checkpoint; sign nothing."),
) -> None:
    """Sign the audit chain head now (kept in the store too) and write it to a file to keep elsewhere.

    Example: voice-agent audit checkpoint --out /mnt/worm/audit-$(date +%F).json
    """
    from agent.server.checkpoints import CheckpointWriter

    store = open_store()
    try:
        if stored:
            found = store.checkpoints()
            if not found:
                raise fail("no checkpoint is stored yet; run without --stored to sign one", EXIT_FAILED)
            cp: Checkpoint | None = found[-1]
        else:
            try:
                writer = CheckpointWriter.from_settings(load_settings(), store)
            except (CheckpointError, OSError) as exc:
                raise fail(f"audit signing key: {exc}") from exc
            cp = writer.write_now(skip_unchanged=False)
    except StoreUnavailable as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()
    assert cp is not None
    try:
        out.write_text(cp.to_json(), encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from exc
    typer.echo(
        f"checkpoint of seq {cp.seq} ({cp.at}, node {cp.node_id}) written to {out}; key {cp.public_key}"
    )
