"""The templates layer: fixed wording and the feedback that needs no evaluator, at zero provider calls."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from core.models import CRITERIA, CriterionScore, Evaluation, InterviewSetup, Phrases, Question
from core.settings import DATA_DIR

# Answers that decline the question; anything longer than a few words is a real attempt and is evaluated.
_NON_ANSWERS = re.compile(
    r"^\W*(i\s+)?(don'?t|do\s+not)\s+know\W*$|^\W*(skip|pass|next|no\s+idea|n/?a|idk|not\s+sure|no\s+answer)\W*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
MIN_WORDS = 3


@lru_cache(maxsize=1)
def phrases() -> Phrases:
    return Phrases.model_validate_json((DATA_DIR / "phrases.json").read_text("utf-8"))


def _pick(options: list[str], *seed: object) -> str:
    """A stable choice, so a replayed request gets the same wording."""
    digest = hashlib.sha256("|".join(map(str, seed)).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def greeting(setup: InterviewSetup, role_title: str, interview_id: str) -> str:
    return _pick(phrases().greetings, interview_id).format(
        name=setup.candidate_name or "there",
        role_title=role_title,
        level=setup.level,
        kind=setup.kind,
        count=setup.questions,
    )


def transition(interview_id: str, turn: int) -> str:
    return _pick(phrases().transitions, interview_id, turn)


def closing(interview_id: str) -> str:
    return _pick(phrases().closings, interview_id)


def is_non_answer(answer: str) -> bool:
    return bool(_NON_ANSWERS.match(answer.strip())) or len(_WORD.findall(answer)) < MIN_WORDS


def non_answer_feedback(question: Question, answer: str, interview_id: str, turn: int) -> Evaluation:
    """Feedback for a declined question: every criterion at the floor, and what to try next time."""
    reason = "No attempt at the question was given."
    return Evaluation(
        **{criterion: CriterionScore(score=1, reason=reason) for criterion in CRITERIA},
        overall=1.0,
        evidence=[answer.strip()] if answer.strip() else [],
        improvement=_pick(phrases().skip_feedback, interview_id, turn),
        covered_points=[],
        missed_points=[point.text for point in question.key_points],
        scored_by="template",
    )
