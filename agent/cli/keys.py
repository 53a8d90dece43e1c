"""`voice-agent keys generate`: fresh values for every secret the configuration holds."""

from __future__ import annotations

import typer

from agent.server.default_secrets import fresh_env_lines

app = typer.Typer(help="Secrets: print fresh values for the configured keys.", no_args_is_help=True)


@app.callback()
def _main() -> None:
    """Secret management commands."""


@app.command()
def generate() -> None:
    """Print fresh values (environment form) for API keys, the phone-hash key and the data key.

    A new phone-hash or data key makes an existing store unreadable: use it for a new store.
    Example: voice-agent keys generate > .env
    """
    for line in fresh_env_lines():
        typer.echo(line)
