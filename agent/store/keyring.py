"""The keys a store was written with: fingerprints checked at open, plain text sealed once.

A store opened with another phone-hash key would hash numbers differently and answer "not
suppressed" for a suppressed number; one opened with another data key could not read its
names and transcripts. Both are refused at open with KeyMismatch (issue 12, finding 7).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.store.context import StoreContext, key_fingerprint
from agent.store.crypto import PREFIX
from agent.store.errors import KeyMismatch
from agent.store.models import CallRow, CustomerRow, StoreKeyRow, SuppressionRow, TurnRow

ENV = {"phone_hash_key": "VOICE_AGENT_STORE__PHONE_HASH_KEY", "data_key": "VOICE_AGENT_STORE__DATA_KEY"}


def check(s: Session, ctx: StoreContext, adopt: bool = True) -> bool:
    """KeyMismatch unless the keys match the recorded ones; records them (True) on first open.

    With adopt=False (a CLI command), a store that holds records but no fingerprints is refused
    rather than taking this command's keys as its own.
    """
    wanted = {"phone_hash_key": key_fingerprint(ctx.phone_hash_key), "data_key": ctx.cipher.fingerprint}
    rows = {r.name: r for r in s.execute(select(StoreKeyRow)).scalars()}
    for name, fingerprint in wanted.items():
        row = rows.get(name)
        if row is not None and row.fingerprint != fingerprint:
            raise KeyMismatch(
                f"store.{name} is not the key this store was written with; use the server's configuration "
                f"(its config.yaml via --config or VOICE_AGENT_CONFIG, or {ENV[name]})"
            )
    missing = [name for name in wanted if name not in rows]
    if missing and not adopt and _holds_records(s):
        raise KeyMismatch(
            "this store holds records but no fingerprint of its keys yet; start the server on it once "
            "(it records them), or pass the server's configuration"
        )
    for name in missing:
        s.add(StoreKeyRow(name=name, fingerprint=wanted[name]))
    if "data_key" in missing:
        seal_plain_text(s, ctx)
    return bool(missing)


def _holds_records(s: Session) -> bool:
    for table in (CustomerRow, SuppressionRow):
        if s.execute(select(table).limit(1)).first() is not None:
            return True
    return False


def seal_plain_text(s: Session, ctx: StoreContext) -> int:
    """Seal names, slots and turns stored before encryption (revision 0002); returns how many."""
    sealed = 0
    plain = ~CustomerRow.name.startswith(PREFIX, autoescape=True)
    for cust in s.execute(select(CustomerRow).where(plain)).scalars():
        cust.name = ctx.cipher.seal(cust.name, f"customers.name:{cust.id}")
        sealed += 1
    plain_slots = ~CallRow.slots.startswith(PREFIX, autoescape=True)
    for call in s.execute(select(CallRow).where(plain_slots)).scalars():
        call.slots = ctx.cipher.seal(call.slots, f"calls.slots:{call.id}")
        sealed += 1
    for turn in s.execute(select(TurnRow).where(~TurnRow.text.startswith(PREFIX, autoescape=True))).scalars():
        turn.text = ctx.cipher.seal(turn.text, f"turns.text:{turn.call_id}:{turn.seq}")
        sealed += 1
    return sealed
