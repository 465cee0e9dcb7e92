"""The kit's reading of the contracts Brygga ships (without running simulator code), and the one comparison of an
endpoint's WSDL with a SOAP contract that the three SOAP profiles share: each kind of difference is one precise
finding, and a WSDL with everything of the copy (and more) has none."""

from __future__ import annotations

import subprocess
import sys

import pytest

from brygga_conformance.profiles import byggr_contract, ecos_contract, eservice_callback_contract
from brygga_conformance.profiles.soap_contract import SoapContract, compare_wsdl, wsdl_document
from brygga_conformance.profiles.soap_replies import schema_error_text

COPY = "IntegrationCallbackService.wsdl"


def test_every_profile_reads_its_contract_without_running_simulator_code() -> None:
    code = ("import sys\n"
            "from brygga_conformance.profiles import PROFILES, profile_class\n"
            "from brygga_conformance.profiles import byggr_contract, case_rest_contract, ecos_contract\n"
            "from brygga_conformance.profiles import eservice_callback_contract\n"
            "byggr_contract.contract('v8'), byggr_contract.contract('v4'), ecos_contract.contract()\n"
            "eservice_callback_contract.contract('upstream'), eservice_callback_contract.contract('sundsvall')\n"
            "case_rest_contract.Contract.bundled()\n"
            "[profile_class(name) for name in PROFILES]\n"
            "print(sorted(name for name in sys.modules if name.startswith('brygga_simulators')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _contracts() -> list[SoapContract]:
    return [byggr_contract.contract("v8"), byggr_contract.contract("v4"), ecos_contract.contract(),
            eservice_callback_contract.contract("upstream"), eservice_callback_contract.contract("sundsvall")]


@pytest.mark.parametrize("ours", _contracts(), ids=lambda c: f"{c.file}")
def test_a_copy_served_as_it_is_has_no_finding(ours: SoapContract) -> None:
    assert compare_wsdl(ours, wsdl_document(ours.wsdl)) == []


def test_the_byggr_copies_are_told_apart_by_version() -> None:
    v8, v4 = byggr_contract.contract("v8"), byggr_contract.contract("v4")
    assert (v8.version, v8.name, v4.version, v4.name) == ("v8", "contract v8", "v4", "contract v4")
    assert sorted(v8.operations) == sorted(v4.operations) == [
        "GetArende", "GetDocument", "GetRelateradeArendenByFastighet", "GetUpdatedArenden", "SaveNewArende",
        "SaveNewHandelse"]


def _served(*edits: tuple[bytes, bytes]) -> object:
    wsdl = eservice_callback_contract.contract("upstream").wsdl
    for old, new in edits:
        assert wsdl.count(old) >= 1, old
        wsdl = wsdl.replace(old, new, 1)
    return wsdl_document(wsdl)


def _findings(*edits: tuple[bytes, bytes]) -> list[str]:
    return compare_wsdl(eservice_callback_contract.contract("upstream"), _served(*edits))


def test_a_missing_operation() -> None:
    renamed = (b'<wsdl:operation name="addEvent">', b'<wsdl:operation name="addEventLater">')
    assert _findings(renamed, renamed) == [  # in the portType and the binding
        f"the endpoint's WSDL has no operation addEvent; {COPY} has it"]


def test_another_soap_action() -> None:
    assert _findings((b'soapAction=""', b'soapAction="urn:setStatus"')) == [
        f"the endpoint's WSDL gives setStatus the SOAP action 'urn:setStatus'; {COPY} has ''"]


def test_another_reply_element() -> None:
    edit = (b'<wsdl:part element="impl:addMessageResponse"', b'<wsdl:part element="impl:addEventResponse"')
    assert _findings(edit) == [
        f"the endpoint's WSDL gives addMessage the reply element addEventResponse; {COPY} has addMessageResponse"]


def test_a_renamed_element_names_what_the_endpoint_declares_instead() -> None:
    edit = (b'<xs:element name="System" type="xs:string"', b'<xs:element name="system" type="xs:string"')
    assert _findings(edit) == [
        f"the endpoint's WSDL: type ExternalID has no element System; {COPY} has it (it declares system there "
        "instead)"]


def test_an_element_of_another_type() -> None:
    edit = (b'<xs:element name="eventID" type="xs:int"', b'<xs:element name="eventID" type="xs:string"')
    assert _findings(edit) == [
        f"the endpoint's WSDL: element setStatusResponse types element eventID as string; {COPY} has int"]


def test_an_optional_element_made_required() -> None:
    edit = (b'<xs:element name="logMessage" type="xs:string" minOccurs="0"',
            b'<xs:element name="logMessage" type="xs:string" minOccurs="1"')
    assert _findings(edit) == [
        f"the endpoint's WSDL: element confirmDelivery requires element logMessage (minOccurs 1); {COPY} has it "
        "optional"]


def test_a_required_element_the_copy_does_not_have() -> None:
    edit = (b'<xs:element name="userID" nillable="true" type="xs:string" minOccurs="1" maxOccurs="1"/>',
            b'<xs:element name="userID" nillable="true" type="xs:string" minOccurs="1" maxOccurs="1"/>'
            b'<xs:element name="tenant" type="xs:string"/>')
    assert _findings(edit) == [
        f"the endpoint's WSDL: type Principal requires element tenant, which {COPY} does not have"]


def test_an_optional_element_the_copy_does_not_have_is_allowed() -> None:
    edit = (b'<xs:element name="userID" nillable="true" type="xs:string" minOccurs="1" maxOccurs="1"/>',
            b'<xs:element name="userID" nillable="true" type="xs:string" minOccurs="1" maxOccurs="1"/>'
            b'<xs:element name="tenant" type="xs:string" minOccurs="0"/>')
    assert _findings(edit) == []


def test_a_missing_attribute() -> None:
    ours = byggr_contract.contract("v8")
    served = wsdl_document(ours.wsdl.replace(b'<xs:attribute name="arendeId" type="xs:int"/>', b"", 1))
    assert compare_wsdl(ours, served) == ["the endpoint's WSDL: type arende has no attribute arendeId; contract v8 "
                                          "has it"]


def test_schema_messages_lose_values_and_namespaces_but_keep_names_and_patterns() -> None:
    pattern = ("Element '{urn:a}CaseId': [facet 'pattern'] The value '19121212-1212' is not accepted by the pattern "
               "'[0-9]{8}-{urn:x}'.")
    assert schema_error_text(pattern) == (
        "Element 'CaseId': [facet 'pattern'] The value is not accepted by the pattern '[0-9]{8}-{urn:x}'.")
    assert schema_error_text("Element '{urn:a}namn': 'Anna Svensson' is not a valid value of the atomic type "
                             "'{urn:a}kort'.") == (
        "Element 'namn': the value is not a valid value of the atomic type 'kort'.")
    # The same local name in two namespaces: without them, the message would say Dnr was expected where Dnr was.
    ambiguous = "Element '{urn:b}Dnr': This element is not expected. Expected is ( {urn:a}Dnr )."
    assert schema_error_text(ambiguous) == ambiguous
