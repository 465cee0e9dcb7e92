"""Alerts as JSON posted to a webhook: Microsoft Teams, a chat tool, or an incident system that reads fields.

The URL is the connection's (https only, TLS checked, through the same HTTP layer as the adapters'): for a Teams
incoming webhook, ``BRYGGA_CONN_ALERTS_TEAMS=https://kumla.webhook.office.com/webhookb2/...``. Such a URL is itself
the secret, which is why it lives in a connection. A URL with a query string (a Teams workflow's ``sig=...``) gives
it in the extra ``query``. Credentials, where the receiver wants them, are the connection's as for any HTTP
connection (extra ``auth``: ``bearer``, ``api_key`` or ``basic``; docs/connections.md).

The notifier's config picks the payload (``format``):

- ``text`` (the default): ``{"text": ...}``, which Teams incoming webhooks, Slack, Mattermost and Google Chat show;
- ``message-card``: a Teams connector card with a title and a colour;
- ``adaptive-card``: a Teams message with an Adaptive Card, as Teams workflows ("post to a channel when a webhook
  request is received") take it;
- ``json``: the alert's fields (``Alert.as_dict``) for a system that files them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from brygga.alerts.alert import DELIVERY_FAILING, DELIVERY_RECOVERED, Alert
from brygga.alerts.notifiers import NotifierFailed
from brygga.connections import Connection
from brygga.errors import ConfigError

# The adapters' HTTP layer: the https rule, the host guard, TLS trust and credentials in one place.
from brygga_adapters.http import build_session, endpoint_url, timeouts

FORMATS = ("text", "message-card", "adaptive-card", "json")
# Red for an outage, green for its end, amber for a quarantine.
_COLOURS = {DELIVERY_FAILING: "C4314B", DELIVERY_RECOVERED: "2E7D32"}
_QUARANTINE_COLOUR = "E8A33D"


def payload(alert: Alert, form: str) -> dict[str, Any]:
    """The JSON body for ``alert`` in one of FORMATS."""
    if form == "json":
        return alert.as_dict()
    if form == "message-card":
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": alert.subject,
            "themeColor": _COLOURS.get(alert.kind, _QUARANTINE_COLOUR),
            "title": alert.subject,
            "text": "\n\n".join(alert.paragraphs()),
        }
        if alert.admin_url:
            card["potentialAction"] = [{"@type": "OpenUri", "name": "Open the admin page",
                                        "targets": [{"os": "default", "uri": alert.admin_url}]}]
        return card
    if form == "adaptive-card":
        body = [{"type": "TextBlock", "text": alert.subject, "weight": "Bolder", "size": "Medium", "wrap": True}]
        body += [{"type": "TextBlock", "text": paragraph, "wrap": True} for paragraph in alert.paragraphs()]
        content: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                                   "type": "AdaptiveCard", "version": "1.4", "body": body}
        if alert.admin_url:
            content["actions"] = [{"type": "Action.OpenUrl", "title": "Open the admin page", "url": alert.admin_url}]
        return {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}]}
    return {"text": f"**{alert.subject}**\n\n{alert.text}"}


class WebhookNotifier:
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "format": {"enum": list(FORMATS), "default": "text",
                       "description": "text (Teams, Slack, Mattermost), message-card or adaptive-card (Teams), or "
                                      "json (the alert's fields)."},
        },
    }
    needs_connection: ClassVar[bool] = True

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("the webhook notifier needs a connection: the URL, and credentials if any")
        self.connection = connection
        self.format: str = config.get("format", "text")
        query = (connection.extra.get("query") or "").strip().lstrip("?")
        self.url = endpoint_url(connection) + (f"?{query}" if query else "")
        self.session = build_session(connection)
        self.timeout = timeouts(connection)

    def send(self, alert: Alert) -> None:
        where = f"webhook notifier on connection {self.connection.conn_id!r}"
        try:
            response = self.session.post(self.url, json=payload(alert, self.format), timeout=self.timeout)
        except requests.RequestException as exc:
            # Only the kind of failure: requests' message quotes the URL, whose path can be the secret (Teams).
            raise NotifierFailed(f"{where}: {type(exc).__name__} (the receiver could not be reached)") from None
        with response:
            if not 200 <= response.status_code < 300:
                raise NotifierFailed(f"{where}: the receiver answered HTTP {response.status_code}")
