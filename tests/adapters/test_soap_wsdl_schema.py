"""The XML Schema a WSDL embeds, compiled in memory (as the simulators validate requests and the conformance kit
validates replies), and schema errors without the document's values."""

from __future__ import annotations

import pytest
from lxml import etree

from brygga_adapters.soap.wsdl_schema import compile_wsdl_schema, redact_schema_error

# Two embedded schemas importing each other by namespace only (as .NET writes them), a QName value whose prefix is
# declared on wsdl:definitions only, and a key whose duplicates libxml2 quotes.
WSDL = b"""<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:svc="urn:svc" xmlns:dto="urn:dto" targetNamespace="urn:svc">
  <wsdl:types>
    <xs:schema targetNamespace="urn:svc" elementFormDefault="qualified">
      <xs:import namespace="urn:dto"/>
      <xs:element name="Register">
        <xs:complexType><xs:sequence>
          <xs:element name="Case" type="dto:Case" maxOccurs="unbounded"/>
        </xs:sequence></xs:complexType>
        <xs:key name="caseNumber"><xs:selector xpath="svc:Case"/><xs:field xpath="dto:Number"/></xs:key>
      </xs:element>
    </xs:schema>
    <xs:schema targetNamespace="urn:dto" elementFormDefault="qualified">
      <xs:complexType name="Case"><xs:sequence>
        <xs:element name="Number" type="xs:string"/>
        <xs:element name="Kind"><xs:simpleType><xs:restriction base="xs:string">
          <xs:enumeration value="bygglov"/><xs:enumeration value="attefall"/>
        </xs:restriction></xs:simpleType></xs:element>
        <xs:element name="Owner"><xs:simpleType><xs:restriction base="xs:string">
          <xs:pattern value="[0-9]{8}"/></xs:restriction></xs:simpleType></xs:element>
        <xs:element name="Rooms" type="xs:int"/>
      </xs:sequence></xs:complexType>
    </xs:schema>
  </wsdl:types>
</wsdl:definitions>"""

PERSONAL = "19121212-1212"


def _case(number: str, kind: str = "bygglov", owner: str = "12345678", rooms: str = "3") -> str:
    return (f"<svc:Case><dto:Number>{number}</dto:Number><dto:Kind>{kind}</dto:Kind><dto:Owner>{owner}</dto:Owner>"
            f"<dto:Rooms>{rooms}</dto:Rooms></svc:Case>")


def _register(*cases: str) -> etree._ElementTree:
    return etree.ElementTree(etree.fromstring(
        f'<svc:Register xmlns:svc="urn:svc" xmlns:dto="urn:dto">{"".join(cases)}</svc:Register>'))


def _errors(schema: etree.XMLSchema, document: etree._ElementTree) -> list[str]:
    assert not schema.validate(document)
    return [redact_schema_error(error.message) for error in schema.error_log]


def test_schemas_importing_each_other_by_namespace_compile_into_one() -> None:
    schema = compile_wsdl_schema(WSDL)

    assert schema.validate(_register(_case("A-1"), _case("A-2", kind="attefall")))
    assert not schema.validate(_register())  # Case is required: the dto schema's type is in force


def test_values_leave_every_kind_of_message_and_the_rules_stay() -> None:
    schema = compile_wsdl_schema(WSDL)

    messages = [
        *_errors(schema, _register(_case("A-1", kind=PERSONAL))),
        *_errors(schema, _register(_case("A-1", owner=PERSONAL))),
        *_errors(schema, _register(_case("A-1", rooms=PERSONAL))),
        *_errors(schema, _register(_case(PERSONAL), _case(PERSONAL))),
    ]

    assert not [message for message in messages if PERSONAL in message]
    text = "\n".join(messages)
    assert "The value is not an element of the set {'bygglov', 'attefall'}" in text
    assert "The value is not accepted by the pattern '[0-9]{8}'" in text
    assert "the value is not a valid value of the atomic type 'xs:int'" in text
    assert "Duplicate key-sequence in key identity-constraint" in text


def test_a_wsdl_without_a_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="the WSDL embeds no xs:schema"):
        compile_wsdl_schema(b'<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"/>')


def test_an_import_of_a_location_not_given_is_refused_not_fetched() -> None:
    wsdl = WSDL.replace(b'<xs:import namespace="urn:dto"/>',
                        b'<xs:import namespace="urn:other" schemaLocation="http://127.0.0.1:9/other.xsd"/>')
    with pytest.raises(etree.XMLSchemaParseError):
        compile_wsdl_schema(wsdl)


def test_a_separate_xsd_is_given_with_the_wsdl() -> None:
    dto = WSDL.split(b"</xs:schema>")[1].split(b"<xs:schema", 1)[1]
    xsd = b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"' + dto + b"</xs:schema>"
    wsdl = WSDL.replace(b'<xs:import namespace="urn:dto"/>',
                        b'<xs:import namespace="urn:dto" schemaLocation="dto.xsd"/>')
    wsdl = wsdl.replace(b"<xs:schema" + dto + b"</xs:schema>", b"")

    schema = compile_wsdl_schema(wsdl, {"dto.xsd": xsd})

    assert schema.validate(_register(_case("A-1")))
    assert not schema.validate(_register(_case("A-1", kind="annat")))
