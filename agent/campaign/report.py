"""A campaign report as a terminal table and as a PNG (matplotlib), from the store's report dict."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from rich.table import Table

FIGURES = (
    ("members", "members"),
    ("attempts", "attempts dialled"),
    ("right_party_contacts", "right-party contacts"),
    ("contacts_per_100_attempts", "contacts per 100 attempts"),
    ("promises", "promises to pay"),
    ("opt_outs", "opt-outs"),
    ("voicemails", "voicemails"),
    ("carrier_announcements", "carrier announcements"),
    ("flagged_for_human", "flagged for a human"),
    ("planned", "attempts planned"),
    ("dialing", "calls in progress"),
    ("abandoned", "abandoned calls"),
)


def report_table(report: Mapping[str, Any]) -> Table:
    """Figures, results and refusals by reason."""
    table = Table(title=f"Campaign {report['name']} ({report['status']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, label in FIGURES:
        table.add_row(label, str(report.get(key, 0)))
    for name, count in report.get("results", {}).items():
        table.add_row(f"result: {name}", str(count))
    for reason, count in report.get("refusals", {}).items():
        table.add_row(f"refused: {reason}", str(count))
    return table


def report_png(report: Mapping[str, Any]) -> bytes:
    """Two bar charts: results of dialled attempts, and refusals by reason."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    results = dict(report.get("results", {})) or {"none yet": 0}
    left.barh(list(results), list(results.values()), color="#3b7dd8")
    left.set_title(f"results ({report.get('attempts', 0)} attempts, {report.get('abandoned', 0)} abandoned)")
    refusals = dict(report.get("refusals", {})) or {"none": 0}
    right.barh(list(refusals), list(refusals.values()), color="#d8873b")
    right.set_title("refused by the gate, by reason")
    fig.suptitle(f"Campaign {report.get('name', '')}: {report.get('right_party_contacts', 0)} right-party "
                 f"contacts, {report.get('promises', 0)} promises, {report.get('opt_outs', 0)} opt-outs")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out.getvalue()
