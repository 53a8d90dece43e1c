"""Write PNGs of the console's main pages to docs/console/ (real models, demo calls in en-US and zh-CN).

Runs the real runtime on a fresh store, plays a demo call in each language through the real
server, and drives Debian's Chromium (Playwright) through the pages as each role would.
Usage: .venv/bin/python scripts/console_screenshots.py [--out docs/console]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.config import load_settings  # noqa: E402
from agent.console.browser import launch_options  # noqa: E402
from agent.console.demo_access import make_demo_accounts  # noqa: E402
from agent.demo.runner import LoopbackServer, fresh_demo_store, run_scenario  # noqa: E402
from agent.demo.scenarios import SCENARIOS  # noqa: E402
from agent.runtime import Runtime  # noqa: E402
from agent.server.app import create_app  # noqa: E402

NAME = "en-US/repayment_reminder.yaml"
VIEW = {"width": 1360, "height": 900}


async def sign_in(browser: object, base: str, name: str, password: str) -> object:
    page = await (await browser.new_context(viewport=VIEW)).new_page()  # type: ignore[attr-defined]
    await page.goto(f"{base}/console/login")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/console/")
    return page


async def shoot(out: Path) -> None:
    from playwright.async_api import async_playwright

    cfg = load_settings()
    cfg.store.url = fresh_demo_store("out/screenshots-store.db")
    cfg.engines.locales = ["en-US", "zh-CN"]  # type: ignore[list-item]
    cfg.server.console_secret_file = None
    runtime = await asyncio.to_thread(Runtime.load, cfg)
    password = make_demo_accounts(runtime.store)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    async with LoopbackServer(create_app(runtime)) as server, async_playwright() as p:
        base = server.base
        browser = await p.chromium.launch(**launch_options())
        login = await (await browser.new_context(viewport=VIEW)).new_page()
        await login.goto(f"{base}/console/login")
        await login.screenshot(path=str(out / "login.png"))

        operator = await sign_in(browser, base, "operator", password)
        await operator.goto(f"{base}/console/live")
        await operator.wait_for_selector("#live-status:text-is('live')")  # CSP forbids eval
        call = asyncio.create_task(run_scenario(runtime, server, SCENARIOS["en-US"]["happy_path"],
                                                locale="en-US"))
        await operator.wait_for_selector(".call .transcript li.customer", timeout=90000)
        await operator.screenshot(path=str(out / "live.png"), full_page=True)
        en = (await call).report["call_id"]
        zh = (await run_scenario(runtime, server, SCENARIOS["zh-CN"]["happy_path"], locale="zh-CN",
                                 number=101)).report["call_id"]

        officer = await sign_in(browser, base, "officer", password)
        await officer.goto(f"{base}/console/calls")
        await officer.screenshot(path=str(out / "calls.png"), full_page=True)
        for locale, call_id in (("en", en), ("zh", zh)):
            await officer.goto(f"{base}/console/calls/{call_id}")
            await officer.screenshot(path=str(out / f"call-{locale}.png"), full_page=True)
        await officer.goto(f"{base}/console/audit?verify=1")
        await officer.screenshot(path=str(out / "audit.png"))
        await officer.goto(f"{base}/console/suppression")
        await officer.fill("form[action$='/add'] input[name=phone]", "+1 202 555 0199")
        await officer.click("form[action$='/add'] button")
        await officer.fill("form[action$='/remove'] input[name=phone]", "+1 202 555 0199")
        await officer.fill("form[action$='/remove'] input[name=reason]", "re-consented in writing")
        await officer.click("form[action$='/remove'] button")
        await officer.screenshot(path=str(out / "suppression.png"), full_page=True)

        author = await sign_in(browser, base, "author", password)
        await author.goto(f"{base}/console/scripts/edit?name={NAME}")
        await author.wait_for_selector("#lint-state.good")
        text = await author.input_value("#script-text")
        threat = text.replace("Goodbye.", "Goodbye, or we will tell your employer.", 1)
        await author.fill("#script-text", threat)
        await author.wait_for_selector("#findings li.finding")
        await author.click("#findings li.finding")  # jumps to the finding's line
        await author.click("#diff")
        await author.wait_for_selector("#diff-out:has-text('@@')")
        await author.screenshot(path=str(out / "workbench.png"))
        await author.fill("#script-text", text.replace("Goodbye.", "Goodbye, and thank you.", 1))
        await author.wait_for_selector("#lint-state.good")
        await author.click("text=Submit this text for review")
        await author.wait_for_url(re.compile(r".*/console/scripts\?note=.*"))

        reviewer = await sign_in(browser, base, "reviewer", password)
        await reviewer.goto(f"{base}/console/scripts")
        await reviewer.screenshot(path=str(out / "scripts.png"), full_page=True)
        await browser.close()
    runtime.engines.close()
    print("\n".join(str(p) for p in sorted(await asyncio.to_thread(lambda: list(out.glob("*.png"))))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    asyncio.run(shoot(parser.parse_args().out))


if __name__ == "__main__":
    main()
