"""ByggR (Sokigo/Tekis) building-permit case system as a Brygga case target, over ArendeExportWS (SOAP).

Payload shape, contract versions, idempotency and amendments: README.md in this folder. The tolerant readers of
ByggR's replies are in ``replies`` (``read_related_arenden``, ``read_get_arende``, ``read_updated_arenden``,
``read_get_document``, ...), for the status loop as much as for delivery.
"""

from brygga_adapters.byggr.target import CONFIG_SPEC, ByggrTarget

__all__ = ["CONFIG_SPEC", "ByggrTarget"]
