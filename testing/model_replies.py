"""Replies a fake model gives to the app's prompts, batched evaluations included.

A batched evaluation (core.providers.prompts.batch_evaluation_request) carries several answers, each in
`<answer id=".." nonce="..">` ... `</answer nonce="..">`; its reply is `{"items": [{"id": .., ...}]}`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

BATCH_SECTION = re.compile(r'<answer id="(A\d+)" nonce="(\w+)">\n(.*?)\n</answer nonce="\2">', re.S)


def prompt_text(body: Any) -> str:
    """Every string in a request body, whatever the wire format nests the prompt in."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        return "\n".join(prompt_text(value) for value in body.values())
    if isinstance(body, list):
        return "\n".join(prompt_text(value) for value in body)
    return ""


def batch_sections(body: Any) -> list[tuple[str, str]]:
    """The (id, answer) of each answer in a batched evaluation's prompt; empty for any other prompt."""
    return [(item_id, text) for item_id, _, text in BATCH_SECTION.findall(prompt_text(body))]


def with_batches(
    single: Callable[[Any], str], evaluation: Callable[[str], dict[str, Any]]
) -> Callable[[Any], str]:
    """A reply function that answers a batched evaluation item by item with `evaluation(answer)`, and
    every other prompt with `single(body)`."""

    def reply(body: Any) -> str:
        sections = batch_sections(body)
        if not sections:
            return single(body)
        return json.dumps({"items": [{"id": item_id, **evaluation(text)} for item_id, text in sections]})

    return reply
