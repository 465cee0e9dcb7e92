"""Notifiers: where alerts go. Pluggable like adapters, with three built in.

A notifier is a class with ``config_spec`` (a JSON Schema for its ``config`` in the routes file), constructed as
``NotifierClass(config: dict, connection: Connection | None)``, with one method, ``send(alert)``, which returns when
the alert has gone and raises when it has not (any exception: the alert stays due and is sent again next run).
``needs_connection`` says whether it must name a connection.

Built in: ``log`` (a warning in the task log). The rest come from the ``brygga.notifiers`` entry-point group: Brygga's
own ``smtp`` (e-mail) and ``webhook`` (JSON over HTTPS: Microsoft Teams, chat tools, an incident system) live with the
adapters (``adapters/alerting``), and a third party registers its own the same way::

    [project.entry-points."brygga.notifiers"]
    pager = "my_package.pager:PagerNotifier"
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from brygga.alerts.alert import Alert
from brygga.connections import Connection, ConnectionResolver
from brygga.errors import BryggaError, ConfigError
from brygga.plugins import installed_entry_points
from brygga.redact import redact

if TYPE_CHECKING:
    from brygga.alerts.config import AlertsConfig, NotifierSpec

ENTRY_POINT_GROUP = "brygga.notifiers"
BUILT_IN = {"log": "brygga.alerts.notifiers:LogNotifier"}

log = logging.getLogger("brygga.alerts")


@runtime_checkable
class Notifier(Protocol):
    def send(self, alert: Alert) -> None: ...


class NotifierFailed(BryggaError):
    """An alert did not go out. The message names the notifier, its connection and the rule, never a secret."""


def notifier_names() -> list[str]:
    return sorted({*BUILT_IN, *installed_entry_points(ENTRY_POINT_GROUP)})


def notifier_class(name: str) -> type:
    """A notifier by its name: a built-in, else an entry point of the ``brygga.notifiers`` group."""
    if name in BUILT_IN:
        module, _, attribute = BUILT_IN[name].partition(":")
        return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
    found = installed_entry_points(ENTRY_POINT_GROUP)
    if name not in found:
        raise ConfigError(f"unknown notifier {name!r}; known: {', '.join(notifier_names())}")
    try:
        return found[name].load()  # type: ignore[no-any-return]
    except ImportError as exc:
        raise ConfigError(f"notifier {name!r} ({found[name].value}) could not be imported: {exc}") from exc


class LogNotifier:
    """The alert as a warning in the log (the Airflow task log of the run's check): needs no server, so it is the
    bundled routes file's notifier, and a second channel beside e-mail."""

    config_spec: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False, "properties": {}}
    needs_connection: ClassVar[bool] = False

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        pass

    def send(self, alert: Alert) -> None:
        log.warning("ALERT %s\n%s", alert.subject, alert.text)


@dataclass
class Notifiers:
    """The configured notifiers, built on first use; one that cannot be built (a missing connection) counts as a
    failed send, logged once per run."""

    config: AlertsConfig
    connections: ConnectionResolver
    _built: dict[str, Notifier | None] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [spec.id for spec in self.config.notifiers]

    def _get(self, spec: NotifierSpec) -> Notifier | None:
        if spec.id not in self._built:
            try:
                connection = self.connections.get(spec.connection) if spec.connection else None
                self._built[spec.id] = notifier_class(spec.adapter)(spec.config, connection)
            except Exception as exc:
                log.warning("alerts: notifier %s (alerts/notifiers/%d) cannot be used: %s", spec.id, spec.index,
                            redact(str(exc)))
                self._built[spec.id] = None
        return self._built[spec.id]

    def send(self, spec: NotifierSpec, alert: Alert) -> bool:
        notifier = self._get(spec)
        if notifier is None:
            return False
        try:
            notifier.send(alert)
        except Exception as exc:  # any notifier's fault, a plugin's bug too: the run goes on, the alert stays due
            log.warning("alerts: %s did not take the %s alert of route %s (sent again next run): %s", spec.id,
                        alert.kind, alert.route_id, redact(str(exc)))
            return False
        log.info("alerts: %s alert of route %s sent to %s", alert.kind, alert.route_id, spec.id)
        return True

    def send_due(self, alert: Alert, due: list[str]) -> list[str]:
        """Send to each notifier in ``due``; the ids that took it."""
        return [spec.id for spec in self.config.notifiers if spec.id in due and self.send(spec, alert)]
