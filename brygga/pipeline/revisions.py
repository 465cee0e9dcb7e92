"""Versions of one e-service submission. Open ePlatform exports a flow instance again when the resident adds
to it (a komplettering), under the same FlowInstanceID. Compared by their canonical content:

- the same content as an earlier version is a *duplicate*: nothing more is sent, archived or notified;
- other content is an *amendment*: revision 2, 3, …, added to the case the first version created.

docs/reliability.md has the whole model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from brygga.ledger import Submission

# Depth of the field names an amendment reports as changed: `parties`, `details.bygglov`.
_CHANGED_FIELD_DEPTH = 2


def fingerprint(case: dict[str, Any]) -> str:
    """sha256 of the case with sorted keys: the same content always gives the same fingerprint."""
    return hashlib.sha256(orjson.dumps(case, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class Version:
    revision: int | None  # None for a duplicate
    duplicate_of: str | None = None  # the earlier submission with the same content


def classify(earlier: Iterable[Submission], content_fingerprint: str) -> Version:
    """Which version a newly translated case is, given the earlier versions of its reference."""
    highest = 0
    for submission in earlier:
        if submission.content_fingerprint == content_fingerprint:
            return Version(revision=None, duplicate_of=submission.id)
        highest = max(highest, submission.revision or 0)
    return Version(revision=highest + 1)


def changed_fields(before: dict[str, Any], after: dict[str, Any], depth: int = _CHANGED_FIELD_DEPTH,
                   prefix: str = "") -> tuple[str, ...]:
    """Dotted names of the fields that differ, never their values: ``("details.bygglov", "attachments")``."""
    changed: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = f"{prefix}{key}"
        if depth > 1 and isinstance(old, dict) and isinstance(new, dict):
            changed.extend(changed_fields(old, new, depth - 1, f"{name}."))
        else:
            changed.append(name)
    return tuple(changed)


def new_attachments(earlier_cases: Iterable[dict[str, Any]], case: dict[str, Any]) -> list[dict[str, Any]]:
    """The attachments of ``case`` that no earlier version carried (by sha256)."""
    seen = {a["sha256"] for earlier in earlier_cases for a in earlier.get("attachments", [])}
    return [a for a in case.get("attachments", []) if a["sha256"] not in seen]
