"""The ops dashboard in a real browser: the admin key, today's figures, providers, and replaying poison."""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable

import aiohttp
from playwright.async_api import Page, expect

from core.infra.connections import connections
from core.infra.job_queue import POISON_QUEUE
from core.models import EvaluateJob, JobMessage
from testing.app_stack import MASTER_KEY
from testing.interview_client import start_interview

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

    await page.goto("/ops.html")
    key_field = page.get_by_label("Admin key")
    await expect(key_field).to_be_focused()

    await key_field.fill("not-the-key")
    await key_field.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("Wrong admin key")
    await expect(page.locator("#dashboard")).to_be_hidden()

    await key_field.fill(MASTER_KEY)
    await page.get_by_role("button", name="Show the dashboard").click()
    await expect(page.get_by_role("alert")).to_be_hidden()
    await expect(page.get_by_role("heading", name=re.compile(r"^Today · \d{4}-\d{2}-\d{2}$"))).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('mock-interview:admin-key')") == MASTER_KEY

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
    await expect(page.locator("#latency tr[data-path]")).to_have_count(2)
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
