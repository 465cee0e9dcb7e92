"""What an alert says: one message about one route, in words an administrator acts on.

An alert carries ids, call sites, steps, counts and times, never values: reasons are the ledger's, already
redacted, with their numbers taken out (``grouping.reason_pattern``). The text names what happened, since when, how
many submissions, and the commands that show more (``brygga trace``, ``brygga quarantine list``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

QUARANTINE = "quarantine"
DELIVERY_FAILING = "delivery_failing"
DELIVERY_RECOVERED = "delivery_recovered"
KINDS = (QUARANTINE, DELIVERY_FAILING, DELIVERY_RECOVERED)

# Ids listed per alert or per reason group; the count says how many there are in all.
MAX_IDS = 10


@dataclass(frozen=True)
class ReasonGroup:
    """Quarantined submissions of one step with the same reason (its numbers and ids taken out)."""

    step: str
    reason: str
    count: int
    submission_ids: tuple[str, ...]  # the first MAX_IDS


@dataclass(frozen=True)
class Alert:
    kind: str  # one of KINDS
    route_id: str
    since: datetime  # the first quarantine of the alert, or when the site started failing
    submissions: int  # quarantined, or waiting on the failing site
    site: str | None = None  # a delivery's call site: a target id, "@notify", "@property_lookup", ...
    submission_ids: tuple[str, ...] = ()  # the first MAX_IDS
    groups: tuple[ReasonGroup, ...] = ()  # quarantine: by step and reason, biggest first
    until: datetime | None = None  # recovery: when the site was seen delivering again
    budget: timedelta | None = None  # delivery_failing: the site's retry budget
    reminder: bool = False  # delivery_failing: still failing, said again after ``reminder_after``
    admin_url: str | None = None  # BRYGGA_ADMIN_URL: the admin page, when configured

    @property
    def subject(self) -> str:
        if self.kind == QUARANTINE:
            return f"Brygga {self.route_id}: {_count(self.submissions)} quarantined"
        if self.kind == DELIVERY_FAILING:
            still = "still " if self.reminder else ""
            return f"Brygga {self.route_id}: {self.site} {still}failing since {_when(self.since)}"
        return f"Brygga {self.route_id}: {self.site} delivers again"

    @property
    def text(self) -> str:
        """The message in plain text, paragraphs apart."""
        return "\n\n".join(self.paragraphs())

    def paragraphs(self) -> list[str]:
        if self.kind == QUARANTINE:
            body = self._quarantine()
        elif self.kind == DELIVERY_FAILING:
            body = self._failing()
        else:
            body = self._recovered()
        if self.admin_url:
            body.append(f"Admin page: {self.admin_url}")
        return body

    def _quarantine(self) -> list[str]:
        groups = "\n".join(
            f"- {g.step}, {_count(g.count)}: {g.reason}\n  {_ids(g.submission_ids, g.count)}" for g in self.groups)
        example = self.submission_ids[0] if self.submission_ids else "ID"
        return [
            f"Route {self.route_id} quarantined {_count(self.submissions)} since {_when(self.since)}. A quarantined "
            "submission waits for an administrator: nothing more happens to it on its own.",
            f"By step and reason:\n{groups}",
            "What to do:\n"
            f"- brygga quarantine list --route {self.route_id}  (the list, grouped by reason)\n"
            f"- brygga trace {example}  (every step, attempt and answer of one submission)\n"
            "- fix the cause (a mapping, a connection, the target's data), then replay: brygga quarantine replay "
            f"--route {self.route_id} ...; or discard with a reason",
        ]

    def _failing(self) -> list[str]:
        budget = f" of its retry budget of {_duration(self.budget)}" if self.budget else " of its retry budget"
        opening = (f"Calls from route {self.route_id} to {self.site} have been failing since {_when(self.since)}, "
                   f"over half{budget}.")
        if self.reminder:
            opening = f"Still failing. {opening}"
        example = self.submission_ids[0] if self.submission_ids else "ID"
        return [
            opening,
            f"Waiting on {self.site}: {_count(self.submissions)}. {_ids(self.submission_ids, self.submissions)}",
            "Brygga keeps retrying with backoff; a submission whose budget is spent goes to quarantine.",
            "What to do:\n"
            f"- check that {self.site} is up and reachable, and that its connection (address, credentials, "
            "certificate) is valid\n"
            f"- brygga trace {example}  (each attempt and the answer the target gave)\n"
            f"- brygga quarantine list --route {self.route_id}  (what has already gone to quarantine)",
            f"One notice follows when {self.site} delivers again; no more alerts until then"
            + (", apart from a reminder." if not self.reminder else "."),
        ]

    def _recovered(self) -> list[str]:
        until = self.until or self.since
        return [
            f"Calls from route {self.route_id} to {self.site} deliver again (seen {_when(until)}), after failing "
            f"since {_when(self.since)} ({_duration(until - self.since)}).",
            f"{_count(self.submissions)} waited on it. Nothing is waiting on {self.site} now.",
            "What to do: nothing for the waiting submissions, they have gone on. Any that went to quarantine while "
            f"it was down: brygga quarantine list --route {self.route_id}, then replay them.",
        ]

    def as_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data, for a webhook that reads fields rather than text."""
        return {
            "source": "brygga",
            "kind": self.kind,
            "route": self.route_id,
            "site": self.site,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "reminder": self.reminder,
            "submissions": self.submissions,
            "submission_ids": list(self.submission_ids),
            "groups": [{"step": g.step, "reason": g.reason, "count": g.count,
                        "submission_ids": list(g.submission_ids)} for g in self.groups],
            "retry_budget_seconds": int(self.budget.total_seconds()) if self.budget else None,
            "subject": self.subject,
            "text": self.text,
            "admin_url": self.admin_url,
        }


def _count(n: int) -> str:
    return f"{n} submission{'' if n == 1 else 's'}"


def _ids(ids: tuple[str, ...], total: int) -> str:
    if not ids:
        return ""
    more = total - len(ids)
    return "ids: " + ", ".join(ids) + (f" and {more} more" if more > 0 else "")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(span: timedelta | None) -> str:
    seconds = int(span.total_seconds()) if span else 0
    if seconds >= 2 * 86400:
        days, hours = divmod(seconds // 3600, 24)
        return f"{days} d" + (f" {hours} h" if hours else "")
    if seconds >= 3600:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"
