"""The candidate's page in a real browser: a whole interview, resuming after a reload, errors in words,
and an answer kept and sent again while the API's storage is out of reach."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Request, Route, expect

from devhost.stack import Service, free_ports, start_azurite, start_devhost
from testing.app_stack import NO_CLIENT_LIMITS, ROOT, Services, Stack
from testing.interview_client import RESULT_SENTENCE, unique_answer

Screenshot = Callable[[str], Awaitable[None]]
SESSION_KEY = "mock-interview:session"
CRITERIA = ["Relevance", "Structure", "Specificity", "Impact", "Clarity"]


async def start_interview(page: Page, name: str = "Ada", follow_ups: bool = False) -> None:
    """Start from the setup form; follow-up questions off unless asked for (their own test asks)."""
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Practise a job interview")).to_be_visible()
    await page.get_by_label("Role").select_option(label="Backend engineer")
    await page.get_by_label("Mid-level").check()
    await page.get_by_label("Mixed").check()
    await page.get_by_label("Number of questions").fill("3")
    await page.get_by_label("Your name").fill(name)
    await expect(page.get_by_label("Job title")).to_be_hidden()
    await page.get_by_label("Follow-up questions").set_checked(follow_ups)
    async with page.expect_request(is_start) as started:
        await page.get_by_role("button", name="Start the interview").click()
    # A bank role sends no job title.
    assert (await started.value).post_data_json == {
        "role": "backend",
        "level": "mid",
        "kind": "mixed",
        "questions": 3,
        "follow_ups": follow_ups,
        "candidate_name": name,
    }
    await expect(page.locator("#question-number")).to_have_text("Question 1 of 3")


def is_start(request: Request) -> bool:
    return request.method == "POST" and request.url.endswith("/api/interviews")


async def answer(page: Page, text: str, expected_status: int) -> None:
    """Type an answer and submit it from the keyboard, checking how the API took it (200 or 202)."""
    await page.get_by_label("Your answer").fill(text)
    async with page.expect_response(
        lambda response: response.url.endswith("/turns") and response.request.method == "POST"
    ) as posted:
        await page.get_by_label("Your answer").press("Control+Enter")
    assert (await posted.value).status == expected_status


async def expect_feedback(page: Page, turn: int) -> None:
    feedback = page.locator("#feedback")
    await expect(feedback.get_by_role("heading", name=f"Feedback on question {turn}")).to_be_visible()
    await expect(feedback.locator(".criterion-name")).to_have_text(CRITERIA)
    await expect(feedback.locator(".criterion-score")).to_have_count(5)
    await expect(feedback.locator(".criterion-score").first).to_have_text(re.compile(r"^[1-5] / 5$"))
    await expect(feedback.locator(".reason").first).not_to_be_empty()
    await expect(feedback.locator(".overall-score")).to_have_text(re.compile(r"^[1-5]\.\d$"))
    await expect(feedback.locator(".improvement")).not_to_be_empty()
    await expect(feedback.get_by_role("heading", name="Key points you covered")).to_be_visible()
    await expect(feedback.get_by_role("heading", name="Key points you missed")).to_be_visible()


async def stored_session(page: Page) -> dict:
    return json.loads(await page.evaluate(f"localStorage.getItem('{SESSION_KEY}')") or "null")


async def test_a_whole_interview_up_to_the_report(page: Page, screenshot: Screenshot) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await start_interview(page)
    await expect(page.locator("#greeting")).to_contain_text("Ada")
    await expect(page.locator("#question-text")).not_to_be_empty()
    await expect(page.get_by_label("Your answer")).to_be_focused()
    await expect(page.get_by_role("button", name="Submit answer")).to_be_disabled()
    await expect(page.locator("#answer-counter")).to_have_text("0 characters · 0 of 8,192 bytes")

    # 1: a real answer is queued (202); the page long-polls and shows the feedback when it is ready.
    # Its polls are held back a little, so the progress indicator is on screen long enough to check.
    polls: list[str] = []

    async def slow_poll(route: Route) -> None:
        polls.append(route.request.url)
        await asyncio.sleep(0.5)
        await route.continue_()

    await page.route("**/api/interviews/*/turns/*", slow_poll)
    text = unique_answer(f"browser-{uuid.uuid4().hex}-1")
    await answer(page, text, expected_status=202)
    await expect(page.locator("#progress")).to_contain_text("Scoring your answer")
    await expect_feedback(page, 1)
    await page.unroute("**/api/interviews/*/turns/*")
    assert polls and all(re.search(r"/api/interviews/\w+/turns/1\?wait=20$", url) for url in polls), polls
    assert len(polls) <= 3, f"not a long-poll: {polls}"
    await expect(page.locator("#given-answer-text")).to_have_text(text)
    await expect(page.locator("#feedback .evidence li").first).to_be_visible()
    await expect(page.locator("#feedback .scored-by")).to_contain_text("Scored by the built-in evaluator")
    # Under the feedback, one way to answer: no provider here, so the key points' outline.
    example = page.locator("#feedback .example-answer")
    await expect(example.get_by_role("heading", name="What a strong answer looks like")).to_be_visible()
    await expect(example.locator(".example-label")).to_have_text("An outline from the question's key points")
    await expect(example.locator(".example-text")).not_to_be_empty()
    await expect(page.locator("#progress")).to_be_hidden()
    await expect(page.locator("#transition")).not_to_be_empty()
    await screenshot("feedback")

    await page.get_by_role("button", name="Next question").click()
    await expect(page.locator("#question-number")).to_have_text("Question 2 of 3")
    await expect(page.locator("#feedback")).to_be_hidden()
    await expect(page.get_by_label("Your answer")).to_have_value("")

    # 2: "I don't know" is answered by the templates at once (200).
    await answer(page, "I don't know", expected_status=200)
    await expect_feedback(page, 2)
    await expect(page.locator("#feedback .scored-by")).to_contain_text("Scored by a template")
    await expect(page.locator("#feedback .missed li").first).to_be_visible()
    await page.get_by_role("button", name="Next question").click()
    await expect(page.locator("#question-number")).to_have_text("Question 3 of 3")

    # 3: the last answer, then the closing line and the report.
    await answer(page, unique_answer(f"browser-{uuid.uuid4().hex}-3"), expected_status=202)
    await expect_feedback(page, 3)
    await expect(page.get_by_role("button", name="Next question")).to_be_hidden()
    await expect(page.locator("#closing")).to_contain_text("report")

    report = page.locator("#report")
    await expect(report.get_by_role("heading", name="Your report")).to_be_visible()
    await expect(report.locator(".overall-score")).to_have_text(re.compile(r"^\d\.\d$"))
    await expect(report.locator(".criteria-bars .criterion-name")).to_have_text(CRITERIA)
    await expect(report.get_by_role("heading", name="Strengths")).to_be_visible()
    await expect(report.get_by_role("heading", name="What to work on")).to_be_visible()
    await expect(report.locator(".answer-summary")).to_have_count(3)
    await expect(report.locator(".answer-summary").nth(1)).to_contain_text("Scored by a template")
    await expect(report.locator(".scored-locally")).to_contain_text("questions 1 and 3")
    await expect(page).to_have_title(re.compile("report"))
    report_polls = [url for url in requested if "/report" in url]
    assert report_polls and all(url.endswith("/report?wait=20") for url in report_polls), report_polls

    # Printing: the button opens the print dialog, and the print stylesheet keeps only the report.
    await page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    await report.get_by_role("button", name="Print / save as PDF").click()
    assert await page.evaluate("window.printed") == 1
    await page.emulate_media(media="print")
    await expect(report.get_by_role("button", name="Print / save as PDF")).to_be_hidden()
    await expect(page.locator("#interview")).to_be_hidden()
    await expect(report.locator(".answer-summary").first).to_be_visible()
    await page.emulate_media(media="screen")
    await screenshot("report")


async def test_a_follow_up_is_answered_or_skipped_before_the_next_question(
    page: Page, screenshot: Screenshot
) -> None:
    await start_interview(page, name="Alan", follow_ups=True)
    follow_up = page.locator("#follow-up")
    next_question = page.get_by_role("button", name="Next question")
    # An answer that covers none of the key points: the follow-up asks about the first one.
    weak = "I would think about it carefully and talk with my team about the best way to handle it"

    await answer(page, f"{weak} ({uuid.uuid4().hex}).", expected_status=202)
    await expect_feedback(page, 1)
    await expect(follow_up.get_by_role("heading", name="Follow-up question")).to_be_focused()
    await expect(page.locator("#follow-up-text")).not_to_be_empty()
    await expect(page.locator("#follow-up-reason")).to_contain_text("Asked because")
    await expect(next_question).to_be_hidden()
    # No example answer while the follow-up waits: it would answer the follow-up for the candidate.
    await expect(page.locator("#feedback .example-answer")).to_have_count(0)
    await page.get_by_role("button", name="Skip it").click()
    await expect(page.locator("#follow-up-given")).to_have_text("You skipped this follow-up.")
    await expect(page.locator("#feedback .example-answer .example-label")).to_be_visible()
    await expect(page.get_by_role("button", name="Skip it")).to_be_hidden()
    await next_question.click()
    await expect(page.locator("#question-number")).to_have_text("Question 2 of 3")
    await expect(follow_up).to_be_hidden()

    await answer(page, f"{weak} ({uuid.uuid4().hex}).", expected_status=202)
    await expect_feedback(page, 2)
    await expect(next_question).to_be_hidden()
    reply = f"{RESULT_SENTENCE} ({uuid.uuid4().hex})"
    await page.get_by_label("Reply to the follow-up").fill(reply)
    async with page.expect_response(
        lambda response: response.url.endswith("/turns") and response.request.method == "POST"
    ) as posted:
        await page.get_by_role("button", name="Answer the follow-up").click()
    assert (await posted.value).request.post_data_json == {"turn": 2, "answer": reply, "follow_up": True}
    await expect(page.locator("#follow-up-given")).to_have_text(reply)
    await expect(next_question).to_be_visible()
    await screenshot("follow-up")


BACKEND_AD = (
    "Backend Engineer\n\nYou will build services in Python with PostgreSQL, running on Kubernetes.\n"
    "You have 5+ years of experience."
)
AD_SKILLS = ["Python", "SQL and relational databases", "Containers and Kubernetes"]


async def test_a_job_ad_picks_the_questions_and_the_report_names_its_skills(
    page: Page, screenshot: Screenshot
) -> None:
    await page.goto("/")
    job_ad = page.get_by_label("Paste a job ad")
    counter = page.locator("#job-ad-counter")
    await expect(job_ad).to_have_attribute("aria-describedby", "job-ad-hint job-ad-counter")
    await expect(page.locator("#job-ad-hint")).to_contain_text("without AI")
    await expect(counter).to_have_text("Up to 8,192 bytes.")

    # Over 8 KB the browser holds the form back, and the counter says by how much.
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if is_start(request) else None)
    await page.get_by_label("Role").select_option(label="Backend engineer")
    await page.get_by_label("Number of questions").fill("3")
    await page.get_by_label("Follow-up questions").set_checked(False)
    await job_ad.fill("a" * 8194)
    await expect(counter).to_have_text("8,194 characters · 8,194 of 8,192 bytes — 2 bytes over the limit")
    await expect(job_ad).to_have_attribute("aria-invalid", "true")
    await page.get_by_role("button", name="Start the interview").click()
    assert await job_ad.evaluate("node => !node.checkValidity()")
    assert posts == []

    # Sent as job_description beside the form's role and level.
    await job_ad.fill(BACKEND_AD)
    await expect(counter).to_have_text(f"{len(BACKEND_AD)} characters · {len(BACKEND_AD)} of 8,192 bytes")
    async with page.expect_request(is_start) as started:
        await page.get_by_role("button", name="Start the interview").click()
    sent = (await started.value).post_data_json
    assert sent == {
        "role": "backend",
        "level": "mid",
        "kind": "mixed",
        "questions": 3,
        "follow_ups": False,
        "job_description": BACKEND_AD,
    }, sent
    await expect(page.locator("#question-number")).to_have_text("Question 1 of 3")
    await expect(page.locator("#ad-skills")).to_have_text(
        f"Questions chosen for this ad's skills: {', '.join(AD_SKILLS)}."
    )

    # One answer names Python; the others are non-answers.
    await answer(page, f"{unique_answer(f'job-ad-{uuid.uuid4().hex}')} I wrote it in Python.", 202)
    await expect_feedback(page, 1)
    # A reload keeps the line: the interview's state carries job_ad too.
    await page.reload()
    await expect_feedback(page, 1)
    await expect(page.locator("#ad-skills")).to_contain_text(", ".join(AD_SKILLS))
    for turn in (2, 3):
        await page.get_by_role("button", name="Next question").click()
        await expect(page.locator("#question-number")).to_have_text(f"Question {turn} of 3")
        await answer(page, "I don't know", expected_status=200)
        await expect_feedback(page, turn)

    section = page.locator("#report .ad-skills-report")
    await expect(section.get_by_role("heading", name="The job ad's skills")).to_be_visible()
    await expect(section.locator(".ad-skills-shown li")).to_have_text(["Python"])
    await expect(section.locator(".ad-skills-not-shown li")).to_have_text(AD_SKILLS[1:])
    await screenshot("report")

    # A new interview starts with an empty ad.
    await page.get_by_role("button", name="Start a new interview").click()
    await expect(job_ad).to_have_value("")
    await expect(counter).to_have_text("Up to 8,192 bytes.")


async def test_a_reload_resumes_where_the_candidate_was(page: Page, screenshot: Screenshot) -> None:
    await start_interview(page, name="Grace")
    saved = await stored_session(page)
    assert saved["id"] and saved["token"]
    assert saved["token"] not in page.url and saved["id"] not in page.url

    # Feedback on screen survives a reload, with its way on.
    await answer(page, "I don't know", expected_status=200)
    await expect_feedback(page, 1)
    await page.reload()
    await expect_feedback(page, 1)
    await expect(page.locator("#greeting")).to_contain_text("Grace")
    await expect(page.locator("#question-number")).to_have_text("Question 1 of 3")
    await expect(page.locator("#given-answer-text")).to_have_text("I don't know")
    await page.get_by_role("button", name="Next question").click()

    # The question being answered survives a reload, with the unsent draft.
    await expect(page.locator("#question-number")).to_have_text("Question 2 of 3")
    question_two = await page.locator("#question-text").text_content()
    await page.get_by_label("Your answer").press_sequentially("A half-written")
    await page.reload()
    await expect(page.locator("#question-number")).to_have_text("Question 2 of 3")
    await expect(page.locator("#question-text")).to_have_text(question_two)
    await expect(page.get_by_label("Your answer")).to_have_value("A half-written")

    # A reload while the answer is being scored picks the wait up again.
    await answer(page, unique_answer(f"resume-{saved['id']}-2"), expected_status=202)
    await page.reload()
    await expect_feedback(page, 2)
    await expect(page.locator("#question-text")).to_have_text(question_two)
    assert saved["token"] not in page.url
    await screenshot("resumed")

    # Starting over asks first, then forgets the interview.
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Start over").click()
    await expect(page.get_by_role("heading", name="Practise a job interview")).to_be_visible()
    assert await stored_session(page) is None


async def test_another_role_by_its_job_title(page: Page, screenshot: Screenshot) -> None:
    await page.goto("/")
    role = page.get_by_label("Role")
    title = page.get_by_label("Job title")
    await expect(title).to_be_hidden()

    # "Another role…" reveals a labelled, described, required title field; a bank role hides it again.
    await role.select_option(label="Another role…")
    await expect(title).to_be_visible()
    await expect(title).to_have_attribute("maxlength", "80")
    await expect(title).to_have_attribute("aria-describedby", "custom-role-hint")
    await expect(page.locator("#custom-role-hint")).to_contain_text("e.g. Data engineer (Spark)")
    assert await title.evaluate("node => node.required")
    await role.select_option(label="Frontend engineer")
    await expect(title).to_be_hidden()
    assert not await title.evaluate("node => node.required")
    await role.select_option(label="Another role…")
    await expect(title).to_be_visible()

    # The browser holds the form back while the title is empty or under 3 characters, spaces aside.
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if is_start(request) else None)
    start = page.get_by_role("button", name="Start the interview")
    await page.get_by_label("Number of questions").fill("3")
    await start.click()
    await title.fill("  ab  ")
    await start.click()
    assert await title.evaluate("node => !node.checkValidity()")
    assert posts == []

    # What the API refuses is shown in its own words, and nothing starts.
    async def too_short(route: Route) -> None:
        await route.continue_(post_data=json.dumps({**route.request.post_data_json, "custom_role": "x"}))

    await page.route("**/api/interviews", too_short)
    await title.fill("Data engineer (Spark)")
    await start.click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("The interview couldn't be set up")
    await expect(alert).to_contain_text("custom_role")
    await expect(alert.get_by_role("button")).to_be_hidden()
    await expect(title).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("heading", name="Practise a job interview")).to_be_visible()
    await screenshot("custom-role-refused")
    await page.unroute("**/api/interviews")

    # The title is sent trimmed, and the first question (from the nearest bank role) is on screen at once.
    await title.fill("  Data engineer (Spark)  ")
    async with page.expect_request(is_start) as started:
        await start.click()
    sent = (await started.value).post_data_json
    assert sent["role"] == "custom" and sent["custom_role"] == "Data engineer (Spark)", sent
    await expect(alert).to_be_hidden()
    await expect(page.locator("#question-number")).to_have_text("Question 1 of 3")
    await expect(page.locator("#question-text")).not_to_be_empty()
    await expect(page.get_by_label("Your answer")).to_be_focused()
    await screenshot("custom-role")

    # Starting over brings back the bank roles, the title field hidden.
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Start over").click()
    await expect(role).to_have_value("backend")
    await expect(title).to_be_hidden()


async def test_problems_are_explained_in_words(page: Page, screenshot: Screenshot) -> None:
    await start_interview(page)
    answer_box = page.get_by_label("Your answer")
    submit = page.get_by_role("button", name="Submit answer")

    # Over the 8 KB limit: counted in UTF-8 bytes ("é" is two), shown in red, and not sendable.
    await answer_box.fill("é" * 4097)
    counter = page.locator("#answer-counter")
    await expect(counter).to_have_text(
        re.compile(r"4,097 characters · 8,194 of 8,192 bytes — 2 bytes over the limit")
    )
    await expect(counter).to_have_class(re.compile(r"\bover\b"))
    assert await counter.evaluate("node => getComputedStyle(node).color") == "rgb(179, 38, 30)"
    await expect(answer_box).to_have_attribute("aria-invalid", "true")
    await expect(submit).to_be_disabled()
    await answer_box.press("Control+Enter")
    await expect(page.locator("#given-answer")).to_be_hidden()
    await screenshot("over-limit")

    # The service unreachable: said so, and "Try again" sends the answer once it is back.
    await page.route("**/api/interviews/*/turns", lambda route: route.abort("internetdisconnected"))
    await answer_box.fill("I don't know")
    await submit.click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("couldn't reach the interview service")
    await page.unroute("**/api/interviews/*/turns")
    await alert.get_by_role("button", name="Try again").click()
    await expect_feedback(page, 1)
    await expect(alert).to_be_hidden()

    # A token that no longer matches the interview: the candidate is offered a new interview.
    await page.evaluate(
        """key => {
            const saved = JSON.parse(localStorage.getItem(key));
            localStorage.setItem(key, JSON.stringify({...saved, token: saved.token + "x"}));
        }""",
        SESSION_KEY,
    )
    await page.reload()
    await expect(alert).to_contain_text("We can't open this interview any more")
    await expect(alert).not_to_contain_text("wrong_token")
    await screenshot("lost-interview")
    await alert.get_by_role("button", name="Start a new interview").click()
    await expect(page.get_by_role("heading", name="Practise a job interview")).to_be_visible()
    await expect(page.get_by_label("Role")).to_be_focused()
    assert await stored_session(page) is None
    await screenshot("setup")


async def test_the_api_can_live_on_another_origin(
    page: Page, stack: Stack, deployed_headers: dict[str, str]
) -> None:
    """On the Static Web Apps Free plan the page calls the Function App directly: an absolute API base set
    by a meta tag, and poll URLs ("/api/...") resolved against the API's origin, not the page's."""
    api_origin = "https://api.example.net"
    calls: list[str] = []

    async def page_pointing_at_the_api(route: Route) -> None:
        response = await route.fetch()
        meta = f'<meta name="mock-interview-api" content="{api_origin}/api/">'
        body = (await response.text()).replace("<head>", f"<head>\n  {meta}", 1)
        await route.fulfill(response=response, body=body, headers={**response.headers, **deployed_headers})

    async def function_app(route: Route) -> None:
        # Played by the devhost, behind a cross-origin response as the Function App's CORS would give it.
        request = route.request
        calls.append(f"{request.method} {request.url}")
        cors = {
            "access-control-allow-origin": "*",
            "access-control-allow-headers": "authorization, content-type",
            "access-control-allow-methods": "GET, POST",
        }
        if request.method == "OPTIONS":
            await route.fulfill(status=204, headers=cors)
            return
        response = await route.fetch(url=stack.base_url + request.url.removeprefix(api_origin))
        await route.fulfill(response=response, headers={**response.headers, **cors})

    await page.route(stack.base_url + "/", page_pointing_at_the_api)
    await page.route(f"{api_origin}/**", function_app)
    await start_interview(page)
    await answer(page, unique_answer(f"origin-{uuid.uuid4().hex}"), expected_status=202)
    await expect_feedback(page, 1)

    api_calls = [call for call in calls if not call.startswith("OPTIONS")]
    assert api_calls[0] == f"GET {api_origin}/api/roles"  # the role list, filled at page load
    assert api_calls[1] == f"POST {api_origin}/api/interviews"
    assert api_calls[2].startswith(f"POST {api_origin}/api/interviews/")
    assert re.fullmatch(rf"GET {api_origin}/api/interviews/\w+/turns/1\?wait=20", api_calls[3]), api_calls


class RestartableStorage:
    """Azurite on fixed ports with its data on disk: stopped, it comes back with what it held."""

    def __init__(self, workdir: Path) -> None:
        blob, queue, table = free_ports(3)
        self.workdir, self.ports = workdir, (blob, queue, table)
        self.service: Service | None = start_azurite(workdir, ports=self.ports)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def start(self) -> None:
        if self.service is None:
            self.service = start_azurite(self.workdir, ports=self.ports)


@pytest.fixture(scope="module")
def outage_host(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, RestartableStorage]]:
    """An app instance with storage of its own, to take away under the page."""
    storage = RestartableStorage(tmp_path_factory.mktemp("page-outage") / "azurite")
    try:
        assert storage.service is not None
        env = {
            "REDIS_URL": services.redis_url,
            "AzureWebJobsStorage": storage.service.url,
            **NO_CLIENT_LIMITS,
        }
        with start_devhost(ROOT, env) as host:
            yield host.url, storage
    finally:
        storage.stop()


@pytest.fixture
async def outage_page(
    browser: Browser, outage_host: tuple[str, RestartableStorage], deployed_headers: dict[str, str]
) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=outage_host[0], viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)

    async def with_deployed_headers(route: Route) -> None:
        if route.request.resource_type != "document":
            await route.continue_()
            return
        response = await route.fetch()
        await route.fulfill(response=response, headers={**response.headers, **deployed_headers})

    await context.route(lambda url: "/api/" not in url, with_deployed_headers)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert not errors, errors


async def test_an_answer_is_kept_and_sent_again_while_storage_is_down(
    outage_page: Page, outage_host: tuple[str, RestartableStorage]
) -> None:
    page, (_, storage) = outage_page, outage_host
    await start_interview(page, name="Barbara")
    answer_box = page.get_by_label("Your answer")
    text = unique_answer(f"outage-{uuid.uuid4().hex}")
    await answer_box.fill(text)

    await asyncio.to_thread(storage.stop)
    posts: list[int] = []
    page.on(
        "response",
        lambda response: (
            posts.append(response.status)
            if response.url.endswith("/turns") and response.request.method == "POST"
            else None
        ),
    )
    try:
        await answer_box.press("Control+Enter")
        # The API answers 503 with Retry-After; the page says so, keeps the answer, and tries again.
        progress = page.locator("#progress")
        await expect(progress).to_contain_text("briefly unavailable")
        await expect(progress).to_contain_text("Your answer is kept")
        await expect(answer_box).to_have_value(text)
        await expect(page.get_by_role("alert")).to_be_hidden()
        assert (await stored_session(page))["draft"]["text"] == text
        assert posts and set(posts) == {503}
    finally:
        await asyncio.to_thread(storage.start)

    # Storage is back: the next try goes through, with no click, and the answer is scored once.
    await expect(
        page.locator("#feedback").get_by_role("heading", name="Feedback on question 1")
    ).to_be_visible(timeout=45_000)
    await expect(page.locator("#given-answer-text")).to_have_text(text)
    assert posts[-1] in (200, 202) and posts.count(200) + posts.count(202) == 1
