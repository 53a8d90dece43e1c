"""Talk to a script by typing as the customer: the real engine and NLU, no audio.

Type what the customer says; `/dtmf 9` presses a key, `/silence` lets the no-input timer
run out, `/quit` hangs up. Example: voice-agent chat --script repayment_reminder --locale zh-CN
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from agent.cli.common import fail


def _print_actions(console: Console, actions: list[Any]) -> list[str]:
    """Show the agent's actions; return what the next turn expects."""
    from agent.dialogue.events import EndCall, Listen, RecordOptOut, Say

    expected: list[str] = []
    for action in actions:
        if isinstance(action, Say):
            console.print(f"[bold cyan]agent[/] {action.text}  [dim]({action.state} · {action.say_id})[/dim]")
        elif isinstance(action, RecordOptOut):
            console.print(f"[red]  opt-out recorded ({action.via})[/red]")
        elif isinstance(action, EndCall):
            console.print(f"[bold]call ended: {action.outcome}[/bold]")
        elif isinstance(action, Listen):
            expected = list(action.expected)
    return expected


def chat(
    script: str = typer.Option(
        "repayment_reminder", "--script", "-s", help="Use case name or a script file."
    ),
    locale: str = typer.Option("en-US", help="en-US or zh-CN."),
    prompts: Path = typer.Option(Path("prompts"), help="The prompts folder."),
    slot: list[str] | None = typer.Option(None, help="Slot value as name=value (repeatable)."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Skip the semantic NLU layer."),
) -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from agent.dialogue import engine
    from agent.dialogue.events import CustomerTurn, KeyPress, NoInput
    from agent.dialogue.loader import ScriptError, load_script
    from agent.dialogue.samples import sample_slots
    from agent.nlu.factory import build_nlu

    path = Path(script) if script.endswith((".yaml", ".yml")) else prompts / locale / f"{script}.yaml"
    try:
        loaded = load_script(path)
    except ScriptError as exc:
        raise fail(str(exc)) from exc
    overrides = dict(item.split("=", 1) for item in slot or [] if "=" in item)
    today = dt.date.today()
    values = sample_slots(
        loaded, prompts, today, overrides=overrides, optional="temporary_limit" in overrides
    )
    nlu = build_nlu(loaded.meta.locale, prompts, semantic=not rules_only)
    console = Console(highlight=False)
    console.print(f"[dim]{loaded.meta.id} v{loaded.meta.version}; slots {values}[/dim]")
    console.print("[dim]type as the customer; /dtmf 9, /silence, /quit[/dim]")
    state, actions = engine.start(loaded, values, today=today)
    expected = _print_actions(console, actions)
    interactive = sys.stdin.isatty()
    while not state.ended:
        if interactive:
            console.print("[green]you  [/green]", end="")
        line = sys.stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text == "/quit":
            break
        if text.startswith("/dtmf"):
            event: Any = KeyPress(text.removeprefix("/dtmf").strip() or "9")
            console.print(f"[green]  (key {event.digit})[/green]")
        elif text == "/silence":
            event = NoInput()
            console.print("[green]  (silence)[/green]")
        else:
            result = nlu.classify(text, expected, today=today)
            console.print(
                f"[green]  {text}[/green]  [yellow]intent={result.intent} confidence={result.confidence:.2f}"
                f"{' slots=' + str(dict(result.slots)) if result.slots else ''}[/yellow]"
            )
            event = CustomerTurn(result.intent, result.confidence, dict(result.slots), text)
        state, actions = engine.step(loaded, state, event)
        expected = _print_actions(console, actions) or expected
        console.print(
            f"[dim]  state={state.state}{' outcome=' + str(state.outcome) if state.ended else ''}[/dim]"
        )
