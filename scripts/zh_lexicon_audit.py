"""Audit the zh-CN voice's readings against two independent dictionaries (a review aid, not a gate).

Every word the voice reads in both zh-CN scripts (sample slot values filled, as the round trip
renders them) and every entry of prompts/zh-CN/pronunciation.yaml is compared with the phrase
readings of CC-CEDICT (which marks neutral tones) and of zdic's 词典 (which does not), both as
shipped in the `pypinyin-dict` package. A difference is printed for a person to judge: many are
intended (还款 huán, 上调 tiáo in the lending sense, 不/一 sandhi, neutral tones zdic leaves
out); the rest are lexicon errors. `pypinyin-dict` is not a runtime dependency of the project.

Usage: python scripts/zh_lexicon_audit.py
"""

from __future__ import annotations

import importlib
import re
import sys

import cn2an
from zh_common import every_slot
from zh_voice_roundtrip import SCRIPTS, TODAY

from agent.dialogue.loader import load_script
from agent.dialogue.presynth import all_says
from agent.tts.zh_g2p import MandarinG2P
from agent.tts.zh_lexicon import PronunciationLexicon, tone3

DICTIONARIES = {"cc-cedict": ("cc_cedict", 4), "zdic": ("zdic_cibs", 8)}


def _load(prefix: str, parts: int) -> dict[str, list[list[str]]]:
    table: dict[str, list[list[str]]] = {}
    for i in range(parts):
        table.update(importlib.import_module(f"pypinyin_dict.phrase_pinyin_data.{prefix}_{i}").phrases_dict)
    return table


def main() -> int:
    try:
        dictionaries = {name: _load(*spec) for name, spec in DICTIONARIES.items()}
    except ImportError:
        print("pypinyin-dict is not installed (pip install pypinyin-dict==0.9.0); nothing to compare with")
        return 1
    lexicon = PronunciationLexicon.load()
    g2p = MandarinG2P(lexicon)
    spoken: dict[str, tuple[str, ...]] = {}
    for path in SCRIPTS:
        script = load_script(path)
        for _say, text in all_says(script, every_slot(script, TODAY), today=TODAY):
            for run in re.findall(r"[\u4e00-\u9fff]+", cn2an.transform(text, "an2cn")):
                for r in g2p.readings(run):
                    spoken.setdefault(r.text, r.syllables)
    for word, syllables in lexicon.words.items():
        spoken.setdefault(word, syllables)
    differ = 0
    for word, ours in sorted(spoken.items()):
        for name, table in dictionaries.items():
            if len(word) > 1 and word in table and len(table[word]) == len(word):
                theirs = tuple(tone3(options[0]) for options in table[word])
                if theirs != ours:
                    differ += 1
                    print(f"{name:<9} {word}: voice {' '.join(ours)}  dictionary {' '.join(theirs)}")
    print(f"{len(spoken)} words read, {differ} differences to review")
    return 0


if __name__ == "__main__":
    sys.exit(main())
