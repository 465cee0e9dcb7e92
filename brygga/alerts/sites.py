"""Which outage a failing call belongs to: the connection its call site calls through.

One system that is down is one outage however many routes call it: kumla-bygglov and kumla-felanmalan both report
to Open ePlatform through the connection ``oep_kumla``, so their ``@notify`` calls share the alert
``delivery:oep_kumla``. A call site without a connection (a folder archive) is an outage of its route alone:
``delivery:<route>:<site>``. Connection and route ids cannot hold a colon, so the two kinds of key never meet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from brygga.alerts.state import record_key
from brygga.retry import RetryPolicy
from brygga.routes import AdapterRef, Route

# The pipeline's names for its call sites besides the targets (brygga.pipeline.notify, translate, archive); spelled
# here so that the alerts do not import the pipeline, which imports them.
NOTIFY = "@notify"
LOOKUP = "@property_lookup"
ARCHIVE = "@archive"


def call_site_ref(route: Route, site: str) -> AdapterRef | None:
    """The routes file's entry a call site calls through (a target, notify, the lookup, an archive); None when the
    route has no such site (any more)."""
    if site == NOTIFY:
        return route.notify
    if site == LOOKUP:
        return route.property_lookup
    if site == ARCHIVE:
        return route.archive
    if site.startswith(f"{ARCHIVE}:"):  # another kommun's archive, through the target that works for it
        target = next((t for t in route.targets if t.id == site.partition(":")[2]), None)
        return target.archive if target is not None else None
    return next((t for t in route.targets if t.id == site), None)


def retry_policy(route: Route, site: str) -> RetryPolicy:
    ref = call_site_ref(route, site)
    return ref.retry if ref is not None else RetryPolicy()


def call_sites(route: Route) -> list[str]:
    """Every call site a run of ``route`` may call."""
    sites = [t.id for t in route.targets]
    sites += [site for site, ref in ((NOTIFY, route.notify), (LOOKUP, route.property_lookup), (ARCHIVE, route.archive))
              if ref is not None]
    return sites + [f"{ARCHIVE}:{t.id}" for t in route.targets if t.archive is not None and t.tenant is not None]


@dataclass(frozen=True)
class Outage:
    """The calls one outage stops: each (route, call site) calling through one connection."""

    key: str  # its alerts row
    members: tuple[tuple[str, str], ...]  # (route id, call site), in the routes file's order
    connection: str | None = None

    @property
    def routes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(route for route, _ in self.members))

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(site for _, site in self.members))

    @property
    def label(self) -> str:
        """What the alert calls it: its call site (``byggr``, ``@notify``), or the sites when routes name it apart."""
        return ", ".join(self.sites)

    def as_memo(self) -> dict[str, object]:
        return {"members": [list(m) for m in self.members], "connection": self.connection}

    @classmethod
    def from_memo(cls, key: str, memo: dict[str, object], route_id: str) -> Outage:
        """An outage as its alerts row remembers it: for one whose call sites left the routes file."""
        raw = memo.get("members")
        members = tuple((str(r), str(s)) for r, s in raw) if isinstance(raw, list) and raw else \
            ((route_id, str(memo.get("site", "?"))),)
        connection = memo.get("connection")
        return cls(key, members, connection if isinstance(connection, str) else None)


def outage_of(routes: Sequence[Route], route_id: str, site: str) -> Outage:
    """The outage a failing call of ``route_id`` at ``site`` is part of."""
    route = next((r for r in routes if r.id == route_id), None)
    ref = call_site_ref(route, site) if route is not None else None
    if ref is None or ref.connection is None:
        return Outage(record_key("delivery", route_id, site), ((route_id, site),))
    members = tuple(_through(routes, ref.connection))
    return Outage(record_key("delivery", ref.connection), members, ref.connection)


def outages_of_route(routes: Sequence[Route], route_id: str) -> dict[str, Outage]:
    """By key: every outage a call of ``route_id`` can be part of."""
    route = next((r for r in routes if r.id == route_id), None)
    found = (outage_of(routes, route_id, site) for site in (call_sites(route) if route is not None else []))
    return {outage.key: outage for outage in found}


def _through(routes: Iterable[Route], connection: str) -> Iterable[tuple[str, str]]:
    for route in routes:
        for site in call_sites(route):
            ref = call_site_ref(route, site)
            if ref is not None and ref.connection == connection:
                yield route.id, site
