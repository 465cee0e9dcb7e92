"""Brygga's copy of the IntegrationCallback contract, read as data, and an endpoint's WSDL compared with it.

The copies ship as package data of brygga_simulators (``oep_callback/*.wsdl``), one per variant Brygga speaks. Each
holds the operations Brygga's notifier knows (setStatus, addEvent, addMessage, confirmDelivery) with the real
contract's shapes, and is compared as every SOAP contract is (soap_contract.py): an endpoint may declare more
operations and more optional elements (a real Open ePlatform does); what the copy declares must be there, under the
same names and types, and the endpoint may not require what the copy leaves optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from lxml import etree

from brygga_conformance.profiles.soap_contract import SoapContract, binding_operations, compare_wsdl, load_contract
from brygga_conformance.profiles.soap_replies import schema_errors

CALLBACK_NS = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"
CONTRACT_FILES = {"upstream": "IntegrationCallbackService.wsdl", "sundsvall": "IntegrationCallbackSundsvall.wsdl"}

Contract = SoapContract
__all__ = ["CALLBACK_NS", "CONTRACT_FILES", "Contract", "binding_operations", "compare", "contract", "reply_errors"]


@cache
def contract(variant: str) -> Contract:
    name = CONTRACT_FILES[variant]
    return load_contract(("oep_callback", name), name, (CALLBACK_NS,))


def compare(expected: Contract, served: Any) -> list[str]:
    """Findings where the endpoint's WSDL breaks Brygga's copy of the contract. ``served``: the WSDL as a zeep
    Document, or its binding operations by name (each knows the Document it came from)."""
    if isinstance(served, Mapping):
        document = next((operation.binding.wsdl for operation in served.values()), None)
        if document is None:
            return [f"the endpoint's WSDL has no operation {name}; {expected.name} has it"
                    for name in expected.operations]
        served = document
    return compare_wsdl(expected, served)


def reply_errors(schema: etree.XMLSchema, payload: etree._Element) -> list[str]:
    """The contract's complaints about one reply payload (a Body's element, or a fault's detail entry)."""
    return schema_errors(schema, payload)
