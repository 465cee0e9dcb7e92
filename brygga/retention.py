"""Retention (gallring): a route's personal data is purged ``retention.keep_for`` after the submission is done.

What is purged, per submission: its raw bytes in the landing store, its attachments in the content store (each
only once no other submission that is not yet purged still refers to it), its canonical case
(``canonical_json``) and its ``source_name`` (a file name may carry a name or a personnummer). What stays in the
ledger: ids, states, times, the diarienummer (``external_ref``), the archive package (``archive_location``) and
the hashes (``content_sha256``, ``content_fingerprint``). ``purged_at`` says when; each purge is audited.

Which submissions are due, with ``updated_at`` (the time it reached its state) older than ``keep_for``:

- ``completed``: archived (when the route archives) and notified;
- ``duplicate``: the same canonical content as an earlier version; due once the version it repeats is completed
  (or superseded, or discarded);
- ``superseded``: a quarantined version replaced by a later one; due once a later version is completed (or
  discarded);
- ``discarded``: taken out of quarantine for good by an operator (``updated_at`` is when); its operator's reason
  goes too, from the quarantine rows and from the ``discard`` audit entry's detail (the entry stays).

Never a submission in any other state (landed, translated, delivered, archived: still on its way; quarantined:
waiting for an administrator). A completed or discarded version is held back while a later version of the same
e-service reference is still on its way or in quarantine, since delivering or archiving that amendment reads the
earlier versions' cases (a discarded one may have reached a target before it stopped). A later version that is
completed, superseded or discarded holds nothing back: none of them is going anywhere.

Safe to re-run after a crash: files are deleted first (a missing file is fine), then the row is updated and the
audit entry written in one transaction, guarded by ``purged_at IS NULL``; a run that stopped half-way is finished
by the next one. The same bytes sent again after a purge land again under the purged submission: the next run
deletes them again.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import delete, select, update

from brygga.canonical.serialize import loads_case
from brygga.ledger import AuditEntry, Delivery, Ledger, Quarantine, State, StatusEventRecord, Submission
from brygga.ledger.models import PersonKey
from brygga.routes import Route
from brygga.settings import Settings
from brygga.status.event import for_bus
from brygga.storage import ContentStore
from brygga.timeutil import as_utc

log = logging.getLogger(__name__)

# What source_name becomes: a neutral value, the same for every purged submission.
PURGED_NAME = "(purged)"
PURGEABLE = (State.COMPLETED, State.DUPLICATE, State.SUPERSEDED, State.DISCARDED)
# Versions that go nowhere any more: an earlier version need not wait for them.
FINAL = (State.COMPLETED, State.SUPERSEDED, State.DISCARDED)
ACTION = "purge"
PURGED_TEXT = "purged with the submission's personal data"

_SHA256_TOKEN = re.compile(r"[0-9a-f]{64}")
_IN_CHUNK = 500  # ids or references per IN (...) clause
# Rows changed this long before a run began are looked at again before each deletion (clock skew between workers).
_REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Purged:
    """One submission purged (or, in a dry run, that would be)."""

    submission_id: str
    state: str
    raw_deleted: bool  # False: another submission holds the same bytes, or the file was already gone
    attachments_deleted: int  # attachment files deleted (or to delete)
    attachments_kept: int  # attachments another submission still refers to
    bytes_freed: int
    relanded: bool = False  # purged before; its raw bytes were sent and landed again


@dataclass
class RouteReport:
    """What one route's purge did (``applied``) or would do (a dry run). Ids and counts only."""

    route_id: str
    keep_for: timedelta
    cutoff: datetime
    applied: bool
    purged: list[Purged] = field(default_factory=list)
    held_back: list[tuple[str, str]] = field(default_factory=list)  # (submission id, why, without personal data)

    @property
    def bytes_freed(self) -> int:
        return sum(p.bytes_freed for p in self.purged)

    def counts(self) -> dict[str, int]:
        return {"purged": sum(not p.relanded for p in self.purged),
                "relanded": sum(p.relanded for p in self.purged),
                "raw_files": sum(p.raw_deleted for p in self.purged),
                "attachment_files": sum(p.attachments_deleted for p in self.purged),
                "held_back": len(self.held_back),
                "bytes": self.bytes_freed}


@dataclass(frozen=True)
class _Due:
    submission_id: str
    state: str
    content_sha256: str
    source_name: str
    attachments: frozenset[str]


def format_duration(span: timedelta) -> str:
    """``90d``, ``36h``, ``15m`` or ``45s``: the largest unit that divides it, as the routes file writes it."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _utc(moment: datetime | None) -> datetime:
    return datetime.now(UTC) if moment is None else as_utc(moment)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start:start + _IN_CHUNK]


def _attachments(canonical_json: str | None) -> frozenset[str]:
    if not canonical_json:
        return frozenset()
    try:
        case = loads_case(canonical_json)
    except ValueError:  # not a case any more: every sha256-shaped token counts (still only deleted when unused)
        return frozenset(_SHA256_TOKEN.findall(canonical_json))
    return frozenset(a["sha256"] for a in case.get("attachments", []) if isinstance(a, dict) and "sha256" in a)


def _held_back(route: Route, candidate: Submission, versions: list[Submission]) -> str | None:
    """Why a candidate may not be purged yet (no personal data), or None."""
    others = [v for v in versions if v.id != candidate.id]
    if candidate.state in (State.COMPLETED, State.DISCARDED):
        if candidate.state == State.COMPLETED and route.archive is not None and candidate.archive_location is None:
            return "completed without an archive package"
        if candidate.revision is not None:
            for later in others:
                if later.revision is not None and later.revision > candidate.revision and later.state not in FINAL:
                    return (f"a later version (revision {later.revision}, submission {later.id}) is {later.state}; "
                            "it reads this version's case")
        return None
    if candidate.state == State.DUPLICATE:
        repeated = [v for v in others if v.revision is not None
                    and v.content_fingerprint == candidate.content_fingerprint]
        if not any(v.state in FINAL for v in repeated):
            return "the version it repeats is still on its way or in quarantine"
        return None
    if candidate.state == State.SUPERSEDED:
        if not any(v.revision is not None and candidate.revision is not None and v.revision > candidate.revision
                   and v.state in (State.COMPLETED, State.DISCARDED) for v in others):
            return "the version that replaced it is still on its way or in quarantine"
        return None
    return f"state {candidate.state} is never purged"  # not reached: the query asks for PURGEABLE states only


class _References:
    """What submissions that are not yet purged, outside this run's due set, still refer to.

    ``tokens``: every sha256-shaped token in their canonical cases (attachments, wherever they appear);
    ``raw``: their raw content hashes (the landing store is shared by every route).
    """

    def __init__(self, ledger: Ledger, exclude: set[str]) -> None:
        self._ledger = ledger
        self._exclude = exclude
        self.tokens: set[str] = set()
        self.raw: set[str] = set()
        self._read(None)

    def _read(self, since: datetime | None) -> None:
        query = select(Submission.id, Submission.content_sha256, Submission.canonical_json).where(
            Submission.purged_at.is_(None))
        if since is not None:
            query = query.where(Submission.updated_at >= since)
        with self._ledger.session() as s:
            for sid, sha256, canonical in s.execute(query.execution_options(yield_per=500)):
                if sid in self._exclude:
                    continue
                self.raw.add(sha256)
                if canonical:
                    self.tokens.update(_SHA256_TOKEN.findall(canonical))

    def refresh(self, since: datetime) -> None:
        """Add what rows changed since ``since`` (real clock) refer to: a run of the route going on meanwhile."""
        self._read(since)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _delete(path: Path) -> int:
    """Delete a file if it is there; returns the bytes freed (0 when it was already gone)."""
    size = _size(path)
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return size


def _detail(item: Purged, keep_for: timedelta) -> str:
    if item.relanded:
        return f"raw file landed again after the purge (the same bytes sent again): deleted, {item.bytes_freed} bytes"
    raw = "deleted" if item.raw_deleted else "not deleted (gone, or the same bytes belong to another submission)"
    return (f"gallring after {format_duration(keep_for)} ({item.state}): raw file {raw}; attachment files: "
            f"{item.attachments_deleted} deleted, {item.attachments_kept} kept for other submissions; "
            f"canonical case and source name cleared; {item.bytes_freed} bytes freed")


def _forget_texts(session, submission_id: str) -> None:  # type: ignore[no-untyped-def]
    """Quarantine reasons and a target's last error are text from outside (a file name, a target's fault text,
    masked by shape only): they go, their count and the steps' outcomes stay as the submission's history."""
    for row in session.scalars(select(Quarantine).where(Quarantine.submission_id == submission_id)):
        row.reasons = [f"{len(row.reasons)} reason(s), {PURGED_TEXT}"]
        if row.resolution_note:  # an operator's reason for a discard is free text too
            row.resolution_note = PURGED_TEXT
    # ... and so is the copy of it in the discard's audit entry; who discarded it, and when, stay.
    session.execute(update(AuditEntry).where(AuditEntry.submission_id == submission_id, AuditEntry.action == "discard")
                    .values(detail=PURGED_TEXT).execution_options(synchronize_session=False))
    # Nor can a purged submission be found by a resident's personnummer any more.
    session.execute(delete(PersonKey).where(PersonKey.submission_id == submission_id))
    session.execute(update(Delivery).where(Delivery.submission_id == submission_id).values(last_error=None))
    # A status event keeps its references and kind; the resident's text, document names and an officer's
    # free-text titles go (they may name someone).
    for event in session.scalars(select(StatusEventRecord).where(StatusEventRecord.submission_id == submission_id)):
        event.event_json = orjson.dumps(for_bus(orjson.loads(event.event_json))).decode()


def purge_route(ledger: Ledger, settings: Settings, route: Route, *, now: datetime | None = None,
                apply: bool = False, actor: str = "brygga") -> RouteReport:
    """Purge (``apply``) or list (a dry run) the route's submissions whose retention has run out at ``now``."""
    if route.retention is None:
        raise ValueError(f"route {route.id} has no retention (retention.keep_for in the routes file)")
    now = _utc(now)
    started = datetime.now(UTC)  # the real clock: rows the pipeline changes during this run are looked at again
    report = RouteReport(route.id, route.retention, now - route.retention, applied=apply)
    landing, content = ContentStore(settings.landing), ContentStore(settings.content)

    with ledger.session() as s:
        candidates = list(s.scalars(select(Submission).where(
            Submission.route_id == route.id, Submission.purged_at.is_(None), Submission.state.in_(PURGEABLE),
            Submission.updated_at <= report.cutoff).order_by(Submission.updated_at, Submission.id)))
        references = sorted({c.source_reference for c in candidates if c.source_reference is not None})
        versions: dict[str, list[Submission]] = {}
        for chunk in _chunks(references):
            for v in s.scalars(select(Submission).where(Submission.route_id == route.id,
                                                        Submission.source_reference.in_(chunk))):
                versions.setdefault(v.source_reference or "", []).append(v)

    due: list[_Due] = []
    for c in candidates:
        why = _held_back(route, c, versions.get(c.source_reference or "", []) if c.source_reference else [])
        if why is not None:
            report.held_back.append((c.id, why))
            continue
        due.append(_Due(c.id, c.state, c.content_sha256, c.source_name, _attachments(c.canonical_json)))

    due_ids = {d.submission_id for d in due}
    refs = _References(ledger, exclude=due_ids)
    # Within the due set, a shared file goes with the last submission that refers to it.
    pending_attachments = Counter(sha for d in due for sha in d.attachments)
    pending_raw = Counter(d.content_sha256 for d in due)

    for d in due:
        if apply:
            refs.refresh(started - _REFRESH_MARGIN)
        pending_attachments.subtract(d.attachments)
        pending_raw[d.content_sha256] -= 1
        raw_path = landing.path_for(d.content_sha256)
        delete_raw = pending_raw[d.content_sha256] == 0 and d.content_sha256 not in refs.raw
        gone = sorted(sha for sha in d.attachments if pending_attachments[sha] == 0 and sha not in refs.tokens)
        raw_there = delete_raw and raw_path.exists()
        paths = ([raw_path] if delete_raw else []) + [content.path_for(sha) for sha in gone]
        freed = sum(_delete(p) for p in paths) if apply else sum(_size(p) for p in paths)
        item = Purged(d.submission_id, d.state, raw_deleted=raw_there, attachments_deleted=len(gone),
                      attachments_kept=len(d.attachments) - len(gone), bytes_freed=freed)
        if apply and not _mark_purged(ledger, d, item, now=now, actor=actor, keep_for=route.retention):
            continue  # another purge got there first: it is audited once, by that one
        report.purged.append(item)

    report.purged.extend(_relanded(ledger, landing, route, refs, apply=apply, actor=actor, exclude=due_ids))
    counts = report.counts()
    log.info("retention %s: %s %d submission(s), %d raw and %d attachment file(s), %d bytes; %d landed again; "
             "%d held back", route.id, "purged" if apply else "due:", counts["purged"], counts["raw_files"],
             counts["attachment_files"], counts["bytes"], counts["relanded"], counts["held_back"])
    return report


def _mark_purged(ledger: Ledger, due: _Due, item: Purged, *, now: datetime, actor: str, keep_for: timedelta) -> bool:
    """Clear the personal columns and audit it, in one transaction; False if it was purged meanwhile."""
    with ledger.session() as s:
        done = s.execute(
            update(Submission)
            .where(Submission.id == due.submission_id, Submission.purged_at.is_(None), Submission.state == due.state)
            # updated_at keeps the time the submission reached its state; purged_at says when it was purged.
            .values(canonical_json=None, source_name=PURGED_NAME, purged_at=now, updated_at=Submission.updated_at)
            .execution_options(synchronize_session=False)).rowcount
        if done != 1:
            return False
        _forget_texts(s, due.submission_id)
        s.add(AuditEntry(actor=actor, action=ACTION, submission_id=due.submission_id,
                         detail=_detail(item, keep_for)))
    return True


def _relanded(ledger: Ledger, landing: ContentStore, route: Route, refs: _References, *, apply: bool, actor: str,
              exclude: set[str]) -> list[Purged]:
    """Purged submissions whose raw bytes are in the landing store again: the same file was sent again."""
    with ledger.session() as s:
        rows = list(s.execute(select(Submission.id, Submission.state, Submission.content_sha256).where(
            Submission.route_id == route.id, Submission.purged_at.is_not(None))))
    found: list[Purged] = []
    for sid, state, sha256 in rows:
        path = landing.path_for(sha256)
        if sid in exclude or sha256 in refs.raw or not path.exists():
            continue
        item = Purged(sid, state, raw_deleted=True, attachments_deleted=0, attachments_kept=0,
                      bytes_freed=_delete(path) if apply else _size(path), relanded=True)
        if apply:
            ledger.audit(actor, ACTION, sid, _detail(item, route.retention or timedelta(0)))
        found.append(item)
    return found


def purge(ledger: Ledger, settings: Settings, routes: Iterable[Route], *, route_id: str | None = None,
          now: datetime | None = None, apply: bool = False, actor: str = "brygga") -> list[RouteReport]:
    """Every route with a ``retention`` (or only ``route_id``); a dry run unless ``apply``."""
    chosen = [r for r in routes if route_id is None or r.id == route_id]
    if route_id is not None and not chosen:
        raise LookupError(f"no route with id {route_id!r}")
    return [purge_route(ledger, settings, r, now=now, apply=apply, actor=actor)
            for r in chosen if r.retention is not None]
