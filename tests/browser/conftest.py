"""A real Chromium, driven by Playwright, against the devhost serving web/ and the API (the `stack` fixture).

Chromium is the distribution's package (/usr/bin/chromium, or CHROMIUM_PATH), never a Playwright
download. Every page is served with the headers staticwebapp.config.json gives it on Azure, so a
Content-Security-Policy violation fails the test the same way it would break the deployed page."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Route, async_playwright

from testing.app_stack import ROOT, Stack

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Long enough for a queued answer: the queue is polled at most every 0.5 s (host.json maxPollingInterval).
WAIT_MS = 20_000


@pytest.fixture(scope="session")
def deployed_headers() -> dict[str, str]:
    """The headers Azure Static Web Apps adds to every page (staticwebapp.config.json globalHeaders)."""
    config = json.loads((ROOT / "web" / "staticwebapp.config.json").read_text("utf-8"))
    return config["globalHeaders"]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it. "
            "Install it with `apt-get install -y chromium` (or set CHROMIUM_PATH)."
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def context(
    browser: Browser, stack: Stack, deployed_headers: dict[str, str]
) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(base_url=stack.base_url, viewport=DESKTOP)
    context.set_default_timeout(WAIT_MS)

    async def with_deployed_headers(route: Route) -> None:
        if route.request.resource_type != "document":
            await route.continue_()
            return
        response = await route.fetch()
        await route.fulfill(response=response, headers={**response.headers, **deployed_headers})

    # The API is left alone: only pages get the static site's headers, and long-polls pass untouched.
    await context.route(lambda url: "/api/" not in url, with_deployed_headers)
    yield context
    await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A page that fails the test on an uncaught script error or a Content-Security-Policy violation."""
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught error: {error}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP violation: {message.text}")

    page.on("console", on_console)
    yield page
    assert not problems, "\n".join(problems)


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Awaitable[None]]:
    """Save the page as it is now, at desktop and at phone width, as test-artifacts/screenshots/<test>-<what>-*.png."""

    async def take(what: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stem = f"{request.node.name.removeprefix('test_')}-{what}"
        await page.screenshot(path=SCREENSHOTS / f"{stem}-desktop.png", full_page=True)
        await page.set_viewport_size(PHONE)
        await page.screenshot(path=SCREENSHOTS / f"{stem}-phone.png", full_page=True)
        await page.set_viewport_size(DESKTOP)

    return take
