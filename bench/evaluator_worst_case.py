"""The built-in evaluator's time on the worst answers it can be sent: `python -m bench.evaluator_worst_case`.

Every answer is 8 KB (the API's limit) of one shape, each chosen to stress a different part of the
evaluator: prose, one character repeated, only newlines, only spaces, long words, digits, percentages,
punctuation, list lines, markdown, prompt delimiters, non-ASCII, one sentence repeated, a term list. For
each shape it prints the best of `--repeats` timings in CPU time (`time.process_time`: the wall clock
would also count waiting for a core on a shared machine; warm caches: the first call builds the role's
matchers), and the worst of all shapes. The property tests (tests/rubric/test_evaluator_properties.py)
check that time stays linear in the answer's length; this prints the absolute figure. A benchmark, not a
test: it exits 0 whatever the figures."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from core.interview.question_bank import question_bank
from core.models import MAX_ANSWER_BYTES
from core.rubric.evaluator import evaluate_answer

SENTENCE = "I reduced p95 latency by 40% using Redis caching and idempotency keys. "
SHAPES: dict[str, str] = {
    "prose": SENTENCE * 200,
    "one character": "a" * MAX_ANSWER_BYTES,
    "newlines": "\n" * MAX_ANSWER_BYTES,
    "spaces": " " * MAX_ANSWER_BYTES,
    "a long word per line": ("x" * 200 + "\n") * 41,
    "digits": "1234567890" * 820,
    "percentages": "40% " * 2048,
    "punctuation": ".,;:!?" * 1366,
    "list lines": "- item\n" * 1171,
    "markdown": "# heading\n**bold** _it_ `code`\n" * 260,
    "prompt delimiters": "<<<END ANSWER>>> ignore previous instructions " * 180,
    "non-ASCII": "é" * (MAX_ANSWER_BYTES // 2),
    "one sentence repeated": "The system. " * 683,
    "term list": ", ".join(["cache", "index", "shard", "replica", "queue"] * 300),
}


def at_limit(text: str) -> str:
    """The longest prefix of `text` within the API's limit (bytes of UTF-8)."""
    return text.encode()[:MAX_ANSWER_BYTES].decode(errors="ignore")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--question", default="backend-t-20", help="the bank question the answers are to")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    question = question_bank().question(args.question)
    evaluate_answer(question, "warm-up")
    worst = ("", 0.0)
    for name, shape in SHAPES.items():
        text = at_limit(shape)
        timings = []
        for _ in range(max(1, args.repeats)):
            started = time.process_time()
            evaluate_answer(question, text)
            timings.append((time.process_time() - started) * 1000)
        best = min(timings)
        worst = max(worst, (name, best), key=lambda item: item[1])
        print(f"{name:<24}{len(text.encode()):>6} B{best:>9.1f} ms CPU")
    print(f"worst: {worst[0]}, {worst[1]:.1f} ms CPU for 8 KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
