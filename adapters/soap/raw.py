"""Send with zeep, read the reply ourselves: strict in what is sent, tolerant in what is read.

zeep builds and validates the request from the WSDL as always, but with ``raw_response`` it hands back the
HTTP response instead of parsing the reply into typed objects. Real systems answer off-contract (extra
attributes, other element orders, extra elements, other element names), and zeep's strict reply parsing turns
every such quirk into an error. ``call_raw`` returns the reply's SOAP Body payload as an lxml element for an
adapter's own tolerant reader.

Well-formedness stays strict: the reply is parsed with Brygga's safe parser (no DTD, no entities, no network,
a size cap). Faults and HTTP errors become the same Brygga errors ``map_soap_error`` gives zeep's own calls, and
an HTTP 200 that is not SOAP at all is ``TargetUnavailable``, as there.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from lxml import etree
from zeep import exceptions as zeep_errors

from brygga.errors import BryggaError, TargetRejected
from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml
from brygga_adapters.soap.envelope import SOAP11, SOAP12, is_soap_envelope
from brygga_adapters.soap.errors import map_soap_error, not_soap
from brygga_adapters.soap.transport import MAX_REPLY_BYTES  # the transport stops reading a reply there too

log = logging.getLogger("brygga.adapters.soap")


def call_raw(service: Any, operation: str, **kwargs: Any) -> etree._Element:
    """Call ``operation`` on a ``SoapService`` and return the Body's payload element, unparsed by zeep.

    Raises ``TargetRejected`` (a fault, a refused, unreadable or oversized reply) or ``TargetUnavailable`` (no
    answer, HTTP 5xx/408/429 without a fault, an HTTP 200 that is not SOAP), as ``SoapService.call`` does.
    """
    name = getattr(service, "name", "soap")
    started = time.monotonic()
    try:
        with service.client.settings(raw_response=True):
            response = getattr(service.proxy, operation)(**kwargs)
        payload = reply_payload(response.status_code, response.content, f"{name}.{operation}")
    except BryggaError:
        raise
    except Exception as exc:
        log.info("soap call failed: service=%s operation=%s error=%s", name, operation, type(exc).__name__)
        raise map_soap_error(name, operation, exc) from None
    finally:
        _discard_file_values(service)
    log.debug("soap call: service=%s operation=%s seconds=%.3f", name, operation, time.monotonic() - started)
    return payload


def _discard_file_values(service: Any) -> None:
    # Streamed file placeholders (SoapService.file_value) are for one call only, sent or not, as in call().
    file_values = getattr(getattr(service, "transport", None), "file_values", None)
    if file_values is not None:
        file_values.discard()


def reply_payload(status: int, content: bytes, where: str) -> etree._Element:
    """The single element in a reply's SOAP Body, read as ``call_raw`` reads it.

    A Fault is raised as zeep's ``Fault``, an HTTP error without one as zeep's ``TransportError`` (``call_raw``
    maps both). An HTTP 200 that is not SOAP at all raises ``TargetUnavailable``; a SOAP envelope that is
    malformed, unsafe or without the one payload element raises ``TargetRejected``. ``where`` names the call.
    """
    body = _body(content, where, status)
    fault = _fault(body) if body is not None else None
    if fault is not None:
        raise fault
    if status != 200 or body is None:
        # No SOAP fault to go by: the HTTP status decides (5xx and 408/429 are worth a retry).
        raise zeep_errors.TransportError(status_code=status)
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise TargetRejected(f"{where}: the reply's SOAP Body holds {len(elements)} elements, expected 1")
    return elements[0]


def _body(content: bytes, where: str, status: int) -> etree._Element | None:
    if not is_soap_envelope(content):
        if status != 200:
            return None  # an error page instead of a SOAP envelope: the status decides
        raise not_soap(where)
    try:
        envelope = parse_xml(content, max_bytes=MAX_REPLY_BYTES, source=f"{where} reply")
    except UnsafeOrMalformedXml as exc:
        if status != 200:
            return None
        raise TargetRejected(f"{where}: unsafe or malformed XML in the answer ({_reason(exc)})") from None
    return envelope.find(f"{{{etree.QName(envelope).namespace}}}Body")


def _reason(exc: UnsafeOrMalformedXml) -> str:
    # parse_xml's messages name the source and the rule ("not well-formed", "over the limit", "DTD"), never data.
    return str(exc).partition(": ")[2][:200] or "malformed"


def _fault(body: etree._Element) -> zeep_errors.Fault | None:
    for namespace in (SOAP11, SOAP12):
        fault = body.find(f"{{{namespace}}}Fault")
        if fault is None:
            continue
        if namespace == SOAP11:
            message = fault.findtext("faultstring") or fault.findtext(f"{{{SOAP11}}}faultstring")
            code = fault.findtext("faultcode") or fault.findtext(f"{{{SOAP11}}}faultcode")
            detail = fault.find("detail")
        else:
            message = fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")
            code = fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value")
            detail = fault.find(f"{{{SOAP12}}}Detail")
        return zeep_errors.Fault(message=(message or "SOAP fault").strip(), code=code, detail=detail)
    return None
