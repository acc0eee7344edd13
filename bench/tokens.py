"""Tokens per call of each kind of job, as the app builds its prompts: `make bench-tokens`.

Prompt tokens are estimated at 4 characters a token (the catalogue's Llama and Gemma tokenizers run
3.5-4.5 on English; no tokenizer can be downloaded here, so this is an estimate, the same before and
after a change). Completion tokens are the max_tokens each call asks for (what a provider that counts on
arrival charges) and a typical valid reply's size, beside the reply size the request tells the pool
(`expected_output_tokens`, which weighs keys by calls of that size: keep the two close). Run it on two
commits to compare them."""

from __future__ import annotations

import argparse
import json
import math
import statistics

from core.interview.question_bank import question_bank
from core.models import CRITERIA, InterviewSetup
from core.providers import prompts
from core.providers.adapters.chat import ChatRequest
from core.rubric.evaluator import evaluate_answer
from core.rubric.report import write_report

CHARS_PER_TOKEN = 4.0
# A candidate's answer of about 90, 160 and 300 words: the range a two-minute answer covers.
SENTENCE = (
    "At my last job our checkout API timed out under load, so I measured the slow paths first, then I "
    "added idempotency keys and a Redis cache, and p95 latency fell from 900 ms to 180 ms. "
)
ANSWERS = [SENTENCE * 2, SENTENCE * 4, SENTENCE * 7]
# A valid reply of each kind, as long as a model's usually are.
EVALUATION_REPLY = json.dumps(
    {
        c: {"score": 4, "reason": "The answer names the cache and the measured latency it bought."}
        for c in CRITERIA
    }
    | {
        "evidence": ["p95 latency fell from 900 ms to 180 ms", "I measured the slow paths first"],
        "improvement": "Say what the cache cost: memory, invalidation, and what you would do differently.",
        "covered_points": ["Measure before optimising", "Cache hot reads"],
        "missed_points": ["Trade-offs of caching"],
    }
)

# A review's score of one turn: an evaluation with one-clause reasons (REVIEW_PER_SCORE_MAX_TOKENS).
REVIEW_SCORE = {c: {"score": 3, "reason": "Names the steps; no measured result."} for c in CRITERIA} | {
    "evidence": ["I measured the slow paths first"],
    "improvement": "End with the result, in numbers, and what it cost.",
    "covered_points": ["Measure before optimising"],
    "missed_points": ["Trade-offs of caching"],
}
FOLLOW_UP_REPLY = json.dumps({"question": "What did the cache cost you, and how did you keep it fresh?"})
# An example answer of about 250 words, as the prompt asks (150-300).
EXAMPLE_REPLY = json.dumps({"answer": " ".join([SENTENCE.strip()] * 6)})


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def review_reply(turns: int, scored: int = 0) -> str:
    return json.dumps(
        {
            "scores": [{"turn": n, **REVIEW_SCORE} for n in range(1, scored + 1)],
            "summary": "You gave concrete, measured answers; the technical ones need their trade-offs named.",
            "strengths": ["Numbers in turns 1 and 3", "Clear steps in turn 2"],
            "improvements": ["Name a trade-off in turns 2 and 4", "End stories with the result"],
            "answers": [
                {"turn": n, "comment": "Concrete and measured; say what it cost."}
                for n in range(1, turns + 1)
            ],
        }
    )


def row(requests: list[ChatRequest], reply: float, per: int = 1) -> dict[str, float]:
    """One kind's figures, per answer when a call carries `per` of them: its prompt (the mean over
    `requests`), its max_tokens, a typical reply and the reply size the request tells the pool."""
    first = requests[0]
    return {
        "prompt": statistics.mean(tokens(r.system + r.user) for r in requests) / per,
        "max_tokens": first.max_tokens / per,
        "reply": reply,
        "told": (first.expected_output_tokens or 0) / per,
    }


def measure(interview_turns: int) -> dict[str, dict[str, float]]:
    bank = question_bank().all_questions()
    questions = bank[:: max(1, len(bank) // 40)][:40]
    evaluations = [prompts.evaluation_request(q, a) for q in questions for a in ANSWERS]
    figures = {"evaluate (one answer a call)": row(evaluations, tokens(EVALUATION_REPLY))}
    if hasattr(prompts, "batch_evaluation_request"):
        for size in (4, 8):
            batches = [
                prompts.batch_evaluation_request(
                    [
                        prompts.BatchItem(f"A{i}", q, ANSWERS[i % 3])
                        for i, q in enumerate(questions[s : s + size])
                    ],
                    "0123456789ab",
                )
                for s in range(0, len(questions) - size + 1, size)
            ]
            figures[f"evaluate, batch of {size} (per answer)"] = row(
                batches, tokens(EVALUATION_REPLY) + 3, size
            )
    setup = InterviewSetup(role="backend", level="mid", kind="mixed", questions=interview_turns)
    turns = [
        (n, q, ANSWERS[n % 3], evaluate_answer(q, ANSWERS[n % 3]))
        for n, q in enumerate(questions[:interview_turns], start=1)
    ]
    scored = write_report("Backend engineer", setup, turns)
    answers = {n: a for n, _, a, _ in turns}
    review = prompts.review_request("Backend engineer", setup, scored, answers)
    figures[f"report ({interview_turns} answers reviewed)"] = row(
        [review], tokens(review_reply(interview_turns))
    )
    # The review that also scores the turns only the built-in evaluator scored (the governor's report).
    to_score = {n: q for n, q, _, _ in turns}
    scoring = prompts.review_request("Backend engineer", setup, scored, answers, to_score)
    figures[f"report ({interview_turns} reviewed and scored)"] = row(
        [scoring], tokens(review_reply(interview_turns, interview_turns))
    )
    # 16 questions with 2-3 key points each, as the fakes' replies run
    figures["custom-role questions"] = row([prompts.questions_request("Data engineer (Spark)", "mid")], 1_400)
    follow_up = prompts.follow_up_request(questions[0], questions[0].key_points[0].text)
    figures["follow-up question"] = row([follow_up], tokens(FOLLOW_UP_REPLY))
    figures["example answer"] = row([prompts.example_request(questions[0])], tokens(EXAMPLE_REPLY))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6, help="answers in the reviewed interview")
    parser.add_argument("--json", help="also write the figures to this file")
    options = parser.parse_args()
    figures = measure(options.turns)
    print(
        f"{'job kind':40s} {'prompt':>8s} {'max_tokens':>11s} {'reply':>7s} {'told':>6s} {'reserved':>9s} "
        f"{'used':>7s}"
    )
    for kind, row in figures.items():
        reserved, used = row["prompt"] + row["max_tokens"], row["prompt"] + row["reply"]
        print(
            f"{kind:40s} {row['prompt']:8.0f} {row['max_tokens']:11.0f} {row['reply']:7.0f} "
            f"{row['told']:6.0f} {reserved:9.0f} {used:7.0f}"
        )
    if options.json:
        with open(options.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
