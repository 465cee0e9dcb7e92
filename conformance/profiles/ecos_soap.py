"""The ``ecos-soap`` profile: an endpoint that says it speaks Ecos's MinutMiljoService, exercised the way Brygga's
ecos target uses it (adapters/ecos/README.md).

Per sample (the bundled samples a bundled route sends to an ``ecos`` target: värmepump):

- case-reference: Brygga's own EcosTarget delivers the request (parties, check-before-create, RegisterDocument,
  AddPartyToCase, AddEstateToCase); a CaseNumber comes back, as a new case.
- documents-intact: SearchCase by CaseNumber, GetCase lists the documents, GetDocument gives each one's file (read
  as a stream, whatever its size); its sha256 and size must be the sample's.
- idempotent-repeat: the same request again comes back with the same CaseNumber, created=False; the case keeps
  Brygga's marker in CaseSubtitleFree, holds no document and no party role twice, and exactly one of the applicant's
  cases carries the marker (MinutMiljoService cannot search by ExternalCaseNumber; Brygga finds a case by that).

Once per run: fault-on-invalid (ecos_probes.py) and reply-shape (every reply seen, and the endpoint's WSDL, against
Brygga's copy of the contract: ecos_contract.py, soap_replies.py).

The GUIDs in the bundled route are those of Brygga's simulator; a real installation has its own, given as options.
The kit has no property register, so the sample's estates have no FNR: they are left out unless ``--option fnr``
names one the endpoint's register knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import BryggaError, TargetRejected, TargetUnavailable
from brygga.plugins import DeliveryReceipt, DeliveryRequest, StoredDocument
from brygga.routes import TargetSpec
from brygga_adapters.ecos import EcosTarget
from brygga_adapters.ecos.calls import EcosCalls
from brygga_adapters.ecos.config import ROLES
from brygga_adapters.ecos.payload import read_payload
from brygga_adapters.ecos.replies import normalise_guid
from brygga_adapters.markers import carries_marker, creation_marker
from brygga_adapters.soap import SoapService, soap_service
from brygga_adapters.soap.client import WSSE_MODES
from brygga_conformance.model import CASE_REFERENCE, DOCUMENTS_INTACT, FAULT_ON_INVALID, IDEMPOTENT_REPEAT, REPLY_SHAPE
from brygga_conformance.profiles import Profile, invalid_option, one_of
from brygga_conformance.profiles import ecos_probes as probes
from brygga_conformance.profiles import ecos_readback as readback
from brygga_conformance.profiles.ecos_contract import binding_operations, compare_wsdl, contract
from brygga_conformance.profiles.soap_contract import WITHOUT_WSDL, wsdl_unloadable
from brygga_conformance.profiles.soap_replies import ReplyCheck, ReplyLog, nothing_validated
from brygga_conformance.recorder import CaseLog, Recorder
from brygga_conformance.samples import Sample
from brygga_conformance.soap_documents import UnreadableFile
from brygga_conformance.wording import message_text

ADAPTER = "ecos"
READ_BACK = ("GetCase", "GetDocument")
# Refused by the endpoint: the vendor's answer. Anything else escaping a check (a ConfigError from an option) is an
# error of the run, recorded as such.
REFUSED = (TargetRejected, TargetUnavailable)


class EcosSoapProfile(Profile):
    name = "ecos-soap"
    title = "Ecos MinutMiljoService (SOAP)"
    contract = ("Sokigo Ecos's MinutMiljoService V1 (urn:Ecos.API.MinutMiljo.Service.V1): the operations Brygga's ecos "
                "target uses, as in Brygga's copy of the WSDL")
    options: ClassVar[dict[str, str]] = {
        "process_type": "ProcessTypeId of the cases: a GUID or a name GetProcessTypes lists (default: the bundled "
                        "route's, Värmepump)",
        "occurrence_type": "OccurrenceTypeId (GUID) of a new case's occurrence (default: the bundled route's, "
                           "Brygga's simulator's)",
        "party_roles": "role=GUID pairs, comma-separated, e.g. applicant=GUID,property_owner=GUID (default: the "
                       "bundled route's)",
        "document_type": "DocumentTypeId of the documents: a GUID or a name in GetDocumentClassifications, or none "
                         "(default: the bundled route's, Anmälan)",
        "fnr": "an FNR the endpoint's property register knows: the sample's estates are added with it (default: "
               "estates are left out, the kit has no property register)",
        "wsse": "username_token or username_token_digest: the credentials as a WS-Security UsernameToken instead "
                "of HTTP Basic",
    }

    @classmethod
    def check_options(cls, options: Mapping[str, str]) -> list[str]:
        problems = one_of(options, "wsse", WSSE_MODES)
        fnr = options.get("fnr")
        if fnr is not None and not (fnr.isascii() and fnr.isdigit()):
            problems.append(invalid_option("fnr", fnr, "an FNR, a whole number"))
        occurrence_type = options.get("occurrence_type")
        if occurrence_type is not None and normalise_guid(occurrence_type) is None:
            problems.append(invalid_option("occurrence_type", occurrence_type,
                                           "a GUID (MinutMiljoService lists no occurrence types to find a name in)"))
        roles = options.get("party_roles")
        if roles is not None and _party_roles(roles) is None:
            problems.append(invalid_option("party_roles", roles, "role=GUID pairs separated by commas, applicant "
                                           f"among them (roles: {', '.join(ROLES)})"))
        return problems

    def run(self, record: Recorder) -> None:
        chosen = [(sample, spec) for sample in self.samples.samples if (spec := self._target(sample)) is not None]
        if not chosen:
            self.skip(record, self.checks, "no sample of a case type a bundled route sends to Ecos")
            return
        wsse = self.endpoint.options.get("wsse")
        connection = self.endpoint.connection(**({"wsse": wsse} if wsse else {}))
        try:
            service = soap_service(connection)
        except BryggaError as exc:
            with record.case(REPLY_SHAPE) as log:
                log.fail(wsdl_unloadable(exc))
            self.skip(record, (CASE_REFERENCE, DOCUMENTS_INTACT, IDEMPOTENT_REPEAT, FAULT_ON_INVALID), WITHOUT_WSDL)
            return
        replies = ReplyLog()
        with replies.listening(service.transport.session):
            for sample, spec in chosen:
                _SampleRun(self, record, service, connection, sample, spec).run()
            self._fault_on_invalid(record, service, connection, chosen[0])
        self._reply_shape(record, service, replies)

    # --- set-up ------------------------------------------------------------------------------------------

    def _target(self, sample: Sample) -> TargetSpec | None:
        """The sample's route's Ecos target, when it takes the sample's case type."""
        targets = self.samples.route(sample.route).targets
        return next((t for t in targets if t.adapter == ADAPTER and t.takes(sample.case)), None)

    def config(self, sample: Sample, spec: TargetSpec) -> dict[str, Any]:
        """The bundled route's target config, with the options' GUIDs and names instead where given."""
        config = self.samples.target_config(sample.route, spec.id)
        options = self.endpoint.options
        for key in ("process_type", "occurrence_type", "document_type"):
            if key in options:
                config[key] = options[key]
        if options.get("document_type", "").lower() == "none":
            config.pop("document_type")
        if "party_roles" in options:
            config["party_roles"] = _party_roles(options["party_roles"])  # checked by check_options
        return config

    def request(self, sample: Sample, spec: TargetSpec, *, repeat: int = 0) -> tuple[DeliveryRequest, list[str]]:
        """The DeliveryRequest Brygga would send, and notes on what the kit changed in it (the estates' FNR)."""
        request = self.samples.delivery(sample, target=spec.id, run_id=self.run_id, repeat=repeat)
        estates = request.payload.get("estates") or []
        if not any(isinstance(e, dict) and e.get("fnr") is None for e in estates):
            return request, []
        fnr = self.endpoint.options.get("fnr")
        if fnr:
            payload = {**request.payload, "estates": [{**e, "fnr": int(fnr)} for e in estates]}
            note = f"the sample's {len(estates)} estate(s) were sent with the FNR given by --option fnr"
        else:
            payload = {**request.payload, "estates": []}
            note = (f"the sample's {len(estates)} estate(s) were left out: they have no FNR without a property "
                    "register, and AddEstateToCase takes one (give --option fnr to add them)")
        return replace(request, payload=payload), [note]

    # --- once per run ------------------------------------------------------------------------------------

    def _fault_on_invalid(self, record: Recorder, service: SoapService, connection: Connection,
                          first: tuple[Sample, TargetSpec]) -> None:
        with record.case(FAULT_ON_INVALID) as log:
            target = EcosTarget(self.config(*first), connection)
            _, resolver = target.session()
            request, _ = self.request(*first)
            ids = target.registration_ids(resolver, read_payload(request.payload))
            for number, probe in enumerate(probes.PROBES, start=1):
                extern_ref = f"conformance-{self.run_id}-invalid-{number}"
                dto = probes.request(ids["process_type_id"], ids["occurrence_type_id"], extern_ref)
                answer = probes.send(service, probe, dto)
                finding = probes.judge(probe, answer)
                if finding:
                    log.fail(finding)
                else:
                    log.note(f"{probe.what} -> SOAP Fault {answer.fault_code} (HTTP {answer.status})")

    def _reply_shape(self, record: Recorder, service: SoapService, replies: ReplyLog) -> None:
        with record.case(REPLY_SHAPE) as log:
            ours = contract()
            served = service.client.wsdl
            wsdl_findings = compare_wsdl(ours, served)
            for finding in wsdl_findings:
                log.fail(finding)
            if not wsdl_findings:
                log.note("the endpoint's WSDL has every operation, element and type of Brygga's contract")
            check = ReplyCheck(ours, served)
            for response in replies.responses:
                check.add(response)
            findings, notes = check.summary()
            for finding in findings:
                log.fail(finding)
            for note in notes:
                log.note(note)
            if not check.validated:  # the WSDL alone was judged: no pass on no reply
                log.skip(f"skipped: {nothing_validated(ours.name)}")


class _SampleRun:
    """The per-sample checks: case-reference, then documents-intact and idempotent-repeat on the case it made."""

    def __init__(self, profile: EcosSoapProfile, record: Recorder, service: SoapService, connection: Connection,
                 sample: Sample, spec: TargetSpec) -> None:
        self.profile, self.record, self.sample, self.spec = profile, record, sample, spec
        self.connection = connection
        self.calls = EcosCalls(service)
        self.operations = binding_operations(service.client.wsdl)
        self.name = sample.name

    def run(self) -> None:
        receipt = self.case_reference()
        if receipt is None:
            self.profile.skip(self.record, (DOCUMENTS_INTACT, IDEMPOTENT_REPEAT), "case-reference failed", self.name)
            return
        missing = [operation for operation in READ_BACK if operation not in self.operations]
        if not self.sample.documents:
            self.record.skip(DOCUMENTS_INTACT, self.name, "skipped: the sample has no documents")
        elif missing:  # the contract has them: an endpoint without them fails, as it cannot show its documents
            with self.record.case(DOCUMENTS_INTACT, self.name) as log:
                log.fail(f"the documents of case {receipt.external_ref} cannot be read back: the endpoint's WSDL has "
                         f"no {' and no '.join(missing)} operation; Brygga's contract has "
                         f"{'it' if len(missing) == 1 else 'them'}")
        else:
            self.documents_intact(receipt.external_ref)
        self.idempotent_repeat(receipt.external_ref)

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        return EcosTarget(self.profile.config(self.sample, self.spec), self.connection).deliver(request)

    def case_reference(self) -> DeliveryReceipt | None:
        receipt = None
        with self.record.case(CASE_REFERENCE, self.name) as log:
            request, notes = self.profile.request(self.sample, self.spec)
            for note in notes:
                log.note(note)
            try:
                receipt = self.deliver(request)
            except REFUSED as exc:
                log.fail(f"delivery of {self.name} failed: {message_text(exc)}")
                return None
            log.note(f"RegisterDocument -> {receipt.external_ref}")
            if not receipt.created:
                log.fail(f"first delivery of {self.name} found a case already there ({receipt.external_ref}); "
                         "expected a new case: the extern ref is new to this run")
        return receipt if self.record.outcome(CASE_REFERENCE, self.name) == "passed" else None

    def case_view(self, case_number: str, log: CaseLog) -> readback.CaseView | None:
        case_id = readback.case_id(self.calls, case_number)
        if case_id is None:
            log.fail(f"SearchCase by CaseNumber {case_number} found no case; expected the case the delivery of "
                     f"{self.name} made")
            return None
        return readback.read_case(self.calls, case_id)

    def documents_intact(self, case_number: str) -> None:
        with self.record.case(DOCUMENTS_INTACT, self.name) as log:
            view = self.case_view(case_number, log)
            if view is None:
                return
            log.note(f"GetCase {case_number} lists {len(view.documents)} document(s)")
            sent = self.sample.documents
            for position, document in enumerate(sent, start=1):
                label = (f"document {position} of {len(sent)} of {self.name} (sent: {document.size} bytes, sha256 "
                         f"{document.sha256[:12]}…)")
                self.compare_document(label, document, view, case_number, log)

    def compare_document(self, label: str, document: StoredDocument, view: readback.CaseView, case_number: str,
                         log: CaseLog) -> None:
        # Matched by the file name Brygga sent; when none has it, any document on the case may be it.
        named = [d for d in view.documents if d.filename == document.name]
        candidates = [d for d in (named or view.documents) if d.document_id]
        if not candidates:
            log.fail(f"{label} is not on case {case_number}: GetCase lists no document to read back")
            return
        try:
            digests = [readback.read_document(self.calls, d.document_id) for d in candidates if d.document_id]
        except UnreadableFile as exc:
            log.fail(f"{label} came back from GetDocument without a usable file: {exc}")
            return
        if any((d.size, d.sha256) == (document.size, document.sha256) for d in digests):
            log.note(f"GetDocument: {label} intact" + ("" if named else ", under another file name"))
            return
        got = digests[0]
        log.fail(f"{label} came back from GetDocument with {got.size} bytes, sha256 {got.sha256[:12]}…; expected "
                 f"{document.size} bytes, sha256 {document.sha256[:12]}…")

    def idempotent_repeat(self, case_number: str) -> None:
        with self.record.case(IDEMPOTENT_REPEAT, self.name) as log:
            request, _ = self.profile.request(self.sample, self.spec, repeat=1)
            try:
                second = self.deliver(request)
            except REFUSED as exc:
                log.fail(f"second delivery of {self.name} failed: {message_text(exc)}")
                return
            log.note(f"second delivery -> {second.external_ref} (created={second.created})")
            if second.external_ref != case_number:
                log.fail(f"second delivery of {self.name} created a new case {second.external_ref} (first: "
                         f"{case_number}); expected the same case (externRef {request.extern_ref})")
            elif second.created:
                log.fail(f"second delivery of {self.name} reported a new case (created=True) under the same "
                         f"CaseNumber {case_number}; expected created=False")
            self.check_case_after_repeat(case_number, request, log)

    def check_case_after_repeat(self, case_number: str, request: DeliveryRequest, log: CaseLog) -> None:
        view = self.case_view(case_number, log)
        if view is None:
            return
        marker = creation_marker(request.extern_ref)
        if not carries_marker(view.subtitle, marker):
            log.fail(f"GetCase shows case {case_number} without the marker {marker} that RegisterDocument sent "
                     "in CaseSubtitleFree (cut short or changed); Brygga finds a case again by it")
        if len(view.documents) > len(self.sample.documents):
            log.fail(f"case {case_number} lists {len(view.documents)} documents after the repeat; expected "
                     f"{len(self.sample.documents)}, one per document sent")
        repeated = readback.repeated_party_roles(self.calls, view.case_id)
        if repeated:
            log.fail(f"case {case_number} has {repeated} party role connection(s) twice after the repeat; "
                     "expected each once")
        applicant = read_payload(request.payload).applicant
        role_id = self.profile.config(self.sample, self.spec)["party_roles"]["applicant"].lower()
        holding = readback.cases_with_marker(self.calls, applicant, role_id, marker)
        log.note(f"SearchCase by the applicant's role: {len(holding)} case(s) carry {marker}")
        if len(holding) != 1:
            log.fail(f"{len(holding)} of the applicant's cases carry the marker {marker}; expected exactly 1")


def _party_roles(text: str) -> dict[str, str] | None:
    """``role=GUID,role=GUID`` as the config's party_roles; None when it is not that, with applicant among them."""
    roles = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        role, _, guid = (part.strip() for part in pair.partition("="))
        if role not in ROLES or normalise_guid(guid) is None:
            return None
        roles[role] = guid
    return roles if "applicant" in roles else None
