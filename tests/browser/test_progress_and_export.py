"""The candidate's progress kept in the browser ("Your progress": trends, weakest criterion, questions to
practise), "Delete my data" (local and on the server), and the report downloaded as Markdown and JSON,
in Chromium against the real devhost."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Dialog, Page, Request, Route, expect
from test_candidate_page import (
    CRITERIA,
    Screenshot,
    answer,
    expect_feedback,
    start_interview,
    stored_session,
)

from testing.interview_client import unique_answer

HISTORY_KEY = "mock-interview:history:v1"
CRITERION_KEYS = [name.lower() for name in CRITERIA]


async def finish_interview(page: Page, name: str, first_answer: str = "I don't know") -> dict[str, Any]:
    """A whole 3-question interview through the page, up to its report; the session it was kept under."""
    await start_interview(page, name=name)
    session = await stored_session(page)
    await answer(page, first_answer, expected_status=200 if first_answer == "I don't know" else 202)
    for turn in (1, 2):
        await expect_feedback(page, turn)
        await page.get_by_role("button", name="Next question").click()
        await expect(page.locator("#question-number")).to_have_text(f"Question {turn + 1} of 3")
        await answer(page, "I don't know", expected_status=200)
    await expect_feedback(page, 3)
    await expect(page.locator("#report").get_by_role("heading", name="Your report")).to_be_visible()
    await expect(page.get_by_role("button", name="Download as Markdown")).to_be_visible()
    return session


async def stored_history(page: Page) -> list[dict[str, Any]]:
    saved = json.loads(await page.evaluate(f"localStorage.getItem('{HISTORY_KEY}')") or "null")
    return saved["interviews"] if saved else []


async def api_get(page: Page, path: str, token: str) -> tuple[int, Any]:
    response = await page.request.get(f"/api{path}", headers={"Authorization": f"Bearer {token}"})
    return response.status, await response.json()


def seeded(day: int, scores: list[float], questions: list[tuple[str, float]]) -> dict[str, Any]:
    """An interview finished earlier, as history.js stores it (its id unknown to the server)."""
    return {
        "id": f"seeded{day:02d}{uuid.uuid4().hex[:8]}",
        "token": "not-a-real-token",
        "finishedAt": f"2026-11-{day:02d}T10:00:00.000Z",
        "role": "backend",
        "roleTitle": "Backend engineer",
        "level": "mid",
        "kind": "mixed",
        "overall": sum(scores) / len(scores),
        "criteria": dict(zip(CRITERION_KEYS, scores, strict=True)),
        "questions": [
            {"turn": turn, "question": text, "score": score}
            for turn, (text, score) in enumerate(questions, start=1)
        ],
    }


def one_decimal(value: float) -> str:
    return f"{value:.1f}"


async def test_the_report_downloads_and_progress_builds_up(page: Page, screenshot: Screenshot) -> None:
    # Two interviews finished earlier in this browser.
    earlier = [
        seeded(
            3,
            [2.0, 3.0, 1.5, 2.5, 3.5],
            [("Seeded: describe a conflict.", 1.4), ("Seeded: a hard bug.", 3.6)],
        ),
        seeded(
            17,
            [3.0, 3.5, 2.0, 2.5, 4.0],
            [("Seeded: describe a conflict.", 4.2), ("Seeded: an outage.", 2.2)],
        ),
    ]
    await page.goto("/")
    await page.evaluate(
        "([key, interviews]) => localStorage.setItem(key, JSON.stringify({interviews}))",
        [HISTORY_KEY, earlier],
    )

    # A third, through the page: its report is added to the history once shown.
    session = await finish_interview(page, "Alan", unique_answer(f"progress-{uuid.uuid4().hex}"))
    status, report = await api_get(page, f"/interviews/{session['id']}/report", session["token"])
    assert status == 200
    status, state = await api_get(page, f"/interviews/{session['id']}", session["token"])
    assert status == 200
    history = await stored_history(page)
    assert [entry["id"] for entry in history] == [earlier[0]["id"], earlier[1]["id"], session["id"]]
    latest = history[-1]
    assert latest["token"] == session["token"]
    assert (latest["role"], latest["roleTitle"], latest["level"], latest["kind"]) == (
        "backend",
        "Backend engineer",
        "mid",
        "mixed",
    )
    assert latest["criteria"] == report["criteria"] and latest["overall"] == report["overall"]
    assert latest["questions"] == [
        {"turn": a["turn"], "question": a["question"], "score": a["overall"]} for a in report["answers"]
    ]
    # Shown again (a reload), the report is not counted twice.
    await page.reload()
    await expect(page.locator("#report").get_by_role("heading", name="Your report")).to_be_visible()
    assert len(await stored_history(page)) == 3

    # Markdown: a readable document with the role, date, overall, criteria, every question with its
    # answer, scores and feedback, and the strengths and improvements.
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download as Markdown").click()
    download = await downloading.value
    assert re.fullmatch(r"mock-interview-\d{4}-\d{2}-\d{2}-backend\.md", download.suggested_filename)
    markdown = Path(await download.path()).read_text("utf-8")
    assert markdown.startswith("# Mock interview report: Backend engineer\n")
    assert re.search(r"^- Date: \d{4}-\d{2}-\d{2}$", markdown, re.M)
    assert f"- Overall: **{one_decimal(report['overall'])} / 5**" in markdown
    for key, score in report["criteria"].items():
        assert f"| {key.capitalize()} | {one_decimal(score)} / 5 |" in markdown
    for entry in state["transcript"]:
        assert f"### Question {entry['turn']} ({one_decimal(entry['feedback']['overall'])} / 5)" in markdown
        assert entry["question"].replace("?", "") in markdown.replace("\\", "").replace("?", "")
        assert f"- Relevance: {entry['feedback']['relevance']['score']} / 5 — " in markdown
        assert "**To improve:**" in markdown
    assert markdown.count("> I don't know") == 2
    assert "## Strengths" in markdown and "## What to work on" in markdown
    for item in report["strengths"] + report["improvements"]:
        assert item.split()[0] in markdown

    # JSON: the report exactly as the API returned it, with the transcript.
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download as JSON").click()
    download = await downloading.value
    assert download.suggested_filename.endswith("-backend.json")
    exported = json.loads(Path(await download.path()).read_text("utf-8"))
    assert exported["report"] == report
    assert exported["transcript"] == state["transcript"]
    assert exported["interview"]["id"] == session["id"] and exported["interview"]["setup"] == state["setup"]
    assert session["token"] not in json.dumps(exported)
    # The print button is still there.
    await expect(page.get_by_role("button", name="Print / save as PDF")).to_be_visible()

    # "Your progress": the three interviews, each criterion's trend, the weakest and what to practise.
    await page.get_by_role("button", name="See your progress").click()
    view = page.locator("#history")
    await expect(view.get_by_role("heading", name="Your progress")).to_be_focused()
    await expect(page.locator("#report")).to_be_hidden()
    await expect(view.locator(".history-count")).to_contain_text("3 finished interviews kept in this browser")
    rows = view.locator("table.trends tbody tr")
    await expect(rows.locator("th")).to_have_text(CRITERIA)
    for index, key in enumerate(CRITERION_KEYS):
        scores = [entry["criteria"][key] for entry in history]
        row = rows.nth(index)
        trend = ", ".join(one_decimal(score) for score in scores)
        await expect(row.get_by_role("img")).to_have_attribute(
            "aria-label", f"{CRITERIA[index]} across 3 interviews, oldest first: {trend}"
        )
        await expect(row.locator(".latest")).to_have_text(one_decimal(scores[-1]))
        await expect(row.locator(".mean")).to_have_text(one_decimal(sum(scores) / 3))

    means = {key: sum(entry["criteria"][key] for entry in history) / 3 for key in CRITERION_KEYS}
    weakest = min(CRITERION_KEYS, key=lambda key: means[key])  # the first listed among equals, as the page
    await expect(view.locator(".weakest-name")).to_have_text(weakest.capitalize())
    await expect(view.locator(".weakest")).to_contain_text(f"a mean of {one_decimal(means[weakest])} / 5")

    # Each question by its latest score ("describe a conflict" was done well since), lowest first.
    latest_scores: dict[str, tuple[float, str]] = {}
    for entry in history:
        for item in entry["questions"]:
            latest_scores[item["question"]] = (item["score"], entry["finishedAt"])
    ranked = sorted(latest_scores.items(), key=lambda kv: (kv[1][0], [-ord(c) for c in kv[1][1]]))[:3]
    await expect(view.locator(".practise-question")).to_have_text([question for question, _ in ranked])
    await expect(view.locator(".practise-list")).not_to_contain_text("describe a conflict")
    await expect(view.locator("table.past-interviews tbody tr")).to_have_count(3)
    await screenshot("progress")

    # Back where the candidate was, from the keyboard.
    await view.get_by_role("button", name="Back").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#history")).to_be_hidden()
    await expect(page.locator("#report").get_by_role("heading", name="Your report")).to_be_focused()
    await screenshot("report-with-downloads")


async def test_an_empty_progress_view_says_how_it_fills(page: Page) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="Your progress").click()
    await expect(page.locator("#history .empty-history")).to_contain_text("No finished interviews")
    await expect(page.get_by_role("button", name="Delete my data")).to_be_disabled()
    await page.get_by_role("button", name="Back").click()
    await expect(page.get_by_role("heading", name="Practise a job interview")).to_be_visible()
    await expect(page.get_by_label("Role")).to_be_focused()


async def test_delete_my_data_here_and_on_the_server(page: Page, screenshot: Screenshot) -> None:
    finished = await finish_interview(page, "Hedy")
    # A finished interview is left without a question asked.
    await page.get_by_role("button", name="Start a new interview").click()
    await start_interview(page, name="Hedy")
    current = await stored_session(page)
    await answer(page, "I don't know", expected_status=200)
    await expect_feedback(page, 1)

    # The server out of reach: nothing is forgotten, and the candidate is told why.
    async def unreachable_deletes(route: Route) -> None:
        if route.request.method == "DELETE":
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    # One more, finished 40 days ago: past the server's retention, so its token is dropped on sight (no
    # DELETE could use it) and it is forgotten here without a call.
    old = seeded(1, [3.0, 3.0, 3.0, 3.0, 3.0], [("Seeded: a long time ago.", 3.0)])
    old["finishedAt"] = (datetime.now(UTC) - timedelta(days=40)).isoformat().replace("+00:00", "Z")
    await page.evaluate(
        """([key, entry]) => {
            const saved = JSON.parse(localStorage.getItem(key));
            localStorage.setItem(key, JSON.stringify({interviews: [entry, ...saved.interviews]}));
        }""",
        [HISTORY_KEY, old],
    )

    await page.route("**/api/interviews/*", unreachable_deletes)
    await page.get_by_role("button", name="Your progress").click()
    view = page.locator("#history")
    await expect(view.locator(".history-count")).to_contain_text("2 finished interviews kept")
    stored = await stored_history(page)
    assert [entry["token"] for entry in stored] == [None, finished["token"]]
    dialogs: list[str] = []

    async def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await view.get_by_role("button", name="Delete my data").click()
    status = view.locator("#delete-status")
    await expect(status).to_contain_text("Deleted 1 interview from this browser and from the server.")
    await expect(status).to_contain_text("2 interviews could not be deleted on the server")
    await expect(status).to_contain_text("couldn't reach the interview service")
    assert "Delete your 3 interviews" in dialogs[-1]
    assert [entry["id"] for entry in await stored_history(page)] == [finished["id"]]
    assert await stored_session(page) is not None
    await page.unroute("**/api/interviews/*")

    # With the server there: both interviews deleted on it (DELETE with the token in the header, never in
    # the URL), then here.
    deletes: list[Request] = []
    page.on("request", lambda request: deletes.append(request) if request.method == "DELETE" else None)
    await view.get_by_role("button", name="Delete my data").click()
    await expect(status).to_have_text("Deleted 2 interviews from this browser and from the server.")
    assert sorted(request.url.rsplit("/", 1)[-1] for request in deletes) == sorted(
        [finished["id"], current["id"]]
    )
    for request in deletes:
        token = finished["token"] if request.url.endswith(finished["id"]) else current["token"]
        assert (await request.all_headers())["authorization"] == f"Bearer {token}"
        assert token not in request.url
    assert await stored_history(page) == [] and await stored_session(page) is None
    await expect(view.locator(".empty-history")).to_be_visible()
    await screenshot("deleted")

    # Gone on the server: every route for either interview answers 404.
    for interview in (finished, current):
        for path in ("", "/report", "/turns/1"):
            status_code, _ = await api_get(page, f"/interviews/{interview['id']}{path}", interview["token"])
            assert status_code == 404, (interview["id"], path, status_code)

    # Back goes to a fresh setup.
    await view.get_by_role("button", name="Back").click()
    await expect(page.get_by_role("heading", name="Practise a job interview")).to_be_visible()
