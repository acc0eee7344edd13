"""Voice mode on the candidate's page, in Chromium: questions read aloud by the browser's speech synthesis,
answers dictated with its speech recognition (interim text in the answer box, which stays editable), pace
and filler words in the feedback, and a notice where the browser has no recognition.

The speech APIs are stand-ins (speech_stand_ins.js): they record what is said and hand out scripted results
with scripted timestamps, so the pace is known exactly. Everything else is real: the page, the devhost, the
queue, Redis and storage."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.async_api import Page, expect
from test_candidate_page import Screenshot, answer, expect_feedback, start_interview

STAND_INS = Path(__file__).with_name("speech_stand_ins.js")

# What the stand-in recognition hears for the first answer: (text, final, ms since the page's time origin).
HEARD = [
    ("um I led", False, 1_000),
    ("um I led the migration", False, 1_800),
    ("um I led the migration of our billing service to a new queue", True, 4_000),
    ("we basically", False, 6_000),
    ("we basically kind of split it into three stages you know", True, 9_000),
    ("like the first stage moved reads and the second moved writes", True, 16_000),
]
# 13 + 11 + 11 words from the first result to the last, 15 s: 140 words a minute. Fillers: "um",
# "basically", "kind of", "you know" and "like" (after another filler): 5 in 35 words, 14.3 per 100.
TYPED_FIRST = "To start with,"
TYPED_BETWEEN = " (in 2023)"


async def spoken(page: Page) -> list[str]:
    return await page.evaluate("window.__speech.spoken")


async def hear(page: Page, text: str, final: bool, at: int) -> None:
    await page.evaluate("([text, final, at]) => window.__speech.hear(text, final, at)", [text, final, at])


async def test_questions_read_aloud_and_answers_dictated(page: Page, screenshot: Screenshot) -> None:
    await page.add_init_script(path=str(STAND_INS))
    await start_interview(page)
    question_one = await page.locator("#question-text").text_content()
    voice = page.get_by_label("Voice mode")
    dictate = page.get_by_role("button", name="Start dictation")
    box = page.get_by_label("Your answer")

    # Off at first: nothing is read out and there is nothing to dictate with.
    await expect(voice).not_to_be_checked()
    await expect(dictate).to_be_hidden()
    assert await spoken(page) == []

    # On (from the keyboard): the question on screen is read out, and dictation is offered.
    await voice.focus()
    await page.keyboard.press("Space")
    await expect(voice).to_be_checked()
    await expect(dictate).to_be_visible()
    await expect(page.locator("#voice-notice")).to_be_hidden()
    assert await spoken(page) == [question_one]
    await page.get_by_role("button", name="Read the question again").click()
    assert await spoken(page) == [question_one, question_one]

    # Typed words stay; dictation adds to them. Interim words show in the box and in a polite live region,
    # and are replaced, not repeated, as the recognition revises them.
    await box.fill(TYPED_FIRST)
    await dictate.click()
    stop = page.get_by_role("button", name="Stop dictation")
    await expect(stop).to_have_attribute("aria-pressed", "true")
    status = page.locator("#dictation-status")
    await expect(status).to_have_attribute("aria-live", "polite")
    await expect(status).to_have_text("Listening… speak your answer.")
    for text, final, at in HEARD[:2]:
        await hear(page, text, final, at)
    await expect(box).to_have_value(f"{TYPED_FIRST} um I led the migration")
    await expect(status).to_have_text("Hearing: um I led the migration")
    await hear(page, *HEARD[2])
    await expect(box).to_have_value(f"{TYPED_FIRST} {HEARD[2][0]}")

    # The box stays editable while dictating: words typed now are kept, and dictation carries on after them.
    await box.press("End")
    await box.press_sequentially(TYPED_BETWEEN)
    await hear(page, *HEARD[3])
    await screenshot("dictating")
    await expect(box).to_have_value(f"{TYPED_FIRST} {HEARD[2][0]}{TYPED_BETWEEN} we basically")
    for text, final, at in HEARD[4:]:
        await hear(page, text, final, at)
    expected = f"{TYPED_FIRST} {HEARD[2][0]}{TYPED_BETWEEN} {HEARD[4][0]} {HEARD[5][0]}"
    await expect(box).to_have_value(expected)
    await expect(page.locator("#answer-counter")).to_contain_text(f"{len(expected)} characters")
    await stop.click()
    await expect(dictate).to_have_attribute("aria-pressed", "false")
    assert not await page.evaluate("window.__speech.listening()")

    # The answer as it stands in the box is what is sent; pace and fillers come with the feedback,
    # labelled as measured from the dictation.
    async with page.expect_request(lambda r: r.url.endswith("/turns") and r.method == "POST") as posted:
        await box.press("Control+Enter")
    assert (await posted.value).post_data_json == {"turn": 1, "answer": expected}
    await expect_feedback(page, 1)
    delivery = page.locator("#feedback .delivery")
    await expect(delivery.get_by_role("heading", name="From your dictation")).to_be_visible()
    await expect(delivery.locator(".pace")).to_have_text(
        "140 words per minute — a comfortable pace for an interview."
    )
    await expect(delivery.locator(".fillers")).to_contain_text("14.3 per 100 words")
    for phrase in ["um", "basically", "kind of", "you know", "like"]:
        await expect(delivery.locator(".fillers")).to_contain_text(f"“{phrase}” ×1")
    await screenshot("dictated-feedback")

    # The next question is read out as it appears; a typed answer gets no dictation figures.
    await page.get_by_role("button", name="Next question").click()
    await expect(page.locator("#question-number")).to_have_text("Question 2 of 3")
    question_two = await page.locator("#question-text").text_content()
    assert (await spoken(page))[-1] == question_two
    await expect(box).to_have_value("")
    await answer(page, "I don't know", expected_status=200)
    await expect_feedback(page, 2)
    await expect(page.locator("#feedback .delivery")).to_have_count(0)

    # Voice mode is remembered after a reload, and the question is read again; switched off, the speech
    # stops and the dictation controls go.
    await page.get_by_role("button", name="Next question").click()
    await expect(page.locator("#question-number")).to_have_text("Question 3 of 3")
    await page.reload()
    await expect(page.locator("#question-number")).to_have_text("Question 3 of 3")
    await expect(voice).to_be_checked()
    assert await spoken(page) == [await page.locator("#question-text").text_content()]
    cancelled = await page.evaluate("window.__speech.cancelled")
    await voice.uncheck()
    assert await page.evaluate("window.__speech.cancelled") > cancelled
    await expect(dictate).to_be_hidden()
    await expect(page.get_by_role("button", name="Read the question again")).to_be_hidden()
    await page.reload()
    await expect(voice).not_to_be_checked()


async def test_no_speech_recognition_shows_a_notice_and_typing_works(
    page: Page, screenshot: Screenshot
) -> None:
    await page.add_init_script("window.__noRecognition = true;")
    await page.add_init_script(path=str(STAND_INS))
    await start_interview(page)
    assert await page.evaluate("!('webkitSpeechRecognition' in window) && !('SpeechRecognition' in window)")

    await page.get_by_label("Voice mode").check()
    notice = page.locator("#voice-notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_have_attribute("role", "status")
    await expect(notice).to_contain_text("this browser can't take dictation, so type your answer as usual")
    await expect(page.get_by_role("button", name="Start dictation")).to_be_hidden()
    # Reading aloud still works where synthesis is there.
    assert await spoken(page) == [await page.locator("#question-text").text_content()]
    await screenshot("no-recognition")

    text = f"I would start from the requirements and measure before changing anything ({uuid.uuid4().hex})."
    await answer(page, text, expected_status=202)
    await expect_feedback(page, 1)
    await expect(page.locator("#given-answer-text")).to_have_text(text)
    await expect(page.locator("#feedback .delivery")).to_have_count(0)


async def test_a_refused_microphone_falls_back_to_typing(page: Page) -> None:
    await page.add_init_script(path=str(STAND_INS))
    await start_interview(page)
    await page.get_by_label("Voice mode").check()
    await page.get_by_role("button", name="Start dictation").click()
    await page.evaluate("window.__speech.fail('not-allowed')")

    await expect(page.locator("#voice-notice")).to_contain_text(re.compile("can't take dictation.*blocked"))
    await expect(page.locator("#dictation")).to_be_hidden()
    box = page.get_by_label("Your answer")
    await expect(box).to_be_editable()
    await answer(page, "I don't know", expected_status=200)
    await expect_feedback(page, 1)
