"""Understand customer utterances: classify lines from stdin, or evaluate on a labelled TSV."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agent.cli.common import EXIT_FAILED, fail

app = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console(highlight=False)


def _build(locale: str, prompts: Path, rules_only: bool) -> Any:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from agent.nlu.factory import build_nlu

    try:
        return build_nlu(locale, prompts, semantic=not rules_only)
    except (OSError, ValueError) as exc:
        raise fail(f"cannot build the {locale} NLU: {exc}") from exc


@app.command()
def classify(
    locale: str = typer.Option("en-US", help="en-US or zh-CN."),
    prompts: Path = typer.Option(Path("prompts"), help="Folder with <locale>/nlu.yaml."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Skip the semantic layer."),
) -> None:
    """Read one utterance a line on stdin; write one JSON object a line.

    Example: echo "please stop calling me" | voice-agent nlu classify --locale en-US
    """
    nlu = _build(locale, prompts, rules_only)
    today = dt.date.today()
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        result = nlu.classify(text, today=today)
        row = {
            "text": text,
            "intent": result.intent,
            "confidence": result.confidence,
            "slots": dict(result.slots),
        }
        typer.echo(json.dumps(row, ensure_ascii=False))


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """Rows of text<TAB>intent[<TAB>family] as (text, intent); headers and `#` comments are skipped."""
    from agent.nlu.lofo import read_families

    return [(row.text, row.gold) for row in read_families(path)]


def evaluate(nlu: Any, rows: list[tuple[str, str]]) -> dict[str, Any]:
    """Accuracy, per-intent precision/recall, opt-out recall and false opt-outs, confusion, errors."""
    results = [nlu.classify(text) for text, _ in rows]
    pairs = [(gold, result.intent, text) for (text, gold), result in zip(rows, results, strict=True)]
    labels = sorted({g for g, _, _ in pairs} | {p for _, p, _ in pairs})
    confusion = Counter((g, p) for g, p, _ in pairs)
    per: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = confusion[(label, label)]
        predicted = sum(confusion[(g, label)] for g in labels)
        actual = sum(confusion[(label, p)] for p in labels)
        per[label] = {
            "precision": tp / predicted if predicted else 0.0,
            "recall": tp / actual if actual else 0.0,
            "support": actual,
        }
    negatives = [p for g, p, _ in pairs if g != "opt_out"]
    positives = [p for g, p, _ in pairs if g == "opt_out"]
    doubts = [r for r in results if r.intent == "opt_out" and r.doubtful]
    return {
        "opt_out_as_callback_later": sum(1 for g, p, _ in pairs if g == "opt_out" and p == "callback_later"),
        "doubtful_opt_outs": len(doubts),
        "n": len(pairs),
        "accuracy": sum(g == p for g, p, _ in pairs) / len(pairs) if pairs else 0.0,
        "opt_out_recall": sum(p == "opt_out" for p in positives) / len(positives) if positives else 1.0,
        "false_opt_out_rate": sum(p == "opt_out" for p in negatives) / len(negatives) if negatives else 0.0,
        "per_intent": per,
        "labels": labels,
        "confusion": {f"{g}->{p}": c for (g, p), c in sorted(confusion.items())},
        "errors": [{"text": t, "gold": g, "predicted": p} for g, p, t in pairs if g != p],
    }


_SHORT = {
    "opt_out": "opt",
    "affirm": "aff",
    "deny": "deny",
    "wrong_person": "wrong",
    "ask_is_ai": "isai",
    "ask_who_is_calling": "who",
    "promise_to_pay": "ptp",
    "already_paid": "paid",
    "dispute": "disp",
    "hardship": "hard",
    "callback_later": "cb",
    "request_human": "human",
    "repeat": "rep",
    "complaint": "compl",
    "unknown": "unk",
}


def _print(report: dict[str, Any]) -> None:
    table = Table(title=f"per intent ({report['n']} utterances)")
    for col in ("intent", "precision", "recall", "support"):
        table.add_column(col, justify="left" if col == "intent" else "right")
    for label, row in report["per_intent"].items():
        table.add_row(label, f"{row['precision']:.3f}", f"{row['recall']:.3f}", str(row["support"]))
    console.print(table)
    labels = report["labels"]
    short = {label: _SHORT.get(label, label[:5]) for label in labels}
    matrix = Table(title="confusion (rows: gold, columns: predicted)")
    matrix.add_column("gold \\ pred")
    for label in labels:
        matrix.add_column(short[label], justify="right")
    for gold in labels:
        cells = [str(report["confusion"].get(f"{gold}->{p}", "")) for p in labels]
        matrix.add_row(gold, *cells)
    console.print(matrix)
    console.print("[dim]" + ", ".join(f"{short[label]}={label}" for label in labels) + "[/dim]")
    for err in report["errors"]:
        console.print(f"  [red]✗[/red] {err['text']!r}: {err['gold']} → {err['predicted']}")
    console.print(
        f"[bold]accuracy {report['accuracy']:.3f}[/bold]  opt-out recall {report['opt_out_recall']:.3f}  "
        f"false opt-out {report['false_opt_out_rate']:.3f}"
    )


@app.command("eval")
def eval_(
    file: Path = typer.Argument(..., help="TSV of text<TAB>intent."),
    locale: str | None = typer.Option(None, help="en-US or zh-CN (default: from the file name, else en-US)."),
    prompts: Path = typer.Option(Path("prompts"), help="Folder with <locale>/nlu.yaml."),
    json_path: Path | None = typer.Option(None, "--json", help="Also write the report as JSON."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Skip the semantic layer."),
) -> None:
    """Per-intent precision/recall and the confusion matrix for a labelled TSV.

    Example: voice-agent nlu eval tests/nlu/corpus_en-US.tsv --locale en-US
    """
    if not file.exists():
        raise fail(f"no such file: {file}")
    locale = locale or ("zh-CN" if "zh-CN" in file.name else "en-US")
    try:
        rows = read_tsv(file)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    report = evaluate(_build(locale, prompts, rules_only), rows)
    report["locale"], report["file"] = locale, str(file)
    _print(report)
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not rows:
        raise typer.Exit(EXIT_FAILED)


@app.command("lofo")
def lofo(
    files: list[Path] = typer.Argument(..., help="Labelled TSVs; families: a 3rd column or # comments."),
    locale: str = typer.Option("en-US", help="en-US or zh-CN."),
    prompts: Path = typer.Option(Path("prompts"), help="Folder with <locale>/nlu.yaml."),
    json_path: Path | None = typer.Option(None, "--json", help="Also write the report as JSON."),
) -> None:
    """Leave-one-family-out: thresholds refitted without each family, then that family classified.

    Example: voice-agent nlu lofo tests/nlu/corpus_en-US*.tsv --locale en-US
    """
    from agent.nlu.lofo import leave_one_family_out, read_families

    rows = [row for f in files for row in read_families(f)]
    report = leave_one_family_out(_build(locale, prompts, False), rows)
    title = f"leave one family out ({report['n']} utterances, {len(report['families'])} families)"
    table = Table(title=title)
    for col in ("family", "n", "accuracy", "opt-out recall", "false opt-out"):
        table.add_column(col, justify="left" if col == "family" else "right")
    for name, row in report["families"].items():
        figures = (row["accuracy"], row["opt_out_recall"], row["false_opt_out_rate"])
        table.add_row(name, str(row["n"]), *(f"{x:.3f}" for x in figures))
    console.print(table)
    console.print(
        f"[bold]pooled: accuracy {report['accuracy']:.3f}  opt-out recall {report['opt_out_recall']:.3f}  "
        f"false opt-out {report['false_opt_out_rate']:.3f}[/bold]"
    )
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
