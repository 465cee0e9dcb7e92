"""SOAP adapter core for SOAP targets and notifiers: safe zeep clients bound from the connection, the URL guard
shared with REST (``brygga_adapters.http``), streamed file values and error mapping."""

from brygga_adapters.soap.client import SoapService, clear_soap_cache, safe_settings, soap_service
from brygga_adapters.soap.errors import UnsafeTargetAddress, map_soap_error
from brygga_adapters.soap.ports import BoundPort
from brygga_adapters.soap.streaming import FileValueError

__all__ = [
    "BoundPort",
    "FileValueError",
    "SoapService",
    "UnsafeTargetAddress",
    "clear_soap_cache",
    "map_soap_error",
    "safe_settings",
    "soap_service",
]
