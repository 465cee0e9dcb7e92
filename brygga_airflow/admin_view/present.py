"""How the admin view shows what the ledger holds: times in Swedish time, durations, a case's parties as lines,
the search form's fields, and dataclasses as JSON for the API."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from brygga.admin import SearchQuery
from brygga.admin.query import looks_personal
from brygga.provenance import AirflowRun

# A kommun's administrator reads and types times as Swedish wall-clock time.
ZONE = ZoneInfo("Europe/Stockholm")
PAGE_SIZE = 50


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def percent(rate: float) -> str:
    return f"{rate * 100:.0f} %"


def party_lines(party: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A party (or any nested value) as (field, value) lines: ``address.street``, ``roles``."""
    if isinstance(party, dict):
        lines: list[tuple[str, str]] = []
        for key, value in party.items():
            lines += party_lines(value, f"{prefix}{key}.")
        return lines
    if isinstance(party, list):
        return [(prefix.rstrip("."), ", ".join(str(item) for item in party))]
    return [(prefix.rstrip(".") or "value", "" if party is None else str(party))]


PERSONAL_TEXT = ("The search text looks like a personnummer, a phone number or an e-mail address, which are not "
                 "searched as text (nor shown, nor put in a link): use the personnummer field.")


class PersonalText(ValueError):
    """The free-text search holds what looks like personal data: not searched, and not written back."""

    def __init__(self) -> None:
        super().__init__(PERSONAL_TEXT)


def search_query(*, text: str | None = None, route: str | None = None, tenant: str | None = None,
                 state: str | None = None, since: datetime | None = None, until: datetime | None = None,
                 person_key: str | None = None) -> SearchQuery:
    """The ledger query of a search (page or API); PersonalText when the free text looks personal."""
    if looks_personal(text or ""):
        raise PersonalText
    return SearchQuery(text=text or None, route=route or None, tenant=tenant or None, state=state or None,
                       since=since, until=until, person_key=person_key)


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{field}: not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class SearchForm:
    """The search form as typed; dates are whole days in Swedish time, both ends included."""

    text: str = ""
    route: str = ""
    tenant: str = ""
    state: str = ""
    from_date: str = ""
    to_date: str = ""
    page: int = 1

    @classmethod
    def read(cls, values: Any) -> SearchForm:
        page = str(values.get("page") or "1")
        return cls(**{f: str(values.get(f) or "").strip() for f in ("text", "route", "tenant", "state",
                                                                        "from_date", "to_date")},
                   page=int(page) if page.isdigit() and int(page) > 0 else 1)

    def query(self, person_key: str | None = None) -> SearchQuery:
        """PersonalText when the text looks personal (checked first: the text is then never written back);
        ValueError naming the field when a date is not one."""
        query = search_query(text=self.text, route=self.route, tenant=self.tenant, state=self.state,
                             person_key=person_key)
        since, until = _day(self.from_date, "From"), _day(self.to_date, "To")
        return dataclasses.replace(
            query, since=datetime.combine(since, time(), ZONE) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), ZONE) if until else None)

    def params(self, **changes: Any) -> dict[str, str]:
        """The form as query parameters (for the next page's link), empty fields left out."""
        values = {**dataclasses.asdict(self), **changes}
        return {key: str(value) for key, value in values.items() if value not in ("", None) and
                not (key == "page" and value == 1)}


def jsonable(value: Any) -> Any:
    """Dataclasses, datetimes and lists as JSON values; an Airflow task instance also with its UI path."""
    if isinstance(value, AirflowRun):
        return {**{f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, "ui_path": value.ui_path()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value
