"""The script model and loader: strict validation, author-friendly errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.dialogue.loader import ScriptError, load_script, load_script_text, load_scripts, read_yaml
from agent.dialogue.script import Script

DISCLOSURE = (
    "    disclosure:\n"
    "      - This is an automated AI assistant for {company_name}. Say stop calling or press 9 to stop.\n"
)
MINIMAL = """\
meta:
  id: t
  use_case: test_case
  locale: en-US
  version: 1
  jurisdiction: US
  purpose: servicing
slots:
  customer_name: name
  company_name: name
  amount_due: money
start: opening
states:
  opening:
    disclosure:
      - This is an automated AI assistant for {company_name}. Say stop calling or press 9 to stop.
    say: Am I speaking with {customer_name}?
    expect:
      affirm: details
      deny: bye
    dtmf:
      1: affirm
    hint: [yes, no, on, off]
  details:
    confirms_right_party: true
    say: You owe {amount_due}.
    end: completed
  bye:
    say: Goodbye.
    end: wrong_person
global:
  opt_out: {say: Okay. Goodbye.}
  ask_is_ai: {say: "Yes, I am an AI."}
  ask_who_is_calling: {say: "{company_name}."}
  complaint: {goto: bye}
  request_human: {end: request_human}
  unknown: {say: Pardon me., goto: bye}
  no_input: {say: Hello there., end: no_response}
  max_duration: {end: max_duration}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ScriptError) as info:
        load_script_text(text, "s.yaml")
    return [str(i) for i in info.value.issues]


def test_minimal_script_loads_with_friendly_coercions() -> None:
    script = load_script_text(MINIMAL, "s.yaml")
    assert script.meta.version == "1"
    assert script.states["opening"].dtmf == {"1": "affirm"}
    assert script.states["opening"].hint == ("yes", "no", "on", "off")
    assert script.states["opening"].say == ("Am I speaking with {customer_name}?",)
    assert script.opt_out_key == "9"
    assert script.account_slots == frozenset({"amount_due"})
    assert script.reveals("details") and not script.reveals("opening")
    assert script.source == "s.yaml"
    assert script.line_of("states", "details") == 24
    assert script.line_of("states", "opening", "say") == 17
    assert script.line_of("states", "opening", "disclosure", 0) == 16


def test_disclosure_true_flag_moves_say() -> None:
    text = MINIMAL.replace(
        DISCLOSURE + "    say: Am I speaking with {customer_name}?",
        "    disclosure: true\n"
        "    say: ['AI assistant for {company_name}. Press 9 to stop.', 'Is that {customer_name}?']",
    )
    state = load_script_text(text).states["opening"]
    assert state.say == () and len(state.disclosure) == 2


def test_model_is_frozen() -> None:
    script = load_script_text(MINIMAL)
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen models
        script.start = "bye"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        (
            "      affirm: details\n",
            "      affirm: details\n      opt_out: bye\n",
            20,
            "opt_out cannot be overridden",
        ),
        ("      deny: bye\n", "      deny: nowhere\n", 20, "'nowhere' is not a state"),
        ("    say: Goodbye.\n", "    say: Goodbye {nobody}.\n", 29, "{nobody} is not declared"),
        ("    say: Goodbye.\n", "    sya: Goodbye.\n", 29, "did you mean 'say'"),
        ("  locale: en-US", "  locale: fr-FR", 4, "en-US"),
        ("  purpose: servicing", "  purpose: sales", 7, "servicing"),
        ("    end: wrong_person", "    end: vanished", 30, "wrong_person"),
        ("start: opening", "start: nowhere", 12, "start state 'nowhere'"),
        ("      1: affirm", "      9: affirm", 22, "opt-out key"),
        (
            "  opt_out: {say: Okay. Goodbye.}",
            "  opt_out: {say: Okay., goto: bye}",
            32,
            "'goto' is not allowed here",
        ),
        (
            "  opt_out: {say: Okay. Goodbye.}",
            "  opt_out: {say: [One., Two.]}",
            32,
            "exactly one short sentence",
        ),
        ("  unknown: {say: Pardon me., goto: bye}", "  unknown: {say: Pardon me.}", 37, "needs `goto`"),
        ("    end: completed\n", "    end: completed\n    expect: {affirm: bye}\n", 28, "cannot have expect"),
        ("  complaint: {goto: bye}", "  complaint: {goto: bye, end: complaint}", 35, "not both"),
        ("  amount_due: money", "  amount_due: currency", 11, "money"),
    ],
)
def test_errors_name_file_line_and_problem(old: str, new: str, line: int, needle: str) -> None:
    assert old in MINIMAL
    problems = errors_of(MINIMAL.replace(old, new))
    assert any(p.startswith(f"s.yaml:{line}:") and needle in p for p in problems), problems


def test_missing_disclosure_in_start_state() -> None:
    text = MINIMAL.replace(DISCLOSURE, "")
    assert any("must carry the AI disclosure" in p for p in errors_of(text))


def test_disclosure_only_in_start_state() -> None:
    text = MINIMAL.replace("    say: Goodbye.\n", "    disclosure: I am an AI.\n    say: Goodbye.\n")
    assert any("only the start state" in p for p in errors_of(text))


def test_missing_section_is_reported() -> None:
    text = MINIMAL.split("global:")[0]
    assert any("'global' is required" in p for p in errors_of(text))


def test_duplicate_keys_are_errors() -> None:
    text = MINIMAL.replace("  bye:\n", "  details:\n    say: x\n    end: completed\n  bye:\n")
    problems = errors_of(text)
    assert any("appears twice" in p and "s.yaml:28:" in p for p in problems)


def test_bad_yaml_names_line() -> None:
    problems = errors_of(MINIMAL.replace("  opening:\n", "  opening:\n   - bad: [\n"))
    assert problems and problems[0].startswith("s.yaml:") and "not valid YAML" in problems[0]


def test_captured_slot_needs_state_needs() -> None:
    text = MINIMAL.replace(
        "  amount_due: money\n", "  amount_due: money\n  when: {type: date, capture: date}\n"
    )
    text = text.replace("    say: You owe {amount_due}.\n", "    say: You owe {amount_due} on {when}.\n")
    assert any("list it under this state's `needs`" in p for p in errors_of(text))
    fixed = text.replace(
        "    say: You owe {amount_due} on {when}.\n",
        "    needs: {when: bye}\n    say: You owe {amount_due} on {when}.\n",
    )
    assert load_script_text(fixed).captured_slots == {"when": "date"}


def test_captured_slot_cannot_be_required() -> None:
    slot = "  when: {type: date, capture: date, required: true}\n"
    text = MINIMAL.replace("  amount_due: money\n", "  amount_due: money\n" + slot)
    assert any("cannot be required" in p for p in errors_of(text))


def test_not_a_mapping() -> None:
    assert any("a script is a mapping" in p for p in errors_of("- just a list\n"))


def test_validate_from_dict_without_loader() -> None:
    raw, _ = read_yaml(MINIMAL)
    script = Script.model_validate(raw)
    assert script.line_of("states") is None
    raw["states"]["opening"]["expect"]["opt_out"] = "bye"
    with pytest.raises(ValueError, match="opt_out cannot be overridden"):
        Script.model_validate(raw)


def test_load_script_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="cannot read"):
        load_script(tmp_path / "nope.yaml")


def test_load_scripts_keys_by_use_case_and_locale(tmp_path: Path) -> None:
    (tmp_path / "en-US").mkdir()
    (tmp_path / "en-US" / "a.yaml").write_text(MINIMAL)
    (tmp_path / "en-US" / "nlu.yaml").write_text("locale: en-US\nintents: {}\n")
    scripts = load_scripts(tmp_path)
    assert list(scripts) == [("test_case", "en-US")]
    (tmp_path / "en-US" / "b.yaml").write_text(MINIMAL)
    with pytest.raises(ScriptError, match="already defined"):
        load_scripts(tmp_path)


def test_load_scripts_reports_every_broken_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL.replace("deny: bye", "deny: x"))
    other = MINIMAL.replace("use_case: test_case", "use_case: other").replace("affirm: details", "affirm: y")
    (tmp_path / "b.yaml").write_text(other)
    with pytest.raises(ScriptError) as info:
        load_scripts(tmp_path)
    assert {Path(i.file).name for i in info.value.issues} == {"a.yaml", "b.yaml"}


def test_shipped_prompts_directory_loads() -> None:
    root = Path(__file__).resolve().parents[2] / "prompts" / "en-US"
    scripts = load_scripts(root)
    assert ("repayment_reminder", "en-US") in scripts
