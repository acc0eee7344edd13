"""Tokens per call of each kind of job, as the app builds its prompts: `make bench-tokens`.

Prompt tokens are estimated at 4 characters a token (the catalogue's Llama and Gemma tokenizers run
3.5-4.5 on English; no tokenizer can be downloaded here, so this is an estimate, the same before and
after a change). Completion tokens are the max_tokens each call asks for (what a provider that counts on
arrival charges) and a typical valid reply's size. Run it on two commits to compare them."""

from __future__ import annotations

import argparse
import json
import math
import statistics

from core.interview.question_bank import question_bank
from core.models import CRITERIA, InterviewSetup
from core.providers import prompts
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


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def review_reply(turns: int) -> str:
    return json.dumps(
        {
            "summary": "You gave concrete, measured answers; the technical ones need their trade-offs named.",
            "strengths": ["Numbers in turns 1 and 3", "Clear steps in turn 2"],
            "improvements": ["Name a trade-off in turns 2 and 4", "End stories with the result"],
            "answers": [
                {"turn": n, "comment": "Concrete and measured; say what it cost."}
                for n in range(1, turns + 1)
            ],
        }
    )


def measure(interview_turns: int) -> dict[str, dict[str, float]]:
    bank = question_bank().all_questions()
    questions = bank[:: max(1, len(bank) // 40)][:40]
    evaluations = [prompts.evaluation_request(q, a) for q in questions for a in ANSWERS]
    figures = {
        "evaluate (one answer a call)": {
            "prompt": statistics.mean(tokens(r.system + r.user) for r in evaluations),
            "max_tokens": evaluations[0].max_tokens,
            "reply": tokens(EVALUATION_REPLY),
        }
    }
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
            figures[f"evaluate, batch of {size} (per answer)"] = {
                "prompt": statistics.mean(tokens(r.system + r.user) for r in batches) / size,
                "max_tokens": batches[0].max_tokens / size,
                "reply": tokens(EVALUATION_REPLY) + 3,
            }
    setup = InterviewSetup(role="backend", level="mid", kind="mixed", questions=interview_turns)
    turns = [
        (n, q, ANSWERS[n % 3], evaluate_answer(q, ANSWERS[n % 3]))
        for n, q in enumerate(questions[:interview_turns], start=1)
    ]
    scored = write_report("Backend engineer", setup, turns)
    review = prompts.review_request("Backend engineer", setup, scored, {n: a for n, _, a, _ in turns})
    figures[f"report ({interview_turns} answers reviewed)"] = {
        "prompt": tokens(review.system + review.user),
        "max_tokens": review.max_tokens,
        "reply": tokens(review_reply(interview_turns)),
    }
    generate = prompts.questions_request("Data engineer (Spark)", "mid")
    figures["custom-role questions"] = {
        "prompt": tokens(generate.system + generate.user),
        "max_tokens": generate.max_tokens,
        "reply": 1_400,  # 16 questions with 2-3 key points each, as the fakes' replies run
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6, help="answers in the reviewed interview")
    parser.add_argument("--json", help="also write the figures to this file")
    options = parser.parse_args()
    figures = measure(options.turns)
    print(f"{'job kind':40s} {'prompt':>8s} {'max_tokens':>11s} {'reply':>7s} {'reserved':>9s} {'used':>7s}")
    for kind, row in figures.items():
        reserved, used = row["prompt"] + row["max_tokens"], row["prompt"] + row["reply"]
        print(
            f"{kind:40s} {row['prompt']:8.0f} {row['max_tokens']:11.0f} {row['reply']:7.0f} "
            f"{reserved:9.0f} {used:7.0f}"
        )
    if options.json:
        with open(options.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
