"""Lint rules on the state graph: `unreachable-state` and `dead-end-state`."""

from __future__ import annotations

from collections.abc import Iterator

from agent.dialogue.engine import VOICEMAIL_STATE
from agent.dialogue.lint_base import Finding, LintContext, edges, reachable
from agent.dialogue.script import State

__all__ = ["check"]


def check(ctx: LintContext) -> Iterator[Finding]:
    """Every state reachable from the start, and every state with a path to an end of its own.

    The voicemail state is an entry of its own (a machine answered), not reached from the start.
    """
    script = ctx.script
    seen = reachable(ctx.graph, script.start)
    if VOICEMAIL_STATE in script.states:
        seen |= reachable(ctx.graph, VOICEMAIL_STATE)
    for name in script.states:
        if name not in seen:
            yield Finding(
                ctx.file,
                ctx.at("states", name),
                "unreachable-state",
                f"state {name!r} cannot be reached from {script.start!r}",
                "Point an `expect`, `needs` or handler `goto` at it, or delete it.",
            )
    own = edges(script, own_only=True)
    ends = {n for n, s in script.states.items() if s.end is not None}
    for name, state in script.states.items():
        if state.end is not None or name not in seen:
            continue
        if not reachable(own, name) & ends and not _ends_locally(state):
            yield Finding(
                ctx.file,
                ctx.at("states", name),
                "dead-end-state",
                f"state {name!r} has no path to an `end:` state through its own answers",
                "Route at least one expected answer towards a closing state with `end:`.",
            )


def _ends_locally(state: State) -> bool:
    return any(h is not None and h.end is not None for h in (state.fallback, state.no_input))
