"""Status back to the resident's Mina sidor through Open ePlatform's IntegrationCallback service.

``notify(update)`` makes up to three calls, with the parameter names of Open ePlatform's contract:
1. ``setStatus(flowInstanceID, statusAlias | statusID)``;
2. ``addMessage(flowInstanceID, message{added, message, userID[, readReceiptEnabled]})``: the text names the
   diarienummer; ``readReceiptEnabled`` is sent as the configured ``variant`` requires (see ``variants``);
3. ``confirmDelivery(flowInstanceID, externalID{ID, System}, delivered=true)`` when the update carries the
   target's reference (the diarienummer).

Each call is recorded in ``progress`` as soon as it returns and skipped on a retry, so a retry after a failed
``confirmDelivery`` does not send the resident's message again. The contract has no call that reads messages
back, so a message whose answer was lost is sent again: at least once (docs/reliability.md).

``preflight`` checks at translate that the case's ``source.reference`` can be a flowInstanceID at all.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import CallProgress, NothingSentYet, StatusUpdate, configure
from brygga_adapters.http.fields import soap_connection_fields
from brygga_adapters.oep_callback.flow_instance import FLOW_INSTANCE_RULE, flow_instance_id, source_reference_problems
from brygga_adapters.oep_callback.variants import VARIANTS, check_wsdl_fits, integration_message
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
            "additionalProperties": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
            "description": "Brygga status -> Open ePlatform statusID (xs:int). Others are sent as statusAlias.",
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
        "variant": {
            "enum": list(VARIANTS),
            "default": "upstream",
            "description": "Which IntegrationCallback contract the endpoint speaks: 'upstream' (Open ePlatform's own) "
            "or 'sundsvall' (the newer one, whose addMessage requires readReceiptEnabled).",
        },
        "read_receipt_enabled": {
            "type": "boolean",
            "default": False,
            "description": "addMessage's readReceiptEnabled. The sundsvall variant always sends it; upstream sends it "
            "only when true.",
        },
        "add_message": {"type": "boolean", "default": True,
                        "description": "Send the route's message to the resident (addMessage) with the status."},
        "confirm_delivery": {"type": "boolean", "default": True,
                             "description": "Tell Open ePlatform the case's reference in the case system "
                                            "(confirmDelivery) once there is one."},
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
    connection_fields: ClassVar[dict[str, str]] = soap_connection_fields(
        system="IntegrationCallback", path="/api/integrationcallback/v1",
        account="the integration user Open ePlatform gave Brygga")

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("oep-callback notifier needs a connection (the IntegrationCallback endpoint)")
        self.config = configure("oep-callback", CONFIG_SPEC, config)
        self.connection = connection

    @property
    def service(self) -> SoapService:
        return soap_service(self.connection)

    @classmethod
    def preflight(cls, config: dict[str, Any], case: dict[str, Any], payload: dict[str, Any] | None) -> list[str]:
        """At translate: a source reference that can never be a flowInstanceID would stick the submission at notify."""
        return source_reference_problems(case)

    def notify(self, update: StatusUpdate, progress: CallProgress | None = None) -> None:
        progress = progress or NothingSentYet()
        flow_instance_id = self._flow_instance_id(update.source_reference)
        send_message = bool(self.config["add_message"] and update.message)
        service = self.service
        if send_message:
            check_wsdl_fits(self.config["variant"], service, self.connection.conn_id)
        calls: list[tuple[str, dict[str, Any]]] = [("setStatus", self._status(update.status))]
        if send_message:
            message = integration_message(
                self.config["variant"],
                added=datetime.now().astimezone(),
                text=message_text(update, self.config["message_template"]),
                user_id=self.config["user_id"],
                read_receipt_enabled=self.config["read_receipt_enabled"],
            )
            if update.attachments:  # a decision with its document
                message["attachments"] = [{"encodedData": a.content, "filename": a.name, "size": len(a.content)}
                                          for a in update.attachments]
            calls.append(("addMessage", {"message": message}))
        if self.config["confirm_delivery"] and update.external_ref:
            external_id = {"ID": update.external_ref, "System": self.config["external_system"]}
            calls.append(("confirmDelivery", {"externalID": external_id, "delivered": True}))
        sent = 0
        for operation, arguments in calls:
            if progress.sent(operation):
                continue
            service.call(operation, flowInstanceID=flow_instance_id, **arguments)
            progress.record(operation)
            sent += 1
        log.info(
            "oep callback: flowInstanceID=%s status=%s calls=%d of %d (the rest were sent before)",
            flow_instance_id,
            update.status,
            sent,
            len(calls),
        )

    def _status(self, status: str) -> dict[str, Any]:
        status_ids = self.config.get("status_ids") or {}
        if status in status_ids:
            return {"statusID": int(status_ids[status])}
        aliases = self.config.get("status_aliases") or {}
        return {"statusAlias": aliases.get(status, status)}

    @staticmethod
    def _flow_instance_id(reference: str) -> int:
        value = flow_instance_id(reference)
        if value is None:
            raise TargetRejected(f"oep-callback: source_reference {FLOW_INSTANCE_RULE}")
        return value
