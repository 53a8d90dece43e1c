"""Check scripts for compliance (SPEC 5.3): exit status 1 on any error.

Example: voice-agent lint prompts/ --format json
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from agent.cli.common import EXIT_FAILED, fail


def lint(
    paths: list[Path] = typer.Argument(None, help="Script files or folders (default: prompts/)."),
    format: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    from agent.cli.common import settings
    from agent.compliance.callback import OfficialNumbers
    from agent.dialogue.linter import find_scripts, lint_paths

    if format not in ("text", "json"):
        raise fail(f"unknown format {format!r}; use text or json")
    targets = paths or [Path("prompts")]
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        raise fail(f"no such file or folder: {missing[0]}")
    files = find_scripts(targets)
    official = OfficialNumbers.parse(settings(None).compliance.official_numbers)
    findings = lint_paths(targets, official=official.contains)
    if format == "json":
        body = {"scripts": [str(f) for f in files], "errors": [f.to_dict() for f in findings]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            typer.echo(str(finding))
        bad = len({f.file for f in findings})
        typer.echo(f"{len(files)} script(s) checked, {len(findings)} error(s) in {bad} file(s)")
    if findings:
        raise typer.Exit(EXIT_FAILED)
