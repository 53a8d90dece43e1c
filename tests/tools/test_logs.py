"""Structured logs: valid JSON lines, the call id bound, PII masked, stdlib routed through."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from agent.config import LoggingConfig
from agent.logs import bind_call, configure_logging, get_logger, use_json


@pytest.fixture()
def json_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="DEBUG", format="json"), stream=stream)
    yield stream
    structlog.contextvars.clear_contextvars()
    configure_logging(LoggingConfig(level="WARNING", format="json"), stream=io.StringIO())


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_stdlib_logging_comes_out_as_json_with_call_id_and_masked_phone(json_stream: io.StringIO) -> None:
    with bind_call("call-abc123"):
        logging.getLogger("agent.call.session").info("customer said call me at %s", "415-555-0132")
    (line,) = _lines(json_stream)
    assert line["call_id"] == "call-abc123"
    assert line["level"] == "info"
    assert line["logger"] == "agent.call.session"
    assert "415-555-0132" not in json.dumps(line)
    assert "[PHONE]" in str(line["event"])
    assert "timestamp" in line


def test_structlog_key_values_are_redacted(json_stream: io.StringIO) -> None:
    log = get_logger("agent.test")
    with bind_call("c-1"):
        log.warning(
            "turn heard",
            text="my card is 4111 1111 1111 1111 and mail jo@example.com",
            nested={"phone": "+86 138 0013 8000", "ok": 3},
            id_number="11010519491231002X",
        )
    (line,) = _lines(json_stream)
    raw = json.dumps(line, ensure_ascii=False)
    for secret in ("4111 1111 1111 1111", "jo@example.com", "138 0013 8000", "11010519491231002X"):
        assert secret not in raw
    assert line["text"] == "my card is [CARD] and mail [EMAIL]"
    assert line["nested"] == {"phone": "[PHONE]", "ok": 3}
    assert line["id_number"] == "[ID]"
    assert line["call_id"] == "c-1"


def test_call_id_is_unbound_after_the_block_and_survives_tasks(json_stream: io.StringIO) -> None:
    import asyncio

    async def in_task() -> None:
        logging.getLogger("agent.x").info("inside task")

    async def main() -> None:
        with bind_call("c-task"):
            task = asyncio.create_task(in_task())
        await task

    asyncio.run(main())
    logging.getLogger("agent.x").info("outside")
    first, second = [line for line in _lines(json_stream) if line["logger"] == "agent.x"]
    assert first["call_id"] == "c-task"
    assert "call_id" not in second


def test_exceptions_are_formatted_and_redacted(json_stream: io.StringIO) -> None:
    try:
        raise ValueError("bad number 13800138000")
    except ValueError:
        logging.getLogger("agent.x").exception("failed")
    (line,) = _lines(json_stream)
    assert "ValueError" in str(line["exception"])
    assert "13800138000" not in str(line["exception"])


def test_console_format_is_human_readable() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="INFO", format="console"), stream=stream)
    try:
        with bind_call("c-9"):
            logging.getLogger("agent.y").info("call 2025550143 started")
        out = stream.getvalue()
        assert "call [PHONE] started" in out and "c-9" in out
        with pytest.raises(json.JSONDecodeError):
            json.loads(out.splitlines()[0])
    finally:
        configure_logging(LoggingConfig(level="WARNING", format="json"), stream=io.StringIO())


def test_auto_picks_json_off_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_json(LoggingConfig(format="auto"), io.StringIO())
    assert not use_json(LoggingConfig(format="auto"), Tty())
    assert use_json(LoggingConfig(format="json"), Tty())


def test_bad_level_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="logging.level"):
        configure_logging(LoggingConfig(level="LOUD"), stream=io.StringIO())
