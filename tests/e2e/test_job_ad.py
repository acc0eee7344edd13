"""A job ad through the real path: read on create, steering the questions to its skills, and the report
saying which of its skills the answers showed."""

from __future__ import annotations

import aiohttp

from core.interview.job_ad import read_job_ad, skill_overlap
from core.interview.question_bank import question_bank
from testing.interview_client import start_interview

AD = """Senior Site Reliability Engineer

Run our platform on Kubernetes with Terraform; own monitoring, alerting and SLOs; lead incident response
and postmortems. 7 years of experience."""


async def test_an_ad_steers_the_questions_and_the_report_names_the_skills_shown(
    http: aiohttp.ClientSession,
) -> None:
    setup = {"role": "devops-sre", "level": "senior", "kind": "technical", "questions": 3}
    candidate = await start_interview(http, **setup, job_description=AD)

    assert candidate.created["job_ad"] == {
        "role": "devops-sre",
        "level": "senior",
        "skills": [
            "Containers and Kubernetes",
            "Infrastructure as code",
            "Monitoring and observability",
            "Incident response",
        ],
    }
    skills = frozenset(candidate.created["job_ad"]["skills"])
    bank = {question.text: question for question in question_bank().all_questions()}
    # Each question asked is about as many of the ad's skills as any the interview could have asked.
    best = max(
        skill_overlap(question, skills)
        for question in question_bank().all_questions()
        if question.id.startswith("devops-sre-t") and "senior" in question.levels
    )
    asked = [candidate.created["question"]["text"]]
    answers = [
        "I would check the Kubernetes pods and roll back the deploy; then I would fix the alert thresholds.",
        "First I would look at the dashboards, then talk to the team about what changed recently.",
        "I would write it down in a document and share it with the team for their review.",
    ]
    for turn in (1, 2, 3):
        result = await candidate.answer_and_wait(turn, answers[turn - 1])
        if turn < 3:
            asked.append(result["next_question"]["text"])
    assert skill_overlap(bank[asked[0]], skills) == best > 0

    status, report = await candidate.report(wait=10)
    assert status == 200, report
    assert report["ad_skills"] == {
        "shown": ["Containers and Kubernetes", "Monitoring and observability"],
        "not_shown": ["Infrastructure as code", "Incident response"],
    }
    state = await candidate.state()
    assert state["job_ad"] == candidate.created["job_ad"] == read_job_ad(AD).model_dump()


async def test_an_ad_over_8_kb_is_refused_and_without_one_there_is_no_job_ad(
    http: aiohttp.ClientSession,
) -> None:
    body = {"role": "qa", "level": "mid", "kind": "mixed", "job_description": "x" * (8 * 1024 + 1)}
    async with http.post("/api/interviews", json=body) as response:
        refused = await response.json()
        assert response.status == 422 and "job_description" in refused["error"]["message"], refused
    candidate = await start_interview(http)
    assert candidate.created["job_ad"] is None
    status, _ = await candidate.answer(1, "I don't know")
    assert status == 200
    # The largest ad as stored (each quote escaped, twice its size in the record) still fits a custom
    # role's record, rewritten on every turn.
    worst = await start_interview(
        http, role="custom", custom_role="Quote wrangler", job_description='"' * 8192
    )
    assert worst.created["job_ad"] == {"role": "backend", "level": "mid", "skills": []}
    for turn in (1, 2, 3):
        await worst.answer_and_wait(turn, "I don't know")
    status, report = await worst.report(wait=10)
    assert status == 200 and report["ad_skills"] == {"shown": [], "not_shown": []}, report
