"""Problems the script model finds at load time, each carrying its lint rule id and a one-line fix.

The loader turns them into `ScriptIssue`s and the linter into findings with the same rule id,
so no one has to recognise a problem by its wording.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from agent.dialogue.render import RenderError, template_slots

if TYPE_CHECKING:
    from agent.dialogue.script import Script

__all__ = ["INVALID", "Path", "Problem", "ScriptProblems", "reference_problems"]

Path: TypeAlias = tuple[str | int, ...]

INVALID = "script-invalid"
"""The rule id of a problem no more specific rule names."""
INVALID_FIX = "Correct this entry as the message says."


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: the path of the offending entry, what is wrong, its rule id and how to fix it."""

    path: Path
    message: str
    rule: str = INVALID
    fix: str = INVALID_FIX


class ScriptProblems(ValueError):
    """Cross-reference problems in a script, each with the path of the offending entry."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems))


def opt_out_overridden(path: Path, message: str, fix: str) -> Problem:
    """A state that takes over the global opt-out."""
    return Problem(path, message, "opt-out-overridden", fix)


def reference_problems(script: Script) -> Iterator[Problem]:
    """Everything that names a state or slot that does not exist, or breaks an engine rule."""
    states, slots = script.states, script.slots
    captured = script.captured_slots
    if script.start not in states:
        yield Problem(
            ("start",),
            f"start state {script.start!r} is not defined under states",
            "unknown-state",
            "Name a defined state as `start`.",
        )
    elif not states[script.start].disclosure:
        yield Problem(
            ("states", script.start),
            "the start state must carry the AI disclosure (`disclosure:`)",
            "disclosure-missing",
            "Give the start state a `disclosure:` that says this is an AI and names the company.",
        )

    def check_goto(path: Path, target: str | None) -> Iterator[Problem]:
        if target is not None and target not in states:
            yield Problem(
                path,
                f"{target!r} is not a state",
                "unknown-state",
                "Point this at a state defined under `states:`.",
            )

    def undeclared(path: Path, message: str) -> Problem:
        return Problem(path, message, "undefined-slot", "Declare the slot under `slots:` or fix its name.")

    def check_slots(path: Path, text: str, allowed_captured: frozenset[str]) -> Iterator[Problem]:
        try:
            names = template_slots(text)
        except RenderError as exc:
            yield Problem(path, str(exc))
            return
        for name in names:
            if name not in slots:
                yield undeclared(path, f"slot {{{name}}} is not declared under slots")
            elif name in captured and name not in allowed_captured:
                yield Problem(
                    path,
                    f"slot {{{name}}} comes from the customer; list it under this state's `needs`",
                    "undefined-slot",
                    "List the captured slot under this state's `needs`.",
                )

    for name, state in states.items():
        base: Path = ("states", name)
        if name != script.start and state.disclosure:
            yield Problem(
                (*base, "disclosure"),
                "only the start state carries the AI disclosure",
                "disclosure-missing",
                "Move the disclosure into the start state.",
            )
        for intent, target in state.expect.items():
            yield from check_goto((*base, "expect", intent), target)
        for slot, target in state.needs.items():
            yield from check_goto((*base, "needs", slot), target)
            if slot not in slots:
                yield undeclared((*base, "needs", slot), f"slot {slot!r} is not declared under slots")
        for key in ("no_input", "fallback"):
            handler = getattr(state, key)
            if handler is not None:
                yield from check_goto((*base, key, "goto"), handler.goto)
        digit = script.opt_out_key
        if state.dtmf.get(digit, "opt_out") != "opt_out":
            yield opt_out_overridden(
                (*base, "dtmf", digit),
                f"key {digit} is the opt-out key in every state; it cannot mean {state.dtmf[digit]!r}",
                "Use a key other than the opt-out key here.",
            )
        allowed = frozenset(state.needs)
        for field, index, text in state.templates():
            head, _, tail = field.partition(".")
            path = (*base, head, tail, index) if tail else (*base, head, index)
            yield from check_slots(path, text, allowed)
    for gname in type(script.globals).model_fields:
        handler = getattr(script.globals, gname)
        if getattr(handler, "goto", None) is not None:
            yield from check_goto(("global", gname, "goto"), handler.goto)
        for index, text in enumerate(handler.say):
            yield from check_slots(("global", gname, "say", index), text, frozenset())
