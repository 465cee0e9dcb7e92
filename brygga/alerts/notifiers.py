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
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from brygga.alerts.alert import Alert
from brygga.connections import Connection
from brygga.errors import BryggaError, ConfigError

ENTRY_POINT_GROUP = "brygga.notifiers"
BUILT_IN = {"log": "brygga.alerts.notifiers:LogNotifier"}

log = logging.getLogger("brygga.alerts")


@runtime_checkable
class Notifier(Protocol):
    def send(self, alert: Alert) -> None: ...


class NotifierFailed(BryggaError):
    """An alert did not go out. The message names the notifier, its connection and the rule, never a secret."""


def notifier_names() -> list[str]:
    return sorted({*BUILT_IN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def notifier_class(name: str) -> type:
    """A notifier by its name: a built-in, else an entry point of the ``brygga.notifiers`` group."""
    if name in BUILT_IN:
        module, _, attribute = BUILT_IN[name].partition(":")
        return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
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
