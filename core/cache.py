"""The cache layer: evaluations keyed by the normalised job, so the same answer to the same question is
scored once. Values are compressed JSON; every key expires, so Redis may evict them freely."""

from __future__ import annotations

import hashlib
import re
import zlib

from core.connections import connections
from core.models import Evaluation
from core.settings import get_settings

_SPACE = re.compile(r"\s+")
# Bump when the evaluator's scoring changes, so old scores are not served for the new rubric.
EVALUATOR_VERSION = "local-v1"


def evaluation_key(question_id: str, answer: str) -> str:
    normalised = _SPACE.sub(" ", answer).strip()
    digest = hashlib.sha256(f"{EVALUATOR_VERSION}\x00{question_id}\x00{normalised}".encode()).hexdigest()
    return f"cache:eval:{digest}"


async def cached_evaluation(key: str) -> Evaluation | None:
    blob = await connections().redis().get(key)
    return Evaluation.model_validate_json(zlib.decompress(blob)) if blob else None


async def cache_evaluation(key: str, evaluation: Evaluation) -> None:
    blob = zlib.compress(evaluation.model_dump_json().encode(), level=6)
    await connections().redis().set(key, blob, ex=get_settings().evaluation_cache_ttl)
