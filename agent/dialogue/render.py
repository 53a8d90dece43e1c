"""Fill `{slot}` templates with speech-normalised slot values; `{{` and `}}` are literal braces."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from agent.dialogue.normalize import normalize_value

__all__ = ["RenderError", "render", "template_slots"]

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RenderError(ValueError):
    """A template names a slot that has no value, or is malformed."""


def template_slots(template: str) -> tuple[str, ...]:
    """Slot names a template uses, in order of first use (for validation and the linter)."""
    seen: list[str] = []
    for match in _FIELD.finditer(template):
        name = match.group(1)
        if name is None:
            continue
        if not _NAME.match(name.strip()):
            raise RenderError(f"bad placeholder {{{name}}} in {template!r}: use {{slot_name}}")
        if name.strip() not in seen:
            seen.append(name.strip())
    stray = _FIELD.sub("", template)
    if "{" in stray or "}" in stray:
        raise RenderError(f"unbalanced brace in {template!r}: write {{{{ or }}}} for a literal brace")
    return tuple(seen)


def render(
    template: str,
    values: Mapping[str, str],
    types: Mapping[str, str],
    locale: str,
    today: dt.date | None = None,
) -> str:
    """Render a template: each `{slot}` becomes its value normalised for speech by its type."""
    template_slots(template)

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1).strip()
        if name not in values:
            raise RenderError(f"slot {name!r} has no value for {template!r}")
        return normalize_value(values[name], types.get(name, "text"), locale, today)

    return " ".join(_FIELD.sub(fill, template).split())
