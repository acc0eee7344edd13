"""Matching by meaning, as far as a deterministic, dependency-free method goes: words reduced to stems,
and patterns whose words must all occur close together, in any order, within one sentence.

A pattern is a phrase of plain words ("stop calling them for a while"): its stop words are dropped, every
other word is stemmed ("calling" → "call"), and it matches where all of its words occur within a few
words of each other in one sentence of the answer. A word written with a trailing "*" ("degrad*") matches
any word whose stem starts with it. The scan is one pass over the answer's words with dictionary lookups,
then a check of only the patterns all of whose words occurred: linear in the answer's length.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

from core.rubric.matching import Hit, lowered, word_pattern

_PATTERN_WORD = re.compile(r"([^\W_]+(?:['’][^\W_]+)*)(\*?)")  # a word of a pattern, and its "*"
# Characters that end a sentence (or a clause a pattern must not cross), kept by `split`.
_BOUNDARY_RUN = re.compile(r"([.!?;\n]+)")
_SENTENCE_GAP = 1000  # a pattern's words never span a boundary: positions jump this far across one
_IDS_CACHE_SIZE = 20000  # stems remembered per finder
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "and",
        "or",
        "as",
        "is",
        "are",
        "be",
        "been",
        "being",
        "was",
        "were",
        "am",
        "it",
        "its",
        "it's",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "them",
        "they",
        "we",
        "our",
        "us",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "do",
        "does",
        "did",
        "so",
        "very",
        "just",
        "also",
        "then",
        "than",
        "too",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
        "having",
        "into",
        "onto",
        "from",
        "about",
        "any",
        "some",
        "each",
        "every",
        "all",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "how",
        "if",
        "but",
    ]
)
# Irregular forms, mapped to a word whose stem they share.
_IRREGULAR_SOURCE = {
    "ran": "run",
    "went": "go",
    "gone": "go",
    "goes": "go",
    "going": "go",
    "wrote": "write",
    "written": "write",
    "built": "build",
    "took": "take",
    "taken": "take",
    "made": "make",
    "kept": "keep",
    "led": "lead",
    "chose": "choose",
    "chosen": "choose",
    "broke": "break",
    "broken": "break",
    "fell": "fall",
    "fallen": "fall",
    "gave": "give",
    "given": "give",
    "began": "begin",
    "begun": "begin",
    "sent": "send",
    "spent": "spend",
    "found": "find",
    "told": "tell",
    "thought": "think",
    "brought": "bring",
    "caught": "catch",
    "held": "hold",
    "lost": "lose",
    "paid": "pay",
    "said": "say",
    "saw": "see",
    "seen": "see",
    "got": "get",
    "gotten": "get",
    "felt": "feel",
    "met": "meet",
    "meant": "mean",
    "did": "do",
    "does": "do",
    "done": "do",
    "doing": "do",
    "used": "use",
    "using": "use",
    "uses": "use",
    "knew": "know",
    "known": "know",
    "grew": "grow",
    "grown": "grow",
    "drove": "drive",
    "driven": "drive",
    "rose": "rise",
    "risen": "rise",
    "shown": "show",
    "hid": "hide",
    "hidden": "hide",
    "fed": "feed",
    "agreed": "agree",
    "freed": "free",
    "bought": "buy",
    "sold": "sell",
    "understood": "understand",
    "stood": "stand",
    "left": "leave",
    "slept": "sleep",
    "won": "win",
    "woke": "wake",
    "woken": "wake",
    "slid": "slide",
    "shook": "shake",
    "struck": "strike",
    "threw": "throw",
    "thrown": "throw",
    "wore": "wear",
    "worn": "wear",
    "swore": "swear",
    "bit": "bite",
    "drew": "draw",
    "drawn": "draw",
    "flew": "fly",
    "flown": "fly",
    "forgave": "forgive",
    "hung": "hang",
    "lent": "lend",
    "oversaw": "oversee",
    "overseen": "oversee",
    "rewrote": "rewrite",
    "rewritten": "rewrite",
    "rebuilt": "rebuild",
    "redid": "redo",
    "undid": "undo",
    "withdrew": "withdraw",
    "taught": "teach",
    "sought": "seek",
    "fought": "fight",
    "dealt": "deal",
    "ate": "eat",
    "became": "become",
    "spoke": "speak",
    "spoken": "speak",
    "forgot": "forget",
    "forgotten": "forget",
    "children": "child",
    "people": "person",
    "data": "data",
    "media": "media",
    "criteria": "criterion",
    "analyses": "analysis",
    "hypotheses": "hypothesis",
    "indices": "index",
    "indexes": "index",
    "better": "good",
    "best": "good",
    "worse": "bad",
    "worst": "bad",
    "less": "less",
    "unless": "unless",
    "this": "this",
    "has": "has",
    "was": "was",
    "is": "is",
    "its": "its",
    "series": "series",
}


def _has_vowel(word: str) -> bool:
    return any(char in "aeiouy" for char in word)


def _undoubled(word: str) -> str:
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiouslz":
        return word[:-1]
    return word


def _stem_rules(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ied") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) >= 6 and _has_vowel(word[:-3]):
        word = _undoubled(word[:-3])
    elif word.endswith("ed") and len(word) >= 5 and word[-3] != "e" and _has_vowel(word[:-2]):
        word = _undoubled(word[:-2])
    if word.endswith("ly") and len(word) > 5:
        word = word[:-2]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


_IRREGULAR = {form: _stem_rules(base) for form, base in _IRREGULAR_SOURCE.items()}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem of a lowercased word: plural, past and -ing forms, -ly and a final e removed, so that
    "retries", "retried" and "retrying" all give "retry" and "saves", "saved" and "saving" give "sav"."""
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    irregular = _IRREGULAR.get(word)
    return irregular if irregular is not None else _stem_rules(word)


class Words:
    """The words of a text: each word's stem and position (the word's index, with a jump at each sentence
    boundary), where each distinct stem occurs, and each word's offsets, worked out once for every finder
    run on the text. A clause's offsets are worked out only when a pattern's match in it is quoted."""

    __slots__ = ("_clauses", "_first_words", "_lower", "_starts", "by_stem", "positions", "stems")

    def __init__(self, text: str) -> None:
        self._lower = lowered(text)
        self.stems: list[str] = []
        self.positions: list[int] = []
        # Words never contain a boundary, so the words of the text are those of its clauses (the runs
        # between boundaries), in order.
        self._clauses: list[tuple[int, list[str]]] = []  # each clause with words: its offset, its words
        self._first_words: list[int] = []  # the index of each such clause's first word
        self._starts: dict[int, list[int]] = {}  # per clause, its words' offsets once worked out
        stems, positions = self.stems, self.positions
        word = word_pattern(self._lower)
        offset = 0
        position = 0
        for index, piece in enumerate(_BOUNDARY_RUN.split(self._lower)):
            if index % 2 == 0 and (words := word.findall(piece)):
                if stems:
                    position += _SENTENCE_GAP
                self._clauses.append((offset, words))
                self._first_words.append(len(stems))
                stems += map(stem, words)
                positions += range(position, position + len(words))
                position += len(words)
            offset += len(piece)
        # Each distinct stem's word indexes, ascending: a finder looks each stem up once, not once a word.
        by_stem: dict[str, list[int]] = {}
        for index, stemmed in enumerate(stems):
            known = by_stem.get(stemmed)
            if known is None:
                by_stem[stemmed] = [index]
            else:
                known.append(index)
        self.by_stem = by_stem

    def __len__(self) -> int:
        return len(self.stems)

    def span(self, index: int) -> tuple[int, int]:
        """The offsets of word `index` in the text."""
        clause = bisect_right(self._first_words, index) - 1
        offset, words = self._clauses[clause]
        at = index - self._first_words[clause]
        starts = self._starts.setdefault(clause, [])
        if len(starts) <= at:
            # Between two words there is no letter or digit, and a word starts with one: each word is
            # found, from where the one before it ends, where the word pattern found it.
            find = self._lower.find
            offset = starts[-1] + len(words[len(starts) - 1]) if starts else offset
            for word in words[len(starts) : at + 1]:
                offset = find(word, offset)
                starts.append(offset)
                offset += len(word)
        return starts[at], starts[at] + len(words[at])


def tokens(text: str) -> Words:
    """The words of `text` with their stems and offsets; positions jump across sentence boundaries."""
    return Words(text)


class _Word(NamedTuple):
    """A pattern's word: a tuple, so that it hashes and compares at C speed and equals its `pattern_key`
    form."""

    text: str
    prefix: bool


@lru_cache(maxsize=65536)
def pattern_words(pattern: str) -> tuple[_Word, ...]:
    """The stemmed content words of a pattern, in order; "*" after a word makes it a prefix."""
    every = [(word, bool(star)) for word, star in _PATTERN_WORD.findall(lowered(pattern))]
    content = [(word, star) for word, star in every if star or word not in STOP_WORDS]
    # A phrase with one content word keeps its stop words: "on me" is not "me", "as a result" not "result".
    kept = content if len(content) > 1 or len(every) == 1 else every
    return tuple(_Word(word if star else stem(word), star) for word, star in kept)


PatternKey = tuple[tuple[str, bool], ...]


def pattern_key(pattern: str) -> PatternKey:
    """A pattern's stemmed content words (and whether each is a prefix): equal for patterns that match alike."""
    return pattern_words(pattern)


def span_for(words: int) -> int:
    """How far apart (in words) the first and last word of a pattern may be."""
    return max(4, 3 * words)


class MeaningFinder:
    """Finds which labels' patterns occur in a text. Built once per set of patterns (it is cached by the
    caller); `find` is one pass over the words plus a check of the patterns whose words all occurred.

    Patterns are numbered label by label, in the order of `patterns`. Many labels share a pattern's words
    (a concept group's phrases serve every key point about that concept), so where a pattern's words lie
    in the text is worked out once per distinct shape (its words' ids, in order, and its span), not once
    per pattern."""

    def __init__(self, patterns: Mapping[str, Iterable[str]]) -> None:
        self._word_ids: dict[_Word, int] = {}
        self._exact: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        self._keys: list[PatternKey] = []  # each pattern's words, as `pattern_key` has them
        # Each shape: the ids of its distinct words and its span, and its patterns with their labels (as
        # indexes into `labels`), in the order of the patterns.
        self._shapes: list[tuple[tuple[int, ...], int]] = []
        self._members: list[list[tuple[int, int]]] = []
        self._shapes_of_word: list[list[int]] = []  # per word, the shapes of two words or more with it
        self._singles_of_word: list[list[int]] = []  # per word, the shapes of that word alone
        shape_index: dict[tuple[tuple[int, ...], int], int] = {}
        seen: set[tuple[str, tuple[_Word, ...]]] = set()
        for label, (name, phrases) in enumerate(patterns.items()):
            for phrase in phrases:
                words = pattern_words(phrase)
                if not words or (name, words) in seen:
                    continue
                seen.add((name, words))
                shape = (tuple(dict.fromkeys(self._word_id(word) for word in words)), span_for(len(words)))
                if shape not in shape_index:
                    shape_index[shape] = len(self._shapes)
                    self._shapes.append(shape)
                    self._members.append([])
                    # A shape of one word is there wherever the word is; the others are counted.
                    of_word = self._singles_of_word if len(shape[0]) == 1 else self._shapes_of_word
                    for word_id in shape[0]:
                        of_word[word_id].append(shape_index[shape])
                self._members[shape_index[shape]].append((len(self._keys), label))
                self._keys.append(words)
        self._sizes = [len(ids) for ids, _ in self._shapes]  # each shape's distinct words
        self._prefix_lengths = sorted({len(text) for text in self._prefix})
        # The stems met so far (up to _IDS_CACHE_SIZE) with their pattern words' ids, and those of them
        # that match a pattern word.
        self._ids_cache: dict[str, tuple[int, ...]] = {}
        self._matching: dict[str, tuple[int, ...]] = {}
        # The weights last asked for, per pattern and per shape: callers pass the same mapping (a role's)
        # every time.
        self._weighted: tuple[Mapping[PatternKey, float], _Weights] | None = None
        self._unweighted: _Weights | None = None
        self.labels = list(patterns)

    def _word_id(self, word: _Word) -> int:
        if word not in self._word_ids:
            self._word_ids[word] = len(self._word_ids)
            self._shapes_of_word.append([])
            self._singles_of_word.append([])
            table = self._prefix if word.prefix else self._exact
            table.setdefault(word.text, []).append(self._word_ids[word])
        return self._word_ids[word]

    def find(self, text: str, words: Words | None = None) -> dict[str, list[Hit]]:
        """Per label with a match, where its patterns match in `text` (one hit per matching pattern, in
        order of position); `words` are `tokens(text)` when the caller has them already."""
        words = tokens(text) if words is None else words
        return self.find_weighted(text, words, {})[0]

    def strengths(self, text: str, words: Words, weights: Mapping[PatternKey, float]) -> dict[str, float]:
        """Per label with a match, the largest weight of its matching patterns (a pattern missing from
        `weights` weighs 1): how telling the best evidence for the label is. A shape is placed in the
        text only when it would raise a label's strength, so a label shown once at full weight costs no
        more, however often the answer shows it again."""
        weighed = self._shape_weights(weights)
        of_shape = weighed.of_shape
        occurrences = self._occurrences(words)
        best: dict[int, float] = {}  # per label index
        for word_id in occurrences.keys() & weighed.alone.keys():
            for label, weight in weighed.alone[word_id]:
                if weight > best.get(label, -1.0):
                    best[label] = weight
        # The shapes of several words, which must be placed in the text, heaviest first: most are skipped.
        placed = sorted(self._complete(occurrences), key=lambda shape: -max(w for _, w in of_shape[shape]))
        places: dict[int, list[int]] = {}
        for shape in placed:
            if all(weight <= best.get(label, -1.0) for label, weight in of_shape[shape]):
                continue
            if _window(words.positions, occurrences, places, *self._shapes[shape]) is None:
                continue
            for label, weight in of_shape[shape]:
                if weight > best.get(label, -1.0):
                    best[label] = weight
        # In the order of the labels, as a label's first matching pattern would have put them.
        return {self.labels[label]: best[label] for label in sorted(best)}

    def find_weighted(
        self, text: str, words: Words, weights: Mapping[PatternKey, float]
    ) -> tuple[dict[str, list[Hit]], dict[str, float]]:
        """`find` and `strengths` in one pass over the words."""
        weight_of = self._weights(weights).of_pattern
        occurrences = self._occurrences(words)
        places: dict[int, list[int]] = {}
        matched: list[tuple[int, int, tuple[int, int]]] = []
        for shape in self._complete(occurrences, with_singles=True):
            where = _window(words.positions, occurrences, places, *self._shapes[shape])
            if where is not None:
                matched += [(pattern, label, where) for pattern, label in self._members[shape]]
        found: dict[str, list[Hit]] = {}
        strongest: dict[str, float] = {}
        for pattern, label, (first, last) in sorted(matched):
            start, end = words.span(first)[0], words.span(last)[1]
            found.setdefault(self.labels[label], []).append(Hit(start, end, text[start:end]))
            if weight_of[pattern] > strongest.get(self.labels[label], -1.0):
                strongest[self.labels[label]] = weight_of[pattern]
        for hits in found.values():
            hits.sort(key=lambda hit: hit.start)
        return found, strongest

    def first_hits(
        self, text: str, words: Words, weights: Mapping[PatternKey, float]
    ) -> tuple[dict[str, Hit], dict[str, float]]:
        """Per label with a match, its first hit (the one `find` lists first: the earliest, and of those
        the first pattern's) and its strength: what `find_weighted` gives, without placing in the text a
        shape that could change neither (one whose words all occur only after its labels' first hits, and
        that weighs no more than their best matches)."""
        weight_of = self._weights(weights).of_pattern
        occurrences = self._occurrences(words)
        places: dict[int, list[int]] = {}
        # Per label index, its first hit: the hit's first word, its pattern and its last word.
        first: dict[int, tuple[int, int, int]] = {}
        strongest: dict[int, float] = {}
        for shape in self._complete(occurrences, with_singles=True):
            ids, span = self._shapes[shape]
            members = self._members[shape]
            if len(ids) == 1:
                low = high = occurrences[ids[0]][0]
            else:
                earliest = min(occurrences[word_id][0] for word_id in ids)
                if all(
                    label in first
                    and weight_of[pattern] <= strongest[label]
                    and (earliest, pattern) > first[label][:2]
                    for pattern, label in members
                ):
                    continue
                where = _window(words.positions, occurrences, places, ids, span)
                if where is None:
                    continue
                low, high = where
            for pattern, label in members:
                known = first.get(label)
                if known is None or low < known[0] or (low == known[0] and pattern < known[1]):
                    first[label] = (low, pattern, high)
                if weight_of[pattern] > strongest.get(label, -1.0):
                    strongest[label] = weight_of[pattern]
        hits = {}
        for label in sorted(first):
            start, end = words.span(first[label][0])[0], words.span(first[label][2])[1]
            hits[self.labels[label]] = Hit(start, end, text[start:end])
        return hits, {self.labels[label]: strongest[label] for label in sorted(strongest)}

    def _weights(self, weights: Mapping[PatternKey, float]) -> _Weights:
        """Each pattern's weight in `weights` (1 when it is missing), worked out once per mapping; the
        weights per shape too when `strengths` asks for them."""
        if not weights:
            if self._unweighted is None:
                self._unweighted = _Weights([1.0] * len(self._keys))
            return self._unweighted
        if self._weighted is None or self._weighted[0] is not weights:
            self._weighted = (weights, _Weights([weights.get(key, 1.0) for key in self._keys]))
        return self._weighted[1]

    def _shape_weights(self, weights: Mapping[PatternKey, float]) -> _ShapeWeights:
        weighed = self._weights(weights)
        if weighed.of_shapes is None:
            of_shape = []
            for members in self._members:
                labels: dict[int, float] = {}
                for pattern, label in members:
                    labels[label] = max(labels.get(label, -1.0), weighed.of_pattern[pattern])
                of_shape.append(tuple(labels.items()))
            alone = {}
            for word_id, shapes in enumerate(self._singles_of_word):
                labels = {}
                for shape in shapes:
                    for label, weight in of_shape[shape]:
                        labels[label] = max(labels.get(label, -1.0), weight)
                if labels:
                    alone[word_id] = tuple(labels.items())
            weighed.of_shapes = _ShapeWeights(of_shape, alone)
        return weighed.of_shapes

    def _occurrences(self, words: Words) -> dict[int, list[int]]:
        """The word indexes, ascending, at which each pattern word occurs in `words`."""
        unknown = words.by_stem.keys() - self._ids_cache.keys()
        if len(self._ids_cache) + len(unknown) > _IDS_CACHE_SIZE:
            self._ids_cache.clear()
            self._matching.clear()
            unknown = set(words.by_stem)
        for word in unknown:
            ids = self._ids_cache[word] = self._ids_of(word)
            if ids:
                self._matching[word] = ids
        occurrences: dict[int, list[int]] = {}
        # Only the stems that match a pattern word: a question's finder knows few of an answer's words.
        for word in words.by_stem.keys() & self._matching.keys():
            indexes = words.by_stem[word]
            for word_id in self._matching[word]:
                already = occurrences.get(word_id)
                # A prefix word met by several stems ("degrad*": "degrade", "degradation") merges them.
                occurrences[word_id] = indexes if already is None else sorted(already + indexes)
        return occurrences

    def _complete(self, occurrences: Mapping[int, list[int]], *, with_singles: bool = False) -> list[int]:
        """The shapes of several words all of whose words occur, by count: those that may match; and with
        `with_singles`, those of one word that occurs too."""
        counts = Counter(chain.from_iterable(map(self._shapes_of_word.__getitem__, occurrences)))
        sizes = self._sizes
        complete = [shape for shape, count in counts.items() if count == sizes[shape]]
        if with_singles:
            complete += chain.from_iterable(map(self._singles_of_word.__getitem__, occurrences))
        return complete

    def _ids_of(self, word: str) -> tuple[int, ...]:
        """The ids of the pattern words that `word` (a stem) matches: itself, or a prefix of it."""
        ids = list(self._exact.get(word, ()))
        for length in self._prefix_lengths:
            if length > len(word):
                break
            ids += self._prefix.get(word[:length], ())
        return tuple(ids)


class _ShapeWeights(NamedTuple):
    of_shape: list[tuple[tuple[int, float], ...]]  # per shape, each of its labels' heaviest pattern
    alone: dict[int, tuple[tuple[int, float], ...]]  # the same per word, of the shapes of it alone


class _Weights:
    """A finder's patterns weighed by one mapping, and its shapes once `strengths` needs them."""

    __slots__ = ("of_pattern", "of_shapes")

    def __init__(self, of_pattern: list[float]) -> None:
        self.of_pattern = of_pattern
        self.of_shapes: _ShapeWeights | None = None


def _window(
    positions: list[int],
    occurrences: Mapping[int, list[int]],
    places: dict[int, list[int]],
    ids: tuple[int, ...],
    span: int,
) -> tuple[int, int] | None:
    """The first (first, last) word indexes at which one occurrence of every word of `ids` lies within
    `span` positions of an occurrence of the rarest, or None. `places` keeps each word's occurrences'
    positions for the next shape."""
    if len(ids) == 1:
        anchor = occurrences[ids[0]][0]
        return anchor, anchor
    order = sorted(ids, key=lambda word_id: len(occurrences[word_id]))
    anchors = occurrences[order[0]]
    others = [occurrences[word_id] for word_id in order[1:]]
    spots = []
    for word_id in order[1:]:
        known = places.get(word_id)
        if known is None:
            known = places[word_id] = [positions[index] for index in occurrences[word_id]]
        spots.append(known)
    for anchor in anchors:
        centre = positions[anchor]
        low = high = anchor
        for items, spot in zip(others, spots, strict=True):
            at = bisect_left(spot, centre - span)
            if at == len(spot) or spot[at] > centre + span:
                break
            # the nearest occurrence to the anchor among those in range
            best = at
            while (
                best + 1 < len(spot)
                and spot[best + 1] <= centre + span
                and abs(spot[best + 1] - centre) < abs(spot[best] - centre)
            ):
                best += 1
            low, high = min(low, items[best]), max(high, items[best])
        else:
            return low, high
    return None
