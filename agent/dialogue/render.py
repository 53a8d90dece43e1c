"""Fill `{slot}` templates with speech-normalised slot values; `{{` and `}}` are literal braces."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from agent.dialogue.normalize import normalize_value
from agent.tts.base import split_sentences

__all__ = ["Piece", "RenderError", "render", "render_pieces", "render_sentences", "template_slots"]

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


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of a rendered template: the script's own words (`slot` None) or one slot's value.

    `known` is False for a slot that had no value (render_pieces(..., partial=True)); its text
    is then empty.
    """

    text: str
    slot: str | None = None
    known: bool = True


def render(
    template: str,
    values: Mapping[str, str],
    types: Mapping[str, str],
    locale: str,
    today: dt.date | None = None,
) -> str:
    """Render a template: each `{slot}` becomes its value normalised for speech by its type."""
    return "".join(p.text for p in render_pieces(template, values, types, locale, today))


def render_pieces(
    template: str,
    values: Mapping[str, str],
    types: Mapping[str, str],
    locale: str,
    today: dt.date | None = None,
    *,
    partial: bool = False,
) -> tuple[Piece, ...]:
    """The template rendered as pieces: the script's words and each slot's value, in order.

    Their texts joined are `render(...)` (whitespace collapsed to single spaces; a space
    between two pieces starts the later one), so speech can be cut at slot boundaries.
    `partial`: a slot with no value gives an empty, unknown piece instead of a RenderError.
    """
    template_slots(template)
    raw: list[Piece] = []
    pos = 0
    for match in _FIELD.finditer(template):
        raw.append(Piece(template[pos : match.start()]))
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            raw.append(Piece(token[0]))
            continue
        name = match.group(1).strip()
        if name in values:
            raw.append(Piece(normalize_value(values[name], types.get(name, "text"), locale, today), name))
        elif partial:
            raw.append(Piece("", name, known=False))
        else:
            raise RenderError(f"slot {name!r} has no value for {template!r}")
    raw.append(Piece(template[pos:]))
    out: list[Piece] = []
    space = False  # whitespace seen since the last text put out
    for piece in raw:
        body = " ".join(piece.text.split())
        if not body:
            space = space or piece.text[:1].isspace()
            if not piece.known:
                out.append(piece)
            continue
        if (space or piece.text[0].isspace()) and any(p.text for p in out):
            body = " " + body
        space = piece.text[-1].isspace()
        if piece.slot is None and out and out[-1].slot is None:
            out[-1] = Piece(out[-1].text + body)
        else:
            out.append(Piece(body, piece.slot, piece.known))
    return tuple(out)


def render_sentences(
    template: str,
    values: Mapping[str, str],
    types: Mapping[str, str],
    locale: str,
    today: dt.date | None = None,
    *,
    partial: bool = False,
) -> tuple[tuple[Piece, ...], ...]:
    """The template cut into sentences (at its own punctuation, never inside a slot value), each as pieces."""
    return tuple(
        render_pieces(sentence, values, types, locale, today, partial=partial)
        for sentence in split_sentences(template) or [template]
    )
