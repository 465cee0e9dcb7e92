"""The adapter contract, and how adapters are found: through the ``brygga.adapters`` entry-point group.

A third party adds an adapter by registering a class in its own package::

    [project.entry-points."brygga.adapters"]
    my-case-system = "my_package.adapter:MyCaseTarget"

Every adapter class declares ``config_spec``, a JSON Schema for its route-level config, with secret
fields marked ``"x-secret": true`` (secrets themselves come from Connections, never route files).
It is constructed as ``AdapterClass(config: dict, connection: Connection | None)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol, runtime_checkable

from brygga.connections import Connection
from brygga.errors import ConfigError

ENTRY_POINT_GROUP = "brygga.adapters"


@dataclass(frozen=True)
class IncomingItem:
    """One raw submission as a source adapter found it. Its bytes are read as a stream, never whole.

    ``open()`` returns a fresh binary reader each time; intake copies it into the landing store in chunks, so a
    submission with a 50 MB drawing costs no more memory than a small one.
    """

    name: str  # e.g. the inbox file name; used for provenance only, never as a path
    location: str  # where it came from, for the ledger
    open: Callable[[], BinaryIO] = field(repr=False)
    size: int | None = None  # when the source knows it up front


@dataclass(frozen=True)
class StoredDocument:
    """An attachment already decoded into the content store."""

    name: str
    media_type: str
    size: int
    sha256: str
    path: Path


@dataclass(frozen=True)
class Amendment:
    """The submission changes a case the target already holds: the same e-service reference, new content.

    The target adds it to the existing case (for a case system: a new handelse with the new documents) instead of
    creating another one. ``changed_fields`` names what differs from the previous version (``parties``,
    ``details.bygglov``), never values.
    """

    external_ref: str  # the target's reference of the existing case, e.g. the diarienummer
    revision: int  # 2 for the first amendment
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryRequest:
    submission_id: str
    idempotency_key: str  # unique per submission version and target; safe as an Idempotency-Key header
    extern_ref: str  # stable reference the target keeps, used for check-before-create
    payload: dict[str, Any]  # the outbound mapping's output for this target
    case: dict[str, Any]  # the canonical case
    documents: list[StoredDocument] = field(default_factory=list)  # for an amendment: only the new ones
    amendment: Amendment | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    external_ref: str  # e.g. the diarienummer
    created: bool  # False when check-before-create found the case already there


@dataclass(frozen=True)
class PropertyRecord:
    """What a property register knows about one fastighetsbeteckning."""

    fastighetsbeteckning: str
    fastighetsnyckel: int | None = None  # FNR, the key ByggR and other case systems search by
    object_identity: str | None = None  # Lantmäteriet's UUID


@dataclass(frozen=True)
class Attachment:
    """A document for the resident, e.g. a decision: sent with a message, never logged."""

    name: str
    media_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class StatusUpdate:
    source_reference: str  # the e-service's id, e.g. Open ePlatform's FlowInstanceID
    status: str
    message: str
    external_ref: str | None = None  # set when the update reports the registration (confirmDelivery)
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class DigitalMail:
    recipient: str = field(repr=False)  # personnummer, 12 digits: never logged, never in an exception
    subject: str
    body: str  # plain text
    reference: str  # stable id of what is sent (a status event id): the same reference is the same message
    attachments: tuple[Attachment, ...] = ()


class Adapter(Protocol):
    config_spec: ClassVar[dict[str, Any]]

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None: ...


@runtime_checkable
class Source(Protocol):
    def poll(self) -> Iterator[IncomingItem]: ...

    def acknowledge(self, item: IncomingItem) -> None:
        """Called once the raw bytes are safely landed; the source may then remove or move the item."""


@runtime_checkable
class CaseTarget(Protocol):
    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt: ...


@runtime_checkable
class ArchiveTarget(Protocol):
    def deliver_package(self, package: Path) -> str: ...


class CallProgress(Protocol):
    """What a notifier has already sent for one update, kept in the ledger across attempts and runs.

    A notifier whose update takes several calls records each one right after it returns, and skips the ones
    already sent: a retry then repeats at most the call that was under way when the last attempt broke off.
    """

    def sent(self, call: str) -> bool: ...

    def record(self, call: str) -> None: ...


class NothingSentYet:
    """``CallProgress`` for a single attempt outside the pipeline (a test, a conformance run)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def sent(self, call: str) -> bool:
        return call in self.calls

    def record(self, call: str) -> None:
        self.calls.append(call)


@runtime_checkable
class StatusNotifier(Protocol):
    def notify(self, update: StatusUpdate, progress: CallProgress | None = None) -> None: ...


@runtime_checkable
class DigitalMailbox(Protocol):
    """The resident's digital mailbox (Mina meddelanden)."""

    def reachable(self, recipient: str) -> bool:
        """Whether the recipient has a mailbox this sender may reach (isReachable)."""

    def send(self, mail: DigitalMail) -> str:
        """Deliver the mail; the service's delivery reference."""


@runtime_checkable
class PropertyRegister(Protocol):
    def lookup(self, fastighetsbeteckning: str) -> PropertyRecord | None:
        """The register's record, or None when it has no such unit. Raise TargetUnavailable to be retried."""


# Optional on any adapter class: what it would refuse in a case, found at translate, before anything is created.
#
#     @classmethod
#     def preflight(cls, config: dict, case: dict, payload: dict | None) -> list[str]: ...
#
# ``config`` is the adapter's route config with defaults filled in; ``payload`` is the target's outbound mapping
# output (None for notifiers). No I/O; problems name fields and rules, never values.
PREFLIGHT = "preflight"


def configure(adapter: str, spec: dict[str, Any], config: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """Check ``config`` against an adapter's ``config_spec`` and fill in the spec's defaults.

    Errors name the adapter, the path and the rule; config never holds secrets, but values are left out anyway.
    """
    import jsonschema

    for error in jsonschema.Draft202012Validator(spec).iter_errors(config):
        path = "".join(f"/{p}" for p in error.absolute_path)
        raise ConfigError(f"{where}{path}: {error.message} (rule: {error.validator}, adapter {adapter!r})")
    defaults = {key: prop["default"] for key, prop in spec.get("properties", {}).items() if "default" in prop}
    return {**defaults, **config}


@functools.cache
def installed_entry_points(group: str = ENTRY_POINT_GROUP) -> dict[str, EntryPoint]:
    """The group's entry points by name, read once per process: reading them scans every installed distribution's
    metadata (tens of ms), and a routes file looks adapters up dozens of times in every task's DAG parse. A package
    installed later is seen by the next process, as with any import."""
    return {ep.name: ep for ep in entry_points(group=group)}


def adapter_class(name: str) -> type:
    """Look an adapter up by its entry-point name, with a clear error listing what is installed."""
    found = installed_entry_points()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"unknown adapter {name!r}; installed adapters: {known}")
    try:
        return found[name].load()
    except ImportError as exc:
        raise ConfigError(f"adapter {name!r} ({found[name].value}) could not be imported: {exc}") from exc
