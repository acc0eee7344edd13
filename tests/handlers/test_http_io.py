"""The request parsers under arbitrary input (Hypothesis): a typed value or a 4xx ApiError, nothing else."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.interview.errors import ApiError
from core.models import AnswerIn, InterviewSetup
from handlers.http_io import MAX_BODY_BYTES, parse_body, route_int, wait_seconds

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


def _request(
    body: bytes = b"", params: dict[str, str] | None = None, route: dict[str, str] | None = None
) -> func.HttpRequest:
    return func.HttpRequest(
        "POST", "http://localhost/api/x", body=body, params=params or {}, route_params=route or {}, headers={}
    )


def _parsed_or_4xx(body: bytes, model: type[Any]) -> None:
    try:
        parse_body(_request(body), model)
    except ApiError as error:
        assert 400 <= error.status < 500


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_bytes_are_parsed_or_refused_with_a_4xx(body: bytes) -> None:
    _parsed_or_4xx(body, AnswerIn)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_parsed_or_refused_with_a_4xx(value: Any) -> None:
    for model in (AnswerIn, InterviewSetup):
        _parsed_or_4xx(json.dumps(value).encode(), model)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3_000), st.integers(min_value=-5, max_value=10**12))
def test_any_answer_text_is_accepted_whole_or_refused_with_a_4xx(answer: str, turn: int) -> None:
    body = json.dumps({"turn": turn, "answer": answer}).encode("utf-8", errors="surrogatepass")
    try:
        parsed = parse_body(_request(body), AnswerIn)
    except ApiError as error:
        assert 400 <= error.status < 500
        return
    assert parsed.answer == answer  # accepted means kept exactly as written
    parsed.answer.encode("utf-8")  # and storable


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_route_numbers_and_waits_are_values_or_4xx(raw: str) -> None:
    for parse in (
        lambda: route_int(_request(route={"n": raw}), "n"),
        lambda: wait_seconds(_request(params={"wait": raw})),
    ):
        try:
            value = parse()
        except ApiError as error:
            assert 400 <= error.status < 500
            continue
        assert value == value and abs(value) != float("inf")  # a real, finite number


def test_a_body_over_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(ApiError) as refused:
        parse_body(_request(b"[" * (MAX_BODY_BYTES + 1)), AnswerIn)
    assert refused.value.status == 413
