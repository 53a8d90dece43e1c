"""Shared CLI plumbing: settings, logging and one-line errors with reliable exit codes."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from agent.config import ConfigError, Settings, load_settings

EXIT_USAGE = 2  # bad arguments or configuration
EXIT_FAILED = 1  # the command ran and found a problem


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def settings(config: Path | None) -> Settings:
    """Load configuration or exit with a one-line error naming the bad key."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return load_settings(config)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


def setup_logging(level: str = "INFO") -> None:
    """Plain logging to stderr for the CLI (the server configures structured logs)."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
