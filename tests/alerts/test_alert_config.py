"""The routes file's ``alerts:`` section: the bundled one, the documented example, and errors that name the file and
the path in it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from brygga.alerts import load_alerts, parse_alerts
from brygga.errors import ConfigError
from brygga.routes import parse_routes, read_routes_document
from brygga.settings import REPO_ROOT

FILE = Path("/etc/brygga/routes.yaml")
EXAMPLE = """
alerts:
  notifiers:
    - {adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se, to: [it-drift@kumla.se]}}
    - {adapter: webhook, connection: alerts_teams}
  reminder_after: 24h
"""


def _alerts(text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse_alerts(yaml.safe_load(text), file=FILE, env=env or {})


def test_the_bundled_routes_file_alerts_to_the_log_which_needs_no_server():
    config = load_alerts(REPO_ROOT / "routes" / "routes.yaml", env={})
    assert [n.id for n in config.notifiers] == ["log"] and config.reminder_after == timedelta(hours=24)


def test_the_documented_example_with_an_admin_page():
    config = _alerts(EXAMPLE, env={"BRYGGA_ADMIN_URL": "https://airflow.kumla.se/brygga/"})
    smtp, webhook = config.notifiers
    assert (smtp.id, smtp.config) == ("smtp:alerts_smtp", {"from": "brygga@kumla.se", "to": ["it-drift@kumla.se"],
                                                           "subject_prefix": ""})
    assert (webhook.id, webhook.config) == ("webhook:alerts_teams", {"format": "text"})
    assert config.admin_url == "https://airflow.kumla.se/brygga/" and config.enabled


def test_no_section_or_no_notifiers_sends_nothing_and_null_never_reminds():
    assert not _alerts("routes: []").enabled
    config = _alerts("alerts: {reminder_after: null}")
    assert not config.enabled and config.reminder_after is None


@pytest.mark.parametrize(("text", "message"), [
    ("alerts: {notifiers: [{adapter: log, colour: red}]}",
     "/alerts/notifiers/0: Additional properties are not allowed ('colour' was unexpected) "
     "(rule: additionalProperties)"),
    ("alerts: {notifiers: [{connection: alerts_smtp}]}",
     "/alerts/notifiers/0: 'adapter' is a required property (rule: required)"),
    ("alerts: {reminder_after: tomorrow}", "/alerts/reminder_after: expected a duration (e.g. 24h) or null"),
    ("alerts: {notifiers: [{adapter: pager}]}",
     "/alerts/notifiers/0/adapter: unknown notifier 'pager'; known: log, smtp, webhook"),
    ("alerts: {notifiers: [{adapter: smtp, config: {to: [drift@kumla.se]}}]}",
     "/alerts/notifiers/0: notifier 'smtp' needs a connection"),
    ("alerts: {notifiers: [{adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se}}]}",
     "/alerts/notifiers/0/config: 'to' is a required property (rule: required, adapter 'smtp')"),
    ("alerts: {notifiers: [{adapter: smtp, connection: alerts_smtp, config: {to: [it-drift]}}]}",
     "/alerts/notifiers/0/config/to/0: 'it-drift' does not match"),
    ("alerts: {notifiers: [{adapter: webhook, connection: alerts_teams, config: {format: xml}}]}",
     "/alerts/notifiers/0/config/format: 'xml' is not one of"),
    ("alerts: {notifiers: [{adapter: log}, {adapter: webhook, connection: t}, {adapter: webhook, connection: t}]}",
     "/alerts/notifiers/2: notifier 'webhook:t' is listed twice"),
], ids=["unknown-key", "no-adapter", "bad-duration", "unknown-notifier", "smtp-without-connection",
        "smtp-without-to", "smtp-to-not-an-address", "unknown-format", "listed-twice"])
def test_a_wrong_alerts_section_names_the_file_and_the_path(text, message):
    with pytest.raises(ConfigError) as refused:
        _alerts(text)
    assert f"{FILE}: {message}" in str(refused.value)


def test_the_routes_schema_checks_the_section_with_the_routes(tmp_path):
    document = read_routes_document(REPO_ROOT / "routes" / "routes.yaml")
    document["alerts"]["notifier"] = document["alerts"].pop("notifiers")
    with pytest.raises(ConfigError, match=r"routes.yaml: /alerts: Additional properties are not allowed "
                                          r"\('notifier' was unexpected\)"):
        parse_routes(document, file=REPO_ROOT / "routes" / "routes.yaml", mappings_dir=REPO_ROOT / "mappings")
