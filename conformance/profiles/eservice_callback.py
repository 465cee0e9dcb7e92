"""The eservice-callback profile: an e-service platform's status callback, Open ePlatform's IntegrationCallback.

For each sample whose route tells an e-service platform, Brygga's own notifier (``OepCallbackNotifier``) sends what
Brygga would: the registration (setStatus, addMessage, confirmDelivery with the case's reference) and, where the
case system's vocabulary tells decisions, the decision with its document (setStatus, addMessage with an
attachment). The flowInstanceID is the sample's own (or the ``flow_instance`` option's); the case's reference is
``conformance-<run>-<sample>``, standing in for the diarienummer a case system would give.

How the common checks read for this contract:

- case-reference: the registration is accepted, confirmDelivery with the case's reference included.
- documents-intact: skipped. The contract has no operation that reads a message or its attachments back, so the
  decision document's sha256 cannot be compared; that addMessage with it was accepted is the decision-message check.
- idempotent-repeat: Brygga records each call as it returns and never repeats one that was answered (so never an
  addMessage, which the contract cannot recognise as a repeat). What it may repeat is the one call whose answer was
  lost: setStatus with the status the flow instance already has must be accepted without a new status event
  (eventID 0, as Open ePlatform answers, or the first eventID again), and a repeated confirmDelivery accepted.
- fault-on-invalid: calls for an unknown flowInstanceID, and malformed requests, get a SOAP Fault.
- reply-shape: every reply seen validates against Brygga's copy of the contract, and the served WSDL has what the
  copy declares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from brygga.errors import BryggaError, ConfigError
from brygga.plugins import NothingSentYet, StatusUpdate
from brygga_adapters.oep_callback.flow_instance import FLOW_INSTANCE_RULE, XS_INT_MAX, flow_instance_id
from brygga_adapters.oep_callback.notifier import CONFIG_SPEC
from brygga_adapters.oep_callback.variants import VARIANTS
from brygga_adapters.soap import SoapService
from brygga_conformance.endpoint import Endpoint
from brygga_conformance.model import (
    CASE_REFERENCE,
    DOCUMENTS_INTACT,
    FAULT_ON_INVALID,
    IDEMPOTENT_REPEAT,
    REPLY_SHAPE,
    Check,
)
from brygga_conformance.profiles import Profile, invalid_option, one_of
from brygga_conformance.profiles.eservice_callback_contract import (
    CALLBACK_NS,
    CONTRACT_FILES,
    binding_operations,
    compare,
    reply_errors,
)
from brygga_conformance.profiles.eservice_callback_contract import contract as bundled_contract
from brygga_conformance.profiles.eservice_callback_probes import judge, probes
from brygga_conformance.profiles.eservice_callback_updates import Updates, updates_for
from brygga_conformance.profiles.eservice_callback_wire import (
    SOAP_FAULT,
    KitNotifier,
    Reply,
    ReplyLog,
    fault_code,
    open_service,
    post_raw,
)
from brygga_conformance.profiles.soap_contract import WITHOUT_WSDL, wsdl_unloadable
from brygga_conformance.profiles.soap_replies import nothing_validated
from brygga_conformance.recorder import CaseLog, Recorder
from brygga_conformance.samples import Sample, SampleSet
from brygga_conformance.wording import message_text

DECISION_MESSAGE = Check("decision-message", "A decision with its document is accepted")
CALLS = ("setStatus", "addMessage", "confirmDelivery")  # the notifier's calls, in its order
NO_READ_BACK = ("the IntegrationCallback contract has no operation that reads a message or its attachments back, "
                "so the decision document's sha256 cannot be compared (that addMessage with it was accepted is "
                "checked by decision-message)")
PER_SAMPLE = (CASE_REFERENCE, DECISION_MESSAGE, DOCUMENTS_INTACT, IDEMPOTENT_REPEAT)
EXTERNAL_SYSTEM = CONFIG_SPEC["properties"]["external_system"]["default"]  # what the bundled routes send
FLOW_INSTANCE_OPTIONS = ("flow_instance", "unknown_flow_instance")
FLOW_INSTANCE = FLOW_INSTANCE_RULE.removeprefix("must be ")  # what such an option's value may be


@dataclass
class _Told:
    """What one sample's updates got from the endpoint, for the checks that build on it."""

    flow_instance: int
    reference: str
    updates: Updates
    registration: NothingSentYet = field(default_factory=NothingSentYet)
    decision: NothingSentYet = field(default_factory=NothingSentYet)
    event_ids: dict[str, int | None] = field(default_factory=dict)  # status alias -> eventID of its setStatus


class EserviceCallbackProfile(Profile):
    name = "eservice-callback"
    title = "Open ePlatform IntegrationCallback (SOAP)"
    contract = ("Open ePlatform's IntegrationCallback service (setStatus, addMessage, confirmDelivery): Open "
                "ePlatform's own contract, or the newer one Sundsvall's integrations use")
    options: ClassVar[dict[str, str]] = {
        "variant": "upstream (default): Open ePlatform's own contract; sundsvall: the newer one, whose addMessage "
                   "requires readReceiptEnabled",
        "flow_instance": "a flowInstanceID that exists in your test platform, used for every sample (default: each "
                         "sample's own FlowInstanceID)",
        "unknown_flow_instance": f"a flowInstanceID your platform does not have (default {XS_INT_MAX})",
    }
    checks = (*PER_SAMPLE, FAULT_ON_INVALID, REPLY_SHAPE)

    def __init__(self, endpoint: Endpoint, samples: SampleSet, run_id: str) -> None:
        super().__init__(endpoint, samples, run_id)
        self.variant = self.option("variant", "upstream")
        self.flow_instance = flow_instance_id(endpoint.options.get("flow_instance"))
        self.unknown_flow_instance = flow_instance_id(endpoint.options.get("unknown_flow_instance")) or XS_INT_MAX
        self.config = {"variant": self.variant}
        self.log = ReplyLog()

    @classmethod
    def check_options(cls, options: Mapping[str, str]) -> list[str]:
        problems = one_of(options, "variant", VARIANTS)
        for name in FLOW_INSTANCE_OPTIONS:
            if name in options and flow_instance_id(options[name]) is None:
                problems.append(invalid_option(name, options[name], FLOW_INSTANCE))
        return problems

    # --- the run ----------------------------------------------------------------------------------

    def run(self, record: Recorder) -> None:
        connection = self.endpoint.connection()
        try:
            service = open_service(connection, self.log)
        except BryggaError as exc:
            with record.case(REPLY_SHAPE) as case:
                case.fail(wsdl_unloadable(exc))
            self.skip(record, (*PER_SAMPLE, FAULT_ON_INVALID), WITHOUT_WSDL)
            return
        notifier = KitNotifier(self.config, connection, service)
        told = [t for t in (self._sample(record, notifier, sample) for sample in self.samples.samples) if t]
        self._faults(record, service, told)
        self._reply_shape(record, service)

    def _sample(self, record: Recorder, notifier: KitNotifier, sample: Sample) -> _Told | None:
        route = self.samples.route(sample.route)
        reason = None
        flow_instance = self.flow_instance or flow_instance_id((sample.case.get("source") or {}).get("reference"))
        if route.notify is None or route.notify.adapter != "oep-callback":
            reason = f"route {route.id} tells no e-service platform through the IntegrationCallback (no oep-callback " \
                     "notify)"
        elif flow_instance is None:
            reason = f"the sample's source.reference {FLOW_INSTANCE_RULE}"
        if reason is not None:
            self.skip(record, PER_SAMPLE, reason, sample.name)
            return None
        assert flow_instance is not None
        reference = f"conformance-{self.run_id}-{sample.name}"  # as SampleSet.delivery's extern_ref
        told = _Told(flow_instance, reference, updates_for(route, sample.case["caseType"], sample.documents,
                                                            flow_instance=flow_instance, reference=reference))
        self.log.sample = sample.name
        try:
            self._case_reference(record, notifier, sample, told)
            self._decision(record, notifier, sample, told)
            self._repeat(record, notifier, sample, told)
        finally:
            self.log.sample = None
        return told

    # --- per sample -------------------------------------------------------------------------------

    def _send(self, case: CaseLog, notifier: KitNotifier, update: StatusUpdate, progress: NothingSentYet,
              told: _Told, what: str) -> bool:
        """Let the notifier send ``update``; note each reply, fail the case at the call that was refused."""
        start = len(self.log.replies)
        try:
            notifier.notify(update, progress)
        except ConfigError as exc:  # the notifier's variant check: the served WSDL is the other contract's
            other = next(v for v in CONTRACT_FILES if v != self.variant)
            case.fail(f"{what} for flowInstanceID {told.flow_instance} was not sent: {exc} (for the kit: --option "
                      f"variant={other})")
            return False
        except BryggaError as exc:
            stopped = next((call for call in CALLS if not progress.sent(call)), "?")
            accepted = ", ".join(progress.calls) or "none"
            case.fail(f"{what} for flowInstanceID {told.flow_instance} stopped at {stopped} (accepted before it: "
                      f"{accepted}): {message_text(exc)}; expected every call accepted")
            return False
        finally:
            for reply in self.log.since(start):
                case.note(_summary(reply))
        for reply in self.log.since(start):
            if reply.operation == "setStatus" and not reply.is_fault:
                told.event_ids[update.status] = _event_id(reply)
        return True

    def _case_reference(self, record: Recorder, notifier: KitNotifier, sample: Sample, told: _Told) -> None:
        update = told.updates.registration
        with record.case(CASE_REFERENCE, sample.name) as case:
            case.note(f"flowInstanceID {told.flow_instance}; status alias {update.status!r}; confirmDelivery with "
                      f"externalID {told.reference} (System {EXTERNAL_SYSTEM})")
            self._send(case, notifier, update, told.registration, told, "the registration update")

    def _decision(self, record: Recorder, notifier: KitNotifier, sample: Sample, told: _Told) -> None:
        decision = told.updates.decision
        if decision is None:
            record.skip(DECISION_MESSAGE, sample.name, f"skipped: {told.updates.no_decision}")
            record.skip(DOCUMENTS_INTACT, sample.name, f"skipped: {told.updates.no_decision}")
            return
        with record.case(DECISION_MESSAGE, sample.name) as case:
            document = decision.document
            case.note(f"status alias {decision.update.status!r}; " + (
                f"attachment of {document.size} bytes, sha256 {document.sha256}" if document else "no attachment"))
            self._send(case, notifier, decision.update, told.decision, told, "the decision update")
        reason = NO_READ_BACK if document else "the sample has no document to attach to its decision"
        record.skip(DOCUMENTS_INTACT, sample.name, f"skipped: {reason}")

    def _repeat(self, record: Recorder, notifier: KitNotifier, sample: Sample, told: _Told) -> None:
        if record.outcome(CASE_REFERENCE, sample.name) != "passed":
            record.skip(IDEMPOTENT_REPEAT, sample.name, "skipped: case-reference failed")
            return
        registration = told.updates.registration
        decided = told.updates.decision is not None and told.decision.sent("setStatus")
        current = told.updates.decision.update if decided and told.updates.decision else registration
        with record.case(IDEMPOTENT_REPEAT, sample.name) as case:
            start = len(self.log.replies)
            notifier.notify(registration, told.registration)  # every call recorded: Brygga sends nothing
            if self.log.since(start):
                case.fail("Brygga's notifier sent calls again although every call was recorded as answered")
            else:
                case.note("a retry with every call recorded as answered sent nothing: Brygga never sends an "
                          "answered call again, so never an addMessage twice (the contract cannot recognise one)")
            self._repeat_status(case, notifier, current, told)
            self._repeat_confirm(case, notifier, registration, told)

    def _repeat_status(self, case: CaseLog, notifier: KitNotifier, update: StatusUpdate, told: _Told) -> None:
        first = told.event_ids.get(update.status)
        start = len(self.log.replies)
        try:
            notifier.notify(update, _answered_except("setStatus"))
        except BryggaError as exc:
            case.fail(f"setStatus repeated with the status flowInstanceID {told.flow_instance} already has "
                      f"({update.status!r}), as Brygga sends it after a lost answer, was refused: {message_text(exc)}; "
                      "expected it accepted with eventID 0")
            return
        replies = [r for r in self.log.since(start) if r.operation == "setStatus"]
        again = _event_id(replies[-1]) if replies else None
        case.note(f"setStatus repeated ({update.status!r}) -> eventID {again} (first: {first})")
        if again not in (None, 0, first):
            case.fail(f"setStatus repeated with the status flowInstanceID {told.flow_instance} already has "
                      f"({update.status!r}) was answered with a new eventID {again} (first: {first}); expected "
                      "eventID 0, as Open ePlatform answers a status a flow instance already has (a new status "
                      "event tells the resident twice)")

    def _repeat_confirm(self, case: CaseLog, notifier: KitNotifier, update: StatusUpdate, told: _Told) -> None:
        try:
            notifier.notify(update, _answered_except("confirmDelivery"))
        except BryggaError as exc:
            case.fail(f"confirmDelivery repeated for flowInstanceID {told.flow_instance} (externalID "
                      f"{told.reference}), as Brygga sends it after a lost answer, was refused: {message_text(exc)}; "
                      "expected it accepted (Open ePlatform ignores a repeated delivery confirmation)")
            return
        case.note(f"confirmDelivery repeated (externalID {told.reference}) accepted")

    # --- per run ----------------------------------------------------------------------------------

    def _faults(self, record: Recorder, service: SoapService, told: list[_Told]) -> None:
        if not told:
            record.skip(FAULT_ON_INVALID, None, "skipped: no sample is told through the IntegrationCallback")
            return
        first = told[0]
        with record.case(FAULT_ON_INVALID) as case:
            for probe in probes(service, variant=self.variant, unknown=self.unknown_flow_instance,
                                known=first.flow_instance, status=first.updates.registration.status,
                                reference=first.reference, external_system=EXTERNAL_SYSTEM):
                answer = post_raw(service, probe.data)
                case.note(f"{probe.label} -> {answer.describe()}")
                if answer.payload is not None:
                    self.log.add(probe.operation, answer.payload)
                for finding in judge(probe, answer):
                    case.fail(finding)

    def _reply_shape(self, record: Recorder, service: SoapService) -> None:
        expected = bundled_contract(self.variant)
        with record.case(REPLY_SHAPE) as case:
            served = binding_operations(service.client.wsdl)
            case.note(f"served WSDL operations: {', '.join(sorted(served))}; compared with {expected.file}")
            for finding in compare(expected, served):
                case.fail(finding)
            problems: dict[tuple[str, str], list[Reply]] = {}
            for reply in self.log.replies:
                for problem in _shape_problems(expected.schema, reply):
                    problems.setdefault((reply.operation, problem), []).append(reply)
            seen = Counter(reply.operation for reply in self.log.replies)
            case.note("replies validated: " + (", ".join(f"{op} {n}" for op, n in sorted(seen.items())) or "none"))
            for (operation, problem), replies in problems.items():
                example = next((r.sample for r in replies if r.sample), None)
                where = f" (e.g. for sample {example})" if example else ""
                case.fail(f"{len(replies)} of {seen[operation]} {operation} replies{where}: {problem}")
            if not self.log.replies:  # the WSDL alone was judged: no pass on no reply
                case.skip(f"skipped: {nothing_validated(expected.file)}")


def _answered_except(call: str) -> NothingSentYet:
    """The progress of an update whose every call but ``call`` was answered: a retry sends ``call`` only."""
    progress = NothingSentYet()
    for other in CALLS:
        if other != call:
            progress.record(other)
    return progress


def _event_id(reply: Reply) -> int | None:
    text = reply.payload.findtext(f"{{{CALLBACK_NS}}}eventID")
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _summary(reply: Reply) -> str:
    if reply.is_fault:
        return f"{reply.operation} -> SOAP Fault ({fault_code(reply.payload)})"
    values = [f"{child.tag.rpartition('}')[2]} {_number(child.text)}" for child in reply.payload
              if isinstance(child.tag, str)]
    return f"{reply.operation} -> " + (", ".join(values) or "accepted")


def _number(text: str | None) -> str:
    # The contract's answers are ids; anything else an endpoint puts there is not quoted into the report.
    value = (text or "").strip()
    return value if value.isascii() and value.isdigit() and len(value) <= 12 else "(not a number)"


def _shape_problems(schema: Any, reply: Reply) -> list[str]:
    """What is wrong with one reply by the contract: an answer validated whole; a fault by its parts."""
    if reply.payload.tag != SOAP_FAULT:
        return reply_errors(schema, reply.payload)
    problems = [f"the SOAP Fault has no {part}" for part in ("faultcode", "faultstring")
                if reply.payload.find(part) is None]
    detail = reply.payload.find("detail")
    for entry in detail if detail is not None else ():
        if isinstance(entry.tag, str) and entry.tag.startswith(f"{{{CALLBACK_NS}}}"):
            problems += [f"fault detail: {error}" for error in reply_errors(schema, entry)]
    return problems
