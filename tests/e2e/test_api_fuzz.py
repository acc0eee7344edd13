"""The whole API fuzzed from its own OpenAPI document (schemathesis) against the running stack.

Every operation of `GET /api/openapi.json` gets a bounded, derandomized run of generated requests:
up to 25 that fit the document and 25 that break it ([tool.schemathesis.generation] in pyproject.toml),
the same ones on every run. Each response must not be a 5xx, must have a status the document lists for
the operation and match the schema it gives for that status; data the document forbids must be refused
with a 4xx, and an operation behind the bearer token must refuse a request without it. The interview
routes are called with a real interview's id and token, in one of three states (just created, under
way, finished with its report written), so generated data reaches the service and not only 403 and 404.

Not checked: that every request the document allows is accepted (schemathesis's positive_data_acceptance).
The models refuse more than the document says (control characters in text, 3.0 for an integer, a
custom_role without role "custom", a `wait` of over 16 characters), each with a documented 4xx.

schemathesis's own pytest integration is not used: its lazy schemas (`from_fixture`, needed because the
stack's address is only known once it runs) rename pytest's node ids through `Node._nodeid`, which
pytest 9.2 no longer has. Its Python API (`as_strategy`, `call`, `validate_response`) works, and this
test drives Hypothesis with it.

The totals (operations, examples, statuses, 5xx) are written to test-artifacts/fuzz/totals.json.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from testing.app_stack import ROOT, Stack
from testing.interview_client import GOOD_ANSWER

# The app caps a long-poll (`wait`) at 25 s, and a pending turn is scored by the local evaluator well
# within that: a request still unanswered after this long is a hang.
REQUEST_TIMEOUT = 40
STATES = ("new", "under_way", "finished")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
# Every operation of the document, each its own test; a new one fails the listing test until added here.
OPERATIONS = [
    "GET /roles",
    "POST /interviews",
    "POST /interviews/{id}/turns",
    "GET /interviews/{id}/turns/{n}",
    "GET /interviews/{id}",
    "GET /interviews/{id}/report",
    "DELETE /interviews/{id}",
]


@dataclass
class Interview:
    id: str
    token: str


@dataclass
class Totals:
    operations: set[str] = field(default_factory=set)
    examples: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)


TOTALS = Totals()


def _create(session: requests.Session, api: str, questions: int = 3) -> Interview:
    body = {"role": "backend", "level": "mid", "kind": "mixed", "questions": questions}
    response = session.post(f"{api}/interviews", json=body, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 201, response.text
    created = response.json()
    return Interview(created["id"], created["token"])


def _auth(interview: Interview) -> dict[str, str]:
    return {"Authorization": f"Bearer {interview.token}"}


def _answer(session: requests.Session, api: str, interview: Interview, turn: int) -> None:
    url = f"{api}/interviews/{interview.id}/turns"
    body = {"turn": turn, "answer": f"{GOOD_ANSWER} (fuzzing {interview.id} turn {turn})"}
    response = session.post(url, json=body, headers=_auth(interview), timeout=REQUEST_TIMEOUT)
    assert response.status_code in (200, 202), response.text
    ready = session.get(f"{url}/{turn}?wait=20", headers=_auth(interview), timeout=REQUEST_TIMEOUT)
    assert ready.status_code == 200, ready.text
    if ready.json()["follow_up_status"] == "open":  # skipped, so the next question comes
        body = {"turn": turn, "skip_follow_up": True}
        skipped = session.post(url, json=body, headers=_auth(interview), timeout=REQUEST_TIMEOUT)
        assert skipped.status_code == 200, skipped.text


@pytest.fixture(scope="module")
def api(stack: Stack) -> str:
    return f"{stack.base_url}/api"


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


@pytest.fixture(scope="module")
def interviews(session: requests.Session, api: str) -> dict[str, Interview]:
    under_way = _create(session, api, questions=15)
    _answer(session, api, under_way, 1)
    finished = _create(session, api)
    for turn in (1, 2, 3):
        _answer(session, api, finished, turn)
    report = session.get(
        f"{api}/interviews/{finished.id}/report?wait=20", headers=_auth(finished), timeout=REQUEST_TIMEOUT
    )
    assert report.status_code == 200, report.text
    # "new" stands for an interview created for each request that draws it.
    return {"new": Interview("new", "new"), "under_way": under_way, "finished": finished}


def _write_totals() -> dict[str, Any]:
    summary = {
        "operations": len(TOTALS.operations),
        "examples": sum(TOTALS.examples.values()),
        "examples_per_operation_and_mode": dict(sorted(TOTALS.examples.items())),
        "statuses": dict(sorted(TOTALS.statuses.items())),
        "server_errors": TOTALS.server_errors,
    }
    out = ROOT / "test-artifacts" / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    (out / "totals.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return summary


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    api: str,
    session: requests.Session,
    interviews: dict[str, Interview],
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    needs_interview = any(parameter.name == "id" for parameter in operation.path_parameters)

    def cases(state: str) -> st.SearchStrategy[tuple[str, Any]]:
        # The id and the token are fixed, so they are never what an invalid request gets wrong.
        interview = interviews[state]
        fixed = (
            {"path_parameters": {"id": interview.id}, "headers": _auth(interview)} if needs_interview else {}
        )
        return operation.as_strategy(mode, **fixed).map(lambda case: (state, case))

    generation = operation.schema.config.generation_for(operation=operation)
    # A deletion gets an interview of its own for each request: the shared ones must outlive it.
    deletion = operation.method.upper() == "DELETE"
    shared_states = needs_interview and not deletion
    # ignored_auth sends the request again with a wrong token and expects 401 or 403; after a deletion
    # that succeeded, the id is gone and answers 404 whatever the token. A wrong token's DELETE is
    # refused, and deletes nothing, in tests/e2e/test_interview_deletion.py.
    checks = [check for check in CHECKS if not (deletion and check is ignored_auth)]

    @settings(
        max_examples=generation.max_examples,
        derandomize=generation.deterministic,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(drawn=st.sampled_from(STATES if shared_states else STATES[:1]).flatmap(cases))
    def run(drawn: tuple[str, Any]) -> None:
        state, case = drawn
        if state == "new" and needs_interview:
            interview = _create(session, api)
            case.path_parameters["id"] = interview.id
            case.headers.update(_auth(interview))
        response = case.call(base_url=api, session=session, timeout=REQUEST_TIMEOUT)
        TOTALS.operations.add(label)
        TOTALS.examples[f"{label} {mode.value}"] += 1
        TOTALS.statuses[f"{label} {response.status_code}"] += 1
        if response.status_code >= 500:
            TOTALS.server_errors.append(f"{label} {response.status_code}: {case.as_curl_command()}")
        case.validate_response(
            response, checks=checks, transport_kwargs={"base_url": api, "session": session}
        )

    run()


def _config() -> SchemathesisConfig:
    """[tool.schemathesis] of pyproject.toml: schemathesis itself reads only a schemathesis.toml."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return SchemathesisConfig.from_dict(tomllib.load(file)["tool"]["schemathesis"])


@pytest.fixture(scope="module")
def operations(api: str) -> Iterator[dict[str, Any]]:
    schema = schemathesis.openapi.from_url(f"{api}/openapi.json", config=_config())
    found = [result.ok() for result in schema.get_all_operations()]
    yield {f"{operation.method.upper()} {operation.path}": operation for operation in found}
    summary = _write_totals()
    print(
        f"\nfuzzed {summary['operations']} operations with {summary['examples']} requests: "
        f"{len(summary['server_errors'])} answered 5xx"
    )


def test_the_document_lists_the_operations_fuzzed_here(operations: dict[str, Any]) -> None:
    assert sorted(operations) == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_an_operation_answers_as_the_document_says(
    label: str,
    operations: dict[str, Any],
    api: str,
    session: requests.Session,
    interviews: dict[str, Interview],
) -> None:
    operation = operations[label]
    failures: list[BaseException] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            _fuzz(operation, mode, api, session, interviews)
        except Unsatisfiable:
            # Nothing of the request is left to break: no body, no parameter but the interview's id.
            assert mode == GenerationMode.NEGATIVE
            assert not operation.query and not operation.body and len(operation.path_parameters) <= 1
        except (Exception, BaseExceptionGroup) as failure:  # the other mode still runs
            failures.append(failure)
    if failures:
        raise BaseExceptionGroup(f"{label}: {len(failures)} of 2 modes failed", failures)
