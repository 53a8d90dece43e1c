"""The console in a real browser: Debian's Chromium, headless, driven by Playwright.

Sign in; watch a demo call appear live with its transcript (real models, real time); approve a
script as a second user; refuse the author approving their own. Skipped only when Chromium or
Playwright is missing on a developer's machine; under CI that fails (the Makefile installs both).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.console.browser import chromium_path, launch_options
from agent.demo.runner import LoopbackServer
from agent.server.app import create_app
from tests.conftest import missing_prerequisite
from tests.console.conftest import PASSWORD, add_accounts

NAME = "en-US/repayment_reminder.yaml"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if chromium_path() is None:
        missing_prerequisite("Chromium is not installed (apt-get install chromium; make system-deps)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing_prerequisite("Playwright is not installed (pip install -e '.[dev]')")
    async with async_playwright() as p:
        launched = await p.chromium.launch(**launch_options())
        yield launched
        await launched.close()


async def sign_in(browser: Any, base: str, name: str) -> Any:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base}/console/login")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/console/")
    assert name in await page.inner_text("#who")
    return page


@pytest.fixture
async def served(fake_runtime: Any) -> AsyncIterator[tuple[Any, str]]:
    fake_runtime.settings.server.console_secret_file = None
    add_accounts(fake_runtime.store)
    async with LoopbackServer(create_app(fake_runtime)) as server:
        yield fake_runtime, server.base


async def test_sign_in_is_required_and_a_wrong_password_is_refused(browser: Any, served: Any) -> None:
    _, base = served
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base}/console/audit")
    assert "/console/login" in page.url
    await page.fill("input[name=name]", "cora")
    await page.fill("input[name=password]", "not-the-password")
    await page.click("button[type=submit]")
    assert "wrong name or password" in await page.inner_text("main")
    await page.fill("input[name=name]", "cora")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/audit$"))
    await page.click("text=Verify the whole chain")
    assert "Intact" in await page.inner_text("#verify-result")


async def test_a_second_user_approves_and_the_author_is_refused(browser: Any, served: Any) -> None:
    runtime, base = served
    author = await sign_in(browser, base, "carol")  # author and reviewer
    await author.goto(f"{base}/console/scripts/edit?name={NAME}")
    await author.wait_for_selector("#lint-state.good")
    text = await author.input_value("#script-text")
    await author.fill("#script-text", text.replace("Goodbye.", "Goodbye, take care.", 1))
    await author.click("#diff")
    await author.wait_for_selector("#diff-out:has-text('take care')")  # CSP: no wait_for_function
    await author.click("text=Submit this text for review")
    await author.wait_for_url(re.compile(r".*/console/scripts\?note=.*"))
    row = author.locator("#versions tbody tr").first
    assert "submitted" in await row.inner_text()
    await row.locator("text=Approve").click()
    assert "different reviewer" in await author.inner_text(".note")
    assert "take care" not in str(runtime.scripts[("repayment_reminder", "en-US")].model_dump())

    reviewer = await sign_in(browser, base, "bob")
    await reviewer.goto(f"{base}/console/scripts")
    await reviewer.locator("#versions tbody tr").first.locator("text=Approve").click()
    assert "approved by bob" in await reviewer.inner_text(".note")
    assert "approved" in await reviewer.locator("#versions tbody tr").first.inner_text()
    assert "take care" in str(runtime.scripts[("repayment_reminder", "en-US")].model_dump())


async def test_the_workbench_shows_lint_findings_by_rule_and_line(browser: Any, served: Any) -> None:
    _, base = served
    page = await sign_in(browser, base, "alice")
    await page.goto(f"{base}/console/scripts/edit?name={NAME}")
    await page.wait_for_selector("#lint-state.good")
    text = await page.input_value("#script-text")
    await page.fill("#script-text", text.replace("press 9", "press 7", 1) + "\nextra_key: 1\n")
    await page.wait_for_selector("#findings li.finding")
    rules = await page.eval_on_selector_all("#findings li.finding", "els => els.map(e => e.dataset.rule)")
    lines = await page.eval_on_selector_all("#findings li.finding", "els => els.map(e => e.dataset.line)")
    assert rules and any(lines)
    assert await page.locator(".gutter .bad-line").count() >= 1


@pytest.mark.models
@pytest.mark.slow
async def test_a_demo_call_appears_live_with_its_transcript(browser: Any, call_runtime: Any) -> None:
    from agent.demo.runner import run_scenario
    from agent.demo.scenarios import SCENARIOS

    call_runtime.settings.server.console_secret_file = None
    add_accounts(call_runtime.store)
    async with LoopbackServer(create_app(call_runtime)) as server:
        page = await sign_in(browser, server.base, "olga")
        await page.goto(f"{server.base}/console/live")
        await page.wait_for_selector("#live-status:text-is('live')")
        call = asyncio.create_task(run_scenario(call_runtime, server, SCENARIOS["en-US"]["happy_path"],
                                                locale="en-US", number=181))
        await page.wait_for_selector(".call .transcript li.agent", timeout=60000)
        first = await page.inner_text(".call .transcript li.agent")
        assert "AI" in first or "automated" in first
        await page.wait_for_selector(".call .transcript li.customer", timeout=60000)
        await page.wait_for_selector(".call .latency:has-text(' ms')", timeout=30000)  # voice-to-voice shown
        result = await call
        await page.wait_for_selector("#live-ended li", timeout=15000)
        ended = await page.inner_text("#live-ended li")
        assert result.report["call_id"] in ended and result.report["outcome"] in ended
        await page.click(f"#live-ended a:text('{result.report['call_id']}')")
        await page.wait_for_selector("#script-hash")
        assert re.fullmatch(r"[0-9a-f]{64}", (await page.inner_text("#script-hash")).strip())
