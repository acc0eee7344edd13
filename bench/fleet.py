"""Ten local fake LLM providers standing in for the real catalogue of data/providers.json.

One `testing.fakes.FakeProvider` per enabled real entry of the catalogue (every entry but
`local` and the disabled duplicates gemini-openai, cloudflare-openai and together), each speaking the
entry's wire format with its name, rpm, rpd and number of keys, and a latency and failure mix chosen to
resemble the real service on its free tier:

| entry         | wire       | keys | rpm | rpd    | latency (median) | failures injected per request                   |
| ------------- | ---------- | ---- | --- | ------ | ---------------- | ----------------------------------------------- |
| groq          | openai     | 2    | 30  | 14400  | 0.30 s           | 429/min 1%, 503 1%                              |
| cerebras      | openai     | 1    | 30  | 14400  | 0.25 s           | 429/min 1%, 500 1%                              |
| openrouter    | openai     | 1    | 20  | 50     | 1.50 s           | 429/min 6%, 502 3%, no choices 1%               |
| mistral       | openai     | 1    | 60  | 5000   | 0.60 s           | 429/min 2%, 500 1%                              |
| gemini        | gemini     | 3    | 15  | 1000   | 0.80 s           | 429/min 2%, 503 overloaded 2%, empty 1%         |
| cloudflare    | cloudflare | 1    | 300 | 400    | 0.50 s           | 500 2%, no result 1%                            |
| huggingface   | openai     | 1    | 30  | 100    | 1.20 s           | 500 3%, cut-off body 1%, 30 s hang 0.5%         |
| github-models | openai     | 1    | 15  | 150    | 0.90 s           | 429/min 3%, 500 1%                              |
| sambanova     | openai     | 1    | 20  | 2000   | 0.40 s           | 429/min 2%, 500 2%                              |
| cohere        | openai     | 1    | 20  | 33     | 0.70 s           | 500 1%, cut-off body 1%, connection dropped 0.5%|

Latency is drawn per request from a log-normal around the median (sigma 0.35), from a generator seeded
per provider, so a run repeats. Quotas (rpm, rpd) are the catalogue's: the app's pool enforces them, the
fakes do not. Every key of an entry gets its own environment setting (`SIM_<SETTING>`), never the real
name, so a developer's real keys are never picked up; all keys of one entry share the fake's one key.

`reply(body)` answers by the JSON Schema the request embeds (pydantic's `"title"`): LlmEvaluation,
LlmReview (one comment per turn named in the request), LlmQuestions (15 questions for the role named),
else the old LlmNarrative.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.models import CRITERIA
from testing.fakes import FakeProvider, Flavour, Outcome, Wire

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "data" / "providers.json"
LATENCY_SIGMA = 0.35

# name -> (median latency in s, failure rates, flavour)
PROFILES: dict[str, tuple[float, dict[Outcome, float], Flavour]] = {
    "groq": (0.30, {"minute_limit": 0.01, "server": 0.01}, "groq"),
    "cerebras": (0.25, {"minute_limit": 0.01, "server": 0.01}, "generic"),
    "openrouter": (1.50, {"minute_limit": 0.06, "server": 0.03, "wrong_shape": 0.01}, "openrouter"),
    "mistral": (0.60, {"minute_limit": 0.02, "server": 0.01}, "generic"),
    "gemini": (0.80, {"minute_limit": 0.02, "server": 0.02, "empty": 0.01}, "generic"),
    "cloudflare": (0.50, {"server": 0.02, "wrong_shape": 0.01}, "generic"),
    "huggingface": (1.20, {"server": 0.03, "garbage": 0.01, "slow": 0.005}, "generic"),
    "github-models": (0.90, {"minute_limit": 0.03, "server": 0.01}, "generic"),
    "sambanova": (0.40, {"minute_limit": 0.02, "server": 0.02}, "generic"),
    "cohere": (0.70, {"server": 0.01, "garbage": 0.01, "down": 0.005}, "generic"),
}


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

    async def stop(self) -> None:
        for fake in self.fakes.values():
            with contextlib.suppress(Exception):
                await fake.stop()


def real_entries(path: Path = CATALOGUE) -> list[dict[str, Any]]:
    """The catalogue's enabled entries that call a remote service (not `local`)."""
    providers = json.loads(path.read_text("utf-8"))["providers"]
    return [p for p in providers if p.get("adapter") != "local" and p.get("enabled", True)]


def _setting(name: str) -> str:
    return "SIM_" + name


async def start_fleet(seed: int = 0, path: Path = CATALOGUE) -> Fleet:
    """Start one fake per profiled catalogue entry; the entries point at them and `env` holds their keys."""
    fleet = Fleet(fakes={})
    try:
        for index, entry in enumerate(e for e in real_entries(path) if e["name"] in PROFILES):
            name = entry["name"]
            latency, rates, flavour = PROFILES[name]
            api_key, account = f"sim-{name}-key", f"sim-{name}-account"
            fake = JitteredFake(
                entry["adapter"],
                reply=reply,
                failure_rates=rates,
                latency=latency,
                seed=seed * 1000 + index,
                flavour=flavour,
                api_key=api_key,
                account_id=account,
            )
            fleet.fakes[name] = fake
            base_url = await fake.start()
            copy = {k: v for k, v in entry.items() if k != "notes"} | {
                "base_url": base_url,
                "key_settings": [_setting(s) for s in entry["key_settings"]],
                "enabled": True,
            }
            fleet.env |= {_setting(s): api_key for s in entry["key_settings"]}
            if entry.get("account_setting"):
                copy["account_setting"] = _setting(entry["account_setting"])
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
    rng = _rng(text)
    scores = {c: rng.choice((2, 3, 3, 4, 4, 4, 5)) for c in CRITERIA}
    found = _ANSWER.search(text)
    words = (found.group(1) if found else "").split()
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
    return {
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


def _strings(value: Any) -> list[str]:
    """Every string in a request body: the prompt texts, whatever the wire format nests them in."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def reply(body: Any) -> str:
    """The reply a provider would give, by the JSON Schema the request embeds."""
    text = "\n".join(_strings(body))
    if "LlmReview" in text:
        return json.dumps(_review(text))
    if "LlmQuestions" in text:
        return json.dumps(_questions(text))
    if "LlmEvaluation" in text:
        return json.dumps(_evaluation(text))
    return json.dumps(
        {
            "summary": "A steady interview with clear structure and room for sharper results.",
            "strengths": ["Clear structure"],
            "improvements": ["Quantify outcomes"],
        }
    )
