"""Status back to the resident's Mina sidor through Open ePlatform's IntegrationCallback service.

``notify(update)`` makes up to three calls, with the parameter names of Open ePlatform's contract:
1. ``setStatus(flowInstanceID, statusAlias | statusID)``;
2. ``addMessage(flowInstanceID, message{added, message, userID})``: the text names the diarienummer;
3. ``confirmDelivery(flowInstanceID, externalID{ID, System}, delivered=true)`` when the update carries the
   target's reference (the diarienummer).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import StatusUpdate, configure
from brygga_adapters.soap import SoapService, soap_service

log = logging.getLogger("brygga.adapters.oep_callback")

CONFIG_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Open ePlatform IntegrationCallback notifier",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "status_ids": {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "Brygga status -> Open ePlatform statusID. Others are sent as statusAlias.",
        },
        "status_aliases": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Brygga status -> Open ePlatform status alias, when the names differ.",
        },
        "external_system": {
            "type": "string",
            "default": "ByggR",
            "description": "System name sent in confirmDelivery's externalID.",
        },
        "message_template": {
            "type": "string",
            "default": "{message} Diarienummer: {dnr}.",
            "description": "Text of addMessage when the message does not already name the diarienummer. "
            "Placeholders: {message}, {dnr}.",
        },
        "user_id": {
            "type": "string",
            "default": "brygga",
            "description": "IntegrationMessage.userID (required by the schema, unused by Open ePlatform).",
        },
        "add_message": {"type": "boolean", "default": True},
        "confirm_delivery": {"type": "boolean", "default": True},
    },
}


def message_text(update: StatusUpdate, template: str) -> str:
    """The resident-facing text; it always names the diarienummer when there is one."""
    dnr = update.external_ref
    if not dnr or dnr in update.message:
        return update.message
    return template.format(message=update.message, dnr=dnr).strip()


class OepCallbackNotifier:
    """``StatusNotifier`` for Open ePlatform. Endpoint and credentials come from the connection."""

    config_spec: ClassVar[dict[str, Any]] = CONFIG_SPEC

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("oep-callback notifier needs a connection (the IntegrationCallback endpoint)")
        self.config = configure("oep-callback", CONFIG_SPEC, config)
        self.connection = connection

    @property
    def service(self) -> SoapService:
        return soap_service(self.connection)

    def notify(self, update: StatusUpdate) -> None:
        flow_instance_id = self._flow_instance_id(update.source_reference)
        self.service.call("setStatus", flowInstanceID=flow_instance_id, **self._status(update.status))
        if self.config["add_message"] and update.message:
            self.service.call(
                "addMessage",
                flowInstanceID=flow_instance_id,
                message={
                    "added": datetime.now().astimezone(),
                    "message": message_text(update, self.config["message_template"]),
                    "userID": self.config["user_id"],
                },
            )
        if self.config["confirm_delivery"] and update.external_ref:
            self.service.call(
                "confirmDelivery",
                flowInstanceID=flow_instance_id,
                externalID={"ID": update.external_ref, "System": self.config["external_system"]},
                delivered=True,
            )
        log.info(
            "oep callback: flowInstanceID=%s status=%s confirmed=%s",
            flow_instance_id,
            update.status,
            bool(update.external_ref),
        )

    def _status(self, status: str) -> dict[str, Any]:
        status_ids = self.config.get("status_ids") or {}
        if status in status_ids:
            return {"statusID": int(status_ids[status])}
        aliases = self.config.get("status_aliases") or {}
        return {"statusAlias": aliases.get(status, status)}

    @staticmethod
    def _flow_instance_id(reference: str) -> int:
        try:
            return int(str(reference).strip())
        except ValueError:
            raise TargetRejected(
                "oep-callback: source_reference is not an Open ePlatform flowInstanceID"
            ) from None
