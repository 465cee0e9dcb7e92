"""The routes file's ``alerts:`` section: the notifiers alerts go to, and how often a lasting outage is said again.

    alerts:
      notifiers:
        - {adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se, to: [it-drift@kumla.se]}}
        - {adapter: webhook, connection: alerts_teams}
      reminder_after: 24h

Checked against ``schemas/config/routes.schema.json`` (``#/$defs/alerts``), then each notifier's ``config`` against
its own ``config_spec``. Errors name the file and the path in it. ``BRYGGA_ADMIN_URL`` (optional) is the admin page
an alert links to.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from brygga.errors import ConfigError
from brygga.plugins import configure
from brygga.retry import parse_duration
from brygga.routes import ROUTES_SCHEMA, read_routes_document

DEFAULT_REMINDER = timedelta(hours=24)
ADMIN_URL_ENV = "BRYGGA_ADMIN_URL"


@dataclass(frozen=True)
class NotifierSpec:
    adapter: str
    connection: str | None = None
    config: dict[str, Any] = field(default_factory=dict)  # with the notifier's defaults filled in
    index: int = 0  # its place in the list: where problems point

    @property
    def id(self) -> str:
        """What the ledger remembers an alert was sent to: the notifier and its connection."""
        return f"{self.adapter}:{self.connection}" if self.connection else self.adapter


@dataclass(frozen=True)
class AlertsConfig:
    notifiers: tuple[NotifierSpec, ...] = ()
    reminder_after: timedelta | None = DEFAULT_REMINDER  # None: never
    admin_url: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.notifiers)


@cache
def _section_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(ROUTES_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/alerts", "$defs": schema["$defs"]})


def _problem(file: Path, error: jsonschema.ValidationError) -> str:
    where = f"{file}: /alerts{''.join(f'/{p}' for p in error.absolute_path)}"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "oneOf" and description:  # "not valid under any of the given schemas" helps nobody
        return f"{where}: expected {description[0].lower()}{description[1:]} (rule: oneOf)"
    return f"{where}: {error.message} (rule: {error.validator})"


def _notifier(file: Path, index: int, raw: dict[str, Any]) -> NotifierSpec:
    from brygga.alerts.notifiers import notifier_class

    where = f"{file}: /alerts/notifiers/{index}"
    try:
        cls = notifier_class(raw["adapter"])
    except ConfigError as exc:
        raise ConfigError(f"{where}/adapter: {exc}") from None
    connection = raw.get("connection")
    if getattr(cls, "needs_connection", False) and not connection:
        raise ConfigError(f"{where}: notifier {raw['adapter']!r} needs a connection (its server and credentials)")
    spec = getattr(cls, "config_spec", None)
    if spec is None:
        raise ConfigError(f"{where}: notifier {raw['adapter']!r} declares no config_spec")
    config = configure(raw["adapter"], spec, raw.get("config", {}), where=f"{where}/config")
    return NotifierSpec(raw["adapter"], connection, config, index)


def parse_alerts(document: Any, *, file: Path, env: dict[str, str] | None = None) -> AlertsConfig:
    """The ``alerts:`` section of a routes document; an empty config (no notifiers) when there is none."""
    env = dict(os.environ if env is None else env)
    admin_url = (env.get(ADMIN_URL_ENV) or "").strip() or None
    section = document.get("alerts") if isinstance(document, dict) else None
    if section is None:
        return AlertsConfig(admin_url=admin_url)
    errors = sorted(_section_validator().iter_errors(section), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid alerts section:\n  " + "\n  ".join(_problem(file, e) for e in errors))
    notifiers = tuple(_notifier(file, i, raw) for i, raw in enumerate(section.get("notifiers", [])))
    ids = [n.id for n in notifiers]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(f"{file}: /alerts/notifiers/{ids.index(twice[0], ids.index(twice[0]) + 1)}: notifier "
                          f"{twice[0]!r} is listed twice; each alert would go there twice")
    reminder = section.get("reminder_after", "24h")
    return AlertsConfig(notifiers, parse_duration(reminder) if reminder is not None else None, admin_url)


def load_alerts(routes_file: Path, env: dict[str, str] | None = None) -> AlertsConfig:
    return parse_alerts(read_routes_document(routes_file), file=routes_file, env=env)
