"""Mapping of zeep/requests failures onto Brygga's delivery outcomes, by the table in ``brygga.faults``.

``TargetRejected``: the target (or our own WSDL check) said no; retrying the same request will not help.
``TargetUnavailable``: the target could not be reached or had a temporary problem; retry later.
``TargetInDoubt``: the request went out and no answer came back; it may have been carried out.
Messages name the operation, the fault code and the rule; a target's fault text is redacted (``brygga.redact``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree
from urllib3.exceptions import ProtocolError
from zeep import exceptions as zeep_errors

from brygga import redact as redaction
from brygga.errors import ConfigError, CredentialsRefused, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga.faults import Fault, http_status_fault, soap_fault_code_fault
from brygga_adapters.http import UnsafeUrl

_MESSAGE_LIMIT = 300


class UnsafeTargetAddress(UnsafeUrl):
    """The WSDL, an import or a request points where the connection does not allow (SSRF guard, https rule)."""


class ReplyTooLarge(Exception):
    """Raised by the transport once a reply passes its size limit; ``map_soap_error`` names the operation."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is over the limit of {limit} bytes")
        self.limit = limit


class NotSoapReply(Exception):
    """Raised by the transport for an HTTP 200 whose body is no SOAP envelope; ``map_soap_error`` maps it."""


def refused_credentials(where: str, status: int) -> CredentialsRefused:
    return CredentialsRefused(f"{where}: HTTP {status}: the target refused the connection's credentials; fix the "
                              "connection (nothing is quarantined: the run fails until then)")


def not_soap(where: str) -> TargetUnavailable:
    # A proxy's maintenance page or an empty body says nothing about the request: worth a retry.
    return TargetUnavailable(f"{where}: the answer is not SOAP (e.g. a maintenance page); retried later")


def redact(message: str) -> str:
    """Mask quoted values and personal data in library messages, and cap the length."""
    return redaction.redact(message, _MESSAGE_LIMIT)


@dataclass(frozen=True)
class FaultFacts:
    """A target's SOAP fault by the contract's names only: the call, the faultcode and the detail element's name.
    The faultstring is the target's free text, which may quote the request's personal data (a name, an address)
    that ``redact`` cannot tell from other words; a report for a third party quotes these instead."""

    where: str  # "<connection>.<operation>"
    code: str
    detail: str | None  # the local name of the fault's detail element, e.g. FlowInstanceNotFoundFault


def fault_facts(exc: BaseException) -> FaultFacts | None:
    """The FaultFacts of an error ``map_soap_error`` made from a SOAP fault; None for any other error."""
    facts = getattr(exc, "soap_fault", None)
    return facts if isinstance(facts, FaultFacts) else None


def _detail_name(detail: Any) -> str | None:
    if not isinstance(detail, etree._Element):
        return None
    entry = next((child for child in detail if isinstance(child.tag, str)), None)
    return etree.QName(entry).localname if entry is not None else None


def _fault(where: str, exc: zeep_errors.Fault) -> Exception:
    code = (exc.code or "").strip() or "unknown"
    text = redact(exc.message or "no faultstring")
    error: Exception
    if soap_fault_code_fault(code) is Fault.TRANSIENT:
        error = TargetUnavailable(f"{where} failed: {text} (SOAP fault {code}; rule: a Server fault is retried)")
    else:
        error = TargetRejected(f"{where} refused: {text} (SOAP fault {code})")
    error.soap_fault = FaultFacts(where, code, _detail_name(exc.detail))  # type: ignore[attr-defined]
    return error


def _lost_after_sending(exc: requests.ConnectionError) -> bool:
    # urllib3 reports a connection that broke after the request was written as a ProtocolError
    # ("Connection aborted."); one that could not be opened as a MaxRetryError around NewConnectionError.
    return any(isinstance(arg, ProtocolError) for arg in exc.args)


def _by_status(where: str, status: int) -> Exception:
    kind = http_status_fault(status)
    if kind is Fault.TRANSIENT:
        return TargetUnavailable(f"{where}: HTTP {status} without a SOAP fault")
    if kind is Fault.INFRASTRUCTURE:
        return refused_credentials(where, status)
    return TargetRejected(f"{where}: HTTP {status}")


def map_soap_error(service: str, operation: str, exc: Exception) -> Exception:
    """The Brygga error for ``exc``; raise it ``from None`` so no payload leaks through the chain."""
    where = f"{service}.{operation}"
    if isinstance(exc, TargetRejected | TargetUnavailable | ConfigError):
        return exc
    if isinstance(exc, ReplyTooLarge):
        return TargetRejected(f"{where}: the answer is over the limit of {exc.limit} bytes; it was not read further")
    if isinstance(exc, NotSoapReply):
        return not_soap(where)
    if isinstance(exc, zeep_errors.Fault):
        return _fault(where, exc)
    if isinstance(exc, zeep_errors.TransportError):
        return _by_status(where, exc.status_code or 0)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:  # the WSDL's GET (zeep's loader)
        return _by_status(where, exc.response.status_code)
    if isinstance(exc, requests.ConnectTimeout):
        return TargetUnavailable(f"{where}: timed out while connecting")
    if isinstance(exc, requests.Timeout):
        return TargetInDoubt(f"{where}: no answer within the read timeout; the outcome is unknown")
    if isinstance(exc, requests.exceptions.SSLError):
        # Before ConnectionError, its base. Retried: a target's certificate is often fixed on its side.
        return TargetUnavailable(f"{where}: TLS failed (check the target's certificate or the ca_bundle extra)")
    if isinstance(exc, requests.ConnectionError):
        if _lost_after_sending(exc):
            return TargetInDoubt(f"{where}: the connection broke before the answer came; the outcome is unknown")
        return TargetUnavailable(f"{where}: could not connect")
    if isinstance(exc, requests.TooManyRedirects):
        return UnsafeTargetAddress(f"{where}: the target redirected; redirects are not followed")
    if isinstance(exc, requests.RequestException):
        return TargetUnavailable(f"{where}: HTTP request failed ({type(exc).__name__})")
    if isinstance(exc, zeep_errors.ValidationError | TypeError):
        # Raised before sending: the payload does not fit the WSDL (a mapping problem, not a target one).
        return TargetRejected(f"{where}: payload does not fit the WSDL: {redact(str(exc))}")
    if isinstance(exc, zeep_errors.XMLSyntaxError | zeep_errors.DTDForbidden | zeep_errors.EntitiesForbidden):
        return TargetRejected(f"{where}: unsafe or malformed XML in the answer ({type(exc).__name__})")
    if isinstance(exc, zeep_errors.Error):
        return TargetRejected(f"{where}: {type(exc).__name__}: {redact(str(exc))}")
    return exc
