"""The simulator's table: ours against the naive dialer, or one run alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

ROWS: tuple[tuple[str, str], ...] = (
    ("attempts", "attempts dialled"),
    ("right_party_contacts", "right-party contacts"),
    ("contacts_per_100_attempts", "contacts per 100 attempts"),
    ("members_reached", "members reached"),
    ("promises", "promises to pay"),
    ("opt_outs", "opt-outs"),
    ("disputes_flagged", "disputes (flagged for a human)"),
    ("violations", "violations (independent checker)"),
    ("abandoned", "abandoned calls"),
    ("peak_slots_in_use", "peak call slots in use"),
)


def sim_table(runs: Sequence[Mapping[str, Any]]) -> Table:
    """One column per run (scheduler, naive); a ratio column when both are there."""
    first = runs[0]
    title = f"Campaign sim: {first['customers']:,} customers, {first['days']} days, seed {first['seed']}"
    table = Table(title=title)
    table.add_column("figure")
    for run in runs:
        table.add_column(str(run["mode"]), justify="right")
    both = len(runs) == 2
    if both:
        table.add_column("ratio", justify="right")
    for key, label in ROWS:
        cells = [f"{run[key]:,}" if isinstance(run[key], int) else f"{run[key]}" for run in runs]
        if both:
            a, b = runs[0][key], runs[1][key]
            cells.append(f"{a / b:.2f}x" if b else "-")
        table.add_row(label, *cells)
    return table
