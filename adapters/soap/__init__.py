"""SOAP adapter core for SOAP targets and notifiers: safe zeep clients, SSRF guard, error mapping."""

from brygga_adapters.soap.client import SoapService, clear_soap_cache, safe_settings, soap_service
from brygga_adapters.soap.errors import UnsafeTargetAddress, map_soap_error

__all__ = [
    "SoapService",
    "UnsafeTargetAddress",
    "clear_soap_cache",
    "map_soap_error",
    "safe_settings",
    "soap_service",
]
