"""``byggr-soap``: a vendor's ArendeExportWS checked the way Brygga's byggr adapter uses it (adapters/byggr/README.md).

Each bygglov and attefall sample goes through route kumla-bygglov's target ``byggr`` (mappings byggr/bygglov.yaml,
byggr/attefall.yaml) to the endpoint with Brygga's own ``ByggrTarget``, so what passes works with Brygga:

- case-reference: the delivery returns a diarienummer, as a new case;
- documents-intact: GetArende lists the case's documents, GetDocument gives each; sha256 and size as the sample's;
- idempotent-repeat: the same delivery again finds the same case (check-before-create: by ``externRef`` on v8, by the
  ``brygga-ref:`` marker on v4), a search through the contract finds one case, and no document is there twice;
- reply-shape: every reply validated against the XSD of Brygga's copy of the contract (per sample), and the
  endpoint's WSDL compared with that copy (once per run);
- fault-on-invalid (per run, last, as what the endpoint accepts stays there): input the contract refuses gets a SOAP
  Fault with faultcode Client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import BryggaError
from brygga.plugins import DeliveryReceipt, DeliveryRequest
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.byggr.calls import ByggrCalls
from brygga_adapters.byggr.contracts import (
    CONTRACTS,
    DEFAULT_CONTRACT,
    arende_for,
    contract_named,
    version_in_actions,
)
from brygga_adapters.byggr.payload import fastighet_keys
from brygga_adapters.markers import carries_marker, creation_marker
from brygga_adapters.soap import SoapService, soap_service
from brygga_conformance.model import CASE_REFERENCE, DOCUMENTS_INTACT, FAULT_ON_INVALID, IDEMPOTENT_REPEAT, REPLY_SHAPE
from brygga_conformance.profiles import Profile, one_of
from brygga_conformance.profiles.byggr_contract import binding_operations, compare_wsdl, contract
from brygga_conformance.profiles.byggr_invalid import InvalidSender, invalid_inputs, judge
from brygga_conformance.profiles.byggr_readback import cases_for, check_documents, documents_in
from brygga_conformance.profiles.byggr_replies import ReplyLog, operation_of, shape_check
from brygga_conformance.profiles.soap_contract import WITHOUT_WSDL, wsdl_unloadable
from brygga_conformance.profiles.soap_replies import nothing_validated
from brygga_conformance.recorder import CaseLog, Recorder
from brygga_conformance.samples import Sample
from brygga_conformance.wording import error_text


class ByggrSoapProfile(Profile):
    name = "byggr-soap"
    title = "ByggR ArendeExportWS (SOAP)"
    contract = (
        "Sokigo ByggR's ArendeExportWS (www.tekis.se/ServiceContract), contract v8 (default) or v4, as Brygga's byggr "
        "adapter uses it: SaveNewArende, SaveNewHandelse, GetRelateradeArendenByFastighet, GetArende, GetDocument."
    )
    options: ClassVar[dict[str, str]] = {
        "contract": "the ArendeExportWS version the endpoint serves: v8 (default) or v4",
        "handlaggar_sign": "HandlaggarSign: the ByggR user the integration registers as, where the installation "
                           "requires one",
    }
    route_id = "kumla-bygglov"
    target_id = "byggr"

    @classmethod
    def check_options(cls, options: Mapping[str, str]) -> list[str]:
        return one_of(options, "contract", CONTRACTS)

    def run(self, record: Recorder) -> None:
        version = self.option("contract", DEFAULT_CONTRACT)
        samples = self.target_samples()
        connection = self.endpoint.connection()
        config = {**self.samples.target_config(self.route_id, self.target_id), "contract": version}
        sign = self.option("handlaggar_sign", "") or None
        if sign:
            config["handlaggar_sign"] = sign
        run = _Run(self, record, ByggrTarget(config, connection), version)
        service, unusable = run.load_wsdl()
        if unusable is None and not samples:
            unusable = f"no {' or '.join(self.case_types)} sample in this run (--sample)"
        if service is None or unusable is not None:
            self.skip(record, [c for c in self.checks if c is not REPLY_SHAPE], unusable)
            return
        with ReplyLog(service.transport.session) as replies:
            run.replies = replies
            for sample in samples:
                run.sample(sample)
        run.invalid(samples[0], connection, sign)


class _Run:
    """One run's state: the target, its SOAP client and the replies seen."""

    def __init__(self, profile: ByggrSoapProfile, record: Recorder, target: ByggrTarget, version: str) -> None:
        self.profile = profile
        self.record = record
        self.target = target
        self.version = version
        self.contract = contract_named(version)
        self.replies: ReplyLog | None = None
        self.served: Any = None  # the endpoint's own WSDL: what it declares beyond Brygga's copy is allowed

    @property
    def calls(self) -> ByggrCalls:
        return self.target.calls()

    def load_wsdl(self) -> tuple[SoapService | None, str | None]:
        """The endpoint's WSDL, loaded as the adapter loads it and compared with Brygga's copy; with why the other
        checks cannot run, if so."""
        service, unusable = None, WITHOUT_WSDL
        with self.record.case(REPLY_SHAPE) as log:
            try:
                service = soap_service(self.target.connection)
            except BryggaError as exc:
                log.fail(wsdl_unloadable(exc))
                return None, unusable
            self.served = service.client.wsdl
            operations = binding_operations(service.client.wsdl).values()
            served = version_in_actions([operation.soapaction or "" for operation in operations])
            unusable = None
            if served in CONTRACTS and served != self.version:
                unusable = f"the endpoint serves contract {served}, not {self.version} (see reply-shape)"
            log.note(f"WSDL of {service.endpoint} compared with Brygga's copy of contract {self.version}")
            for finding in compare_wsdl(contract(self.version), service.client.wsdl):
                log.fail(finding)
        return service, unusable

    def sample(self, sample: Sample) -> None:
        assert self.replies is not None
        request = self.profile.delivery(sample)
        mark = self.replies.mark()
        receipt = self.case_reference(sample, request, mark)
        if receipt is None:
            self.profile.skip(self.record, (DOCUMENTS_INTACT, IDEMPOTENT_REPEAT), "case-reference failed", sample.name)
        else:
            with self.record.case(DOCUMENTS_INTACT, sample.name) as log:
                check_documents(log, self.calls, receipt.external_ref, sample, self.version)
            with self.record.case(IDEMPOTENT_REPEAT, sample.name) as log:
                self.repeat(log, sample, request, receipt.external_ref)
        with self.record.case(REPLY_SHAPE, sample.name) as log:
            check = shape_check(self.replies.since(mark), contract(self.version).schema, self.version,
                                served=self.served)
            findings, notes = check.summary()
            log.note("; ".join(notes))
            for finding in findings:
                log.fail(finding)
            if not check.validated:
                log.skip(f"skipped: {nothing_validated(f'contract {self.version}')}")

    def case_reference(self, sample: Sample, request: DeliveryRequest, mark: int) -> DeliveryReceipt | None:
        assert self.replies is not None
        passed = None
        with self.record.case(CASE_REFERENCE, sample.name) as log:
            log.note(f"extern ref {request.extern_ref}, {len(request.documents)} documents, contract {self.version}")
            try:
                receipt = self.target.deliver(request)
            except BryggaError as exc:
                log.fail(f"delivery of {sample.name} failed: {error_text(exc)}")
                return None
            finally:
                log.note("calls: " + ", ".join(operation_of(reply) for reply in self.replies.since(mark)))
            log.note(f"diarienummer {receipt.external_ref or '(none)'}, created={receipt.created}")
            if not receipt.external_ref.strip():
                log.fail(f"delivery of {sample.name} returned no diarienummer; expected one, e.g. BN 2026-000001")
            elif not receipt.created:
                log.fail(f"first delivery of {sample.name} found an existing case {receipt.external_ref} "
                         f"(created=False); expected a new case for {self.identity(request)}")
            else:
                passed = receipt
        return passed

    def repeat(self, log: CaseLog, sample: Sample, request: DeliveryRequest, dnr: str) -> None:
        try:
            again = self.target.deliver(request)
        except BryggaError as exc:
            log.fail(f"second delivery of {sample.name} failed: {error_text(exc)}")
            return
        log.note(f"second delivery: {again.external_ref}, created={again.created}")
        if again.external_ref != dnr:
            made = "created a new" if again.created else "found another"
            log.fail(f"second delivery of {sample.name} {made} case {again.external_ref} (first: {dnr}); expected "
                     f"the same case ({self.identity(request)})")
        elif again.created:
            log.fail(f"second delivery of {sample.name} reported case {dnr} as created again; expected created=False")
        marker = creation_marker(request.extern_ref)
        extern_ref = request.extern_ref if self.contract.carries_extern_ref else None
        keys = fastighet_keys(arende_for(request.payload, self.contract, request.extern_ref))
        found = cases_for(self.calls, keys, extern_ref=extern_ref, marker=marker)
        log.note(f"GetRelateradeArendenByFastighet: {len(found)} case(s) with {self.identity(request)}")
        if found != [dnr]:
            listed = f": {', '.join(found)}" if found else ""
            log.fail(f"GetRelateradeArendenByFastighet finds {len(found)} cases with {self.identity(request)}"
                     f"{listed}; expected one, {dnr}")
        arende = self.calls.get_arende(dnr)
        marked = sum(carries_marker(handelse.anteckning, marker) for handelse in arende.handelser)
        if marked != 1:
            log.fail(f"case {dnr} has {marked} handelser whose anteckning carries the marker {marker}; expected 1 "
                     "(Brygga finds the handelse with the submission's documents by it)")
        documents = len(documents_in(arende))
        if documents != len(sample.documents):
            log.fail(f"after the second delivery case {dnr} lists {documents} documents; expected "
                     f"{len(sample.documents)}, each of the sample's documents once")

    def identity(self, request: DeliveryRequest) -> str:
        """What check-before-create finds the case by, on this contract version."""
        if self.contract.carries_extern_ref:
            return f"externRef {request.extern_ref}"
        return f"the marker {creation_marker(request.extern_ref)}"

    def invalid(self, sample: Sample, connection: Connection, sign: str | None) -> None:
        with self.record.case(FAULT_ON_INVALID) as log:
            request = self.profile.delivery(sample)
            arende = arende_for(request.payload, self.contract, f"{request.extern_ref}-invalid")
            sender = InvalidSender(connection, sign)
            for invalid in invalid_inputs(arende):
                finding, note = judge(invalid, sender.send(invalid))
                log.note(note)
                if finding:
                    log.fail(finding)
