"""Template rendering: slots filled with speech-normalised values, literal braces, clear errors."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.dialogue.render import RenderError, render, template_slots

TYPES = {"name": "name", "amount": "money", "due": "date", "phone": "phone"}
VALUES = {"name": "Jane", "amount": "$10.50", "due": "2025-03-05", "phone": "555-0100"}


@pytest.mark.parametrize(
    ("template", "out"),
    [
        ("Hello {name}.", "Hello Jane."),
        ("You owe {amount}.", "You owe ten dollars and fifty cents."),
        ("Due {due}.", "Due March fifth."),
        ("Call {phone}.", "Call five five five, zero one zero zero."),
        ("{ name } twice {name}", "Jane twice Jane"),
        ("Braces {{like this}}", "Braces {like this}"),
        ("  spaced   out  ", "spaced out"),
        ("No slots at all.", "No slots at all."),
    ],
)
def test_render(template: str, out: str) -> None:
    assert render(template, VALUES, TYPES, "en-US", dt.date(2025, 1, 1)) == out


def test_render_zh_locale() -> None:
    out = render("您的欠款{amount}，请于{due}前还款。", VALUES, TYPES, "zh-CN", dt.date(2025, 1, 1))
    assert out == "您的欠款十元五角，请于3月5日前还款。"


def test_render_missing_slot() -> None:
    with pytest.raises(RenderError, match="missing"):
        render("Hi {missing}", VALUES, TYPES, "en-US")


@pytest.mark.parametrize("template", ["Hi {Name}", "Hi {1x}", "Hi {", "Hi }", "Hi {a b}"])
def test_bad_templates(template: str) -> None:
    with pytest.raises(RenderError):
        template_slots(template)


def test_template_slots_order_and_dedup() -> None:
    assert template_slots("{b} {a} {b} {{c}}") == ("b", "a")
