"""core.saving.similarity against a labelled corpus of interview answers: which pairs may share one cached result."""

from __future__ import annotations

import random

import pytest

from core.saving.similarity import (
    BANDS,
    MIN_WORDS,
    NEAR_DUPLICATE_THRESHOLD,
    ROWS,
    Fingerprint,
    bands,
    fingerprint,
    is_near_duplicate,
    normalise,
    normalise_unordered,
    same_words,
    similarity,
)
from core.saving.similarity import _likely_variant as likely_variant

CONFLICT = (
    "In my last role at Acme, our team disagreed about whether to migrate the billing service to event "
    "sourcing. I set up a short meeting where each side wrote down the risks they cared about most. We "
    "agreed to build a small prototype behind a feature flag and measure it for two weeks. The prototype "
    "showed that replaying events was too slow for our month-end reports, so we kept the relational design "
    "and added an audit table instead. The disagreement ended without hard feelings, and the audit table "
    "later helped us pass a compliance review."
)
CONFLICT_OTHER = (
    "I once disagreed with a designer about removing the search filters from our mobile app. She believed "
    "they confused new users, while I had support tickets showing that power users relied on them every "
    "day. Instead of arguing in the review, I asked our analyst for two weeks of usage data and we looked "
    "at it together. We ended up hiding the filters behind a single button, which kept the screen simple "
    "for new users and still let experienced users find them without extra taps. We both presented the "
    "result to the product team."
)
LATENCY = (
    "To reduce the p95 latency of our search API from 900 ms to 180 ms, I first profiled the request path "
    "and found that most of the time went into repeated database queries for the same product metadata. I "
    "added a read-through cache in Redis with a short expiry and request coalescing, so that a burst of "
    "identical requests only hit the database once. I also moved the slowest joins into a nightly "
    "materialised view. After the change we watched the error budget for a week before closing the ticket."
)
INCIDENT = (
    "During a Friday release, our payment service started returning errors for roughly 3% of checkout "
    "requests. I was the on-call engineer, so I opened an incident channel, paged the owning team and "
    "checked the dashboards. The errors lined up exactly with the new deployment, so we did roll back within "
    "ten minutes instead of trying to patch forward. Afterwards I wrote the postmortem, and we added a "
    "canary stage that sends a small share of traffic to new versions before a full rollout."
)
SHORTENER = (
    "I would design the URL shortener around a key-value store. When a user submits a long URL, the service "
    "generates a short code from a counter encoded in base62, stores the mapping and returns the short "
    "link. Reads are far more common than writes, so I would put a CDN and an in-memory cache in front of "
    "the lookup path. To avoid a single counter becoming a bottleneck, each application server would "
    "reserve blocks of ids at a time. Analytics events would go to a queue and be processed asynchronously."
)
WEAKNESS = (
    "I'd say my biggest weakness used to be that I said yes to every request from other teams, which meant "
    "my own project work often slipped. I noticed it when my manager pointed out that a migration I owned "
    "was badly behind schedule. Since then I keep a visible list of my commitments and I discuss new "
    "requests with my lead before accepting them. It's made me more predictable, and the teams I work with "
    "now get clearer answers about when I can help them."
)
TESTING = (
    "My approach to testing a new feature starts with the behaviour the user sees. I write a few end-to-end "
    "tests for the main paths, then unit tests for the tricky logic such as pricing rules or date handling. "
    "I avoid mocking the database where I can, because in my experience the bugs hide in queries and "
    "migrations. In code review I look for missing edge cases rather than coverage numbers, and I make sure "
    "every bug we fix in production gets a regression test."
)
LEADERSHIP = (
    "When our tech lead left in the middle of a project, I volunteered to coordinate the remaining work. I "
    "split the backlog into weekly milestones, held a short planning call every Monday, and made sure each "
    "engineer owned a clear piece of the system. I also kept the product manager informed about the scope "
    "we had to cut. We shipped the onboarding redesign a week late rather than a quarter late, and the "
    "junior engineers told me later that the structure helped them grow."
)
BROKERS = (
    "For the reporting service I recommended Kafka rather than RabbitMQ, because Kafka keeps a replayable "
    "log that our analytics jobs needed, while RabbitMQ was the better fit for the task queue in the email "
    "service, where per-message acknowledgements and flexible routing mattered more than replay. The team "
    "accepted this split, and we documented why each service used its broker so that new engineers would "
    "not repeat the debate."
)
# The same words, with the brokers and the services they went to swapped: the opposite recommendation.
BROKERS_SWAPPED = (
    "For the email service I recommended RabbitMQ rather than Kafka, because RabbitMQ keeps a replayable "
    "log that our analytics jobs needed, while Kafka was the better fit for the task queue in the reporting "
    "service, where per-message acknowledgements and flexible routing mattered more than replay. The team "
    "accepted this split, and we documented why each service used its broker so that new engineers would "
    "not repeat the debate."
)
BOILERPLATE = (
    "Thank you for the question. In my previous role as a backend engineer at a mid-sized fintech company, "
    "I worked on a small team responsible for the payments platform, and we followed a fortnightly sprint "
    "cadence with code review on every change and a shared on-call rotation. "
)
SESSIONS = (
    "For the session store I would use Redis. Sessions are small, read on every request and only need to "
    "live for a few hours, so Redis with a time to live per key fits well, and Redis replication gives us "
    "a warm standby if the primary fails."
)
SESSIONS_OTHER = SESSIONS.replace("Redis", "Postgres")
BOILERPLATE_CACHE = BOILERPLATE + (
    "The hardest problem I solved there was a cache stampede: when a popular key expired, many "
    "workers recomputed it at once and overloaded the database, so I added locking and early refresh."
)
BOILERPLATE_HIRING = BOILERPLATE + (
    "What I am proudest of is how I improved our hiring loop: I rewrote the take-home exercise, trained "
    "interviewers on a shared rubric and cut the time from application to offer by weeks."
)
# Short answers whose two versions have exactly the same words in another order, and another meaning.
MIGRATION = (
    "We moved the sessions from Postgres to Redis because reads were slow, and Redis keeps them in memory."
)
TRACK = "I joined Acme as a backend engineer, and two years later I led the data platform team there."


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


SPELLING = edit(TESTING, "where I can", "where I can, as mocks optimise for speed over realism")
INCREASE = edit(LEADERSHIP, "helped them grow", "helped them increase their impact")
JAVA = edit(SHORTENER, "each application server", "each Java application server")


TRUE_PAIRS = {
    "typo fixed": (edit(CONFLICT, "disagreed about", "dissagreed about"), CONFLICT),
    "smart quotes and line breaks": (
        WEAKNESS,
        WEAKNESS.replace("'", "’").replace(". ", ".\n\n").replace("Since then", "Since  then\n"),
    ),
    "greeting prefix": ("Sure, here's my answer: " + LATENCY, LATENCY),
    "bullets and doubled spaces": (
        LEADERSHIP,
        "• " + LEADERSHIP.replace(". ", ".\n• ").replace(", ", ",  ").replace("I vol", "I  vol"),
    ),
    "filler word": (SHORTENER, edit(SHORTENER, "Reads are far", "Reads are basically far")),
    "british vs american spelling": (TESTING, edit(TESTING, "behaviour", "behavior")),
    "two british spellings": (
        SPELLING,
        SPELLING.replace("optimise", "optimize").replace("behaviour", "behavior"),
    ),
    "two typos fixed": (edit(edit(CONFLICT, "disagreed", "dissagreed"), "prototype", "prototpye"), CONFLICT),
    "trailing punctuation": (INCIDENT, INCIDENT.removesuffix(".") + "!!"),
    "case and punctuation": (BROKERS, BROKERS.upper().replace(",", " ;").replace("-", " ")),
    "typo in a shorter answer": (BOILERPLATE_CACHE, edit(BOILERPLATE_CACHE, "stampede", "stampeed")),
    "typo in a short answer": (SESSIONS, edit(SESSIONS, "replication", "replicaton")),
    "greeting before a short answer": ("Here's my answer: " + SESSIONS, SESSIONS),
    "preamble before a long answer": ("Sure, here's my answer: " + CONFLICT, CONFLICT),
}

FALSE_PAIRS = {
    "different answers to one question": (CONFLICT, CONFLICT_OTHER),
    "different numbers": (LATENCY, edit(LATENCY, "to 180 ms", "to 800 ms")),
    "different spelled-out numbers": (CONFLICT, edit(CONFLICT, "two weeks", "three weeks")),
    "negation flipped": (INCIDENT, edit(INCIDENT, "we did roll back", "we did not roll back")),
    "truncated answer": (TESTING, TESTING[: len(TESTING) // 2]),
    "extra paragraph": (
        LEADERSHIP,
        LEADERSHIP + "\n\nLooking back, I would also have asked for a dedicated tester from the start, "
        "because most of our late surprises came from the payment edge cases we found in the last sprint.",
    ),
    "same words reordered": (BROKERS, BROKERS_SWAPPED),
    "shared boilerplate opening": (BOILERPLATE_CACHE, BOILERPLATE_HIRING),
    "same template, another technology": (SESSIONS, SESSIONS_OTHER),
    "different topics": (SHORTENER, WEAKNESS),
    "short answers": ("I would use Redis", "I would use Postgres"),
    "identical short answers": ("I would use Redis for this", "I would use Redis for this"),
    "numbers swapped": (LATENCY, edit(LATENCY, "900 ms to 180 ms", "180 ms to 900 ms")),
    # One changed word that is no typo: 0.91-0.94 on shingles, so only the word guard keeps these apart.
    "one technology changed": (LATENCY, edit(LATENCY, "in Redis", "in Postgres")),
    "one broker changed": (BROKERS, edit(BROKERS, "because Kafka keeps", "because RabbitMQ keeps")),
    # Edit distance 2 as well, but the first letters differ.
    "increase vs decrease": (INCREASE, edit(INCREASE, "increase", "decrease")),
    "java vs lava": (JAVA, edit(JAVA, "Java", "Lava")),
    # A company name is content to the word guard: it cannot tell "Acme" from "Redis", and a miss is cheap.
    "company swapped": (CONFLICT, edit(CONFLICT, "at Acme", "at Globex")),
    "technologies swapped in a short answer": (
        MIGRATION,
        edit(MIGRATION, "Postgres to Redis", "Redis to Postgres"),
    ),
    "roles swapped in a short answer": (
        TRACK,
        edit(edit(TRACK, "backend", "data"), "the data", "the backend"),
    ),
}


# The known limit at work: the same words with two names swapped. "From MySQL to Postgres" and back is the
# opposite migration, yet every guard passes (the same words, numbers, negations and length), so only the
# Jaccard threshold keeps them apart: 0.839 in this 59-word answer. A threshold drifted from 0.85 to 0.80
# would serve one answer's feedback for the other.
MIGRATION_STORY = (
    "Last year I led the move of our order service from MySQL to Postgres. I wrote a short design note, "
    "ran both databases side by side for a month and compared the query plans before the switch. The "
    "hardest part was the reporting jobs, so I rewrote them first and then moved the writes one table at a time."
)
THRESHOLD_PAIRS = {
    "names swapped in a 59-word answer": (
        MIGRATION_STORY,
        edit(MIGRATION_STORY, "from MySQL to Postgres", "from Postgres to MySQL"),
    ),
}
# The same swap in a longer answer (73 words) scores 0.868 and passes: "from A to B" changes the five
# shingles around the two names, not six, so it passes from 64 words, not the 76 the module's docstring
# works out for a swap of two words further apart.
MIGRATION_STORY_LONG = (
    "Last year I led the move of our order service from MySQL to Postgres. I wrote a short design note, "
    "ran both databases side by side for a month and compared every query plan before the switch. The hardest "
    "part was the reporting jobs, which relied on behaviour that the old database allowed and the new one "
    "rejected, so I rewrote them first and then moved the writes one table at a time."
)


def guards_pass(a: Fingerprint, b: Fingerprint) -> bool:
    """Every condition of is_near_duplicate except the Jaccard threshold."""
    return (
        min(a.words, b.words) >= MIN_WORDS
        and a.numbers == b.numbers
        and a.negations == b.negations
        and abs(a.words - b.words) <= 0.1 * max(a.words, b.words)
        and same_words(a, b)
    )


def test_corpus_answers_are_realistic_lengths() -> None:
    for text in (CONFLICT, CONFLICT_OTHER, LATENCY, INCIDENT, SHORTENER, WEAKNESS, TESTING, LEADERSHIP,
                 BROKERS, SESSIONS, BOILERPLATE_CACHE, BOILERPLATE_HIRING):  # fmt: skip
        assert 40 <= len(normalise(text).split()) <= 150, text[:40]


@pytest.mark.parametrize("name", TRUE_PAIRS)
def test_true_pairs_are_near_duplicates_and_share_a_band(name: str) -> None:
    a, b = (fingerprint(text) for text in TRUE_PAIRS[name])
    assert is_near_duplicate(a, b), f"{name}: similarity {similarity(a, b):.3f}"
    assert is_near_duplicate(b, a)
    assert set(bands(a)) & set(bands(b)), f"{name}: no shared band"


@pytest.mark.parametrize("name", FALSE_PAIRS)
def test_false_pairs_are_not_near_duplicates(name: str) -> None:
    a, b = (fingerprint(text) for text in FALSE_PAIRS[name])
    assert not is_near_duplicate(a, b), f"{name}: similarity {similarity(a, b):.3f}"
    assert not is_near_duplicate(b, a)


@pytest.mark.parametrize("name", THRESHOLD_PAIRS)
def test_only_the_threshold_keeps_a_swap_in_a_medium_answer_apart(name: str) -> None:
    a, b = (fingerprint(text) for text in THRESHOLD_PAIRS[name])
    assert guards_pass(a, b) and guards_pass(b, a)
    assert 0.80 <= similarity(a, b) < NEAR_DUPLICATE_THRESHOLD, f"{name}: similarity {similarity(a, b):.3f}"
    assert not is_near_duplicate(a, b)
    assert not is_near_duplicate(b, a)


@pytest.mark.xfail(
    strict=True,
    reason="known limit: two names swapped two words apart ('from MySQL to Postgres' and back) pass every "
    "guard and score 0.868 in a 73-word answer, over the 0.85 threshold; such swaps pass from 64 words",
)
def test_names_swapped_in_a_long_answer_are_kept_apart() -> None:
    swapped = edit(MIGRATION_STORY_LONG, "from MySQL to Postgres", "from Postgres to MySQL")
    assert not is_near_duplicate(fingerprint(MIGRATION_STORY_LONG), fingerprint(swapped))


def test_threshold_separates_the_corpus_with_margin() -> None:
    # The word guard leaves the threshold only pairs with the same words (give or take filler and typos),
    # so the false pairs measured here are reorderings: the threshold is what keeps them apart.
    true_scores = {name: similarity(*map(fingerprint, pair)) for name, pair in TRUE_PAIRS.items()}
    assert all(guards_pass(*map(fingerprint, pair)) for pair in TRUE_PAIRS.values())
    false_scores = {
        name: similarity(a, b)
        for name, (a, b) in ((n, tuple(map(fingerprint, p))) for n, p in FALSE_PAIRS.items())
        if guards_pass(a, b)
    }
    assert len(false_scores) >= 3, f"too few false pairs reach the Jaccard test: {sorted(false_scores)}"
    min_true, max_false = min(true_scores.values()), max(false_scores.values())
    figures = (
        f"min true {min_true:.3f} ({min(true_scores, key=true_scores.get)}), "
        f"max false past the guards {max_false:.3f} ({max(false_scores, key=false_scores.get)}), "
        f"threshold {NEAR_DUPLICATE_THRESHOLD}"
    )
    print(figures)
    assert max_false + 0.15 <= NEAR_DUPLICATE_THRESHOLD, f"false pairs too close to the threshold: {figures}"
    assert min_true >= NEAR_DUPLICATE_THRESHOLD + 0.02, f"true pairs too close to the threshold: {figures}"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("recieve", "receive", True),
        ("optimise", "optimize", True),
        ("latencey", "latency", True),
        ("behaviour", "behavior", True),
        ("redis", "postgres", False),
        ("kafka", "rabbitmq", False),
        ("mysql", "nosql", False),
        ("java", "lava", False),  # distance 1, another first letter
        ("increase", "decrease", False),  # distance 2, another first letter
        ("form", "from", False),  # a swap of letters costs 2
        ("mysql", "mssql", False),  # short words one letter apart are often different terms
        ("http", "https", False),
        ("api", "app", False),
        ("backup", "bakcup", True),  # six letters: long enough
        ("migration", "mitigation", False),  # distance 3: one more than a typo
        ("throttling", "throttle", False),
    ],
)
def test_likely_variant(a: str, b: str, expected: bool) -> None:
    assert likely_variant(a, b) is expected
    assert likely_variant(b, a) is expected


def test_same_words_caps_filler_and_pairs_one_to_one() -> None:
    base = fingerprint(LEADERSHIP)
    assert same_words(base, fingerprint("Hi, thank you! Sure, here's my answer: " + LEADERSHIP)) is False  # 7
    assert same_words(base, fingerprint("Thank you! Sure, here's my answer: " + LEADERSHIP))  # 6 words
    # "milestones" once misspelt on one side cannot pair with two words on the other.
    twice = fingerprint(edit(LEADERSHIP, "milestones", "milestons milestonez"))
    assert not same_words(base, twice)


def test_normalise_forgives_case_space_and_punctuation_only() -> None:
    variants = [
        "We cut p95 latency from 900 ms to 180 ms, saving $40k a year.",
        "we cut P95 latency from 900 ms to 180 ms -- saving $40k a year",
        "  We  cut “p95” latency\nfrom 900 ms to 180 ms; saving $40K a year!!",
        "We cut p95 latency — from 900 ms to 180 ms… saving $40k a year",
    ]
    assert {normalise(v) for v in variants} == {"we cut p95 latency from 900 ms to 180 ms saving $40k a year"}
    assert normalise("from 900 ms to 180 ms") != normalise("from 900 ms to 800 ms")
    assert normalise("p95") != normalise("p99")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Availability went up to 99.9%.", "availability went up to 99.9%"),
        ("Python 3.5, then 3.11.", "python 3.5 then 3.11"),
        ("We wrote it in C++ and C#, not Node.js.", "we wrote it in c++ and c# not node.js"),
        ("A $40k saving for 1,000,000 users", "a $40k saving for 1000000 users"),
        ("It didn’t scale (at all).", "it didn't scale at all"),
        ("ＦＵＬＬ width and e.g. a CI/CD follow-up", "full width and e.g a ci cd follow up"),
    ],
)
def test_normalise_keeps_meaningful_tokens(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_unordered_job_titles() -> None:
    spark = {
        normalise_unordered(title)
        for title in (
            "Senior Data Engineer (Spark)",
            "spark data engineer, senior",
            "Sr. Data Engineer - Spark",
            "SR DATA ENGR, SPARK",
            "Senior Data Engineers for Spark",
        )
    }
    assert spark == {"data engineer senior spark"}
    assert normalise_unordered("Senior Data Engineer") != normalise_unordered("Senior Data Analyst")
    assert normalise_unordered("Frontend Engineer") != normalise_unordered("Backend Engineer")
    assert normalise_unordered("Front-End Engineer") == normalise_unordered("frontend engineer")
    assert normalise_unordered("Sr SWE") == normalise_unordered("Senior Software Engineer")
    assert normalise_unordered("ML Eng") == normalise_unordered("Machine Learning Engineer")
    assert normalise_unordered("jr dev") == normalise_unordered("Junior Developers")
    assert normalise_unordered("QA Mgr") == normalise_unordered("QA Manager")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Data Analysis Lead", "analysis data lead"),
        ("DevOps Engineers", "devops engineer"),
        ("Kubernetes Ops", "kubernetes ops"),
        ("AWS Solutions Architects", "architect aws solution"),
        ("Sales Analytics Managers", "analytics manager sales"),
        ("Technologies Directors", "director technology"),
        # Each ending the plural rule keeps or cuts (mutmut found these untested):
        ("Gas Engineers", "engineer gas"),  # three letters: never cut
        ("Jr Devs", "developer junior"),  # four letters: cut, then expanded
        ("Access Managers", "access manager"),  # -ss is no plural
        ("Status Page Engineers", "engineer page status"),  # nor -us
        ("macOS Developers", "developer macos"),  # nor -os
        ("Processes Engineers", "engineer process"),  # -sses loses -es, not -s
    ],
)
def test_normalise_unordered_plurals(text: str, expected: str) -> None:
    assert normalise_unordered(text) == expected


def test_fingerprint_fields_and_round_trip() -> None:
    fp = fingerprint(edit(INCIDENT, "we did roll back", "we didn’t roll back"))
    assert fp.numbers == ("3%", "ten")
    assert fp.terms == tuple(sorted(normalise(edit(INCIDENT, "did roll", "didn’t roll")).split()))
    assert fingerprint(LATENCY).numbers == ("p95", "900", "180")  # in text order: "from 180 to 900" differs
    assert fp.negations == 1
    assert fp.words == len(normalise(INCIDENT).split())
    assert all(0 <= s < 2**32 for s in fp.shingles)
    for sample in (fp, fingerprint(LATENCY), fingerprint(""), fingerprint("short")):
        assert Fingerprint.from_bytes(sample.to_bytes()) == sample
    for corrupt in (b"\x09" + fp.to_bytes()[1:], fp.to_bytes()[:40], fp.to_bytes()[:-5], b"\x02"):
        with pytest.raises(ValueError):
            Fingerprint.from_bytes(corrupt)
    # Each refusal says why (a stale cached value shows up in logs by it).
    with pytest.raises(ValueError, match=r"^not a version 2 fingerprint$"):
        Fingerprint.from_bytes(b"\x09" + fp.to_bytes()[1:])
    with pytest.raises(ValueError, match=r"^fingerprint terms do not match its word count$"):
        Fingerprint.from_bytes(fp.to_bytes()[:-5])
    # Survivors of `make mutate` here, equivalent for every value to_bytes writes (kept, not tested):
    # - accepting or refusing a value of exactly the header, or of the header and shingles with no text
    #   (`>=` vs `>`, `<` vs `<=`): to_bytes always writes the numbers-terms line break after them;
    # - (1,) * 4 or (0,) * 5 in place of (0,) * 4 for a value shorter than the header: both still refuse
    #   it with a ValueError (a wrong version; too many values to unpack);
    # - `start + 5 * count` for the length check: the terms of n words take over n - 2 bytes, so a value
    #   to_bytes wrote is never that short;
    # - rpartition for partition: tokens never contain a line break, so the text has exactly one.


def test_bands_are_fixed_across_runs_and_absent_for_short_texts() -> None:
    # A fixed value: any change of shingling, hashing or band layout changes it, and with it every key
    # already stored in Redis, so it must be a deliberate change.
    assert bands(fingerprint(TESTING)) == [
        "0:576de933", "1:a22ec1f8", "2:895231b7", "3:6217e147",
        "4:eecc1ee1", "5:90f24b4c", "6:9bcfa7c3", "7:97e20a75",
    ]  # fmt: skip
    assert len(bands(fingerprint(LATENCY))) == BANDS
    assert bands(fingerprint("I would use Redis for the session store here")) == []
    assert bands(fingerprint("")) == []


def test_lsh_candidate_rate_follows_jaccard() -> None:
    """Synthetic shingle sets with a controlled Jaccard: candidates at or above the threshold, few below."""
    rng = random.Random(20240601)
    high, low = [], []
    for _ in range(200):
        size = rng.randint(30, 150)
        jaccard = rng.choice([rng.uniform(NEAR_DUPLICATE_THRESHOLD, 1.0), rng.uniform(0.0, 0.5)])
        shared = round(2 * size * jaccard / (1 + jaccard))  # |A & B| for |A| = |B| = size
        common = {rng.getrandbits(32) for _ in range(shared)}
        a = common | {rng.getrandbits(32) for _ in range(size - shared)}
        b = common | {rng.getrandbits(32) for _ in range(size - shared)}
        fa, fb = (Fingerprint(frozenset(s), (), 0, size, ()) for s in (a, b))
        candidate = bool(set(bands(fa)) & set(bands(fb)))
        (high if similarity(fa, fb) >= NEAR_DUPLICATE_THRESHOLD else low).append(candidate)
    assert len(high) >= 50 and len(low) >= 50
    assert all(high), f"missed {high.count(False)} of {len(high)} pairs above the threshold"
    rate = sum(low) / len(low)
    at_half = 1 - (1 - 0.5**ROWS) ** BANDS  # the theoretical rate at J = 0.5, the top of the low range
    assert rate < min(at_half, 0.6), f"candidate rate {rate:.2f} at J <= 0.5 (theory at 0.5: {at_half:.2f})"
