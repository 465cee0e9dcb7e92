"""The REST target as a status feed: one configured GET "changes since <watermark>", its items read by JSON pointers.

Config ``changes`` (see config.py) says where the list is and where each change keeps its case, time, id and facts.
The call goes out on the target's own session (its auth, OAuth2 token renewal after a 401, URL guard, capped
answer reads), so a 5xx or a lost connection is ``TargetUnavailable`` and a 401 after renewal ``CredentialsRefused``,
as for a delivery. A change that cannot be read is skipped: logged with its index and the config pointer, never
the value (it may be anything the system holds), and counted in ``facts_seen["unreadable"]``, so one such item
does not hold back every later change. An answer that cannot be read as a whole (not JSON, no list of changes, no
usable ``until``) is ``TargetRejected``.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from brygga.errors import ConfigError, TargetRejected
from brygga.status.changes import CaseChange, ChangeBatch, DocumentRef, FetchedDocument
from brygga_adapters.rest import pointers
from brygga_adapters.rest.calls import Answer, RestCalls

log = logging.getLogger("brygga.adapters.rest.status")

MAX_TEXT_LENGTH = 200
UNREADABLE = "unreadable"  # facts_seen: items skipped as unreadable
CHANGE_FACT = "change"
DEFAULT_CHANGE = "status"


def rfc3339(moment: datetime) -> str:
    """``2026-11-30T08:00:00.5Z``-style UTC text (microseconds kept: the watermark is exclusive)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class RestStatusFeed:
    """``StatusFeed`` over config ``changes``; ``config`` None means the target has no feed configured."""

    def __init__(self, config: dict[str, Any] | None, calls: RestCalls, base: str, path_values: dict[str, str],
                 where: str) -> None:
        self.config = config
        self.calls = calls
        self.base = base
        self.path_values = path_values
        self.where = where  # "rest <connection id>"

    def changes(self, since: datetime) -> ChangeBatch:
        spec = self._spec()
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        where = f"{self.where}.changes"
        url = self.base + pointers.fill(spec["path"], self.path_values, where)
        answer = self.calls.call("changes", "GET", url, params={spec.get("since_param", "since"): rfc3339(since)})
        document = answer.json(where)
        items = pointers.get(document, spec.get("items", ""))
        if not isinstance(items, list):
            raise TargetRejected(f"{where}: the answer has no list at config changes/items "
                                 f"{spec.get('items', '')!r} (rule: changes)")
        changes: list[CaseChange] = []
        unreadable = 0
        for index, item in enumerate(items):
            try:
                changes.append(self._change(spec, item, index, where))
            except _Unreadable as exc:
                unreadable += 1
                log.warning("%s; it is skipped", exc)
        facts_seen = _facts_seen(changes)
        if unreadable:
            facts_seen[UNREADABLE] = unreadable
        until = self._until(spec, document, changes, since, _answered_at(answer), where)
        return ChangeBatch(changes=_in_case_order(changes), until=until, facts_seen=facts_seen)

    def fetch_document(self, document: DocumentRef) -> FetchedDocument:
        raise TargetRejected(f"{self.where}.document: the target has no document download configured "
                             "(rule: the rest status feed reports no documents)")

    # --- reading one answer -------------------------------------------------------------------------

    def _spec(self) -> dict[str, Any]:
        if not self.config:
            raise ConfigError(f"{self.where}: no status feed: the target's config (routes.yaml targets[].config) has "
                              "no 'changes' (rule: a status feed needs config changes)")
        return self.config

    def _change(self, spec: dict[str, Any], item: Any, index: int, where: str) -> CaseChange:
        def problem(key: str, pointer: str) -> _Unreadable:
            return _Unreadable(f"{where}: item {index} has no usable value at config changes/{key} {pointer!r} "
                               "(rule: changes)")

        def required(key: str, pointer: str) -> str:
            text = _text(pointers.get(item, pointer))
            if text is None:
                raise problem(key, pointer)
            return text

        case_ref = required("case_ref", spec["case_ref"])
        occurred_at = _moment(pointers.get(item, spec["at"]))
        if occurred_at is None:
            raise problem("at", spec["at"])
        facts = {name: required(f"facts/{name}", pointer) for name, pointer in spec["facts"].items()}
        extern_ref = None
        if "extern_ref" in spec:
            # A case Brygga did not create keeps no extern ref: absent or null is fine, anything else must be text.
            value = pointers.get(item, spec["extern_ref"])
            if value is not pointers.MISSING and value is not None:
                extern_ref = _text(value)
                if extern_ref is None:
                    raise problem("extern_ref", spec["extern_ref"])
        if "id" in spec:
            change_id = required("id", spec["id"])
        else:
            described = ",".join(f"{name}={value}" for name, value in facts.items())
            change_id = f"{case_ref}:{described}:{rfc3339(occurred_at)}"
        facts.setdefault(CHANGE_FACT, DEFAULT_CHANGE)
        return CaseChange(case_ref=case_ref, change_id=change_id, occurred_at=occurred_at, facts=facts,
                          extern_ref=extern_ref)

    def _until(self, spec: dict[str, Any], document: Any, changes: list[CaseChange], since: datetime,
               answered_at: datetime, where: str) -> datetime:
        if "until" in spec:
            until = _moment(pointers.get(document, spec["until"]))
            if until is None:
                raise TargetRejected(f"{where}: the answer has no usable moment at config changes/until "
                                     f"{spec['until']!r} (rule: changes)")
        else:
            # The newest change's time, but never past the moment the system answered: a change dated in the future
            # would carry the watermark past every change the system records until then.
            until = min(max((change.occurred_at for change in changes), default=since), answered_at)
        return max(until, since)  # a watermark never moves back (a system clock set back, a replica behind)


class _Unreadable(TargetRejected):
    """One change of the answer cannot be read; the others can."""


def _answered_at(answer: Answer) -> datetime:
    """The answer's Date header (the system's clock), else now."""
    try:
        moment = parsedate_to_datetime(answer.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # RFC 9110: always GMT


def _text(value: Any) -> str | None:
    """A reference, id or code as text: a string or an integer, printable, not blank, at most 200 characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if text.strip() and len(text) <= MAX_TEXT_LENGTH and text.isprintable() else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None  # a time without an offset is ambiguous


def _in_case_order(changes: list[CaseChange]) -> list[CaseChange]:
    """The answer's order across cases; each case's own changes, in the places they hold, by time and then id, so
    a case's last change is its latest however the system lists them."""
    places: dict[str, list[int]] = {}
    for place, change in enumerate(changes):
        places.setdefault(change.case_ref, []).append(place)
    ordered = list(changes)
    for held in places.values():
        by_time = sorted((changes[place] for place in held), key=lambda change: (change.occurred_at, change.change_id))
        for place, change in zip(held, by_time, strict=True):
            ordered[place] = change
    return ordered


def _facts_seen(changes: list[CaseChange]) -> dict[str, int]:
    """``{"status=closed": 2, ...}`` for the run's log: codes only."""
    return dict(Counter(f"{name}={value}" for change in changes for name, value in change.facts.items()))
