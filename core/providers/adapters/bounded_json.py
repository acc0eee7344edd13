"""JSON from a provider, read only within limits: a body or a model's text too long, or nested too deep, is
refused before it is parsed. `json.loads` recurses once per level of nesting, so a reply of a few
kilobytes of brackets would otherwise raise RecursionError (no ValueError) from deep inside the parser."""

from __future__ import annotations

import json
import re
from typing import Any

# A provider's whole reply body, read at most this far (a longer one is not read to its end).
MAX_BODY_BYTES = 256 * 1024
# A model's text, in characters: no larger than the body that carried it.
MAX_TEXT_CHARS = MAX_BODY_BYTES
# The nesting of a model's JSON reply: every schema it is held to nests 6 deep at most (LlmQuestions).
MAX_JSON_DEPTH = 16
# The levels of a provider's envelope around the model's JSON: Cloudflare's JSON mode hands the model's
# object back inside result.response, so a body may nest this much deeper than the object it carries.
ENVELOPE_DEPTH = 4
MAX_BODY_DEPTH = MAX_JSON_DEPTH + ENVELOPE_DEPTH

# A string (to its closing quote, or to the end of the text if it has none) or one bracket. The string
# is matched possessively and may run to the end, so the scan is linear whatever the text.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)


class JsonTooLarge(ValueError):
    """A text too long or nested too deep to be parsed."""


def nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether the JSON text opens more than `max_depth` arrays or objects inside each other (brackets
    inside strings do not count)."""
    depth = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def loads_bounded(text: str, max_chars: int = MAX_TEXT_CHARS, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads, refusing (JsonTooLarge, a ValueError) a text longer or deeper than the limits."""
    if len(text) > max_chars:
        raise JsonTooLarge(f"{len(text)} characters, over the limit of {max_chars}")
    if nesting_exceeds(text, max_depth):
        raise JsonTooLarge(f"nested deeper than {max_depth} levels")
    return json.loads(text)
