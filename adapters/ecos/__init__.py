"""Ecos (Sokigo) environment and health protection case system as a Brygga case target, over MinutMiljoService
(SOAP).

Payload shape, config, idempotency and amendments: README.md in this folder.
"""

from brygga_adapters.ecos.config import CONFIG_SPEC
from brygga_adapters.ecos.lookups import clear_lookup_cache
from brygga_adapters.ecos.target import EcosTarget

__all__ = ["CONFIG_SPEC", "EcosTarget", "clear_lookup_cache"]
