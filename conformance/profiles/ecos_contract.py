"""Brygga's copy of Ecos's MinutMiljoService contract, read as data, and the endpoint's WSDL compared with it.

The copy ships as package data of brygga_simulators (``ecos/MinutMiljoService.wsdl``). It is a subset of Ecos's
published WSDL: the operations and elements Brygga uses, compared as every SOAP contract is (soap_contract.py).
"""

from __future__ import annotations

from functools import cache

from brygga_conformance.profiles.soap_contract import SoapContract, binding_operations, compare_wsdl, load_contract

SERVICE_NS = "urn:Ecos.API.MinutMiljo.Service.V1"
CONTRACTS_NS = "urn:Ecos.API.MinutMiljo.DataContracts.V1"
CONTRACT_FILE = ("ecos", "MinutMiljoService.wsdl")

Contract = SoapContract
__all__ = ["Contract", "binding_operations", "compare_wsdl", "contract"]


@cache
def contract() -> Contract:
    return load_contract(CONTRACT_FILE, "Brygga's contract", (SERVICE_NS, CONTRACTS_NS))
