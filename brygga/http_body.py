"""A request body: read as a stream under a cap, and checked to be one JSON object (the webhook intake, the
validation API).

Problems name the rule and, for malformed JSON, the line and column: never the content, which is personal data.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import AsyncIterator
from typing import Any

JSON_MEDIA_TYPE = "application/json"


class BodyProblem(Exception):
    """Why a body is refused: ``status`` is the HTTP answer (400, 413, 415, 422)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check_media_type(content_type: str | None) -> None:
    """``application/json``, with at most a UTF-8 charset: JSON between systems is UTF-8 (RFC 8259)."""
    media_type, *params = (part.strip() for part in (content_type or "").split(";"))
    if media_type.lower() != JSON_MEDIA_TYPE:
        raise BodyProblem(415, f"the body must be sent as Content-Type {JSON_MEDIA_TYPE}")
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise BodyProblem(415, f"the body must be sent as Content-Type {JSON_MEDIA_TYPE} in UTF-8")


async def read_capped(chunks: AsyncIterator[bytes], cap: int, limit_name: str) -> bytes:
    """Every chunk of the body, or a 413 as soon as it passes ``cap`` (Content-Length is not trusted for it)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise BodyProblem(413, f"the body is over the limit of {cap:,} bytes ({limit_name})")
        parts.append(chunk)
    return b"".join(parts)


class _Refused(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        # Which value would count is the parser's guess: refuse rather than map the one the sender did not mean.
        raise _Refused("an object has the same key twice")
    return document


def _no_constants(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _bounded_integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # Python's guard against quadratic-time conversion: a bad body, not a server fault
        raise _Refused(f"an integer has more than {sys.get_int_max_str_digits()} digits") from None


def _finite_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 would be read as infinity, which JSON cannot say
        raise _Refused("a number is too large to be a finite number (over about 1.8e308)")
    return value


def check_json_object(body: bytes) -> None:
    """One strict JSON object in UTF-8: 400 for what is not JSON at all, 422 for JSON that is not an object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyProblem(400, f"the body is not UTF-8 (at byte {exc.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants,
                              parse_int=_bounded_integer, parse_float=_finite_number)
    except json.JSONDecodeError as exc:
        # The decoder's message is the rule (e.g. "Expecting ',' delimiter"), never the text it read.
        raise BodyProblem(400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") \
            from None
    except _Refused as exc:
        raise BodyProblem(400, f"the body is not valid JSON: {exc}") from None
    except ValueError:  # anything else the decoder cannot take is the body's fault, never a 500
        raise BodyProblem(400, "the body is not valid JSON: a value in it cannot be read") from None
    except RecursionError:
        raise BodyProblem(400, "the body is not valid JSON here: it is nested too deeply") from None
    if not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else "a single value"
        raise BodyProblem(422, f"the body is {kind}, not a JSON object: a submission is one object")
