from __future__ import annotations

from core.interview import evaluator_warm_up
from core.interview.question_bank import question_bank
from core.rubric import lexicon


async def test_an_interviews_roles_are_built_once_per_process_off_the_request_path() -> None:
    evaluator_warm_up._started.clear()
    lexicon.role_index.cache_clear()
    backend = [q.id for q in question_bank().all_questions() if lexicon.role_of(q.id) == "backend"][:3]

    task = evaluator_warm_up.warm_roles_of([*backend, "gen-not-in-the-bank"])
    assert task is not None
    await task
    assert lexicon.role_index.cache_info().currsize == 1  # backend's, and nothing for the generated one
    hits = lexicon.role_index.cache_info().hits
    lexicon.role_index("backend")
    assert lexicon.role_index.cache_info().hits == hits + 1  # the first answer finds it built

    assert evaluator_warm_up.warm_roles_of(backend) is None  # started already
    assert evaluator_warm_up.warm_roles_of(["gen-not-in-the-bank"]) is None
