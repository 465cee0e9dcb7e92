"""A request body: read as a stream under a cap, its media type checked, and read as strict JSON (the webhook
intake, the validation API, `brygga validate`).

Strict JSON: UTF-8, no duplicate keys, no NaN or Infinity, no number Python cannot hold (1e999, an integer over
Python's digit limit), no lone surrogate (``"\\ud800"``), nested at most as deep as the parser goes. Problems name
the rule and, for malformed JSON, the line and column: never the content, which is personal data.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

JSON_MEDIA_TYPE = "application/json"


class BodyProblem(Exception):
    """Why a body is refused: ``status`` is the HTTP answer (400, 413, 415, 422)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class JsonProblem(BodyProblem):
    """A body that is not strict JSON (400), or not the JSON object asked for (422). ``reason`` says why without
    naming the input ("not valid JSON: Expecting ',' delimiter at line 3, column 5"); ``detail`` is about "the
    body"."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, f"the body is {reason}")
        self.reason = reason


def check_media_type(content_type: str | None, also: Sequence[str] = ()) -> str:
    """The body's media type, lower-cased: ``application/json`` with at most a UTF-8 charset (JSON between systems
    is UTF-8, RFC 8259), or one of ``also`` (e.g. XML, whose declaration names its encoding). 415 otherwise."""
    media_type, *params = (part.strip() for part in (content_type or "").split(";"))
    media_type = media_type.lower()
    accepted = f"{JSON_MEDIA_TYPE} (UTF-8)" + (f", {' or '.join(also)}" if also else "")
    if media_type not in (JSON_MEDIA_TYPE, *also):
        raise BodyProblem(415, f"the body must be sent as Content-Type {accepted}")
    if media_type == JSON_MEDIA_TYPE:
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
                raise BodyProblem(415, f"the body must be sent as Content-Type {accepted}")
    return media_type


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


# A surrogate can only come from a \u escape (UTF-8 cannot encode one): look for a lone one only when such an escape
# is there at all.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(document: Any) -> bool:
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")  # the C encoder: fast, and exact about pairs
    except UnicodeEncodeError:
        return True
    return False


def read_json(body: bytes, *, any_value: bool = False) -> Any:
    """The strict JSON in ``body``: one object, or with ``any_value`` any JSON value. Raises `JsonProblem`: 400
    for what is not strict JSON, 422 for JSON that is not an object when one is asked for."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonProblem(400, f"not UTF-8 (at byte {exc.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants,
                              parse_int=_bounded_integer, parse_float=_finite_number)
        if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(document):
            raise _Refused("a \\u escape is half of a surrogate pair, which is no character")
    except json.JSONDecodeError as exc:
        # The decoder's message is the rule (e.g. "Expecting ',' delimiter"), never the text it read.
        raise JsonProblem(400, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except _Refused as exc:
        raise JsonProblem(400, f"not valid JSON: {exc}") from None
    except ValueError:  # anything else the decoder cannot take is the body's fault, never a 500
        raise JsonProblem(400, "not valid JSON: a value in it cannot be read") from None
    except RecursionError:
        raise JsonProblem(400, "not valid JSON here: it is nested too deeply") from None
    if not any_value and not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else "a single value"
        raise JsonProblem(422, f"{kind}, not a JSON object: a submission is one object")
    return document


def check_json_object(body: bytes) -> None:
    """One strict JSON object in UTF-8 (`read_json`): 400 for what is not JSON at all, 422 for JSON that is not an
    object."""
    read_json(body)
