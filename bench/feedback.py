"""How well the built-in evaluator agrees with a careful interviewer: `python -m bench.feedback`.

Scores every answer of the graded corpus (data/graded/answers.jsonl: answers written and graded 1-5 by
hand before any evaluator ran, see data/graded/README.md) with `evaluate_answer`, then prints

- Spearman's rho of `overall` against the grades (average ranks for ties),
- the share of pairs (same question, grades 2+ apart) the evaluator orders correctly (strictly),
- the highest `overall` of any gaming answer (keyword list, off-topic, addressed to the grader),
- the mean `overall` of the strong answers that avoid the key points' obvious words,
- the mean `overall` of each kind of answer, the goals met or not, the evaluator's time per answer, and
  the answers it gets most wrong.

Time is the process's CPU time (`time.process_time`), not the wall clock: on a shared machine the wall
clock also counts the time the process waits for a core. The corpus is scored once in order (the first
pass), then `--repeats` more times, and each answer's time is reported by what the process had already
built when it was scored:

- warm, text seen before: the median of an answer's repeats (every cache built, its words stemmed);
- warm, new text: the first pass's answers whose question was scored before (a long-running app's
  usual case: the finders built, the answer's own text new);
- the first answer of a question whose role was scored before (it builds the question's finders);
- the first answer of a role (it weighs the role's patterns; the very first answer also reads the
  question bank and the concept groups);
- whichever of these is the first answer of its role to need the off-topic check: it also builds the
  role's index of every key point, and is counted apart.

A benchmark, not a test: it exits 0 whatever the figures. `--json OUT` writes the figures and every
answer's score for comparing two commits."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from core.interview.question_bank import question_bank
from core.rubric.evaluator import evaluate_answer
from core.rubric.lexicon import role_index, role_of

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "data" / "graded" / "answers.jsonl"

# Answers that try to score without answering: each is graded 1 or 2 by the corpus.
GAMING_KINDS = ("keyword_list", "off_topic", "addresses_grader")
KINDS = (
    "strong",
    "plain_strong",
    "good",
    "general",
    "vague",
    "non_answer",
    "keyword_list",
    "off_topic",
    "addresses_grader",
    "rambling",
    "very_short",
    "very_long",
)
MIN_PAIR_GAP = 2  # grades at least this far apart must be ordered by the evaluator
WORST_CASES = 10
REPEATS = 5
# What an answer built when it was first scored (see the module's docstring).
BUILT_ROLE_INDEX = "built its role's index"
FIRST_OF_ROLE = "first of its role"
FIRST_OF_QUESTION = "first of its question"
NEW_TEXT = "new text"

RHO_GOAL = 0.8
PAIRS_GOAL = 0.9
GAMING_GOAL = 2.0
PLAIN_STRONG_GOAL = 3.5


@dataclass(frozen=True)
class GradedAnswer:
    id: str
    question_id: str
    answer: str
    grade: int
    kind: str
    note: str


@dataclass(frozen=True)
class Scored:
    graded: GradedAnswer
    overall: float
    first_seconds: float  # CPU time the first time it was scored
    first_built: str  # BUILT_ROLE_INDEX, FIRST_OF_ROLE, FIRST_OF_QUESTION or NEW_TEXT
    warm_seconds: float | None  # the median CPU time of its repeats (None without repeats)

    @property
    def error(self) -> float:
        """The evaluator's overall minus the interviewer's grade."""
        return self.overall - self.graded.grade


@dataclass(frozen=True)
class Goal:
    name: str
    value: float | None
    target: str
    met: bool


def load_corpus(path: Path) -> list[GradedAnswer]:
    """The corpus as JSON Lines (one record a line) or as one JSON array of records."""
    text = path.read_text("utf-8")
    records: list[Any]
    if text.lstrip().startswith("["):
        records = json.loads(text)
    else:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [_graded(record, index) for index, record in enumerate(records, start=1)]


def _graded(record: Any, index: int) -> GradedAnswer:
    if not isinstance(record, dict):
        raise ValueError(f"record {index} is not an object")
    question_id = str(record["question_id"])
    return GradedAnswer(
        id=str(record.get("id") or f"{question_id}#{index}"),
        question_id=question_id,
        answer=str(record["answer"]),
        grade=int(record["grade"]),
        kind=str(record["kind"]),
        note=str(record.get("note", "")),
    )


def score_all(corpus: Sequence[GradedAnswer], repeats: int = REPEATS) -> list[Scored]:
    """Every answer scored once in order, then `repeats` more times (round after round, so that an
    answer's repeats are not back to back), timed in CPU time."""
    bank = question_bank()
    roles: set[str | None] = set()
    questions: set[str] = set()
    first = []
    for graded in corpus:
        question = bank.question(graded.question_id)
        role = role_of(question.id)
        built = FIRST_OF_QUESTION if question.id not in questions else NEW_TEXT
        built = FIRST_OF_ROLE if role not in roles else built
        roles.add(role)
        questions.add(question.id)
        indexes = role_index.cache_info().misses
        started = time.process_time()
        evaluation = evaluate_answer(question, graded.answer)
        seconds = time.process_time() - started
        built = BUILT_ROLE_INDEX if role_index.cache_info().misses > indexes else built
        first.append((evaluation.overall, seconds, built))
    warm: list[list[float]] = [[] for _ in corpus]
    for _ in range(repeats):
        for index, graded in enumerate(corpus):
            question = bank.question(graded.question_id)
            started = time.process_time()
            evaluate_answer(question, graded.answer)
            warm[index].append(time.process_time() - started)
    return [
        Scored(
            graded=graded,
            overall=overall,
            first_seconds=seconds,
            first_built=built,
            warm_seconds=statistics.median(times) if times else None,
        )
        for graded, (overall, seconds, built), times in zip(corpus, first, warm, strict=True)
    ]


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks of `values`, tied values sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = shared
        start = end + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson's r of average ranks); None when either side is constant."""
    if len(xs) != len(ys):
        raise ValueError("spearman needs two sequences of the same length")
    if len(xs) < 2:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    covariance = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    spread_x = sum((a - mx) ** 2 for a in rx)
    spread_y = sum((b - my) ** 2 for b in ry)
    if spread_x == 0 or spread_y == 0:
        return None
    return float(covariance / (spread_x * spread_y) ** 0.5)


def ordered_pairs(scored: Sequence[Scored]) -> tuple[int, int]:
    """(correctly ordered, all) pairs of answers to the same question whose grades are 2+ apart."""
    by_question: dict[str, list[Scored]] = defaultdict(list)
    for item in scored:
        by_question[item.graded.question_id].append(item)
    correct = total = 0
    for answers in by_question.values():
        for first, second in combinations(answers, 2):
            if abs(first.graded.grade - second.graded.grade) < MIN_PAIR_GAP:
                continue
            higher, lower = (first, second) if first.graded.grade > second.graded.grade else (second, first)
            total += 1
            correct += higher.overall > lower.overall
    return correct, total


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def summarize(scored: Sequence[Scored]) -> dict[str, Any]:
    rho = spearman([s.overall for s in scored], [float(s.graded.grade) for s in scored])
    correct, total = ordered_pairs(scored)
    pair_share = correct / total if total else None
    gaming = [s for s in scored if s.graded.kind in GAMING_KINDS]
    worst_gaming = max(gaming, key=lambda s: s.overall, default=None)
    plain = [s.overall for s in scored if s.graded.kind == "plain_strong"]
    plain_mean = _mean(plain)
    gaming_max = worst_gaming.overall if worst_gaming else None

    def goal(name: str, value: float | None, target: str, test: Callable[[float], bool]) -> Goal:
        return Goal(name=name, value=value, target=target, met=value is not None and test(value))

    goals = [
        goal("Spearman rho", rho, f">= {RHO_GOAL}", lambda v: v >= RHO_GOAL),
        goal("pairs ordered", pair_share, f">= {PAIRS_GOAL:.0%}", lambda v: v >= PAIRS_GOAL),
        goal("gaming answers' highest overall", gaming_max, f"<= {GAMING_GOAL}", lambda v: v <= GAMING_GOAL),
        goal(
            "plain strong mean overall",
            plain_mean,
            f">= {PLAIN_STRONG_GOAL}",
            lambda v: v >= PLAIN_STRONG_GOAL,
        ),
    ]
    kinds = [kind for kind in KINDS if any(s.graded.kind == kind for s in scored)]
    kinds += sorted({s.graded.kind for s in scored} - set(kinds))
    per_kind = {}
    for kind in kinds:
        items = [s for s in scored if s.graded.kind == kind]
        per_kind[kind] = {
            "n": len(items),
            "mean_grade": statistics.fmean(s.graded.grade for s in items),
            "mean_overall": statistics.fmean(s.overall for s in items),
            "mean_error": statistics.fmean(s.error for s in items),
            "mean_abs_error": statistics.fmean(abs(s.error) for s in items),
        }
    per_grade = {
        grade: statistics.fmean(s.overall for s in scored if s.graded.grade == grade)
        for grade in sorted({s.graded.grade for s in scored})
    }
    worst = sorted(scored, key=lambda s: (-abs(s.error), s.graded.id))[:WORST_CASES]
    return {
        "answers": len(scored),
        "questions": len({s.graded.question_id for s in scored}),
        "spearman_rho": rho,
        "pairs": {"correct": correct, "total": total, "share": pair_share},
        "gaming_max_overall": gaming_max,
        "gaming_max_id": worst_gaming.graded.id if worst_gaming else None,
        "plain_strong_mean_overall": plain_mean,
        "goals": [asdict(g) for g in goals],
        "per_kind": per_kind,
        "mean_overall_by_grade": per_grade,
        "time_ms": {
            "clock": "CPU time of the process (time.process_time)",
            "warm": _times([s.warm_seconds for s in scored if s.warm_seconds is not None]),
            "new_text": _times([s.first_seconds for s in scored if s.first_built == NEW_TEXT]),
            "first_of_question": _times(
                [s.first_seconds for s in scored if s.first_built == FIRST_OF_QUESTION]
            ),
            "first_of_role": _times([s.first_seconds for s in scored if s.first_built == FIRST_OF_ROLE]),
            "built_role_index": _times(
                [s.first_seconds for s in scored if s.first_built == BUILT_ROLE_INDEX]
            ),
        },
        "worst_cases": [_case(s) for s in worst],
        "scores": [_case(s) for s in scored],
    }


def _times(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """Milliseconds: how many, their median, 95th percentile (nearest rank) and maximum."""
    millis = sorted(value * 1000 for value in seconds)
    return {
        "n": len(millis),
        "median": statistics.median(millis) if millis else None,
        "p95": millis[math.ceil(0.95 * len(millis)) - 1] if millis else None,
        "max": millis[-1] if millis else None,
    }


def _case(item: Scored) -> dict[str, Any]:
    return {
        "id": item.graded.id,
        "question_id": item.graded.question_id,
        "kind": item.graded.kind,
        "grade": item.graded.grade,
        "overall": item.overall,
        "error": round(item.error, 2),
        "first_ms": round(item.first_seconds * 1000, 3),
        "first_built": item.first_built,
        "warm_ms": None if item.warm_seconds is None else round(item.warm_seconds * 1000, 3),
    }


def render(summary: dict[str, Any], corpus: Path) -> str:
    pairs = summary["pairs"]
    time_ms = summary["time_ms"]
    lines = [
        f"Graded corpus: {corpus} ({summary['answers']} answers, {summary['questions']} questions)",
        "",
        f"Spearman rho (overall vs grade):      {_fmt(summary['spearman_rho'], '.3f')}",
        f"Pairs ordered (same question, 2+ apart): {pairs['correct']}/{pairs['total']}"
        f" = {_fmt(pairs['share'], '.1%')}",
        f"Highest overall of a gaming answer:   {_fmt(summary['gaming_max_overall'], '.1f')}"
        f" ({summary['gaming_max_id'] or '-'})",
        f"Mean overall of plain strong answers: {_fmt(summary['plain_strong_mean_overall'])}",
        "",
        "Mean overall by grade: "
        + ", ".join(f"{grade}: {mean:.2f}" for grade, mean in summary["mean_overall_by_grade"].items()),
        "",
        f"{'kind':<18}{'n':>4}{'grade':>8}{'overall':>9}{'error':>8}{'|error|':>9}",
    ]
    for kind, row in summary["per_kind"].items():
        lines.append(
            f"{kind:<18}{row['n']:>4}{row['mean_grade']:>8.2f}{row['mean_overall']:>9.2f}"
            f"{row['mean_error']:>+8.2f}{row['mean_abs_error']:>9.2f}"
        )
    lines += ["", "Goals:"]
    for goal in summary["goals"]:
        verdict = "met" if goal["met"] else "NOT MET"
        lines.append(
            f"  {goal['name']:<34}{_fmt(goal['value'], '.3f'):>8}  (goal {goal['target']}): {verdict}"
        )
    lines += [
        "",
        "Evaluator CPU time per answer (time.process_time), ms:",
        _time_line("warm, text seen before", time_ms["warm"], "median of each answer's repeats"),
        _time_line("warm, new text", time_ms["new_text"], "first pass, its question scored before"),
        _time_line("first answer of a question", time_ms["first_of_question"], "builds its finders"),
        _time_line("first answer of a role", time_ms["first_of_role"], "weighs the role's patterns"),
        _time_line("first off-topic check of a role", time_ms["built_role_index"], "builds its index"),
        "",
        f"Worst cases (the {len(summary['worst_cases'])} farthest from their grade):",
        f"  {'id':<30}{'grade':>6}{'score':>7}  kind",
    ]
    for case in summary["worst_cases"]:
        lines.append(f"  {case['id']:<30}{case['grade']:>6}{case['overall']:>7.1f}  {case['kind']}")
    return "\n".join(lines)


def _time_line(name: str, times: dict[str, Any], what: str) -> str:
    return (
        f"  {name:<32} median {_fmt(times['median'], '7.2f')}  p95 {_fmt(times['p95'], '7.2f')}"
        f"  max {_fmt(times['max'], '7.2f')}  (n={times['n']}; {what})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="graded answers (JSONL or JSON)")
    parser.add_argument("--json", type=Path, dest="json_out", help="also write the figures here as JSON")
    parser.add_argument(
        "--repeats", type=int, default=REPEATS, help="times each answer is scored again, warm (default 5)"
    )
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus)
    summary = summarize(score_all(corpus, max(0, args.repeats)))
    print(render(summary, args.corpus))
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
        print(f"\nFigures written to {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
