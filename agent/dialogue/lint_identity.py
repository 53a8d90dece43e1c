"""Lint rule `account-detail-before-identity` (SPEC 7.4): no account detail before the right party.

A state (or global handler) reachable from the start before any `confirms_right_party` state
must not reveal account details: no account slot, no literal amount.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.dialogue.lint_base import (
    Finding,
    LintContext,
    global_templates,
    reachable,
    slots_in,
    state_templates,
)

__all__ = ["check"]

_FIX = "Move account details to a state after a `confirms_right_party: true` state."


def check(ctx: LintContext) -> Iterator[Finding]:
    """No account detail in any state (or global handler) reachable before the right party is confirmed."""
    script = ctx.script
    confirming = frozenset(n for n, s in script.states.items() if s.confirms_right_party)
    before = reachable(ctx.graph, script.start, confirming) - confirming
    account = script.account_slots
    for name in sorted(before, key=lambda n: ctx.at("states", n) or 0):
        if script.states[name].reveals_account_details:
            yield Finding(
                ctx.file,
                ctx.at("states", name),
                "account-detail-before-identity",
                f"state {name!r} reveals account details and can be reached before identity is confirmed",
                _FIX,
            )
            continue
        for path, text in state_templates(script, name):
            used = sorted(set(slots_in(text)) & account)
            literal = next((p for p in ctx.rules.account_literals if p.search(text)), None)
            if used or literal is not None:
                what = f"slot {{{used[0]}}}" if used else "a literal amount"
                yield Finding(
                    ctx.file,
                    ctx.at(*path),
                    "account-detail-before-identity",
                    f"state {name!r} says {what}, reachable before the right party is confirmed",
                    _FIX,
                )
    for gname, path, text in global_templates(script):
        used = sorted(set(slots_in(text)) & account)
        if used and before:
            yield Finding(
                ctx.file,
                ctx.at(*path),
                "account-detail-before-identity",
                f"global handler {gname!r} says {{{used[0]}}} and can run before identity is confirmed",
                "Keep account details out of global handlers; say them in a state after confirmation.",
            )
