"""Structured logs (SPEC 9.4): JSON lines off a terminal, a readable console on one, PII redacted.

Every record, whether from `structlog.get_logger()` or a plain `logging.getLogger(__name__)`,
goes through the same processors: context variables (the call id bound with `bind_call`),
level, logger name, an ISO timestamp, exception text, then `redact_event`, which runs every
string value through `agent.compliance.redact` so phone numbers, cards, ID numbers and emails
never reach a log line. A value longer than MAX_VALUE_CHARS (a traceback: MAX_EXCEPTION_CHARS) is
cut, with a marker, before it is redacted: one hostile message cannot make a log line expensive.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from agent.compliance.redact import redact, truncate
from agent.config import LoggingConfig

NOT_REDACTED = frozenset({"timestamp", "level", "logger", "call_id", "say_id"})
"""Keys whose values are ours (ids, times), never customer text; ids must stay intact."""

_HANDLER_TAG = "_voice_agent_handler"

MAX_VALUE_CHARS = 1024
"""Longest string value a log line carries; longer ones are cut with a marker before redaction."""
MAX_EXCEPTION_CHARS = 20000
"""Longest formatted traceback a log line carries."""


def _redact_value(value: Any, limit: int = MAX_VALUE_CHARS) -> Any:
    """Redact a string (cut to `limit` first), or the strings inside a list, tuple or dict."""
    if isinstance(value, str):
        return redact(truncate(value, limit))
    if isinstance(value, Mapping):
        return {k: _redact_value(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, limit) for v in value)
    if isinstance(value, bytes | int | float | bool) or value is None:
        return value
    return redact(truncate(str(value), limit))


def redact_event(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """structlog processor: mask PII in every value except our own ids and times (those are only cut)."""
    for key, value in list(event.items()):
        if key.startswith("_"):
            continue
        if key in NOT_REDACTED:
            if isinstance(value, str):
                event[key] = truncate(value, MAX_VALUE_CHARS)
            continue
        event[key] = _redact_value(value, MAX_EXCEPTION_CHARS if key == "exception" else MAX_VALUE_CHARS)
    return event


def _shared_processors() -> list[Processor]:
    """Processors run on every record before rendering (structlog's and stdlib's alike)."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
        redact_event,
    ]


def use_json(cfg: LoggingConfig, stream: IO[str]) -> bool:
    """JSON unless the format is 'console', or 'auto' and the stream is a terminal."""
    if cfg.format == "json":
        return True
    if cfg.format == "console":
        return False
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def configure_logging(cfg: LoggingConfig | None = None, *, stream: IO[str] | None = None) -> None:
    """Route structlog and stdlib logging to one handler on `stream` (stderr by default)."""
    cfg = cfg or LoggingConfig()
    stream = stream if stream is not None else sys.stderr
    level = logging.getLevelName(cfg.level.upper())
    if not isinstance(level, int):
        raise ValueError(
            f"logging.level {cfg.level!r} is not a level; use DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    renderer: Processor
    if use_json(cfg, stream):
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_colors(stream), exception_formatter=_plain_exc)
    shared = _shared_processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_TAG, True)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _HANDLER_TAG, False) or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        noisy = logging.getLogger(name)
        noisy.handlers.clear()
        noisy.propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _colors(stream: IO[str]) -> bool:
    """Colour only on a real terminal."""
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty())


def _plain_exc(sio: IO[str], exc_info: Any) -> None:
    """Exceptions are already formatted (and redacted) by the shared chain."""
    return None


@contextmanager
def bind_call(call_id: str, **extra: Any) -> Iterator[None]:
    """Within this block (and tasks created in it) every log line carries `call_id`."""
    with structlog.contextvars.bound_contextvars(call_id=call_id, **extra):
        yield


def set_call(call_id: str, **extra: Any) -> None:
    """Bind the call id for the rest of the current task or context (no unbinding needed)."""
    structlog.contextvars.bind_contextvars(call_id=call_id, **extra)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (key-value events) that goes through the same pipeline."""
    return structlog.get_logger(name)
