"""The `voice-agent` command: one sub-command per module under agent/cli/."""

from __future__ import annotations

import typer

from agent.cli import (
    demo,
    keys,  # secrets: voice-agent keys generate
    models,
    serve,
)

app = typer.Typer(
    name="voice-agent",
    help="A compliant, CPU-first voice-agent runtime for consumer-finance calls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve", help=serve.__doc__)(serve.serve)
app.command("demo", help=demo.__doc__)(demo.demo)
app.add_typer(models.app, name="models")
app.add_typer(keys.app, name="keys")

for _name in ("audit", "suppression", "lint", "nlu", "chat", "preview", "talk", "bench", "campaign",
              "console", "script"):
    try:
        _module = __import__(f"agent.cli.{_name}", fromlist=["app"])
    except ModuleNotFoundError as _exc:  # a sub-command not built yet
        if _exc.name != f"agent.cli.{_name}":
            raise
        continue
    if isinstance(getattr(_module, "app", None), typer.Typer):
        app.add_typer(_module.app, name=_name)
    else:
        app.command(_name, help=_module.__doc__)(getattr(_module, _name))


def main() -> None:
    """Console entry point."""
    app()
