"""YAML for NLU data files: safe, and only true/false are booleans (`no`, `on`, `yes` stay words)."""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["load_words_yaml"]


class _WordsLoader(yaml.SafeLoader):
    """Safe loader whose implicit booleans are only true/false."""


_WordsLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WordsLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_words_yaml(text: str) -> Any:
    """Parse one YAML document; raises yaml.YAMLError (its message names the line)."""
    return yaml.load(text, Loader=_WordsLoader)
