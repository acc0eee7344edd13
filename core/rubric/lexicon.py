"""The data the evaluator matches meaning with, kept beside the question bank:

- each key point's `terms` (the bank's word-prefix rule) and `paraphrases` (the idea in other words),
- data/lexicon/concepts.json: general concept groups, phrases that name the same idea in any field
  ("timeout", "time limit", "give up after"); a key point one of whose terms or paraphrases belongs to a
  group is also matched by the group's other phrases,
- the bank's other questions of the same role, to tell an answer to a neighbouring question from one to
  the question asked.

Everything here is built once and cached; the evaluator only looks things up."""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.models import KeyPoint, Question, RoleQuestions
from core.rubric.meaning import MeaningFinder, PatternKey, pattern_key, pattern_words, stem
from core.settings import DATA_DIR

CONCEPTS_FILE = DATA_DIR / "lexicon" / "concepts.json"
QUESTIONS_DIR = DATA_DIR / "questions"
_MIN_PREFIX_TERM = 4  # a term this long or longer pulls in the groups of words it is a prefix of
# A pattern shared by the key points of at most this many of a role's questions is fully telling; one shared
# by more weighs less, as log(questions / sharing) / log(questions / RARE_SHARING) (inverse document
# frequency), down to GENERIC_FLOOR: "data" or "team" shows little of any one question's idea.
RARE_SHARING = 2
GENERIC_FLOOR = 0.1


@dataclass(frozen=True)
class Concepts:
    groups: tuple[tuple[str, ...], ...]
    # The groups each normalized phrase belongs to, and the single-word members' stems, sorted.
    by_phrase: dict[tuple[str, ...], tuple[int, ...]]
    single_words: tuple[str, ...]

    def groups_of(self, phrase: str) -> set[int]:
        """The groups a key point's term or paraphrase belongs to: a group one of whose phrases is the
        same words, or, for a one-word term of 4+ letters, one of whose one-word phrases it begins."""
        words = pattern_words(phrase)
        key = tuple(word.text for word in words)
        found = set(self.by_phrase.get(key, ()))
        if len(key) == 1 and len(key[0]) >= _MIN_PREFIX_TERM and phrase.strip().isalpha():
            prefix = stem(phrase.strip().lower()) if not words[0].prefix else key[0]
            raw = phrase.strip().lower()
            for start in {prefix, raw}:
                at = bisect_left(self.single_words, start)
                while at < len(self.single_words) and self.single_words[at].startswith(start):
                    found.update(self.by_phrase[(self.single_words[at],)])
                    at += 1
        return found


@lru_cache(maxsize=4)
def concepts(path: Path = CONCEPTS_FILE) -> Concepts:
    data = json.loads(path.read_text("utf-8")) if path.exists() else {"groups": []}
    groups = tuple(tuple(group["phrases"]) for group in data["groups"])
    by_phrase: dict[tuple[str, ...], list[int]] = {}
    for index, group in enumerate(groups):
        for phrase in group:
            key = tuple(word.text for word in pattern_words(phrase))
            if key and index not in by_phrase.setdefault(key, []):
                by_phrase[key].append(index)
    single = tuple(sorted(key[0] for key in by_phrase if len(key) == 1))
    return Concepts(groups, {key: tuple(value) for key, value in by_phrase.items()}, single)


def meaning_patterns(point: KeyPoint) -> list[str]:
    """Every phrase that shows `point` by meaning: its one-word alphabetic terms (stemmed, the last word a
    prefix as the bank's rule has it), its paraphrases, and the phrases of the concept groups they
    belong to."""
    return list(_meaning_patterns(tuple(point.terms), tuple(point.paraphrases)))


@lru_cache(maxsize=8192)
def _meaning_patterns(terms: tuple[str, ...], paraphrases: tuple[str, ...]) -> tuple[str, ...]:
    table = concepts()
    patterns = [_term_pattern(term) for term in terms if is_plain(term)]
    patterns += paraphrases
    groups: set[int] = set()
    for phrase in [*terms, *paraphrases]:
        if is_plain(phrase):
            groups |= table.groups_of(phrase)
    for group in sorted(groups):
        patterns += table.groups[group]
    return tuple(dict.fromkeys(pattern for pattern in patterns if pattern))


@lru_cache(maxsize=65536)  # the concept groups' phrases recur in many key points' patterns
def is_plain(term: str) -> bool:
    """Letters, spaces, hyphens and apostrophes only: the meaning matcher can read it."""
    return bool(term.strip()) and all(char.isalpha() or char in " -'’*" for char in term)


def _term_pattern(term: str) -> str:
    """A bank term as a pattern: its last word continues ("idempot" matches "idempotency")."""
    term = term.strip()
    return term if term.endswith("*") else term + "*"


def key_point_finder(key_points: list[KeyPoint]) -> MeaningFinder:
    """A finder labelled by key-point index ("0", "1", ...)."""
    return _finder_for(tuple((p.text, tuple(p.terms), tuple(p.paraphrases)) for p in key_points))


@lru_cache(maxsize=1024)
def _finder_for(points: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]) -> MeaningFinder:
    return MeaningFinder(
        {
            str(index): meaning_patterns(KeyPoint(text=text, terms=list(terms), paraphrases=list(para)))
            for index, (text, terms, para) in enumerate(points)
        }
    )


# --- the bank's neighbouring questions ----------------------------------------------------


@dataclass(frozen=True)
class RoleIndex:
    """One finder over every key point of every question of a role, labelled "<question id>#<index>", and
    how telling each of its patterns is (see `RARE_SHARING`)."""

    finder: MeaningFinder
    questions: dict[str, Question]
    weights: dict[PatternKey, float]
    question_of: dict[str, str]  # each label's question id

    def question(self, question_id: str) -> Question:
        return self.questions[question_id]

    def points(self, question_id: str) -> int:
        return len(self.questions[question_id].key_points)


@lru_cache(maxsize=1)
def _bank_roles() -> dict[str, list[Question]]:
    roles: dict[str, list[Question]] = {}
    for path in sorted(QUESTIONS_DIR.glob("*.json")):
        role = RoleQuestions.model_validate_json(path.read_text("utf-8"))
        roles[role.role] = role.questions
    return roles


@lru_cache(maxsize=1)
def _role_of_question() -> dict[str, str]:
    return {question.id: role for role, questions in _bank_roles().items() for question in questions}


def role_of(question_id: str) -> str | None:
    """The bank role a question belongs to, or None for a question the bank does not hold."""
    return _role_of_question().get(question_id)


@lru_cache(maxsize=16)
def role_index(role: str) -> RoleIndex:
    questions = _bank_roles()[role]
    patterns = {
        f"{question.id}#{index}": meaning_patterns(point)
        for question in questions
        for index, point in enumerate(question.key_points)
    }
    return RoleIndex(
        MeaningFinder(patterns),
        {question.id: question for question in questions},
        role_weights(role),
        {label: label.rsplit("#", 1)[0] for label in patterns},
    )


@lru_cache(maxsize=16)
def role_weights(role: str) -> dict[PatternKey, float]:
    """Each pattern of the role's key points, weighted by how few of the role's questions share it."""
    questions = _bank_roles()[role]
    sharing: dict[PatternKey, int] = {}
    for question in questions:
        keys = {pattern_key(pattern) for point in question.key_points for pattern in meaning_patterns(point)}
        for key in keys:
            sharing[key] = sharing.get(key, 0) + 1
    total = len(questions)
    if total <= RARE_SHARING:
        return {}
    scale = math.log(total / RARE_SHARING)
    return {
        key: max(GENERIC_FLOOR, min(1.0, math.log(total / count) / scale))
        for key, count in sharing.items()
        if count > RARE_SHARING
    }


def question_weights(question_id: str) -> dict[PatternKey, float]:
    """The pattern weights of the role of a bank question; none (every pattern weighs 1) for another."""
    role = role_of(question_id)
    return role_weights(role) if role is not None else {}


def warm(roles: Iterable[str] | None = None) -> None:
    """Build and keep the role indexes (and their weights) and every question's finder now, so that no
    answer pays for them: under a second for the whole bank, once per process. Safe to call again."""
    bank = _bank_roles()
    for role in bank if roles is None else roles:
        role_index(role)
        for question in bank.get(role, []):
            key_point_finder(question.key_points)
