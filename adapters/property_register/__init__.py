"""A municipal property register (REST/JSON) as a Brygga ``PropertyRegister`` adapter. See README.md."""

from brygga_adapters.property_register.cache import clear_caches
from brygga_adapters.property_register.config import CONFIG_SPEC
from brygga_adapters.property_register.lookup import PropertyRegisterLookup

__all__ = ["CONFIG_SPEC", "PropertyRegisterLookup", "clear_caches"]
