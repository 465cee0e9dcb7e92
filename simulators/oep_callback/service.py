"""Open ePlatform's IntegrationCallback service (SOAP 1.1), reduced to what Brygga calls.

Every accepted call is recorded as a ``CallbackCall`` (operation plus parsed fields) for tests and the demo:
``simulator.calls`` in Python, ``GET /_sim/calls`` as JSON. Like Open ePlatform, it can refuse an unknown
flow instance (``known_flow_instances``, also a constructor option: ``--option known_flow_instances=2001,3101``)
or an unknown status alias (``known_status_aliases``).

Two contracts, each with a WSDL of Brygga's own: ``OepCallbackSimulator()`` speaks Open ePlatform's upstream
contract, ``OepCallbackSimulator(variant="sundsvall")`` the newer one whose addMessage requires
``readReceiptEnabled`` (a request without it gets a Client fault from schema validation, as the real one does).

As Open ePlatform does, a setStatus to the status the flow instance already has is accepted and answered with
eventID 0 (no new status event), and a repeated confirmDelivery is accepted and changes nothing.
``flaws`` breaks the contract on purpose, for the conformance kit's tests (``flaws.FLAWS``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from lxml import etree
from werkzeug.wrappers import Response

from brygga.xmlsafe import parse_xml
from brygga_simulators.oep_callback.flaws import parse_flaws
from brygga_simulators.soap_server import SoapFault, SoapSimulator
from brygga_simulators.wsdl_schema import compile_wsdl_schema

CALLBACK_NS = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"
XS = "http://www.w3.org/2001/XMLSchema"
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

    def __init__(self, variant: Variant | str = "upstream", flaws: Collection[str] | str = (),
                 known_flow_instances: Collection[int | str] | str | None = None) -> None:
        if variant not in WSDL_FILES:
            raise ValueError(f"unknown callback variant {variant!r}; known: {', '.join(WSDL_FILES)}")
        self.flaws = parse_flaws(flaws)
        super().__init__()
        self.variant = variant
        if variant != "upstream":  # the base loads the class's WSDL; swap in the variant's contract
            self.wsdl = WSDL_FILES[variant].read_bytes()
            self.schema = compile_wsdl_schema(self.wsdl)
        # A flawed reply is the point of some flaws: the base's own answer check would turn it into a fault.
        self.validate_responses = not self.flaws & {"omits-event-id", "renames-reply-element"}
        self._calls: list[CallbackCall] = []
        self._ids = itertools.count(16001)
        self._statuses: dict[Any, Any] = {}  # flow instance -> its current status, as the last setStatus set it
        self._confirmed: set[Any] = set()  # flow instances whose delivery was confirmed
        # None: every flow instance exists. A shell gives "2001,3101".
        self.known_flow_instances: set[int] | None = _flow_ids(known_flow_instances)
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
            self._statuses.clear()
            self._confirmed.clear()

    # --- flaws that act before an operation runs --------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return super().__call__(environ, start_response)
        except _Unreadable:  # no-fault-500: what an unhandled exception in the platform's servlet looks like
            page = "<html><body><h1>HTTP Status 500 - Internal Server Error</h1></body></html>"
            return Response(page, status=500, mimetype="text/html")(environ, start_response)

    def read_operation(self, data: bytes) -> tuple[etree._Element, str]:
        try:
            return super().read_operation(data)
        except SoapFault:
            if "no-fault-500" in self.flaws:
                raise _Unreadable from None
            raise

    def check_schema(self, payload: etree._Element, operation: str) -> None:
        if "no-schema-validation" in self.flaws:
            return
        try:
            super().check_schema(payload, operation)
        except SoapFault:
            if "no-fault-500" in self.flaws:
                raise _Unreadable from None
            raise

    def served_wsdl(self, url: str) -> bytes:
        served = super().served_wsdl(url)
        if "stale-wsdl" not in self.flaws:
            return served
        definitions = parse_xml(served, source="simulator WSDL")
        for element in definitions.iter(f"{{{XS}}}element"):
            if element.get("name") == "readReceiptEnabled":
                element.getparent().remove(element)
        return etree.tostring(definitions, xml_declaration=True, encoding="utf-8")

    # --- operations -------------------------------------------------------------------------------

    def on_setStatus(self, request: etree._Element) -> etree._Element:
        fields = self._record("setStatus", request)
        if fields is None:
            return self._answer("setStatusResponse", "eventID")
        alias = fields.get("statusAlias")
        if (
            alias is not None
            and self.known_status_aliases is not None
            and alias not in self.known_status_aliases
        ):
            self._forget_last()
            raise SoapFault("setStatus: unknown statusAlias", detail=etree.Element(q("StatusNotFoundFault")))
        instance, status = _instance(fields), (fields.get("statusID"), alias)
        with self.lock:
            unchanged = self._statuses.get(instance) == status
            self._statuses[instance] = status
        if "omits-event-id" in self.flaws:
            return etree.Element(q("setStatusResponse"), nsmap={None: CALLBACK_NS})
        if unchanged and "duplicates-status-event" not in self.flaws:
            return self._answer("setStatusResponse", "eventID", "0")  # already has it: no new event
        return self._answer("setStatusResponse", "eventID")

    def on_addEvent(self, request: etree._Element) -> etree._Element:
        self._record("addEvent", request)
        return self._answer("addEventResponse", "eventID")

    def on_addMessage(self, request: etree._Element) -> etree._Element:
        fields = self._record("addMessage", request) or {}
        message = fields.get("message")
        if isinstance(message, dict) and "attachments" in message:  # keep a digest, not megabytes of base64
            listed = message["attachments"] if isinstance(message["attachments"], list) else [message["attachments"]]
            digests = [_attachment_digest(a) for a in listed]
            message["attachments"] = digests[0] if len(digests) == 1 else digests
        renamed = "renames-reply-element" in self.flaws
        return self._answer("addMessageResponse", "messageId" if renamed else "messageID")

    def on_confirmDelivery(self, request: etree._Element) -> etree._Element:
        fields = self._record("confirmDelivery", request)
        if fields is not None:
            self._confirm(fields)
        return etree.Element(q("confirmDeliveryResponse"), nsmap={None: CALLBACK_NS})

    def _confirm(self, fields: dict[str, Any]) -> None:
        if "requires-log-message" in self.flaws and "logMessage" not in fields:
            self._forget_last()
            raise SoapFault("confirmDelivery: java.lang.NullPointerException", faultcode="Server")
        if fields.get("delivered") not in ("true", "1"):
            return
        instance = _instance(fields)
        with self.lock:
            repeated = instance in self._confirmed
            self._confirmed.add(instance)
        if repeated and "refuses-repeat-confirm" in self.flaws:
            self._forget_last()
            raise SoapFault("confirmDelivery: delivery already confirmed for this flow instance", faultcode="Server")

    # --- helpers ----------------------------------------------------------------------------------

    def _record(self, operation: str, request: etree._Element) -> dict[str, Any] | None:
        """The call's fields, recorded; None for a call the ignores-unknown-flow-instance flaw drops unseen."""
        fields = _parse(request)
        fields = fields if isinstance(fields, dict) else {}
        flow_id = fields.get("flowInstanceID")
        if flow_id is not None:
            try:
                fields["flowInstanceID"] = int(flow_id)
            except ValueError:  # only without schema validation (a flaw): what an unchecked parse would throw
                raise SoapFault(f"{operation}: java.lang.NumberFormatException", faultcode="Server") from None
            if (
                self.known_flow_instances is not None
                and fields["flowInstanceID"] not in self.known_flow_instances
            ):
                if "ignores-unknown-flow-instance" in self.flaws:
                    return None
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

    def _answer(self, element: str, id_name: str, value: str | None = None) -> etree._Element:
        response = etree.Element(q(element), nsmap={None: CALLBACK_NS})
        with self.lock:
            etree.SubElement(response, q(id_name)).text = value if value is not None else str(next(self._ids))
        return response


class _Unreadable(Exception):
    """A request the no-fault-500 flaw answers with a bare HTTP 500 page instead of a SOAP Fault."""


def _instance(fields: dict[str, Any]) -> Any:
    """Which flow instance a call is about: its flowInstanceID, else its externalID."""
    if "flowInstanceID" in fields:
        return fields["flowInstanceID"]
    external = fields.get("externalID")
    return ("externalID", *sorted(external.items())) if isinstance(external, dict) else None


def _flow_ids(given: Collection[int | str] | str | None) -> set[int] | None:
    if given is None:
        return None
    items = given.split(",") if isinstance(given, str) else given
    try:
        return {int(str(item).strip()) for item in items if str(item).strip()}
    except ValueError:
        raise ValueError("known_flow_instances must be whole numbers (flowInstanceIDs), comma-separated") from None
