"""Text matching for the cache's deduplication layer: when are two texts "the same job"?

Candidates paste the same sample answers, retype them with a typo fixed or wrap them in "Sure, here's my
answer:", and one cached evaluation can serve all of those. But a wrong hit is worse than a miss: a miss
costs one LLM call, while a wrong hit hands a candidate feedback written for somebody else's answer (a
different number, a flipped "not", half the answer missing), which is wrong in a way nobody notices. So
every rule here errs towards "different":

- `normalise` is the exact key: only case, white space, quote/dash style and punctuation are forgiven.
- `normalise_unordered` is for short texts such as custom job titles, where word order carries no meaning.
- `fingerprint`/`bands`/`is_near_duplicate` find near-duplicate long answers: MinHash LSH over word
  3-shingles proposes candidates, then exact guards decide (numbers in order, negations, length, words,
  Jaccard).

The word guard exists because shingles cannot tell a typo fix from one changed word that matters: "Redis"
for "Postgres" once in a 47-word answer scores 0.875, just like "recieve" fixed to "receive". So the
words only one text has (multiset difference, both ways) must each be either a filler word (a greeting,
"basically") or pair one-to-one with a likely typo or spelling variant on the other side: both at least
6 letters, same first letter, edit distance at most 2; and at most _MAX_LEFTOVER such words in all.
Shorter words are left out of typo pairing because too many real terms are one letter apart in them
("mysql"/"mssql", "tree"/"trie", "http"/"https"): a typo in a short word costs a miss, no more. Any
other changed word, a company or product name included, is a miss: we cannot tell "Acme" from "Redis",
and a miss only costs one LLM call.

Known limits: long real words two letters apart pass as typos, and two words swapped keep the same
words, so only the Jaccard threshold stands between them, which keeps them apart up to about 75 words.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections import Counter
from dataclasses import dataclass
from hashlib import blake2b
from itertools import permutations

MIN_WORDS = 12
# From the labelled corpus in tests/saving/test_similarity.py: the true pairs (one or two typos or spellings
# fixed, a filler word or a greeting added, 47-100 words) score 0.875 and up. Changed words are the word
# guard's job, so the false pairs left to the threshold have the same words in another order (brokers
# swapped, two roles or technologies swapped in a short answer): 0.634 at most. A wrong hit costs more than
# a miss, so the threshold sits just below the true side rather than midway: one typo fixed in n words
# scores about (n - 5) / (n + 1), passing from 40 words; one swap of two words (n - 8) / (n + 4), which
# passes from about 76 words (the known limit above).
NEAR_DUPLICATE_THRESHOLD = 0.85
# P(candidate) = 1 - (1 - J**ROWS)**BANDS. At J = 0.85 that is 1 - 0.386**8 = 0.9995 (>= 0.999) with
# 8 bands of 3 rows; 4 rows would need 10 bands and 2 rows would let 90% of pairs at J = 0.5 through.
# With 3 rows pairs at J = 0.5 become candidates 66% of the time, at J = 0.3 20%: extra Redis reads that
# is_near_duplicate then rejects, never wrong hits.
BANDS = 8
ROWS = 3
_LENGTH_TOLERANCE = 0.1
# Two typos, or a "Sure, here's my answer:" (4 words) and one typo; more is rewriting, or an added
# paragraph of filler words, and the permutations in same_words stay at most 3! = 6.
_MAX_LEFTOVER = 6
# Words added or dropped without changing what the answer says: greetings and preambles ("Sure, here's
# my answer:", "Thank you", "Hi"), hesitations and softeners. Kept short on purpose: every word here
# may appear or vanish freely, so nothing that can carry content (no "not", "our", "we") belongs.
_FILLER = frozenset({
    "sure", "here", "here's", "heres", "is", "my", "answer", "thanks", "thank", "you", "ok", "okay",
    "so", "well", "basically", "actually", "really", "just", "um", "uh", "hi", "hello",
})  # fmt: skip

_ASCII_PUNCT = str.maketrans(
    {**dict.fromkeys("‘’‚‛′`", "'"), **dict.fromkeys("“”„‟″", '"'), **dict.fromkeys("‐‑‒–—―−⁃", "-")}
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# A word, with ".", "'" and "_" kept only between letters or digits (3.5, node.js, didn't, user_id), a
# currency sign before it ($40k), "++"/"#" after letters (c++, c#) and "%" after digits (99.9%). Side
# effect: "done.Then" with no space stays one token, which can only cause a miss.
_TOKEN = re.compile(r"[$€£¥]?[^\W_]+(?:[._'][^\W_]+)*(?:(?<=[^\W\d_])(?:\+\+|#)|(?<=\d)%)?")

_NUMBER_WORDS = frozenset({
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million",
    "billion", "hundreds", "thousands", "millions", "billions", "half", "twice", "double", "triple", "dozen",
})  # fmt: skip
# "n't" forms are counted by suffix; these are the other negations, with apostrophe-less spellings.
_NEGATIONS = frozenset({
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "cannot", "without",
    "dont", "didnt", "doesnt", "cant", "wont", "isnt", "wasnt", "arent", "werent", "couldnt", "shouldnt",
    "wouldnt", "havent", "hasnt", "hadnt",
})  # fmt: skip

_ABBREVIATIONS = {
    "sr": "senior", "snr": "senior", "jr": "junior", "jnr": "junior",
    "eng": "engineer", "engr": "engineer", "engg": "engineer", "dev": "developer",
    "mgr": "manager", "mgmt": "management", "ml": "machine learning", "mle": "machine learning engineer",
    "swe": "software engineer", "sde": "software development engineer", "sw": "software",
    "pm": "product manager", "tpm": "technical program manager", "qa": "quality assurance",
    "sre": "site reliability engineer", "dba": "database administrator", "sysadmin": "system administrator",
    "admin": "administrator", "infra": "infrastructure", "k8s": "kubernetes", "js": "javascript",
    "frontend": "front end", "backend": "back end", "fullstack": "full stack",
}  # fmt: skip
_STOP_WORDS = frozenset({"a", "an", "the", "of", "for", "with", "and", "in", "at", "on", "to", "-", "&"})
# Words that end in "s" but are not plurals; the suffix guard in _singular covers analysis, ops, physics.
_NOT_PLURAL = frozenset({
    "kubernetes", "aws", "sales", "news", "series", "species", "postgres", "windows", "pandas", "jenkins",
})  # fmt: skip


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ASCII_PUNCT)
    return _TOKEN.findall(_THOUSANDS.sub("", text))


def normalise(text: str) -> str:
    """Order-preserving canonical form: forgives case, white space, quote style and punctuation only."""
    return " ".join(_tokens(text))


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.isalpha() or word in _NOT_PLURAL:
        return word
    if word.endswith(("ss", "us", "is", "ics", "ops", "os")):
        return word
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def normalise_unordered(text: str) -> str:
    """Canonical bag of words for short texts such as job titles, where word order carries no meaning."""
    words: set[str] = set()
    for token in normalise(text).split():
        word = _singular(token)
        words.update(_ABBREVIATIONS.get(word, word).split())
    return " ".join(sorted(words - _STOP_WORDS))


@dataclass(frozen=True)
class Fingerprint:
    """What is_near_duplicate needs of a text, small enough to store beside its cached value."""

    shingles: frozenset[int]
    numbers: tuple[str, ...]
    negations: int
    words: int
    terms: tuple[str, ...]  # the normalised words, sorted, repeats kept: for the word guard

    # version, words, negations, shingle count; then the shingles; then the numbers and, after a line
    # break, the terms, space separated (tokens never contain white space).
    _HEADER = struct.Struct(">BIHI")
    _VERSION = 2

    def to_bytes(self) -> bytes:
        shingles = sorted(self.shingles)
        header = self._HEADER.pack(self._VERSION, self.words, self.negations, len(shingles))
        text = " ".join(self.numbers) + "\n" + " ".join(self.terms)
        return header + struct.pack(f">{len(shingles)}I", *shingles) + text.encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        start = cls._HEADER.size
        version, words, negations, count = cls._HEADER.unpack_from(data) if len(data) >= start else (0,) * 4
        if version != cls._VERSION or len(data) < start + 4 * count:
            raise ValueError(f"not a version {cls._VERSION} fingerprint")
        shingles = struct.unpack_from(f">{count}I", data, start)
        numbers, _, terms = data[start + 4 * count :].decode().partition("\n")
        if len(terms.split()) != words:  # a truncated value would lose words silently otherwise
            raise ValueError("fingerprint terms do not match its word count")
        return cls(frozenset(shingles), tuple(numbers.split()), negations, words, tuple(terms.split()))


def _hash32(data: bytes) -> int:
    return int.from_bytes(blake2b(data, digest_size=4).digest(), "big")


def fingerprint(text: str) -> Fingerprint:
    """The near-duplicate fingerprint of an answer, computed over normalise(text)."""
    words = normalise(text).split()
    # A text shorter than one shingle is its own shingle, so that it still equals only itself.
    grams = [words[i : i + 3] for i in range(max(len(words) - 2, 1))] if words else []
    return Fingerprint(
        shingles=frozenset(_hash32(" ".join(gram).encode()) for gram in grams),
        # In text order: "from 900 ms to 180 ms" and "from 180 ms to 900 ms" are different answers.
        numbers=tuple(w for w in words if w in _NUMBER_WORDS or any(c.isdigit() for c in w)),
        negations=sum(w in _NEGATIONS or w.endswith("n't") for w in words),
        words=len(words),
        terms=tuple(sorted(words)),
    )


# Universal hashing (a*x + c) mod a Mersenne prime, one (a, c) per row of every band. The constants come
# from blake2b of fixed labels, not from a random generator, so every process on every machine computes
# the same bands for the same text.
_PRIME = (1 << 61) - 1
_PERMUTATIONS = [
    (
        int.from_bytes(blake2b(b"minhash-a-%d" % i, digest_size=8).digest(), "big") % (_PRIME - 1) + 1,
        int.from_bytes(blake2b(b"minhash-c-%d" % i, digest_size=8).digest(), "big") % _PRIME,
    )
    for i in range(BANDS * ROWS)
]


def bands(fp: Fingerprint) -> list[str]:
    """LSH keys: texts whose fingerprints share any of these strings are near-duplicate candidates."""
    if fp.words < MIN_WORDS or not fp.shingles:
        return []
    minima = [min((a * x + c) % _PRIME for x in fp.shingles) for a, c in _PERMUTATIONS]
    keys = []
    for band in range(BANDS):
        rows = struct.pack(f">{ROWS}Q", *minima[band * ROWS : (band + 1) * ROWS])
        keys.append(f"{band}:{blake2b(rows, digest_size=4).hexdigest()}")
    return keys


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Exact Jaccard similarity of the shingle sets (1.0 for two empty texts)."""
    union = len(a.shingles | b.shingles)
    return len(a.shingles & b.shingles) / union if union else 1.0


def _within_edits(a: str, b: str, limit: int) -> bool:
    """Whether the Levenshtein distance of `a` and `b` is at most `limit`. Only the cells of the table
    within `limit` of its diagonal can stay within it, so only those are computed: linear in the words'
    length, where the whole table would let two long words of one answer cost seconds."""
    if abs(len(a) - len(b)) > limit:
        return False
    over, width = limit + 1, 2 * limit + 1
    # previous[k] is the distance of a[:i - 1] and b[:j] for j = i - 1 + k - limit (`over` outside b).
    previous = [k - limit if 0 <= k - limit <= len(b) else over for k in range(width)]
    for i in range(1, len(a) + 1):
        current = [over] * width
        for k in range(width):
            j = i + k - limit
            if j < 0 or j > len(b):
                continue
            if j == 0:
                current[k] = min(i, over)
                continue
            best = previous[k] + (a[i - 1] != b[j - 1])  # substitute (or keep)
            if k + 1 < width:
                best = min(best, previous[k + 1] + 1)  # delete a[i - 1]
            if k > 0:
                best = min(best, current[k - 1] + 1)  # insert b[j - 1]
            current[k] = min(best, over)
        if min(current) > limit:
            return False
        previous = current
    return previous[len(b) - len(a) + limit] <= limit


def _likely_variant(a: str, b: str) -> bool:
    # Plain Levenshtein, not Damerau: a swap of two letters costs 2, so "form"/"from" stay apart.
    return min(len(a), len(b)) >= 6 and a[0] == b[0] and _within_edits(a, b, 2)


def same_words(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether the texts' words differ only by filler words and likely typos or spelling variants."""
    only_a, only_b = Counter(a.terms) - Counter(b.terms), Counter(b.terms) - Counter(a.terms)
    if only_a.total() + only_b.total() > _MAX_LEFTOVER:
        return False
    left_a = [word for word in only_a.elements() if word not in _FILLER]
    left_b = [word for word in only_b.elements() if word not in _FILLER]
    return len(left_a) == len(left_b) and any(
        all(map(_likely_variant, left_a, pairing)) for pairing in permutations(left_b)
    )


def is_near_duplicate(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether one cached result may serve both texts; every guard errs towards "different"."""
    return (
        min(a.words, b.words) >= MIN_WORDS
        and a.numbers == b.numbers
        and a.negations == b.negations
        and abs(a.words - b.words) <= _LENGTH_TOLERANCE * max(a.words, b.words)
        and same_words(a, b)
        and similarity(a, b) >= NEAR_DUPLICATE_THRESHOLD
    )
