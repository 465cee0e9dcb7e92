"""JSON pointers (RFC 6901) into request and answer bodies, and {placeholders} filled into paths.

Pure functions, no I/O. Errors name the pointer and the rule, never a value.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from brygga.errors import TargetRejected
from brygga_adapters.rest.config import PLACEHOLDER

MISSING: Any = object()


def tokens(pointer: str) -> list[str]:
    """``/a/b~1c`` -> ``["a", "b/c"]``; ``""`` is the whole document."""
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]] if pointer else []


def get(document: Any, pointer: str) -> Any:
    """The value at ``pointer``, or ``MISSING``."""
    current = document
    for token in tokens(pointer):
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return MISSING
    return current


def put(document: dict[str, Any], pointer: str, value: Any, where: str) -> None:
    """Set ``value`` at ``pointer``, making missing objects on the way; refuses to walk through a non-object."""
    *parents, last = tokens(pointer)
    current: Any = document
    for token in parents:
        if isinstance(current, dict):
            current = current.setdefault(token, {})
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            current = None
        if not isinstance(current, dict | list):
            raise TargetRejected(f"{where}: the body has no object at {pointer!r} to write into (rule: pointer)")
    if isinstance(current, dict):
        current[last] = value
    elif isinstance(current, list) and last.isdigit() and int(last) < len(current):
        current[int(last)] = value
    else:
        raise TargetRejected(f"{where}: the body has no object at {pointer!r} to write into (rule: pointer)")


def fill(template: str, values: dict[str, str], where: str, *, in_path: bool = True) -> str:
    """``template`` with each ``{name}`` replaced; in a path each value is one url-quoted segment.

    A value that would be a dot segment (``.``, ``..``) or empty is refused: a case id is the target's answer,
    and it must not walk the path elsewhere.
    """

    def value(match: Any) -> str:
        name = match.group(1)
        text = values.get(name)
        if text is None or text in ("", ".", ".."):
            raise TargetRejected(f"{where}: no usable value for the placeholder {{{name}}} (rule: placeholders)")
        return quote(text, safe="") if in_path else text

    return PLACEHOLDER.sub(value, template)
