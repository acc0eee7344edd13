"""A job ad read deterministically: its skills by the vocabulary in data/skills.json, its role and level
from its title and text; the bank's questions drawn for its skills."""

from __future__ import annotations

import pytest

from core.interview.job_ad import normalised, read_job_ad, skill_overlap, skills_in, vocabulary
from core.interview.question_bank import bank_role, question_bank
from core.models import InterviewSetup, JobAd

BACKEND_AD = """Senior Backend Engineer (Payments)

You will build APIs in Python on AWS with Kubernetes, with 6+ years of experience.
You know PostgreSQL and Redis, care about monitoring and on-call, and mentor others."""


def test_a_backend_ad_reads_as_a_senior_backend_role_with_its_skills() -> None:
    assert read_job_ad(BACKEND_AD) == JobAd(
        role="backend",
        level="senior",
        skills=[
            "Python",
            "API design",
            "SQL and relational databases",
            "NoSQL and caching",
            "Cloud platforms",
            "Containers and Kubernetes",
            "Monitoring and observability",
            "Incident response",
            "Mentoring",
        ],
    )


@pytest.mark.parametrize(
    ("ad", "role", "level"),
    [
        (
            "Data Analyst\nSQL, Tableau dashboards and A/B tests; 2 years of experience.",
            "data-analyst",
            "junior",
        ),
        ("Graduate QA Engineer\nManual and automated testing with Playwright.", "qa", "junior"),
        (
            "Staff Site Reliability Engineer\nTerraform, Kubernetes, SLOs and incident response.",
            "devops-sre",
            "senior",
        ),
        # No title words for a role: the skills vote (React, TypeScript, accessibility: frontend).
        ("Join us!\nYou write React and TypeScript and care about accessibility (WCAG).", "frontend", "mid"),
        ("Engineer\nWe build things. 3 to 4 years of experience.", "backend", "mid"),
        ("Software engineer\n", "backend", "mid"),
    ],
)
def test_role_and_level_come_from_the_title_then_the_skills_and_the_years(
    ad: str, role: str, level: str
) -> None:
    read = read_job_ad(ad)
    assert (read.role, read.level) == (role, level)


def test_terms_match_whole_words_and_prefixes_only_where_marked() -> None:
    assert skills_in("We use Java daily") == ["Java / JVM"]
    assert skills_in("javascript only") == ["JavaScript / TypeScript"]  # not Java
    assert "NoSQL and caching" in skills_in("Caching layers")  # "cach*"
    assert skills_in("The mlops team") == []  # "ml" is a whole word, "mlops" is not
    assert skills_in("") == []


def test_every_skill_but_two_languages_has_bank_questions_about_it() -> None:
    """The bank asks no question about Java or Go (it is language-neutral): such skills of an ad steer
    nothing, but the report still says whether the answers showed them."""
    questions = question_bank().all_questions()
    unasked = [
        skill.name
        for skill in vocabulary().skills
        if not any(skill_overlap(question, frozenset({skill.name})) for question in questions)
    ]
    assert unasked == ["Java / JVM", "Go"]
    assert all(skill.terms and skill.roles for skill in vocabulary().skills)


def test_the_ad_steers_the_questions_to_its_skills() -> None:
    plain = InterviewSetup(role="backend", level="senior", kind="technical", questions=5)
    with_ad = plain.model_copy(update={"job_description": BACKEND_AD})
    skills = frozenset(read_job_ad(BACKEND_AD).skills)
    for seed in ("a", "b", "c"):
        drawn = question_bank().pick(with_ad, seed)
        assert len({question.id for question in drawn}) == 5
        eligible = question_bank().eligible(with_ad, "technical")
        best = sorted((skill_overlap(question, skills) for question in eligible), reverse=True)[:5]
        assert sorted((skill_overlap(question, skills) for question in drawn), reverse=True) == best
        assert question_bank().pick(with_ad, seed) == drawn  # repeatable
    # Without an ad the draw is the bank's usual one.
    assert question_bank().pick(plain, "a") != question_bank().pick(with_ad, "a")


def test_a_custom_role_with_an_ad_draws_from_the_role_the_ad_reads_as() -> None:
    setup = InterviewSetup(
        role="custom",
        custom_role="Payments wizard",
        level="mid",
        kind="mixed",
        job_description="Payments wizard\nTableau dashboards, SQL, KPIs and funnels.",
    )
    assert bank_role(setup) == "data-analyst"
    assert bank_role(setup.model_copy(update={"job_description": None})) == "backend"


def test_an_ad_is_limited_to_8_kb_and_normalised_for_the_cache() -> None:
    with pytest.raises(ValueError, match="over 8192 bytes"):
        InterviewSetup(role="qa", level="mid", kind="mixed", job_description="é" * 4097)
    assert (
        InterviewSetup(role="qa", level="mid", kind="mixed", job_description="  \n ").job_description is None
    )
    assert normalised("  Senior  QA\n\nEngineer ") == normalised("senior qa engineer")
