"""Open ePlatform's IntegrationCallback service (SOAP 1.1), reduced to what Brygga calls.

Every accepted call is recorded as a ``CallbackCall`` (operation plus parsed fields) for tests and the demo:
``simulator.calls`` in Python, ``GET /_sim/calls`` as JSON. Like Open ePlatform, it can refuse an unknown
flow instance (``known_flow_instances``) or an unknown status alias (``known_status_aliases``).

Two contracts, each with a WSDL of Brygga's own: ``OepCallbackSimulator()`` speaks Open ePlatform's upstream
contract, ``OepCallbackSimulator(variant="sundsvall")`` the newer one whose addMessage requires
``readReceiptEnabled`` (a request without it gets a Client fault from schema validation, as the real one does).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from lxml import etree

from brygga_simulators.soap_server import SoapFault, SoapSimulator
from brygga_simulators.wsdl_schema import compile_wsdl_schema

CALLBACK_NS = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"
Variant = Literal["upstream", "sundsvall"]
WSDL_FILES: dict[str, Path] = {
    "upstream": Path(__file__).with_name("IntegrationCallbackService.wsdl"),
    "sundsvall": Path(__file__).with_name("IntegrationCallbackSundsvall.wsdl"),
}


def q(name: str) -> str:
    return f"{{{CALLBACK_NS}}}{name}"


@dataclass(frozen=True)
class CallbackCall:
    operation: str
    fields: dict[str, Any] = field(default_factory=dict)


def _parse(element: etree._Element) -> Any:
    """Turn a callback payload into plain dicts: leaf text, nested dicts, repeated names as lists."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return element.text or ""
    parsed: dict[str, Any] = {}
    for child in children:
        name = etree.QName(child).localname
        value = _parse(child)
        if name in parsed:
            existing = parsed[name]
            parsed[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            parsed[name] = value
    return parsed


def _attachment_digest(attachment: Any) -> dict[str, Any]:
    """An Attachment as recorded: its name, declared size, and the sha256 of its decoded content."""
    if not isinstance(attachment, dict):
        return {}
    content = base64.b64decode("".join(str(attachment.get("encodedData", "")).split()))
    return {"filename": attachment.get("filename"), "size": attachment.get("size"),
            "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}


class OepCallbackSimulator(SoapSimulator):
    name: ClassVar[str] = "oep-callback"
    wsdl_file: ClassVar[Path] = WSDL_FILES["upstream"]
    path: ClassVar[str] = "/oeplatform/services/IntegrationCallback"
    target_namespace: ClassVar[str] = CALLBACK_NS

    def __init__(self, variant: Variant | str = "upstream") -> None:
        if variant not in WSDL_FILES:
            raise ValueError(f"unknown callback variant {variant!r}; known: {', '.join(WSDL_FILES)}")
        super().__init__()
        self.variant = variant
        if variant != "upstream":  # the base loads the class's WSDL; swap in the variant's contract
            self.wsdl = WSDL_FILES[variant].read_bytes()
            self.schema = compile_wsdl_schema(self.wsdl)
        self._calls: list[CallbackCall] = []
        self._ids = itertools.count(16001)
        self.known_flow_instances: set[int] | None = None  # None: every flow instance exists
        self.known_status_aliases: set[str] | None = None  # None: every alias exists

    @property
    def calls(self) -> list[CallbackCall]:
        with self.lock:
            return list(self._calls)

    def calls_for(self, operation: str) -> list[CallbackCall]:
        return [call for call in self.calls if call.operation == operation]

    def inspect(self, what: str) -> Any:
        if what == "calls":
            return [asdict(call) for call in self.calls]
        if what == "callbacks":
            return self.callbacks_per_flow_instance()
        if what == "variant":
            return {"variant": self.variant}
        raise KeyError(what)

    def callbacks_per_flow_instance(self) -> dict[str, dict[str, int]]:
        """``/_sim/callbacks``: per flowInstanceID, how many calls of each operation were accepted."""
        counts: dict[str, Counter[str]] = {}
        for call in self.calls:
            flow_id = str(call.fields.get("flowInstanceID", "?"))
            counts.setdefault(flow_id, Counter())[call.operation] += 1
        return {flow_id: dict(ops) for flow_id, ops in counts.items()}

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._calls.clear()

    # --- operations -------------------------------------------------------------------------------

    def on_setStatus(self, request: etree._Element) -> etree._Element:
        fields = self._record("setStatus", request)
        alias = fields.get("statusAlias")
        if (
            alias is not None
            and self.known_status_aliases is not None
            and alias not in self.known_status_aliases
        ):
            self._forget_last()
            raise SoapFault("setStatus: unknown statusAlias", detail=etree.Element(q("StatusNotFoundFault")))
        return self._answer("setStatusResponse", "eventID")

    def on_addEvent(self, request: etree._Element) -> etree._Element:
        self._record("addEvent", request)
        return self._answer("addEventResponse", "eventID")

    def on_addMessage(self, request: etree._Element) -> etree._Element:
        fields = self._record("addMessage", request)
        message = fields.get("message")
        if isinstance(message, dict) and "attachments" in message:  # keep a digest, not megabytes of base64
            listed = message["attachments"] if isinstance(message["attachments"], list) else [message["attachments"]]
            digests = [_attachment_digest(a) for a in listed]
            message["attachments"] = digests[0] if len(digests) == 1 else digests
        return self._answer("addMessageResponse", "messageID")

    def on_confirmDelivery(self, request: etree._Element) -> etree._Element:
        self._record("confirmDelivery", request)
        return etree.Element(q("confirmDeliveryResponse"), nsmap={None: CALLBACK_NS})

    # --- helpers ----------------------------------------------------------------------------------

    def _record(self, operation: str, request: etree._Element) -> dict[str, Any]:
        fields = _parse(request)
        fields = fields if isinstance(fields, dict) else {}
        flow_id = fields.get("flowInstanceID")
        if flow_id is not None:
            fields["flowInstanceID"] = int(flow_id)
            if (
                self.known_flow_instances is not None
                and fields["flowInstanceID"] not in self.known_flow_instances
            ):
                raise SoapFault(
                    f"{operation}: unknown flowInstanceID",
                    detail=etree.Element(q("FlowInstanceNotFoundFault")),
                )
        with self.lock:
            self._calls.append(CallbackCall(operation=operation, fields=fields))
        return fields

    def _forget_last(self) -> None:
        with self.lock:
            self._calls.pop()

    def _answer(self, element: str, id_name: str) -> etree._Element:
        response = etree.Element(q(element), nsmap={None: CALLBACK_NS})
        with self.lock:
            etree.SubElement(response, q(id_name)).text = str(next(self._ids))
        return response
