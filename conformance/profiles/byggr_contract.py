"""Brygga's copy of ByggR's ArendeExportWS contract (v8 or v4), read as data, and the endpoint's WSDL compared with it.

The copies ship as package data of brygga_simulators (``byggr/ArendeExportWS.wsdl``, ``byggr/ArendeExportWS.v4.wsdl``)
and are compared as every SOAP contract is (soap_contract.py). ByggR's own twist: the SOAP actions name the contract
version, so an endpoint serving the other version gets one finding that says which, not one per operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from brygga_adapters.byggr.contracts import version_in_actions
from brygga_conformance.profiles import soap_contract
from brygga_conformance.profiles.soap_contract import SoapContract, binding_operations

SERVICE_NS = "www.tekis.se/ServiceContract"
ARENDE_NS = "www.tekis.se/arende"
CONTRACT_FILES = {"v8": "ArendeExportWS.wsdl", "v4": "ArendeExportWS.v4.wsdl"}

__all__ = ["Contract", "binding_operations", "compare_wsdl", "contract"]


@dataclass(frozen=True)
class Contract(SoapContract):
    version: str  # v8 or v4


@cache
def contract(version: str) -> Contract:
    return soap_contract.load_contract(("byggr", CONTRACT_FILES[version]), f"contract {version}",
                                       (SERVICE_NS, ARENDE_NS), Contract, version=version)


def compare_wsdl(ours: Contract, served: Any) -> list[str]:
    """Findings where the endpoint's WSDL (a zeep Document) lacks what Brygga's copy of the contract declares."""
    actions = [operation.soapaction or "" for operation in binding_operations(served).values()]
    served_version = version_in_actions(actions)
    if served_version not in (None, ours.version):
        # One finding, not one per operation and element: the run asked for the other version.
        return [f"the endpoint's WSDL is ByggR contract {served_version} (its SOAP actions say so); the kit checked "
                f"it as contract {ours.version}: run it with --option contract={served_version}"]
    return soap_contract.compare_wsdl(ours, served)
