"""The ops dashboard in a real browser: the ops key, today's figures, clients, providers, and replaying poison
and failed callbacks."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, Request, Route, expect

from core.infra.connections import connections
from core.infra.job_queue import POISON_QUEUE
from core.models import EvaluateJob, JobMessage
from devhost.stack import start_azurite, start_devhost
from testing.app_stack import MASTER_KEY, NO_CLIENT_LIMITS, OPS_KEY, ROOT, Services
from testing.interview_client import start_interview
from tests.browser.conftest import SCREENSHOTS

Screenshot = Callable[[str], Awaitable[None]]


async def poison_a_harmless_job(http: aiohttp.ClientSession) -> str:
    """Put on the poison queue a job that is safe to replay: its turn is scored already, so the worker
    counts it as a duplicate and drops it. Returns the interview id the job names."""
    candidate = await start_interview(http)
    status, _ = await candidate.answer(1, "I don't know")
    assert status == 200
    job = JobMessage(job=EvaluateJob(interview_id=candidate.id, turn=1)).model_dump_json()
    poison = await connections().queue(POISON_QUEUE, raw=True)
    await poison.clear_messages()  # what other tests left there would change the counts shown
    await poison.send_message(base64.b64encode(job.encode()).decode())
    return candidate.id


async def test_the_dashboard_shows_the_day_and_replays_poison(
    page: Page, http: aiohttp.ClientSession, screenshot: Screenshot
) -> None:
    interview_id = await poison_a_harmless_job(http)

    ops_requests: list[Request] = []
    page.on("request", lambda request: ops_requests.append(request) if "/api/ops/" in request.url else None)
    await page.goto("/ops.html")
    key_field = page.get_by_label("Ops key")
    await expect(key_field).to_be_focused()

    await key_field.fill("not-the-key")
    await key_field.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("Wrong ops key")
    await expect(page.locator("#dashboard")).to_be_hidden()
    # The host's master key is not the ops key.
    await key_field.fill(MASTER_KEY)
    await key_field.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("Wrong ops key")

    await key_field.fill(OPS_KEY)
    await page.get_by_role("button", name="Show the dashboard").click()
    await expect(page.get_by_role("alert")).to_be_hidden()
    await expect(page.get_by_role("heading", name=re.compile(r"^Today · \d{4}-\d{2}-\d{2}$"))).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('mock-interview:ops-key')") == OPS_KEY
    # The key travels in its header only: never in a URL.
    assert ops_requests
    assert all(OPS_KEY not in request.url and "?" not in request.url for request in ops_requests)
    signed_in = [request for request in ops_requests if request.headers.get("x-ops-key") == OPS_KEY]
    assert signed_in and all("x-functions-key" not in request.headers for request in ops_requests)

    # The clients panel: the limits in force (the test stack has them off) and the day's clients.
    await expect(page.get_by_role("heading", name="Clients today")).to_be_visible()
    await expect(page.locator("#clients-limits")).to_contain_text("Per client: no rate limit")

    # Today's figures.
    tiles = page.locator("#tiles")
    interviews_tile = tiles.locator(".tile").filter(has_text="Interviews today")
    await expect(interviews_tile.locator("dd")).to_have_text(re.compile(r"^[1-9]"))
    await expect(tiles.locator(".tile").filter(has_text="Cache hit rate")).to_be_visible()
    await expect(tiles.locator(".tile").filter(has_text="Provider calls per interview")).to_be_visible()
    layers = page.locator("#layers tr[data-layer]")
    await expect(layers).to_have_count(7)
    assert await layers.evaluate_all("rows => rows.map(row => row.dataset.layer)") == [
        "template",
        "local",
        "cache",
        "near_duplicate",
        "dedup",
        "batched",
        "remote",
    ]
    await expect(page.locator("#layers caption").first).to_have_text(
        re.compile(r"answered without a remote call\.$")
    )
    await expect(layers.filter(has_text="Templates").locator("td.number")).to_have_text(re.compile(r"^[1-9]"))

    # What the day spent, in all and per interview (there is at least one interview today).
    await expect(page.get_by_role("heading", name="Spent today")).to_be_visible()
    spent = page.locator("#spent tr[data-spent]")
    await expect(spent).to_have_count(6)
    assert await spent.evaluate_all("rows => rows.map(row => row.dataset.spent)") == [
        "remote_calls",
        "redis_commands",
        "redis_backup_commands",
        "queue_messages",
        "table_operations",
        "function_executions",
    ]
    executions = page.locator("#spent tr[data-spent=function_executions] td.number")
    await expect(executions.first).to_have_text(re.compile(r"^[1-9]"))
    await expect(executions.nth(1)).to_have_text(re.compile(r"^\d[\d,]*(\.\d+)?$"))
    await expect(page.locator("#latency tr[data-path]")).to_have_count(3)
    # The test stack has no provider keys: the capacity panel says so instead of showing zeros.
    await expect(page.locator("#capacity")).to_contain_text("No provider keys are configured")
    await expect(page.locator("#calls-chart svg[role=img]")).to_be_visible()
    await expect(page.locator("#hit-rate-chart svg[role=img]")).to_be_visible()

    # The provider pool: the built-in evaluator is always there, with its quota bar and state.
    local = page.locator("#providers tr[data-provider=local]")
    await expect(local.locator(".state")).to_have_text("ok")
    await expect(local.locator(".quota .bar")).to_be_visible()

    # The poison queue: the message is listed, replayed, and the queue is empty afterwards.
    poison_count = page.locator("#poison-count")
    await expect(poison_count).to_have_text(re.compile(r"^1 message "))
    await expect(page.locator("#poison-messages")).to_contain_text(interview_id)
    await screenshot("with-poison")

    await page.get_by_role("button", name="Replay onto the jobs queue").click()
    await expect(page.locator("#replay-result")).to_have_text("Replayed 1 message onto the jobs queue.")
    await expect(poison_count).to_have_text("Empty: no failed jobs.")
    await expect(page.get_by_role("button", name="Replay onto the jobs queue")).to_be_disabled()
    await expect(page.locator("#poison-messages")).to_be_empty()

    # It refreshes itself.
    updated = await page.locator("#refresh-status").text_content()
    await expect(page.locator("#refresh-status")).not_to_have_text(updated or "", timeout=8_000)
    await screenshot("after-replay")


@pytest.fixture(scope="module")
def limited_host(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app instance with the per-client limits on (one custom role a day) and storage of its own."""
    workdir = tmp_path_factory.mktemp("ops-clients")
    with start_azurite(workdir / "azurite", in_memory=True) as azurite:
        env = {
            "REDIS_URL": services.redis_url.rsplit("/", 1)[0] + "/6",
            "AzureWebJobsStorage": azurite.url,
            "OPS_KEY": OPS_KEY,
            "RATE_LIMIT_PER_MINUTE": "30",
            "RATE_LIMIT_BURST": "10",
            "DAILY_INTERVIEWS_PER_CLIENT": "20",
            "DAILY_CUSTOM_ROLES_PER_CLIENT": "1",
            "MODEL_CALL_SHARE_PER_CLIENT": "0.05",
        }
        with start_devhost(ROOT, env) as host:
            yield host.url


@pytest.fixture
async def limited_page(browser: Browser, limited_host: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=limited_host, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = await context.new_page()
    yield page
    await context.close()


async def test_the_clients_panel_shows_the_days_clients_hashed_and_who_was_limited(
    limited_page: Page, limited_host: str
) -> None:
    page = limited_page
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.31", 0))
    async with aiohttp.ClientSession(base_url=limited_host, connector=connector) as http:
        custom = {"role": "custom", "custom_role": "Data engineer (Spark)"}
        candidate = await start_interview(http, **custom)
        await candidate.answer(1, "I don't know")
        body = {"role": "custom", "custom_role": "Site reliability lead", "level": "mid", "kind": "mixed"}
        async with http.post("/api/interviews", json=body) as refused:
            assert refused.status == 429

    await page.goto("/ops.html")
    await page.get_by_label("Ops key").fill(OPS_KEY)
    await page.get_by_role("button", name="Show the dashboard").click()
    await expect(page.get_by_role("heading", name="Clients today")).to_be_visible()
    limits = page.locator("#clients-limits")
    await expect(limits).to_contain_text("30 writes a minute (bursts of 10)")
    await expect(limits).to_contain_text("1 custom role a day")
    await expect(limits).to_contain_text("5% of the day's model calls")

    top = page.locator("#clients-top tbody tr")
    await expect(top).to_have_count(1)
    client = await top.first.get_attribute("data-client")
    assert client and re.fullmatch(r"[0-9a-f]{16}", client)
    await expect(top.first.locator("td").nth(1)).to_have_text("1")  # interviews started, not refused
    await expect(top.first.locator("td").nth(2)).to_have_text("1")  # of them for a custom role
    limited = page.locator("#clients-limited tbody tr")
    await expect(limited).to_have_count(1)
    await expect(limited.first.locator("td.limited")).to_have_text("custom roles a day ×1")
    assert "127.0.0.31" not in await page.locator("#clients").inner_text()
    await page.locator("#clients").screenshot(path=SCREENSHOTS / "ops-clients-panel.png")


async def test_the_failed_callbacks_panel_says_when_it_cannot_be_read(page: Page) -> None:
    # The listing answers as the app does to an error of its own; the rest of the dashboard is unaffected.
    async def failing(route: Route) -> None:
        error = {"code": "internal_error", "message": "something went wrong on our side; try again"}
        await route.fulfill(status=500, content_type="application/json", body=json.dumps({"error": error}))

    await page.route("**/api/ops/callbacks/failed", failing)
    await page.goto("/ops.html")
    await page.get_by_label("Ops key").fill(OPS_KEY)
    await page.get_by_role("button", name="Show the dashboard").click()
    count = page.locator("#callbacks-failed-count")
    await expect(count).to_have_text("The failed callbacks could not be read (internal_error).")
    await expect(page.locator("#callbacks-failed")).to_be_empty()
    await expect(page.get_by_role("alert")).to_be_hidden()
    await expect(page.locator("#providers tr[data-provider=local]")).to_be_visible()

    # Once the route answers again, the next refresh shows the queue (empty: this app sends no callbacks).
    await page.unroute("**/api/ops/callbacks/failed")
    await page.get_by_role("button", name="Refresh now").click()
    await expect(count).to_have_text("Empty: every callback was delivered or is still being tried.")
    await expect(page.get_by_role("button", name="Replay the failed callbacks")).to_be_disabled()


@dataclass
class Receiver:
    """A callback receiver in this process: 500 to every POST while `down`, 200 otherwise."""

    down: bool = True
    received: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        status = 500 if self.down else 200
        self.received.append((status, json.loads(await request.read())))
        return web.Response(status=status, text="thanks")


@dataclass
class CallbackHost:
    url: str
    receiver: Receiver


@pytest.fixture(scope="module")
async def callback_host(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CallbackHost]:
    """An app instance that sends callbacks and gives up after three quick attempts (no wait between them),
    with storage of its own (the shared host polls the callbacks queue too, with settings of its own), and
    the receiver's origin exempt from the https and public-address checks (CALLBACK_INSECURE_ORIGINS,
    test-only)."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    workdir = tmp_path_factory.mktemp("ops-callbacks")
    try:
        with start_azurite(workdir / "azurite", in_memory=True) as azurite:
            env = {
                "REDIS_URL": services.redis_url,
                "AzureWebJobsStorage": azurite.url,
                "OPS_KEY": OPS_KEY,
                **NO_CLIENT_LIMITS,
                "CALLBACK_SIGNING_KEY": "test-callback-signing-key",
                "CALLBACK_INSECURE_ORIGINS": receiver.url,
                "CALLBACK_RETRY_SECONDS": "0,0",
            }
            # The devhost starts in a thread: this event loop must keep serving the receiver meanwhile.
            host_context = start_devhost(ROOT, env)
            started = await asyncio.to_thread(host_context.__enter__)
            try:
                yield CallbackHost(started.url, receiver)
            finally:
                await asyncio.to_thread(host_context.__exit__, None, None, None)
    finally:
        await runner.cleanup()


@pytest.fixture
async def callback_page(browser: Browser, callback_host: CallbackHost) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=callback_host.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught error: {error}"))
    yield page
    await context.close()
    assert not problems, "\n".join(problems)


async def test_a_callback_that_failed_for_good_is_listed_and_replayed_from_the_dashboard(
    callback_page: Page, callback_host: CallbackHost
) -> None:
    page, receiver = callback_page, callback_host.receiver
    async with aiohttp.ClientSession(base_url=callback_host.url) as http:
        candidate = await start_interview(http, callback_url=f"{receiver.url}/hooks")
        await candidate.answer_and_wait(1, "I don't know")

    await page.goto("/ops.html")
    await page.get_by_label("Ops key").fill(OPS_KEY)
    await page.get_by_role("button", name="Show the dashboard").click()
    await expect(page.get_by_role("heading", name="Failed callbacks")).to_be_visible()

    # Three attempts, all refused, then it waits in the failed queue and the panel (refreshed every 5 s) lists it.
    count = page.locator("#callbacks-failed-count")
    await expect(count).to_have_text("1 event failed every attempt and waits here.", timeout=60_000)
    rows = page.locator("#callbacks-failed tbody tr")
    await expect(rows).to_have_count(1)
    failed = rows.first
    assert await failed.get_attribute("data-event") == f"{candidate.id}-1"
    cells = failed.locator("td")
    await expect(cells.nth(0)).to_have_text(f"{candidate.id[:8]}…")
    await expect(cells.nth(0).locator("code")).to_have_attribute("title", candidate.id)
    await expect(cells.nth(1)).to_have_text("turn.ready (turn 1)")
    await expect(cells.nth(2)).to_have_text("1")
    await expect(cells.nth(3)).to_have_text("3")
    await expect(cells.nth(4)).to_have_text("HTTP 500")
    await expect(cells.nth(5)).to_have_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    await expect(page.locator("#callbacks-failed caption")).to_have_text(
        "The oldest failed callbacks, oldest first."
    )
    assert [status for status, _ in receiver.received] == [500, 500, 500]
    await page.locator("section[aria-labelledby=callbacks-failed-title]").screenshot(
        path=SCREENSHOTS / "ops-failed-callbacks.png"
    )

    # The receiver is back: the replay puts the event back on the callbacks queue, and it is delivered.
    receiver.down = False
    replay = page.get_by_role("button", name="Replay the failed callbacks")
    await replay.click()
    await expect(page.get_by_role("status").filter(has_text="callbacks queue")).to_have_text(
        "Put 1 event back on the callbacks queue, each with its retries again."
    )
    await expect(count).to_have_text("Empty: every callback was delivered or is still being tried.")
    await expect(rows).to_have_count(0)
    await expect(replay).to_be_disabled()
    for _ in range(120):
        if any(status == 200 for status, _ in receiver.received):
            break
        await asyncio.sleep(0.5)
    delivered = [event for status, event in receiver.received if status == 200]
    assert len(delivered) == 1, receiver.received
    assert delivered[0]["type"] == "turn.ready"
    assert delivered[0]["data"] == receiver.received[0][1]["data"]  # the same event, once
