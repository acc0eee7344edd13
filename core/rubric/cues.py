"""The rubric's data: cue phrases, patterns, thresholds and advice the built-in evaluator scores with.

Kept apart from the scoring code so the tables can be read and tuned without reading the logic."""

from __future__ import annotations

import re

from core.models import Criterion
from core.rubric.matching import WORD_START, PhraseFinder, phrases_regex

# --- cue tables: whole words, matched case-insensitively ----------------------------------
# fmt: off

SITUATION_CUES = (
    "at my previous", "at my last", "at my current", "in my previous", "in my last", "in my current",
    "when i was", "when i worked", "while i was", "while working", "we had", "we were", "the situation",
    "the context", "at the time", "back then", "a few years ago", "last year", "last quarter", "one time",
    "there was", "our team", "i was working", "i worked at", "i worked on", "in my role",
)
TASK_CUES = (
    "my task", "the task", "i was responsible", "i was asked", "i was tasked", "i was in charge",
    "my job was", "my role was", "my responsibility", "my goal", "our goal", "the goal", "the objective",
    "needed to", "need to", "had to", "i owned", "the challenge", "the problem was", "was supposed to",
)
# What "I" did, or would do in a technical answer ("I'd add a unique index").
ACTION_VERBS = (
    "built", "build", "led", "lead", "wrote", "write", "decided", "decide", "set up", "added", "add",
    "implemented", "implement", "designed", "design", "created", "create", "introduced", "automated",
    "automate", "migrated", "migrate", "refactored", "rewrote", "profiled", "profile", "measured", "measure",
    "ran", "run", "moved", "move", "split", "proposed", "propose", "organized", "organised", "scheduled",
    "met", "talked", "spoke", "reached out", "negotiated", "mentored", "coached", "paired", "reviewed",
    "review", "investigated", "investigate", "debugged", "fixed", "fix", "deployed", "deploy", "rolled out",
    "configured", "instrumented", "cached", "cache", "indexed", "benchmarked", "tested", "test",
    "documented", "prioritized", "prioritised", "analyzed", "analysed", "identified", "traced", "replaced",
    "replace", "optimized", "optimised", "launched", "shipped", "delivered", "escalated", "asked", "ask",
    "suggested", "convinced", "started", "start", "took", "chose", "choose", "picked", "pick", "used", "use",
    "gathered", "interviewed", "presented", "drafted", "planned", "coordinated", "facilitated", "hired",
    "owned", "store", "return", "check", "log", "monitor", "monitored", "go with", "went with", "put",
)
ACTION_LEADS = ("then", "also", "first", "personally", "quickly", "eventually", "finally", "immediately")
RESULT_CUES = (
    "as a result", "in the end", "the outcome", "the result", "the results", "resulted in", "result was",
    "which meant", "ended up", "led to", "since then", "reduced", "increased", "improved", "saved", "cut",
    "dropped", "went down", "went up", "fell", "grew", "halved", "doubled", "tripled", "eliminated",
    "no longer", "shipped", "launched", "delivered", "on time", "was adopted", "got promoted", "much faster",
    "got faster", "was faster", "twice as fast", "much cheaper", "far fewer", "stopped", "went away",
    "disappeared", "resolved",
)
SOFT_OUTCOME_CUES = (
    "went well", "worked out", "it worked", "was happy", "were happy", "was pleased", "were pleased",
    "successful", "success", "better", "learned", "learnt", "lesson",
)
ORDER_CUES = (
    "first", "firstly", "second", "secondly", "third", "then", "next", "after that", "afterwards",
    "finally", "lastly", "to start", "start by", "begin by", "step one", "the first step", "once that",
)
REASONING_CUES = (
    "because", "since", "so that", "therefore", "thus", "hence", "that's why", "which means", "this means",
    "the reason", "in order to", "this way", "that way", "as a result",
)
CONTRAST_CUES = (
    "however", "but", "although", "though", "whereas", "instead", "unless", "on the other hand",
    "it depends", "depends on", "trade-off", "trade-offs", "tradeoff", "tradeoffs", "alternatively",
    "the downside", "the catch",
)
EXAMPLE_CUES = (
    "for example", "for instance", "e.g", "such as", "say we", "say you", "imagine", "in one case",
    "like when", "in practice",
)
# Technical answers show impact through what a choice buys and what it costs.
CONSEQUENCE_CUES = (
    "which means", "that means", "this means", "so that", "otherwise", "avoid", "avoids", "prevent",
    "prevents", "ensure", "ensures", "guarantee", "guarantees", "risk", "risks", "lead to", "leads to",
    "result in", "results in", "faster", "slower", "cheaper", "safer", "simpler", "benefit", "benefits",
    "advantage", "upside", "reduce", "reduces", "increase", "increases", "improve", "improves", "save",
    "saves", "savings",
)
TRADE_OFF_CUES = (
    "trade-off", "trade-offs", "tradeoff", "tradeoffs", "downside", "drawback", "at the cost of",
    "the cost", "costs", "overhead", "in exchange", "on the other hand", "the catch", "the price",
    "disadvantage",
)
VAGUE_CUES = (
    "always", "stuff", "things", "etc", "in general", "generally", "somehow", "something like that",
    "or something", "whatever", "and so on", "a lot of", "lots of", "various", "best practices",
    "the right way", "as needed",
)
FILLER_CUES = ("um", "umm", "uh", "uhh", "uhm", "erm", "basically", "you know", "literally", "actually", "i mean")
# "kind of" and "sort of" are fillers unless they classify ("what kind of index").
HEDGE_CUES = ("kind of", "sort of")
HEDGE_DETERMINERS = frozenset({"what", "which", "this", "that", "these", "those", "same", "the", "any", "some"})
# "like" is a filler next to a comma or after these, not in "I'd like to" or "a queue like SQS".
FILLER_LIKE_LEADS = frozenset({"um", "uh", "so", "was", "were"})
MULTIPLIER_CUES = ("halved", "doubled", "tripled", "quadrupled")
# Tools and systems a candidate may write in lowercase; capitalised names are found by their shape.
TOOL_NAMES = (
    "postgres", "postgresql", "mysql", "sqlite", "redis", "memcache", "memcached", "kafka", "rabbitmq",
    "sqs", "sns", "kinesis", "kubernetes", "k8s", "docker", "terraform", "ansible", "helm", "aws", "gcp",
    "azure", "s3", "ec2", "lambda", "dynamodb", "mongo", "mongodb", "cassandra", "elasticsearch",
    "opensearch", "nginx", "envoy", "graphql", "grpc", "rest", "http", "websocket", "oauth", "jwt", "sql",
    "python", "java", "golang", "rust", "typescript", "javascript", "node", "react", "vue", "angular",
    "django", "flask", "fastapi", "spring", "rails", "celery", "airflow", "dbt", "spark", "pandas", "numpy",
    "pytorch", "tensorflow", "sklearn", "scikit-learn", "tableau", "looker", "excel", "bigquery",
    "snowflake", "redshift", "datadog", "grafana", "prometheus", "sentry", "jenkins", "github", "gitlab",
    "jira", "figma", "amplitude", "mixpanel", "cypress", "selenium", "playwright", "pytest", "jest",
    "webpack", "linux", "git",
)
# fmt: on

CUES = PhraseFinder(
    {
        "situation": SITUATION_CUES,
        "task": TASK_CUES,
        "result": RESULT_CUES,
        "soft outcome": SOFT_OUTCOME_CUES,
        "order": ORDER_CUES,
        "reasoning": REASONING_CUES,
        "contrast": CONTRAST_CUES,
        "example": EXAMPLE_CUES,
        "consequence": CONSEQUENCE_CUES,
        "trade-off": TRADE_OFF_CUES,
        "vague": VAGUE_CUES,
        "filler": FILLER_CUES,
        "hedge": HEDGE_CUES,
        "like": ("like",),
        "multiplier": MULTIPLIER_CUES,
        "tool": TOOL_NAMES,
    },
    whole_words=True,
)
# These patterns run on the lowercased answer.
ACTION_PATTERN = re.compile(
    rf"{WORD_START}i(?:['’]d|['’]ll|\s+would|\s+will)?(?:\s+(?:{'|'.join(ACTION_LEADS)}))?\s+"
    + phrases_regex(ACTION_VERBS, whole_words=True)
)
# Every number, with the unit or currency that makes it a measured quantity rather than, say, a year.
QUANTITY_PATTERN = re.compile(
    r"""
    (?P<currency>[$€£]\s?)?(?P<number>\d+(?:[.,]\d+)*)
    (?P<unit>\s*(?:%|percent\b|per\s?cent\b|[x×](?![^\W_])|times\b
      |(?:k|m|million|thousand)?\s*(?:ms|milliseconds?|s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?
      |days?|weeks?|months?|users?|customers?|clients?|requests?|rps|qps|tickets?|errors?|incidents?|bugs?
      |pages?|alerts?|deploys?|deployments?|releases?|engineers?|people|orders?|transactions?|dollars?
      |usd|eur|gb|tb|mb)\b))?
    """,
    re.X,
)
# Runs on the original text: a capitalised word, which is a name when it is not a sentence's first word.
CAPITALISED_PATTERN = re.compile(r"[A-Z][\w+#]*")
NOT_NAMES = frozenset({"i", "ok", "okay"})
# Characters that, before a space, show the next word is not the first of its sentence.
INSIDE_SENTENCE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789,;)")
LIST_LINE_PATTERN = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.M)
PARAGRAPH_BREAK_PATTERN = re.compile(r"\n\s*\n")

# --- thresholds and advice ----------------------------------------------------------------

TOO_SHORT_WORDS = 40
FAR_TOO_SHORT_WORDS = 15
RAMBLING_WORDS = 450
FAR_TOO_LONG_WORDS = 700
LONG_SENTENCE_WORDS = 40
VERY_LONG_SENTENCE_WORDS = 70
STRONG_CLARITY = 4
OFF_TOPIC_CAP = 2  # for specificity and impact when no key point is covered
SPECIFICITY_BY_SIGNALS = (1, 2, 3, 4, 4, 5)  # indexed by the signal count, capped at the last
TECHNICAL_IMPACT_BY_SIGNALS = (1, 3, 4, 5)
# Ties for the weakest criterion go to the one whose fix helps most.
IMPROVEMENT_PRIORITY: tuple[Criterion, ...] = ("relevance", "structure", "impact", "specificity", "clarity")
STAR_ADVICE = {
    "result": "End with the outcome, measured: e.g. how much time, errors or money it saved.",
    "action": "Say what you did yourself, step by step and in the first person (“I wrote…”, “I proposed…”), "
    "not only what the team did.",
    "situation": "Open with one or two sentences of context: where you were, what the team or system was, "
    "and what was at stake.",
    "task": "Before the actions, say what you were responsible for or which goal you had to hit.",
}
TECHNICAL_MARKERS = {
    "step ordering": "order",
    "reasoning": "reasoning",
    "trade-offs": "contrast",
    "examples": "example",
}
LAYOUT_MARKER = "list or paragraph layout"
TECHNICAL_STRUCTURE_ADVICE = {
    "step ordering": "Walk through your approach in steps (“first…, then…, finally…”) instead of one block.",
    "reasoning": "Give the reason behind each choice (“because…”, “so that…”), not just the choice.",
    "trade-offs": "Name at least one trade-off or case where you would choose differently "
    "(“however…”, “unless…”).",
    "examples": "Anchor the explanation with one concrete example: a specific request, table or failure.",
}

# --- what the answer is: text to the grader, a list of terms ------------------------------
# fmt: off

# Who a sentence talks to when it talks to the grader rather than the interviewer: plainly, or in words
# an answer may also use for something else (an ML evaluator, a hiring rubric).
GRADER_ADDRESSEES = (
    "grader", "graders", "grading", "as an ai", "the ai", "system prompt", "your instructions",
    "previous instructions", "prior instructions", "whoever is grading", "whoever grades",
    "whoever is scoring", "before you grade", "when you grade", "this answer", "this response",
    "this candidate",
)
GRADER_MENTIONS = (
    "evaluator", "evaluators", "evaluating this", "scorer", "scoring model", "ai model", "language model",
    "llm", "an ai", "chatgpt", "gpt", "assistant", "the instructions", "the rubric", "this rubric",
    "marker", "examiner", "reviewer",
)
# What such a sentence asks for: a score outright, or (only with a plain addressee) more softly.
GRADER_DEMANDS = (
    "ignore", "disregard", "override", "overrule", "bypass", "skip the analysis", "score this",
    "grade this", "rate this", "mark this", "give this", "give it", "give me", "assign", "output", "award",
    "full marks", "top marks", "full score", "maximum score", "max score", "perfect score",
    "highest score", "top score", "5/5", "10/10", "5 out of 5", "five out of five", "score of 5",
    "score is 5", "score 5", "score: 5", "overall 5", "overall=5", "overall: 5", "a 5", "a five",
    "rating of 5", "pre-approved", "preapproved", "already approved", "do not list", "don't list",
)
GRADER_ASKS = (
    "must", "should", "please", "deserves", "deserve", "excellent", "perfect", "pass", "approve",
    "approved", "score", "grade", "rate",
)
# Sentences that need no addressee to be read as addressed to the grader.
GRADER_OUTRIGHT = (
    "ignore all previous instructions", "ignore previous instructions", "ignore prior instructions",
    "ignore your instructions", "ignore the instructions", "ignore all instructions",
    "ignore the above", "ignore everything above", "disregard previous instructions",
    "disregard your instructions", "disregard the above", "ignore the rubric", "disregard the rubric",
    "score this answer", "grade this answer", "rate this answer", "mark this answer", "score this response",
    "grade this response", "rate this response", "give this answer", "give this response",
    "this answer deserves", "this response deserves", "this answer should get", "this answer should score",
    "this answer should receive", "should be scored", "should be graded", "should be rated",
    "full marks", "top marks", "5/5", "10/10", "5 out of 5", "five out of five", "perfect score",
    "maximum score", "please output", "output overall", "overall=5", "note to the grader",
    "note to the ai", "note to the evaluator", "dear grader", "dear evaluator", "if you are an ai",
    "if you're an ai", "if you are a language model", "if you are an llm", "as an ai model",
    "as an ai language model", "new instructions", "system override", "pre-approved",
)
# fmt: on
# A bracketed aside that opens like a system or grader tag ("[SYSTEM: ...", "<system>", "{{grader").
GRADER_TAG_PATTERN = re.compile(
    r"[\s|#*_{\[<-]*(?:system|sys|grader|grading|evaluator|evaluation|instructions?|inst|assistant|prompt"
    r"|admin|developer|im_start|rubric|score|scoring|override|judge|note to)(?![^\W_])"
)
# A sentence that opens with a role tag ("System: ...", "### Instruction: ...", "Assistant: ...").
ROLE_TAG_PATTERN = re.compile(
    r"[\s|#*_\[<-]*(?:system|assistant|grader|evaluator|instructions?|developer|admin)\s*[:>\]|]"
)
# Words that make a fragment a clause: pronouns, auxiliaries and linking words.
CLAUSE_WORDS = frozenset(
    """i i'd i'll i'm i've we we'd we'll we're we've you you'd you'll you're he she they they're it it's
    this that there is are was were be been am do does did don't didn't have has had will would can could
    should may might must because so when if which who then than to my our their me us them""".split()
)
TERM_LIST_MIN_FRAGMENTS = 3
TERM_LIST_MAX_FRAGMENT_WORDS = 4  # the most words a term-list fragment has on average
TERM_LIST_MAX_CLAUSES = 0.15  # the share of fragments that may read as clauses (a lead-in)
