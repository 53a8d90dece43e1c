"""The script model: a reviewed call script as strict, frozen pydantic models, with clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from agent.dialogue.events import Outcome
from agent.dialogue.problems import Path, Problem, ScriptProblems, opt_out_overridden, reference_problems
from agent.dialogue.render import template_slots
from agent.nlu.intents import GLOBAL_INTENTS, Intent

__all__ = [
    "ACCOUNT_SLOT_TYPES",
    "GLOBAL_INTENTS",
    "ConfirmOptOutHandler",
    "Globals",
    "Handler",
    "Meta",
    "OptOutHandler",
    "Path",
    "Script",
    "ScriptProblems",
    "Settings",
    "SlotSpec",
    "State",
]

ACCOUNT_SLOT_TYPES = frozenset({"money", "date"})
"""Slot types that are account details unless a slot says `account_detail: false`."""

# GLOBAL_INTENTS (imported above from the one intent vocabulary, agent.nlu.intents): the intents
# the global handlers answer in every state; states may override all but opt_out.

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Digit = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]


def _as_texts(value: Any) -> Any:
    """Let authors write one sentence as a string or several as a list."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


def _as_str(value: Any) -> Any:
    """YAML reads `version: 1` and `9` as numbers; accept them as text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _str_keys(value: Any) -> Any:
    """YAML reads DTMF keys like `1:` as integers; accept them as digit strings."""
    if isinstance(value, dict):
        return {_as_str(k): v for k, v in value.items()}
    return value


Texts = Annotated[tuple[Annotated[str, StringConstraints(min_length=1)], ...], BeforeValidator(_as_texts)]
Names = Annotated[tuple[Name, ...], BeforeValidator(_as_texts)]
Text = Annotated[str, BeforeValidator(_as_str)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)


class Meta(_Model):
    """Who the script is for: use case, locale, version, jurisdiction and purpose."""

    id: Text
    use_case: Name
    locale: Literal["en-US", "zh-CN"]
    version: Text
    jurisdiction: Literal["CN", "US"]
    purpose: Literal["servicing", "marketing"]
    title: str = ""


class SlotSpec(_Model):
    """A declared slot: its type (for speech normalisation) and whether the call needs it up front."""

    type: Literal["money", "date", "name", "phone", "text"]
    required: bool = True
    account_detail: bool | None = None
    capture: Name | None = None
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"type": data}
        if isinstance(data, dict) and data.get("capture") is not None and "required" not in data:
            return {**data, "required": False}
        return data

    @model_validator(mode="after")
    def _captured_not_required(self) -> SlotSpec:
        if self.capture is not None and self.required:
            raise ValueError("a slot filled from the customer's words (capture) cannot be required")
        return self

    @property
    def is_account_detail(self) -> bool:
        """Whether saying this slot reveals account details (amounts and dates by default)."""
        if self.account_detail is not None:
            return self.account_detail
        return self.type in ACCOUNT_SLOT_TYPES


class Handler(_Model):
    """What to do for an intent or event: say something, then go to a state, end, or resume."""

    say: Texts = ()
    goto: Name | None = None
    end: Outcome | None = None
    limit: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_way_on(self) -> Handler:
        if self.goto is not None and self.end is not None:
            raise ValueError("give either `goto` (a state) or `end` (an outcome), not both")
        return self

    @property
    def resumes(self) -> bool:
        """True when the call carries on in the current state after this handler speaks."""
        return self.goto is None and self.end is None


class OptOutHandler(_Model):
    """The opt-out confirmation: one short sentence, then hang up. No goto, no pitch."""

    say: Texts
    key: Annotated[Digit, BeforeValidator(_as_str)] = "9"
    scope: str = "all"

    @field_validator("say")
    @classmethod
    def _one_sentence(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) != 1:
            raise ValueError("the opt-out confirmation must be exactly one short sentence")
        if len(value[0]) > 160:
            raise ValueError("the opt-out confirmation must be short (160 characters at most)")
        return value


class ConfirmOptOutHandler(_Model):
    """The one question asked when an opt-out is doubtful (SPEC 6.2a); yes opts out, no resumes.

    Empty (`say` not given) means the script has none: the linter reports it, and the
    engine then honours a doubtful opt-out as it would a certain one.
    """

    say: Texts = ()
    hint: Texts = ()
    limit: int = Field(default=1, ge=0)

    @field_validator("say")
    @classmethod
    def _one_question(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > 1:
            raise ValueError("the opt-out confirmation question must be exactly one short sentence")
        if value and len(value[0]) > 120:
            raise ValueError("the opt-out confirmation question must be short (120 characters at most)")
        return value


class Globals(_Model):
    """Handlers that apply in every state; a state may override all but opt_out in `expect`."""

    opt_out: OptOutHandler
    confirm_opt_out: ConfirmOptOutHandler = ConfirmOptOutHandler()
    ask_is_ai: Handler
    ask_who_is_calling: Handler
    complaint: Handler
    request_human: Handler
    repeat: Handler = Handler()
    unknown: Handler
    no_input: Handler
    max_duration: Handler

    @model_validator(mode="after")
    def _shape(self) -> Globals:
        if not self.ask_is_ai.say:
            raise ScriptProblems(
                [Problem(("ask_is_ai",), "ask_is_ai needs a `say`: the truthful answer that this is an AI")]
            )
        if self.ask_is_ai.end is not None or self.ask_is_ai.goto is not None:
            raise ScriptProblems(
                [Problem(("ask_is_ai",), "ask_is_ai answers and carries on; it takes no `goto` or `end`")]
            )
        for name in ("unknown", "no_input"):
            handler: Handler = getattr(self, name)
            if handler.resumes:
                message = f"{name} needs `goto` (a closing state) or `end` for when its limit is reached"
                raise ScriptProblems([Problem((name,), message)])
        if self.max_duration.end is None:
            raise ScriptProblems([Problem(("max_duration",), "max_duration needs `end: <outcome>`")])
        return self


class State(_Model):
    """One step of the call: what the agent says and where each customer intent leads."""

    say: Texts = ()
    disclosure: Texts = ()
    ask: Texts = ()
    confirms_right_party: bool = False
    reveals_account_details: bool = False
    end: Outcome | None = None
    expect: Annotated[dict[Name, Name], BeforeValidator(_str_keys)] = {}
    dtmf: Annotated[dict[Digit, Name], BeforeValidator(_str_keys)] = {}
    hint: Texts = ()
    complete_answers: Names | None = None
    needs: dict[Name, Name] = {}
    no_input: Handler | None = None
    fallback: Handler | None = None
    interruptible: bool = True

    @model_validator(mode="before")
    @classmethod
    def _disclosure_flag(cls, data: Any) -> Any:
        """`disclosure: true` marks the whole of `say` as the AI disclosure."""
        if isinstance(data, dict) and isinstance(data.get("disclosure"), bool):
            data = dict(data)
            if data.pop("disclosure"):
                data["disclosure"] = data.pop("say", ())
        return data

    @model_validator(mode="after")
    def _shape(self) -> State:
        if not (self.say or self.disclosure):
            raise ValueError("a state needs `say` (what the agent says)")
        if Intent.OPT_OUT in self.expect:
            raise ScriptProblems(
                [
                    opt_out_overridden(
                        ("expect", "opt_out"),
                        "opt_out cannot be overridden by a state; the global opt-out handler always applies",
                        "Remove `opt_out` from this state's `expect`.",
                    )
                ]
            )
        if self.end is not None:
            extra = [k for k in ("expect", "dtmf", "no_input", "fallback", "ask") if getattr(self, k)]
            if extra:
                message = f"a closing state (end: {self.end}) cannot have {', '.join(extra)}"
                raise ScriptProblems([Problem((extra[0],), message)])
        elif not self.expect:
            raise ValueError("a state needs `expect` (intent: next state) or `end: <outcome>`")
        return self

    @property
    def terminal(self) -> bool:
        """Whether the call ends after this state's sentences."""
        return self.end is not None

    def templates(self) -> Iterator[tuple[str, int, str]]:
        """(field, index, template) for every sentence this state can say."""
        for name in ("disclosure", "say", "ask"):
            for i, text in enumerate(getattr(self, name)):
                yield name, i, text
        for name in ("no_input", "fallback"):
            handler: Handler | None = getattr(self, name)
            for i, text in enumerate(handler.say if handler else ()):
                yield f"{name}.say", i, text


class Settings(_Model):
    """Engine knobs a script may tune; defaults follow SPEC 4.3."""

    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    disclosure_heard_ratio: float = Field(default=0.9, gt=0.0, le=1.0)


class Script(_Model):
    """A whole script: metadata, slots, states and global handlers."""

    meta: Meta
    slots: dict[Name, SlotSpec] = {}
    start: Name
    states: dict[Name, State]
    globals: Globals = Field(alias="global")
    settings: Settings = Settings()

    _source: str | None = PrivateAttr(default=None)
    _lines: dict[Path, int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Script:
        problems = list(reference_problems(self))
        if problems:
            raise ScriptProblems(problems)
        return self

    # -- lookups -------------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """The file the script was loaded from, if any."""
        return self._source

    def line_of(self, *path: str | int) -> int | None:
        """YAML line of the deepest known entry on `path` (e.g. 'states', 'opening', 'say', 0)."""
        found: int | None = None
        current: Path = ()
        for part in path:
            candidate = (*current, part)
            if candidate in self._lines:
                current, found = candidate, self._lines[candidate]
        return found

    def attach_source(self, source: str, lines: dict[Path, int]) -> None:
        """Record where the script came from, for error messages (used by the loader)."""
        self._source = source
        self._lines = dict(lines)

    @property
    def slot_types(self) -> dict[str, str]:
        """Slot name -> declared type, for rendering."""
        return {name: spec.type for name, spec in self.slots.items()}

    @property
    def account_slots(self) -> frozenset[str]:
        """Slots whose values are account details (never said before the right party is confirmed)."""
        return frozenset(n for n, s in self.slots.items() if s.is_account_detail)

    @property
    def captured_slots(self) -> dict[str, str]:
        """Slot name -> NLU slot it is captured from."""
        return {n: s.capture for n, s in self.slots.items() if s.capture is not None}

    @property
    def opt_out_key(self) -> str:
        """The DTMF key that opts out in every state."""
        return self.globals.opt_out.key

    def reveals(self, state: str) -> bool:
        """Whether entering `state` says account details (flagged, or uses an account slot)."""
        spec = self.states[state]
        if spec.reveals_account_details:
            return True
        return any(set(template_slots(t)) & self.account_slots for _, _, t in spec.templates())

    def global_handler(self, intent: str) -> Handler | OptOutHandler | None:
        """The global handler for an intent, if there is one."""
        return getattr(self.globals, intent, None) if intent in _GLOBAL_FIELDS else None


_GLOBAL_FIELDS = frozenset(Globals.model_fields)
