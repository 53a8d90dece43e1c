"""Sample slot values for a script (prompts/<locale>/samples.yaml), for chat and preview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import yaml

from agent.dialogue.script import Script

__all__ = ["sample_slots"]

_FALLBACK = {"money": "100.00", "date": "+7", "name": "Sam", "phone": "800-555-0100", "text": "sample"}


def sample_slots(
    script: Script,
    prompts_dir: Path,
    today: dt.date,
    *,
    overrides: Mapping[str, str] | None = None,
    optional: bool = True,
) -> dict[str, str]:
    """A value for every declared slot the customer does not supply ('+N' dates resolved)."""
    path = prompts_dir / script.meta.locale / "samples.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    values: dict[str, str] = {}
    for name, spec in script.slots.items():
        if spec.capture is not None or (not spec.required and not optional):
            continue
        raw = str((data or {}).get(name, _FALLBACK[spec.type]))
        if spec.type == "date" and raw.startswith("+"):
            raw = (today + dt.timedelta(days=int(raw[1:]))).isoformat()
        values[name] = raw
    values.update(overrides or {})
    return values
