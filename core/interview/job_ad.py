"""The job ad: its role, level and skills, read deterministically from its text with a skills vocabulary
kept as data (data/skills.json), and the skills an answer shows by the same vocabulary.

- Skills: each skill's terms matched as whole words (a trailing `*` takes any ending), case aside.
- Role: the ad's title (its first non-empty line) when its words name a bank role (the rule custom job
  titles use); otherwise the bank role most of the ad's skills point to (ties in the bank's order);
  backend when nothing points anywhere.
- Level: senior or junior words in the title ("Senior", "Staff", "Graduate", "Intern"…); otherwise the
  first "N years" in the ad (5 or more: senior, 2 or less: junior); otherwise mid."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import get_args

from core.models import BankRole, JobAd, Level, Question, StrictModel
from core.settings import DATA_DIR

# Words of a job title that point to a bank role, checked in this order; a title that names none of
# them is interviewed as a backend engineer, the most general of the bank's roles.
_ROLE_WORDS: tuple[tuple[BankRole, frozenset[str]], ...] = (
    ("engineering-manager", frozenset({"manager", "head", "director", "lead", "vp"})),
    ("product-manager", frozenset({"product", "owner", "pm"})),
    ("data-scientist", frozenset({"scientist", "ml", "machine", "ai", "research", "nlp", "vision"})),
    ("data-analyst", frozenset({"data", "analyst", "analytics", "bi", "insights", "reporting"})),
    ("devops-sre", frozenset({"devops", "sre", "reliability", "cloud", "infrastructure", "platform", "ops"})),
    ("qa", frozenset({"qa", "test", "tester", "testing", "quality", "sdet"})),
    ("frontend", frozenset({"frontend", "front", "ui", "web", "react", "angular", "vue", "mobile", "ios"})),
)
_WORD = re.compile(r"[a-z]+")
_YEARS = re.compile(r"(\d{1,2})\s*\+?\s*(?:or more\s+)?years")
BANK_ROLES: tuple[BankRole, ...] = get_args(BankRole)


class Skill(StrictModel):
    name: str
    terms: list[str]
    roles: list[BankRole]


class SkillsVocabulary(StrictModel):
    skills: list[Skill]
    senior_words: list[str]
    junior_words: list[str]
    senior_years: int
    junior_years: int


@lru_cache(maxsize=1)
def vocabulary() -> SkillsVocabulary:
    return SkillsVocabulary.model_validate_json((DATA_DIR / "skills.json").read_text("utf-8"))


def _term(term: str) -> str:
    if term.endswith("*"):
        return rf"(?<![\w-]){re.escape(term[:-1])}[\w-]*"
    return rf"(?<![\w-]){re.escape(term)}(?![\w-])"


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[Skill, re.Pattern[str]], ...]:
    return tuple(
        (skill, re.compile("|".join(_term(term) for term in skill.terms))) for skill in vocabulary().skills
    )


def title_role(title: str) -> BankRole | None:
    """The bank role a job title's words name, if any."""
    words = set(_WORD.findall(title.casefold()))
    return next((role for role, signs in _ROLE_WORDS if words & signs), None)


def nearest_bank_role(title: str) -> BankRole:
    return title_role(title) or "backend"


def skills_in(text: str) -> list[str]:
    """The vocabulary's skills a text shows, in the vocabulary's order."""
    folded = text.casefold()
    return [skill.name for skill, pattern in _patterns() if pattern.search(folded)]


def normalised(text: str) -> str:
    """The ad as the cache knows it: case and runs of white space aside."""
    return " ".join(text.casefold().split())


def _title(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def _role(title: str, skills: list[str]) -> BankRole:
    named = title_role(title)
    if named is not None:
        return named
    roles_of = {skill.name: skill.roles for skill in vocabulary().skills}
    votes = Counter(role for skill in skills for role in roles_of[skill])
    if not votes:
        return "backend"
    return max(BANK_ROLES, key=lambda role: (votes[role], -BANK_ROLES.index(role)))


def _level(title: str, text: str) -> Level:
    folded = title.casefold()
    words = vocabulary()
    if any(re.search(_term(word), folded) for word in words.senior_words):
        return "senior"
    if any(re.search(_term(word), folded) for word in words.junior_words):
        return "junior"
    years = _YEARS.search(text.casefold())
    if years is None:
        return "mid"
    count = int(years.group(1))
    return "senior" if count >= words.senior_years else "junior" if count <= words.junior_years else "mid"


@lru_cache(maxsize=256)
def read_job_ad(text: str) -> JobAd:
    skills = skills_in(text)
    title = _title(text)
    return JobAd(role=_role(title, skills), level=_level(title, text), skills=skills)


_QUESTION_SKILLS: dict[str, frozenset[str]] = {}


def _question_skills(question: Question) -> frozenset[str]:
    found = _QUESTION_SKILLS.get(question.id)
    if found is None:
        parts = [question.text] + [
            " ".join([point.text, *point.terms, *point.paraphrases]) for point in question.key_points
        ]
        found = _QUESTION_SKILLS[question.id] = frozenset(skills_in("\n".join(parts)))
    return found


def skill_overlap(question: Question, skills: frozenset[str]) -> int:
    """How many of the skills a question (its text and key points) is about."""
    return len(_question_skills(question) & skills)
