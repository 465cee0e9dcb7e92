"""The two IntegrationCallback contracts Brygga speaks, and what each needs in ``addMessage``.

``upstream``  Open ePlatform's own contract: ``readReceiptEnabled`` is optional (and comes before ``userID``).
``sundsvall`` the newer contract Sundsvall's integrations use: ``readReceiptEnabled`` is required.

zeep orders elements by the WSDL it loaded, so the only thing that differs on our side is whether the field is
sent. A WSDL that contradicts the configured variant is reported before any call, so a notification is never
half-sent (status set, message refused).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from brygga.errors import ConfigError

Variant = Literal["upstream", "sundsvall"]
VARIANTS: tuple[Variant, ...] = ("upstream", "sundsvall")
CALLBACK_NS = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"
READ_RECEIPT = "readReceiptEnabled"


def integration_message(
    variant: Variant, *, added: datetime, text: str, user_id: str, read_receipt_enabled: bool
) -> dict[str, Any]:
    """addMessage's ``message`` (IntegrationMessage) as the variant's contract wants it."""
    message: dict[str, Any] = {"added": added, "message": text, "userID": user_id}
    # Upstream: leave the optional field out unless a receipt is wanted. Sundsvall: always send it.
    if variant == "sundsvall" or read_receipt_enabled:
        message[READ_RECEIPT] = read_receipt_enabled
    return message


def message_fields(service: Any) -> dict[str, int] | None:
    """IntegrationMessage's element names and their minOccurs in the endpoint's WSDL; None if it has no such type."""
    try:
        message_type = service.get_type(f"{{{CALLBACK_NS}}}IntegrationMessage")
    except (LookupError, ValueError):
        return None
    return {name: int(element.min_occurs) for name, element in getattr(message_type, "elements", [])}


def check_wsdl_fits(variant: Variant, service: Any, conn_id: str) -> None:
    """Refuse, naming the config key, when the endpoint's WSDL belongs to the other variant.

    A ``ConfigError``: the notifier's configuration is wrong, not the update; fix the variant, then replay."""
    fields = message_fields(service)
    if fields is None:  # not a WSDL we can read this way; zeep's own checks still apply
        return
    if variant == "upstream" and fields.get(READ_RECEIPT, 0) >= 1:
        raise ConfigError(
            f"oep-callback {conn_id}.addMessage: the endpoint's WSDL requires readReceiptEnabled "
            "(the sundsvall contract); set the notifier config variant: sundsvall"
        )
    if variant == "sundsvall" and READ_RECEIPT not in fields:
        raise ConfigError(
            f"oep-callback {conn_id}.addMessage: the endpoint's WSDL has no readReceiptEnabled, which the "
            "sundsvall contract requires; set the notifier config variant: upstream"
        )
