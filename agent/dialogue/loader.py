"""Load scripts from YAML, remembering the line of every entry so errors name file and line."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from agent.dialogue.problems import INVALID, INVALID_FIX, Path, ScriptProblems
from agent.dialogue.script import Script

__all__ = ["ScriptError", "ScriptIssue", "load_script", "load_script_text", "load_scripts", "read_yaml"]


@dataclass(frozen=True, slots=True)
class ScriptIssue:
    """One problem in a script file: where it is, what is wrong, its lint rule id and a one-line fix."""

    file: str
    line: int | None
    where: str
    message: str
    rule: str = INVALID
    fix: str = INVALID_FIX

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: {self.where}: {self.message}" if self.where else f"{at}: {self.message}"


class ScriptError(ValueError):
    """A script (or several) failed to load; `issues` holds every problem found."""

    def __init__(self, issues: list[ScriptIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class _Loader(yaml.SafeLoader):
    """Safe YAML where only true/false are booleans, so `yes`, `no`, `on` stay words."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], file: str, issues: list[ScriptIssue]) -> None:
    """Record the 1-based line of every mapping key and list item; flag duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            sub = (*path, key)
            if sub in lines:
                where = ".".join(map(str, sub))
                issues.append(
                    ScriptIssue(
                        file,
                        key_node.start_mark.line + 1,
                        where,
                        f"{key!r} appears twice (first on line {lines[sub]}); keep one",
                    )
                )
            lines.setdefault(sub, key_node.start_mark.line + 1)
            _walk(value_node, sub, lines, file, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, file, issues)


def read_yaml(text: str, file: str = "<string>") -> tuple[Any, dict[Path, int]]:
    """Parse YAML text into plain data plus a map from entry path to line; raises ScriptError."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        issue = ScriptIssue(
            file,
            line,
            "",
            f"not valid YAML: {exc.problem or exc}",
            "yaml-syntax",
            "Correct the YAML syntax at this line.",
        )
        raise ScriptError([issue]) from exc
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    issues: list[ScriptIssue] = []
    if node is not None:
        _walk(node, (), lines, file, issues)
    if issues:
        raise ScriptError(issues)
    return data, lines


def _known_keys() -> list[str]:
    """Every key the script format knows, for 'did you mean' hints."""
    from agent.dialogue import script as model

    names: set[str] = set()
    for cls in (
        model.Script,
        model.Meta,
        model.SlotSpec,
        model.State,
        model.Handler,
        model.OptOutHandler,
        model.Globals,
        model.Settings,
    ):
        names.update(f.alias or n for n, f in cls.model_fields.items())
    return sorted(names)


def _line_for(loc: Path, lines: dict[Path, int]) -> int | None:
    """Line of the deepest entry of `loc` that the YAML had (pydantic adds its own loc parts)."""
    found: int | None = None
    current: Path = ()
    for part in loc:
        candidate = (*current, part)
        if candidate in lines:
            current, found = candidate, lines[candidate]
    return found


def _issues(exc: ValidationError, lines: dict[Path, int], file: str) -> list[ScriptIssue]:
    """Turn pydantic errors into file:line issues in the author's terms."""
    out: list[ScriptIssue] = []
    for err in exc.errors():
        loc: Path = tuple(err["loc"])
        error = (err.get("ctx") or {}).get("error")
        clean = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or "(" in p)))
        if isinstance(error, ScriptProblems):
            for problem in error.problems:
                full = (*clean, *problem.path)
                line = _line_for(full, lines) or 1
                out.append(
                    ScriptIssue(
                        file, line, ".".join(map(str, full)), problem.message, problem.rule, problem.fix
                    )
                )
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            key = str(clean[-1]) if clean else "?"
            guess = difflib.get_close_matches(key, _known_keys(), n=1)
            if key in _known_keys():
                message = f"{key!r} is not allowed here"
            else:
                message = f"unknown key {key!r}" + (f" (did you mean {guess[0]!r}?)" if guess else "")
        elif err["type"] == "missing":
            message = f"{clean[-1]!r} is required here" if clean else message
        out.append(ScriptIssue(file, _line_for(loc, lines) or 1, ".".join(map(str, clean)), message))
    return out


def load_script_text(text: str, file: str = "<string>") -> Script:
    """Parse and validate one script from YAML text; raises ScriptError naming file and line."""
    data, lines = read_yaml(text, file)
    if not isinstance(data, dict):
        raise ScriptError(
            [ScriptIssue(file, 1, "", "a script is a mapping with meta, slots, start, states, global")]
        )
    try:
        script = Script.model_validate(data)
    except ValidationError as exc:
        raise ScriptError(_issues(exc, lines, file)) from exc
    script.attach_source(file, lines)
    return script


def load_script(path: str | FsPath) -> Script:
    """Load and validate one script file."""
    file = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError([ScriptIssue(file, None, "", f"cannot read the file: {exc.strerror}")]) from exc
    return load_script_text(text, file)


def _is_script(path: FsPath) -> bool:
    """Scripts are the YAML files whose top level has `meta:` (lexicons such as nlu.yaml are not)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return True
    return re.search(r"^meta\s*:", text, re.M) is not None


def load_scripts(directory: str | FsPath) -> dict[tuple[str, str], Script]:
    """Load every script under `directory` keyed by (use_case, locale); all problems reported at once."""
    scripts: dict[tuple[str, str], Script] = {}
    issues: list[ScriptIssue] = []
    for path in sorted(FsPath(directory).rglob("*.y*ml")):
        if not _is_script(path):
            continue
        try:
            script = load_script(path)
        except ScriptError as exc:
            issues.extend(exc.issues)
            continue
        key = (script.meta.use_case, script.meta.locale)
        if key in scripts:
            issues.append(
                ScriptIssue(
                    str(path),
                    script.line_of("meta", "use_case"),
                    "meta.use_case",
                    f"{key[0]} / {key[1]} is already defined in {scripts[key].source}",
                    "duplicate-script",
                    "Give each script its own use_case and locale.",
                )
            )
            continue
        scripts[key] = script
    if issues:
        raise ScriptError(issues)
    return scripts
