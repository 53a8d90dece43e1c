"""The store facade (SPEC 7, 9.3): blocking methods, each one transaction, committed before it returns.

The work is done by functions per table group that take a SQLAlchemy session (customers,
gate_flow, calls, suppression, csv_import, audit_log); this class owns the engine, the
transactions and the mapping of database failures. Every method raises StoreUnavailable when
the database cannot be read or written, so callers fail closed (SPEC 7.8). Call it from a
worker thread, never from the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from agent.compliance import audit, gate
from agent.compliance.callback import OfficialNumbers
from agent.compliance.checkpoint import Checkpoint as CheckpointRecord
from agent.store import (
    audit_log,
    calls,
    checkpoints,
    closing,
    csv_import,
    customers,
    gate_flow,
    keyring,
    suppression,
)
from agent.store.context import StoreContext
from agent.store.crypto import SHIPPED_DATA_KEY, FieldCipher
from agent.store.engine import is_sqlite, make_engine, migrate
from agent.store.errors import Conflict, InvalidData, StoreUnavailable
from agent.store.records import AuditReport, CallGrant, CallRecord, CallRefusal, CallRequest, ClaimedCall

if TYPE_CHECKING:
    from agent.config import Settings

SCOPES = suppression.SCOPES
NO_CONVERSATION = calls.NO_CONVERSATION


def utcnow() -> datetime:
    """The store's default clock: aware UTC."""
    return datetime.now(UTC)


class Store:
    """Calls, turns, attempts, suppression, consent and the audit chain, on SQLite or PostgreSQL."""

    def __init__(
        self,
        engine: Engine,
        phone_hash_key: str,
        *,
        default_jurisdiction: str = "US",
        token_ttl_s: int = 300,
        max_attempts_per_day: int | None = None,
        clock: Callable[[], datetime] = utcnow,
        data_key: str = SHIPPED_DATA_KEY,
        official_numbers: OfficialNumbers | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._ctx = StoreContext(
            phone_hash_key=phone_hash_key,
            default_jurisdiction=default_jurisdiction,
            token_ttl=timedelta(seconds=token_ttl_s),
            max_attempts_per_day=max_attempts_per_day,
            cipher=FieldCipher(data_key),
            official=official_numbers,
        )
        self._closed = False

    @classmethod
    def open(
        cls,
        url: str,
        phone_hash_key: str,
        *,
        default_jurisdiction: str = "US",
        token_ttl_s: int = 300,
        max_attempts_per_day: int | None = None,
        busy_timeout_ms: int = 5000,
        clock: Callable[[], datetime] = utcnow,
        data_key: str = SHIPPED_DATA_KEY,
        adopt_keys: bool = True,
        official_numbers: OfficialNumbers | None = None,
    ) -> Store:
        """Connect, migrate, check the keys; StoreUnavailable when that fails, KeyMismatch for a wrong key."""
        if not phone_hash_key:
            raise ValueError("store.phone_hash_key must be set (it keys the stored phone hashes)")
        try:
            engine = make_engine(url, busy_timeout_ms)
            migrate(engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"cannot open the store at {_safe_url(url)}: {exc}") from exc
        store = cls(
            engine,
            phone_hash_key,
            default_jurisdiction=default_jurisdiction,
            token_ttl_s=token_ttl_s,
            max_attempts_per_day=max_attempts_per_day,
            clock=clock,
            data_key=data_key,
            official_numbers=official_numbers,
        )
        try:
            store._check_keys(adopt_keys)
        except Exception:
            engine.dispose()
            raise
        return store

    @classmethod
    def from_settings(cls, settings: Settings, *, adopt_keys: bool = True) -> Store:
        """The store configured by `settings` (store.*, compliance.*), the same for server and CLI."""
        return cls.open(
            settings.store.url,
            settings.store.phone_hash_key,
            default_jurisdiction=settings.compliance.jurisdiction,
            token_ttl_s=settings.compliance.token_ttl_s,
            max_attempts_per_day=settings.compliance.max_attempts_per_day,
            data_key=settings.store.data_key,
            adopt_keys=adopt_keys,
            official_numbers=OfficialNumbers.parse(settings.compliance.official_numbers),
        )

    def _check_keys(self, adopt: bool) -> None:
        try:
            with self._tx() as s:
                keyring.check(s, self._ctx, adopt)
        except Conflict:  # another node recorded them at the same moment: compare with theirs
            with self._tx() as s:
                keyring.check(s, self._ctx, adopt)

    def close(self) -> None:
        """Release connections; later calls raise StoreUnavailable."""
        self._closed = True
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """One transaction, committed on exit; database failures become StoreUnavailable."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                yield session
        except IntegrityError as exc:
            raise Conflict("record already exists") from exc
        except DataError as exc:  # too long, a NUL byte...: the value is wrong, the store is fine
            raise InvalidData("a value is too long or not valid text; shorten or fix it") from exc
        except StatementError as exc:
            if isinstance(exc.orig, ValueError) and not isinstance(exc, DBAPIError):
                raise InvalidData(f"a value is not valid: {exc.orig}") from exc
            raise StoreUnavailable(f"store write failed: {type(exc).__name__}: {exc.orig}") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"store write failed: {type(exc).__name__}") from exc

    @property
    def context(self) -> StoreContext:
        """The phone-hash key, cipher and gate defaults, for table groups built on this store."""
        return self._ctx

    @contextmanager
    def session_lock(self, key: str) -> Iterator[bool]:
        """Hold the PostgreSQL advisory lock `key` on a connection of its own until the block exits.

        Yields False (and holds nothing) when another session holds it; the server drops it
        when that connection closes, so a crashed holder never keeps it. SQLite serves one
        process: always True.
        """
        if self._closed:
            raise StoreUnavailable("the store is closed")
        if is_sqlite(self._engine):
            yield True
            return
        try:
            conn = self._engine.connect()
            got = bool(conn.execute(sql_text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))"),
                                    {"k": key}).scalar_one())
            conn.commit()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"store lock failed: {type(exc).__name__}") from exc
        try:
            yield got
        finally:
            with suppress(SQLAlchemyError, OSError):
                conn.invalidate()  # the connection is closed, not pooled: the lock goes with it
                conn.close()

    def transaction(self) -> AbstractContextManager[Session]:
        """One transaction, as every method here uses, for table groups built on this store (campaigns)."""
        return self._tx()

    def masked(self, phone: str, jurisdiction: str | None = None) -> str:
        """The masked form of a number ('+1******4567'); InvalidPhone when it is not one."""
        return self._ctx.phone(phone, jurisdiction)[1]

    # -- customers and consent ----------------------------------------------------------------

    def register_customer(
        self,
        *,
        phone: str,
        name: str,
        timezone: str,
        now: datetime,
        locale: str = "en-US",
        jurisdiction: str | None = None,
        lawful_basis: Mapping[str, str] | None = None,
        external_ref: str | None = None,
    ) -> str:
        """Register a customer (lawful basis per purpose, default servicing=contract); returns its id."""
        with self._tx() as s:
            return customers.register(
                s,
                self._ctx,
                phone=phone,
                name=name,
                timezone=timezone,
                now=now,
                locale=locale,
                jurisdiction=jurisdiction,
                lawful_basis=lawful_basis,
                external_ref=external_ref,
            )

    def add_consent(
        self,
        customer_id: str,
        purpose: str,
        *,
        now: datetime,
        source: str,
        granted_at: datetime | None = None,
        expires_at: datetime | None = None,
        evidence: str | None = None,
    ) -> int:
        """Record a consent for one purpose (and the lawful basis 'consent' for it); returns its id."""
        with self._tx() as s:
            return customers.add_consent(
                s,
                customer_id,
                purpose,
                now=now,
                source=source,
                granted_at=granted_at,
                expires_at=expires_at,
                evidence=evidence,
            )

    def withdraw_consent(self, customer_id: str, purpose: str, *, now: datetime, via: str) -> int:
        """Withdraw every active consent of a customer for a purpose; returns how many."""
        with self._tx() as s:
            return customers.withdraw_consent(s, customer_id, purpose, now=now, via=via)

    # -- the gate -------------------------------------------------------------------------------

    def request_call(self, req: CallRequest, now: datetime | None = None) -> CallGrant | CallRefusal:
        """Run the pre-call gate; record the attempt (grant) or the refusal, with an audit event.

        Without `now` the decision time is read from the store's clock inside the subject lock,
        which is what keeps the caps under concurrency (SPEC 7.11); tests pass a fixed time.
        """
        clock = self._clock if now is None else (lambda: now)
        with self._tx() as s:
            return gate_flow.request_call(s, self._ctx, req, clock)

    def claim_call(self, call_id: str, token: str | None, now: datetime) -> ClaimedCall:
        """Exchange a call token (token=None: a proven shared secret) for the call; else InvalidToken."""
        with self._tx() as s:
            return gate_flow.claim_call(s, self._ctx, call_id, token, now)

    def report_dial(self, call_id: str, result: str, now: datetime, by: str = "api") -> None:
        """A dialer's result for a granted call that never reached the agent (an attempt, no talk)."""
        with self._tx() as s:
            closing.report_dial(s, call_id, result, now, by)

    def close_stale(self, now: datetime | None = None, claimed_for: timedelta = timedelta(minutes=7)) -> int:
        """Close expired unused grants and calls claimed longer than `claimed_for`; returns how many."""
        when = self._clock() if now is None else now
        with self._tx() as s:
            return closing.expire_grants(s, when) + closing.interrupt_dead_calls(s, when, claimed_for)

    # -- suppression ------------------------------------------------------------------------------

    def record_opt_out(self, call_id: str, scope: str, via: str, now: datetime) -> None:
        """Suppress the call's number and audit it in ONE transaction, durably committed before returning."""
        with self._tx() as s:
            suppression.record_opt_out(s, call_id, scope, via, now)

    def suppress(self, phone: str, scope: str, source: str, now: datetime) -> str:
        """Add a suppression entry for a number; returns its masked form."""
        with self._tx() as s:
            return suppression.suppress(s, self._ctx, phone, scope, source, now)

    def unsuppress(
        self,
        phone: str,
        now: datetime,
        scope: str | None = None,
        source: str = "api",
        *,
        reason: str | None = None,
    ) -> int:
        """Remove a number's active suppression entries (one scope or all), audited; returns how many."""
        with self._tx() as s:
            return suppression.unsuppress(s, self._ctx, phone, now, scope, source, reason)

    def suppression_scopes(self, phone: str) -> set[str]:
        """Active suppression scopes of a number ('all', 'marketing')."""
        phone_hash, _ = self._ctx.phone(phone)
        with self._tx() as s:
            return suppression.scopes(s, phone_hash)

    def is_suppressed(self, phone: str, purpose: str = "servicing") -> bool:
        """True when a call for this purpose to this number would be refused as suppressed."""
        return gate.is_suppressed(self.suppression_scopes(phone), purpose)

    def import_suppression_csv(self, text_csv: str, now: datetime, source: str = "csv") -> int:
        """Import `phone[,scope[,source]]` rows (header optional) atomically; returns rows imported."""
        entries = csv_import.parse(text_csv, self._ctx, source)
        with self._tx() as s:
            return csv_import.store(s, entries, now, source)

    # -- the call record ------------------------------------------------------------------------

    def record_turn(
        self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int, now: datetime
    ) -> None:
        """Store one turn; the text is redacted before it reaches the database."""
        with self._tx() as s:
            calls.record_turn(s, self._ctx.cipher, call_id, speaker, text, intent, start_ms, now)

    def record_event(self, call_id: str | None, kind: str, data: Mapping[str, Any], now: datetime) -> int:
        """Append an audit event (strings redacted); returns its seq. Appends are serialised."""
        with self._tx() as s:
            return audit_log.append(s, kind, data, now, call_id).seq

    def finish_call(
        self,
        call_id: str,
        outcome: str,
        timings: Mapping[str, Any],
        now: datetime,
        conversation: bool | None = None,
    ) -> None:
        """Record the outcome; a conversation (default: outcomes not in NO_CONVERSATION) starts quiet days."""
        with self._tx() as s:
            calls.finish_call(s, call_id, outcome, timings, now, conversation)

    def get_call(self, call_id: str, *, decrypt: bool = True) -> CallRecord:
        """The call's outcome, redacted transcript and timings (no slots); text None unless `decrypt`."""
        with self._tx() as s:
            return calls.get_call(s, self._ctx.cipher, call_id, decrypt)

    # -- audit and health -----------------------------------------------------------------------

    def audit_events(self) -> list[audit.AuditEvent]:
        """All audit events in stored seq order."""
        with self._tx() as s:
            return audit_log.events(s)

    def verify_audit(self) -> AuditReport:
        """(ok, first bad seq or None, detail) for the whole chain, including a cut-off tail."""
        with self._tx() as s:
            return audit_log.verify(s)

    def write_checkpoint(
        self, signer: checkpoints.Signer, *, skip_unchanged: bool = False
    ) -> CheckpointRecord | None:
        """Sign the audit chain head and keep the checkpoint (agent.store.checkpoints)."""
        with self._tx() as s:
            return checkpoints.write(s, signer, skip_unchanged=skip_unchanged)

    def checkpoints(self) -> list[CheckpointRecord]:
        """Every stored audit checkpoint, oldest first."""
        with self._tx() as s:
            return checkpoints.all_checkpoints(s)

    def healthy(self) -> bool:
        """True when the store answers and can take a write lock right now."""
        if self._closed:
            return False
        try:
            with self._engine.connect() as conn:
                if is_sqlite(self._engine):
                    with conn.begin():  # BEGIN IMMEDIATE: proves we can write
                        conn.execute(sql_text("SELECT 1"))
                else:
                    ro = conn.execute(sql_text("SHOW transaction_read_only")).scalar()
                    return bool(ro == "off")
            return True
        except (SQLAlchemyError, OSError):
            return False


def _safe_url(url: str) -> str:
    """The URL with any password hidden, fit for an error message."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"
