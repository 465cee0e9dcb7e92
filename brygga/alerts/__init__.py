"""Alerts to the administrators: a quarantine, or a remote call failing for over half its retry budget, sent
through pluggable notifiers (e-mail, a webhook such as Microsoft Teams, the log), grouped so that an outage of one
target is one alert and one recovery notice (docs/alerts.md)."""

from brygga.alerts.alert import DELIVERY_FAILING, DELIVERY_RECOVERED, KINDS, QUARANTINE, Alert, Meanwhile, ReasonGroup
from brygga.alerts.config import AlertsConfig, NotifierSpec, load_alerts, parse_alerts
from brygga.alerts.evaluate import raise_alerts
from brygga.alerts.notifiers import Notifier, NotifierFailed, notifier_class

__all__ = ["DELIVERY_FAILING", "DELIVERY_RECOVERED", "KINDS", "QUARANTINE", "Alert", "AlertsConfig", "Meanwhile",
           "Notifier", "NotifierFailed", "NotifierSpec", "ReasonGroup", "load_alerts", "notifier_class",
           "parse_alerts", "raise_alerts"]
