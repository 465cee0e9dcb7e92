"""The simulators validate requests against the XML Schema their WSDL embeds, compiled as Brygga's SOAP adapters
compile it (brygga_adapters.soap.wsdl_schema), so the conformance kit and the simulators read a contract alike."""

from brygga_adapters.soap.wsdl_schema import compile_wsdl_schema

__all__ = ["compile_wsdl_schema"]
