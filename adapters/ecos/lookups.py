"""GUIDs by name: what Ecos's Get* operations list, looked up once per connection and kept for a while.

A route config gives each Ecos id (process type, diary plan, document type...) as its GUID or by its name as an
Ecos administrator sees it. A GUID is used as it is, without a call. A name is looked up in the list its
catalog's operation returns, case-insensitively; the list is cached process-wide per connection
(``Connection.cache_key()``) for ``ttl`` seconds, so a worker asks once, not per delivery.

Some ids have no list operation in MinutMiljoService (occurrence types, case party roles: ``GetCasePartyRoles``
lists the parties *on one case*, not the role types), so those are given by GUID only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from brygga.errors import ConfigError
from brygga_adapters.ecos.replies import NamedId, normalise_guid, read_named_ids


@dataclass(frozen=True)
class Catalog:
    what: str  # for messages: "process type"
    operation: str | None  # the Get* operation that lists them; None: GUID only
    id_field: str = "Id"
    name_fields: tuple[str, ...] = ("Name",)


CATALOGS: dict[str, Catalog] = {
    "process_type": Catalog("process type", "GetProcessTypes"),
    "occurrence_type": Catalog("occurrence type", None),
    "amendment_occurrence_type": Catalog("occurrence type", None),
    "party_roles": Catalog("case party role", None),
    "diary_plan": Catalog("diary plan", "GetDiaryPlan", "DiarieplanId", ("Diarieplan", "DiarieplanBeteckning")),
    "handling_officer_group": Catalog("handling officer group", "GetHandlingOfficerGroups"),
    "document_type": Catalog("document type", "GetDocumentClassifications"),
    "document_status": Catalog("document status", "GetDocumentStatuses"),
}

ListCall = Callable[[str], etree._Element]  # operation name -> the reply's payload element


@dataclass(frozen=True)
class _Cached:
    entries: tuple[NamedId, ...]
    expires: float


_cache: dict[tuple[object, ...], _Cached] = {}
_cache_lock = threading.Lock()


def clear_lookup_cache() -> None:
    with _cache_lock:
        _cache.clear()


def check_value(key: str, value: str, where: str | None = None) -> None:
    """At construction: a name for an id whose catalog has no list operation can never be resolved."""
    catalog = CATALOGS[key]
    if catalog.operation is None and normalise_guid(value) is None:
        raise ConfigError(
            f"config {where or key!r}: give the {catalog.what} as its GUID; MinutMiljoService has no operation that "
            f"lists {catalog.what}s by name"
        )


class Resolver:
    """Resolves config values for one connection; ``list_call`` performs a Get* operation when a name needs it."""

    def __init__(self, cache_key: tuple[object, ...], list_call: ListCall, ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cache_key = cache_key
        self.list_call = list_call
        self.ttl = ttl
        self.clock = clock

    def resolve(self, key: str, value: str, where: str | None = None) -> str:
        """The GUID for ``value`` (a GUID or a name) of config ``key``; ``where`` names the config path."""
        where = where or key
        guid = normalise_guid(value)
        if guid is not None:
            return guid
        catalog = CATALOGS[key]
        if catalog.operation is None:
            check_value(key, value)
        wanted = value.strip().casefold()
        matches = {entry.id for entry in self.entries(catalog, where) if wanted in (n.casefold() for n in entry.names)}
        if not matches:
            # Names are code-list values an administrator configured, not personal data: but still left out.
            raise ConfigError(
                f"config {where!r}: Ecos lists no {catalog.what} by that name ({catalog.operation}); "
                "give its exact name or its GUID"
            )
        if len(matches) > 1:
            raise ConfigError(
                f"config {where!r}: Ecos lists {len(matches)} {catalog.what}s by that name ({catalog.operation}); "
                "give its GUID"
            )
        return matches.pop()

    def entries(self, catalog: Catalog, where: str) -> tuple[NamedId, ...]:
        assert catalog.operation is not None
        key = (*self.cache_key, catalog.operation)
        now = self.clock()
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None and cached.expires > now:
            return cached.entries
        # A failed call is not cached: the next delivery asks again.
        try:
            reply = self.list_call(catalog.operation)
        except ConfigError as exc:
            raise ConfigError(f"config {where!r}: {exc}") from None
        entries = tuple(read_named_ids(reply, catalog.operation, catalog.id_field, catalog.name_fields))
        with _cache_lock:
            _cache[key] = _Cached(entries, now + self.ttl)
        return entries
