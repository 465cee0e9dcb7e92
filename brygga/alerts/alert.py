"""What an alert says: one message about one route (or one outage of a connection several routes call through), in
words an administrator acts on.

An alert carries ids, call sites, steps, counts and times, never values: reasons are the ledger's, already
redacted, with their numbers, ids and file names taken out (``grouping.group_reasons``). The text names what
happened, since when, how many submissions, and the commands that show more or mend it (``brygga trace``,
``brygga quarantine list``, ``brygga quarantine replay``). Its length is bounded: at most MAX_GROUPS reasons with
MAX_IDS ids each, and counts for the rest, however many submissions it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

QUARANTINE = "quarantine"
DELIVERY_FAILING = "delivery_failing"
DELIVERY_RECOVERED = "delivery_recovered"
KINDS = (QUARANTINE, DELIVERY_FAILING, DELIVERY_RECOVERED)

# Ids listed per alert or per reason group; the count says how many there are in all.
MAX_IDS = 10
# Reason groups listed in a quarantine alert; the rest are counted in one line.
MAX_GROUPS = 10
# Routes named in a subject; the rest are counted (the text names them all).
SUBJECT_ROUTES = 3


@dataclass(frozen=True)
class ReasonGroup:
    """Quarantined submissions of one step with the same reason (its numbers and ids taken out)."""

    step: str
    reason: str
    count: int
    submission_ids: tuple[str, ...]  # the first MAX_IDS


@dataclass(frozen=True)
class Meanwhile:
    """Submissions of one route and step that went to quarantine during an outage, their retry budget spent."""

    route_id: str
    step: str
    count: int

    @property
    def replay(self) -> str:
        return f"brygga quarantine replay --route {self.route_id} --step {self.step}"


@dataclass(frozen=True)
class Alert:
    kind: str  # one of KINDS
    route_id: str  # the route; of an outage, the first route that calls through its connection
    since: datetime  # the first quarantine of the alert, or when the site started failing
    submissions: int  # quarantined, or waiting on the failing site
    site: str | None = None  # a delivery's call site: a target id, "@notify", "@property_lookup", ...
    submission_ids: tuple[str, ...] = ()  # the first MAX_IDS
    groups: tuple[ReasonGroup, ...] = ()  # quarantine: by step and reason, biggest first, at most MAX_GROUPS
    until: datetime | None = None  # recovery: when the site was seen delivering again
    budget: timedelta | None = None  # delivery_failing: the site's retry budget
    reminder: bool = False  # delivery_failing: still failing, said again after ``reminder_after``
    admin_url: str | None = None  # BRYGGA_ADMIN_URL: the admin page, when configured
    routes: tuple[str, ...] = ()  # an outage: every route calling through its connection (empty: route_id alone)
    connection: str | None = None  # an outage: the connection its calls go through
    quarantined: tuple[Meanwhile, ...] = ()  # an outage: gone to quarantine during it (no alerts of their own)

    @property
    def route_ids(self) -> tuple[str, ...]:
        return self.routes or (self.route_id,)

    @property
    def subject(self) -> str:
        if self.kind == QUARANTINE:
            return f"Brygga {self.route_id}: {_count(self.submissions)} quarantined"
        routes = _listed(self.route_ids, SUBJECT_ROUTES, "route")
        if self.kind == DELIVERY_FAILING:
            still = "still " if self.reminder else ""
            return f"Brygga {routes}: {self.site} {still}failing since {_when(self.since)}"
        return f"Brygga {routes}: {self.site} delivers again"

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
        lines = [f"- {g.step}, {_count(g.count)}: {g.reason}\n  {_ids(g.submission_ids, g.count)}" for g in self.groups]
        rest = self.submissions - sum(g.count for g in self.groups)
        if rest > 0:
            lines.append(f"- other reasons, {_count(rest)}: brygga quarantine list --route {self.route_id}")
        example = self.submission_ids[0] if self.submission_ids else "ID"
        return [
            f"Route {self.route_id} quarantined {_count(self.submissions)} since {_when(self.since)}. A quarantined "
            "submission waits for an administrator: nothing more happens to it on its own.",
            "By step and reason:\n" + "\n".join(lines),
            "What to do:\n"
            f"- brygga quarantine list --route {self.route_id}  (the list, grouped by reason)\n"
            f"- brygga trace {example}  (every step, attempt and answer of one submission)\n"
            "- fix the cause (a mapping, a connection, the target's data), then replay: brygga quarantine replay "
            f"--route {self.route_id} ...; or discard with a reason",
        ]

    def _calls(self) -> str:
        routes = _listed(self.route_ids, len(self.route_ids), "route")
        through = f" (connection {self.connection})" if self.connection else ""
        return f"Calls from {'routes' if len(self.route_ids) > 1 else 'route'} {routes} to {self.site}{through}"

    def _failing(self) -> list[str]:
        budget = f" of its retry budget of {_duration(self.budget)}" if self.budget else " of its retry budget"
        opening = f"{self._calls()} have been failing since {_when(self.since)}, over half{budget}."
        if self.reminder:
            opening = f"Still failing. {opening}"
        example = self.submission_ids[0] if self.submission_ids else "ID"
        body = [
            opening,
            f"Waiting on {self.site}: {_count(self.submissions)}. {_ids(self.submission_ids, self.submissions)}",
            "Brygga keeps retrying with backoff; a submission whose budget is spent goes to quarantine, and is "
            "counted in this outage's notices rather than alerted on its own.",
        ]
        if self.quarantined:
            body.append(self._meanwhile("So far") + f" Replay them once {self.site} delivers again.")
        steps = [f"check that {self.site} is up and reachable, and that its connection (address, credentials, "
                 "certificate) is valid",
                 f"brygga trace {example}  (each attempt and the answer the target gave)"]
        steps += [f"brygga quarantine list --route {r}  (what has already gone to quarantine)" for r in self.route_ids]
        body += [
            "What to do:\n" + "\n".join(f"- {step}" for step in steps),
            f"One notice follows when {self.site} delivers again; no more alerts until then"
            + (", apart from a reminder." if not self.reminder else "."),
        ]
        return body

    def _recovered(self) -> list[str]:
        until = self.until or self.since
        body = [
            f"{self._calls()} deliver again (seen {_when(until)}), after failing since {_when(self.since)} "
            f"({_duration(until - self.since)}).",
            f"{_count(self.submissions)} waited on it. Nothing is waiting on {self.site} now.",
        ]
        if not self.quarantined:
            return [*body, "What to do: nothing, the waiting submissions have gone on."]
        return [*body, self._meanwhile("During the outage") + " No alert of their own was sent. Replay them now that "
                f"{self.site} delivers again (a replay never makes a second case):\n"
                + "\n".join(f"- {m.replay}  ({_count(m.count)})" for m in self.quarantined)]

    def _meanwhile(self, when: str) -> str:
        total = sum(m.count for m in self.quarantined)
        return (f"{when}, {_count(total)} went to quarantine, {'its' if total == 1 else 'their'} retry budget "
                "spent.")

    def as_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data, for a webhook that reads fields rather than text."""
        return {
            "source": "brygga",
            "kind": self.kind,
            "route": self.route_id,
            "site": self.site,
            "routes": list(self.route_ids),
            "connection": self.connection,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "reminder": self.reminder,
            "submissions": self.submissions,
            "submission_ids": list(self.submission_ids),
            "groups": [{"step": g.step, "reason": g.reason, "count": g.count,
                        "submission_ids": list(g.submission_ids)} for g in self.groups],
            "quarantined": [{"route": m.route_id, "step": m.step, "count": m.count} for m in self.quarantined],
            "retry_budget_seconds": int(self.budget.total_seconds()) if self.budget else None,
            "subject": self.subject,
            "text": self.text,
            "admin_url": self.admin_url,
        }


def _count(n: int) -> str:
    return f"{n} submission{'' if n == 1 else 's'}"


def _listed(names: Sequence[str], most: int, noun: str) -> str:
    """``a, b and c``; past ``most`` names, ``a, b and 3 more routes``."""
    shown = list(names[:most])
    more = len(names) - len(shown)
    if more > 0:
        return f"{', '.join(shown)} and {more} more {noun}{'' if more == 1 else 's'}"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


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
