"""How the kit words what Brygga's adapters raise, for a vendor's report.

- A SOAP fault the endpoint sent is quoted by its faultcode and its detail element's name, never its faultstring:
  the endpoint's free text may quote the request back, names and addresses that no mask can tell from other words.
- A reply zeep could not read names the elements it met and expected (``Unexpected element messageId, expected
  messageID``): element names are the contract's, not personal data, though the adapter's message masks them.
- Brygga's messages say "the extra 'token_url'" (a connection's extras); the kit takes them as ``--option token_url``.
"""

from __future__ import annotations

import re

from zeep import exceptions as zeep_errors

from brygga.faults import Fault, soap_fault_code_fault
from brygga_adapters.soap.errors import fault_facts, redact
from brygga_conformance.endpoint import CONNECTION_OPTIONS

_QUOTED_QNAME = re.compile(r"'\{[^{}']*\}([A-Za-z_][\w.-]*)'")
_EXTRAS = re.compile(r"\b(?:the )?extras '(\w+)' and '(\w+)'")
_EXTRA = re.compile(r"\b(?:the )?extra '(\w+)'")
_EXTRA_SET = re.compile(r"\bextra (\w+)=")


def error_text(exc: BaseException) -> str:
    """``Type: message`` of an error, for a finding."""
    return f"{type(exc).__name__}: {message_text(exc)}"


def message_text(exc: BaseException) -> str:
    """The message of an error, for a finding: a SOAP fault by its code (see the module docstring)."""
    facts = fault_facts(exc)
    if facts is not None:
        detail = f", detail {facts.detail}" if facts.detail else ""
        retried = "; Brygga retries a Server fault" if soap_fault_code_fault(facts.code) is Fault.TRANSIENT else ""
        return (f"{facts.where}: the endpoint answered with a SOAP Fault, faultcode {facts.code}{detail} (its "
                f"faultstring is not quoted: it may hold personal data){retried}")
    text = str(exc)
    cause = exc.__context__  # the adapter raises its own error "from None" inside the handler: zeep's is here
    if isinstance(cause, zeep_errors.Error) and not isinstance(cause, zeep_errors.Fault):
        masked = redact(str(cause))
        named = redact(_QUOTED_QNAME.sub(r"\1", str(cause)))
        if masked and masked != named and masked in text:
            text = text.replace(masked, named)
    return text


def kit_wording(text: str) -> str:
    """Brygga's "extra 'token_url'" as the kit's "--option token_url", for the connection options the kit takes."""
    def options(matched: re.Match[str]) -> str:
        names = matched.groups()
        if not all(name in CONNECTION_OPTIONS for name in names):
            return matched.group(0)
        return " and ".join(f"--option {name}" for name in names)

    def setting(matched: re.Match[str]) -> str:
        return f"--option {matched.group(1)}=" if matched.group(1) in CONNECTION_OPTIONS else matched.group(0)

    return _EXTRA_SET.sub(setting, _EXTRA.sub(options, _EXTRAS.sub(options, text)))
