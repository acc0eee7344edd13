"""The rubric's data: cue phrases, patterns, thresholds and advice the built-in evaluator scores with.

Kept apart from the scoring code so the tables can be read and tuned without reading the logic."""

from __future__ import annotations

import re

from core.models import Criterion
from core.rubric.matching import WORD_START, PhraseFinder, phrases_regex, word_start

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
MULTIPLIER_CUES = (
    "halved", "doubled", "tripled", "quadrupled", "twice as", "three times", "by half", "in half", "a third",
    "tenfold", "ten times",
)
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
# Words after "I" that say what the candidate thinks, is or may do, not what they did.
NOT_ACTIONS = (
    "think",
    "guess",
    "believe",
    "feel",
    "mean",
    "know",
    "hope",
    "suppose",
    "assume",
    "was",
    "wasn't",
    "am",
    "have",
    "haven't",
    "had",
    "hadn't",
    "do",
    "don't",
    "did",
    "didn't",
    "can",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "should",
    "shouldn't",
    "would",
    "wouldn't",
    "will",
    "won't",
    "just",
    "really",
    "also",
    "never",
    "not",
    "always",
    "usually",
    "probably",
    "might",
    "may",
    "must",
    "want",
    "wanted",
    "like",
    "liked",
    "love",
    "loved",
    "wish",
    "need",
    "needed",
    "remember",
    "forgot",
    "honestly",
    "actually",
    "basically",
    "literally",
    "kind",
    "sort",
    "guess",
    "haven",
    "don",
    "didn",
    "get",
    "got",
    "am",
    "try",
    "tend",
    "find",
    "found",
    "felt",
    "thought",
    "knew",
    "agree",
    "and",
    "or",
    "but",
    "so",
    "to",
    "in",
    "on",
    "at",
    "as",
    "the",
    "a",
    "an",
    "of",
    "if",
    "would've",
    "could've",
    "should've",
)
# These patterns run on the lowercased answer.
# What "I" did, or would do in a technical answer ("I'd add a unique index"): "I" (or "I'd", "I will"),
# at most one adverb, then any word that is not one of NOT_ACTIONS. The "i" comes first, and the check that
# it starts a word after it, so that the regex engine skips ahead from one "i" to the next.
ACTION_PATTERN = re.compile(
    rf"i(?<![^\W_]i)(?:['’]d|['’]ll|\s++would|\s++will)?(?:\s++(?:{'|'.join(ACTION_LEADS)}|[a-z]+ly))?\s++"
    rf"(?!{phrases_regex(NOT_ACTIONS, whole_words=True)})[a-z]+(?:['’][a-z]+)?"
)
# What a number counts: a number with one of these is a measured quantity rather than, say, a year.
_UNITS = r"""(?:milliseconds?|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|weeks?|months?|quarters?
  |sprints?|users?|customers?|clients?|accounts?|members?|requests?|calls?|queries|query|rps|qps|tickets?
  |errors?|incidents?|bugs?|pages?|alerts?|deploys?|deployments?|releases?|engineers?|people|orders?
  |transactions?|rows?|records?|dollars?|euros?|pounds?|cents?|usd|eur|gbp|gb|tb|mb|points?)"""
# Every number, with the unit or currency that makes it a measured quantity. Possessive repeats: a number
# followed by a long run of spaces is read once, not once per way of splitting the run.
QUANTITY_PATTERN = re.compile(
    rf"""
    (?P<currency>[$€£]\s?)?(?P<number>\d++(?:[.,]\d++)*+)
    (?P<unit>\s*+(?:%|percent\b|per\s?cent\b|[x×](?![^\W_])|times\b
      |(?:(?:k|m|million|thousand|billion)\s*+)?(?:ms|s|h|{_UNITS})\b))?
    """,
    re.X,
)
# Where a match of QUANTITY_PATTERN can start after the previous one: a currency sign before a number, or a
# number's first digit. Searching for these first skips the rest of the text at the regex engine's speed.
QUANTITY_START = re.compile(r"[$€£\d](?:(?<=[$€£])(?=\s?\d)|(?<=\d)(?<!\d\d))")
# A number in words with a unit ("thirty seconds", "two weeks"): a measured quantity too.
NUMBER_WORDS = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "half an",
    "half a",
    "a dozen",
    "dozens of",
    "hundreds of",
    "thousands of",
    "millions of",
)
WORD_QUANTITY_PATTERN = re.compile(
    rf"{WORD_START}(?P<number>{phrases_regex(NUMBER_WORDS, whole_words=True)})[ \t-]++(?P<unit>{_UNITS})\b",
    re.X,
)
# The same for an answer that is all ASCII, where it matches alike and scans faster (see matching._ALNUM).
ASCII_WORD_QUANTITY_PATTERN = re.compile(
    rf"{word_start(ascii=True)}(?P<number>{phrases_regex(NUMBER_WORDS, whole_words=True, ascii=True)})"
    rf"[ \t-]++(?P<unit>{_UNITS})\b",
    re.X,
)
# Runs on the original text: a capitalised word, which is a name when it is not a sentence's first word.
CAPITALISED_PATTERN = re.compile(r"[A-Z][\w+#]*")
NOT_NAMES = frozenset({"i", "ok", "okay"})
# Characters that, before a space, show the next word is not the first of its sentence.
INSIDE_SENTENCE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789,;)")
# Horizontal space only: "\s" would let each of many blank lines rescan all the lines after it.
LIST_LINE_PATTERN = re.compile(r"^[ \t]*+(?:[-*•]|\d++[.)])[ \t]+", re.M)
PARAGRAPH_BREAK_PATTERN = re.compile(r"\n[ \t\r]*+\n")

# --- thresholds and advice ----------------------------------------------------------------

TOO_SHORT_WORDS = 40
FAR_TOO_SHORT_WORDS = 15
RAMBLING_WORDS = 450
FAR_TOO_LONG_WORDS = 700
LONG_SENTENCE_WORDS = 40
VERY_LONG_SENTENCE_WORDS = 70
STRONG_CLARITY = 4
OFF_TOPIC_CAP = 2  # for structure, specificity, impact and clarity when the answer misses the question
# The overall score's caps: relevance gates it, and gaming the grader never pays.
RELEVANCE_OVERALL_CAPS = {1: 1.5, 2: 2.5}
OFF_TOPIC_OVERALL_CAP = 1.5  # an answer to a neighbouring question of the bank
TERM_LIST_CAP = 1.0  # a list of terms without sentences, however complete
TERM_LIST_RELEVANCE = 2
TERM_LIST_CAP_PER_CRITERION = 1
GRADER_CAP = 2.0  # an answer with text addressed to the grader, whatever the rest says
ONE_SENTENCE_CAP = 3.0  # one line can be correct, not complete
NO_PERSONAL_ACTION_CAP = 3.0  # a behavioral story with no first-person action ("we" only)
NO_RESULT_CAP = 4.0  # a behavioral story without its outcome
UNEXPLAINED_CAP = 3.0  # a technical answer that names its approach without a reason or consequence
# An answer is taken for one to a neighbouring bank question of the same role when it covers at most this
# share of the asked question's key points, a neighbour's by at least that share and this margin, and
# (unless it covers none of its own) this many of the role's other questions better than its own.
OFF_TOPIC_OWN_SHARE = 0.5
OFF_TOPIC_SCREEN_SHARE = 0.6  # answers covering more of their own key points are never checked
OFF_TOPIC_NEIGHBOUR_SHARE = 0.6
OFF_TOPIC_MARGIN = 0.35
OFF_TOPIC_OUTRANKED = 14
# What the evaluation's flags call what it noticed.
ADDRESSES_GRADER = "addresses_grader"
TERM_LIST = "term_list"
OFF_TOPIC = "off_topic"
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
PACKED_STEPS_ADVICE = (
    "Split the answer into short sentences, one step, reason or trade-off each, so each can be followed."
)
PACKED_STORY_ADVICE = (
    "Give each part of the story its own sentence or two: situation, task, action, then result."
)

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
    "respond only with", "reply only with", "respond with a score", "only output", "output only",
)
# fmt: on
# A bracketed aside that opens like a system or grader tag ("[SYSTEM: ...", "<system>", "{{grader").
GRADER_TAG_PATTERN = re.compile(
    r"[\s|#*_{\[<-]*(?:system|sys|grader|grading|evaluator|evaluation|instructions?|inst|assistant|prompt"
    r"|admin|developer|im_start|rubric|score|scoring|override|judge|note to)(?![^\W_])"
)
# A sentence that opens with a role tag ("System: ...", "SYSTEM PROMPT UPDATE: ...", "Assistant: ...").
_ROLE_TAG = (
    r"(?:system|assistant|grader|evaluator|instructions?|developer|admin)"
    r"(?:[ \t]++[a-z]++){0,2}[ \t]*+[:>\]|]"
)
ROLE_TAG_PATTERN = re.compile(r"[\s|#*_\[<-]*+" + _ROLE_TAG)
# The same tag anywhere: what tells a sentence-by-sentence look is needed (no leading run to rescan).
ROLE_TAG_ANYWHERE = re.compile(_ROLE_TAG)
# Words that make a fragment a clause: pronouns, auxiliaries and linking words.
CLAUSE_WORDS = frozenset(
    [
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "you",
        "you'd",
        "you'll",
        "you're",
        "he",
        "she",
        "they",
        "they're",
        "it",
        "it's",
        "this",
        "that",
        "there",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "do",
        "does",
        "did",
        "don't",
        "didn't",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "because",
        "so",
        "when",
        "if",
        "which",
        "who",
        "then",
        "than",
        "to",
        "my",
        "our",
        "their",
        "me",
        "us",
        "them",
    ]
)
TERM_LIST_MIN_FRAGMENTS = 3
TERM_LIST_MAX_FRAGMENT_WORDS = 4  # the most words a term-list fragment has on average
TERM_LIST_MAX_CLAUSES = 0.15  # the share of fragments that may read as clauses (a lead-in)
