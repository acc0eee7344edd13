"""The built-in `local` evaluator: scores an answer from the question's key points and tables of cue
phrases. Deterministic and pure, so its scores can be cached and the tests can pin them down."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from core.models import CRITERIA, Criterion, CriterionScore, Evaluation, KeyPoint, Question
from core.rubric.cues import (
    ACTION_PATTERN,
    ADDRESSES_GRADER,
    ASCII_WORD_QUANTITY_PATTERN,
    CAPITALISED_PATTERN,
    CUES,
    FAR_TOO_LONG_WORDS,
    FAR_TOO_SHORT_WORDS,
    FILLER_LIKE_LEADS,
    GRADER_CAP,
    HEDGE_DETERMINERS,
    IMPROVEMENT_PRIORITY,
    INSIDE_SENTENCE,
    LAYOUT_MARKER,
    LIST_LINE_PATTERN,
    LONG_SENTENCE_WORDS,
    NO_PERSONAL_ACTION_CAP,
    NO_RESULT_CAP,
    NOT_NAMES,
    OFF_TOPIC,
    OFF_TOPIC_CAP,
    OFF_TOPIC_MARGIN,
    OFF_TOPIC_NEIGHBOUR_SHARE,
    OFF_TOPIC_OUTRANKED,
    OFF_TOPIC_OVERALL_CAP,
    OFF_TOPIC_OWN_SHARE,
    OFF_TOPIC_SCREEN_SHARE,
    ONE_SENTENCE_CAP,
    PACKED_STEPS_ADVICE,
    PACKED_STORY_ADVICE,
    PARAGRAPH_BREAK_PATTERN,
    QUANTITY_PATTERN,
    QUANTITY_START,
    RAMBLING_WORDS,
    RELEVANCE_OVERALL_CAPS,
    SPECIFICITY_BY_SIGNALS,
    STAR_ADVICE,
    STRONG_CLARITY,
    TECHNICAL_IMPACT_BY_SIGNALS,
    TECHNICAL_MARKERS,
    TECHNICAL_STRUCTURE_ADVICE,
    TERM_LIST,
    TERM_LIST_CAP,
    TERM_LIST_CAP_PER_CRITERION,
    TERM_LIST_RELEVANCE,
    TOO_SHORT_WORDS,
    UNEXPLAINED_CAP,
    VERY_LONG_SENTENCE_WORDS,
    WORD_QUANTITY_PATTERN,
)
from core.rubric.guard import Screened, is_term_list, screen
from core.rubric.lexicon import is_plain, key_point_finder, question_weights, role_index, role_of
from core.rubric.matching import (
    Hit,
    PhraseFinder,
    Sentences,
    count_words,
    find_all,
    join_words,
    lowered,
    previous_word,
    quote,
    quoted,
)
from core.rubric.meaning import MeaningFinder, Words, tokens

SCORED_BY = "local"
MAX_EVIDENCE = 3


@dataclass(frozen=True)
class _Findings:
    """Everything the scores, evidence and improvement rest on, found in one pass over the answer."""

    text: str
    sentences: Sentences
    word_count: int
    longest_sentence: int
    cues: dict[str, list[Hit]]
    covered: list[tuple[str, Hit]]
    missed: list[str]
    credit: float  # covered key points, each counted by how telling its best match is: the off-topic check
    actions: list[Hit]
    metrics: list[Hit]
    numbers: list[str]
    names: list[str]
    fillers: Counter[str]
    layout: bool
    screened: Screened
    term_list: bool
    neighbour: Question | None  # the bank question of the same role the answer addresses instead

    @property
    def flags(self) -> list[str]:
        found = [ADDRESSES_GRADER] if self.screened.addresses_grader else []
        found += [TERM_LIST] if self.term_list else []
        return found + ([OFF_TOPIC] if self.neighbour else [])

    def first(self, cue: str) -> Hit | None:
        return next(iter(self.cues[cue]), None)

    @property
    def star(self) -> dict[str, Hit | None]:
        return {
            "situation": self.first("situation"),
            "task": self.first("task"),
            "action": next(iter(self.actions), None),
            "result": self.first("result") or next(iter(self.metrics), None),
        }

    @property
    def markers(self) -> dict[str, bool]:
        found = {marker: bool(self.cues[cue]) for marker, cue in TECHNICAL_MARKERS.items()}
        return found | {LAYOUT_MARKER: self.layout}

    @property
    def consequence(self) -> Hit | None:
        return self.first("consequence") or self.first("result")

    @property
    def vague(self) -> list[str]:
        return [hit.text for hit in self.cues["vague"]]


def evaluate_answer(question: Question, answer: str) -> Evaluation:
    findings = _find(answer, question)
    behavioral = question.kind == "behavioral"
    impact = _result_impact(findings) if behavioral else _technical_impact(findings)
    relevance = _relevance(findings)
    scores: dict[Criterion, CriterionScore] = {
        "relevance": relevance,
        "structure": _gated(
            findings, relevance, _star_structure(findings) if behavioral else _technical_structure(findings)
        ),
        "specificity": _gated(findings, relevance, _specificity(findings)),
        "impact": _gated(findings, relevance, impact),
        "clarity": _gated(findings, relevance, _clarity(findings)),
    }
    points = {name: score.score for name, score in scores.items()}
    return Evaluation(
        **scores,
        overall=_overall(question, findings, points),
        evidence=_evidence(findings),
        improvement=_improvement(question, findings, points),
        covered_points=[point for point, _ in findings.covered],
        missed_points=findings.missed,
        scored_by=SCORED_BY,
        flags=findings.flags,
    )


# What makes the built-in evaluator unsure of an answer, for the governor's order of who gets a model first.
LONG_ANSWER_WORDS = 150  # at this length an answer that matches few key points is likely a paraphrase
BAND_EDGE = 0.5  # scores are read in whole points: 2.5, 3.5 and 4.5 are where a reader's verdict flips


def uncertainty(answer: str, evaluation: Evaluation) -> float:
    """How unsure the built-in evaluator is of its own score, in [0, 1], deterministic: a long answer with
    few key-point matches (it may say them in words the matcher does not know), an overall near the edge
    of a whole point, and a flagged answer (text to the grader, a list of terms, another question's
    answer) raise it."""
    total = len(evaluation.covered_points) + len(evaluation.missed_points)
    missed = len(evaluation.missed_points) / total if total else 0.0
    long_and_missed = min(1.0, len(answer.split()) / LONG_ANSWER_WORDS) * missed
    distance = abs((evaluation.overall - BAND_EDGE) % 1.0 - BAND_EDGE)  # 0 at x.5, 0.5 at a whole point
    near_edge = 1.0 - distance / BAND_EDGE if evaluation.overall > 1 else 0.0
    flagged = 0.5 if evaluation.flags else 0.0
    return round(min(1.0, 0.5 * long_and_missed + 0.3 * near_edge + flagged), 3)


def guarded(answer: str, evaluation: Evaluation) -> Evaluation:
    """Another scorer's evaluation (a model's) held to the caps no reply can lift: an answer with text
    addressed to the grader, or a bare list of terms, scores no more than the built-in evaluator allows
    it, whatever the model said."""
    screened = screen(answer)
    caps = [GRADER_CAP] if screened.addresses_grader else []
    flags = [ADDRESSES_GRADER] if screened.addresses_grader else []
    if is_term_list(screened.text):
        caps.append(TERM_LIST_CAP)
        flags.append(TERM_LIST)
    if not caps:
        return evaluation
    return evaluation.model_copy(
        update={
            "overall": min(evaluation.overall, *caps),
            "flags": list(dict.fromkeys([*evaluation.flags, *flags])),
        }
    )


def rounded_mean(values: Iterable[float]) -> float:
    """The mean of at least one value to one decimal, rounding halves up (3.25 → 3.3, not 3.2)."""
    decimals = [Decimal(str(value)) for value in values]
    return float((sum(decimals, Decimal(0)) / len(decimals)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def weakest_criterion(evaluation: Evaluation) -> Criterion:
    """The criterion an evaluation's improvement aims at."""
    return _weakest({criterion: evaluation.score_of(criterion) for criterion in CRITERIA})


def missing_star_parts(answer: str) -> list[str]:
    """The STAR parts (situation, task, action, result) a behavioral answer does not show."""
    return [part for part, hit in _find(answer, None).star.items() if hit is None]


# --- finding ------------------------------------------------------------------------------


def _find(answer: str, question: Question | None) -> _Findings:
    screened = screen(answer)
    text = screened.text
    sentences = Sentences(text) if screened.sentences is None else screened.sentences
    cues = CUES.find(text)
    words = tokens(text)
    covered, missed, credit = _key_points(text, words, question)
    numbers, metrics = _quantities(text)
    sentence_words = [count_words(sentence.text) for sentence in sentences.items]
    term_list = is_term_list(text, len(words))
    return _Findings(
        text=text,
        sentences=sentences,
        word_count=sum(sentence_words),
        longest_sentence=max(sentence_words, default=0),
        cues=cues,
        covered=covered,
        missed=missed,
        credit=credit,
        actions=find_all(ACTION_PATTERN, text),
        numbers=_distinct(numbers),
        metrics=sorted(metrics + cues["multiplier"], key=lambda hit: hit.start),
        names=_distinct([hit.text for hit in cues["tool"]] + _capitalised_names(text)),
        fillers=_fillers(text, cues),
        layout=len(LIST_LINE_PATTERN.findall(text)) > 1 or bool(PARAGRAPH_BREAK_PATTERN.search(text)),
        screened=screened,
        term_list=term_list,
        neighbour=None
        if term_list or question is None
        else _neighbour(question, text, words, covered, credit),
    )


def _key_points(
    text: str, words: Words, question: Question | None
) -> tuple[list[tuple[str, Hit]], list[str], float]:
    """The covered key points with where each is first shown, by its terms (the bank's word-prefix rule)
    or by meaning (stems, paraphrases, concept groups), the missed ones, and the credit of the covered
    ones: each counts by its most telling match, so a point shown only by a word most of the role's
    questions share ("data", "team") counts for little."""
    key_points: list[KeyPoint] = question.key_points if question else []
    if not key_points or question is None:
        return [], [], 0.0
    matchers = _point_matchers(tuple((p.text, tuple(p.terms), tuple(p.paraphrases)) for p in key_points))
    by_terms = matchers.by_terms.find(text)
    by_meaning, strengths = matchers.by_meaning.first_hits(text, words, question_weights(question.id))
    by_symbols: dict[str, list[Hit]] | None = None  # looked for only when a point's credit depends on it
    covered, missed = [], []
    credit = 0.0
    for index, point in enumerate(key_points):
        label = str(index)
        hits = by_terms[label] + ([by_meaning[label]] if label in by_meaning else [])
        if not hits:
            missed.append(point.text)
            continue
        covered.append((point.text, min(hits, key=lambda hit: hit.start)))
        if label not in strengths:
            credit += 1.0
        elif label in matchers.with_symbols:
            by_symbols = matchers.by_symbols.find(text) if by_symbols is None else by_symbols
            credit += 1.0 if by_symbols[label] else strengths[label]
        else:
            credit += strengths[label]
    return covered, missed, credit


@dataclass(frozen=True)
class _PointMatchers:
    """What finds a question's key points, labelled by index ("0", "1", ...): built once per question."""

    by_terms: PhraseFinder
    # Terms the meaning finder cannot read ("p99", "CI/CD") are telling by themselves.
    by_symbols: PhraseFinder
    with_symbols: frozenset[str]  # the points that have such terms
    by_meaning: MeaningFinder


@lru_cache(maxsize=1024)
def _point_matchers(points: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]) -> _PointMatchers:
    symbols = [tuple(term for term in terms if not is_plain(term)) for _, terms, _ in points]
    key_points = [
        KeyPoint(text=text, terms=list(terms), paraphrases=list(para)) for text, terms, para in points
    ]
    return _PointMatchers(
        by_terms=PhraseFinder({str(index): terms for index, (_, terms, _) in enumerate(points)}),
        by_symbols=PhraseFinder({str(index): terms for index, terms in enumerate(symbols)}),
        with_symbols=frozenset(str(index) for index, terms in enumerate(symbols) if terms),
        by_meaning=key_point_finder(key_points),
    )


def _neighbour(
    question: Question, text: str, words: Words, covered: list[tuple[str, Hit]], credit: float
) -> Question | None:
    """The bank question of the same role that the answer addresses instead of the one asked, if any: the
    answer covers at most half of the asked question's key points, many of the role's other questions
    better, and one of them far better. A behavioral story that never reaches the situation asked about
    (see `_misses_situation`) counts that situation twice and needs only the one far better neighbour.
    A polished answer to a neighbouring question is still not an answer."""
    total = len(question.key_points)
    role = role_of(question.id)
    if role is None or not total or credit / total > OFF_TOPIC_SCREEN_SHARE:
        return None
    index = role_index(role)
    counts: dict[str, float] = {}
    for label, strength in index.finder.strengths(text, words, index.weights).items():
        other = index.question_of[label]
        counts[other] = counts.get(other, 0.0) + strength
    # The asked question measured as its neighbours are (by the bank's copy of it, when it has one), a
    # missed situation counting twice.
    missed = _misses_situation(question, covered)
    own = (
        counts.get(question.id, 0.0) / (index.points(question.id) + missed)
        if question.id in index.questions
        else 0.0
    )
    own = min(own, credit / (total + missed))
    shares = {other: count / index.points(other) for other, count in counts.items() if other != question.id}
    if not shares or own > OFF_TOPIC_OWN_SHARE:
        return None
    best = max(sorted(shares), key=lambda other: shares[other])
    outranked = sum(1 for share in shares.values() if share >= own)
    if (
        shares[best] >= OFF_TOPIC_NEIGHBOUR_SHARE
        and shares[best] - own >= OFF_TOPIC_MARGIN
        and (not credit or missed or outranked >= OFF_TOPIC_OUTRANKED)
    ):
        return index.question(best)
    return None


def _misses_situation(question: Question, covered: list[tuple[str, Hit]]) -> int:
    """1 when a behavioral answer misses the situation its question asks about (the bank writes it as the
    first key point: who asked for what, what went wrong) and covers at most half of the key points, else
    0. A story that never reaches the situation asked about, and whose few matches are words any story of
    the role uses ("data", "later"), is the story of another question: the off-topic check counts the
    situation twice and waives its "outranked by many neighbours" guard for it. An answer covering more
    than half is measured as any other, so a plainly worded answer whose situation the lexicon does not
    recognise keeps the usual protection."""
    if question.kind != "behavioral" or not question.key_points:
        return 0
    situation = question.key_points[0].text
    if any(point == situation for point, _ in covered):
        return 0
    return int(len(covered) <= OFF_TOPIC_OWN_SHARE * len(question.key_points))


def _quantities(answer: str) -> tuple[list[str], list[Hit]]:
    """Every number in the answer (in digits or in words), and the measured quantities among them."""
    numbers, metrics = [], []
    lower = lowered(answer)
    end = 0
    # The matches `QUANTITY_PATTERN.finditer` gives, each tried only where one can start.
    for candidate in QUANTITY_START.finditer(lower):
        match = QUANTITY_PATTERN.match(lower, candidate.start()) if candidate.start() >= end else None
        if match is None:
            continue
        start, end = match.span()
        if start and answer[start - 1].isalpha():
            continue  # part of a name, such as the 99 of "p99"
        numbers.append(match.group("number"))
        if match.group("currency") or match.group("unit"):
            metrics.append(Hit(start, end, answer[start:end]))
    # Spelled-out quantities ("thirty seconds") are concrete detail, but not a measured result.
    spelled = ASCII_WORD_QUANTITY_PATTERN if lower.isascii() else WORD_QUANTITY_PATTERN
    numbers += [answer[match.start() : match.end()] for match in spelled.finditer(lower)]
    return numbers, metrics


def _capitalised_names(answer: str) -> list[str]:
    """Capitalised words that are not a sentence's first word, and CamelCase words or acronyms anywhere."""
    names = []
    for match in CAPITALISED_PATTERN.finditer(answer):
        start, word = match.start(), match.group()
        if (start and answer[start - 1].isalnum()) or word.lower() in NOT_NAMES:
            continue
        mid_sentence = start >= 2 and answer[start - 1] == " " and answer[start - 2] in INSIDE_SENTENCE
        if mid_sentence or any(char.isupper() for char in word[1:]):
            names.append(word)
    return names


def _fillers(answer: str, cues: dict[str, list[Hit]]) -> Counter[str]:
    hedges = [hit for hit in cues["hedge"] if previous_word(answer, hit.start) not in HEDGE_DETERMINERS]
    likes = [hit for hit in cues["like"] if _is_filler_like(answer, hit)]
    return Counter(" ".join(hit.text.lower().split()) for hit in cues["filler"] + hedges + likes)


def _is_filler_like(answer: str, hit: Hit) -> bool:
    before = answer[max(0, hit.start - 3) : hit.start].rstrip()
    after = answer[hit.end : hit.end + 3].lstrip()
    return (
        before.endswith(",") or after.startswith(",") or previous_word(answer, hit.start) in FILLER_LIKE_LEADS
    )


def _distinct(items: Iterable[str]) -> list[str]:
    """Items in order of first appearance, case-insensitively unique."""
    first_seen: dict[str, str] = {}
    for item in items:
        first_seen.setdefault(item.lower(), item)
    return list(first_seen.values())


# --- scoring ------------------------------------------------------------------------------


def _relevance(findings: _Findings) -> CriterionScore:
    covered = [point for point, _ in findings.covered]
    total = len(covered) + len(findings.missed)
    score = 1 + int(4 * len(covered) / total + 0.5) if total else 1
    if findings.neighbour:
        return CriterionScore(
            score=1,
            reason=f"Answers a different question (“{findings.neighbour.text}”), not the one asked: "
            f"covers {len(covered)} of {total} of its key points.",
        )
    if findings.term_list:
        named = f"names {quoted(covered)}" if covered else "names none of the key points"
        return CriterionScore(
            score=min(score, TERM_LIST_RELEVANCE),
            reason=f"A list of terms, not an answer: it {named} without a sentence that explains any of them.",
        )
    if not total:
        reason = "The question has no key points to check the answer against."
    elif not findings.missed:
        reason = f"Covers all {total} key points: {quoted(covered)}."
    elif not covered:
        reason = f"Misses all {total} key points, such as {quoted(findings.missed[:2])}."
    else:
        reason = (
            f"Covers {len(covered)} of {total} key points ({quoted(covered)}) "
            f"but misses {quoted(findings.missed)}."
        )
    return CriterionScore(score=score, reason=reason)


def _gated(findings: _Findings, relevance: CriterionScore, score: CriterionScore) -> CriterionScore:
    """Relevance gates the rest: detail, shape and results about something else (or a bare list of terms)
    are no evidence for the question asked."""
    if findings.term_list:
        cap, why = TERM_LIST_CAP_PER_CRITERION, "a list of terms shows none of it"
    elif relevance.score <= 1:
        cap, why = OFF_TOPIC_CAP, "none of it answers the question asked"
    else:
        return score
    if score.score <= cap:
        return score
    return CriterionScore(score=cap, reason=f"{score.reason.removesuffix('.')}; but {why}.")


def _overall(question: Question, findings: _Findings, scores: Mapping[Criterion, int]) -> float:
    """The mean of the five scores, capped where the answer falls short of what the mean would claim."""
    caps = [RELEVANCE_OVERALL_CAPS.get(scores["relevance"], 5.0)]
    if findings.term_list:
        caps.append(TERM_LIST_CAP)
    if findings.neighbour:
        caps.append(OFF_TOPIC_OVERALL_CAP)
    if findings.screened.addresses_grader:
        caps.append(GRADER_CAP)
    if len(findings.sentences.items) <= 1:
        caps.append(ONE_SENTENCE_CAP)
    if question.kind == "behavioral":
        if not findings.actions:
            caps.append(NO_PERSONAL_ACTION_CAP)
        if not findings.first("result") and not findings.metrics:
            caps.append(NO_RESULT_CAP)
    elif not findings.cues["reasoning"] and not findings.consequence:
        caps.append(UNEXPLAINED_CAP)
    return min(rounded_mean(scores.values()), *caps)


def _star_structure(findings: _Findings) -> CriterionScore:
    present = [part for part, hit in findings.star.items() if hit]
    missing = [part for part, hit in findings.star.items() if not hit]
    if not missing:
        reason = "Complete STAR story: situation, task, action and result are all there."
    elif not present:
        reason = "No STAR structure: no situation, task, first-person action or result could be found."
    else:
        reason = f"STAR parts present: {join_words(present)}; missing: {join_words(missing)}."
    return CriterionScore(score=1 + len(present), reason=reason)


def _technical_structure(findings: _Findings) -> CriterionScore:
    present = [marker for marker, found in findings.markers.items() if found]
    missing = [marker for marker, found in findings.markers.items() if not found]
    score = min(5, 1 + len(present))
    if len(findings.sentences.items) < 2 and not findings.layout:
        score = min(score, 2)  # one sentence cannot show a progression
    if not present:
        reason = "Reads as one unordered block: no step ordering, reasoning, trade-offs or examples."
    elif missing:
        reason = f"Shows {join_words(present)}, but no {join_words(missing, 'or')}."
    else:
        reason = f"A logical progression with {join_words(present)}."
    return CriterionScore(score=score, reason=reason)


def _specificity(findings: _Findings) -> CriterionScore:
    signals = (
        min(2, len(findings.numbers))
        + min(2, (len(findings.names) + 1) // 2)
        + min(2, (len(findings.actions) + 1) // 2)
        + bool(findings.cues["example"])
        - _vague_penalty(findings)
    )
    score = SPECIFICITY_BY_SIGNALS[min(max(signals, 0), len(SPECIFICITY_BY_SIGNALS) - 1)]
    return CriterionScore(score=score, reason=_specificity_reason(findings))


def _vague_penalty(findings: _Findings) -> int:
    vague = len(findings.vague)
    if not vague:
        return 0
    return 2 if vague >= 3 and vague * 100 >= 2 * findings.word_count else 1


def _specificity_reason(findings: _Findings) -> str:
    details = []
    if findings.numbers:
        details.append(f"numbers ({', '.join(findings.numbers[:3])})")
    if findings.names:
        details.append(f"named tools or systems ({', '.join(findings.names[:3])})")
    if findings.actions:
        details.append(f"first-person actions (“{findings.actions[0].text}”)")
    if findings.cues["example"]:
        details.append("an example")
    vague = f"vague phrases ({quoted(_distinct(findings.vague)[:3])})"
    if not details:
        only_vague = f", only {vague}" if findings.vague else ""
        return f"Stays general: no numbers, named tools, first-person actions or examples{only_vague}."
    return f"Concrete detail: {join_words(details)}" + (f", but also {vague}." if findings.vague else ".")


def _result_impact(findings: _Findings) -> CriterionScore:
    metric = _best_metric(findings)
    result = findings.first("result")
    soft_outcome = findings.first("soft outcome")
    if metric and result:
        return CriterionScore(score=5, reason=f"States a measured result: “{_lead_in(findings, metric)}”.")
    if metric:
        return CriterionScore(
            score=4, reason=f"Gives a number (“{_lead_in(findings, metric)}”) but never states the outcome."
        )
    if result:
        return CriterionScore(
            score=3, reason=f"States an outcome (“{_lead_in(findings, result)}”) but does not measure it."
        )
    if soft_outcome:
        return CriterionScore(
            score=2, reason=f"Only a soft outcome (“{soft_outcome.text}”), nothing concrete or measured."
        )
    return CriterionScore(score=1, reason="No result or outcome is stated.")


def _technical_impact(findings: _Findings) -> CriterionScore:
    signals = {
        "consequences": findings.consequence,
        "trade-offs": findings.first("trade-off"),
        "numbers": _best_metric(findings),
    }
    present = [f"{name} (“{_lead_in(findings, hit, 3)}”)" for name, hit in signals.items() if hit]
    missing = [name for name, hit in signals.items() if not hit]
    if not present:
        reason = "Does not say what the approach buys or costs: no consequences, trade-offs or numbers."
    elif missing:
        reason = f"Spells out {join_words(present)}, but no {join_words(missing, 'or')}."
    else:
        reason = f"Spells out {join_words(present)}."
    return CriterionScore(score=TECHNICAL_IMPACT_BY_SIGNALS[len(present)], reason=reason)


def _clarity(findings: _Findings) -> CriterionScore:
    penalties = _clarity_penalties(findings)
    score = max(1, 5 - sum(penalty for penalty, _ in penalties.values()))
    issues = [issue for penalty, issue in penalties.values() if penalty]
    if issues:
        verdict = "Mostly clear, but" if score >= STRONG_CLARITY else "Harder to follow:"
        return CriterionScore(score=score, reason=f"{verdict} {join_words(issues)}.")
    fillers = "only an occasional filler word" if findings.fillers else "no filler words"
    return CriterionScore(
        score=score,
        reason=f"Clear and well paced: {findings.word_count} words, {fillers}, readable sentences.",
    )


def _clarity_penalties(findings: _Findings) -> dict[str, tuple[int, str]]:
    """Each clarity problem: the points it costs and how to name it."""
    words = findings.word_count
    filler_count = sum(findings.fillers.values())
    filler_rate = filler_count * 100 / max(words, 1)
    longest = findings.longest_sentence
    return {
        "short": (
            2 if words < FAR_TOO_SHORT_WORDS else int(words < TOO_SHORT_WORDS),
            f"too short ({words} words)",
        ),
        "fillers": (
            0 if filler_rate < 1 else 1 if filler_rate < 3 or filler_count < 3 else 2,
            f"{filler_count} filler words ({_top_fillers(findings)})",
        ),
        "rambling": (
            2 if words > FAR_TOO_LONG_WORDS else int(words > RAMBLING_WORDS),
            f"rambling ({words} words)",
        ),
        "long sentence": (
            2 if longest > VERY_LONG_SENTENCE_WORDS else int(longest > LONG_SENTENCE_WORDS),
            f"a {longest}-word sentence",
        ),
    }


def _top_fillers(findings: _Findings) -> str:
    return ", ".join(f"“{word}” ×{count}" for word, count in findings.fillers.most_common(3))


# --- evidence -----------------------------------------------------------------------------


def _evidence(findings: _Findings) -> list[str]:
    """Verbatim quotes, most telling first: the measured result, the key points, the candidate's actions."""
    metric = _best_metric(findings)
    anchors = [metric] if metric else []
    anchors += _key_point_anchors(findings) + findings.actions[:1]
    quotes: dict[int, str] = {}
    for anchor in anchors:
        sentence = findings.sentences.at(anchor.start)
        if sentence and sentence.start not in quotes and len(quotes) < MAX_EVIDENCE:
            quotes[sentence.start] = quote(sentence.text, anchor.start - sentence.start)
    if not quotes and findings.sentences.items:
        return [quote(findings.sentences.items[0].text)]
    return list(quotes.values())


def _key_point_anchors(findings: _Findings) -> list[Hit]:
    """Where each covered key point is first mentioned, those in sentences covering the most first."""
    sentence_of = {hit: findings.sentences.at(hit.start) for _, hit in findings.covered}
    points_per_sentence = Counter(sentence_of.values())
    return sorted(sentence_of, key=lambda hit: (-points_per_sentence[sentence_of[hit]], hit.start))


def _best_metric(findings: _Findings) -> Hit | None:
    """The first number in a sentence that states a result or consequence, else the first number."""
    outcomes = findings.cues["result"] + findings.cues["consequence"]
    outcome_sentences = {findings.sentences.at(hit.start) for hit in outcomes}
    in_outcome = (
        metric for metric in findings.metrics if findings.sentences.at(metric.start) in outcome_sentences
    )
    return next(in_outcome, None) or next(iter(findings.metrics), None)


def _lead_in(findings: _Findings, hit: Hit, max_words: int = 6) -> str:
    """`hit` with up to `max_words` words of its clause before it, verbatim."""
    sentence = findings.sentences.at(hit.start)
    window_start = max(sentence.start if sentence else hit.start, hit.start - 80)
    # Read backwards from the hit: a word and the space after it, up to `max_words` times (where reading
    # forwards would try every start in the window). A clause's punctuation stops it.
    before = _words_before(max_words).match(findings.text[window_start : hit.start][::-1])
    return findings.text[hit.start - (before.end() if before else 0) : hit.end].strip()


@lru_cache(maxsize=8)
def _words_before(max_words: int) -> re.Pattern[str]:
    """Up to `max_words` words, each after its run of spaces, in reversed text."""
    return re.compile(rf"(?:\s+[^\s,;:()]+){{0,{max_words}}}")


# --- improvement --------------------------------------------------------------------------


def _improvement(question: Question, findings: _Findings, scores: Mapping[Criterion, int]) -> str:
    if findings.screened.addresses_grader:
        # Never quoted back: what was said to the grader must not travel on into reports or prompts.
        return (
            "Talk to the interviewer, not the grader: instructions or demands for a score are ignored and "
            f"cap the score, so spend those words on {quoted(findings.missed[:2]) or 'a concrete example'}."
        )
    if findings.term_list:
        points = quoted([point for point, _ in findings.covered][:2]) or quoted(findings.missed[:2])
        return (
            f"Turn the list into sentences: take {points}, and say how you used each, why, "
            "and what it changed."
        )
    if findings.neighbour:
        return (
            f"Answer the question asked, not “{findings.neighbour.text}”: "
            f"build your answer around {quoted(findings.missed[:2])}."
        )
    if min(scores.values()) == 5:
        if question.follow_ups:
            return f"This answer meets every criterion; prepare for the likely follow-up: “{question.follow_ups[0]}”"
        return "This answer meets every criterion; practise delivering it in under two minutes."
    criterion = _weakest(scores)
    if criterion == "relevance":
        return _relevance_improvement(findings)
    if criterion == "structure":
        return _structure_improvement(question, findings)
    if criterion == "impact":
        return _impact_improvement(question, findings)
    if criterion == "specificity":
        return _specificity_improvement(findings)
    return _clarity_improvement(findings)


def _weakest(scores: Mapping[Criterion, int]) -> Criterion:
    return min(IMPROVEMENT_PRIORITY, key=lambda criterion: scores[criterion])


def _relevance_improvement(findings: _Findings) -> str:
    if not findings.covered:
        return f"Answer the question that was asked: build your answer around {quoted(findings.missed[:2])}."
    missed = findings.missed[:2]
    them = "them" if len(missed) > 1 else "it"
    return f"Add a sentence on {quoted(missed)}: the question expects {them} and your answer left {them} out."


def _structure_improvement(question: Question, findings: _Findings) -> str:
    # Every part or marker can be present while structure is still the weakest score (all of them
    # packed into one sentence): then the advice is about the sentences themselves.
    if question.kind == "behavioral":
        star = findings.star
        missing = (advice for part, advice in STAR_ADVICE.items() if not star[part])
        return next(missing, PACKED_STORY_ADVICE)
    markers = findings.markers
    missing = (advice for marker, advice in TECHNICAL_STRUCTURE_ADVICE.items() if not markers[marker])
    return next(missing, PACKED_STEPS_ADVICE)


def _impact_improvement(question: Question, findings: _Findings) -> str:
    if question.kind == "technical":
        if not findings.first("trade-off"):
            return (
                "Name the main downside of your approach (latency, cost, complexity) and why you accept it."
            )
        if not findings.consequence:
            return "Say what your approach buys: what it prevents or speeds up, and for whom."
        return "Put a number on the effect, e.g. milliseconds saved, requests per second or % less load."
    result, soft_outcome = findings.first("result"), findings.first("soft outcome")
    if result and not findings.metrics:
        return (
            f"Put a number on the outcome you describe (“{_lead_in(findings, result)}”): "
            "how much faster, cheaper or fewer errors."
        )
    if findings.metrics and not result:
        return "Say plainly what your work changed (“as a result, …”) and tie your numbers to that outcome."
    if soft_outcome:
        return f"Replace “{soft_outcome.text}” with the concrete outcome: what changed, and by how much."
    return STAR_ADVICE["result"]


def _specificity_improvement(findings: _Findings) -> str:
    if findings.vague:
        return (
            f"Replace general phrases like {quoted(_distinct(findings.vague)[:2])} with one concrete case: "
            "the system, the tools and the numbers involved."
        )
    if not findings.numbers:
        return "Add the numbers that size the problem or the result: traffic, data volume, team size, hours or %."
    if not findings.names:
        return (
            "Name the actual tools and systems (the database, queue, framework) instead of describing them."
        )
    if not findings.actions:
        return "Describe your own concrete steps in the first person: what you built, changed or decided."
    return "Walk through one real example from start to finish instead of describing the approach in general."


def _clarity_improvement(findings: _Findings) -> str:
    penalties = _clarity_penalties(findings)
    problem = max(penalties, key=lambda name: penalties[name][0])
    words = findings.word_count
    if problem == "short":
        return f"Expand beyond {words} words: give the context, what you did or would do, and the result."
    if problem == "fillers":
        return f"Cut the filler words ({_top_fillers(findings)}); a short pause reads better."
    if problem == "rambling":
        return f"Trim to about 200-300 words (you used {words}): keep one example and drop the side stories."
    return f"Split your longest sentence ({findings.longest_sentence} words) into two or three shorter ones."
