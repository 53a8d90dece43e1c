"""The server side of audit checkpoints: the signing-key file and the periodic writer.

`load_or_create_key` reads `compliance.checkpoint_key_file`, or creates it (0600) when absent;
`CheckpointWriter` signs the chain head every `compliance.checkpoint_interval_s` while serving
and once more at shutdown (skipping a head already checkpointed), in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.compliance import checkpoint
from agent.compliance.checkpoint import Checkpoint, CheckpointError
from agent.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store

__all__ = ["CheckpointWriter", "load_or_create_key", "node_name"]

log = logging.getLogger(__name__)


def load_or_create_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The signing key at `path` and whether it was just created (0600, parent folders made)."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("audit signing key %s is readable by others (mode %o); chmod 600 it", path, mode)
        try:
            return checkpoint.load_private_key(path.read_bytes()), False
        except CheckpointError as exc:
            raise CheckpointError(
                f"{path}: {exc}; fix compliance.checkpoint_key_file or move the file away"
            ) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    key = checkpoint.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(checkpoint.private_key_pem(key))
    return key, True


def node_name(configured: str) -> str:
    """The node id written in checkpoints: the configured one, else the host name."""
    return configured or socket.gethostname()


class CheckpointWriter:
    """Signs the audit chain head at an interval and at shutdown, storing each checkpoint."""

    def __init__(
        self,
        store: Store,
        key: Ed25519PrivateKey,
        node_id: str,
        interval_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store, self._key, self._node, self._interval = store, key, node_id, interval_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> CheckpointWriter:
        """Load (or create, logging its public key) the configured key; the writer for this node."""
        cfg = settings.compliance
        key, created = load_or_create_key(Path(cfg.checkpoint_key_file))
        verb = "created" if created else "loaded"
        log.warning(
            "audit signing key %s %s; public key %s (pin it: voice-agent audit verify --public-key ...)",
            cfg.checkpoint_key_file,
            verb,
            checkpoint.public_key_text(key),
        )
        return cls(store, key, node_name(cfg.node_id), cfg.checkpoint_interval_s)

    @property
    def public_key(self) -> str:
        """base64 of the raw public key."""
        return checkpoint.public_key_text(self._key)

    def _sign(self, seq: int, head_hash: str) -> Checkpoint:
        return checkpoint.sign(self._key, seq, head_hash, self._clock(), self._node)

    def write_now(self, *, skip_unchanged: bool = True) -> Checkpoint | None:
        """Sign and store the current head (blocking: call from a worker thread)."""
        return self._store.write_checkpoint(self._sign, skip_unchanged=skip_unchanged)

    async def _write(self) -> None:
        try:
            cp = await asyncio.to_thread(self.write_now)
        except StoreUnavailable as exc:
            log.warning("audit checkpoint not written (store unavailable): %s", exc)
            return
        if cp is not None:
            log.info("audit checkpoint at seq %d signed by %s", cp.seq, cp.node_id)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self._write()

    def start(self) -> None:
        """Begin periodic checkpoints (none when the interval is 0)."""
        if self._interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="audit-checkpoints")

    async def stop(self) -> None:
        """Stop the periodic task and write the shutdown checkpoint."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._write()
