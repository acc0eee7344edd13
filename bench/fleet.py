"""Local fake LLM providers standing in for the real catalogue of data/providers.json.

One `testing.fakes.FakeProvider` per enabled remote entry of the catalogue (eight today: groq,
groq-gpt-oss-120b, openrouter, mistral, gemini, gemini-2-5-flash-lite, cloudflare, cohere), each speaking
the entry's wire format and enforcing the entry's own free-tier limits: rpm, rpd, tpm, tpd, its daily or
monthly budgets (Cloudflare's in neurons, at the model's neuron rates), counted per key or per shared
owner (organisation, project, account) as the entry's limit_owner says, by its reset time zone. Entries
that spend one shared limit (one quota_id) share one counter. So a simulated day runs against the real
limits: a call the pool should not have sent is refused the way the provider refuses it, and counted in
the fake's `limit_refusals` (a pool overrun).

Keys: every key setting of the catalogue gets its own environment setting (`SIM_<SETTING>`, never the
real name, so a developer's real keys are never picked up) and its own key value; entries naming the same
setting (two Groq models on GROQ_API_KEY) get the same key, as they would in production.

Latency and failure mix per vendor, chosen to resemble the real service on its free tier:

| vendor      | wire       | latency (median) | failures injected per request                    |
| ----------- | ---------- | ---------------- | ------------------------------------------------ |
| groq        | openai     | 0.30 s           | 429/min 1%, 503 1%                               |
| cerebras    | openai     | 0.25 s           | 429/min 1%, 500 1% (counts max_tokens on arrival)|
| openrouter  | openai     | 1.50 s           | 429/min 6%, 502 3%, no choices 1%                |
| mistral     | openai     | 0.60 s           | 429/min 2%, 500 1%                               |
| gemini      | gemini     | 0.80 s           | 429/min 2%, 503 overloaded 2%, empty 1%          |
| cloudflare  | cloudflare | 0.50 s           | 500 2%, no result 1%                             |
| huggingface | openai     | 1.20 s           | 500 3%, cut-off body 1%, 30 s hang 0.5%          |
| sambanova   | openai     | 0.40 s           | 429/min 2%, 500 2%                               |
| cohere      | openai     | 0.70 s           | 500 1%, cut-off body 1%, connection dropped 0.5% |
| (other)     | its own    | 0.60 s           | 500 1%                                           |

Latency is drawn per request from a log-normal around the median (sigma 0.35), from a generator seeded
per provider, so a run repeats. The injected 429s are the fakes' own noise, not their limits: only
`limit_refusals` count what the limits refused.

`reply(body)` answers by the shape the request names (the prompts say "(LlmReview)" and so on):
LlmEvaluation, a batched evaluation (one item per answer), LlmReview (one comment per turn named in the
request), LlmQuestions (15 questions for the role named), LlmFollowUp (one question), LlmExample (an
example answer), else the old LlmNarrative. `job_kind(body)` says which of those a request was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.models import CRITERIA
from core.providers.catalogue import ProviderEntry, load_catalogue
from testing.fakes import FakeProvider, Flavour, Ledger, Outcome, Wire, recount
from testing.fakes import limits as fake_limits
from testing.model_replies import batch_sections, prompt_text, with_batches

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "data" / "providers.json"
LATENCY_SIGMA = 0.35


@dataclass(frozen=True)
class Profile:
    latency: float  # median, seconds
    failures: dict[Outcome, float]
    flavour: Flavour = "generic"
    counts_max_tokens_on_arrival: bool = False


PROFILES: dict[str, Profile] = {
    "groq": Profile(0.30, {"minute_limit": 0.01, "server": 0.01}, "groq"),
    "cerebras": Profile(0.25, {"minute_limit": 0.01, "server": 0.01}, counts_max_tokens_on_arrival=True),
    "openrouter": Profile(1.50, {"minute_limit": 0.06, "server": 0.03, "wrong_shape": 0.01}, "openrouter"),
    "mistral": Profile(0.60, {"minute_limit": 0.02, "server": 0.01}),
    "gemini": Profile(0.80, {"minute_limit": 0.02, "server": 0.02, "empty": 0.01}),
    "cloudflare": Profile(0.50, {"server": 0.02, "wrong_shape": 0.01}),
    "huggingface": Profile(1.20, {"server": 0.03, "garbage": 0.01, "slow": 0.005}),
    "sambanova": Profile(0.40, {"minute_limit": 0.02, "server": 0.02}),
    "cohere": Profile(0.70, {"server": 0.01, "garbage": 0.01, "down": 0.005}),
}
DEFAULT_PROFILE = Profile(0.60, {"server": 0.01})


class JitteredFake(FakeProvider):
    """A FakeProvider whose latency is drawn per request around its median."""

    def __init__(self, wire: Wire, *, seed: int = 0, **options: Any) -> None:
        super().__init__(wire, seed=seed, **options)
        self._jitter = random.Random(seed + 7919)

    def request_latency(self) -> float:
        median = super().request_latency()
        return self._jitter.lognormvariate(0.0, LATENCY_SIGMA) * median if median > 0 else median


@dataclass
class Fleet:
    fakes: dict[str, FakeProvider]
    entries: list[dict[str, Any]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def catalogue(self) -> dict[str, Any]:
        """The providers.json document pointing at the fakes, with the local evaluator last."""
        return {"providers": self.entries}

    def requests(self) -> dict[str, int]:
        """Requests each fake received, whatever it answered."""
        return {name: len(fake.received) for name, fake in self.fakes.items()}

    def outcomes(self) -> dict[str, dict[str, int]]:
        return {name: dict(fake.outcomes) for name, fake in self.fakes.items()}

    def limit_refusals(self) -> dict[str, dict[str, int]]:
        """Calls each fake refused by one of its limits: calls the pool should not have sent."""
        return {name: dict(fake.limit_refusals) for name, fake in self.fakes.items() if fake.limit_refusals}

    def recounted_overruns(self) -> dict[str, dict[str, int]]:
        """Per shared counter, the accepted calls at which a limit was exceeded, recounted from the log."""
        ledgers: dict[int, tuple[str, Ledger]] = {}
        for name, fake in self.fakes.items():
            if fake.ledger is not None:
                ledgers.setdefault(id(fake.ledger), (name, fake.ledger))
        found = {name: dict(recount(ledger)) for name, ledger in ledgers.values()}
        return {name: over for name, over in found.items() if over}

    def tokens_by_kind(self) -> dict[str, tuple[int, int, int]]:
        """Per kind of job, the answered calls and their summed prompt and completion tokens, as the
        fakes counted them (what they reported as usage)."""
        calls: Counter[str] = Counter()
        prompt: Counter[str] = Counter()
        completion: Counter[str] = Counter()
        for fake in self.fakes.values():
            for received in fake.received:
                if received.outcome != "ok" or received.charge is None:
                    continue
                kind = job_kind(received.body)
                calls[kind] += 1
                prompt[kind] += received.charge.prompt_tokens
                completion[kind] += received.charge.completion_tokens
        return {kind: (calls[kind], prompt[kind], completion[kind]) for kind in calls}

    async def stop(self) -> None:
        for fake in self.fakes.values():
            with contextlib.suppress(Exception):
                await fake.stop()


def real_entries(path: Path = CATALOGUE) -> list[ProviderEntry]:
    """The catalogue's enabled entries that call a remote service (not `local`)."""
    return [entry for entry in load_catalogue(path) if entry.adapter != "local" and entry.enabled]


def limits_of(entry: ProviderEntry, profile: Profile = DEFAULT_PROFILE) -> fake_limits.Limits:
    """The entry's free-tier limits, as a fake enforces them."""
    neurons = entry.neurons
    return fake_limits.Limits(
        rpm=entry.rpm,
        rpd=entry.rpd,
        tpm=entry.tpm,
        tpd=entry.tpd,
        budgets=tuple(fake_limits.Budget(b.unit, b.per, b.amount) for b in entry.budgets),
        neurons=fake_limits.NeuronRates(neurons.input_per_million, neurons.output_per_million)
        if neurons
        else None,
        owner=entry.limit_owner,
        counts_max_tokens_on_arrival=profile.counts_max_tokens_on_arrival,
        timezone=entry.reset_timezone,
    )


def _wire(entry: ProviderEntry) -> Wire:
    adapter = entry.adapter
    if adapter == "local":
        raise ValueError("the local evaluator has no fake")
    return adapter


def _setting(name: str) -> str:
    return "SIM_" + name


def key_of(setting: str) -> str:
    return f"sim-{setting.lower().replace('_', '-')}"


async def start_fleet(seed: int = 0, path: Path = CATALOGUE) -> Fleet:
    """Start one fake per enabled remote catalogue entry, with its limits; the entries point at the
    fakes and `env` holds their keys."""
    fleet = Fleet(fakes={})
    ledgers: dict[str, Ledger] = {}
    try:
        for index, entry in enumerate(real_entries(path)):
            profile = PROFILES.get(entry.vendor, DEFAULT_PROFILE)
            keys = [key_of(setting) for setting in entry.key_settings]
            account = f"sim-{entry.vendor}-account"
            limits = limits_of(entry, profile)
            shared = entry.quota_id or entry.name
            ledger = ledgers.setdefault(shared, Ledger(limits))
            fake = JitteredFake(
                _wire(entry),
                reply=reply,
                failure_rates=profile.failures,
                latency=profile.latency,
                seed=seed * 1000 + index,
                flavour=profile.flavour,
                api_key=keys[0],
                extra_keys=keys[1:],
                account_id=account,
                ledger=ledger,
            )
            fleet.fakes[entry.name] = fake
            base_url = await fake.start()
            copy = entry.model_dump(mode="json", exclude={"notes", "source"}) | {
                "base_url": base_url,
                "key_settings": [_setting(s) for s in entry.key_settings],
                "enabled": True,
            }
            fleet.env |= {_setting(s): key for s, key in zip(entry.key_settings, keys, strict=True)}
            if entry.account_setting:
                copy["account_setting"] = _setting(entry.account_setting)
                fleet.env[copy["account_setting"]] = account
            fleet.entries.append(copy)
    except BaseException:
        await fleet.stop()
        raise
    fleet.entries.append({"name": "local", "adapter": "local", "rpm": 1000000, "rpd": 1000000000})
    return fleet


# --- replies -------------------------------------------------------------------------------------------

_TURN = re.compile(r'"turn"\s*:\s*(\d+)')
_ROLE = re.compile(r'^Role: "(.*)"$', re.M)
_ANSWER = re.compile(r"<candidate_answer>\n(.*?)\n</candidate_answer>", re.S)
_SCORE_TURNS = re.compile(r"^Score turns: ([\d,]+)$", re.M)
_TURN_ANSWER = re.compile(r"Turn (\d+):\n<candidate_answer>\n(.*?)\n</candidate_answer>", re.S)
_REASONS = {
    1: "Does not address the question.",
    2: "Touches the topic but stays vague.",
    3: "Covers the basics with few specifics.",
    4: "Solid and concrete.",
    5: "Excellent: specific, structured and measured.",
}


def _rng(text: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def _evaluation(text: str) -> dict[str, Any]:
    """One answer's evaluation, for a prompt holding it between <candidate_answer> delimiters."""
    found = _ANSWER.search(text)
    return _evaluation_of(found.group(1) if found else "", text)


def _evaluation_of(answer: str, seed: str = "") -> dict[str, Any]:
    rng = _rng(seed or answer)
    scores = {c: rng.choice((2, 3, 3, 4, 4, 4, 5)) for c in CRITERIA}
    words = answer.split()
    evidence = [" ".join(words[:6])] if len(words) >= 6 else []
    return {c: {"score": s, "reason": _REASONS[s]} for c, s in scores.items()} | {
        "evidence": evidence,
        "improvement": rng.choice(
            [
                "Quantify the result: what changed, by how much, and how you measured it.",
                "Name the trade-off you made and what you gave up for it.",
                "Say what you did yourself rather than what the team did.",
                "Open with the situation in one sentence, then get to your action.",
            ]
        ),
        "covered_points": [],
        "missed_points": [],
    }


def _review(text: str) -> dict[str, Any]:
    turns = sorted({int(n) for n in _TURN.findall(text) if 1 <= int(n) <= 15})
    # Turns the review is asked to score (those only the built-in evaluator scored), each as its answer
    # alone would be.
    asked = _SCORE_TURNS.search(text)
    to_score = {int(n) for n in asked.group(1).split(",")} if asked else set()
    answers = {int(turn): answer for turn, answer in _TURN_ANSWER.findall(text)}
    scores = [{"turn": turn, **_evaluation_of(answers.get(turn, ""))} for turn in sorted(to_score)]
    return {"scores": scores} | {
        "summary": "A steady interview: clear structure in most answers, with room for sharper results.",
        "strengths": [f"Concrete actions in turn {turns[0] if turns else 1}", "A calm, logical structure"],
        "improvements": ["Quantify outcomes", "Name the trade-offs you weighed"],
        "answers": [
            {"turn": turn, "comment": f"Turn {turn}: good start; add a measured result."} for turn in turns
        ],
    }


_TECHNICAL = [
    ("How would you design {x} for a team working as a {role}?", ["design", "scal"], ["trade", "cost"]),
    ("Walk me through debugging a failing {x} in production.", ["log", "metric"], ["root", "cause"]),
    ("Which tools would you choose for {x}, and why?", ["tool", "choos"], ["why", "compar"]),
    ("How do you test {x} before it reaches users?", ["test", "autom"], ["review", "stag"]),
    ("Explain how you would make {x} faster.", ["profil", "measur"], ["cach", "bottleneck"]),
    ("What can go wrong with {x} at ten times today's load?", ["load", "capacit"], ["fail", "retry"]),
    ("How would you migrate {x} with no downtime?", ["migrat", "rollback"], ["flag", "increment"]),
    ("How do you keep {x} secure?", ["secur", "access"], ["secret", "audit"]),
]
_BEHAVIORAL = [
    "Tell me about a time you disagreed with a colleague about {x}.",
    "Describe a project on {x} that failed and what you learned.",
    "Tell me about a deadline you missed while working on {x}.",
    "Describe how you mentored someone new to {x}.",
    "Tell me about a decision on {x} you made with incomplete data.",
    "Describe a time you had to explain {x} to a non-technical stakeholder.",
    "Tell me about the piece of work on {x} you are proudest of.",
]
_SUBJECTS = ["the data pipeline", "the release process", "an internal API", "the monitoring stack",
             "a customer-facing feature", "the on-call rota", "a legacy system", "the test suite"]  # fmt: skip


def _questions(text: str) -> dict[str, Any]:
    found = _ROLE.search(text)
    role = found.group(1) if found else "the role"
    rng = _rng(role.casefold())
    questions = []
    for index in range(15):
        subject = rng.choice(_SUBJECTS)
        if index % 2 == 0:
            template, first, second = _TECHNICAL[(index // 2) % len(_TECHNICAL)]
            question_text = template.format(x=subject, role=role)
            points = [
                {"text": "Explains the approach step by step", "terms": first},
                {"text": "Weighs the trade-offs and risks", "terms": second},
            ]
            kind = "technical"
        else:
            question_text = _BEHAVIORAL[(index // 2) % len(_BEHAVIORAL)].format(x=subject)
            points = [
                {"text": "Sets out the situation and own task", "terms": ["situation", "task"]},
                {"text": "Describes own actions", "terms": ["action", "decid", "led"]},
                {"text": "States a measured result", "terms": ["result", "percent"]},
            ][: rng.choice((2, 3))]
            kind = "behavioral"
        questions.append({"kind": kind, "text": question_text, "key_points": points})
    return {"questions": questions}


def job_kind(body: Any) -> str:
    """Which kind of job a request is, by the reply shape its prompt names."""
    text = prompt_text(body)
    if batch_sections(body):
        return "evaluate (batched)"
    for shape, kind in (
        ("LlmReview", "report"),
        ("LlmQuestions", "questions"),
        ("LlmEvaluation", "evaluate"),
        ("LlmFollowUp", "follow_up"),
        ("LlmExample", "example"),
    ):
        if shape in text:
            return kind
    return "other"


# An example answer's reply: 84 words (the prompt asks for 150-300; the app takes any of 40 characters or
# more, and a shorter one only lowers the fakes' token counts a little).
_EXAMPLE = (
    "In my last role our nightly data pipeline missed its deadline twice a week. I owned the fix. I "
    "measured each stage, found that one join re-read the whole customer table, and replaced it with an "
    "incremental load keyed on the change date. I added an alert on the stage's duration and a test "
    "with a month of production-sized data. The run went from five hours to forty minutes, and we have "
    "not missed the deadline since. I learned to measure before changing anything."
)


def _single(body: Any) -> str:
    """The reply to any prompt but a batched evaluation, by the reply shape the prompt names."""
    text = prompt_text(body)
    if "LlmReview" in text:
        return json.dumps(_review(text))
    if "LlmQuestions" in text:
        return json.dumps(_questions(text))
    if "LlmEvaluation" in text:
        return json.dumps(_evaluation(text))
    if "LlmFollowUp" in text:
        return json.dumps({"question": "What did you measure to know that it had worked?"})
    if "LlmExample" in text:
        return json.dumps({"answer": _EXAMPLE})
    return json.dumps(
        {
            "summary": "A steady interview with clear structure and room for sharper results.",
            "strengths": ["Clear structure"],
            "improvements": ["Quantify outcomes"],
        }
    )


# A batched evaluation is answered item by item, each item as its answer alone would be.
reply = with_batches(_single, _evaluation_of)
