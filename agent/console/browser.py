"""Debian's Chromium driven headless by Playwright, for the console's browser tests and screenshots.

Playwright's own browser downloads are never used: the project's set-up installs the
`chromium` Debian package (Makefile system-deps) and Playwright launches that binary.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    for candidate in (os.environ.get("VOICE_AGENT_CHROMIUM"), *CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def launch_options() -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch` (root needs --no-sandbox, as in containers)."""
    path = chromium_path()
    if path is None:
        raise FileNotFoundError("Chromium is not installed: apt-get install chromium (make system-deps)")
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return {"executable_path": path, "headless": True, "args": args}
